"""``check --fix`` on an Alembic revision rewrites its ``op.`` call, and migcheck's own
Alembic reader renders the fixed revision to the CONCURRENTLY statement, run outside
the revision's transaction."""

from __future__ import annotations

import textwrap
from pathlib import Path

from tests.test_fix_cli import git, migcheck, write

from migcheck.sources.alembic import load_alembic
from migcheck.statements import parse

R1 = (
    'revision = "r1"\ndown_revision = None\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n'
    "def upgrade():\n"
    '    op.create_table("users", sa.Column("id", sa.Integer), sa.Column("email", sa.Text))\n'
)
HEAD = (
    'revision = "r2"\ndown_revision = "r1"\nfrom alembic import op\nimport sqlalchemy as sa\n\n\n'
)


def project(tmp_path: Path, body: str) -> Path:
    repo = tmp_path / "repo"
    write(repo / "alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    write(repo / "migrations" / "env.py", "from alembic import context\n")
    write(repo / "migrations" / "versions" / "r1.py", R1)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    write(repo / "migrations" / "versions" / "r2.py", HEAD + textwrap.dedent(body))
    return repo


def rendered(repo: Path) -> list[tuple[str, bool]]:
    """The newest revision's statements as migcheck renders them: (SQL, autocommit)."""
    histories, errors, _ = load_alembic(str(repo))
    assert errors == []
    (history,) = histories
    newest = history.migrations[-1]
    return [(s.text, s.autocommit) for s in parse(newest).statements]


def test_create_and_drop_index_calls_get_concurrently_in_an_autocommit_block(
    tmp_path: Path,
) -> None:
    repo = project(
        tmp_path,
        """\
        def upgrade():
            op.create_index(
                "ix_users_email",
                "users",
                ["email"],
                unique=False,
            )
            op.execute("DROP INDEX old_idx")  # a comment stays
            op.add_column("users", sa.Column("name", sa.Text))
        """,
    )
    proc = migcheck("check", ".", "--fix", "--format", "concise", cwd=repo)
    revision = (repo / "migrations" / "versions" / "r2.py").read_text()
    assert revision == HEAD + textwrap.dedent(
        """\
        def upgrade():
            with op.get_context().autocommit_block():
                op.create_index(
                    "ix_users_email",
                    "users",
                    ["email"],
                    unique=False, postgresql_concurrently=True,
                )
            with op.get_context().autocommit_block():
                op.execute("DROP INDEX CONCURRENTLY old_idx")  # a comment stays
            op.add_column("users", sa.Column("name", sa.Text))
        """
    )
    assert rendered(repo) == [
        ("CREATE INDEX CONCURRENTLY ix_users_email ON users (email)", True),
        ("DROP INDEX CONCURRENTLY old_idx", True),
        ("ALTER TABLE users ADD COLUMN name TEXT", False),
    ]
    assert "non-concurrent" not in proc.stdout
    # A second --fix finds nothing to change.
    again = migcheck("check", ".", "--fix", cwd=repo)
    assert (repo / "migrations" / "versions" / "r2.py").read_text() == revision
    assert "fixed" not in again.stderr


def test_a_call_already_in_an_autocommit_block_only_gains_the_flag(tmp_path: Path) -> None:
    repo = project(
        tmp_path,
        """\
        def upgrade():
            with op.get_context().autocommit_block():
                op.create_index("ix_users_email", "users", ["email"])
        """,
    )
    migcheck("check", ".", "--fix", cwd=repo)
    assert (
        (repo / "migrations" / "versions" / "r2.py")
        .read_text()
        .endswith(
            "    with op.get_context().autocommit_block():\n"
            '        op.create_index("ix_users_email", "users", ["email"], '
            "postgresql_concurrently=True)\n"
        )
    )


def test_calls_whose_shape_is_not_sure_get_no_fix(tmp_path: Path) -> None:
    body = """\
    def upgrade():
        op.execute(f"CREATE INDEX ix_{'users'}_email ON users (email)")
        op.execute(\"\"\"
            CREATE INDEX ix_users_name ON users (email)
        \"\"\")
        op.create_index("ix_a", "users", ["email"], **{"unique": False})
        x = 1; op.create_index("ix_b", "users", ["email"])
    """
    repo = project(tmp_path, body)
    before = (repo / "migrations" / "versions" / "r2.py").read_text()
    shown = migcheck("check", ".", "--show-fixes", cwd=repo)
    assert shown.stdout.count("non-concurrent-index") >= 3  # the findings are there
    assert "+++" not in shown.stdout  # but no diff
    migcheck("check", ".", "--fix", cwd=repo)
    assert (repo / "migrations" / "versions" / "r2.py").read_text() == before
