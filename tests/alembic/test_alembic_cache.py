"""The render cache: a revision whose bytes (and settings) are unchanged is not rendered
again, gives exactly what rendering gave, and a run where every revision hits never
imports Alembic or SQLAlchemy."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic_helpers import Tree, sqls

from migcheck.sources.alembic import load as load_module
from migcheck.sources.alembic import load_alembic

REV1 = """
op.add_column("users", sa.Column("age", sa.Integer(), nullable=True))
with op.get_context().autocommit_block():
    op.create_index("ix_users_age", "users", ["age"], postgresql_concurrently=True)
"""
REV2 = 'op.add_column("users", sa.Column("plan", sa.String(20), server_default="x"))'
REV3 = """
op.add_column("users", sa.Column("ref", GUID(), nullable=True))
op.execute("UPDATE users SET plan = 'free'")
"""


@pytest.fixture(autouse=True)
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private, enabled cache per test (conftest shares one across the session)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("MIGCHECK_CACHE_DIR", str(folder))
    monkeypatch.delenv("MIGCHECK_NO_CACHE", raising=False)
    yield folder


class Renders:
    """Records which revisions ``load_alembic`` renders (rather than takes from the cache)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.revisions: list[str] = []
        real = load_module.render_revision

        def spy(rev: Any, *args: Any, **kwargs: Any) -> Any:
            self.revisions.append(rev.revision)
            return real(rev, *args, **kwargs)

        monkeypatch.setattr(load_module, "render_revision", spy)
        pure = load_module.render_pure

        def pure_spy(rev: Any, *args: Any, **kwargs: Any) -> Any:
            out = pure(rev, *args, **kwargs)
            if out is not None:  # rendered without Alembic
                self.revisions.append(rev.revision)
            return out

        monkeypatch.setattr(load_module, "render_pure", pure_spy)

    def take(self) -> list[str]:
        out, self.revisions = self.revisions, []
        return out


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Renders:
    return Renders(monkeypatch)


def project(tree: Tree) -> Tree:
    tree.revision("rev001", None, REV1)
    tree.revision("rev002", "rev001", REV2)
    tree.revision("rev003", "rev002", REV3, imports="from acme.types import GUID")
    return tree


def snapshot(**kwargs: Any) -> Any:
    histories, errors, notes = load_alembic(**kwargs)
    return (
        [(h.root, h.tool, h.settings) for h in histories],
        [
            (m.path, m.key, m.selected, m.runner_transaction, m.notes, m.chunks)
            for h in histories
            for m in h.migrations
        ],
        errors,
        notes,
    )


def test_a_hit_returns_exactly_what_rendering_returned(tree: Tree, renders: Renders) -> None:
    project(tree)
    first = snapshot(path=str(tree.root))
    assert renders.take() == ["rev001", "rev002", "rev003"]
    second = snapshot(path=str(tree.root))
    assert renders.take() == []
    assert second == first
    # The parts a user sees survived: autocommit flags, SQL positions, notes.
    chunks = first[1][0][5]
    assert [c.autocommit for c in chunks] == [False, True]
    assert any("GUID" in n.message for n in first[3])


def test_editing_a_revision_renders_only_that_revision(tree: Tree, renders: Renders) -> None:
    project(tree)
    load_alembic(str(tree.root))
    renders.take()
    tree.revision("rev002", "rev001", REV2.replace('"plan"', '"tier"'))
    history = load_alembic(str(tree.root))[0][0]
    assert renders.take() == ["rev002"]
    assert sqls(history, "rev002") == ["ALTER TABLE users ADD COLUMN tier VARCHAR(20) DEFAULT 'x';"]


def test_a_new_revision_renders_only_itself(tree: Tree, renders: Renders) -> None:
    project(tree)
    load_alembic(str(tree.root))
    renders.take()
    tree.revision("rev004", "rev003", 'op.drop_column("users", "age")')
    history = load_alembic(str(tree.root))[0][0]
    assert renders.take() == ["rev004"]
    assert [m.key for m in history.migrations] == ["rev001", "rev002", "rev003", "rev004"]


