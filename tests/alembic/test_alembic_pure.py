"""The plain-revision renderer (``purerender``) against Alembic itself.

A revision ``purerender`` models is rendered both ways and the results must be identical
(SQL text, positions, autocommit flags, notes, column facts): a matrix of every modelled
operation and type, generated names and literals (Hypothesis), the fixture project and
the bench's revisions. The autouse fixture in ``conftest.py`` does the same for every
revision the other Alembic tests render. A revision it does not model is left to Alembic,
and a run that meets only modelled new revisions never imports Alembic or SQLAlchemy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from alembic_helpers import HEADER, alembic_rendering, assert_same_rendering
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migcheck.engine import Options, lint
from migcheck.sources.alembic import load as load_module
from migcheck.sources.alembic import load_alembic, purerender
from migcheck.sources.alembic.revfile import RevisionFile, read_revision_file

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS = ["upgrade", "downgrade"]


def revision(tmp: Path, body: str, imports: str = "", name: str = "rev.py") -> RevisionFile:
    path = tmp / name
    path.write_text(
        HEADER.format(
            message="m",
            rev="rev001",
            revises="",
            imports=imports,
            down=None,
            labels=None,
            depends=None,
            extra="",
            body=textwrap.indent(textwrap.dedent(body).strip("\n"), "    "),
            downgrade="    pass",
        )
    )
    rev, errors = read_revision_file(path)
    assert errors == [] and rev is not None
    return rev


def check_modelled(rev: RevisionFile) -> None:
    pure = purerender.render_pure(rev, FUNCTIONS)
    assert pure is not None, "not modelled"
    assert_same_rendering(rev, FUNCTIONS, pure)


PG = "from sqlalchemy.dialects import postgresql"

# Each entry: one upgrade() body the renderer must model and render like Alembic.
MATRIX = [
    # create_table: types, defaults, keys, constraints, enums, schemas
    """op.create_table(
    "accounts",
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("name", sa.String(50), nullable=False, server_default="it's"),
    sa.Column("created", sa.DateTime(timezone=True), server_default=sa.text("now()")),
    sa.Column("updated", sa.DateTime(), server_default=sa.func.now()),
    sa.Column("amount", sa.Numeric(10, 2)),
    sa.Column("ratio", sa.Numeric(precision=6)),
    sa.Column("flag", sa.Boolean, server_default=sa.false()),
    sa.Column("User", sa.Text()),
    sa.Column("order", sa.BigInteger()),
    sa.UniqueConstraint("name", name="uq_accounts_name"),
)""",
    """op.create_table(
    "events",
    sa.Column("id", sa.BigInteger(), primary_key=True),
    sa.Column("payload", postgresql.JSONB(), nullable=False),
    sa.Column("doc", sa.JSON()),
    sa.Column("uid", postgresql.UUID(as_uuid=True)),
    sa.Column("uid2", sa.Uuid()),
    sa.Column("tags", postgresql.ARRAY(sa.String(20))),
    sa.Column("grid", sa.ARRAY(sa.Integer(), dimensions=2)),
    sa.Column("at", postgresql.TIMESTAMP(timezone=True, precision=3)),
    sa.Column("ip", postgresql.INET()),
    sa.Column("body", postgresql.BYTEA()),
    sa.Column("score", sa.Float(precision=10)),
    sa.Column("d", sa.Date()),
    sa.Column("t", sa.Time(timezone=True)),
    sa.Column("iv", sa.Interval()),
    sa.Column("blob", sa.LargeBinary()),
    sa.Column("dbl", sa.Double()),
    sa.Column("code", sa.CHAR(3)),
    sa.Column("ci", postgresql.CITEXT()),
    schema="audit",
)""",
    """op.create_table(
    "small",
    sa.Column("id", sa.SmallInteger(), primary_key=True),
    sa.Column("owner_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("slug", sa.String(), unique=True),
    sa.Column("state", sa.Enum("new", "done", name="state")),
    sa.Column("kind", postgresql.ENUM("a", "b", name="kind", create_type=False)),
    sa.CheckConstraint("id > 0", name="ck_small_id"),
)""",
    """op.create_table(
    "pairs",
    sa.Column("a", sa.Integer(), nullable=False),
    sa.Column("b", sa.Integer(), nullable=False),
    sa.Column("ref", sa.Integer()),
    sa.PrimaryKeyConstraint("a", "b", name="pk_pairs"),
    sa.ForeignKeyConstraint(["ref"], ["other.id"], name="fk_ref", ondelete="SET NULL"),
)""",
    """op.create_table(
    "keyed",
    sa.Column("id", sa.Integer(), autoincrement=False),
    sa.Column("guid", sa.String(36)),
    sa.PrimaryKeyConstraint("id"),
)""",
    """op.create_table("plain", sa.Column("code", sa.String(5), primary_key=True))""",
    # add/drop/alter column
    'op.add_column("t", sa.Column("c", sa.String(), nullable=False, server_default="0"))',
    'op.add_column("t", sa.Column("c", sa.Integer(), sa.ForeignKey("o.id")))',
    'op.add_column("t", sa.Column("c", sa.Integer(), unique=True), schema="s")',
    'op.add_column("t", sa.Column("c", sa.Enum("x", "y", name="c_kind")))',
    'op.add_column("t", sa.Column("c", sa.Integer()), if_not_exists=True)',
    'op.drop_column("t", "c")',
    'op.drop_column("Users", "select", schema="Public", if_exists=True)',
    """op.alter_column(
    "t", "c", type_=sa.String(10), nullable=False, server_default="a",
    new_column_name="d", existing_type=sa.Text(), existing_nullable=True,
)""",
    'op.alter_column("t", "c", type_=sa.Integer(), postgresql_using="c::integer")',
    'op.alter_column("t", "c", server_default=None, schema="s")',
    'op.alter_column("t", "c", existing_type=sa.String(100), nullable=True)',
    'op.alter_column("t", "c", existing_type=postgresql.JSONB(), existing_nullable=False)',
    'op.alter_column("t", "c", server_default=sa.text("42"))',
    # indexes
    """op.create_index(
    "ix_t_a", "t", ["a", "B"], unique=True,
    postgresql_concurrently=True, postgresql_where=sa.text("a > 0"),
)""",
    'op.create_index("ix_t_lower", "t", [sa.text("lower(a)")], postgresql_using="gin")',
    'op.create_index(op.f("ix_t_a"), "t", ["a"], if_not_exists=True, schema="s")',
    'op.drop_index("ix_t_a", table_name="t", postgresql_concurrently=True, if_exists=True)',
    'op.drop_index(op.f("ix_t_a"), table_name="t", schema="s")',
    # constraints, tables
    """op.create_foreign_key(
    "fk_t_o", "t", "o", ["a", "b"], ["x", "y"], ondelete="CASCADE", onupdate="SET NULL",
    source_schema="s", referent_schema="r",
)""",
    'op.create_unique_constraint("uq_t_ab", "t", ["a", "b"])',
    'op.create_check_constraint("ck_t_a", "t", "a > 0")',
    'op.create_check_constraint("ck_t_b", "t", sa.text("b IS NOT NULL"), schema="s")',
    'op.drop_constraint("fk_t_o", "t", type_="foreignkey")',
    'op.drop_constraint("uq", "t", schema="s")',
    'op.rename_table("old", "new")',
    'op.drop_table("gone")',
    # raw SQL
    'op.execute("UPDATE t SET a = 1 WHERE b IS NULL")',
    'op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))',
    "op.execute(sa.text(\"SELECT 'a:b'\"))",
    "op.execute(f\"COMMENT ON TABLE {TABLE} IS 'x'\")",
    """op.execute(\"\"\"
    UPDATE t SET a = 2;
    DELETE FROM t WHERE a IS NULL;
\"\"\")""",
    'op.execute("")',
    # blocks
    """with op.get_context().autocommit_block():
    op.create_index("ix_c", "t", ["c"], postgresql_concurrently=True)
    op.execute("VACUUM t")
op.drop_column("t", "x")""",
    """with op.batch_alter_table("t", schema="s") as batch_op:
    batch_op.add_column(sa.Column("e", sa.Boolean(), nullable=True))
    batch_op.create_foreign_key("fk_t_e", "t0", ["e"], ["id"])
    batch_op.alter_column("e", nullable=False, existing_type=sa.Boolean())
    batch_op.drop_column("f")
    batch_op.create_index("ix_t_e", ["e"])
    batch_op.drop_index("ix_t_f")
    batch_op.create_unique_constraint("uq_t_e", ["e"])
    batch_op.create_check_constraint("ck_t_e", "e")
    batch_op.drop_constraint("ck_old")""",
    '"""A docstring."""\npass',
]


@pytest.mark.parametrize("body", MATRIX, ids=range(len(MATRIX)))
def test_modelled_operations_render_exactly_like_alembic(tmp_path: Path, body: str) -> None:
    rev = revision(tmp_path, body, imports=f'{PG}\n\nTABLE = "audit_log"')
    check_modelled(rev)


def test_names_and_types_imported_directly(tmp_path: Path) -> None:
    rev = revision(
        tmp_path,
        """
        op.create_table(
            "t",
            Column("id", Integer, primary_key=True),
            Column("data", JSONB),
            Column("at", types.DateTime(timezone=True)),
        )
        alembic_op.add_column("t", Column("x", String(5)))
        """,
        imports=(
            "from sqlalchemy import Column, Integer, String\n"
            "from sqlalchemy import types\n"
            "from sqlalchemy.dialects.postgresql import JSONB\n"
            "from alembic import op as alembic_op"
        ),
    )
    check_modelled(rev)


# Revisions the renderer must leave to Alembic: each uses one thing it does not model.
NOT_MODELLED = [
    'op.add_column("t", sa.Column("c", GUID()))',  # an application type
    'op.add_column("t", sa.Column("c", sa.String(5, collation="C")))',
    'op.add_column("t", sa.Column("c", sa.Integer(), comment="why"))',
    'op.add_column("t", sa.Column("c", sa.Integer(), index=True))',
    'op.create_table("t", sa.Column("id", sa.Integer(), sa.ForeignKey("o.id"), primary_key=True))',
    'op.create_table("t", *columns())',
    'op.create_primary_key("pk", "t", ["id"])',
    'op.execute(sa.text("UPDATE t SET a = :v").bindparams(v=1))',
    'op.create_check_constraint("ck", "t", sa.column("a") > 5)',
    'op.create_index("ix", "t", ["a"], postgresql_with={"fillfactor": 50})',
    'op.create_foreign_key("fk", "t", "o", ["a"], ["id"], postgresql_not_valid=True)',
    'op.create_index("i" * 64, "t", ["a"])',
    "for t in TABLES:\n    op.drop_column(t, 'c')",
    "x = 1\nop.drop_column('t', 'c')",
    "if op.get_bind().dialect.name == 'postgresql':\n    op.drop_column('t', 'c')",
    "with op.batch_alter_table('t', recreate='always') as batch_op:\n    batch_op.drop_column('c')",
    "helper()",
]


@pytest.mark.parametrize("body", NOT_MODELLED, ids=range(len(NOT_MODELLED)))
def test_anything_else_is_left_to_alembic(tmp_path: Path, body: str) -> None:
    rev = revision(
        tmp_path,
        body,
        imports=(
            "from acme.types import GUID\n\nTABLES = ['a', 'b']\n\n\n"
            "def columns():\n    return []\n\n\ndef helper():\n    op.drop_column('t', 'c')"
        ),
    )
    assert purerender.render_pure(rev, FUNCTIONS) is None
    # ... and Alembic still renders it (the near miss of the matrix above).
    assert alembic_rendering(rev, FUNCTIONS).chunks


IDENTIFIERS = st.one_of(
    st.sampled_from(["user", "order", "select", "Table", "a b", 'q"uote', "x$", "$x", "1a"]),
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
        min_size=1,
        max_size=12,
    ),
)
LITERALS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
TYPES = st.sampled_from(
    ["sa.Integer()", "sa.String(40)", "sa.Text", "sa.Boolean()", "postgresql.JSONB()",
     "sa.Numeric(12, 4)", "sa.DateTime(timezone=True)", "postgresql.UUID()",
     "sa.Enum('a', \"b'c\", name='e_kind')"]
)  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    table=IDENTIFIERS,
    column=IDENTIFIERS,
    index=IDENTIFIERS,
    type_=TYPES,
    default=LITERALS,
    nullable=st.booleans(),
)
def test_generated_names_and_literals_render_like_alembic(
    tmp_path: Path,
    table: str,
    column: str,
    index: str,
    type_: str,
    default: str,
    nullable: bool,
) -> None:
    body = f"""
    op.create_table({table!r}, sa.Column({column!r}, {type_}, primary_key=True))
    op.add_column({table!r}, sa.Column("c", sa.String(), server_default={default!r}, nullable={nullable}))
    op.alter_column({table!r}, {column!r}, server_default={default!r}, new_column_name={index!r})
    op.create_index({index!r}, {table!r}, [{column!r}, "c"])
    op.drop_constraint({index!r}, {table!r})
    """
    rev = revision(tmp_path, body, imports=PG)
    pure = purerender.render_pure(rev, FUNCTIONS)
    if pure is not None:
        assert_same_rendering(rev, FUNCTIONS, pure)


