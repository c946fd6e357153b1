"""``import_revisions=True`` (--alembic-import): import and run revisions for fidelity."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic_helpers import Tree, chunks, line_of, sqls

from migcheck.sources.alembic import load_alembic

APP_TYPES = """
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

open(SENTINEL, "w").write("imported")


class GUID(TypeDecorator):
    impl = sa.CHAR(32)
    cache_ok = True
"""


def app_tree(tree: Tree, tmp_path: Path) -> Path:
    sentinel = tmp_path / "app-imported.txt"
    package = tree.root / "importapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "types.py").write_text(f"SENTINEL = {str(sentinel)!r}\n" + APP_TYPES)
    return sentinel


def test_import_mode_uses_the_real_application_types(tree: Tree, tmp_path: Path) -> None:
    sentinel = app_tree(tree, tmp_path)
    path = tree.revision(
        "rev001",
        None,
        """
        op.add_column("users", sa.Column("ref", GUID(), nullable=True))
        for table in ["a", "b"]:
            helper(table)
        with op.get_context().autocommit_block():
            op.create_index("ix", "users", ["ref"], postgresql_concurrently=True)
        with op.batch_alter_table("users") as batch_op:
            batch_op.drop_column("old")
        op.execute("UPDATE users SET ref = NULL")
        """,
        imports="from importapp.types import GUID",
        extra="\n\ndef helper(name):\n    op.drop_column(name, 'x')\n",
    )
    static, errors, _ = load_alembic(str(tree.root))
    assert errors == [] and not sentinel.exists()
    assert sqls(static[0], "rev001")[0] == "ALTER TABLE users ADD COLUMN ref GUID;"

    path_before = list(sys.path)
    imported, errors, notes = load_alembic(str(tree.root), import_revisions=True)
    assert errors == [] and notes == []
    assert sentinel.exists()
    assert sys.path == path_before
    got = chunks(imported[0], "rev001")
    assert got[0].sql == "ALTER TABLE users ADD COLUMN ref CHAR(32);"
    # Apart from the real type, import mode sees exactly what static reading sees.
    assert got[1:] == chunks(static[0], "rev001")[1:]
    assert got[1].line == line_of(path, "op.drop_column(name")
    assert line_of(path, "helper(table)") in got[1].comment_lines
    assert [c.autocommit for c in got] == [False, False, False, True, False, False]
    assert got[-1].sql_line == line_of(path, "UPDATE users")
    import alembic.op

    assert alembic.op.__dict__.get("_proxy") is None


def test_failed_import_is_noted_and_read_statically(tree: Tree) -> None:
    path = tree.revision(
        "rev001",
        None,
        'op.drop_column("users", "legacy")',
        extra='\nraise RuntimeError("imported!")\n',
    )
    histories, errors, notes = load_alembic(str(tree.root), import_revisions=True)
    assert errors == []
    assert sqls(histories[0], "rev001") == ["ALTER TABLE users DROP COLUMN legacy;"]
    (note,) = notes
    assert "RuntimeError: imported!" in note.message and "statically" in note.message
    assert note.line == line_of(path, "raise RuntimeError")


def test_missing_application_module_is_noted(tree: Tree) -> None:
    tree.revision("rev001", None, 'op.drop_table("t")', imports="from nosuchapp.models import Base")
    histories, _, notes = load_alembic(str(tree.root), import_revisions=True)
    assert sqls(histories[0], "rev001") == ["DROP TABLE t;"]
    assert any("ModuleNotFoundError" in n.message and "nosuchapp" in n.message for n in notes)


def test_failing_upgrade_falls_back_to_static_reading(tree: Tree) -> None:
    tree.revision(
        "rev001",
        None,
        """
        op.drop_column("t", "a")
        op.get_bind().execute(sa.text("SELECT 1")).scalar()
        """,
    )
    histories, errors, notes = load_alembic(str(tree.root), import_revisions=True)
    assert errors == []
    assert any("`upgrade()` failed" in n.message for n in notes)
    assert sqls(histories[0], "rev001") == ["ALTER TABLE t DROP COLUMN a;", "SELECT 1"]
