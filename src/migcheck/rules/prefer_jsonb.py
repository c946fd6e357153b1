"""prefer-jsonb (opt-in): a new column of type json instead of jsonb."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import ColumnDef, Finding, Op, Statement
from migcheck.quoting import ident, qcol
from migcheck.rules import Rule
from migcheck.rules._style import declaration


class PreferJsonb(Rule):
    id = "prefer-jsonb"
    category = "style"
    severity = "warning"
    summary = "Use jsonb rather than json for new columns"
    kinds = frozenset({"create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        cols: tuple[ColumnDef, ...] = (
            op.columns
            if op.kind == "create_table"
            else ((op.column_def,) if op.column_def is not None else ())
        )
        for col in cols:
            if col.type is None or col.type.name != "json":
                continue
            array = "[]" * col.type.array
            message = (
                f"Column {qcol(op.table, col.name)} is json{array}: PostgreSQL stores it as text "
                "and re-parses it on every access, it has no equality operator (DISTINCT, "
                "GROUP BY, UNION and unique indexes fail on it), and it cannot be indexed "
                "with GIN."
            )
            help_ = (
                "Use jsonb (binary, indexable with GIN, comparable):\n"
                + declaration(
                    ctx,
                    f"{ident(col.name)} jsonb{array}",
                    col.name,
                    "postgresql.ARRAY(postgresql.JSONB())" if array else "postgresql.JSONB()",
                )
                + "\nKeep json only if you need the exact input text back (key order, "
                "duplicate keys, whitespace)."
            )
            yield self.finding(stmt, message, help_, op)
