"""Shared helpers of the locking rules: quoting, runner advice, and "does this op do slow work".

The registry skips modules whose name starts with ``_``, so nothing here is a rule. The
predicates (``add_column_rewrite``, ``type_change``, ``set_not_null_scans``,
``slow_work``) are the single source of truth for both the rule that reports a slow
operation and ``hold-exclusive-lock``, which asks whether a statement does slow work
while an earlier ACCESS EXCLUSIVE lock is still held.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

from migcheck import pgcatalog
from migcheck.context import Context, Transaction
from migcheck.locks import ACCESS_EXCLUSIVE, BLOCKS, lock_for
from migcheck.model import ColumnDef, Op, Statement, name_parts
from migcheck.rules._alembic import prior_column

# Words that must be quoted when used as identifiers (PostgreSQL's reserved keywords that
# people actually name tables and columns after).
_RESERVED_WORDS = """
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time
current_timestamp current_user default deferrable desc distinct do else end except false
fetch for foreign from grant group having in initially intersect into lateral leading
limit localtime localtimestamp not null offset on only or order placing primary
references returning select session_user some symmetric system_user table then to
trailing true union unique user using variadic when where window with
"""
_RESERVED = frozenset(_RESERVED_WORDS.split())
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")


def _parts(name: str) -> list[str]:
    return name_parts(name)


def q(name: str | None) -> str:
    """An identifier for a message: ``"User"``, ``"app"."users"``."""
    if not name:
        return '""'
    return ".".join(f'"{p}"' for p in _parts(name))


def qc(table: str | None, column: str | None) -> str:
    """``"User"."email"``."""
    return f"{q(table)}.{q(column)}"


def ident(name: str | None) -> str:
    """An identifier for SQL the user pastes: bare when Postgres would fold it to itself,
    double-quoted otherwise (``users``, ``"User"``, ``"user"``)."""
    if not name:
        return '""'
    out = []
    for part in _parts(name):
        if _SIMPLE.fullmatch(part) and part not in _RESERVED:
            out.append(part)
        else:
            out.append('"' + part.replace('"', '""') + '"')
    return ".".join(out)


def indent(*lines: str) -> str:
    """SQL lines indented four spaces, for multi-line help."""
    return "\n".join("    " + line for line in lines)


def sql_of(stmt: Statement) -> str:
    """The statement as the user wrote it, ending with ``;``, on one line."""
    return " ".join(stmt.text.strip().rstrip(";").split()) + ";"


def blocks(mode: str) -> str:
    """What a lock blocks, as a phrase that can sit mid-sentence (``locks.BLOCKS`` uses
    "writes (...); reads continue", which only works at the end of a sentence)."""
    return BLOCKS.get(mode, "other sessions").replace("; ", ", while ")


def primary_key(ctx: Context, table: str | None) -> str:
    """The table's primary-key column if the history shows a one-column key, else ``id``."""
    for con in ctx.schema.constraints_on(table):
        if con.kind == "primary_key" and len(con.columns) == 1:
            return con.columns[0]
    return "id"


def existing(ctx: Context, table: str | None) -> bool:
    """A table that serves traffic: not created by this deploy (unknown tables count as
    existing), and a real table (views have no rows to scan or rewrite)."""
    if not ctx.is_existing_table(table):
        return False
    info = ctx.table(table)
    return info is None or info.kind == "table"


def adds_column(op: Op, ctx: Context) -> bool:
    """False for ``ADD COLUMN IF NOT EXISTS`` of a column the table already has: PostgreSQL
    skips it with a NOTICE and touches nothing."""
    col = op.column_def
    if col is None:
        return False
    return not (op.options.get("if_not_exists") and ctx.column(op.table, col.name) is not None)


def builds_index(op: Op, ctx: Context) -> bool:
    """False for ``CREATE INDEX IF NOT EXISTS`` of an index that already exists (a no-op)."""
    return not (op.options.get("if_not_exists") and ctx.schema.index(op.name, op.table))


# -- transactions -------------------------------------------------------------------------


def begin_line(ctx: Context) -> int | None:
    """The line of the BEGIN that opened the current explicit transaction."""
    tx = ctx.transaction
    if tx is None:
        return None
    for s in tx.statements:
        if s.first_op is not None and s.first_op.kind == "begin":
            return s.span.line
    return None


def why_in_transaction(ctx: Context) -> str:
    """Why the statement runs inside a transaction block, in words."""
    tx = ctx.transaction
    if tx is not None and tx.kind == "explicit":
        line = begin_line(ctx)
        return (
            f"the file opens one with BEGIN at line {line}"
            if line
            else "the file opens one with BEGIN"
        )
    if ctx.runner_note:
        return ctx.runner_note
    return "the runner wraps the migration in a transaction"


