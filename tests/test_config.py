"""Configuration as a user writes it: where it is found, what every key does, and the exact
message each mistake gets (file, key and what is valid; never a traceback).

Every repository here has a ``.git`` directory, so discovery never reads files above
``tmp_path``. The end-to-end tests at the bottom run the real CLI and are skipped until
``migcheck check`` has a ``--config`` option.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import helpers
from migcheck import config as cfg
from migcheck.config import (
    Config,
    ConfigError,
    find_config,
    globs,
    is_excluded,
    load_config,
    locate_config,
    merge,
    per_file_ignored,
)
from migcheck.rules import all_rules
from migcheck.settings import Settings


def write(path: Path, text: str | bytes = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository root (with ``.git``) that is also the working directory."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "db" / "migrations" / "001_init.sql", "CREATE TABLE t (id int);\n")
    monkeypatch.chdir(root)
    return root


def load_text(repo: Path, text: str, name: str = "pyproject.toml") -> Config:
    return load_config(write(repo / name, text))


def error_of(repo: Path, text: str, name: str = "pyproject.toml") -> str:
    with pytest.raises(ConfigError) as info:
        load_text(repo, text, name)
    return str(info.value)


# -- discovery ----------------------------------------------------------------------------


def test_found_by_walking_up_from_a_nested_migration_path(repo: Path) -> None:
    config = write(repo / "pyproject.toml", '[tool.migcheck]\nfail-on = "error"\n')
    assert find_config(["db/migrations/001_init.sql"], None) == config
    assert find_config(["db/migrations"], None) == config
    assert load_config(config).fail_on == "error"


def test_walk_starts_at_the_linted_paths_not_the_working_directory(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write(repo / "migcheck.toml", "pg-version = 16\n")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / ".git").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    assert find_config([str(repo / "db" / "migrations")], None) == config
    assert find_config(["../repo/db/migrations/001_init.sql"], None) == config
    assert find_config(["."], None) is None


def test_pyproject_without_the_table_does_not_stop_the_walk(repo: Path) -> None:
    write(repo / "db" / "pyproject.toml", '[project]\nname = "db-tools"\n')
    config = write(repo / "migcheck.toml", 'fail-on = "never"\n')
    assert find_config(["db/migrations"], None) == config


def test_pyproject_with_the_table_stops_the_walk(repo: Path) -> None:
    nearer = write(repo / "db" / "pyproject.toml", '[tool.migcheck]\nfail-on = "error"\n')
    write(repo / "migcheck.toml", 'fail-on = "never"\n')
    assert find_config(["db/migrations"], None) == nearer


def test_nearest_file_wins_and_an_empty_migcheck_toml_counts(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.migcheck]\nfail-on = "error"\n')
    nearer = write(repo / "db" / "migcheck.toml", "")
    assert find_config(["db/migrations/001_init.sql"], None) == nearer
    assert load_config(nearer) == Config(root=repo / "db", path=nearer)


def test_order_within_one_directory(repo: Path) -> None:
    write(repo / "pyproject.toml", "[tool.migcheck]\n")
    assert find_config(["db"], None) == repo / "pyproject.toml"
    write(repo / "migcheck.toml", "")
    assert find_config(["db"], None) == repo / "migcheck.toml"
    write(repo / ".migcheck.toml", "")
    assert find_config(["db"], None) == repo / ".migcheck.toml"


@pytest.mark.parametrize("git", ["dir", "file"])
def test_walk_stops_at_the_repository_root(tmp_path: Path, git: str) -> None:
    write(tmp_path / "migcheck.toml", 'fail-on = "never"\n')  # outside the repository
    repo = tmp_path / "repo"
    if git == "dir":
        (repo / ".git").mkdir(parents=True)
    else:  # a worktree or submodule has a .git file
        write(repo / ".git", "gitdir: ../.git/worktrees/repo\n")
    write(repo / "db" / "001.sql", "SELECT 1;\n")
    assert find_config([str(repo / "db" / "001.sql")], None) is None
    # The root itself is still searched.
    config = write(repo / "migcheck.toml", "")
    assert find_config([str(repo / "db" / "001.sql")], None) == config


def test_missing_path_and_stdin_still_find_the_project_config(repo: Path) -> None:
    config = write(repo / "migcheck.toml", "")
    assert find_config(["db/migrations/999_typo.sql"], None) == config
    assert find_config(["-"], None) == config
    assert find_config([], None) == config


def test_explicit_config_overrides_discovery(repo: Path, tmp_path: Path) -> None:
    write(repo / "pyproject.toml", '[tool.migcheck]\nfail-on = "never"\n')
    strict = write(tmp_path / "ci" / "strict.toml", 'fail-on = "warning"\n')
    assert find_config(["db/migrations"], str(strict)) == strict
    assert load_config(strict).fail_on == "warning"
    # A file named pyproject.toml given explicitly is read through its table.
    other = write(tmp_path / "other" / "pyproject.toml", "[tool.migcheck]\npg-version = 12\n")
    assert load_config(find_config(["db"], str(other))).pg_version == 12  # type: ignore[arg-type]


def test_explicit_config_that_does_not_exist(repo: Path) -> None:
    with pytest.raises(ConfigError) as info:
        find_config(["db"], "nope.toml")
    assert str(info.value) == "nope.toml: no such file (named by --config)"
    with pytest.raises(ConfigError) as info:
        find_config(["db"], "db")
    assert str(info.value) == "db: is a directory, not a file (named by --config)"


def test_explicit_pyproject_without_the_table(repo: Path) -> None:
    write(repo / "pyproject.toml", '[project]\nname = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(find_config(["db"], "pyproject.toml"))  # type: ignore[arg-type]
    assert str(info.value) == (
        "pyproject.toml: has no [tool.migcheck] table; put migcheck's settings there"
    )


def test_paths_finding_different_configs_use_the_first_and_say_so(repo: Path) -> None:
    first = write(repo / "a" / "migcheck.toml", "")
    write(repo / "a" / "001.sql", "SELECT 1;\n")
    write(repo / "b" / "migcheck.toml", "")
    write(repo / "b" / "001.sql", "SELECT 1;\n")
    write(repo / "c" / "001.sql", "SELECT 1;\n")
    chosen, notes = locate_config(["c/001.sql", "a/001.sql", "b/001.sql", "b"], None)
    assert chosen == first  # c finds none: the first path that finds one decides
    assert notes == [
        "b/migcheck.toml (the config for b/001.sql) is not used: one run uses one "
        "configuration, a/migcheck.toml; lint that path in a run of its own to use it"
    ]
    assert locate_config(["a", "a/001.sql"], None) == (first, [])


def test_unrelated_broken_pyproject_is_skipped_but_a_broken_migcheck_table_is_an_error(
    repo: Path,
) -> None:
    write(repo / "db" / "pyproject.toml", "[project\nname = 1\n")
    assert find_config(["db/migrations"], None) is None
    write(repo / "db" / "pyproject.toml", "[tool.migcheck]\nfail-on = \n")
    with pytest.raises(ConfigError) as info:
        find_config(["db/migrations"], None)
    assert str(info.value) == "db/pyproject.toml:2:11: invalid TOML: Invalid value"


# -- every key ----------------------------------------------------------------------------

EVERY_KEY = """\
select = ["locking", "drop-column"]
ignore = ["lock-table"]
extend-select = ["style"]
severity = { drop-column = "warning", truncate-table = "info" }
fail-on = "error"
pg-version = 16
assume-in-transaction = true
exclude = ["db/legacy/*"]
per-file-ignores = { "db/seed/*" = ["data"] }
max-file-size = 2.5
prisma-version = "5.22"
lock-timeout-role-level = true

