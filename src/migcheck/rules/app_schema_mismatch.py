"""app-schema-mismatch: the app's schema at HEAD and what the migrations build disagree."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class AppSchemaMismatch(Rule):
    id = "app-schema-mismatch"
    category = "compatibility"
    severity = "error"
    summary = (
        "the app's schema (schema.prisma, SQLAlchemy models) maps what the migrations "
        "drop, never create, or make differently"
    )
    # Reported by migcheck.appschema.drift once every migration is replayed, and only
    # when an app schema is known: no single statement shows it.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
