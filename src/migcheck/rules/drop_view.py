"""drop-view: dropping a view or materialized view the running app still queries."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import one_transaction, paste, same_transaction

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
        materialized = bool(op.options.get("materialized")) or (
            info is not None and info.kind == "matview"
        )
        what = "materialized view" if materialized else "view"
        v = qname(op.table)
        gone = _columns_gone(op, ctx)
        # DROP VIEW v; CREATE VIEW v AS ... in one transaction is how a view's columns are
        # changed (CREATE OR REPLACE cannot drop or retype them): nobody sees it missing.
        if ctx.recreated_in_transaction(op.table, _CREATE_VIEW):
            if gone:
                yield self.finding(stmt, *_without_columns(op, what, gone), op)
            return
        cascade = (
            ", and CASCADE also drops the views built on it" if op.options.get("cascade") else ""
        )
        create = "CREATE MATERIALIZED VIEW" if materialized else "CREATE VIEW"
        comes_back = (
            f"; when it comes back it lacks {_listing(gone)}, which the app still selects"
            if gone
            else ""
        )
        yield self.finding(
            stmt,
            f"Dropping {what} {v}: the app version still running queries it and fails with "
            f'relation "{op.table}" does not exist until every instance is replaced'
            f"{cascade}{comes_back}.",
            "Drop it in two deploys: first ship app code that no longer queries "
            f"{v}, then drop it in a later deploy:\n"
            + paste(ctx, f"DROP {what.upper()} {v};")
            + f"\nTo change its definition instead, recreate it {same_transaction(ctx)} so "
            "no query sees it missing:\n"
            + one_transaction(ctx, f"DROP {what.upper()} {v};", f"{create} {v} AS SELECT ...;"),
            op,
        )


def _columns_gone(op: Op, ctx: Context) -> list[str]:
    """Columns of the view (as the history defined it) that the next CREATE of the same
    name in this migration leaves out; empty when either column list is unknown."""
    info = ctx.table(op.table)
    old = info.view_columns if info is not None else None
    if old is None:
        return []
    for later in ctx.ops_after():
        if later.kind == "create_view" and later.table == op.table:
            if not later.options.get("columns_known"):
                return []
            return [c for c in old if c not in later.names]
    return []


def _listing(columns: list[str]) -> str:
    noun = "column" if len(columns) == 1 else "columns"
    return f"{noun} " + ", ".join(quote(c) for c in columns)


def _without_columns(op: Op, what: str, gone: list[str]) -> tuple[str, str]:
    v = qname(op.table)
    first = gone[0]
    message = (
        f"{what.capitalize()} {v} is dropped and created again without {_listing(gone)}: the "
        f"app version still running selects {'them' if len(gone) > 1 else 'it'} and fails "
        f'with column "{first}" does not exist until every instance is replaced.'
    )
    help_ = (
        "Keep the column in the new definition for this deploy (its old expression, or a "
        f"placeholder of its old type such as NULL::text AS {ident(first)}, keeps the old "
        "queries working), ship app code that no longer selects it, and drop it from the "
        "view in a later deploy."
    )
    return message, help_
