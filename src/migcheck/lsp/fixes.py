"""The mechanical safe rewrites the server offers as code actions, as text edits.

Each fix is computed from the finding's statement (its exact character offsets in the
buffer) and rewrites only that text; a statement whose shape the rewrite cannot be
sure of (several actions in one ALTER, CASCADE, a list of indexes) gets no fix rather
than a wrong one. SQL text only: an Alembic revision's statements point into Python.

- ``non-concurrent-index`` / ``non-concurrent-drop-index``: add ``CONCURRENTLY``. It
  cannot run in a transaction block: Prisma and most SQL runners send a file as one
  implicit transaction, so the title says to give it a migration of its own.
- ``constraint-without-not-valid``: ``ADD CONSTRAINT ... NOT VALID`` then ``VALIDATE
  CONSTRAINT`` (the scan then takes only SHARE UPDATE EXCLUSIVE).
- any locking finding: prepend ``SET lock_timeout`` to the file when nothing before
  the statement sets it, so a blocked lock fails fast instead of queueing traffic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migcheck.model import Finding, Statement

LOCK_TIMEOUT = "SET lock_timeout = '5s';\n"
_CREATE_INDEX = re.compile(r"\ACREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)
_DROP_INDEX = re.compile(r"\ADROP\s+INDEX\b", re.I)
_ALTER_TABLE = re.compile(
    r"\AALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>.+?)\s+ADD\s+", re.I | re.S
)
_OUTSIDE_TX = " (it cannot run in a transaction: give it a migration of its own)"
_VALIDATE_LATER = " (run the VALIDATE in a later migration, outside this one's transaction)"


@dataclass
class Fix:
    """A code action: its title and the (start, end, new text) edits, by character
    offset in the buffer."""

    title: str
    rule: str
    edits: list[tuple[int, int, str]] = field(default_factory=list)


def statement_of(finding: Finding, statements: list[Statement]) -> Statement | None:
    """The top-level statement the finding points into."""
    for stmt in statements:
        s = stmt.span
        if stmt.embedded or not (s.line <= finding.line <= s.end_line):
            continue
        if (finding.line, finding.column) >= (s.line, s.column):
            return stmt
    return None


def fixes_for(finding: Finding, statements: list[Statement], text: str, tool: str) -> list[Fix]:
    stmt = statement_of(finding, statements)
    if stmt is None or text[stmt.span.start : stmt.span.end] != stmt.text:
        return []  # the buffer moved on since this finding: never edit stale offsets
    out: list[Fix] = []
    # A file of one statement runs outside any transaction; with more, most runners
    # (Prisma before 7.4, golang-migrate, psql -1) send it as one transaction block.
    one_file_tx = tool != "alembic" and sum(not s.embedded for s in statements) > 1
    if finding.rule == "non-concurrent-index":
        out += _concurrently(finding, stmt, _CREATE_INDEX, one_file_tx)
    elif finding.rule == "non-concurrent-drop-index" and not re.search(
        r",|\bCASCADE\b", stmt.text, re.I
    ):
        out += _concurrently(finding, stmt, _DROP_INDEX, one_file_tx)
    elif finding.rule == "constraint-without-not-valid":
        out += _not_valid(finding, stmt, one_file_tx)
    if finding.category == "locking" or finding.rule == "missing-lock-timeout":
        out += _lock_timeout(finding, stmt, statements)
    return out


def _concurrently(
    finding: Finding, stmt: Statement, form: re.Pattern[str], note: bool
) -> list[Fix]:
    match = form.match(stmt.text)
    if match is None or re.match(r"\s+CONCURRENTLY\b", stmt.text[match.end() :], re.I):
        return []
    at = stmt.span.start + match.end()
    return [
        Fix(
            "Add CONCURRENTLY" + (_OUTSIDE_TX if note else ""),
            finding.rule,
            [(at, at, " CONCURRENTLY")],
        )
    ]


def _not_valid(finding: Finding, stmt: Statement, note: bool) -> list[Fix]:
    from migcheck.quoting import ident_part
    from migcheck.schema import default_constraint_name

    if len(stmt.ops) != 1:
        return []
    op = stmt.ops[0]
    con = op.constraint
    match = _ALTER_TABLE.match(stmt.text)
    if op.kind != "add_constraint" or con is None or con.not_valid or match is None:
        return []
    if con.kind not in ("foreign_key", "check") or op.table is None:
        return []
    if op.name is None and not (con.kind == "foreign_key" and con.columns):
        # PostgreSQL names an unnamed CHECK after a column of its expression, which the
        # parser does not always know: a wrong name would make the VALIDATE fail.
        return []
    name = op.name or default_constraint_name(op.table, con)
    validate = f"ALTER TABLE {match.group('table')} VALIDATE CONSTRAINT {ident_part(name)}"
    # The statement's own ``;`` (after its span) now ends the VALIDATE.
    new = f"{stmt.text} NOT VALID;\n{validate}"
    title = "Split into ADD CONSTRAINT ... NOT VALID + VALIDATE CONSTRAINT"
    return [
        Fix(
            title + (_VALIDATE_LATER if note else ""),
            finding.rule,
            [(stmt.span.start, stmt.span.end, new)],
        )
    ]


def _lock_timeout(finding: Finding, stmt: Statement, statements: list[Statement]) -> list[Fix]:
    for earlier in statements:
        if earlier.span.start >= stmt.span.start:
            break
        if any(op.kind == "set" and op.name == "lock_timeout" for op in earlier.ops):
            return []
    first = next((s for s in statements if not s.embedded), stmt)
    at = first.span.start - (first.span.column - 1)  # the start of its line
    return [Fix("Prepend SET lock_timeout = '5s'", finding.rule, [(at, at, LOCK_TIMEOUT)])]
