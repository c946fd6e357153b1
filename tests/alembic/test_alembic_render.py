"""Rendering ``upgrade()`` to SQL chunks: each op type, provenance, evaluator features."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_helpers import Tree, chunks, column_of, line_of, load_one, sqls

from migcheck.sources.alembic import load_alembic


def render(tree: Tree, body: str, **kwargs: str) -> tuple[Path, list[str]]:
    path = tree.revision("rev001", None, body, **kwargs)
    return path, sqls(load_one(tree.root), "rev001")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            'op.add_column("users", sa.Column("age", sa.Integer(), nullable=True))',
            "ALTER TABLE users ADD COLUMN age INTEGER;",
        ),
        (
            'op.add_column("users", sa.Column("n", sa.Integer(), server_default="0", nullable=False))',
            "ALTER TABLE users ADD COLUMN n INTEGER DEFAULT '0' NOT NULL;",
        ),
        ('op.drop_column("users", "age")', "ALTER TABLE users DROP COLUMN age;"),
        (
            'op.alter_column("users", "fullname", new_column_name="full_name")',
            "ALTER TABLE users RENAME fullname TO full_name;",
        ),
        (
            'op.alter_column("orders", "qty", type_=sa.BigInteger(), existing_type=sa.Integer())',
            "ALTER TABLE orders ALTER COLUMN qty TYPE BIGINT;",
        ),
        (
            'op.alter_column("t", "c", type_=sa.Integer(), postgresql_using="c::integer")',
            "ALTER TABLE t ALTER COLUMN c TYPE INTEGER USING c::integer;",
        ),
        (
            'op.alter_column("users", "email", nullable=False)',
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
        ),
        (
            'op.alter_column("users", "plan", server_default=sa.text("\'free\'"))',
            "ALTER TABLE users ALTER COLUMN plan SET DEFAULT 'free';",
        ),
        (
            'op.create_index("ix_users_email", "users", ["email"])',
            "CREATE INDEX ix_users_email ON users (email);",
        ),
        (
            'op.create_index(op.f("ix_u"), "users", [sa.text("lower(email)")], unique=True,'
            ' postgresql_concurrently=True, postgresql_using="btree",'
            ' postgresql_where=sa.text("deleted_at IS NULL"))',
            "CREATE UNIQUE INDEX CONCURRENTLY ix_u ON users USING btree (lower(email))"
            " WHERE deleted_at IS NULL;",
        ),
        (
            'op.drop_index("ix_u", table_name="users", postgresql_concurrently=True)',
            "DROP INDEX CONCURRENTLY ix_u;",
        ),
        ('op.drop_table("sessions")', "DROP TABLE sessions;"),
        ('op.rename_table("people", "persons")', "ALTER TABLE people RENAME TO persons;"),
        (
            'op.create_foreign_key("fk_o_u", "orders", "users", ["user_id"], ["id"])',
            "ALTER TABLE orders ADD CONSTRAINT fk_o_u FOREIGN KEY(user_id) REFERENCES users (id);",
        ),
        (
            'op.create_foreign_key("fk", "o", "u", ["u_id"], ["id"], postgresql_not_valid=True)',
            "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY(u_id) REFERENCES u (id) NOT VALID;",
        ),
        (
            'op.create_unique_constraint("uq_users_email", "users", ["email"])',
            "ALTER TABLE users ADD CONSTRAINT uq_users_email UNIQUE (email);",
        ),
        (
            'op.create_check_constraint("ck_age", "users", "age >= 0")',
            "ALTER TABLE users ADD CONSTRAINT ck_age CHECK (age >= 0);",
        ),
        (
            'op.drop_constraint("uq_users_email", "users", type_="unique")',
            "ALTER TABLE users DROP CONSTRAINT uq_users_email;",
        ),
        (
            'op.create_primary_key("pk_t", "t", ["id"])',
            "ALTER TABLE t ADD CONSTRAINT pk_t PRIMARY KEY (id);",
        ),
        (
            'op.add_column("user", sa.Column("Order", sa.String(5)), schema="app")',
            'ALTER TABLE app."user" ADD COLUMN "Order" VARCHAR(5);',
        ),
    ],
)
def test_op_renders_as_alembic_does(tree: Tree, body: str, expected: str) -> None:
    assert render(tree, body)[1] == [expected]


def test_create_table_with_enum_emits_both_statements(tree: Tree) -> None:
    _, out = render(
        tree,
        """
        op.create_table(
            "tickets",
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("state", sa.Enum("open", "closed", name="ticket_state"), nullable=False),
            sa.Column("opened_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
        )
        """,
    )
    assert len(out) == 1
    assert out[0].startswith("CREATE TYPE ticket_state AS ENUM ('open', 'closed');")
    assert "CREATE TABLE tickets (" in out[0]
    assert "opened_at TIMESTAMP WITH TIME ZONE DEFAULT now()" in out[0]


def test_bulk_insert_renders_literal_rows(tree: Tree) -> None:
    _, out = render(
        tree,
        """
        plans = sa.table("plans", sa.column("name", sa.String), sa.column("price", sa.Integer))
        op.bulk_insert(plans, [{"name": "free", "price": 0}, {"name": "pro", "price": 10}])
        """,
    )
    assert out == [
        "INSERT INTO plans (name, price) VALUES ('free', 0);\n\n"
        "INSERT INTO plans (name, price) VALUES ('pro', 10);"
    ]


def test_provenance_of_a_call(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        # migcheck: ignore[drop-column] the column is unused since v2
        op.drop_column(
            "users",
            "legacy",
        )
        """,
    )
    (chunk,) = chunks(load_one(tree.root), "rev001")
    start = line_of(path, "op.drop_column(")
    assert (chunk.line, chunk.column) == (start, 5)
    assert (chunk.end_line, chunk.end_column) == (start + 3, 5)
    assert chunk.comment_lines == tuple(range(start - 1, start + 4))
    assert chunk.origin == "op.drop_column"
    assert chunk.sql_line is None and chunk.autocommit is False


