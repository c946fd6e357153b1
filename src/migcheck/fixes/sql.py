"""The SQL rewrites: each finding's statement, by its exact character offsets, rewritten
into the form with the same effect that takes a weaker lock.

A statement whose shape a rewrite cannot be sure of (several actions in one ALTER,
CASCADE, a list of indexes, options it does not model) gets no fix rather than a wrong
one; each rewrite is checked on a real PostgreSQL in ``tests/live/test_fix_live.py``
(the fixed migration applies and leaves the same catalog).

- ``non-concurrent-index`` / ``non-concurrent-drop-index`` / ``non-concurrent-reindex``:
  add ``CONCURRENTLY`` (REINDEX: of one index or table, PostgreSQL 12+). It cannot run
  in a transaction block: in a file that runs as one, the fix says it needs a migration
  of its own (Prisma's ``fixes.prisma`` makes one).
- ``constraint-without-not-valid``: ``ADD CONSTRAINT ... NOT VALID`` then ``VALIDATE
  CONSTRAINT`` (the scan then takes only SHARE UPDATE EXCLUSIVE).
- ``set-not-null-scan`` / ``set-not-null``: a validated ``CHECK (c IS NOT NULL)`` first,
  so PostgreSQL 12+ skips the scan, dropped after the SET NOT NULL.
- ``unique-without-index``: ``CREATE UNIQUE INDEX CONCURRENTLY`` then ``ADD CONSTRAINT
  ... UNIQUE/PRIMARY KEY USING INDEX`` (always a migration of its own for the index).
- any locking finding: prepend ``SET lock_timeout`` to the file when nothing before the
  statement sets it, so a blocked lock fails fast instead of queueing traffic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from migcheck.fixes.model import NEEDS_OWN_MIGRATION, SAFE, Fix, TextEdit
from migcheck.model import Finding, Op, Statement

LOCK_TIMEOUT = "SET lock_timeout = '5s';\n"
LOCK_TIMEOUT_TITLE = "Prepend SET lock_timeout = '5s'"
CONCURRENTLY_TITLE = "Add CONCURRENTLY"
SPLIT_TITLE = "Split into ADD CONSTRAINT ... NOT VALID + VALIDATE CONSTRAINT"
NOT_NULL_TITLE = "SET NOT NULL after a validated CHECK (c IS NOT NULL), so it skips the scan"
UNIQUE_TITLE = "Build the index CONCURRENTLY, then ADD CONSTRAINT ... USING INDEX"
OUTSIDE_TX = " (it cannot run in a transaction: give it a migration of its own)"
KEEP_OUTSIDE_TX = " (it cannot run in a transaction block: run this file without one)"
VALIDATE_LATER = " (run the VALIDATE in a later migration, outside this one's transaction)"
NOT_NULL_LATER = (
    " (run the VALIDATE, SET NOT NULL and DROP CONSTRAINT in a later migration, outside"
    " this one's transaction)"
)

_CREATE_INDEX = re.compile(r"\ACREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I)
_DROP_INDEX = re.compile(r"\ADROP\s+INDEX\b", re.I)
# REINDEX of one index or table only: SCHEMA/DATABASE CONCURRENTLY skip the system
# catalogs a plain one rebuilds, and options in parentheses are not modelled.
_REINDEX = re.compile(r"\AREINDEX\s+(?:INDEX|TABLE)\b", re.I)
_TABLE = r"\AALTER\s+TABLE\s+(?P<table>(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)(?:\.(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*))?)\s+"
_ALTER_ADD = re.compile(
    r"\AALTER\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?:ONLY\s+)?(?P<table>.+?)\s+ADD\s+", re.I | re.S
)
_IDENT = r"(?:\"(?:[^\"]|\"\")+\"|[A-Za-z_][\w$]*)"
_SET_NOT_NULL = re.compile(
    _TABLE + rf"ALTER\s+(?:COLUMN\s+)?(?P<column>{_IDENT})\s+SET\s+NOT\s+NULL\s*\Z", re.I
)
_ADD_KEY = re.compile(
    _TABLE
    + rf"ADD\s+(?:CONSTRAINT\s+(?P<name>{_IDENT})\s+)?(?P<kind>UNIQUE|PRIMARY\s+KEY)\s*"
    + rf"\((?P<cols>\s*{_IDENT}(?:\s*,\s*{_IDENT})*\s*)\)\s*\Z",
    re.I,
)
_MAX_NAME = 63


@dataclass(frozen=True)
class Where:
    """What a rewrite needs to know about where the statement runs."""

    # The statement runs inside a transaction block (the runner's, or the implicit one
    # of a multi-statement file): CONCURRENTLY cannot run there.
    transaction: bool
    pg_version: int
    # Outside a transaction as migcheck models the runner, but one of several
    # statements in the file: the title says it must stay so.
    shared: bool = False
    # The runner sends a file of several statements as one implicit transaction: a
    # rewrite that turns one statement into several makes the file one.
    implicit: bool = False

    @property
    def one_transaction_after(self) -> bool:
        """Whether statements a rewrite adds beside the original share its transaction
        (then a VALIDATE there still runs under the ADD CONSTRAINT's lock)."""
        return self.transaction or self.implicit


def statement_of(finding: Finding, statements: list[Statement]) -> Statement | None:
    """The top-level statement the finding points into."""
    for stmt in statements:
        s = stmt.span
        if stmt.embedded or not (s.line <= finding.line <= s.end_line):
            continue
        if (finding.line, finding.column) >= (s.line, s.column):
            return stmt
    return None


def in_transaction(statements: list[Statement], runner_transaction: bool) -> bool:
    """Whether a file's statements run in a transaction block: its runner wraps it, or
    it holds more than one statement (Prisma before 7.4, golang-migrate and psql -1 send
    it as one implicit transaction)."""
    return runner_transaction or sum(not s.embedded for s in statements) > 1


def sql_fixes(finding: Finding, statements: list[Statement], text: str, where: Where) -> list[Fix]:
    """The rewrites of the finding's statement in ``text`` (empty when none is sure)."""
    stmt = statement_of(finding, statements)
    if stmt is None or text[stmt.span.start : stmt.span.end] != stmt.text:
        return []  # the text moved on since this finding: never edit stale offsets
    out: list[Fix] = []
    rule = finding.rule
    if rule == "non-concurrent-index":
        out += _concurrently(rule, stmt, _CREATE_INDEX, where)
    elif rule == "non-concurrent-drop-index" and not re.search(r",|\bCASCADE\b", stmt.text, re.I):
        out += _concurrently(rule, stmt, _DROP_INDEX, where)
    elif rule == "non-concurrent-reindex" and where.pg_version >= 12:
        out += _concurrently(rule, stmt, _REINDEX, where)
    elif rule == "constraint-without-not-valid":
        out += _not_valid(rule, stmt, where)
    elif rule in ("set-not-null-scan", "set-not-null") and where.pg_version >= 12:
        out += _not_null(rule, stmt, where)
    elif rule == "unique-without-index":
        out += _unique(rule, stmt)
    if finding.category == "locking" or rule == "missing-lock-timeout":
        out += lock_timeout(rule, stmt, statements)
    return out


def _single(stmt: Statement, kind: str) -> Op | None:
    return stmt.ops[0] if len(stmt.ops) == 1 and stmt.ops[0].kind == kind else None


def _concurrently(rule: str, stmt: Statement, form: re.Pattern[str], where: Where) -> list[Fix]:
    match = form.match(stmt.text)
    if match is None or re.match(r"\s+CONCURRENTLY\b", stmt.text[match.end() :], re.I):
        return []
    at = stmt.span.start + match.end()
    if where.transaction:
        return [
            Fix(
                CONCURRENTLY_TITLE + OUTSIDE_TX,
                rule,
                [TextEdit(at, at, " CONCURRENTLY")],
                NEEDS_OWN_MIGRATION,
            )
        ]
    title = CONCURRENTLY_TITLE + (KEEP_OUTSIDE_TX if where.shared else "")
    return [Fix(title, rule, [TextEdit(at, at, " CONCURRENTLY")])]


def _not_valid(rule: str, stmt: Statement, where: Where) -> list[Fix]:
    from migcheck.quoting import ident_part
    from migcheck.schema import default_constraint_name

    op = _single(stmt, "add_constraint")
    match = _ALTER_ADD.match(stmt.text)
    if op is None or match is None or op.table is None:
        return []
    con = op.constraint
    if con is None or con.not_valid or con.kind not in ("foreign_key", "check"):
        return []
    if op.name is None and not (con.kind == "foreign_key" and con.columns):
        # PostgreSQL names an unnamed CHECK after a column of its expression, which the
        # parser does not always know: a wrong name would make the VALIDATE fail.
        return []
    name = op.name or default_constraint_name(op.table, con)
    validate = f"ALTER TABLE {match.group('table')} VALIDATE CONSTRAINT {ident_part(name)}"
    # The statement's own ``;`` (after its span) now ends the VALIDATE.
    new = f"{stmt.text} NOT VALID;\n{validate}"
    edit = TextEdit(stmt.span.start, stmt.span.end, new)
    if where.one_transaction_after:
        # In one transaction the VALIDATE's scan runs under the ADD's ACCESS EXCLUSIVE
        # lock: the split only helps with a commit between (shown; Prisma moves it).
        return [Fix(SPLIT_TITLE + VALIDATE_LATER, rule, [edit], NEEDS_OWN_MIGRATION)]
    return [Fix(SPLIT_TITLE, rule, [edit])]


def _not_null(rule: str, stmt: Statement, where: Where) -> list[Fix]:
    from migcheck.quoting import ident_part

    op = _single(stmt, "set_not_null")
    match = _SET_NOT_NULL.match(stmt.text)
    if op is None or match is None or op.table is None or op.column is None:
        return []
    table, column = match.group("table"), match.group("column")
    # Not ``<t>_<c>_not_null``: PostgreSQL 18 gives the NOT NULL constraint itself that
    # name, and a CHECK holding it would make it pick another.
    name = f"{op.table.rsplit('.', 1)[-1]}_{op.column}_not_null_check"
    if len(name.encode()) > _MAX_NAME:
        return []  # PostgreSQL would cut it: keep the names the user can read
    con = ident_part(name)
    new = (
        f"ALTER TABLE {table} ADD CONSTRAINT {con} CHECK ({column} IS NOT NULL) NOT VALID;\n"
        f"ALTER TABLE {table} VALIDATE CONSTRAINT {con};\n"
        f"{stmt.text};\n"
        f"ALTER TABLE {table} DROP CONSTRAINT {con}"
    )
    edit = TextEdit(stmt.span.start, stmt.span.end, new)
    if where.one_transaction_after:
        # The CHECK's validation must commit before SET NOT NULL's ACCESS EXCLUSIVE lock
        # is taken, or the scan runs under the ADD's lock (shown; Prisma moves it).
        return [Fix(NOT_NULL_TITLE + NOT_NULL_LATER, rule, [edit], NEEDS_OWN_MIGRATION)]
    return [Fix(NOT_NULL_TITLE, rule, [edit])]


def _unique(rule: str, stmt: Statement) -> list[Fix]:
    from migcheck.quoting import ident_part
    from migcheck.schema import default_constraint_name

    op = _single(stmt, "add_constraint")
    match = _ADD_KEY.match(stmt.text)
    con = op.constraint if op is not None else None
    # The pattern admits only UNIQUE / PRIMARY KEY over plain columns, no USING INDEX.
    if op is None or match is None or op.table is None or con is None:
        return []
    # The index takes the constraint's name, so the constraint ends up as ADD CONSTRAINT
    # would have named it.
    name = op.name or default_constraint_name(op.table, con)
    if len(name.encode()) > _MAX_NAME:
        return []
    table, index = match.group("table"), ident_part(name)
    kind = "PRIMARY KEY" if con.kind == "primary_key" else "UNIQUE"
    new = (
        f"CREATE UNIQUE INDEX CONCURRENTLY {index} ON {table} ({match.group('cols').strip()});\n"
        f"ALTER TABLE {table} ADD CONSTRAINT {index} {kind} USING INDEX {index}"
    )
    return [
        Fix(
            UNIQUE_TITLE + OUTSIDE_TX,
            rule,
            [TextEdit(stmt.span.start, stmt.span.end, new)],
            NEEDS_OWN_MIGRATION,
        )
    ]


def lock_timeout(rule: str, stmt: Statement, statements: list[Statement]) -> list[Fix]:
    """Prepend ``SET lock_timeout`` unless a statement before ``stmt`` sets it."""
    for earlier in statements:
        if earlier.span.start >= stmt.span.start:
            break
        if any(op.kind == "set" and op.name == "lock_timeout" for op in earlier.ops):
            return []
    first = next((s for s in statements if not s.embedded), stmt)
    at = first.span.start - (first.span.column - 1)  # the start of its line
    return [Fix(LOCK_TIMEOUT_TITLE, rule, [TextEdit(at, at, LOCK_TIMEOUT)], SAFE)]