def test_the_fixture_project_renders_like_alembic() -> None:
    modelled = 0
    for path in sorted((ROOT / "fixtures" / "alembic" / "migrations" / "versions").glob("*.py")):
        rev, _ = read_revision_file(path)
        assert rev is not None
        pure = purerender.render_pure(rev, FUNCTIONS)
        if pure is not None:
            assert_same_rendering(rev, FUNCTIONS, pure)
            modelled += 1
    assert modelled >= 10


def bench_module() -> object:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_alembic
    finally:
        sys.path.remove(str(ROOT / "bench"))
    return bench_alembic


def test_the_benchs_revisions_render_like_alembic(tmp_path: Path) -> None:
    bench: object = bench_module()
    project = bench.write_history(tmp_path / "p", 12)  # type: ignore[attr-defined]
    new = bench._revision_text("new1", bench._rev_id(11), "new", bench.NEW_BODY.format(k=1))  # type: ignore[attr-defined]
    (project / "migrations" / "versions" / "new1.py").write_text(new)
    for path in sorted((project / "migrations" / "versions").glob("*.py")):
        rev, _ = read_revision_file(path)
        assert rev is not None
        pure = purerender.render_pure(rev, FUNCTIONS)
        if path.name == "new1.py":
            assert pure is not None  # the pre-commit case the bench times
        if pure is not None:
            assert_same_rendering(rev, FUNCTIONS, pure)


