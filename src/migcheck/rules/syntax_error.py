"""syntax-error: the file cannot be split into statements past this point."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class SyntaxError_(Rule):
    id = "syntax-error"
    category = "meta"
    severity = "error"
    summary = "Unterminated quote, dollar-quote or comment: PostgreSQL would reject the file"
    # Reported by the splitter (statements.py); there is no statement to check.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
