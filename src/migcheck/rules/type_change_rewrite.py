"""type-change-rewrite: ALTER COLUMN ... TYPE that rewrites the table and its indexes under
ACCESS EXCLUSIVE (binary-coercible changes such as varchar(50) → varchar(200) do not)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._alembic import prior_column
from migcheck.rules._locking import blocks, existing, ident, indent, q, qc, type_change


class TypeChangeRewrite(Rule):
    id = "type-change-rewrite"
    category = "locking"
    severity = "warning"
    summary = "ALTER COLUMN TYPE that rewrites the table and its indexes under ACCESS EXCLUSIVE"
    kinds = frozenset({"alter_column_type"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t, c = op.table, op.column
        if op.type is None or not existing(ctx, t):
            return
        tc = type_change(op, ctx)
        if tc is None:
            return
        old = prior_column(ctx, t, c)
        new = pgcatalog.display_type(op.type)
        lock = f"an {ACCESS_EXCLUSIVE} lock on {q(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)}"
        if tc.rewrite is None:
            message = (
                f"Changing {qc(t, c)} to {new} may rewrite {q(t)} and all its indexes under "
                f"{lock} until it finishes: {tc.reason}."
            )
        elif tc.rewrite:
            was = (
                f" from {pgcatalog.display_type(old.type)}"
                if old is not None and old.type is not None
                else ""
            )
            message = (
                f"Changing {qc(t, c)}{was} to {new} rewrites {q(t)} and all its indexes while "
                f"holding {lock} until it finishes: {tc.reason}."
            )
        elif tc.rebuilds_indexes:
            message = (
                f"Changing {qc(t, c)} to {new} does not rewrite the table but rebuilds every "
                f"index on {q(c)} while holding {lock}: {tc.reason}."
            )
        else:
            return
        yield self.finding(stmt, message, _help(t or "", c or "", op.type.text or new), op)


def _help(t: str, c: str, new: str) -> str:
    table, col, tmp = ident(t), ident(c), ident(f"{c}_new")
    return (
        "Change the type without rewriting the live table (expand, migrate, contract):\n"
        + indent(
            f"ALTER TABLE {table} ADD COLUMN {tmp} {new};",
            f"-- deploy code that writes both columns (or a trigger that copies {col} into {tmp}),",
            "-- backfill old rows in batches, each in its own transaction,",
            f"-- switch reads to {tmp}, then in a later deploy drop {col} and rename {tmp}.",
        )
        + "\nIf the table is small, the rewrite may be acceptable: run it with a short "
        "lock_timeout (SET lock_timeout = '5s') so it gives up instead of queueing traffic."
    )
