"""rules/_opcalls: the pieces of help written as Alembic op calls, rendered as valid Python."""

from __future__ import annotations

import ast

from migcheck.model import ColumnType
from migcheck.rules._opcalls import autocommit, execute, sa_type, table_args


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
