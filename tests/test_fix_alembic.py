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


def project(tmp_path: Path, body: str, env: str = "from alembic import context\n") -> Path:
    repo = tmp_path / "repo"
    write(repo / "alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    write(repo / "migrations" / "env.py", env)
    write(repo / "migrations" / "versions" / "r1.py", R1)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    write(repo / "migrations" / "versions" / "r2.py", HEAD + textwrap.dedent(body))
    return repo


def rendered(repo: Path, *, real: bool = False) -> list[tuple[str, bool]]:
    """The newest revision's statements as migcheck renders them: (SQL, autocommit);
    ``real``: imported and run by Alembic itself (``--alembic-import``)."""
    histories, errors, _ = load_alembic(str(repo), import_revisions=real)
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


SPLIT = """\
def upgrade():
    op.create_foreign_key("fk_users_org", "users", "orgs", ["org_id"], ["id"])  # why
    op.create_check_constraint(op.f("Ck_Pos"), "users", "id > 0")
"""


def test_a_constraint_is_added_not_valid_and_validated_in_an_autocommit_block(
    tmp_path: Path,
) -> None:
    env = "from alembic import context\ntarget_metadata = None\n"
    repo = project(tmp_path, SPLIT, env)
    write(
        repo / "migrations" / "versions" / "r1.py",
        R1 + '    op.create_table("orgs", sa.Column("id", sa.Integer, primary_key=True))\n',
    )
    git(repo, "commit", "-qam", "orgs")
    proc = migcheck("check", ".", "--fix", "--format", "concise", cwd=repo)
    assert proc.returncode == 0, proc.stdout
    expected = [
        (
            "ALTER TABLE users ADD CONSTRAINT fk_users_org FOREIGN KEY(org_id) "
            "REFERENCES orgs (id) NOT VALID",
            False,
        ),
        ("ALTER TABLE users VALIDATE CONSTRAINT fk_users_org", True),
        ('ALTER TABLE users ADD CONSTRAINT "Ck_Pos" CHECK (id > 0) NOT VALID', False),
        ('ALTER TABLE users VALIDATE CONSTRAINT "Ck_Pos"', True),
    ]
    assert rendered(repo) == expected
    assert rendered(repo, real=True) == expected


def test_without_a_known_naming_convention_only_an_op_f_name_is_validated(
    tmp_path: Path,
) -> None:
    """env.py may give target_metadata a convention (ck_%(table_name)s_%(constraint_name)s)
    that renames the constraint: only op.f() names are final then."""
    repo = project(tmp_path, SPLIT)
    out = migcheck("check", ".", "--show-fixes", cwd=repo).stdout
    added = [line for line in out.splitlines() if line.startswith("+")]
    assert "+        op.execute('ALTER TABLE users VALIDATE CONSTRAINT \"Ck_Pos\"')" in added
    assert not [line for line in added if "fk_users_org" in line]