def outside_tx_advice(ctx: Context) -> str:
    """How to run a statement outside any transaction block with this migration tool."""
    tx = ctx.transaction
    explicit = tx is not None and tx.kind == "explicit"
    tool = ctx.migration.tool
    if explicit:
        base = "Move it out of the BEGIN … COMMIT block"
    else:
        base = "Run it outside any transaction block"
    if tool == "prisma":
        how = (
            "put it alone in its own migration (a migration.sql holding only this statement): "
            "Prisma before 7.4 sends a multi-statement migration.sql as one implicit "
            "transaction, a single statement runs on its own"
        )
    elif tool == "golang-migrate":
        how = (
            "put it alone in its own migration file: golang-migrate sends a file as one "
            "multi-statement query, which PostgreSQL runs as one transaction"
        )
    elif tool == "flyway":
        how = (
            "put it in its own migration with a script config file next to it "
            "(V<n>__<name>.sql.conf) containing executeInTransaction=false"
        )
    elif tool == "dbmate":
        how = "put it in its own migration whose first line is -- migrate:up transaction:false"
    elif tool == "alembic":
        how = (
            "in the revision, wrap the call in `with op.get_context().autocommit_block():` "
            "(op.create_index(..., postgresql_concurrently=True) for an index)"
        )
    else:
        how = (
            "put it alone in its own migration, without BEGIN, if your runner sends a file as "
            "one query or wraps it in a transaction"
        )
    return f"{base}: {how}."


def own_transaction_note(ctx: Context) -> str:
    """What "a separate migration" takes under Alembic's default, where every revision of
    one upgrade shares a transaction (empty for every other runner)."""
    if ctx.history.tool != "alembic" or ctx.history.settings.get("transaction_per_migration"):
        return ""
    return (
        "\nWith Alembic a separate revision is not enough: `alembic upgrade` runs all pending "
        "revisions in one transaction. Set transaction_per_migration=True in env.py's "
        "context.configure(...), or ship the second step in a later deploy."
    )


# -- slow work ----------------------------------------------------------------------------


def add_column_rewrite(op: Op, ctx: Context) -> str | None:
    """Why ``ADD COLUMN`` rewrites the table (None when it is a catalog-only change).

    PostgreSQL 11+ stores a non-volatile default in the catalog (``attmissingval``) and
    rewrites nothing; a volatile default, a serial or identity column (filled from a
    sequence, i.e. ``nextval``) and a stored generated column must be computed per row.
    Before 11 every non-NULL default rewrites.
    """
    col = op.column_def
    if col is None:
        return None
    if col.generated == "stored":
        return "a GENERATED … STORED column is computed and written for every existing row"
    if col.generated == "identity":
        return (
            "an identity column is filled from its sequence for every existing row, so "
            "PostgreSQL rewrites the table"
        )
    if col.type is not None and pgcatalog.is_serial(col.type.text or col.type.name):
        return (
            f"{col.type.text or col.type.name} is an integer with DEFAULT nextval(…), a "
            "volatile default, so every existing row gets its own value and PostgreSQL "
            "rewrites the table"
        )
    default = col.default
    # ``DEFAULT NULL`` reaches us as an empty expression (the parser stops the default at
    # the NULL keyword), so an empty text means NULL too.
    if default is None or default.is_null or not default.text.strip():
        return None
    if ctx.pg_version < 11:
        return (
            f"before PostgreSQL 11 any non-NULL default (here {default.text}) is written into "
            "every existing row"
        )
    if default.volatility == pgcatalog.VOLATILE:
        return (
            f"{default.text} is volatile, so PostgreSQL computes it for every existing row "
            "instead of storing it once in the catalog"
        )
    if default.volatility == pgcatalog.UNKNOWN:
        return (
            f"migcheck could not tell whether {default.text} is volatile (it calls a function "
            "that is not built in); if it is, PostgreSQL computes it for every existing row"
        )
    return None


def type_change(op: Op, ctx: Context) -> pgcatalog.TypeChange | None:
    if op.type is None:
        return None
    col = prior_column(ctx, op.table, op.column)
    return pgcatalog.analyse_type_change(
        col.type if col is not None else None, op.type, ctx.pg_version, op.using, op.column
    )


def set_not_null_scans(op: Op, ctx: Context) -> bool:
    """Whether ``SET NOT NULL`` scans the table: always before 12, and on 12+ unless a
    validated ``CHECK (col IS NOT NULL)`` proves the column has no NULLs. A column
    already NOT NULL makes the command a no-op."""
    col = prior_column(ctx, op.table, op.column)
    if col is not None and col.not_null:
        return False
    return not (
        ctx.pg_version >= 12 and ctx.schema.has_validated_not_null_check(op.table, op.column)
    )


