"""replace-view-columns: CREATE OR REPLACE VIEW that drops, renames or reorders one of the
view's columns fails.

PostgreSQL (checkViewColumns, measured on 16 and 18) lets the new query only append
columns: fewer columns fail with "cannot drop columns from view", a different name at a
position with "cannot change name of view column". Both lists are known only when the
views' SELECT lists name their columns (``sql/views.py``); otherwise the rule is quiet.
A changed type fails too ("cannot change data type of view column"), but migcheck does
not know the types of a query's columns.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import one_transaction, same_transaction


class ReplaceViewColumns(Rule):
    id = "replace-view-columns"
    category = "compatibility"
    severity = "error"
    summary = "CREATE OR REPLACE VIEW cannot drop, rename or reorder columns: the migration fails"
    kinds = frozenset({"create_view"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        info = ctx.table(op.table)
        if not op.options.get("replace") or info is None or info.kind != "view":
            return
        old, new = info.view_columns, op.names
        if old is None or not op.options.get("columns_known"):
            return
        v = qname(op.table)
        if len(new) < len(old):
            # Names are unique in a view, so a shorter list always leaves some out.
            gone = [c for c in old if c not in new]
            error = "cannot drop columns from view"
            what = f"the new query has {len(new)} columns, the view has {len(old)}"
            names = ", ".join(quote(c) for c in gone)
            what += f" ({names} would go)"
        else:
            pos = next((i for i, c in enumerate(old) if new[i] != c), None)
            if pos is None:
                return
            error = f'cannot change name of view column "{old[pos]}" to "{new[pos]}"'
            what = (
                f"column {pos + 1} of the view is {quote(old[pos])}, the new query names it "
                f"{quote(new[pos])}"
            )
        yield self.finding(
            stmt,
            f"CREATE OR REPLACE VIEW {v} fails with {error}: {what}. A replacement may only "
            "add columns at the end, keeping every existing column's name, position and type.",
            "Keep the existing columns first, in their order, and add new ones after them. "
            "To drop, rename or reorder a column, drop the view and create it again "
            f"{same_transaction(ctx)}, after the app version still running has stopped "
            "selecting the column:\n"
            + one_transaction(
                ctx,
                f"DROP VIEW {ident(op.table)};",
                f"CREATE VIEW {ident(op.table)} AS SELECT ...;",
            ),
            op,
        )
