"""Migration sources: how files on disk become ordered histories of migrations.

A source knows file layouts (Prisma Migrate, plain SQL directories, Alembic) and nothing
about rules or config files. ``discover`` (in ``discover.py``) is the one entry point the
runner calls, for SQL layouts and Alembic projects alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SqlChunk:
    """SQL produced by a non-SQL source (an Alembic ``op.`` call), with where it came from.

    ``line``/``column`` locate the producing call in the source file (1-based). When the SQL
    is a literal string in that file and positions inside it can be mapped, ``sql_line`` and
    ``sql_column`` give where the string's first character sits, so statement positions can
    point inside the string; otherwise every statement of the chunk is reported at the call.
    """

    sql: str
    line: int
    column: int
    end_line: int
    end_column: int
    # Source lines whose ``migcheck: ignore`` comments apply to this chunk (the call's own
    # lines and the line above it).
    comment_lines: tuple[int, ...] = ()
    sql_line: int | None = None
    sql_column: int | None = None
    # True when the call runs inside ``op.get_context().autocommit_block()``.
    autocommit: bool = False
    # A short description of the call, e.g. ``op.add_column`` (for messages).
    origin: str = ""


@dataclass
class Migration:
    """One migration file (or Alembic revision) in the order its tool applies it.

    ``text`` is filled lazily by the loader; ``None`` until read, and stays ``None`` when
    reading failed (the failure is reported as an ``InputError``).
    """

    path: str  # as shown to the user (relative to the working directory where possible)
    key: str  # the sort key / identifier the tool uses (timestamp, version, revision id)
    tool: str  # "prisma" | "golang-migrate" | "flyway" | "dbmate" | "sql" | "alembic" | "stdin"
    # True when the runner wraps the whole file in one transaction (or PostgreSQL runs a
    # multi-statement script as one implicit transaction).
    runner_transaction: bool = False
    # True when this migration was named by the user as part of the changeset to judge
    # (as opposed to an earlier migration replayed only to build the schema).
    selected: bool = True
    text: str | None = None
    # Set instead of ``text`` by sources that render SQL from another language (Alembic).
    chunks: list[SqlChunk] | None = None
    # Free-form notes from the source, e.g. the Prisma behaviour assumed.
    notes: dict[str, object] = field(default_factory=dict)


@dataclass
class History:
    """An ordered sequence of migrations that build one database schema."""

    root: str
    tool: str
    migrations: list[Migration] = field(default_factory=list)
    settings: dict[str, object] = field(default_factory=dict)
    # What the source found about the history's shape (Alembic's heads, bases, merges):
    # shown to tools, never read by a rule, so kept out of ``settings``, which the result
    # cache keys on (a new head must not invalidate every revision before it).
    shape: dict[str, object] = field(default_factory=dict)