def test_columns_count_characters_not_bytes(tree: Tree) -> None:
    path = tree.revision(
        "rev001", None, 'note = "é"; op.drop_column("t", "c")  # café\nop.drop_table("ü")'
    )
    first, second = chunks(load_one(tree.root), "rev001")
    assert first.column == column_of(path, "op.drop_column")
    assert (
        first.end_column == column_of(path, "op.drop_column") + len('op.drop_column("t", "c")') - 1
    )
    assert second.sql == 'DROP TABLE "ü";'


def test_execute_literal_points_inside_the_string(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        '''
        op.execute("UPDATE users SET plan = 'free' WHERE plan IS NULL")
        op.execute(sa.text(
            """
            CREATE VIEW active AS SELECT * FROM users;
            COMMENT ON VIEW active IS '50% of users';
            """
        ))
        op.execute(r"SELECT '\\d'")
        ''',
    )
    one, two, three = chunks(load_one(tree.root), "rev001")
    assert one.sql == "UPDATE users SET plan = 'free' WHERE plan IS NULL"
    assert (one.sql_line, one.sql_column) == (
        line_of(path, "UPDATE users"),
        column_of(path, "UPDATE"),
    )
    # The string as written reaches the server: no '%%' doubling, statements intact.
    assert "50% of users" in two.sql and "CREATE VIEW active" in two.sql
    assert two.sql.startswith("\n")
    quote_line = line_of(path, "CREATE VIEW") - 1
    quote_column = path.read_text().split("\n")[quote_line - 1].index('"""') + 1
    assert (two.sql_line, two.sql_column) == (quote_line, quote_column + 3)
    assert three.sql == "SELECT '\\d'" and three.sql_line == line_of(path, 'r"SELECT')


