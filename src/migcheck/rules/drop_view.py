"""drop-view: dropping a view or materialized view the running app still queries."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule

_CREATE_VIEW = frozenset({"create_view"})


class DropView(Rule):
    id = "drop-view"
    category = "compatibility"
    severity = "warning"
    summary = "Dropping a view breaks the app version still running that queries it"
    kinds = frozenset({"drop_view"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        info = ctx.table(op.table)
        if info is not None and info.kind == "table":
            return  # DROP VIEW on a table fails in Postgres; nothing is dropped
        if ctx.is_new_table(op.table):
            return
        # DROP VIEW v; CREATE VIEW v AS ... in one transaction is how a view's columns are
        # changed (CREATE OR REPLACE cannot drop or retype them): nobody sees it missing.
        if ctx.recreated_in_transaction(op.table, _CREATE_VIEW):
            return
        materialized = bool(op.options.get("materialized")) or (
            info is not None and info.kind == "matview"
        )
        what = "materialized view" if materialized else "view"
        v = qname(op.table)
        cascade = (
            ", and CASCADE also drops the views built on it" if op.options.get("cascade") else ""
        )
        create = "CREATE MATERIALIZED VIEW" if materialized else "CREATE VIEW"
        yield self.finding(
            stmt,
            f"Dropping {what} {v}: the app version still running queries it and fails with "
            f'relation "{op.table}" does not exist until every instance is replaced'
            f"{cascade}.",
            "Drop it in two deploys: first ship app code that no longer queries "
            f"{v}, then drop it in a later deploy:\n"
            f"    DROP {what.upper()} {v};\n"
            "To change its definition instead, recreate it in the same transaction so no "
            "query sees it missing:\n"
            "    BEGIN;\n"
            f"    DROP {what.upper()} {v};\n"
            f"    {create} {v} AS SELECT ...;\n"
            "    COMMIT;",
            op,
        )
