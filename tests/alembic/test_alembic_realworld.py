"""Patterns found linting real Alembic projects (MLflow, Airflow, Superset, Prefect, Dify,
Redash, CTFd, Netflix Dispatch, the FastAPI template), each reconstructed as a minimal
revision: how the project is found, what the static reader evaluates, and what the
rules conclude from it.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from alembic_helpers import Tree, line_of, load_one, migration, sqls

from migcheck.engine import Options, lint
from migcheck.model import Finding
from migcheck.sources.alembic import is_alembic_path, load_alembic
from migcheck.sources.alembic.notes import EXISTING_COLUMNS


def notes_of(root: Path) -> list[str]:
    _, errors, notes = load_alembic(str(root))
    assert errors == []
    return [n.message for n in notes]


def render(tree: Tree, body: str, **kwargs: str) -> list[str]:
    tree.revision("rev001", None, body, **kwargs)
    return sqls(load_one(tree.root), "rev001")


def findings(root: Path, rules: Sequence[str]) -> list[Finding]:
    histories, errors, _ = load_alembic(str(root))
    assert errors == []
    return lint(histories, Options(rules=list(rules))).findings


def revision_file(directory: Path, rev: str, down: str | None, body: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{rev}.py"
    path.write_text(
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        f"revision = {rev!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )
    return path


# --- finding the project ------------------------------------------------------------


def test_flask_migrate_ini_without_script_location(tmp_path: Path) -> None:
    # Superset, Redash, CTFd: alembic.ini inside migrations/, the directory passed by
    # Flask-Migrate as the script location.
    script = tmp_path / "app" / "migrations"
    revision_file(script / "versions", "r1", None, 'op.add_column("t", sa.Column("c", sa.Text()))')
    (script / "env.py").write_text("")
    (script / "alembic.ini").write_text("[alembic]\n# file_template = %%(rev)s\n")
    histories, errors, _ = load_alembic(str(tmp_path))
    assert errors == []
    assert [m.key for m in histories[0].migrations] == ["r1"]


def test_relative_script_location_from_the_directory_alembic_runs_in(tmp_path: Path) -> None:
    # MLflow: mlflow/store/db_migrations/alembic.ini says
    # ``script_location = mlflow/store/db_migrations``, relative to the repository root.
    script = tmp_path / "mlflow" / "store" / "db_migrations"
    revision_file(script / "versions", "r1", None, 'op.drop_column("t", "c")')
    (script / "env.py").write_text("")
    (script / "alembic.ini").write_text("[alembic]\nscript_location = mlflow/store/db_migrations\n")
    histories, errors, notes = load_alembic(str(tmp_path))
    assert errors == [] and notes == []
    assert [m.key for m in histories[0].migrations] == ["r1"]


def test_named_sections_are_one_project_each(tmp_path: Path) -> None:
    # Netflix Dispatch: ``alembic -n core`` / ``-n tenant`` with package locations, the
    # package being the directory that holds the ini.
    pkg = tmp_path / "src" / "dispatch"
    for name, rev in (("core", "c1"), ("tenant", "t1")):
        script = pkg / "database" / "revisions" / name
        revision_file(script / "versions", rev, None, 'op.drop_column("t", "c")')
        (script / "env.py").write_text("")
    (pkg / "alembic.ini").write_text(
        "[alembic]\nfile_template = %%(rev)s\n\n"
        "[core]\nscript_location = dispatch:database/revisions/core\n\n"
        "[tenant]\nscript_location = dispatch:database/revisions/tenant\n"
    )
    histories, errors, _ = load_alembic(str(tmp_path))
    assert errors == []
    assert sorted(m.key for h in histories for m in h.migrations) == ["c1", "t1"]


def test_unresolvable_location_falls_back_to_the_script_dir_below(tmp_path: Path) -> None:
    # Prefect: ``script_location = prefect:server:database:_migrations`` (set again at run
    # time), env.py in _migrations/, revisions split by dialect under versions/.
    database = tmp_path / "src" / "prefect" / "server" / "database"
    script = database / "_migrations"
    revision_file(script / "versions" / "postgresql", "p1", None, 'op.drop_column("t", "c")')
    revision_file(script / "versions" / "sqlite", "s1", None, 'op.drop_column("t", "c")')
    (script / "env.py").write_text("")
    (database / "alembic.ini").write_text(
        "[alembic]\nscript_location = prefect:server:database:_migrations\n"
    )
    histories, errors, notes = load_alembic(str(tmp_path / "src"))
    assert errors == []
    assert [m.key for m in histories[0].migrations] == ["p1"]
    text = " ".join(n.message for n in notes)
    assert "does not name a script directory from here" in text
    assert "split by dialect" in text
    # The PostgreSQL directory alone is recognised as part of the project too.
    assert is_alembic_path(str(script / "versions" / "postgresql"))
    histories, errors, _ = load_alembic(str(script / "versions" / "postgresql"))
    assert errors == [] and [m.key for m in histories[0].migrations] == ["p1"]


def test_several_sections_never_guess_a_directory(tmp_path: Path) -> None:
    pkg = tmp_path / "svc"
    script = pkg / "migrations"
    revision_file(script / "versions", "r1", None, "pass")
    (script / "env.py").write_text("")
    (pkg / "alembic.ini").write_text(
        "[one]\nscript_location = %(here)s/migrations\n\n[two]\nscript_location = nowhere\n"
    )
    histories, errors, _ = load_alembic(str(pkg))
    assert len(histories) == 1
    assert len(errors) == 1 and "nowhere" in errors[0].message


# --- what the reader evaluates -------------------------------------------------------


def test_engine_name_and_url_say_postgresql(tree: Tree) -> None:
    out = render(
        tree,
        """
        bind = op.get_bind()
        if bind.engine.name == "mysql":
            op.execute("SELECT 'mysql'")
        if op.get_bind().engine.name != "sqlite":
            op.execute("SELECT 'not sqlite'")
        url = str(bind.engine.url)
        if url.startswith("postgres"):
            op.execute("SELECT 'postgres'")
        elif url.startswith("mysql"):
            op.execute("SELECT 'mysql url'")
        if bind.engine.dialect.name == "postgresql":
            op.execute("SELECT 'dialect'")
        """,
    )
    assert out == ["SELECT 'not sqlite'", "SELECT 'postgres'", "SELECT 'dialect'"]
    assert notes_of(tree.root) == []


def test_isinstance_of_a_dialect_class_is_decided_for_postgresql(tree: Tree) -> None:
    # Superset's guards: a MySQL-only or SQLite-only branch never runs on PostgreSQL, so
    # its ALTERs and DROPs must not be judged (they were: 11 false findings in superset).
    out = render(
        tree,
        """
        bind = op.get_bind()
        if isinstance(bind.dialect, MySQLDialect):
            op.alter_column("t", "c", type_=sa.Text)
        if not isinstance(bind.dialect, SQLiteDialect):
            op.execute("SELECT 'not sqlite'")
        if isinstance(bind.dialect, (SQLiteDialect, MySQLDialect)):
            op.drop_table("t")
        if isinstance(op.get_bind().dialect, PGDialect):
            op.execute("SELECT 'postgresql'")
        """,
        imports=(
            "from sqlalchemy.dialects.mysql.base import MySQLDialect\n"
            "from sqlalchemy.dialects.sqlite.base import SQLiteDialect\n"
            "from sqlalchemy.dialects.postgresql.base import PGDialect"
        ),
    )
    assert out == ["SELECT 'not sqlite'", "SELECT 'postgresql'"]
    assert notes_of(tree.root) == []


def test_online_mode_is_what_is_judged(tree: Tree) -> None:
    out = render(
        tree,
        """
        def has_column():
            if context.is_offline_mode():
                op.execute("-- offline: assuming the column does not exist")
                return False
            return "c" in [col["name"] for col in sa.inspect(op.get_bind()).get_columns("t")]

        if op.get_context().as_sql:
            op.execute("SELECT 'offline'")
        if has_column():
            op.drop_column("t", "c")
        """,
        imports="from alembic import context",
    )
    # Online, the inspector decides: unknown, so the guarded drop is checked.
    assert out == ["ALTER TABLE t DROP COLUMN c;"]


def test_logging_is_a_stand_in_without_notes(tree: Tree) -> None:
    out = render(
        tree,
        """
        log.info("migrating %s rows", op.get_bind().execute(sa.text("SELECT count(*) FROM t")))
        logging.getLogger("alembic").warning("done: %s", undefined_name)
        op.drop_column("t", "c")
        """,
        imports="import logging",
        extra="log = logging.getLogger(__name__)\nlog.setLevel(logging.INFO)\n",
    )
    assert out == ["ALTER TABLE t DROP COLUMN c;"]
    assert notes_of(tree.root) == []


def test_enum_create_and_drop_with_the_bind_render_the_type_ddl(tree: Tree) -> None:
    out = render(
        tree,
        """
        status = postgresql.ENUM("READY", "NOT_READY", name="deployment_status")
        status.create(op.get_bind())
        op.add_column(
            "deployment",
            sa.Column("status", status, nullable=False, server_default="NOT_READY"),
        )
        sa.Enum("a", "b", name="old_kind", schema="app").drop(op.get_bind(), checkfirst=True)
        # An Index renders only when bound to a Table (SQLAlchemy's rule, not ours).
        t = sa.Table("t", sa.MetaData(), sa.Column("c", sa.Integer()))
        sa.Index("ix_t_c", t.c.c, postgresql_concurrently=True).create(op.get_bind())
        """,
        imports="from sqlalchemy.dialects import postgresql",
    )
    assert out[0] == "CREATE TYPE deployment_status AS ENUM ('READY', 'NOT_READY');"
    assert out[1].startswith("ALTER TABLE deployment ADD COLUMN status deployment_status")
    assert out[2] == "DROP TYPE app.old_kind;"
    assert out[3] == "CREATE INDEX CONCURRENTLY ix_t_c ON t (c);"
    assert notes_of(tree.root) == []


def test_compile_with_the_bind_compiles_for_postgresql(tree: Tree) -> None:
    # Airflow: sa.false() rendered for whatever database runs the migration.
    out = render(
        tree,
        'op.execute(sa.text(f"UPDATE slot_pool SET include_deferred = '
        '{sa.false().compile(op.get_bind())}"))',
    )
    assert out == ["UPDATE slot_pool SET include_deferred = false"]


def test_early_return_guard_does_not_hide_the_migration(tree: Tree) -> None:
    # ``if column_exists(): return`` used to end the reading at the guard.
    out = render(
        tree,
        """
        inspector = sa.inspect(op.get_bind())
        if "name" in [c["name"] for c in inspector.get_columns("tool_files")]:
            return
        op.add_column("tool_files", sa.Column("name", sa.String(), nullable=True))
        """,
    )
    assert out == ["ALTER TABLE tool_files ADD COLUMN name VARCHAR;"]


def test_a_helper_that_may_return_has_an_unknown_result(tree: Tree) -> None:
    # MLflow looks a constraint name up by reflection and raises when it is missing; the
    # raise is only reached when no iteration returned.
    tree.revision(
        "rev001",
        None,
        """
        op.drop_constraint(fk_name(), "datasets", type_="foreignkey")
        op.add_column("datasets", sa.Column("c", sa.Text()))
        """,
        extra="""
        def fk_name():
            table = sa.Table("datasets", sa.MetaData(), autoload_with=op.get_bind())
            for constraint in table.foreign_key_constraints:
                if constraint.referred_table.name == "experiments":
                    return constraint.name
            raise ValueError("no foreign key to experiments")
        """,
    )
    history = load_one(tree.root)
    assert sqls(history, "rev001") == ["ALTER TABLE datasets ADD COLUMN c TEXT;"]
    messages = notes_of(tree.root)
    assert not any("raise" in m for m in messages)
    assert any("fk_name()" in m and "returns from a branch" in m for m in messages)


def test_raise_in_an_undecided_branch_ends_only_that_branch(tree: Tree) -> None:
    out = render(
        tree,
        """
        if op.get_bind().execute(sa.text("SELECT 1")).scalar() != 1:
            raise RuntimeError("database not ready")
        op.drop_column("t", "c")
        """,
    )
    # The probe query itself is recorded; the guarded raise does not end the reading.
    assert out == ["SELECT 1", "ALTER TABLE t DROP COLUMN c;"]


def test_batched_backfill_loop_is_read_once(tree: Tree) -> None:
    # Prefect: ``while True`` in an autocommit block, breaking when nothing was updated.
    out = render(
        tree,
        """
        with op.get_context().autocommit_block():
            conn = op.get_bind()
            while True:
                result = conn.execute(sa.text("UPDATE t SET c = 1 WHERE id IN (SELECT id FROM t WHERE c IS NULL LIMIT 500)"))
                if result.rowcount <= 0:
                    break
        """,
    )
    assert len(out) == 1 and out[0].startswith("UPDATE t SET c = 1")


def test_reflected_metadata_is_reported_as_reflected(tree: Tree) -> None:
    render(
        tree,
        """
        meta = sa.MetaData()
        meta.reflect(op.get_bind())
        block = meta.tables["block_schema"]
        op.execute(sa.update(block).values(checksum="x"))
        """,
    )
    messages = notes_of(tree.root)
    assert any("would fill it from the database" in m for m in messages)
    assert not any("KeyError" in m for m in messages)


def test_application_column_types_render_literals_in_data_migrations(tree: Tree) -> None:
    # CTFd: ``column("key", db.Text)`` with ``db`` from the application.
    out = render(
        tree,
        """
        configs = table("config", column("key", db.Text), column("value", db.Text))
        op.execute(configs.insert().values(key="mail", value="it's on"))
        """,
        imports="from sqlalchemy.sql import column, table\nfrom acme.models import db",
    )
    assert out == ["INSERT INTO config (key, value) VALUES ('mail', 'it''s on');"]


def test_alter_column_existing_arguments_reach_the_migration(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        """
        op.alter_column("tags", "value", existing_type=sa.String(250), type_=sa.String(5000))
        with op.batch_alter_table("params", schema="s") as batch_op:
            batch_op.alter_column("value", existing_nullable=False, nullable=False)
            batch_op.alter_column("value", existing_type=sa.Text(), existing_nullable=True)
        op.alter_column("runs", "kind", existing_type=AppType(), nullable=True)
        """,
        imports="from acme.types import AppType",
    )
    notes = migration(load_one(tree.root), "rev001").notes
    assert notes[EXISTING_COLUMNS] == {
        "tags": {"value": {"type": "VARCHAR(250)"}},
        # The first statement about each property wins: later ones see the change.
        "s.params": {"value": {"nullable": False, "type": "TEXT"}},
    }


# --- what the rules conclude ----------------------------------------------------------

TYPE_RULES = ["change-column-type", "type-change-rewrite", "set-not-null", "set-not-null-scan"]


def test_existing_type_decides_a_widening_the_history_never_showed(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        """
        op.alter_column("tags", "value", existing_type=sa.String(250), type_=sa.String(5000))
        op.alter_column("connection", "login", existing_type=sa.VARCHAR(500), type_=sa.Text())
        op.alter_column(
            "params", "value", existing_type=sa.String(250), type_=sa.String(500),
            existing_nullable=False, nullable=False,
        )
        """,
    )
    assert findings(tree.root, TYPE_RULES) == []


def test_existing_type_makes_a_rewrite_certain(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        """
        op.alter_column(
            "queries", "options", existing_type=sa.Text(), type_=JSONB(),
            postgresql_using="options::jsonb",
        )
        op.alter_column("runs", "experiment_id", type_=sa.BigInteger(), existing_type=sa.Integer)
        """,
        imports="from sqlalchemy.dialects.postgresql import JSONB",
    )
    found = findings(tree.root, ["type-change-rewrite", "change-column-type"])
    messages = [f.message for f in found]
    assert any('"queries"."options" from text to jsonb rewrites' in m for m in messages)
    assert any('"runs"."experiment_id" from integer to bigint rewrites' in m for m in messages)
    assert not any("old type is unknown" in m or "may rewrite" in m for m in messages)


def test_replayed_history_wins_over_what_a_revision_claims(tree: Tree) -> None:
    tree.revision("base", None, 'op.create_table("tags", sa.Column("value", sa.Text()))')
    tree.revision(
        "rev002",
        "base",
        'op.alter_column("tags", "value", existing_type=sa.String(10), type_=sa.String(20))',
    )
    found = findings(tree.root, ["type-change-rewrite"])
    assert [f.rule for f in found] == ["type-change-rewrite"]
    assert "from text to varchar(20)" in found[0].message


def test_set_not_null_on_a_column_added_to_a_table_never_shown(tree: Tree) -> None:
    # Airflow: add a column, backfill it, make it NOT NULL, on a table whose creation
    # predates the collected history.
    tree.revision(
        "rev001",
        None,
        """
        with op.batch_alter_table("slot_pool") as batch_op:
            batch_op.add_column(sa.Column("include_deferred", sa.Boolean))
        op.execute("UPDATE slot_pool SET include_deferred = false")
        with op.batch_alter_table("slot_pool") as batch_op:
            batch_op.alter_column("include_deferred", existing_type=sa.Boolean, nullable=False)
        """,
    )
    found = findings(tree.root, ["set-not-null"])
    assert len(found) == 1
    assert "a column this migration adds to existing table" in found[0].message


def test_existing_type_of_one_column_says_nothing_of_its_neighbour(tree: Tree) -> None:
    # "pool" is declared, "slots" is not: the NOT NULL on "slots" is judged on an
    # unknown column, not on "pool"'s facts.
    tree.revision(
        "rev001",
        None,
        """
        op.alter_column("slot_pool", "pool", existing_type=sa.String(256), type_=sa.String(512))
        op.alter_column("slot_pool", "slots", nullable=False)
        """,
    )
    found = findings(tree.root, TYPE_RULES)
    # One problem, one finding: set-not-null also names the scan (set-not-null-scan stays quiet).
    assert [(f.rule, f.span.line) for f in found] == [("set-not-null", 21)]
    assert found[0].message.startswith('Setting "slot_pool"."slots" NOT NULL: the app version')


def test_existing_type_reaches_raw_sql_that_qualifies_the_table(tree: Tree) -> None:
    # alter_column names "tags" (found through search_path); the raw SQL after it names
    # "app.tags". The declared type still tells a narrowing from an unknown change.
    tree.revision(
        "rev001",
        None,
        """
        op.alter_column("tags", "value", existing_type=sa.String(250), comment="tag text")
        op.execute("ALTER TABLE app.tags ALTER COLUMN value TYPE varchar(100)")
        """,
    )
    found = findings(tree.root, ["change-column-type"])
    assert [(f.rule, f.span.line) for f in found] == [("change-column-type", 21)]
    assert found[0].message.startswith(
        'Changing "app"."tags"."value" from varchar(250) to varchar(100): the app version'
    )


GUARD = """
if skip_based_on_legacy_engine_version(op, __name__):
    return