def test_execute_with_escapes_has_no_inner_positions(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        r"""
        op.execute("SELECT 'a\tb'")
        op.execute("SELECT 1;" "SELECT 2")
        sql = "DELETE FROM t WHERE " + "id = 1"
        op.execute(sql)
        """,
    )
    escaped, concatenated, computed = chunks(load_one(tree.root), "rev001")
    assert escaped.sql == "SELECT 'a\tb'" and escaped.sql_line is None
    assert concatenated.sql == "SELECT 1;SELECT 2" and concatenated.sql_line is None
    assert computed.sql == "DELETE FROM t WHERE id = 1" and computed.sql_line is None


def test_execute_through_a_variable_keeps_positions(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        stmt = "ALTER TABLE t ADD COLUMN c int"
        op.execute(stmt)
        """,
    )
    (chunk,) = chunks(load_one(tree.root), "rev001")
    assert chunk.line == line_of(path, "op.execute")
    assert (chunk.sql_line, chunk.sql_column) == (line_of(path, "ALTER"), column_of(path, "ALTER"))


def test_connection_execute_and_bound_parameters(tree: Tree) -> None:
    _, out = render(
        tree,
        """
        bind = op.get_bind()
        bind.execute(sa.text("UPDATE t SET a = :v WHERE b IS NULL"), {"v": 5})
        conn = op.get_context().bind
        conn.execute(sa.text("UPDATE t SET b = 1"))
        """,
    )
    assert out == ["UPDATE t SET a = 5 WHERE b IS NULL;", "UPDATE t SET b = 1"]


def test_autocommit_block(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        """
        op.add_column("t", sa.Column("c", sa.Integer()))
        with op.get_context().autocommit_block():
            op.create_index("ix_t_c", "t", ["c"], postgresql_concurrently=True)
            op.execute("ALTER TYPE mood ADD VALUE 'meh'")
        op.drop_column("t", "old")
        """,
    )
    flags = [(c.sql.split()[0], c.autocommit) for c in chunks(load_one(tree.root), "rev001")]
    assert flags == [("ALTER", False), ("CREATE", True), ("ALTER", True), ("ALTER", False)]


def test_batch_operations_render_plain_alters(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        with op.batch_alter_table("accounts", schema="app") as batch_op:
            batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
            batch_op.alter_column("name", new_column_name="title")
            batch_op.create_index("ix_accounts_title", ["title"])
            batch_op.create_foreign_key("fk_acc_owner", "users", ["owner_id"], ["id"])
            batch_op.drop_column("legacy")
        """,
    )
    out = chunks(load_one(tree.root), "rev001")
    assert [c.sql for c in out] == [
        "ALTER TABLE app.accounts ADD COLUMN note TEXT;",
        "ALTER TABLE app.accounts RENAME name TO title;",
        "CREATE INDEX ix_accounts_title ON app.accounts (title);",
        "ALTER TABLE app.accounts ADD CONSTRAINT fk_acc_owner FOREIGN KEY(owner_id)"
        " REFERENCES users (id);",
        "ALTER TABLE app.accounts DROP COLUMN legacy;",
    ]
    assert [c.line for c in out] == [line_of(path, "batch_op.") + i for i in range(5)]
    assert out[0].origin == "batch_op.add_column"


