"""ban-char: a new char(n) / character(n) / bpchar column."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.pgcatalog.typenames import type_key
from migcheck.quoting import qcol, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import string
from migcheck.rules._style import declaration, in_tool, new_columns


class BanChar(Rule):
    id = "ban-char"
    category = "style"
    severity = "warning"
    summary = "Use text or varchar instead of char(n), which pads values with spaces"
    kinds = frozenset({"create_table", "add_column"})
    default_enabled = False

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for new in new_columns(op, stmt, ctx):
            col = new.column
            if col.type is None or col.type.name != "bpchar":
                continue
            written = col.type.text.strip()
            name = quote(col.name)
            text = "TEXT" if written.isupper() else "text"
            _, params, _ = type_key(col.type)
            if not params:
                # bpchar without a length (char without one means char(1)) takes any
                # length and pads nothing; only the comparison quirk remains.
                yield self.finding(
                    stmt,
                    f"Column {qcol(new.table, col.name)} is {written}: it ignores trailing "
                    f"spaces when comparing but not in LIKE or regular expressions.",
                    "Use text:\n" + declaration(ctx, f"{name} {text}", col.name, "sa.Text()"),
                    new.at,
                )
                continue
            n = params[0]
            yield self.finding(
                stmt,
                f"Column {qcol(new.table, col.name)} is {written}: char(n) pads every "
                f"value with spaces to {n} characters, ignores trailing spaces when comparing "
                f"but not in LIKE or regular expressions, and is usually the slowest string "
                f"type because of the padding.",
                "Use text, with a CHECK if the length limit is a rule of the data:\n"
                + declaration(
                    ctx,
                    f"{name} {text} CHECK (char_length({name}) <= {n})",
                    col.name,
                    "sa.Text()",
                    f"sa.CheckConstraint({string(f'char_length({name}) <= {n}')})",
                )
                + in_tool(
                    ctx,
                    prisma=f"\nWith Prisma, drop `@db.Char({n})` (String maps to text).",
                    alembic="",
                ),
                new.at,
            )