op.drop_table("{table}")
"""
GUARD_IMPORT = "from ckan.migration import skip_based_on_legacy_engine_version"


def test_a_guard_every_revision_shares_is_noted_once_and_its_body_checked(tree: Tree) -> None:
    # ckan: `if skip_based_on_legacy_engine_version(op, __name__): return` opens 87
    # upgrade() functions. One uncertainty of the project: one note, on the newest of
    # them; the body after the guard is still read as the path that runs.
    tree.revision("r1", None, "op.create_table('a', sa.Column('id', sa.Integer()))")
    second = tree.revision("r2", "r1", GUARD.format(table="a"), imports=GUARD_IMPORT)
    tree.revision("r3", "r2", "op.create_table('b', sa.Column('id', sa.Integer()))")
    last = tree.revision("r4", "r3", GUARD.format(table="b"), imports=GUARD_IMPORT)
    _, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert [(Path(n.path).name, n.line, n.column) for n in notes] == [
        ("r4_revision.py", line_of(last, "if skip_based"), 5)
    ]
    assert notes[0].message == (
        "condition not evaluated (`skip_based_on_legacy_engine_version()` is unknown: "
        "imported from `ckan.migration`, which migcheck does not import unless run with "
        "--alembic-import); both branches are checked (the same in 1 earlier revision of "
        "this project, from r2_revision.py; reported once, here)"
    )
    found = findings(tree.root, ["drop-table"])
    drops = [(Path(f.path).name, f.line) for f in found]
    drop_line = line_of(second, "op.drop_table")
    assert drops == [("r2_revision.py", drop_line), ("r4_revision.py", drop_line)]


def test_different_unknown_helpers_keep_a_note_each(tree: Tree) -> None:
    tree.revision("r1", None, GUARD.format(table="a"), imports=GUARD_IMPORT)
    other = GUARD.replace("skip_based_on_legacy_engine_version", "other_guard")
    tree.revision("r2", "r1", other.format(table="b"), imports="from ckan.x import other_guard")
    notes = notes_of(tree.root)
    assert len(notes) == 2
    assert not any("reported once" in n for n in notes)


def test_a_shared_call_whose_sql_went_unchecked_stays_on_every_revision(tree: Tree) -> None:
    # Near miss of the guard: what the reader could not check is noted where it is.
    body = "op.execute(make_sql())"
    tree.revision("r1", None, body, imports="from app.sql import make_sql")
    tree.revision("r2", "r1", body, imports="from app.sql import make_sql")
    _, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sorted(Path(n.path).name for n in notes) == ["r1_revision.py", "r2_revision.py"]
    assert not any("reported once" in n.message for n in notes)


def test_inspecting_the_bind_leaves_the_sqlalchemy_module_known(tree: Tree) -> None:
    # Langflow: every revision starts with ``inspector = sa.inspect(conn)``; the inspector
    # is unknown, but ``sa.Column`` after it is still SQLAlchemy's, so the table is built.
    out = render(
        tree,
        """
        conn = op.get_bind()
        inspector = sa.inspect(conn)
        op.create_table(
            "folder",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=True),
            sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        """,
    )
    assert len(out) == 1 and "FOREIGN KEY(user_id) REFERENCES" in out[0]
    assert not any("sa.Column()" in m for m in notes_of(tree.root))


def test_sqlmodel_column_types_render_as_their_sqlalchemy_types(tree: Tree) -> None:
    # Langflow (and every SQLModel project): autogenerate writes AutoString and
    # ``sqlmodel.sql.sqltypes.types.Uuid`` (SQLAlchemy's own module re-exported).
    out = render(
        tree,
        """
        op.create_table(
            "folder",
            sa.Column("id", sqlmodel.sql.sqltypes.types.Uuid(), nullable=False),
            sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
            sa.Column("code", AutoString(length=20), nullable=True),
            sa.Column("legacy", sqlmodel.sql.sqltypes.GUID(), nullable=True),
            sa.Column("extra", sqlmodel.SQLModel(), nullable=True),
        )
        """,
        imports="import sqlmodel\nfrom sqlmodel.sql.sqltypes import AutoString",
    )
    assert len(out) == 1
    columns = " ".join(out[0].split())
    assert "( id UUID NOT NULL, name VARCHAR NOT NULL, code VARCHAR(20), legacy UUID," in columns
    # The rest of the library stays unknown, and says why.
    (note,) = [m for m in notes_of(tree.root) if "SQLModel" in m]
    assert "it is `sqlmodel`, which migcheck does not import" in note


def test_retyping_a_sqlmodel_autostring_to_text_is_no_type_change(tree: Tree) -> None:
    # Langflow 1d90f8a0efe1: AutoString (VARCHAR) → Text is binary coercible: no rewrite
    # and nothing the old app notices.
    tree.revision(
        "r1",
        None,
        'op.create_table("flow", sa.Column("id", sa.Integer(), primary_key=True), '
        'sa.Column("description", sqlmodel.sql.sqltypes.AutoString(), nullable=True))',
        imports="import sqlmodel",
    )
    body = (
        'op.alter_column("flow", "description", '
        "existing_type=sqlmodel.sql.sqltypes.AutoString(), type_={new}, "
        "existing_nullable=True)"
    )
    tree.revision("r2", "r1", body.format(new="sa.Text()"), imports="import sqlmodel")
    rules = ("change-column-type", "type-change-rewrite")
    assert findings(tree.root, rules) == []
    # Near miss: AutoString → Integer is a real type change.
    tree.revision("r2", "r1", body.format(new="sa.Integer()"), imports="import sqlmodel")
    assert {f.rule for f in findings(tree.root, rules)} == set(rules)


def test_sql_both_branches_of_an_undecided_if_send_is_one_statement(tree: Tree) -> None:
    # Langflow 0e6138e7a0c2: "if there is no foreign key, add it; else drop it and add it".
    # One of the branches runs, so the ADD CONSTRAINT is one statement, not two.
    out = render(
        tree,
        """
        fk_name = sa.inspect(op.get_bind()).get_foreign_keys("file")[0]["name"]
        if fk_name is None:
            op.create_foreign_key("fk_file_user", "file", "user", ["user_id"], ["id"], ondelete="CASCADE")
        else:
            op.drop_constraint("fk_file_user_old", "file", type_="foreignkey")
            op.create_foreign_key("fk_file_user", "file", "user", ["user_id"], ["id"], ondelete="CASCADE")
            op.create_index("ix_file_user", "file", ["user_id"])
        """,
    )
    assert [s.split(" ")[0:3] for s in out] == [
        ["ALTER", "TABLE", "file"],
        ["ALTER", "TABLE", "file"],
        ["CREATE", "INDEX", "ix_file_user"],
    ]
    assert "ADD CONSTRAINT fk_file_user" in out[0] and "DROP CONSTRAINT" in out[1]