def test_helpers_loops_fstrings_and_locals(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        for table in TABLES:
            add_timestamps(table)
        suffix = "v2"
        names = [f"{t}_{suffix}" for t in TABLES if t != "b"]
        op.execute("SELECT " + ", ".join(names))
        if len(TABLES) > 5:
            op.drop_table("never")
        else:
            op.drop_table("always")
        """,
        extra='''
TABLES = ["a", "b"]


def add_timestamps(table_name, column="updated_at"):
    """Shared by several revisions."""
    op.add_column(table_name, sa.Column(column, sa.DateTime(), nullable=True))
''',
    )
    out = chunks(load_one(tree.root), "rev001")
    assert [c.sql for c in out] == [
        "ALTER TABLE a ADD COLUMN updated_at TIMESTAMP WITHOUT TIME ZONE;",
        "ALTER TABLE b ADD COLUMN updated_at TIMESTAMP WITHOUT TIME ZONE;",
        "SELECT a_v2",
        "DROP TABLE always;",
    ]
    helper_line = line_of(path, "op.add_column(table_name")
    call_line = line_of(path, "add_timestamps(table)")
    assert out[0].line == helper_line
    # Suppression comments work at the helper's op call and at the call site.
    assert {helper_line - 1, helper_line, call_line - 1, call_line} <= set(out[0].comment_lines)


def test_postgresql_dialect_types_and_op_f(tree: Tree) -> None:
    _, out = render(
        tree,
        """
        op.add_column("t", sa.Column("tags", postgresql.ARRAY(sa.String()), nullable=True))
        op.add_column("t", sa.Column("doc", JSONB(), nullable=True))
        op.create_index(op.f("ix_t_doc"), "t", ["doc"], postgresql_using="gin")
        """,
        imports="from sqlalchemy.dialects import postgresql\n"
        "from sqlalchemy.dialects.postgresql import JSONB",
    )
    assert out == [
        "ALTER TABLE t ADD COLUMN tags VARCHAR[];",
        "ALTER TABLE t ADD COLUMN doc JSONB;",
        "CREATE INDEX ix_t_doc ON t USING gin (doc);",
    ]


def test_application_types_become_named_stand_ins(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        op.add_column("users", sa.Column("id2", GUID(), nullable=True))
        op.add_column("users", sa.Column("price", myapp.types.Money(12), nullable=True))
        op.alter_column("users", "x", type_=JSONText)
        """,
        imports="from acme.db.types import GUID\nimport myapp.types",
    )
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sqls(histories[0], "rev001") == [
        "ALTER TABLE users ADD COLUMN id2 GUID;",
        "ALTER TABLE users ADD COLUMN price Money;",
        "ALTER TABLE users ALTER COLUMN x TYPE JSONText;",
    ]
    assert [n.line for n in notes] == [
        line_of(path, "GUID()"),
        line_of(path, "Money(12)"),
        line_of(path, "JSONText"),
    ]
    assert "acme.db.types" in notes[0].message and "GUID" in notes[0].message
    assert all(n.severity == "info" for n in notes)


def test_unknown_values_give_a_note_and_literal_reading(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        op.alter_column(
            "users", "email", new_column_name="mail", existing_server_default=defaults.EMAIL
        )
        op.create_index("ix_orders_status", "orders", ["status"], postgresql_with=storage())
        op.drop_column(TABLE_NAME, "legacy")
        acme.migrations.backfill(op)
        op.drop_table("kept")
        """,
        imports="from acme.constants import TABLE_NAME\nfrom acme import defaults, storage\n"
        "import acme.migrations",
    )
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sqls(histories[0], "rev001") == [
        "ALTER TABLE users RENAME email TO mail;",
        "CREATE INDEX ix_orders_status ON orders (status);",
        "DROP TABLE kept;",
    ]
    by_line = {n.line: n.message for n in notes}
    rename = by_line[line_of(path, "op.alter_column(")]
    assert "defaults.EMAIL" in rename and "literal arguments" in rename
    assert "storage" in by_line[line_of(path, "op.create_index")]
    dropped = by_line[line_of(path, "op.drop_column")]
    assert "TABLE_NAME" in dropped and "not checked" in dropped
    assert "acme.migrations.backfill" in by_line[line_of(path, "backfill(op)")]


def test_unknown_condition_checks_both_branches(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        if settings.FEATURE:
            op.drop_column("t", "a")
        else:
            op.drop_column("t", "b")
        """,
        imports="from acme import settings",
    )
    histories, _, notes = load_alembic(str(tree.root))
    assert sqls(histories[0], "rev001") == [
        "ALTER TABLE t DROP COLUMN a;",
        "ALTER TABLE t DROP COLUMN b;",
    ]
    assert [n.line for n in notes] == [line_of(path, "if settings.FEATURE")]