[alembic]
import = true
include-downgrade = true
transaction-per-migration = false
"""


def test_every_key_in_migcheck_toml(repo: Path) -> None:
    path = write(repo / "migcheck.toml", EVERY_KEY)
    assert load_config(path) == Config(
        root=repo,
        path=path,
        select=("locking", "drop-column"),
        ignore=("lock-table",),
        extend_select=("style",),
        severity={"drop-column": "warning", "truncate-table": "info"},
        fail_on="error",
        pg_version=16,
        assume_in_transaction=True,
        exclude=("db/legacy/*",),
        per_file_ignores={"db/seed/*": ("data",)},
        max_file_size=2.5,
        prisma_version="5.22",
        alembic_import=True,
        include_downgrade=True,
        transaction_per_migration=False,
        lock_timeout_role_level=True,
    )


def test_every_key_in_pyproject_toml_reads_the_same(repo: Path) -> None:
    table = EVERY_KEY.replace("[alembic]", "[tool.migcheck.alembic]")
    pyproject = load_text(repo, '[project]\nname = "app"\n\n[tool.migcheck]\n' + table)
    plain = load_text(repo, EVERY_KEY, "migcheck.toml")
    assert pyproject == Config(**{**vars(plain), "path": repo / "pyproject.toml"})


def test_unset_keys_are_none(repo: Path) -> None:
    config = load_text(repo, "[tool.migcheck]\n")
    assert all(
        getattr(config, name) is None for name in vars(config) if name not in ("root", "path")
    )


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ('select = ["compatibility"]', "select", ("compatibility",)),
        ('select = ["ALL"]', "select", ("ALL",)),
        ('ignore = ["data", "drop-column"]', "ignore", ("data", "drop-column")),
        ('extend-select = ["prefer-text"]', "extend_select", ("prefer-text",)),
        ('severity = { drop-table = "info" }', "severity", {"drop-table": "info"}),
        ('fail-on = "never"', "fail_on", "never"),
        ("pg-version = 11", "pg_version", 11),
        ("pg-version = 18", "pg_version", 18),
        ("assume-in-transaction = true", "assume_in_transaction", True),
        ("max-file-size = 20", "max_file_size", 20.0),
        ('prisma-version = "6.1.0"', "prisma_version", "6.1.0"),
        ("lock-timeout-role-level = true", "lock_timeout_role_level", True),
        ("alembic = { include-downgrade = true }", "include_downgrade", True),
        ("alembic = { transaction-per-migration = true }", "transaction_per_migration", True),
    ],
)
def test_each_key_reaches_the_run_settings(repo: Path, line: str, key: str, value: object) -> None:
    merged = merge(load_text(repo, line + "\n", "migcheck.toml"), {})
    assert getattr(merged, key) == value
    # ... and without the file the run uses the default.
    assert getattr(merge(None, {}), key) == getattr(Settings(), key) != value


def test_a_config_file_cannot_turn_on_alembic_import(repo: Path) -> None:
    config = load_text(repo, "alembic = { import = true }\n", "migcheck.toml")
    assert config.alembic_import is True  # read, so the CLI can say it is ignored...
    assert merge(config, {}).alembic_import is False  # ... but never used
    assert merge(config, {"alembic_import": True}).alembic_import is True


# -- every mistake ------------------------------------------------------------------------

T = "pyproject.toml: [tool.migcheck] "
RULES_HINT = (
    "`migcheck rules` lists the rule ids, the categories are: "
    "compatibility, locking, data, style, meta"
)
ALL_KEYS = (
    "alembic, app-schema, assume-in-transaction, exclude, extend-select, fail-on, ignore, "
    "lock-timeout-role-level, max-file-size, max-total-size, per-file-ignores, pg-version, "
    "prisma-version, rehearse, "
    "select, severity, small-table-bytes, small-table-rows, table-stats"
)
VERSIONS = "11, 12, 13, 14, 15, 16, 17, 18"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        # unknown keys
        ('fail_on = "error"', T + 'unknown key "fail_on"; keys are kebab-case: use "fail-on"'),
        (
            'fail-onn = "error"',
            T + f'unknown key "fail-onn" (did you mean "fail-on"?); valid keys: {ALL_KEYS}',
        ),
        ("colour = true", T + f'unknown key "colour"; valid keys: {ALL_KEYS}'),
        (
            "[tool.migcheck.alembic]\ninclude_downgrade = true",
            "pyproject.toml: [tool.migcheck.alembic] unknown key "
            '"include_downgrade"; keys are kebab-case: use "include-downgrade"',
        ),
        (
            "[tool.migcheck.alembic]\nrun = true",
            "pyproject.toml: [tool.migcheck.alembic] unknown key "
            '"run"; valid keys: import, include-downgrade, transaction-per-migration',
        ),
        # unknown rule ids
        (
            'select = ["drop-colum"]',
            T
            + 'select: unknown rule or category "drop-colum" (did you mean "drop-column"?); '
            + RULES_HINT,
        ),
        (
            'ignore = ["lockin"]',
            T + 'ignore: unknown rule or category "lockin" '
            f'(did you mean "locking"?); {RULES_HINT}',
        ),
        (
            'extend-select = ["E501"]',
            T + f'extend-select: unknown rule or category "E501"; {RULES_HINT}',
        ),
        (
            '[tool.migcheck.severity]\ndrop-colum = "info"',
            "pyproject.toml: [tool.migcheck.severity] unknown rule "
            '"drop-colum" (did you mean "drop-column"?); `migcheck rules` lists the rule ids',
        ),
        (
            '[tool.migcheck.severity]\nlocking = "info"',
            'pyproject.toml: [tool.migcheck.severity] "locking" is a category, but severity '
            "takes rule ids; `migcheck rules` lists them",
        ),
        (
            '[tool.migcheck.per-file-ignores]\n"db/legacy/*" = ["drop-column", "nope"]',
            'pyproject.toml: [tool.migcheck.per-file-ignores] "db/legacy/*": unknown rule '
            f'or category "nope"; {RULES_HINT}',
        ),
        # bad values
        (
            '[tool.migcheck.severity]\ndrop-column = "fatal"',
            "pyproject.toml: [tool.migcheck.severity] drop-column = "
            '"fatal" is not valid; choose one of: error, warning, info',
        ),
        (
            'fail-on = "warn"',
            T + 'fail-on = "warn" is not valid; choose one of: error, warning, never',
        ),
        ("pg-version = 10", T + f"pg-version = 10 is not valid; choose one of: {VERSIONS}"),
        ("pg-version = 19", T + f"pg-version = 19 is not valid; choose one of: {VERSIONS}"),
        (
            'pg-version = "15"',
            T + 'pg-version = "15" is not valid; expected a major version number (no quotes), '
            f"one of: {VERSIONS}",
        ),
        (
            "pg-version = 15.0",
            T + "pg-version = 15.0 is not valid; expected a major version number (no quotes), "
            f"one of: {VERSIONS}",
        ),
        (
            "pg-version = true",
            T + "pg-version = true is not valid; expected a major version number (no quotes), "
            f"one of: {VERSIONS}",
        ),
        (
            "select = []",
            T + "select = [] is not valid; it would select no rule; remove it to run the "
            "default rules",
        ),
        (
            'prisma-version = "latest"',
            T + 'prisma-version = "latest" is not valid; expected a version like "5.22"',
        ),
        (
            "prisma-version = 5.10",
            T + 'prisma-version = 5.1 is not valid; expected a version like "5.22" '
            "(in quotes: a number cannot tell 5.1 from 5.10)",
        ),
        (
            "max-file-size = 0",
            T + "max-file-size = 0 is not valid; expected a positive number of megabytes, e.g. 20",
        ),
        (
            'max-file-size = "10MB"',
            T + 'max-file-size = "10MB" is not valid; expected a positive number of megabytes, '
            "e.g. 20",
        ),
        (
            "max-file-size = inf",
            T + "max-file-size = inf is not valid; expected a positive number of megabytes, "
            "e.g. 20",
        ),
        # bad types
        (
            'select = "drop-column"',
            T + 'select = "drop-column" is not valid; expected a list of rule ids or categories, '
            'e.g. select = ["drop-column", "locking"]',
        ),
        (
            "ignore = [1, 2]",
            T + "ignore = [1, 2] is not valid; expected a list of rule ids or categories, "
            'e.g. ignore = ["drop-column", "locking"]',
        ),
        (
            'exclude = "db/legacy/*"',
            T + 'exclude = "db/legacy/*" is not valid; expected a list of globs relative to '
            'this file\'s directory, e.g. exclude = ["db/legacy/*"]',
        ),
        (
            'assume-in-transaction = "yes"',
            T + 'assume-in-transaction = "yes" is not valid; expected true or false',
        ),
        (
            "lock-timeout-role-level = 1",
            T + "lock-timeout-role-level = 1 is not valid; expected true or false",
        ),
        (
            '[tool.migcheck.alembic]\nimport = "yes"',
            'pyproject.toml: [tool.migcheck.alembic] import = "yes" is not valid; '
            "expected true or false",
        ),
        (
            'severity = "error"',
            T + 'severity = "error" is not valid; expected a table, e.g. '
            '[tool.migcheck.severity] drop-column = "warning"',
        ),
        (
            "alembic = true",
            T + "alembic = true is not valid; expected a table, e.g. "
            "[tool.migcheck.alembic] import = true",
        ),
        (
            'per-file-ignores = ["db/*"]',
            T + 'per-file-ignores = ["db/*"] is not valid; expected a table, e.g. '
            '[tool.migcheck.per-file-ignores] "db/legacy/*" = ["drop-column"]',
        ),
        (
            '[tool.migcheck.per-file-ignores]\n"db/legacy/*" = "drop-column"',
            'pyproject.toml: [tool.migcheck.per-file-ignores] "db/legacy/*" = "drop-column" '
            'is not valid; expected a list of rule ids or categories, e.g. "db/legacy/*" = '
            '["drop-column", "locking"]',
        ),
    ],
)
def test_mistakes_in_pyproject(repo: Path, table: str, message: str) -> None:
    text = table if table.startswith("[") else "[tool.migcheck]\n" + table
    assert error_of(repo, text + "\n") == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'fail-on = "warn"\n',
            'migcheck.toml: fail-on = "warn" is not valid; choose one of: error, warning, never',
        ),
        (
            '[severity]\ndrop-column = "fatal"\n',
            'migcheck.toml: [severity] drop-column = "fatal" is not valid; '
            "choose one of: error, warning, info",
        ),
        (
            "[alembic]\nimport = 1\n",
            "migcheck.toml: [alembic] import = 1 is not valid; expected true or false",
        ),
        (
            'alembic = "yes"\n',
            'migcheck.toml: alembic = "yes" is not valid; expected a table, e.g. '
            "[alembic] import = true",
        ),
        (
            '[tool.migcheck]\nfail-on = "error"\n',
            'migcheck.toml: unknown key "tool"; migcheck.toml takes the settings at the top '
            "level, without [tool.migcheck]",
        ),
        (
            '[per-file-ignores]\n"db/*" = ["nope"]\n',
            f'migcheck.toml: [per-file-ignores] "db/*": unknown rule or category "nope"; '
            f"{RULES_HINT}",
        ),
    ],
)
def test_mistakes_in_migcheck_toml(repo: Path, text: str, message: str) -> None:
    assert error_of(repo, text, "migcheck.toml") == message


def test_tool_migcheck_that_is_not_a_table(repo: Path) -> None:
    assert error_of(repo, "[tool]\nmigcheck = 1\n") == (
        "pyproject.toml: tool.migcheck = 1 is not valid; expected a table"
    )


def test_error_carries_file_and_dotted_key(repo: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_text(repo, '[tool.migcheck.severity]\ndrop-column = "fatal"\n')
    assert (info.value.path, info.value.key) == (repo / "pyproject.toml", "severity.drop-column")
    with pytest.raises(ConfigError) as info:
        load_text(repo, '[tool.migcheck.alembic]\nimport = "yes"\n')
    assert info.value.key == "alembic.import"


def test_a_config_error_is_a_usage_error_for_callers_that_only_catch_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[tool.migcheck]\nfail-on = "error"\nselect = ["a"\n',
            "pyproject.toml:4: invalid TOML: Unclosed array",
        ),
        (
            '[tool.migcheck]\nfail-on "error"\n',
            "pyproject.toml:2:9: invalid TOML: Expected '=' after a key in a key/value pair",
        ),
        (
            '[tool.migcheck]\nfail-on = "error"\nfail-on = "never"\n',
            "pyproject.toml:3:18: invalid TOML: Cannot overwrite a value",
        ),
    ],
)
def test_toml_syntax_error_names_file_and_line(repo: Path, text: str, message: str) -> None:
    assert error_of(repo, text) == message


def test_config_outside_the_working_directory_is_named_by_absolute_path(
    repo: Path, tmp_path: Path
) -> None:
    path = write(tmp_path / "shared" / "migcheck.toml", 'fail-on = "warn"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f'{path.as_posix()}: fail-on = "warn" is not valid; choose one of: error, warning, never'
    )


def test_not_utf8(repo: Path) -> None:
    path = write(repo / "migcheck.toml", b'fail-on = "\xff"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == "migcheck.toml: is not valid UTF-8 (byte 11); TOML files are UTF-8"


# -- merging with the command line --------------------------------------------------------

NOT_GIVEN: dict[str, object] = {
    "select": [],
    "extend_select": [],
    "ignore": [],
    "fail_on": None,
    "pg_version": None,
    "assume_in_transaction": None,
    "max_file_size": None,
    "prisma_version": None,
    "alembic_import": None,
    "include_downgrade": None,
}


def test_cli_values_given_override_the_file(repo: Path) -> None:
    config = load_text(repo, EVERY_KEY, "migcheck.toml")
    from_file = merge(config, NOT_GIVEN)
    assert (from_file.fail_on, from_file.pg_version, from_file.max_file_size) == (
        "error",
        16,
        2.5,
    )
    assert from_file.assume_in_transaction is True
    assert from_file.prisma_version == "5.22"
    given = merge(
        config,
        {
            **NOT_GIVEN,
            "fail_on": "never",
            "pg_version": 12,
            "max_file_size": 1.0,
            "assume_in_transaction": False,
            "prisma_version": "4.16",
            "alembic_import": False,
        },
    )
    assert (given.fail_on, given.pg_version, given.max_file_size) == ("never", 12, 1.0)
    assert given.assume_in_transaction is False
    assert given.alembic_import is False
    assert given.prisma_version == "4.16"
    # Only in the file: kept.
    assert given.include_downgrade is True
    assert given.transaction_per_migration is False
    assert given.lock_timeout_role_level is True


def test_cli_only_keys_are_not_settings(repo: Path) -> None:
    merged = merge(None, {"fmt": "json", "statistics": True, "paths": ["db"]})
    assert not hasattr(merged, "fmt") and not hasattr(merged, "paths")
    assert merged.fail_on == "warning"
    assert merged.max_file_size == 10.0


def test_rule_selection_layers_like_ruff(repo: Path) -> None:
    config = load_text(
        repo,
        'select = ["locking"]\nextend-select = ["prefer-text"]\nignore = ["style", "lock-table"]\n',
        "migcheck.toml",
    )
    # The file alone.
    merged = merge(config, NOT_GIVEN)
    assert merged.select == ("locking",)
    assert merged.extend_select == ("prefer-text",)
    assert merged.ignore == ("style", "lock-table")
    # --ignore adds to the file's ignore.
    assert merge(config, {"ignore": ["drop-column"]}).ignore == (
        "style",
        "lock-table",
        "drop-column",
    )
    # --extend-select adds, and un-ignores what it names.
    merged = merge(config, {"extend_select": ["prefer-bigint"]})
    assert merged.extend_select == ("prefer-text", "prefer-bigint")
    style = {rid for rid, r in all_rules().items() if r.category == "style"}
    assert set(merged.ignore) == (style - {"prefer-bigint"}) | {"lock-table"}
    # --select replaces the file's whole selection.
    merged = merge(config, {"select": ["drop-column"]})
    assert (merged.select, merged.extend_select, merged.ignore) == (("drop-column",), (), ())


def test_severity_tables_merge_per_rule(repo: Path) -> None:
    config = load_text(
        repo, 'severity = { drop-column = "warning", drop-table = "info" }\n', "migcheck.toml"
    )
    merged = merge(config, {"severity": {"drop-table": "error"}})
    assert merged.severity == {"drop-column": "warning", "drop-table": "error"}


def test_merged_selection_is_accepted_by_the_runner(repo: Path) -> None:
    from migcheck.runner import select_rules

    config = load_text(repo, 'select = ["data"]\nignore = ["truncate-table"]\n', "migcheck.toml")
    merged = merge(config, NOT_GIVEN)
    chosen = select_rules(merged.select, merged.extend_select, merged.ignore)
    data = [rid for rid, r in all_rules().items() if r.category == "data"]
    assert chosen == [rid for rid in data if rid != "truncate-table"]
    assert chosen  # the data category is not empty, so the assertion can fail


def test_categories_match_the_runner() -> None:
    from migcheck.runner import CATEGORIES

    assert cfg.CATEGORIES == CATEGORIES
    assert {r.category for r in all_rules().values()} <= set(cfg.CATEGORIES)


# -- globs: per-file-ignores and exclude --------------------------------------------------


def test_per_file_ignores_are_relative_to_the_config_directory(repo: Path) -> None:
    write(repo / "db" / "migcheck.toml", '[per-file-ignores]\n"legacy/*.sql" = ["drop-column"]\n')
    config = load_config(repo / "db" / "migcheck.toml")
    assert per_file_ignored(config, "db/legacy/001.sql") == {"drop-column"}
    assert per_file_ignored(config, "legacy/001.sql") == set()  # not under db/
    assert per_file_ignored(config, "db/migrations/001.sql") == set()


def test_per_file_ignores_resolve_categories_and_all(repo: Path) -> None:
    config = load_text(
        repo,
        '[per-file-ignores]\n"db/seed/*" = ["data", "lock-table"]\n"*.tmp.sql" = ["ALL"]\n',
        "migcheck.toml",
    )
    data = {rid for rid, r in all_rules().items() if r.category == "data"}
    assert data
    assert per_file_ignored(config, "db/seed/001.sql") == data | {"lock-table"}
    assert per_file_ignored(config, "db/x/a.tmp.sql") == set(all_rules())


def test_glob_without_slash_matches_a_name_at_any_depth_and_directories_cover_contents(
    repo: Path,
) -> None:
    config = load_text(
        repo,
        '[per-file-ignores]\n"legacy" = ["drop-column"]\n"db/old/" = ["drop-table"]\n',
        "migcheck.toml",
    )
    assert per_file_ignored(config, "db/legacy/sub/001.sql") == {"drop-column"}
    assert per_file_ignored(config, "db/old/001.sql") == {"drop-table"}
    assert per_file_ignored(config, "db/older/001.sql") == set()


def test_displayed_paths_are_resolved_from_the_working_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_text(repo, '[per-file-ignores]\n"db/seed/*" = ["data"]\n', "migcheck.toml")
    monkeypatch.chdir(repo / "db")
    assert per_file_ignored(config, "seed/001.sql") != set()
    assert per_file_ignored(config, str(repo / "db" / "seed" / "001.sql")) != set()
    assert per_file_ignored(config, "-") == set()
    assert per_file_ignored(None, "seed/001.sql") == set()


def test_is_excluded(repo: Path) -> None:
    config = load_text(repo, 'exclude = ["db/legacy", "*.bak.sql"]\n', "migcheck.toml")
    assert is_excluded(config, "db/legacy")
    assert is_excluded(config, "db/legacy/001.sql")
    assert is_excluded(config, "db/migrations/002.bak.sql")
    assert not is_excluded(config, "db/migrations/001_init.sql")
    assert not is_excluded(config, "legacy/001.sql")  # db/legacy is anchored
    assert not is_excluded(None, "db/legacy/001.sql")


def test_config_exclude_reaches_discovery(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from migcheck.sources.discover import discover

    write(repo / "db" / "migrations" / "002_old.sql", "SELECT 1;\n")
    write(repo / "db" / "migrations" / "003_x.bak.sql", "SELECT 1;\n")
    write(repo / "db" / "legacy" / "001.sql", "SELECT 1;\n")
    config = load_text(
        repo,
        'exclude = ["d?/legacy", "*.bak.sql", "*/migrations/002_*"]\n',
        "migcheck.toml",
    )

    def linted(*paths: str) -> list[str]:
        found = discover(list(paths), exclude=merge(config, {}).exclude)
        files = [m.path for h in found.histories for m in h.migrations]
        assert sorted(files) == sorted(f for f in files if not is_excluded(config, f))
        return sorted(os.path.basename(f) for f in files)

    assert linted("db") == ["001_init.sql"]
    assert linted("db/legacy/001.sql", "db/migrations/003_x.bak.sql") == []
    # The same from outside the repository, where paths are shown differently.
    monkeypatch.chdir(tmp_path)
    assert linted("repo/db") == ["001_init.sql"]
    assert linted(str(repo / "db")) == ["001_init.sql"]
    # And from inside a subdirectory.
    monkeypatch.chdir(repo / "db")
    assert linted(".") == ["001_init.sql"]
    assert linted("legacy/001.sql", "migrations") == ["001_init.sql"]
    monkeypatch.chdir(repo / "db" / "migrations")
    assert linted(".", "../legacy") == ["001_init.sql"]


@pytest.mark.parametrize(
    "pattern",
    ["db/legacy", "d?/*.sql", "*/legacy/*", "[cd]b/[!x]*", "[]]b/*", "[b", "**", "db/le*cy"],
)
def test_rewritten_globs_match_exactly_what_the_original_matches(pattern: str) -> None:
    import fnmatch

    rests = globs._glob_after(pattern, "db/")
    for tail in ["legacy", "legacy/1.sql", "x.sql", "a/b.sql", "", "xlegacy", "le/cy", "]b/x"]:
        want = fnmatch.fnmatchcase("db/" + tail, pattern)
        assert any(fnmatch.fnmatchcase(tail, rest) for rest in rests) == want, (tail, rests)


def test_importing_config_stays_light() -> None:
    code = (
        "import sys, migcheck.config\n"
        "heavy = [m for m in ('click', 'migcheck.rules', 'sqlglot', 'migcheck.engine') "
        "if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- end to end, once the CLI has --config ------------------------------------------------

UNSAFE = 'ALTER TABLE "User" DROP COLUMN "bio";\n'
VIEW = "DROP VIEW active_users;\n"  # a warning


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = helpers.cli(*args, cwd=cwd, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


@pytest.fixture(scope="module")
def has_config_flag() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--help"], capture_output=True, text=True
    ).stdout
    if "--config" not in help_text:
        pytest.skip("migcheck check has no --config option yet")


@pytest.mark.usefixtures("has_config_flag")
def test_cli_reads_the_repository_config_from_a_nested_path(repo: Path) -> None:
    write(repo / "db" / "migrations" / "002_view.sql", VIEW)
    assert cli("db/migrations", cwd=repo).returncode == 1
    write(repo / "pyproject.toml", '[tool.migcheck]\nfail-on = "error"\n')
    assert cli("db/migrations", cwd=repo).returncode == 0
    assert cli("migrations/002_view.sql", cwd=repo / "db").returncode == 0
    # The command line wins over the file.
    assert cli("--fail-on", "warning", "db/migrations", cwd=repo).returncode == 1


@pytest.mark.usefixtures("has_config_flag")
def test_cli_config_flag_and_per_file_ignores(repo: Path, tmp_path: Path) -> None:
    write(repo / "db" / "migrations" / "002_drop.sql", UNSAFE)
    assert "drop-column" in cli("db", cwd=repo).stdout
    ci = write(
        tmp_path / "ci.toml", '[per-file-ignores]\n"db/migrations/002_*" = ["compatibility"]\n'
    )
    # Globs are relative to the file's own directory: this one names nothing under repo/.
    assert "drop-column" in cli("--config", str(ci), "db", cwd=repo).stdout
    local = write(repo / "ci.toml", ci.read_text())
    proc = cli("--config", str(local), "db", cwd=repo)
    assert "drop-column" not in proc.stdout
    assert proc.returncode == 0


@pytest.mark.usefixtures("has_config_flag")
def test_cli_config_error_exits_2_with_the_message(repo: Path) -> None:
    write(repo / "pyproject.toml", '[tool.migcheck]\nfail-on = "warn"\n')
    proc = cli("db", cwd=repo)
    assert proc.returncode == 2
    assert (
        'pyproject.toml: [tool.migcheck] fail-on = "warn" is not valid; '
        "choose one of: error, warning, never" in proc.stderr
    )
    proc = cli("--config", "missing.toml", "db", cwd=repo)
    assert proc.returncode == 2
    assert "missing.toml: no such file (named by --config)" in proc.stderr


@pytest.mark.usefixtures("has_config_flag")
def test_cli_exclude_and_severity_from_config(repo: Path) -> None:
    write(repo / "db" / "legacy" / "001_drop.sql", UNSAFE)
    write(repo / "db" / "migrations" / "002_view.sql", VIEW)
    write(
        repo / "migcheck.toml",
        'exclude = ["db/legacy"]\n[severity]\ndrop-view = "info"\n',
    )
    proc = cli("--format", "json", "db", cwd=repo)
    assert proc.returncode == 0, proc.stdout
    import json

    findings = json.loads(proc.stdout)["findings"]
    assert [(f["rule"], f["severity"]) for f in findings if f["rule"] == "drop-view"] == [
        ("drop-view", "info")
    ]
    assert not any(f["path"].startswith("db/legacy") for f in findings)
