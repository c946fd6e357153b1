"""rename-enum-value: ALTER TYPE ... RENAME VALUE under the running app."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste


def _lit(value: str | None) -> str:
    return "'" + (value or "").replace("'", "''") + "'"


class RenameEnumValue(Rule):
    id = "rename-enum-value"
    category = "compatibility"
    severity = "error"
    summary = "Renaming an enum value breaks the app version still writing the old value"
    kinds = frozenset({"rename_enum_value"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        enum = ctx.schema.enums.get(op.table or "")
        if enum is not None and ctx.is_new(enum.origin):
            return  # the enum itself is new in this deploy
        old = op.values[0] if op.values else ""
        # The history never gave the type this label, so no app version built on it writes
        # it: on a database the history built, RENAME VALUE fails ("is not an existing enum
        # label"), and it only repairs one that drifted (Langflow c3e7a1b9d2f4 relabels
        # UPPERCASE labels an old create_all made, each rename guarded by a pg_enum lookup).
        if enum is not None and enum.values and old not in enum.values:
            return
        # A value added earlier in this same migration was never seen by the running app.
        if any(
            o.kind == "add_enum_value" and o.table == op.table and old in o.values
            for o in ctx.ops_before()
        ):
            return
        e, o, n = qname(op.table), _lit(old), _lit(op.new_name)
        when = (
            "usable once its transaction commits"
            if ctx.pg_version >= 12
            else "outside a transaction block: PostgreSQL before 12 refuses ADD VALUE inside one"
        )
        yield self.finding(
            stmt,
            f"Renaming value {o} of enum {e} to {n}: the app version still running writes "
            f'and filters on {o} and fails with invalid input value for enum {e}: "{old}" '
            "until every instance is replaced.",
            "Rename the value in steps:\n"
            f"1. Add the new value ({when}):\n"
            + paste(ctx, f"ALTER TYPE {e} ADD VALUE IF NOT EXISTS {n};")
            + f"\n2. Ship app code that writes {n} and reads both values, then move the rows:\n"
            + paste(ctx, f"UPDATE <table> SET <column> = {n} WHERE <column> = {o};")
            + f"\n3. Leave {o} unused, or remove it in a later deploy with an enum swap (see "
            "remove-enum-value).",
            op,
        )