def inline_fk_validates(col: ColumnDef, siblings: list[Op]) -> bool:
    """``ADD COLUMN … REFERENCES`` skips the validation scan unless the column has a
    default or the same ALTER TABLE also adds a FOREIGN KEY constraint
    (``transformAlterTableStmt`` in parse_utilcmd.c: "If the column has a non-null default,
    we can't skip validation of foreign keys")."""
    if col.default is not None or col.generated is not None:
        return True
    return any(
        o.kind == "add_constraint"
        and o.constraint is not None
        and o.constraint.kind == "foreign_key"
        for o in siblings
    )


def slow_work(op: Op, stmt: Statement, ctx: Context) -> str | None:
    """What slow work (scan, rewrite, index build, backfill) ``op`` does on an existing
    table, in a few words, or None when it is quick."""
    k = op.kind
    t = op.table
    if k == "create_index":
        if not op.concurrently and not op.only and existing(ctx, t) and builds_index(op, ctx):
            return (
                f"builds index {q(op.name)} on {q(t)}" if op.name else f"builds an index on {q(t)}"
            )
        return None
    if k == "add_constraint" and op.constraint is not None and existing(ctx, t):
        con = op.constraint
        if con.kind in ("foreign_key", "check") and not con.not_valid:
            what = "foreign key" if con.kind == "foreign_key" else "CHECK constraint"
            return (
                f"validates {what} {q(op.name)} by scanning {q(t)}"
                if op.name
                else (f"validates a new {what} by scanning {q(t)}")
            )
        if con.kind in ("unique", "primary_key", "exclude") and not con.using_index:
            return f"builds the index of a new {con.kind.replace('_', ' ')} constraint on {q(t)}"
        return None
    if k == "validate_constraint" and existing(ctx, t):
        return f"validates {q(op.name)} by scanning {q(t)}"
    if k == "add_column" and existing(ctx, t) and adds_column(op, ctx):
        col = op.column_def
        assert col is not None
        if add_column_rewrite(op, ctx):
            return f"rewrites {q(t)} to fill the new column {q(col.name)}"
        for con in col.constraints:
            if con.kind == "check":
                return f"scans {q(t)} to check the new column {q(col.name)}"
            if con.kind in ("unique", "primary_key"):
                return f"builds an index on the new column {q(col.name)}"
            if con.kind == "foreign_key" and inline_fk_validates(col, stmt.ops):
                return f"validates the foreign key of {q(col.name)} by scanning {q(t)}"
        return None
    if k == "alter_column_type" and existing(ctx, t):
        tc = type_change(op, ctx)
        if tc is not None and (tc.rewrite is not False or tc.rebuilds_indexes):
            return f"rewrites {q(t)} to change the type of {q(op.column)}"
        return None
    if k == "set_not_null" and existing(ctx, t) and set_not_null_scans(op, ctx):
        return f"scans {q(t)} for NULLs in {q(op.column)}"
    if k in ("set_logged", "set_unlogged", "set_tablespace", "cluster") and existing(ctx, t):
        return f"rewrites {q(t)}"
    if k == "vacuum" and op.mode == "full" and (t is None or existing(ctx, t)):
        return f"rewrites {q(t)} (VACUUM FULL)" if t else "rewrites every table (VACUUM FULL)"
    if k == "refresh_matview" and ctx.is_existing_table(t):
        return f"refreshes {q(t)}"
    if k == "reindex" and not op.concurrently:
        table = ctx.table_for(op)
        if table is None or ctx.is_existing_table(table):
            return f"rebuilds {q(op.name)}" if op.name else "rebuilds indexes"
        return None
    if k in ("update", "delete") and not op.has_where and existing(ctx, t):
        verb = "updates" if k == "update" else "deletes"
        return f"{verb} every row of {q(t)}"
    if k == "insert" and op.options.get("select") and not op.has_where:
        src = op.options.get("select_from")
        if isinstance(src, str) and existing(ctx, src):
            return f"copies every row of {q(src)} into {q(t)}"
    return None


def takes_access_exclusive(stmt: Statement, table: str) -> bool:
    return any(lock_for(o) == (ACCESS_EXCLUSIVE, table) for o in stmt.ops)


_T = TypeVar("_T")


class TxScan(Generic[_T]):
    """What ``extract`` finds in the statements of the current transaction, scanned
    incrementally: the engine calls a rule on the statements of a transaction in order, so
    remembering the transaction keeps a rule linear in its length instead of quadratic."""

    def __init__(self, extract: Callable[[Statement], Iterable[_T]]) -> None:
        self._extract = extract
        self._tx: Transaction | None = None
        self._upto = 0
        self._found: list[_T] = []

    def found(self, tx: Transaction) -> list[_T]:
        if self._tx is not tx:
            self._tx, self._upto, self._found = tx, 0, []
        for s in tx.statements[self._upto :]:
            self._found.extend(self._extract(s))
        self._upto = len(tx.statements)
        return self._found
