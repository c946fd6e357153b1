"""The revision graph: header forms, order with branches and merges, broken graphs."""

from __future__ import annotations

from pathlib import Path

from alembic_helpers import Tree, line_of, load_one

from migcheck.sources.alembic import load_alembic


def keys(path: Path) -> list[str]:
    return [m.key for m in load_one(path).migrations]


def test_order_follows_down_revision_not_file_names(tree: Tree) -> None:
    tree.revision("ccc333", "bbb222", filename="a_first_name.py")
    tree.revision("aaa111", None, filename="z_last_name.py")
    tree.revision("bbb222", "aaa111", filename="m_middle.py")
    assert keys(tree.root) == ["aaa111", "bbb222", "ccc333"]


def test_branch_and_merge_keep_branches_contiguous(tree: Tree) -> None:
    tree.revision("base00", None)
    tree.revision("a1", "base00", filename="1_a1.py")
    tree.revision("a2", "a1", filename="2_a2.py")
    tree.revision("b1", "base00", filename="1_b1.py")
    tree.revision("b2", "b1", filename="2_b2.py")
    tree.revision("merge0", ("a2", "b2"))
    tree.revision("after0", "merge0")
    history = load_one(tree.root)
    assert [m.key for m in history.migrations] == [
        "base00", "a1", "a2", "b1", "b2", "merge0", "after0",
    ]  # fmt: skip
    merge = next(m for m in history.migrations if m.key == "merge0")
    assert merge.notes["down_revision"] == ["a2", "b2"]
    assert history.shape["merges"] == ["merge0"]
    assert history.shape["branch_points"] == ["base00"]
    assert history.shape["heads"] == ["after0"]


def test_order_is_deterministic(tree: Tree) -> None:
    tree.revision("base00", None)
    for name in ("x", "y", "z"):
        tree.revision(f"{name}1", "base00")
    first = keys(tree.root)
    assert first == keys(tree.root)
    assert first[0] == "base00" and sorted(first[1:]) == ["x1", "y1", "z1"]


def test_several_heads_and_bases(tree: Tree) -> None:
    tree.revision("base00", None)
    tree.revision("head1", "base00")
    tree.revision("head2", "base00")
    tree.revision("other0", None, labels=("reporting",))
    history = load_one(tree.root)
    assert history.shape["heads"] == ["head1", "head2", "other0"]
    assert history.shape["bases"] == ["base00", "other0"]
    assert len(history.migrations) == 4


def test_depends_on_orders_without_being_a_parent(tree: Tree) -> None:
    tree.revision("base00", None, filename="a.py")
    tree.revision("dep000", None, labels=("other",), filename="z.py")
    tree.revision("child0", "base00", depends="dep000", filename="b.py")
    order = keys(tree.root)
    assert order.index("dep000") < order.index("child0")


def test_plain_annotated_and_list_headers(tree: Tree) -> None:
    (tree.versions / "a.py").write_text('revision: str = "r1"\ndown_revision: str | None = None\n')
    (tree.versions / "b.py").write_text("revision = 'r2'\ndown_revision = ['r1']\n")
    (tree.versions / "c.py").write_text(
        "from typing import Union\nrevision = 'r3'\ndown_revision: Union[str, None] = 'r2'\n"
        "branch_labels = {'x'}\n"
    )
    history = load_one(tree.root)
    assert [m.key for m in history.migrations] == ["r1", "r2", "r3"]
    assert history.migrations[2].notes["branch_labels"] == ["x"]


def test_cycle_is_reported_with_each_file(tree: Tree) -> None:
    tree.revision("base00", None)
    a = tree.revision("aaa111", "ccc333")
    b = tree.revision("bbb222", "aaa111")
    c = tree.revision("ccc333", "bbb222")
    histories, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1
    error = errors[0]
    assert "cycle" in error.message
    for path, rev in ((a, "aaa111"), (b, "bbb222"), (c, "ccc333")):
        assert rev in error.message and path.name in error.message
    assert error.path.endswith(a.name)
    assert error.line == line_of(a, "down_revision =")
    # Best effort: everything is still there, the valid part first.
    assert histories[0].migrations[0].key == "base00"
    assert len(histories[0].migrations) == 4


def test_missing_down_revision_names_the_file_and_line(tree: Tree) -> None:
    tree.revision("aaa111", None)
    orphan = tree.revision("bbb222", "doesnotexist")
    histories, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1
    assert errors[0].path.endswith(orphan.name)
    assert "doesnotexist" in errors[0].message
    assert errors[0].line == line_of(orphan, "down_revision =")
    assert [m.key for m in histories[0].migrations] == ["aaa111", "bbb222"]


def test_duplicate_revision_id(tree: Tree) -> None:
    first = tree.revision("aaa111", None, filename="a_first.py")
    second = tree.revision("aaa111", None, filename="b_second.py")
    histories, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1
    assert errors[0].path.endswith(second.name)
    assert first.name in errors[0].message and "aaa111" in errors[0].message
    assert len(histories[0].migrations) == 1


def test_unresolvable_depends_on(tree: Tree) -> None:
    rev = tree.revision("aaa111", None, depends="nothing")
    _, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1 and "nothing" in errors[0].message
    assert errors[0].path.endswith(rev.name)


def test_non_literal_down_revision_is_an_error(tree: Tree) -> None:
    path = tree.versions / "x.py"
    path.write_text("PREV = 'r0'\nrevision = 'r1'\ndown_revision = PREV\n")
    _, errors, _ = load_alembic(str(tree.root))
    assert len(errors) == 1
    assert "down_revision" in errors[0].message and errors[0].line == 3