def test_no_cache_env_renders_every_time_and_writes_nothing(
    tree: Tree, renders: Renders, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGCHECK_NO_CACHE", "1")
    project(tree)
    load_alembic(str(tree.root))
    load_alembic(str(tree.root))
    assert renders.take() == ["rev001", "rev002", "rev003"] * 2
    assert not cache_dir.exists()


def test_paths_are_those_of_the_current_run(
    tree: Tree, renders: Renders, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tree)
    tree.revision("bad004", "rev003", "op.add_column(")  # a syntax error: an input error
    monkeypatch.chdir(tree.root)
    _, errors, notes = load_alembic(".")
    assert [e.path for e in errors] == ["migrations/versions/bad004_revision.py"]
    assert all(n.path.startswith("migrations/versions/") for n in notes)
    monkeypatch.chdir(tree.root / "migrations")
    renders.take()
    histories, errors, notes = load_alembic(".")
    assert renders.take() == []
    assert [e.path for e in errors] == ["versions/bad004_revision.py"]
    assert notes and all(n.path.startswith("versions/") for n in notes)
    assert {m.path for m in histories[0].migrations} == {
        f"versions/{name}_revision.py" for name in ("rev001", "rev002", "rev003", "bad004")
    }
    assert histories[0].migrations[-1].notes["error"].startswith("syntax error")


def test_settings_and_functions_are_part_of_the_key(tree: Tree, renders: Renders) -> None:
    project(tree)
    load_alembic(str(tree.root))
    renders.take()
    history = load_alembic(str(tree.root), include_downgrade=True)[0][0]
    assert renders.take() == ["rev001", "rev002", "rev003"]
    assert [m.key for m in history.migrations][-1] == "rev001:downgrade"
    tree.env("connection=connection, transaction_per_migration=True")
    history = load_alembic(str(tree.root))[0][0]
    assert renders.take() == ["rev001", "rev002", "rev003"]
    assert history.settings["transaction_per_migration"] is True


def test_import_mode_is_never_cached(tree: Tree, renders: Renders, cache_dir: Path) -> None:
    project(tree)
    load_alembic(str(tree.root), import_revisions=True)
    load_alembic(str(tree.root), import_revisions=True)
    assert renders.take() == ["rev001", "rev002", "rev003"] * 2
    assert not cache_dir.exists()


def test_renderings_without_alembic_are_not_kept(
    tree: Tree, renders: Renders, monkeypatch: pytest.MonkeyPatch
) -> None:
    project(tree)

    def missing() -> None:
        raise ImportError("No module named 'alembic'")

    with monkeypatch.context() as patch:
        patch.setattr(load_module, "Recorder", missing)
        # Not installed: the plain-revision renderer is off too (purerender.supported).
        patch.setattr(load_module, "render_pure", lambda rev, functions: None)
        _, _, notes = load_alembic(str(tree.root))
    assert any("migcheck[alembic]" in n.message for n in notes)
    renders.take()
    _, _, notes = load_alembic(str(tree.root))
    assert renders.take() == ["rev001", "rev002", "rev003"]
    assert not any("migcheck[alembic]" in n.message for n in notes)


def test_a_full_hit_imports_neither_alembic_nor_sqlalchemy(tree: Tree, cache_dir: Path) -> None:
    project(tree)
    code = textwrap.dedent(
        f"""
        import sys
        from migcheck.sources.alembic import load_alembic
        histories, errors, notes = load_alembic({str(tree.root)!r})
        heavy = sorted(m for m in ("alembic", "sqlalchemy") if m in sys.modules)
        print(len(histories[0].migrations), ",".join(heavy) or "-")
        """
    )
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(cache_dir)}
    env.pop("MIGCHECK_NO_CACHE", None)

    def run() -> str:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        return out.stdout.strip()

    assert run() == "3 alembic,sqlalchemy"  # cold: rendered with Alembic
    assert run() == "3 -"


def test_a_new_revision_leaves_the_results_before_it_cached(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-commit case: a revision added on top moves the graph's head, which must
    not change what the result cache keys the earlier revisions on (it did: the heads
    were part of the history's settings, and every revision was linted again)."""
    from migcheck import engine
    from migcheck.model import Options

    judged: list[str] = []
    real = engine._run_rules

    def spy(stmt: Any, ctx: Any, rules: Any) -> Any:
        judged.append(ctx.migration.key)
        return real(stmt, ctx, rules)

    monkeypatch.setattr(engine, "_run_rules", spy)
    project(tree)
    first = engine.lint(load_alembic(str(tree.root))[0], Options())
    assert sorted(set(judged)) == ["rev001", "rev002", "rev003"]
    judged.clear()
    tree.revision("rev004", "rev003", 'op.drop_column("users", "age")')
    histories = load_alembic(str(tree.root))[0]
    assert histories[0].shape["heads"] == ["rev004"]
    second = engine.lint(histories, Options())
    assert judged == ["rev004"]
    assert second.findings[: len(first.findings)] == first.findings
    assert [f.rule for f in second.findings[len(first.findings) :]] == ["drop-column"]


def test_a_damaged_entry_renders_that_revision_only(
    tree: Tree, renders: Renders, cache_dir: Path
) -> None:
    """A project's renderings are one file, one entry a line; a line that is not what
    was stored is a miss for its revision alone, and the file is written again."""
    project(tree)
    first = snapshot(path=str(tree.root))
    (pack,) = (cache_dir / "alembic").iterdir()
    header, *lines = pack.read_bytes().splitlines()
    assert header.startswith(b'{"migcheck-cache": ') and len(lines) == 3
    renders.take()
    # rev002's entry: the only one naming rev002 and not rev003 (whose parent it is).
    damaged = [
        line.replace(b"{", b'{"evil": 1, ', 1)
        if b"rev002" in line and b"rev003" not in line
        else line
        for line in lines
    ]
    assert damaged != lines
    pack.write_bytes(b"\n".join([header, *damaged]) + b"\n")
    assert snapshot(path=str(tree.root)) == first
    assert renders.take() == ["rev002"]
    assert snapshot(path=str(tree.root)) == first
    assert renders.take() == []
