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
    # SET SCHEMA moves the table: its old qualified name is gone just the same.
    kinds = frozenset({"rename_table", "set_schema"})

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
        new_name = op.new_name
        if op.kind == "set_schema":
            if not op.table or not op.new_name:
                return
            new_name = f"{op.new_name}.{op.table.rsplit('.', 1)[-1]}"
        old, new = qname(op.table), qname(new_name)
        keep = (
            f"With Prisma, rename only the model and keep the table: "
            f'`@@map("{op.table}")` needs no migration at all.\n'
            if ctx.is_prisma
            else ""
        )
        yield self.finding(
            stmt,
            f"{'Moving' if op.kind == 'set_schema' else 'Renaming'} table {old} to {new}: "
            f"the app version still running queries {old} "
            f'and fails with relation "{op.table}" does not exist until every instance is '
            "replaced.",
            f"{keep}"
            f"{'Move' if op.kind == 'set_schema' else 'Rename'} it and leave a view under the "
            "old name in the same transaction; a simple view is updatable, so the old app's "
            "reads and writes keep working:\n"
            "    BEGIN;\n"
            f"    {_statement(op, old, new)}\n"
            f"    CREATE VIEW {old} AS SELECT * FROM {new};\n"
            "    COMMIT;\n"
            f"Then ship app code that uses {new}, and drop the view in a later deploy:\n"
            f"    DROP VIEW {old};",
            op,
        )


def _statement(op: Op, old: str, new: str) -> str:
    """The statement itself, as the safe sequence repeats it."""
    if op.kind == "set_schema":
        return f"ALTER TABLE {old} SET SCHEMA {qname(op.new_name)};"
    return f"ALTER TABLE {old} RENAME TO {new};"
