"""unbatched-backfill: an UPDATE of every row (or an INSERT ... SELECT of a whole table) in
one statement, one transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.locks import ACCESS_EXCLUSIVE, BLOCKS, lock_for
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import (
    TxScan,
    existing,
    indent,
    primary_key,
)
from migcheck.rules._opcalls import execute

# Strongest first, to name the lock that hurts most.
_ORDER = [ACCESS_EXCLUSIVE, "EXCLUSIVE", "SHARE ROW EXCLUSIVE", "SHARE"]
_SET = lazy(r"\bset\b(.*)$", re.I | re.S)
_ASSIGN = lazy(r'^\s*("(?:[^"]|"")+"|[A-Za-z_][\w$]*)\s*=', re.S)


_STRING = lazy(r"'(?:[^']|'')*'")
_LIMIT = lazy(r"\blimit\s+(?:\d+|\$\d+|:\w+)", re.I)


def _limited(sql: str) -> bool:
    """Whether the statement (outside its string literals) has a LIMIT."""
    return _LIMIT.search(_STRING.sub("''", sql)) is not None


def _locks_taken(stmt: Statement) -> Iterator[tuple[str, str, Statement]]:
    for o in stmt.ops:
        lock = lock_for(o)
        if lock is not None and lock[1] and lock[0] in _ORDER:
            yield lock[0], lock[1], stmt


def _ddl_lock(
    ctx: Context, table: str, scan: TxScan[tuple[str, str, Statement]]
) -> tuple[str, Statement] | None:
    """The strongest blocking lock this transaction's earlier DDL holds on ``table``."""
    tx = ctx.transaction
    if tx is None or table not in tx.ddl_tables:
        return None
    best: tuple[str, Statement] | None = None
    for mode, locked, s in scan.found(tx):
        if locked == table and (best is None or _ORDER.index(mode) < _ORDER.index(best[0])):
            best = (mode, s)
    return best


_LOOP = lazy(r"(?<!\bEND\s)\bLOOP\b", re.I)
_END_LOOP = lazy(r"\bEND\s+LOOP\b", re.I)
_COMMIT = lazy(r"\bCOMMIT\b", re.I)
_COMMENT = lazy(r"--[^\n]*|/\*.*?\*/", re.S)


def _looped_in_one_transaction(stmt: Statement, ctx: Context) -> bool:
    """Whether ``stmt`` is a statement of a ``DO`` block, inside one of its loops, and the
    block never commits: all the batches then run in the block's one transaction
    (checked on PostgreSQL 18: a DO block's COMMIT works only outside a transaction
    block, and inside one fails with "invalid transaction termination", so a block with
    a COMMIT is not this rule's)."""
    if not stmt.embedded:
        return False
    parent = next((s for s in reversed(ctx.earlier_statements()) if not s.embedded), None)
    op = parent.first_op if parent is not None else None
    if op is None or op.kind != "do" or not op.body:
        return False
    body = _COMMENT.sub(" ", _STRING.sub("''", op.body))
    if _COMMIT.search(body):
        return False
    at = body.find(_STRING.sub("''", stmt.text).strip())
    if at < 0:
        return False
    opened = len(_LOOP.findall(body, 0, at)) - len(_END_LOOP.findall(body, 0, at))
    return opened > 0


def _every_row(op: Op, stmt: Statement, ctx: Context) -> bool:
    """Whether the UPDATE changes every row of a table serving traffic."""
    if not existing(ctx, op.table):
        return False
    if _looped_in_one_transaction(stmt, ctx):
        return True
    if op.has_where and not _still_null_everywhere(op, stmt, ctx):
        return False
    # ``WITH todo AS (SELECT id ... LIMIT 500) UPDATE t ... FROM todo WHERE t.id =
    # todo.id``: the join is with a bounded batch, which is the fix.
    return not (op.options.get("from") and _limited(stmt.text))


def _copied_table(op: Op, ctx: Context) -> str | None:
    """The table serving traffic whose every row an INSERT … SELECT copies, if any."""
    src = op.options.get("select_from")
    if op.has_where or not op.options.get("select") or not isinstance(src, str):
        return None
    if op.table and ctx.is_new_table(op.table):
        # Filling a table this deploy creates is building it, as CREATE TABLE AS does: the
        # source is only read (ACCESS SHARE), and nothing uses the new table's lock yet.
        return None
    return src if existing(ctx, src) else None


