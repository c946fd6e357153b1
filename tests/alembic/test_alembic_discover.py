"""Finding Alembic projects, reading their settings, and what a path selects."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic_helpers import Tree, load_one

from migcheck.sources.alembic import is_alembic_path, load_alembic


def test_is_alembic_path_recognises_every_entry_point(tree: Tree, tmp_path: Path) -> None:
    rev = tree.revision("aaa111")
    assert is_alembic_path(str(tree.root))
    assert is_alembic_path(str(tree.root / "alembic.ini"))
    assert is_alembic_path(str(tree.script))
    assert is_alembic_path(str(tree.versions))
    assert is_alembic_path(str(rev))
    assert is_alembic_path(str(tree.script / "env.py"))
    other = tmp_path / "other"
    other.mkdir()
    (other / "script.py").write_text("x = 1\n")
    (other / "schema.sql").write_text("select 1;\n")
    assert not is_alembic_path(str(other))
    assert not is_alembic_path(str(other / "script.py"))
    assert not is_alembic_path(str(other / "schema.sql"))
    assert not is_alembic_path(str(tmp_path / "missing"))


def test_is_alembic_path_does_not_import_alembic() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from migcheck.sources.alembic import is_alembic_path\n"
        "is_alembic_path('.')\n"
        "print('alembic' in sys.modules, 'sqlalchemy' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_here_interpolation_and_settings(tree: Tree) -> None:
    tree.revision("aaa111")
    history = load_one(tree.root)
    assert history.tool == "alembic"
    assert Path(str(history.settings["script_location"])).resolve() == tree.script.resolve()
    assert history.settings["transaction_per_migration"] is False
    assert [m.key for m in history.migrations] == ["aaa111"]
    assert all(m.runner_transaction for m in history.migrations)


def test_relative_script_location_is_resolved_against_the_ini(tree: Tree) -> None:
    (tree.root / "alembic.ini").write_text("[alembic]\nscript_location = migrations\n")
    tree.revision("aaa111")
    history = load_one(tree.root / "alembic.ini")
    assert [m.key for m in history.migrations] == ["aaa111"]


def test_package_path_script_location(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    pkg = root / "src" / "acmeapp" / "db"
    versions = pkg / "migrations" / "versions"
    versions.mkdir(parents=True)
    (pkg.parent / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    (pkg / "__init__.py").write_text("raise RuntimeError('imported!')\n")
    (pkg / "migrations" / "env.py").write_text("")
    (versions / "r1.py").write_text("revision = 'r1'\ndown_revision = None\n")
    (root / "alembic.ini").write_text("[alembic]\nscript_location = acmeapp.db:migrations\n")
    history = load_one(root)
    assert [m.key for m in history.migrations] == ["r1"]


def test_version_locations_and_recursive(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "migrations").mkdir(parents=True)
    (root / "migrations" / "env.py").write_text("")
    (root / "a" / "nested").mkdir(parents=True)
    (root / "b").mkdir()
    (root / "a" / "nested" / "r2.py").write_text("revision = 'r2'\ndown_revision = 'r1'\n")
    (root / "b" / "r1.py").write_text("revision = 'r1'\ndown_revision = None\n")
    (root / "alembic.ini").write_text(
        "[alembic]\nscript_location = %(here)s/migrations\n"
        "version_locations = %(here)s/a %(here)s/b\nrecursive_version_locations = true\n"
    )
    history = load_one(root)
    assert [m.key for m in history.migrations] == ["r1", "r2"]


def test_pyproject_tool_alembic(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "db" / "versions").mkdir(parents=True)
    (root / "db" / "env.py").write_text("")
    (root / "db" / "versions" / "r1.py").write_text("revision = 'r1'\ndown_revision = None\n")
    (root / "pyproject.toml").write_text('[tool.alembic]\nscript_location = "%(here)s/db"\n')
    assert is_alembic_path(str(root))
    history = load_one(root)
    assert [m.key for m in history.migrations] == ["r1"]


def test_bad_configuration_is_an_input_error(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "alembic.ini").write_text("[alembic]\nsqlalchemy.url = x\n")
    histories, errors, _ = load_alembic(str(root))
    assert histories == []
    assert len(errors) == 1 and "script_location" in errors[0].message
    assert errors[0].path.endswith("alembic.ini")
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/nowhere\n")
    histories, errors, _ = load_alembic(str(root))
    assert histories == [] and "nowhere" in errors[0].message


def test_missing_path_is_an_input_error(tmp_path: Path) -> None:
    histories, errors, notes = load_alembic(str(tmp_path / "missing"))
    assert histories == [] and notes == []
    assert errors[0].message == "no such file or directory"


def test_script_dir_without_ini(tmp_path: Path) -> None:
    script = tmp_path / "alembic"
    (script / "versions").mkdir(parents=True)
    (script / "env.py").write_text("")
    (script / "versions" / "r1.py").write_text("revision = 'r1'\ndown_revision = None\n")
    history = load_one(script)
    assert [m.key for m in history.migrations] == ["r1"]


def test_versions_dir_loads_the_whole_project(tree: Tree) -> None:
    tree.revision("aaa111")
    tree.revision("bbb222", "aaa111")
    tree.env("connection=connection, transaction_per_migration=True")
    history = load_one(tree.versions)
    assert [m.key for m in history.migrations] == ["aaa111", "bbb222"]
    assert all(m.selected for m in history.migrations)
    # The ini above the versions directory was found, so env.py settings apply.
    assert history.settings["transaction_per_migration"] is True


def test_single_revision_file_selects_only_it(tree: Tree) -> None:
    tree.revision("aaa111")
    second = tree.revision("bbb222", "aaa111")
    tree.revision("ccc333", "bbb222")
    history = load_one(second)
    assert [(m.key, m.selected) for m in history.migrations] == [
        ("aaa111", False),
        ("bbb222", True),
        ("ccc333", False),
    ]
    # Earlier revisions are still rendered: the engine replays them to build the schema.
    assert all(m.chunks is not None for m in history.migrations)


def test_selected_by_path_as_listed_or_through_a_link(
    tree: Tree, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.revision("aaa111")
    second = tree.revision("bbb222", "aaa111")
    tree.revision("ccc333", "bbb222")
    link = tmp_path / "link"
    link.symlink_to(tree.root, target_is_directory=True)
    monkeypatch.chdir(tree.root)
    for named in (
        "migrations/versions/../versions/bbb222_revision.py",  # another spelling
        str(link / second.relative_to(tree.root)),  # through a link: resolved
    ):
        histories, errors, _ = load_alembic(str(tree.root), selected=[named])
        assert errors == [], named
        assert [m.selected for m in histories[0].migrations] == [False, True, False], named


def test_selected_by_id_prefix_label_and_unknown(tree: Tree) -> None:
    tree.revision("aaa111")
    tree.revision("bbb222", "aaa111", labels=("feature",))
    tree.revision("ccc333", "bbb222")
    histories, errors, _ = load_alembic(str(tree.root), selected=["ccc", "feature"])
    assert errors == []
    assert [m.selected for m in histories[0].migrations] == [False, True, True]
    _, errors, _ = load_alembic(str(tree.root), selected=["zzz999"])
    assert len(errors) == 1 and "zzz999" in errors[0].message


def test_paths_are_relative_to_cwd_with_forward_slashes(
    tree: Tree, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree.revision("aaa111")
    monkeypatch.chdir(tree.root)
    history = load_one(".")
    assert history.migrations[0].path == "migrations/versions/aaa111_revision.py"


@pytest.mark.parametrize(
    ("configure", "expected", "noted"),
    [
        ("connection=connection, transaction_per_migration=True", True, False),
        ("connection=connection, transaction_per_migration=False", False, False),
        ("connection=connection", False, False),
        ("connection=connection, transaction_per_migration=PER_MIGRATION", False, True),
    ],
)
def test_transaction_per_migration_detection(
    tree: Tree, configure: str, expected: bool, noted: bool
) -> None:
    tree.revision("aaa111")
    tree.env(configure)
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert histories[0].settings["transaction_per_migration"] is expected
    assert any("transaction_per_migration" in n.message for n in notes) is noted


def test_project_found_below_a_repository_root(tmp_path: Path) -> None:
    backend = tmp_path / "repo" / "backend"
    (backend / "migrations" / "versions").mkdir(parents=True)
    (backend / "migrations" / "env.py").write_text("")
    (backend / "migrations" / "versions" / "r1.py").write_text(
        "revision = 'r1'\ndown_revision = None\n"
    )
    (backend / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    history = load_one(tmp_path / "repo")
    assert [m.key for m in history.migrations] == ["r1"]


def test_non_revision_python_files_are_skipped_with_a_note(tree: Tree) -> None:
    tree.revision("aaa111")
    (tree.versions / "helpers.py").write_text("def helper():\n    pass\n")
    (tree.versions / "__init__.py").write_text("")
    histories, errors, notes = load_alembic(str(tree.root))
    assert errors == []
    assert [m.key for m in histories[0].migrations] == ["aaa111"]
    assert [Path(n.path).name for n in notes] == ["helpers.py"]
