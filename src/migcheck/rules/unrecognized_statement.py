"""unrecognized-statement: a statement migcheck could not understand is said, not skipped."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class UnrecognizedStatement(Rule):
    id = "unrecognized-statement"
    category = "meta"
    severity = "info"
    summary = "A statement migcheck could not parse or understand, so no rule checked it"

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if stmt.unrecognized:
            yield self.finding(
                stmt,
                f"not checked: {stmt.unrecognized}",
                "Review this statement by hand. If it is valid PostgreSQL, please report it "
                "so migcheck can learn it.",
            )
