"""What a fix is: text edits by character offset into one file, plus files it creates.

A fix is ``safe`` when applying it leaves a migration with the same effect on the schema
as the original; ``needs own migration`` when the rewritten statement cannot run where it
stands (CONCURRENTLY inside a runner's transaction) and migcheck cannot move it itself:
it is shown, never applied by ``--fix``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

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


@dataclass
class Fix:
    """One rewrite for one finding: its title, the rule it answers, the edits to the
    finding's file and the files it creates."""

    title: str
    rule: str
    edits: list[TextEdit] = field(default_factory=list)
    applicability: Applicability = SAFE
    new_files: list[NewFile] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "applicability": self.applicability,
            "edits": [{"start": e.start, "end": e.end, "content": e.new} for e in self.edits],
            "new_files": [{"path": f.path, "content": f.text} for f in self.new_files],
        }
