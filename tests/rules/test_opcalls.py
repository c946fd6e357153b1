"""rules/_opcalls: the pieces of help written as Alembic op calls, rendered as valid Python."""

from __future__ import annotations

import ast
from types import SimpleNamespace
from typing import cast

from migcheck.context import Context
from migcheck.model import ColumnType
from migcheck.rules._opcalls import (
    autocommit,
    drop_index,
    execute,
    one_transaction,
    paste,
    sa_type,
    same_transaction,
    table_args,
)


def test_types_tables_and_statements_render_as_python() -> None:
    assert sa_type(ColumnType("varchar", (40,))) == "sa.String(40)"
    assert sa_type(ColumnType("numeric", (10, 2))) == "sa.Numeric(10, 2)"
    assert sa_type(ColumnType("integer", (), 1)) == "postgresql.ARRAY(sa.Integer())"
    assert sa_type(ColumnType("timestamptz")) == "sa.DateTime(timezone=True)"
    assert sa_type(ColumnType("citext", (), 0, "citext")).endswith("# citext: your model's type")
    assert table_args("app.users") == ('"users"', ', schema="app"')
    assert table_args('"User"') == ('"User"', "")
    name, schema = table_args("app.users")
    code = "\n".join(
        [
            "def upgrade():",
            autocommit(
                [f"op.create_index('i', {name}, ['c']{schema}, postgresql_concurrently=True)"]
            ),
            execute("UPDATE \"User\" SET a = 'it''s' WHERE b = \"x\";"),
        ]
    )
    ast.parse(code)  # valid Python, quotes inside the SQL included
    assert "autocommit_block" in code and "op.execute(" in code


def test_every_type_branch_and_unknown_names() -> None:
    from migcheck.rules._opcalls import add_column

    # An unknown type renders as valid Python (the old "<SQLAlchemy type>" did not parse).
    assert sa_type(None) == "sa.types.NullType()  # the column's type in your model"
    unknown = add_column("t", "c", None, nullable=True)
    assert unknown.endswith("nullable=True))  # the column's type in your model")
    ast.parse(unknown.strip())
    assert sa_type(ColumnType("varchar")) == "sa.String()"
    assert sa_type(ColumnType("char", (3,))) == "sa.CHAR(3)"
    assert sa_type(ColumnType("bpchar")) == "sa.CHAR()"
    assert table_args(None) == ('"<table>"', "")
    # Quoted names lose their quotes, a doubled quote inside becomes one.
    assert table_args('"my""app"."Users"') == ('"Users"', ", schema='my\"app'")
    assert table_args('"x"') == ('"x"', "") and table_args('"') == ("'\"'", "")
    # An unknown type's note closes the line after the call, which stays valid Python.
    line = add_column("t", "c", ColumnType("citext", (), 0, "citext"), nullable=True)
    assert line.endswith("nullable=True))  # citext: your model's type")
    ast.parse(line.strip())
    plain = add_column("app.t", "c", ColumnType("text"), nullable=False, server_default="'x'")
    assert plain.strip() == (
        'op.add_column("t", sa.Column("c", sa.Text(), nullable=False, '
        'server_default=sa.text("\'x\'")), schema="app")'
    )


def _ctx(tool: str) -> Context:
    return cast(Context, SimpleNamespace(tool=tool))


def test_statements_that_commit_together() -> None:
    sql = ("DROP VIEW v;", "CREATE VIEW v AS SELECT 1;")
    assert one_transaction(_ctx("sql"), *sql) == (
        "    BEGIN;\n    DROP VIEW v;\n    CREATE VIEW v AS SELECT 1;\n    COMMIT;"
    )
    # A revision already runs in one transaction: no BEGIN inside it.
    assert one_transaction(_ctx("alembic"), *sql) == (
        '    op.execute("DROP VIEW v")\n    op.execute("CREATE VIEW v AS SELECT 1")'
    )
    assert same_transaction(_ctx("alembic")).startswith("in the same revision")
    assert same_transaction(_ctx("prisma")) == "in the same transaction"


def test_paste_turns_sql_comments_into_python_ones() -> None:
    assert paste(_ctx("alembic"), "-- next revision:", "ALTER TABLE t DROP CONSTRAINT c;") == (
        '    # next revision:\n    op.drop_constraint("c", "t")'
    )
    assert paste(_ctx("sql"), "-- next migration:") == "    -- next migration:"


def test_drop_index_names_its_schema_once() -> None:
    assert drop_index("app.ix") == 'op.drop_index("ix", schema="app", postgresql_concurrently=True)'
    assert drop_index("ix", "app.t") == (
        'op.drop_index("ix", table_name="t", schema="app", postgresql_concurrently=True)'
    )
    assert drop_index("app.ix", "app.t", if_exists=True) == (
        'op.drop_index("ix", table_name="t", schema="app", postgresql_concurrently=True, '
        "if_exists=True)"
    )
    assert drop_index("ix", "t", concurrently=False) == 'op.drop_index("ix", table_name="t")'
    assert drop_index(None) == 'op.drop_index("<name>", postgresql_concurrently=True)'


def test_only_a_name_quoted_at_both_ends_loses_its_quotes() -> None:
    assert table_args('""') == ('""', "")
    assert table_args('x"') == ("'x\"'", "")
    assert table_args('"x') == ("'\"x'", "")
