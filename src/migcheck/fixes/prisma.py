"""Prisma: what must run outside the migration's transaction moves to a new folder.

``prisma migrate deploy`` sends a multi-statement ``migration.sql`` as one implicit
transaction: CONCURRENTLY fails there, and a VALIDATE CONSTRAINT there still runs under
the ADD CONSTRAINT's lock (so does SET NOT NULL's validated CHECK). The fixed statement,
or the VALIDATE and what follows it, therefore goes to a new folder
named after the current one plus ``_concurrently`` or ``_validate`` (so it sorts right
after it). The move is made only when no existing folder sorts between the two and no
statement left behind names the index or constraint (it would now run before it).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from migcheck.fixes.model import NEEDS_OWN_MIGRATION, SAFE, Fix, NewFile, TextEdit
from migcheck.fixes.sql import (
    CONCURRENTLY_TITLE,
    NOT_NULL_LATER,
    NOT_NULL_TITLE,
    SPLIT_TITLE,
    VALIDATE_LATER,
    statement_of,
)

if TYPE_CHECKING:
    from migcheck.fixes.model import FileFixes
    from migcheck.model import Statement
    from migcheck.sources import History

_END = re.compile(r"[ \t]*;[ \t]*(?:\r\n?|\n)?")
# The comment Prisma writes above each statement (``-- CreateIndex``): it moves along.
_MARKER = re.compile(r"-- [A-Za-z]+[ \t]*(?:\r\n?|\n)")
_VALIDATE = re.compile(r";\s*(ALTER TABLE .+ VALIDATE CONSTRAINT .+)\Z", re.S)


class _Folders:
    """New folder names right after ``current``, none sorting past an existing one."""

    def __init__(self, folder: str, history: History) -> None:
        self.parent = os.path.dirname(folder)
        self.current = os.path.basename(folder)
        try:
            listed = set(os.listdir(self.parent or "."))
        except OSError:
            listed = set()
        self.taken = listed | {m.key for m in history.migrations}
        self.claimed: set[str] = set()

    def claim(self, suffix: str) -> str | None:
        """The next free ``<current>_<suffix>[_n]`` path, or None when one would sort
        after a folder that exists (the move would reorder the history)."""
        later = [k for k in self.taken if k > self.current]
        n = 1
        while True:
            name = f"{self.current}_{suffix}" + (f"_{n}" if n > 1 else "")
            if any(k < name for k in later if k not in self.claimed):
                return None
            if any(name < k for k in self.claimed):
                return None  # it would run before a statement written above it
            if name not in self.taken:
                self.taken.add(name)
                self.claimed.add(name)
                return os.path.join(self.parent, name, "migration.sql").replace(os.sep, "/")
            n += 1


def move_to_own_migrations(
    planned: FileFixes, statements: list[Statement], history: History
) -> None:
    """Turn each fix that must leave the migration's transaction into a move to a new
    folder, where that is sure to keep the order of everything else."""
    top = [s for s in statements if not s.embedded]
    candidates = []
    for finding, fix in planned.fixes:
        stmt = statement_of(finding, statements)
        if stmt is None:
            continue
        if fix.applicability == NEEDS_OWN_MIGRATION and fix.title.startswith(
            CONCURRENTLY_TITLE + " ("
        ):
            candidates.append((fix, stmt, "concurrently"))
        elif fix.title == SPLIT_TITLE + VALIDATE_LATER:
            candidates.append((fix, stmt, "validate"))
        elif fix.title == NOT_NULL_TITLE + NOT_NULL_LATER:
            candidates.append((fix, stmt, "not null"))
    moved = {id(stmt) for fix, stmt, kind in candidates if kind == "concurrently"}
    if not candidates or all(id(s) in moved for s in top):
        return  # an empty migration.sql would be left behind: keep it as it is
    folders = _Folders(os.path.dirname(planned.path), history)
    for fix, stmt, kind in sorted(candidates, key=lambda c: c[1].span.start):
        later = [s for s in top if s.span.start > stmt.span.start and id(s) not in moved]
        op = stmt.ops[0] if stmt.ops else None
        name = op.name if op is not None else None
        if kind == "not null":
            # The column becomes NOT NULL only in the new folder: a later statement that
            # names it might count on that.
            name = op.column if op is not None else None
        if later and (name is None or any(_names(s, name) for s in later)):
            continue  # a statement after it may need it: moving it would break that
        if kind == "concurrently":
            _move_statement(planned, fix, stmt, folders)
        else:
            _move_validate(fix, stmt, folders, kind)


def _move_statement(planned: FileFixes, fix: Fix, stmt: Statement, folders: _Folders) -> None:
    text = planned.text
    end = text.find(";", stmt.span.end)
    tail = _END.match(text, end) if end >= 0 else None
    if tail is None or text[stmt.span.end : end].strip():
        return
    start = stmt.span.start - (stmt.span.column - 1)
    if text[start : stmt.span.start].strip():
        return  # something else shares its line
    marker_at = text.rfind("\n", 0, max(start - 1, 0)) + 1
    marker = _MARKER.fullmatch(text, marker_at, start) if start else None
    head = text[marker_at:start] if marker else ""
    cut_from, cut_to = (marker_at if marker else start), tail.end()
    # One blank line between the neighbours, not two.
    if text[:cut_from].endswith(("\n\n", "\r\n\r\n")) and text[cut_to:].startswith(("\n", "\r\n")):
        cut_to += 2 if text[cut_to:].startswith("\r\n") else 1
    target = folders.claim("concurrently")
    if target is None:
        return
    body = stmt.text
    for edit in sorted(fix.edits, reverse=True):
        shift = stmt.span.start
        body = body[: edit.start - shift] + edit.new + body[edit.end - shift :]
    new = target.rsplit("/", 2)[-2]
    fix.title = (
        f"{CONCURRENTLY_TITLE} and move it to a new migration {new}/ "
        "(Prisma runs migration.sql in a transaction, where CONCURRENTLY fails)"
    )
    fix.edits = [TextEdit(cut_from, cut_to, "")]
    fix.new_files = [NewFile(target, head.replace("\r\n", "\n") + body + ";\n")]
    fix.applicability = SAFE


def _move_validate(fix: Fix, stmt: Statement, folders: _Folders, kind: str) -> None:
    """Keep the ``NOT VALID`` add here; the VALIDATE (and, for SET NOT NULL, the SET and
    the DROP of the CHECK after it) goes to the new folder."""
    (edit,) = fix.edits
    if kind == "validate":
        match = _VALIDATE.search(edit.new)
        if match is None:
            return
        keep, later = (TextEdit(stmt.span.end, stmt.span.end, " NOT VALID"), match.group(1))
        title, head = SPLIT_TITLE, "-- ValidateConstraint"
    else:
        add, sep, rest = edit.new.partition(";\n")
        if not sep:
            return
        keep, later = TextEdit(edit.start, edit.end, add), rest
        title, head = NOT_NULL_TITLE, "-- AlterTable"
    target = folders.claim("validate")
    if target is None:
        return
    new = target.rsplit("/", 2)[-2]
    fix.title = f"{title}, the VALIDATE in a new migration {new}/"
    fix.edits = [keep]
    fix.new_files = [NewFile(target, f"{head}\n{later};\n")]
    fix.applicability = SAFE


def _names(stmt: Statement, name: str) -> bool:
    """Whether ``stmt`` mentions ``name`` (as a word, case-insensitively)."""
    bare = name.rsplit(".", 1)[-1]
    return re.search(rf"(?<![\w$]){re.escape(bare)}(?![\w$])", stmt.text, re.I) is not None
