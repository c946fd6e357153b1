"""rename-table: renaming a table the running app still queries by its old name."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule

_CREATE_VIEW = frozenset({"create_view"})


class RenameTable(Rule):
    id = "rename-table"
    category = "compatibility"
    severity = "error"
    summary = "Renaming a table breaks the app version still running that uses the old name"
    kinds = frozenset({"rename_table"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        info = ctx.table(op.table)
        if info is not None and info.kind != "table":
            return  # ALTER TABLE v RENAME TO w on a view: rename-view's finding
        if ctx.is_new_table(op.table):
            return
        # Renaming and leaving a view under the old name, in the same transaction, is the
        # safe form: the old app's queries go through the (auto-updatable) view.
        if ctx.recreated_in_transaction(op.table, _CREATE_VIEW):
            return
        old, new = qname(op.table), qname(op.new_name)
        keep = (
            f"With Prisma, rename only the model and keep the table: "
            f'`@@map("{op.table}")` needs no migration at all.\n'
            if ctx.is_prisma
            else ""
        )
        yield self.finding(
            stmt,
            f"Renaming table {old} to {new}: the app version still running queries {old} "
            f'and fails with relation "{op.table}" does not exist until every instance is '
            "replaced.",
            f"{keep}"
            "Rename it and leave a view under the old name in the same transaction; a "
            "simple view is updatable, so the old app's reads and writes keep working:\n"
            "    BEGIN;\n"
            f"    ALTER TABLE {old} RENAME TO {new};\n"
            f"    CREATE VIEW {old} AS SELECT * FROM {new};\n"
            "    COMMIT;\n"
            f"Then ship app code that uses {new}, and drop the view in a later deploy:\n"
            f"    DROP VIEW {old};",
            op,
        )
