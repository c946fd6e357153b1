"""rename-view: renaming a view or materialized view the running app still queries."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import one_transaction, same_transaction

_CREATE_VIEW = frozenset({"create_view"})


class RenameView(Rule):
    id = "rename-view"
    category = "compatibility"
    severity = "warning"
    summary = "Renaming a view breaks the app version still running that queries the old name"
    # ALTER TABLE also renames views; the schema model tells which relation it is.
    kinds = frozenset({"rename_view", "rename_table"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        info = ctx.table(op.table)
        if op.kind == "rename_table" and (info is None or info.kind == "table"):
            return  # a table (or unknown relation) renamed: rename-table's finding
        if ctx.is_new_table(op.table):
            return
        if ctx.recreated_in_transaction(op.table, _CREATE_VIEW):
            return
        materialized = bool(op.options.get("materialized")) or (
            info is not None and info.kind == "matview"
        )
        what = "materialized view" if materialized else "view"
        old, new = qname(op.table), qname(op.new_name)
        yield self.finding(
            stmt,
            f"Renaming {what} {old} to {new}: the app version still running queries {old} "
            f'and fails with relation "{op.table}" does not exist until every instance is '
            "replaced.",
            "Rename it and keep the old name as a view on the new one, "
            f"{same_transaction(ctx)}:\n"
            + one_transaction(
                ctx,
                f"ALTER {what.upper()} {old} RENAME TO {new};",
                # RENAME TO keeps the view in its schema: name it there, not wherever
                # search_path finds the bare new name.
                f"CREATE VIEW {old} AS SELECT * FROM {_renamed(op)};",
            )
            + f"\nThen ship app code that uses {new}, and drop {old} in a later deploy.",
            op,
        )


def _renamed(op: Op) -> str:
    """The view's new name in the schema it stays in."""
    prefix = (op.table or "").rpartition(".")[0]
    return qname(f"{prefix}.{op.new_name}" if prefix else op.new_name)
