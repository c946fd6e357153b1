"""alembic-not-evaluated: an Alembic call migcheck could not evaluate without running it."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class AlembicNotEvaluated(Rule):
    id = "alembic-not-evaluated"
    category = "meta"
    severity = "info"
    summary = "An Alembic revision line migcheck read only partly (unknown names, dynamic values)"
    # Reported by the Alembic source while rendering; there is no statement to check.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
