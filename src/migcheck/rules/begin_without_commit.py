"""begin-without-commit: a BEGIN that no COMMIT ends before the file does.

The transaction is still open when the file ends. A session that then ends (psql at the
end of a file, a runner that closes its connection) rolls it back: nothing in it is
applied (verified in tests/live/test_live_transaction_facts.py). Inside a transaction the
runner already opened the BEGIN is only a warning, and ``nested-transaction`` covers a
COMMIT there; this rule is about a BEGIN that really opens a transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule

# Statement kinds that end the open transaction (COMMIT and END read as "commit").
_ENDS = frozenset({"commit", "rollback"})


def _ended_later(ctx: Context) -> bool:
    for later in ctx.later_statements():
        first = later.first_op
        if not later.embedded and first is not None and first.kind in _ENDS:
            return True
    return False


class BeginWithoutCommit(Rule):
    id = "begin-without-commit"
    category = "data"
    severity = "error"
    summary = "BEGIN with no COMMIT: the open transaction is rolled back when the session ends"
    kinds = frozenset({"begin"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        tx = ctx.transaction
        # In the runner's transaction (or a DO body) BEGIN opens nothing.
        if stmt.embedded or (tx is not None and tx.kind in ("runner", "do")):
            return
        if _ended_later(ctx):
            return
        yield self.finding(
            stmt,
            f"BEGIN at line {stmt.span.line} opens a transaction that no COMMIT in this file "
            "ends, so it is still open when the file ends. When the session then ends "
            "(psql at the end of the file, a runner closing its connection), PostgreSQL "
            "rolls it back: nothing after this BEGIN is applied, although the runner may "
            "record the migration as done. A runner that keeps using the connection "
            "commits it later instead, with its own bookkeeping, so the outcome depends on "
            "the runner.",
            "End the transaction in the same file: add COMMIT; after the last statement "
            "(or remove the BEGIN if your runner already wraps each migration in a "
            "transaction).",
            op,
        )
