"""How each migration runner wraps a file in a transaction, and how we say so.

Runners differ, and the difference decides whether ``CREATE INDEX CONCURRENTLY`` works:

* Flyway, dbmate (by default) and Alembic open a transaction around each migration.
* Prisma Migrate (before 7.4) and golang-migrate send a multi-statement file as one
  query string; PostgreSQL runs such a string as one implicit transaction block, so
  ``CONCURRENTLY`` fails unless it is the file's only statement.
* Prisma 7.4 reportedly runs a migration containing ``CONCURRENTLY`` outside a
  transaction (prisma-engines PR 5767, merged February 2026). The release notes could
  not be checked from here, so the version is configurable and every finding that
  depends on it says which behaviour was assumed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migcheck.model import Statement
from migcheck.sources import History, Migration

if TYPE_CHECKING:
    from migcheck.engine import Options

PRISMA_CONCURRENTLY_SINCE = (7, 4)


def runner_transaction(
    history: History, migration: Migration, statements: list[Statement], options: Options
) -> tuple[str | None, str]:
    """("runner" | "implicit" | None, a sentence describing the assumption)."""
    if options.assume_in_transaction:
        return "runner", "the runner wraps each file in a transaction (--assume-in-transaction)"
    tool = history.tool
    if migration.runner_transaction:
        names = {"flyway": "Flyway", "dbmate": "dbmate", "alembic": "Alembic"}
        return "runner", f"{names.get(tool, 'the runner')} runs each migration inside a transaction"
    if not migration.notes.get("implicit_transaction"):
        return None, ""
    real = [s for s in statements if s.ops and s.ops[0].kind not in ("begin", "commit")]
    if len(real) <= 1:
        return None, "a single-statement file runs outside any transaction"
    if tool == "prisma":
        version = options.prisma_version or _version(history.settings.get("prisma_version"))
        if version is not None and version >= PRISMA_CONCURRENTLY_SINCE:
            return None, (
                f"Prisma {version[0]}.{version[1]} runs migrations that use CONCURRENTLY "
                "outside a transaction"
            )
        which = (
            f"Prisma {version[0]}.{version[1]}"
            if version is not None
            else "Prisma (version unknown, assumed older than 7.4)"
        )
        return "implicit", (
            f"{which} sends migration.sql as one script, which PostgreSQL runs as one "
            "implicit transaction"
        )
    runner = {"golang-migrate": "golang-migrate"}.get(history.tool, "the runner")
    return "implicit", (
        f"{runner} sends the file as one multi-statement query, which PostgreSQL runs "
        "as one implicit transaction"
    )


def _version(value: object) -> tuple[int, int] | None:
    if isinstance(value, (tuple, list)) and len(value) >= 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
    return None
