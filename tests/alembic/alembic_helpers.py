"""Helpers for the Alembic source tests: write small projects, find lines, load them."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from migcheck.sources import History, Migration, SqlChunk
from migcheck.sources.alembic import load_alembic

HEADER = '''"""{message}

Revision ID: {rev}
Revises: {revises}
Create Date: 2024-05-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa
{imports}

# revision identifiers, used by Alembic.
revision = {rev!r}
down_revision = {down!r}
branch_labels = {labels!r}
depends_on = {depends!r}
{extra}

def upgrade():
{body}


def downgrade():
{downgrade}
'''


class Tree:
    """Writes an Alembic project: ``alembic.ini``, ``migrations/env.py``, revisions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.script = root / "migrations"
        self.versions = self.script / "versions"
        self.versions.mkdir(parents=True)
        (root / "alembic.ini").write_text(
            "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\n"
        )
        self.env()

    def env(self, configure: str = "connection=connection, target_metadata=None") -> Path:
        path = self.script / "env.py"
        path.write_text(
            "from alembic import context\n\n\n"
            "def run_migrations_online():\n"
            "    connection = None\n"
            f"    context.configure({configure})\n"
        )
        return path

    def revision(
        self,
        rev: str,
        down: str | tuple[str, ...] | None = None,
        body: str = "pass",
        *,
        imports: str = "",
        extra: str = "",
        downgrade: str = "pass",
        labels: object = None,
        depends: object = None,
        filename: str | None = None,
    ) -> Path:
        revises = ", ".join(down) if isinstance(down, tuple) else (down or "")
        text = HEADER.format(
            message=f"revision {rev}",
            rev=rev,
            revises=revises,
            down=down,
            labels=labels,
            depends=depends,
            imports=imports,
            extra=textwrap.dedent(extra),
            body=textwrap.indent(textwrap.dedent(body).strip("\n"), "    "),
            downgrade=textwrap.indent(textwrap.dedent(downgrade).strip("\n"), "    "),
        )
        path = self.versions / (filename or f"{rev}_revision.py")
        path.write_text(text)
        return path


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(path.read_text().split("\n"), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in {path}")


def column_of(path: Path, needle: str) -> int:
    """1-based column where ``needle`` starts on its line."""
    line = path.read_text().split("\n")[line_of(path, needle) - 1]
    return line.index(needle) + 1


def load_one(path: Path | str, **kwargs: Any) -> History:
    """Load a project that must have no input errors; return its only history."""
    histories, errors, _ = load_alembic(str(path), **kwargs)
    assert errors == []
    assert len(histories) == 1
    return histories[0]


def migration(history: History, key: str) -> Migration:
    return next(m for m in history.migrations if m.key == key)


def chunks(history: History, key: str) -> list[SqlChunk]:
    found = migration(history, key).chunks
    assert found is not None
    return found


def sqls(history: History, key: str) -> list[str]:
    return [c.sql for c in chunks(history, key)]


def alembic_rendering(rev: Any, functions: list[str]) -> Any:
    """``rev`` rendered the way it was before the plain-revision renderer: evaluated, with
    Alembic's real ``Operations`` in a fresh context (Alembic remembers the enum types a
    context created, and each revision is rendered as if it were the first)."""
    from migcheck.sources.alembic.recorder import Recorder
    from migcheck.sources.alembic.render import render_static

    return render_static(rev, functions, Recorder())


def assert_same_rendering(rev: Any, functions: list[str], pure: Any) -> None:
    """The plain-revision renderer's result must be exactly Alembic's: same SQL text,
    positions, autocommit flags, notes and column facts."""
    expected = alembic_rendering(rev, functions)
    assert pure.chunks == expected.chunks, rev.display
    assert pure.notes == expected.notes, rev.display
    assert pure.facts == expected.facts, rev.display
