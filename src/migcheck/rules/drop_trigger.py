"""drop-trigger: DROP TRIGGER removes behaviour the running app may rely on, under a brief
ACCESS EXCLUSIVE lock."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste, same_transaction

_CREATE_TRIGGER = frozenset({"create_trigger"})


class DropTrigger(Rule):
    id = "drop-trigger"
    category = "compatibility"
    # Like DROP INDEX, the drop is instant; what it removes is for a reviewer to judge.
    severity = "info"
    summary = "DROP TRIGGER removes behaviour the running app may rely on (ACCESS EXCLUSIVE)"
    kinds = frozenset({"drop_trigger"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.table is not None and ctx.is_new_table(op.table):
            return
        # DROP TRIGGER t ...; CREATE TRIGGER t ... in one transaction replaces it: no write
        # goes without it.
        if ctx.recreated_in_transaction(op.table, _CREATE_TRIGGER):
            return
        t = qname(op.table) if op.table else "its table"
        name = qname(op.name) if op.name else "the trigger"
        yield self.finding(
            stmt,
            f"DROP TRIGGER {name} on {t}: writes by the app version still running no longer "
            "fire it (audit rows, updated_at stamps, denormalised counters stop being "
            f"maintained), and the drop takes an ACCESS EXCLUSIVE lock on {t}, which waits "
            "behind running queries and blocks every query that arrives meanwhile.",
            "Make sure nothing the running app relies on depends on the trigger (move the "
            "behaviour into the app first, and drop the trigger in a later deploy), and set "
            "a lock_timeout so the lock cannot queue traffic:\n"
            + paste(
                ctx,
                "SET lock_timeout = '2s';",
                f"DROP TRIGGER {ident(op.name) if op.name else '<trigger>'} ON "
                f"{qname(op.table) if op.table else '<table>'};",
            )
            + f"\nTo change a trigger instead, drop and create it {same_transaction(ctx)}.",
            op,
        )