def test_findings_keep_their_file_line_and_column(
    tree_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def findings() -> list[tuple[str, str, int, int]]:
        histories, errors, _ = load_alembic(str(tree_root))
        assert errors == []
        result = lint(histories, Options())
        return [(f.rule, f.path, f.line, f.column) for f in result.findings]

    pure = findings()
    assert {rule for rule, *_ in pure} >= {"non-concurrent-index", "constraint-without-not-valid"}
    monkeypatch.setattr(load_module, "render_pure", lambda rev, functions: None)
    assert findings() == pure


@pytest.fixture
def tree_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MIGCHECK_NO_CACHE", "1")
    root = tmp_path / "project"
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("")
    (versions / "r1.py").write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\nrevision = 'r1'\n"
        "down_revision = None\n\n\ndef upgrade():\n"
        "    op.add_column('t', sa.Column('a', sa.Integer()))\n"
        "    op.create_index('ix_t_a', 't', ['a'])\n"
        "    op.create_foreign_key('fk', 't', 'o', ['a'], ['id'])\n"
        "    op.execute('UPDATE t SET a = 1')\n"
    )
    return root


def test_an_unsupported_sqlalchemy_switches_the_renderer_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migcheck.sources.alembic import rendercache

    rev = revision(tmp_path, 'op.drop_column("t", "c")')
    versions = {"sqlalchemy": "sqlalchemy-1.4.54.dist-info", "alembic": "alembic-1.20.1.dist-info"}
    monkeypatch.setattr(rendercache, "dist_version", versions.__getitem__)
    monkeypatch.setattr(purerender, "_supported", None)
    assert purerender.render_pure(rev, FUNCTIONS) is None
    versions["sqlalchemy"] = "sqlalchemy-2.0.36.dist-info"
    monkeypatch.setattr(purerender, "_supported", None)
    assert purerender.render_pure(rev, FUNCTIONS) is not None
    versions["alembic"] = "alembic-1.15.2.dist-info"
    monkeypatch.setattr(purerender, "_supported", None)
    assert purerender.render_pure(rev, FUNCTIONS) is None
    monkeypatch.setattr(purerender, "_supported", None)