def test_raise_stops_and_module_level_code_never_runs(tree: Tree, tmp_path: Path) -> None:
    sentinel = tmp_path / "imported.txt"
    (tree.root / "sideeffect.py").write_text(f"open({str(sentinel)!r}, 'w').write('imported')\n")
    tree.revision(
        "rev001",
        None,
        """
        op.drop_column("t", "a")
        raise NotImplementedError("stop")
        op.drop_column("t", "never")
        """,
        imports="import sideeffect",
        extra='\nprint("module level")\nopen("should-not-exist", "w")\n',
    )
    path = tree.versions / "rev001_revision.py"
    path.write_text(path.read_text() + '\nraise RuntimeError("imported!")\n')
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sqls(histories[0], "rev001") == ["ALTER TABLE t DROP COLUMN a;"]
    assert any("raise" in n.message for n in notes)
    assert not sentinel.exists()
    assert not Path("should-not-exist").exists()
    import sys

    assert "sideeffect" not in sys.modules


def test_syntax_error_names_file_and_line_and_others_render(tree: Tree) -> None:
    tree.revision("aaa111", None, 'op.drop_column("t", "a")')
    broken = tree.revision("bbb222", "aaa111", 'op.drop_column("t", "b"\nx = (')
    tree.revision("ccc333", "bbb222", 'op.drop_column("t", "c")')
    histories, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1
    assert errors[0].path.endswith(broken.name)
    assert errors[0].line is not None and "syntax error" in errors[0].message
    assert f"line {errors[0].line}" in errors[0].message
    history = histories[0]
    # The graph stays whole (identity recovered line by line) ...
    assert [m.key for m in history.migrations] == ["aaa111", "bbb222", "ccc333"]
    # ... the broken revision has no chunks, the others render.
    assert history.migrations[1].chunks is None
    assert sqls(history, "ccc333") == ["ALTER TABLE t DROP COLUMN c;"]


def test_include_downgrade(tree: Tree) -> None:
    tree.revision("aaa111", None, 'op.add_column("t", sa.Column("a", sa.Integer()))',
                  downgrade='op.drop_column("t", "a")')  # fmt: skip
    tree.revision("bbb222", "aaa111", 'op.create_index("ix", "t", ["a"])',
                  downgrade='op.drop_index("ix", table_name="t")')  # fmt: skip
    plain = load_one(tree.root)
    assert [m.key for m in plain.migrations] == ["aaa111", "bbb222"]
    history = load_one(tree.root, include_downgrade=True)
    assert [m.key for m in history.migrations] == [
        "aaa111", "bbb222", "bbb222:downgrade", "aaa111:downgrade",
    ]  # fmt: skip
    assert sqls(history, "bbb222:downgrade") == ["DROP INDEX ix;"]
    assert sqls(history, "aaa111:downgrade") == ["ALTER TABLE t DROP COLUMN a;"]
    assert history.migrations[2].notes["direction"] == "downgrade"
    assert all(m.runner_transaction and m.tool == "alembic" for m in history.migrations)


def test_migration_notes(tree: Tree) -> None:
    tree.revision("aaa111", None)
    tree.revision("bbb222", "aaa111")
    history = load_one(tree.root)
    assert history.migrations[1].notes["revision"] == "bbb222"
    assert history.migrations[1].notes["down_revision"] == "aaa111"
    assert history.migrations[0].notes["down_revision"] is None
    assert history.migrations[1].notes["message"] == "revision bbb222"
    assert history.migrations[0].chunks == []


