"""unused-suppression: a ``migcheck: ignore`` comment that suppresses nothing."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class UnusedSuppression(Rule):
    id = "unused-suppression"
    category = "meta"
    severity = "warning"
    summary = (
        "A `migcheck: ignore` comment that suppresses nothing: no such finding, an unknown "
        "rule id, malformed, or attached to no statement"
    )
    # Reported by migcheck.suppress after the rules ran; there is no statement to check.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
