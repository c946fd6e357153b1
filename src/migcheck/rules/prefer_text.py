"""prefer-text: a new varchar(n) column."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import ColumnType, Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import add_column, paste, string
from migcheck.rules._style import declaration, in_tool, new_columns


class PreferText(Rule):
    id = "prefer-text"
    category = "style"
    severity = "warning"
    summary = "Use text (with a CHECK if a limit is needed) instead of varchar(n)"
    kinds = frozenset({"create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for new in new_columns(op, stmt, ctx):
            col = new.column
            # varchar without a length is text under another name: nothing to say.
            if col.type is None or col.type.name != "varchar" or not col.type.params:
                continue
            n = col.type.params[0]
            written = col.type.text.strip()
            name = quote(col.name)
            table = qname(new.table)
            text = "TEXT" if written.isupper() else "text"
            check = f"CHECK (char_length({name}) <= {n})"
            if op.kind == "create_table" or ctx.is_new_table(new.table):
                how = (
                    declaration(
                        ctx,
                        f"{name} {text} {check}",
                        col.name,
                        "sa.Text()",
                        f"sa.CheckConstraint({string(f'char_length({name}) <= {n}')})",
                    )
                    + "\n"
                )
            else:
                # Inline in ADD COLUMN the CHECK is verified by a scan under ACCESS
                # EXCLUSIVE; NOT VALID + VALIDATE checks it without blocking writes.
                cname = _check_name(new.table, col.name)
                how = (
                    (
                        add_column(new.table, col.name, ColumnType("text"))
                        if ctx.tool == "alembic"
                        else f"    ALTER TABLE {table} ADD COLUMN {name} {text};"
                    )
                    + "\n"
                    + paste(
                        ctx,
                        f"ALTER TABLE {table} ADD CONSTRAINT {cname} {check} NOT VALID;",
                        f"ALTER TABLE {table} VALIDATE CONSTRAINT {cname};",
                    )
                    + "\n"
                )
            yield self.finding(
                stmt,
                f"Column {qcol(new.table, col.name)} is {written}: the length limit is "
                f"part of the type, so changing it later is an ALTER COLUMN ... TYPE under an "
                f"ACCESS EXCLUSIVE lock (lowering it rewrites the table), while "
                f"varchar(n) is stored exactly like text and is no faster.",
                f"Use text, with a CHECK constraint if the limit matters; a CHECK can later be "
                f"replaced without blocking (ADD ... NOT VALID, then VALIDATE):\n"
                f"{how}".rstrip("\n")
                + in_tool(
                    ctx,
                    prisma=f"\nWith Prisma, drop `@db.VarChar({n})` (String maps to text).",
                    alembic="",
                ),
                new.at,
            )


def _check_name(table: str, column: str) -> str:
    return quote(f"{table.split('.')[-1]}_{column}_length")
