"""Shared by missing-lock-timeout and missing-statement-timeout: which statement waits for
a blocking lock on a table that serves traffic, and what a timeout setting is at each
statement of a migration, followed the way PostgreSQL scopes it.

``SET``/``SET SESSION`` lasts for the session (undone by ``ROLLBACK`` of the transaction
that made it), ``SET LOCAL`` until the end of its transaction and is ignored outside a
transaction block (PostgreSQL only warns), ``RESET``, ``SET ... TO DEFAULT`` and a zero
value switch it off, and ``SELECT set_config(name, v, is_local)`` counts.

The registry skips modules whose name starts with ``_``, so nothing here is a rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.locks import BLOCKING_MODES, SHARE_ROW_EXCLUSIVE, lock_for
from migcheck.model import Op, Statement
from migcheck.rules._opcalls import execute

_ZERO = lazy(r"^\s*0+(\.0*)?\s*(us|ms|s|min|h|d)?\s*$", re.I)
ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"


@dataclass
class Walk:
    """A timeout setting as the statements of one migration have left it so far."""

    # The engine's settings dict of the migration being walked: a new one per migration
    # and per run, so it tells when a new walk starts.
    key: dict[str, str]
    session: str | None = None
    local: str | None = None
    local_tx: int | None = None
    local_line: int = 0
    # Why no timeout applies, for the message: (line, explanation).
    why_not: tuple[int, str] | None = None
    # Session value before the first session SET of each open transaction (for ROLLBACK).
    # (and why it was unset then, for the message).
    before_tx: dict[int, tuple[str | None, tuple[int, str] | None]] = field(default_factory=dict)
    reported: bool = False


def walk_for(current: Walk | None, ctx: Context) -> Walk:
    """The walk of the migration ``ctx`` is in: ``current`` or, at a new one, a fresh one."""
    if current is None or current.key is not ctx.settings:
        return Walk(ctx.settings)
    return current


def effective(walk: Walk, ctx: Context) -> str | None:
    """The setting in effect for the statement being checked (a SET LOCAL of an ended
    transaction no longer counts)."""
    tx = current_tx(ctx)
    if walk.local_tx is not None and walk.local_tx != tx:
        walk.why_not = (walk.local_line, "was SET LOCAL, which ended with its transaction")
        walk.local = walk.local_tx = None
    return walk.local if walk.local_tx is not None else walk.session


def current_tx(ctx: Context) -> int | None:
    return ctx.transaction.id if ctx.transaction is not None and ctx.in_transaction else None


def blocking(op: Op, ctx: Context) -> tuple[str, str | None] | None:
    """(mode, table) of the first blocking lock ``op`` waits for on an existing table."""
    if op.kind == "lock" and op.options.get("nowait"):
        return None  # NOWAIT fails at once instead of queueing
    if op.kind == "create_table" and op.options.get("if_not_exists") and ctx.table(op.table):
        return None  # an existing table: the statement does nothing
    wanted: list[tuple[str, str | None]] = []
    lock = lock_for(op)
    if lock is not None and lock[0] in BLOCKING_MODES:
        wanted.append((lock[0], lock[1] or ctx.table_for(op)))
    # A foreign key also takes SHARE ROW EXCLUSIVE on the table it references.
    cols = list(op.columns) + ([op.column_def] if op.column_def is not None else [])
    cons = [*op.constraints, *(c for col in cols for c in col.constraints)]
    if op.constraint is not None:
        cons.append(op.constraint)
    wanted += [(SHARE_ROW_EXCLUSIVE, c.ref_table) for c in cons if c.kind == "foreign_key"]
    # CREATE TABLE ... PARTITION OF takes ACCESS EXCLUSIVE on the parent.
    parent = op.options.get("partition_of") if op.kind == "create_table" else None
    if isinstance(parent, str):
        wanted.append((ACCESS_EXCLUSIVE, parent))
    held = ctx.transaction.exclusive_locks if ctx.transaction is not None else {}
    for mode, table in wanted:
        if table is None:
            # DROP INDEX of an index the history never showed: its table is unknown, and
            # unknown tables count as existing.
            if op.kind in ("drop_index", "reindex") and op.name:
                return mode, None
            continue
        if not ctx.is_existing_table(table):
            continue
        if ctx.in_transaction and table in held:
            continue  # the transaction already holds ACCESS EXCLUSIVE: no wait
        return mode, table
    return None


def article(word: str) -> str:
    return "an" if word[:1] in "AEIOU" else "a"


def _value(raw: str) -> str | None:
    """The value a SET leaves, or None when it leaves none (0 or DEFAULT)."""
    v = raw.strip().strip("'").strip()
    if not v or v.upper() == "DEFAULT" or _ZERO.match(v):
        return None
    return v


def update(walk: Walk, stmt: Statement, ctx: Context, name: str) -> None:
    """Apply what ``stmt`` does to the setting ``name`` (SET, RESET, set_config, the end of
    its transaction)."""
    tx = current_tx(ctx)
    line = stmt.span.line
    set_config = re.compile(
        rf"set_config\s*\(\s*'{name}'\s*,\s*'([^']*)'\s*,\s*(true|false)\s*\)", re.I
    )
    for op in stmt.ops:
        if op.kind == "set" and op.name == name and op.values:
            _assign(
                walk, _value(str(op.values[0])), op.mode == "local", tx, line, str(op.values[0])
            )
        elif op.kind == "reset" and op.name in (name, "all"):
            _assign(walk, None, False, tx, line, "RESET")
        elif op.kind == "select":
            for m in set_config.finditer(stmt.text):
                _assign(
                    walk, _value(m.group(1)), m.group(2).lower() == "true", tx, line, m.group(1)
                )
        elif op.kind == "rollback" and tx is not None and tx in walk.before_tx:
            walk.session, walk.why_not = walk.before_tx.pop(tx)
        elif op.kind == "commit" and tx is not None:
            walk.before_tx.pop(tx, None)


def _assign(
    walk: Walk, value: str | None, local: bool, tx: int | None, line: int, raw: str
) -> None:
    if local:
        if tx is None:
            walk.why_not = (
                line,
                "was SET LOCAL outside a transaction block, which PostgreSQL ignores with "
                "a warning",
            )
            return
        walk.local, walk.local_tx, walk.local_line = value, tx, line
    else:
        if tx is not None:
            walk.before_tx.setdefault(tx, (walk.session, walk.why_not))
        walk.session = value
        # A session SET also overrides a SET LOCAL of the same transaction.
        walk.local = walk.local_tx = None
    if value is None:
        walk.why_not = (line, f"is set to {raw.strip()}, which turns it off")
    else:
        walk.why_not = None


_VERB_WORDS = frozenset(
    {
        "ALTER", "TABLE", "CREATE", "UNIQUE", "INDEX", "DROP", "TRUNCATE", "LOCK", "VACUUM",
        "FULL", "REINDEX", "CLUSTER", "REFRESH", "MATERIALIZED", "VIEW", "TRIGGER", "FOREIGN",
        "ONLY", "OR", "REPLACE", "CONSTRAINT",
    }
)  # fmt: skip


def verb(stmt: Statement) -> str:
    """``ALTER TABLE``, ``CREATE UNIQUE INDEX``...: the statement's leading keywords."""
    words: list[str] = []
    for w in stmt.text.split()[:4]:
        if w.upper() not in _VERB_WORDS:
            break
        words.append(w.upper())
    return " ".join(words) or "This statement"


def set_at_top(ctx: Context, setting: str, value: str) -> str:
    """The SET that opens the migration, as the user writes it: in a revision an
    ``op.execute`` at the top of ``upgrade()``, which is where migcheck reads it."""
    sql = f"SET {setting} = '{value}';"
    return execute(sql) if ctx.tool == "alembic" else f"    {sql}"


def in_env_py(setting: str, value: str) -> str:
    """The other place an Alembic project sets it, for every revision at once; migcheck
    does not read env.py, so the help says how to tell it."""
    return (
        f'set it once for every revision in env.py (`connection.execute(sa.text("SET '
        f"{setting} = '{value}'\"))` before `context.configure(...)`), which migcheck does not "
        "read"
    )
