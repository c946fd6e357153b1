"""delete-without-where: DELETE without WHERE on a table holding the running app's data."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._locking import existing
from migcheck.rules._opcalls import paste, suppression


class DeleteWithoutWhere(Rule):
    id = "delete-without-where"
    category = "data"
    severity = "error"
    summary = "DELETE without WHERE in a migration deletes every row of an existing table"
    kinds = frozenset({"delete"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.has_where or not op.table:
            return
        if ctx.is_new_table(op.table):
            return  # a table created in this deploy holds no production data yet
        t = qname(op.table)
        yield self.finding(
            stmt,
            f"DELETE {_without(op)} removes every row of {t}: the data is lost, and the "
            "app version still running no longer finds rows it just read or wrote.",
            "Say which rows to delete, and on a large table delete in batches to keep "
            "locks and WAL short:\n"
            + paste(ctx, f"DELETE FROM {t} WHERE <condition> AND <batch range>;")
            + "\nIf emptying the table is really intended, back it up first and silence this "
            f"finding with a `{suppression(ctx, self.id)}` comment on the line before it.",
            op,
        )

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        # Only a real table has rows to delete one by one (a view's DELETE goes to its rules
        # or triggers), so ``existing``, not ``is_new_table``, decides here.
        if op.has_where or not existing(ctx, op.table):
            return None
        return f"deletes every row of {qname(op.table)}"


def _without(op: Op) -> str:
    """How the statement fails to filter: no WHERE, or one that holds for every row."""
    return "with a WHERE that is always true" if op.options.get("always_true") else "without WHERE"