def test_without_alembic_installed_literal_reading_is_used(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migcheck.sources.alembic import load as load_module

    def missing() -> None:
        raise ImportError("No module named 'alembic'")

    monkeypatch.setattr(load_module, "Recorder", missing)
    # Without SQLAlchemy 2 and Alembic installed the plain-revision renderer is off too
    # (purerender.supported).
    monkeypatch.setattr(load_module, "render_pure", lambda rev, functions: None)
    tree.revision(
        "rev001",
        None,
        """
        op.add_column("t", sa.Column("c", sa.String(20), server_default="x", nullable=False))
        op.create_index("ix", "t", ["c"], postgresql_concurrently=True)
        op.execute(sa.text("SELECT 1"))
        op.create_table("n", sa.Column("id", sa.Integer(), primary_key=True))
        """,
    )
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sqls(histories[0], "rev001") == [
        "ALTER TABLE t ADD COLUMN c VARCHAR(20) DEFAULT 'x' NOT NULL;",
        "CREATE INDEX CONCURRENTLY ix ON t (c);",
        "SELECT 1",
        "CREATE TABLE n (\n    id INTEGER NOT NULL, \n    PRIMARY KEY (id)\n);",
    ]
    assert any("migcheck[alembic]" in n.message for n in notes)


def test_more_python_the_evaluator_understands(tree: Tree) -> None:
    _, out = render(
        tree,
        """
        if op.get_context().dialect.name != "postgresql":
            raise RuntimeError("PostgreSQL only")
        first, *rest = ["a", "b", "c"]
        sizes = {name: len(name) for name in rest}
        make = lambda n: "ix_%s_%d" % (n, sizes.get(n, 0))
        def table_of(index_name):
            return index_name.split("_")[1]
        for i in range(2):
            op.create_index(make(rest[i]), table_of(make(rest[i])), ["{}_id".format(first)])
        count = 0
        while count < 2:
            count += 1
        try:
            op.drop_column("t", f"c{count:02d}")
        except Exception:
            pass
        """,
    )
    assert out == [
        "CREATE INDEX ix_b_1 ON b (a_id);",
        "CREATE INDEX ix_c_1 ON c (a_id);",
        "ALTER TABLE t DROP COLUMN c02;",
    ]


def test_database_access_is_noted_not_attempted(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        """
        inspector = sa.inspect(op.get_bind())
        if "legacy" in inspector.get_table_names():
            op.drop_table("legacy")
        engine = sa.create_engine("postgresql://prod/db")
        engine.execute("DELETE FROM users")
        """,
    )
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert sqls(histories[0], "rev001") == ["DROP TABLE legacy;"]
    messages = {n.line: n.message for n in notes}
    assert "database connection" in messages[line_of(path, 'if "legacy"')]
    assert "create_engine" in messages[line_of(path, "engine.execute")]


def test_a_downgrade_is_its_own_deploy_and_says_so(tree: Tree) -> None:
    # Naming one revision with --include-downgrade judged its downgrade() as shipping
    # with its upgrade(): contract-in-same-deploy named one file on both sides.
    import json
    import subprocess
    import sys

    tree.revision(
        "aaa111",
        None,
        'op.create_table("users", sa.Column("id", sa.BigInteger, primary_key=True))',
    )
    path = tree.revision(
        "bbb222",
        "aaa111",
        'op.add_column("users", sa.Column("nick", sa.Text))',
        downgrade='op.drop_column("users", "nick")',
    )
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--include-downgrade", "--format", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
        env={"MIGCHECK_NO_CACHE": "1", "PATH": "/usr/bin:/bin"},
    )
    findings = json.loads(proc.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["drop-column"], proc.stdout
    assert findings[0]["message"].startswith('In downgrade(): Dropping column "users"."nick"')
    assert (
        findings[0]["line"]
        == path.read_text().splitlines().index('    op.drop_column("users", "nick")') + 1
    )
