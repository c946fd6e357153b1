"""The server's code actions: the fix engine's SQL rewrites (``migcheck.fixes``) for a
finding in an open buffer. SQL text only: an Alembic revision's statements point into
Python, and ``check --fix`` rewrites those."""

from __future__ import annotations

from migcheck.fixes.model import Fix
from migcheck.fixes.sql import LOCK_TIMEOUT, Where, in_transaction, sql_fixes
from migcheck.model import Finding, Statement

__all__ = ["LOCK_TIMEOUT", "Fix", "fixes_for"]


def fixes_for(
    finding: Finding, statements: list[Statement], text: str, tool: str, pg_version: int = 14
) -> list[Fix]:
    """The rewrites offered for ``finding`` in the buffer ``text``."""
    if tool == "alembic":
        return []
    # Most SQL runners send a file either in a transaction of its own or, when
    # it holds several statements, as one implicit transaction: a rewrite that adds a
    # statement (a VALIDATE) shares the original's transaction, as ``check --fix`` knows.
    where = Where(in_transaction(statements, False), pg_version, implicit=True)
    return sql_fixes(finding, statements, text, where)
