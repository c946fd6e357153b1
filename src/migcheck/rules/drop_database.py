"""drop-database: DROP DATABASE in a migration destroys a whole database."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import suppression, word


class DropDatabase(Rule):
    id = "drop-database"
    category = "data"
    severity = "error"
    summary = "DROP DATABASE in a migration destroys a whole database and every row in it"
    kinds = frozenset({"drop_database"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        db = quote(op.name) if op.name else "the database"
        dump_name = shlex.quote(op.name) if op.name else "<database>"
        force = (
            "WITH (FORCE) also disconnects every session using it"
            if "FORCE" in (stmt.text.upper())
            else "it fails while any session is connected to it"
        )
        yield self.finding(
            stmt,
            f"DROP DATABASE {db} removes the whole database: every table and row in it is "
            f"lost, and every app connected to it breaks; {force}. It cannot run inside a "
            "transaction block, so a runner that wraps the migration in one fails on it.",
            "Do not drop databases from the migration history. Take a backup and drop it by "
            "hand, once nothing connects to it:\n"
            # A shell line: a name with spaces or quotes must reach pg_dump as one word.
            + _by_hand(ctx, f"pg_dump --format=custom --file=backup.dump {dump_name}", db)
            + f"\nIf this really belongs in a {word(ctx)}, silence the finding with a "
            f"`{suppression(ctx, self.id)}` comment on the line before it.",
            op,
        )


def _by_hand(ctx: Context, dump: str, db: str) -> str:
    """The shell and psql lines: code for a SQL user; for an Alembic user, whose indented
    help lines are revision code, prose (none of it belongs in ``upgrade()``)."""
    if ctx.tool == "alembic":
        return f"`{dump}`, then in psql `DROP DATABASE {db};`"
    return f"    {dump}\n    DROP DATABASE {db};"
