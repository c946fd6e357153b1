"""prefer-timestamptz: a new timestamp-without-time-zone column."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import ColumnDef, Finding, Op, Statement
from migcheck.quoting import qcol, quote
from migcheck.rules import Rule
from migcheck.rules._style import declaration, in_tool, new_columns


class PreferTimestamptz(Rule):
    id = "prefer-timestamptz"
    category = "style"
    severity = "warning"
    summary = "Use timestamptz instead of timestamp without time zone"
    kinds = frozenset({"create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for new in new_columns(op, stmt, ctx):
            col = new.column
            if col.type is None or col.type.name != "timestamp":
                continue
            written = col.type.text.strip()
            precision = f"({col.type.params[0]})" if col.type.params else ""
            target = ("TIMESTAMPTZ" if written.isupper() else "timestamptz") + precision
            arrays = "[]" * col.type.array
            prisma = f"`@db.Timestamptz{precision or '(6)'}`"
            yield self.finding(
                stmt,
                f"Column {qcol(new.table, col.name)} is {written} (without time zone): "
                f"it stores wall-clock readings with no zone, so values written by sessions "
                f"or servers in different time zones cannot be compared, and converting it "
                f"to timestamptz later rewrites the table under an ACCESS EXCLUSIVE lock.",
                "Store instants as timestamptz (same 8 bytes; shown in the session's time "
                "zone):\n"
                + declaration(
                    ctx, f"{quote(col.name)} {target}{arrays}", col.name, _sa_timestamptz(col)
                )
                + in_tool(
                    ctx,
                    prisma=f"\nWith Prisma, add {prisma} to the DateTime field (Prisma's default "
                    "is TIMESTAMP(3)).",
                    alembic="",
                ),
                new.at,
            )


def _sa_timestamptz(col: ColumnDef) -> str:
    """The SQLAlchemy type of the column as timestamptz, its precision and array kept."""
    assert col.type is not None
    precision = col.type.params[0] if col.type.params else None
    expr = (
        f"postgresql.TIMESTAMP(timezone=True, precision={precision})"
        if precision is not None
        else "sa.DateTime(timezone=True)"
    )
    for _ in range(col.type.array):
        expr = f"postgresql.ARRAY({expr})"
    return expr