class UnbatchedBackfill(Rule):
    id = "unbatched-backfill"
    category = "locking"
    severity = "warning"
    summary = "UPDATE of every row / INSERT … SELECT of a whole table in one transaction"
    kinds = frozenset({"update", "insert"})

    def __init__(self) -> None:
        self._locks = TxScan(_locks_taken)

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t = op.table
        if op.kind == "update":
            if not _every_row(op, stmt, ctx):
                return
            looped = _looped_in_one_transaction(stmt, ctx)
            if looped:
                every = (
                    " batch by batch, but in a loop of a DO block that never commits, so all "
                    "the batches run"
                )
            elif op.has_where:
                every = (
                    f" (its WHERE {_only_null_column(stmt)} IS NULL matches every row: this "
                    "deploy adds the column without a default, so every row holds NULL)"
                )
            else:
                every = ""
            message = (
                f"This UPDATE changes every row of existing table {qname(t)}{every} in one "
                "transaction: "
                "each updated row stays locked against the application's UPDATEs and DELETEs "
                "until it commits, and the whole table is written again as new row versions "
                "(bloat, WAL volume, replica lag)"
            )
            locked = t
        else:
            src = _copied_table(op, ctx)
            if src is None:
                return
            message = (
                f"This INSERT … SELECT copies every row of existing table {qname(src)} into {qname(t)} "
                "in one statement: one long transaction that holds every lock it takes, keeps "
                "VACUUM from cleaning up anywhere in the database, and writes it all to the "
                "WAL at once"
            )
            locked = t or src
        ddl = _ddl_lock(ctx, locked or "", self._locks) if ctx.in_transaction else None
        if ddl is not None:
            mode, s = ddl
            message += (
                f"; worse, it runs in the same transaction as the schema change at line "
                f"{s.span.line}, so that statement's {mode} lock on {qname(locked)} is held for "
                f"the whole backfill and blocks {BLOCKS.get(mode, 'other sessions')}."
            )
        else:
            message += "."
        yield self.finding(stmt, message, self._help(op, stmt, ctx), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if op.kind == "update":
            return f"updates every row of {qname(op.table)}" if _every_row(op, stmt, ctx) else None
        src = _copied_table(op, ctx)
        return f"copies every row of {qname(src)} into {qname(op.table)}" if src else None

    def _help(self, op: Op, stmt: Statement, ctx: Context) -> str:
        alembic = ctx.tool == "alembic"
        intro = (
            (
                "Backfill in batches of a few thousand rows, each batch in its own "
                "transaction, after the schema change has committed: an Alembic revision "
                "runs in one transaction (unless inside op.get_context().autocommit_block()), "
                "so loop over the batches in a separate script, or repeat the batch in "
                "later revisions"
            )
            if alembic
            else (
                "Backfill in batches of a few thousand rows, each batch in its own transaction, "
                "in a separate migration (or a script) after the schema change has committed"
            )
        )

        def code(sql: str, repeat: str) -> str:
            if alembic:
                return execute(sql) + "\n    # " + repeat
            return indent(sql, "-- " + repeat)

        if op.kind != "update":
            return (
                intro
                + ", e.g. copying by key ranges:\n"
                + code(
                    f"INSERT INTO {ident(op.table)} SELECT … FROM "
                    f"{ident(str(op.options.get('select_from')))} WHERE <key> > <last key "
                    "copied> ORDER BY <key> LIMIT 5000;",
                    "repeated until it inserts no row",
                )
            )
        if _looped_in_one_transaction(stmt, ctx):
            return (
                "Commit after each batch: in a DO block run outside any transaction block "
                "(PostgreSQL 11+), end each pass of the loop with COMMIT, or run the loop "
                "from a script that commits each batch; either way after any schema change "
                "of the table has committed."
            )
        t = op.table
        key = ident(primary_key(ctx, t))
        text = stmt.text
        if op.has_where:
            # WHERE c IS NULL on a column this deploy added: the batch keeps it.
            only = _ONLY_NULL.search(text)
            text = text[: only.start()] if only else text
        m = _SET.search(text)
        assignments = " ".join(m.group(1).split()) if m else "…"
        target = _ASSIGN.match(assignments)
        col = target.group(1) if target else None
        # A column this deploy added starts NULL: "IS NULL" finds the rows not done yet.
        unquoted = col.strip('"') if col else None
        todo = (
            f"{col} IS NULL"
            if col
            and ctx.is_new_column(t, unquoted if col.startswith('"') else (unquoted or "").lower())
            else "<rows not yet backfilled>"
        )
        update = f"UPDATE {ident(t)} SET {assignments}"
        where = f"WHERE {key} IN (SELECT {key} FROM {ident(t)} WHERE {todo} LIMIT 5000);"
        repeat = "repeated until it updates no row"
        if alembic:
            return intro + ":\n" + code(f"{update} {where}", repeat)
        return intro + ":\n" + indent(update, where, f"-- {repeat}")


_ONLY_NULL = lazy(
    r'\bwhere\s+(?:(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)\.)?("(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
    r"\s+is\s+null\s*;?\s*$",
    re.I,
)


def _only_null_column(stmt: Statement) -> str:
    """The column of the statement's ``WHERE c IS NULL``, as written."""
    m = _ONLY_NULL.search(_STRING.sub("''", stmt.text))
    return m.group(1) if m else "…"


def _still_null_everywhere(op: Op, stmt: Statement, ctx: Context) -> bool:
    """``UPDATE t SET c = … WHERE c IS NULL`` where ``c`` is a column this deploy added
    without a default: no app writes it yet, so every row matches, as with no WHERE."""
    m = _ONLY_NULL.search(_STRING.sub("''", stmt.text))
    if m is None:
        return False
    word = m.group(1)
    name = word[1:-1].replace('""', '"') if word.startswith('"') else word.lower()
    info = ctx.column(op.table, name)
    if info is not None:
        if not ctx.is_new(info.origin):
            return False
        default, generated = info.default, info.generated
    else:
        # The history never showed the table: an ADD COLUMN earlier in this migration.
        added = next(
            (
                o.column_def
                for s in ctx.earlier_statements()
                for o in s.ops
                if o.kind == "add_column"
                and o.table == op.table
                and o.column_def is not None
                and o.column_def.name == name
            ),
            None,
        )
        if added is None:
            return False
        default, generated = added.default, added.generated
    return (default is None or default.is_null) and generated is None
