"""What a fix is: text edits by character offset into one file, plus files it creates.

A fix is ``safe`` when applying it leaves a migration with the same effect on the schema
as the original; ``needs own migration`` when the rewritten statement cannot run where it
stands (CONCURRENTLY inside a runner's transaction) and migcheck cannot move it itself:
it is shown, never applied by ``--fix``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

if TYPE_CHECKING:
    from migcheck.model import Finding

Applicability = Literal["safe", "needs own migration"]
SAFE: Applicability = "safe"
NEEDS_OWN_MIGRATION: Applicability = "needs own migration"


class TextEdit(NamedTuple):
    """Replace the characters ``start:end`` of the file with ``new`` (an insertion when
    they are equal). A tuple, so edits sort by position."""

    start: int
    end: int
    new: str


@dataclass(frozen=True)
class NewFile:
    """A file the fix creates (a Prisma migration folder's ``migration.sql``); ``path`` as
    the finding's path is shown, i.e. relative to the working directory."""

    path: str
    text: str


class Region(NamedTuple):
    """Where an edit's characters sit: 1-based lines and columns (code points), the end
    exclusive, for reports that give positions rather than offsets (SARIF)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass
class Fix:
    """One rewrite for one finding: its title, the rule it answers, the edits to the
    finding's file and the files it creates; ``regions`` (one per edit) once ``locate``
    has seen the file's text."""

    title: str
    rule: str
    edits: list[TextEdit] = field(default_factory=list)
    applicability: Applicability = SAFE
    new_files: list[NewFile] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)

    def locate(self, text: str) -> None:
        """Fill ``regions`` from the file's ``text`` (the edits' offsets index into it)."""
        self.regions = [
            Region(*_position(text, e.start), *_position(text, e.end)) for e in self.edits
        ]

    def to_json(self) -> dict[str, object]:
        """The fix as the JSON report gives it (positions as the findings give theirs)."""
        return {
            "title": self.title,
            "applicability": self.applicability,
            "edits": [
                {
                    "content": e.new,
                    "line": r.line,
                    "column": r.column,
                    "end_line": r.end_line,
                    "end_column": r.end_column,
                }
                for e, r in zip(self.edits, self.regions, strict=True)
            ],
            "new_files": [{"path": f.path, "content": f.text} for f in self.new_files],
        }


@dataclass
class FileFixes:
    """The fixes of one file, merged: ``fixes`` pairs each finding with its fix, every
    edit of the ``safe`` ones is in ``edits`` (sorted, none overlapping)."""

    path: str
    text: str
    tool: str
    fixes: list[tuple[Finding, Fix]] = field(default_factory=list)

    @property
    def applicable(self) -> list[Fix]:
        seen: set[int] = set()
        out = []
        for _, fix in self.fixes:
            if fix.applicability == SAFE and id(fix) not in seen:
                seen.add(id(fix))
                out.append(fix)
        return out

    @property
    def edits(self) -> list[TextEdit]:
        return sorted({e for fix in self.applicable for e in fix.edits})


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of the character ``offset`` (a line ends after \\n, \\r\\n
    or a lone \\r, as migcheck counts lines)."""
    from migcheck.model import LINE_BREAK

    before = text[:offset]
    breaks = list(LINE_BREAK.finditer(before))
    if not breaks:
        return 1, offset + 1
    return len(breaks) + 1, offset - breaks[-1].end() + 1
