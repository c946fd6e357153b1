"""contract-in-same-deploy: an object added by one migration of a deploy is contracted
(dropped, renamed, made NOT NULL, retyped) by another migration of the same deploy."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import pgcatalog
from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.schema import Origin

_ACTION = {
    "drop_column": "drops",
    "rename_column": "renames",
    "set_not_null": "sets NOT NULL on",
    "alter_column_type": "changes the type of",
    "drop_table": "drops",
    "rename_table": "renames",
}


class ContractInSameDeploy(Rule):
    id = "contract-in-same-deploy"
    category = "compatibility"
    severity = "error"
    summary = "An object added in this deploy is dropped, renamed or tightened by another of its migrations"
    kinds = frozenset(_ACTION)

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.kind in ("drop_table", "rename_table"):
            info = ctx.table(op.table)
            # Views are routinely dropped and re-created; only tables hold app data.
            if info is None or info.kind != "table":
                return
            origin = info.origin
            thing = f"table {qname(op.table)}"
        else:
            col = ctx.column(op.table, op.column)
            if col is None:
                return
            origin = col.origin
            thing = f"column {qcol(op.table, op.column)}"
            if op.kind == "alter_column_type" and op.type is not None:
                change = pgcatalog.analyse_type_change(
                    col.type, op.type, ctx.pg_version, op.using, op.column
                )
                # A widening (varchar(50) -> varchar(100), int -> bigint) keeps the
                # earlier migration's app working: it is not a contract.
                if change.widening:
                    return
            if op.kind == "set_not_null" and (
                col.not_null or (col.default is not None and not col.default.is_null)
            ):
                # Already NOT NULL, or the earlier app's INSERTs that omit it get the default.
                return
        if not self._other_migration_of_deploy(origin, ctx):
            return
        assert origin is not None
        earlier = ctx.history.migrations[origin.migration]
        yield self.finding(
            stmt,
            f"This migration {_ACTION[op.kind]} {thing}, which {earlier.path} adds in the "
            f"same deploy: the change is only safe because both ship together, and wherever "
            f"{earlier.path} runs first (a staging or preview environment, another region, "
            f"a split or rolled-back release) the app version written for it "
            f"{_breaks(op)}.",
            f"Ship the contract step in a later deploy, once no running app version needs "
            f"the old shape: move this statement to a new migration in the next release "
            f"(expand in one deploy, contract in the next). If {earlier.path} has never "
            f"been deployed anywhere, fold the two into one migration instead, so the "
            f"object is created in its final form.",
            op,
        )

    @staticmethod
    def _other_migration_of_deploy(origin: Origin | None, ctx: Context) -> bool:
        return (
            origin is not None
            and origin.deploy == ctx.deploy
            and origin.migration != ctx.migration_index
        )


def _breaks(op: Op) -> str:
    if op.kind == "set_not_null":
        return f"fails on every INSERT that leaves {quote(op.column)} out"
    if op.kind == "alter_column_type":
        return f"reads and writes {quote(op.column)} with the old type and fails or misreads it"
    if op.kind in ("drop_column", "rename_column"):
        return f"fails on every query that names {quote(op.column)}"
    return f"fails on every query of {qname(op.table)}"
