"""suppression-without-reason: a ``migcheck: ignore`` comment that does not say why."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class SuppressionWithoutReason(Rule):
    id = "suppression-without-reason"
    category = "meta"
    severity = "warning"
    summary = "A `migcheck: ignore` comment that does not say why the finding is safe"
    # Reported by migcheck.suppress after the rules ran; there is no statement to check.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