NEW_PLAIN = 'op.add_column("t", sa.Column("n", sa.String(40)))'
NEW_OTHER = 'op.add_column("t", sa.Column("n", GUID()))'


@pytest.mark.parametrize(("body", "heavy"), [(NEW_PLAIN, False), (NEW_OTHER, True)])
def test_a_new_plain_revision_imports_neither_alembic_nor_sqlalchemy(
    tmp_path: Path, body: str, heavy: bool
) -> None:
    root = tmp_path / "project"
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("")
    head = "from alembic import op\nimport sqlalchemy as sa\nfrom acme import GUID\n\n"
    (versions / "r1.py").write_text(
        head + "revision = 'r1'\ndown_revision = None\n\n\ndef upgrade():\n"
        '    op.create_table("t", sa.Column("id", sa.Integer(), primary_key=True))\n'
    )
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("MIGCHECK_NO_CACHE", None)
    command = [sys.executable, "-X", "importtime", "-m", "migcheck", str(root)]
    subprocess.run(command, env=env, capture_output=True, check=False)  # fills the cache
    (versions / "r2.py").write_text(
        head + "revision = 'r2'\ndown_revision = 'r1'\n\n\ndef upgrade():\n    " + body + "\n"
    )
    run = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert run.returncode in (0, 1), run.stderr
    imported = {
        line.rsplit("|", 1)[-1].strip().split(".")[0]
        for line in run.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert ("alembic" in imported or "sqlalchemy" in imported) is heavy
    assert "Checked 2 files" in run.stdout
