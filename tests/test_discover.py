"""Tests for migration discovery: layouts, ordering, selection and bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migcheck.model import InputError
from migcheck.sources import History, reading
from migcheck.sources.discover import DiscoveryResult, discover


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Display paths are relative to the working directory: keep them short and stable.
    monkeypatch.chdir(tmp_path)


def write(path: str, text: str = "SELECT 1;\n") -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def only(result: DiscoveryResult, tool: str | None = None) -> History:
    histories = [h for h in result.histories if tool is None or h.tool == tool]
    assert len(histories) == 1, [(h.tool, h.root) for h in result.histories]
    return histories[0]


def paths(history: History) -> list[str]:
    return [m.path for m in history.migrations]


def selected(history: History) -> list[str]:
    return [m.path for m in history.migrations if m.selected]


# -- Prisma Migrate ----------------------------------------------------------------------

PRISMA = "prisma/migrations"


def make_prisma(package_json: str | None = '{"devDependencies": {"prisma": "^5.22.0"}}') -> None:
    write(f"{PRISMA}/migration_lock.toml", '# generated\nprovider = "postgresql"\n')
    write(f"{PRISMA}/20240301000000_add index/migration.sql", "CREATE INDEX i ON t (a);\n")
    write(f"{PRISMA}/20240101000000_init/migration.sql", "CREATE TABLE t (a int);\n")
    write(f"{PRISMA}/20240201000000_add column/migration.sql", "ALTER TABLE t ADD b int;\n")
    if package_json is not None:
        write("package.json", package_json)


PRISMA_ORDER = [
    f"{PRISMA}/20240101000000_init/migration.sql",
    f"{PRISMA}/20240201000000_add column/migration.sql",
    f"{PRISMA}/20240301000000_add index/migration.sql",
]


def test_prisma_history_in_folder_name_order() -> None:
    make_prisma()
    result = discover(["prisma"])
    history = only(result)
    assert result.errors == []
    assert (history.tool, history.root) == ("prisma", PRISMA)
    assert paths(history) == PRISMA_ORDER
    assert [m.key for m in history.migrations] == [
        "20240101000000_init",
        "20240201000000_add column",
        "20240301000000_add index",
    ]
    assert history.migrations[0].text == "CREATE TABLE t (a int);\n"
    assert all(m.selected for m in history.migrations)


def test_prisma_migrations_are_implicit_transactions_not_runner_transactions() -> None:
    make_prisma()
    migration = only(discover([PRISMA])).migrations[0]
    assert (migration.tool, migration.runner_transaction) == ("prisma", False)
    assert migration.notes["implicit_transaction"] is True


def test_prisma_settings_from_lock_file_and_package_json() -> None:
    make_prisma()
    settings = only(discover([PRISMA])).settings
    assert settings["provider"] == "postgresql"
    assert settings["prisma_version_spec"] == "^5.22.0"
    assert settings["prisma_version"] == (5, 22)
    assert settings["prisma_version_source"] == "package.json"


def test_prisma_version_prefers_the_cli_over_the_client() -> None:
    make_prisma(
        '{"dependencies": {"@prisma/client": "6.1.0"}, "devDependencies": {"prisma": "~4.16.2"}}'
    )
    assert only(discover([PRISMA])).settings["prisma_version"] == (4, 16)


def test_prisma_version_from_client_when_cli_is_absent() -> None:
    make_prisma('{"dependencies": {"@prisma/client": "6.1.0"}}')
    assert only(discover([PRISMA])).settings["prisma_version"] == (6, 1)


def test_prisma_version_nearest_package_json_with_prisma_wins() -> None:
    make_prisma('{"devDependencies": {"prisma": "4.0.0"}}')
    write("prisma/package.json", '{"devDependencies": {"prisma": "5.3.1"}}')
    settings = only(discover([PRISMA])).settings
    assert settings["prisma_version"] == (5, 3)
    assert settings["prisma_version_source"] == "prisma/package.json"


def test_prisma_version_search_stops_at_the_repository_root(tmp_path: Path) -> None:
    # package.json above the repository (.git) must not be used.
    write("package.json", '{"devDependencies": {"prisma": "5.0.0"}}')
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    write(f"repo/{PRISMA}/migration_lock.toml", 'provider = "postgresql"\n')
    write(f"repo/{PRISMA}/20240101000000_init/migration.sql")
    settings = only(discover(["repo"])).settings
    assert settings["prisma_version"] is None
    assert settings["prisma_version_spec"] is None


@pytest.mark.parametrize(
    ("spec", "version"),
    [("latest", None), ("workspace:*", None), (">=5.2.0 <6", (5, 2)), ("5", (5, 0))],
)
def test_prisma_version_spec_parsing(spec: str, version: tuple[int, int] | None) -> None:
    make_prisma(f'{{"devDependencies": {{"prisma": "{spec}"}}}}')
    settings = only(discover([PRISMA])).settings
    assert settings["prisma_version_spec"] == spec
    assert settings["prisma_version"] == version


def test_prisma_invalid_package_json_is_named_and_the_migrations_still_load() -> None:
    make_prisma("{not json")
    result = discover([PRISMA])
    assert [(e.path, e.message) for e in result.errors] == [
        (
            "package.json",
            "package.json is not valid JSON (line 1, column 2: Expecting property name "
            "enclosed in double quotes); the Prisma version is not read from it "
            "(pass --prisma-version)",
        )
    ]
    assert only(result).settings["prisma_version"] is None
    assert paths(only(result)) == PRISMA_ORDER


def test_naming_a_prisma_migration_file_loads_history_and_selects_it() -> None:
    make_prisma()
    history = only(discover([PRISMA_ORDER[1]]))
    assert paths(history) == PRISMA_ORDER  # earlier migrations build the schema
    assert selected(history) == [PRISMA_ORDER[1]]


def test_naming_a_prisma_migration_folder_selects_it() -> None:
    make_prisma()
    history = only(discover([f"{PRISMA}/20240301000000_add index"]))
    assert selected(history) == [PRISMA_ORDER[2]]
    assert len(history.migrations) == 3


def test_naming_two_prisma_files_makes_one_history() -> None:
    make_prisma()
    history = only(discover([PRISMA_ORDER[2], PRISMA_ORDER[0]]))
    assert selected(history) == [PRISMA_ORDER[0], PRISMA_ORDER[2]]


def test_naming_the_directory_and_a_file_selects_everything() -> None:
    make_prisma()
    history = only(discover([PRISMA_ORDER[0], "prisma"]))
    assert selected(history) == PRISMA_ORDER


def test_prisma_folder_without_migration_sql_is_reported() -> None:
    make_prisma()
    Path(f"{PRISMA}/20240401000000_broken").mkdir()
    result = discover([PRISMA])
    assert result.errors == [
        InputError(
            f"{PRISMA}/20240401000000_broken", "Prisma migration folder has no migration.sql"
        )
    ]
    assert paths(only(result)) == PRISMA_ORDER


def test_prisma_without_lock_file_is_still_recognised() -> None:
    make_prisma()
    Path(f"{PRISMA}/migration_lock.toml").unlink()
    history = only(discover([PRISMA_ORDER[2]]))
    assert history.tool == "prisma"
    assert selected(history) == [PRISMA_ORDER[2]]
    assert history.settings["lock_file"] is False


# -- golang-migrate ----------------------------------------------------------------------


def test_golang_migrate_numeric_order_and_down_files_skipped() -> None:
    for version in ("10", "2", "1"):
        write(f"db/{version}_step.up.sql", f"-- up {version}\n")
        write(f"db/{version}_step.down.sql", f"-- down {version}\n")
    history = only(discover(["db"]))
    assert history.tool == "golang-migrate"
    assert paths(history) == ["db/1_step.up.sql", "db/2_step.up.sql", "db/10_step.up.sql"]
    assert [m.key for m in history.migrations] == ["1", "2", "10"]
    migration = history.migrations[0]
    assert migration.runner_transaction is False
    assert migration.notes["implicit_transaction"] is True


def test_golang_migrate_timestamps() -> None:
    write("m/20240102000000_b.up.sql")
    write("m/20231231000000_a.up.sql")
    assert paths(only(discover(["m"]))) == [
        "m/20231231000000_a.up.sql",
        "m/20240102000000_b.up.sql",
    ]


def test_naming_a_golang_migrate_file_selects_it() -> None:
    for version in ("1", "2", "3"):
        write(f"db/{version}_x.up.sql")
    history = only(discover(["db/2_x.up.sql"]))
    assert paths(history) == ["db/1_x.up.sql", "db/2_x.up.sql", "db/3_x.up.sql"]
    assert selected(history) == ["db/2_x.up.sql"]


def test_down_file_named_explicitly_is_linted_on_its_own() -> None:
    write("db/1_x.up.sql")
    write("db/1_x.down.sql", "DROP TABLE x;\n")
    history = only(discover(["db/1_x.down.sql"]))
    assert (history.tool, paths(history)) == ("sql", ["db/1_x.down.sql"])


# -- Flyway ------------------------------------------------------------------------------


def test_flyway_version_order_repeatables_last_undo_skipped() -> None:
    for name in (
        "V2__later.sql",
        "V1_10__ten.sql",
        "V1_1__one.sql",
        "V1__base.sql",
        "V1.2__dotted.sql",
        "R__b_view.sql",
        "R__a_view.sql",
        "U1__undo.sql",
    ):
        write(f"sql/{name}")
    history = only(discover(["sql"]))
    assert history.tool == "flyway"
    assert [Path(p).name for p in paths(history)] == [
        "V1__base.sql",
        "V1_1__one.sql",
        "V1.2__dotted.sql",
        "V1_10__ten.sql",
        "V2__later.sql",
        "R__a_view.sql",
        "R__b_view.sql",
    ]
    assert all(m.runner_transaction for m in history.migrations)


def test_flyway_date_versions() -> None:
    write("f/V2026.01.10__c.sql")
    write("f/V2026.01.02__b.sql")
    write("f/V2025.12.31__a.sql")
    assert [m.key for m in only(discover(["f"])).migrations] == [
        "2025.12.31",
        "2026.01.02",
        "2026.01.10",
    ]


def test_flyway_script_config_can_disable_the_transaction() -> None:
    write("f/V1__a.sql")
    write("f/V2__concurrently.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    write("f/V2__concurrently.sql.conf", "executeInTransaction=false\n")
    history = only(discover(["f"]))
    assert [m.runner_transaction for m in history.migrations] == [True, False]


def test_flyway_script_config_can_force_the_transaction() -> None:
    write("f/V1__a.sql")
    write("f/V2__concurrently.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    write("f/V2__concurrently.sql.conf", "# forced\nexecuteInTransaction = TRUE\n")
    history = only(discover(["f"]))
    assert [m.runner_transaction for m in history.migrations] == [True, True]
    assert history.migrations[1].notes["execute_in_transaction"] is True
    assert "execute_in_transaction" not in history.migrations[0].notes


# -- dbmate ------------------------------------------------------------------------------

DBMATE_FILE = (
    "-- migrate:up\nCREATE TABLE users (id bigint);\n\n-- migrate:down\nDROP TABLE users;\n"
)


def test_dbmate_down_section_is_blanked_keeping_positions() -> None:
    write("db/migrations/20240101000000_users.sql", DBMATE_FILE)
    write("db/migrations/20240102000000_more.sql", "-- migrate:up\nSELECT 1;\n")
    history = only(discover(["db/migrations"]))
    assert history.tool == "dbmate"
    text = history.migrations[0].text
    assert text is not None
    assert "DROP" not in text
    original = DBMATE_FILE.splitlines(keepends=True)
    blanked = text.splitlines(keepends=True)
    assert len(blanked) == len(original)
    assert blanked[:3] == original[:3]  # the up section is untouched
    assert [len(line) for line in blanked] == [len(line) for line in original]
    assert blanked[4] == " " * (len(original[4]) - 1) + "\n"


def test_dbmate_transaction_option() -> None:
    write("db/1_a.sql", DBMATE_FILE)
    write("db/2_b.sql", "-- migrate:up transaction:false\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
    history = only(discover(["db"]))
    assert [m.tool for m in history.migrations] == ["dbmate", "dbmate"]
    assert [m.runner_transaction for m in history.migrations] == [True, False]
    # Without its transaction dbmate still sends the section as one query.
    assert [m.notes.get("implicit_transaction") for m in history.migrations] == [None, True]


# -- numbered files and other SQL --------------------------------------------------------


def test_numbered_files_in_natural_order() -> None:
    for name in ("10_ten.sql", "9_nine.sql", "0001-init.sql", "002_two.sql"):
        write(f"sql/{name}")
    history = only(discover(["sql"]))
    assert history.tool == "sql"
    assert [Path(p).name for p in paths(history)] == [
        "0001-init.sql",
        "002_two.sql",
        "9_nine.sql",
        "10_ten.sql",
    ]
    assert history.migrations[0].runner_transaction is False


def test_rollback_files_are_skipped() -> None:
    for name in ("001_a.sql", "001_a_down.sql", "down.sql", "002_b.rollback.sql", "3_c.down.sql"):
        write(f"sql/{name}")
    assert paths(only(discover(["sql"]))) == ["sql/001_a.sql"]


def test_unrelated_sql_files_are_histories_of_their_own() -> None:
    write("db/001_init.sql")
    write("db/seed.sql")
    write("db/queries/report.sql")
    result = discover(["db"])
    assert [(h.tool, h.root, paths(h)) for h in result.histories] == [
        ("sql", "db", ["db/001_init.sql"]),
        ("sql", "db/seed.sql", ["db/seed.sql"]),
        ("sql", "db/queries/report.sql", ["db/queries/report.sql"]),
    ]


def test_naming_a_numbered_file_selects_it_and_ignores_unrelated_siblings() -> None:
    write("db/001_init.sql")
    write("db/002_next.sql")
    Path("db/seed.sql").write_bytes(b"\x00binary")  # must not even be read
    result = discover(["db/002_next.sql"])
    assert result.errors == []
    history = only(result)
    assert paths(history) == ["db/001_init.sql", "db/002_next.sql"]
    assert selected(history) == ["db/002_next.sql"]


def test_naming_a_standalone_file_loads_only_it() -> None:
    write("db/001_init.sql")
    write("db/seed.sql", "INSERT INTO t VALUES (1);\n")
    history = only(discover(["db/seed.sql"]))
    assert paths(history) == ["db/seed.sql"]
    assert history.migrations[0].text == "INSERT INTO t VALUES (1);\n"


def test_walk_skips_non_sql_hidden_and_vendored_directories() -> None:
    write("app/001_init.sql")
    write("app/models.py", "print('not sql')\n")
    write("app/.hidden/001_x.sql")
    write("app/.001_swap.sql")
    for skipped in (
        "node_modules/pkg",
        ".git",
        "__pycache__",
        ".venv",
        "venv",
        "lib/site-packages",
        "env",
    ):
        write(f"app/{skipped}/001_x.sql")
    write("app/env/pyvenv.cfg", "home = /usr\n")
    result = discover(["app"])
    assert [paths(h) for h in result.histories] == [["app/001_init.sql"]]


def test_explicit_file_without_sql_suffix_is_linted() -> None:
    write("change.psql", "ALTER TABLE t ADD c int;\n")
    history = only(discover(["change.psql"]))
    assert (history.tool, paths(history)) == ("sql", ["change.psql"])


def test_directory_walk_is_sorted_and_deterministic() -> None:
    for name in ("b/001_x.sql", "a/z.sql", "a/001_x.sql", "c.sql"):
        write(f"root/{name}")
    first = [paths(h) for h in discover(["root"]).histories]
    assert first == [["root/c.sql"], ["root/a/001_x.sql"], ["root/a/z.sql"], ["root/b/001_x.sql"]]
    assert [paths(h) for h in discover(["root"]).histories] == first


def test_same_files_reached_twice_are_returned_once() -> None:
    write("db/001_a.sql")
    write("db/002_b.sql")
    result = discover(["db", "db/002_b.sql", "./db"])
    assert result.errors == []
    assert paths(only(result)) == ["db/001_a.sql", "db/002_b.sql"]


def test_paths_outside_the_working_directory_are_absolute(tmp_path: Path) -> None:
    write("outside/001_a.sql")
    work = tmp_path / "work"
    work.mkdir()
    os.chdir(work)
    history = only(discover(["../outside"]))
    assert paths(history) == [(tmp_path / "outside" / "001_a.sql").as_posix()]
    assert history.root == (tmp_path / "outside").as_posix()


# -- bad input ---------------------------------------------------------------------------


def test_missing_path_is_reported_and_others_still_load() -> None:
    write("db/001_a.sql")
    result = discover(["missing.sql", "db"])
    assert result.errors == [InputError("missing.sql", "No such file or directory")]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_directory_without_migrations() -> None:
    write("docs/readme.md", "# hi\n")
    Path("empty").mkdir()
    result = discover(["docs", "empty"])
    assert result.histories == []
    assert result.errors == [
        InputError("docs", "no SQL migrations found in docs"),
        InputError("empty", "no SQL migrations found in empty"),
    ]


def test_directory_with_only_down_files_has_no_migrations() -> None:
    write("db/1_a.down.sql")
    assert discover(["db"]).errors == [InputError("db", "no SQL migrations found in db")]


def test_unreadable_file_is_omitted_and_the_rest_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    write("db/001_a.sql")
    write("db/002_b.sql")
    write("db/003_c.sql")
    real_open = reading._open_nonblocking

    def deny(file: str) -> int:
        if str(file).endswith("002_b.sql"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file)

    monkeypatch.setattr(reading, "_open_nonblocking", deny)
    result = discover(["db"])
    assert result.errors == [InputError("db/002_b.sql", "permission denied")]
    assert paths(only(result)) == ["db/001_a.sql", "db/003_c.sql"]


def test_invalid_utf8_in_a_history() -> None:
    write("db/001_a.sql")
    Path("db/002_b.sql").write_bytes(b"SELECT 1;\n\nSELECT\xff;\n")
    result = discover(["db"])
    assert result.errors == [
        InputError("db/002_b.sql", "not valid UTF-8 at line 3, column 7 (byte 0xff)", 3)
    ]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_binary_file_in_a_directory() -> None:
    write("db/001_a.sql")
    Path("db/002_dump.sql").write_bytes(b"PGDMP\x00\x00")
    result = discover(["db"])
    assert result.errors == [InputError("db/002_dump.sql", "binary file, not SQL")]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_empty_file_is_a_migration_with_empty_text_not_an_error() -> None:
    write("db/001_a.sql", "  \n")
    result = discover(["db"])
    assert result.errors == []
    migration = only(result).migrations[0]
    assert migration.text == "  \n"
    assert migration.notes["empty"] is True


def test_file_above_the_size_limit_is_skipped() -> None:
    write("db/001_a.sql")
    write("db/002_big.sql", "x" * 2_000)
    result = discover(["db"], max_bytes=1_000)
    assert result.errors == [
        InputError(
            "db/002_big.sql",
            "file is 2 kB, above the 1 kB limit; raise it with --max-file-size",
        )
    ]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_file_above_the_default_limit() -> None:
    with open("huge.sql", "wb") as handle:
        handle.truncate(52_400_000)
    assert discover(["huge.sql"]).errors == [
        InputError(
            "huge.sql", "file is 52.4 MB, above the 10 MB limit; raise it with --max-file-size"
        )
    ]


def test_directory_symlink_cycle_is_reported_once_and_walk_ends() -> None:
    write("db/001_a.sql")
    write("db/sub/001_b.sql")
    os.symlink("..", "db/sub/up")
    result = discover(["db"])
    assert result.errors == [
        InputError("db/sub/up", "symbolic link cycle: points back to db, not followed")
    ]
    assert [paths(h) for h in result.histories] == [["db/001_a.sql"], ["db/sub/001_b.sql"]]


def test_symlink_to_a_directory_outside_the_named_one_is_followed_in_the_repository() -> None:
    Path(".git").mkdir()  # the boundary is the repository, not the named directory
    write("shared/001_a.sql")
    Path("db").mkdir()
    os.symlink("../shared", "db/linked")
    assert paths(only(discover(["db"]))) == ["db/linked/001_a.sql"]


def test_symlink_out_of_the_named_directory_is_not_followed_outside_a_repository() -> None:
    write("shared/001_a.sql")
    write("db/001_b.sql")
    os.symlink("../shared", "db/linked")
    result = discover(["db"])
    assert paths(only(result)) == ["db/001_b.sql"]
    assert result.errors == []
    assert [
        (n.path, n.message.endswith("outside the linted tree; not followed")) for n in result.notes
    ] == [("db/linked", True)]


def test_symlink_loop_in_a_directory_is_reported() -> None:
    write("db/001_a.sql")
    os.symlink("b", "db/a")
    os.symlink("a", "db/b")
    result = discover(["db"])
    message = "symbolic link loop (too many levels of symbolic links)"
    assert result.errors == [InputError("db/a", message), InputError("db/b", message)]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_broken_sql_symlink_in_a_directory_is_reported() -> None:
    write("db/001_a.sql")
    os.symlink("gone.sql", "db/002_b.sql")
    result = discover(["db"])
    assert result.errors == [
        InputError("db/002_b.sql", "broken symbolic link (its target gone.sql does not exist)")
    ]
    assert paths(only(result)) == ["db/001_a.sql"]


def test_broken_symlink_given_as_path() -> None:
    os.symlink("nowhere", "link")
    assert discover(["link"]).errors == [
        InputError("link", "broken symbolic link (its target nowhere does not exist)")
    ]


# -- exclude -----------------------------------------------------------------------------


def test_exclude_by_basename_and_relative_path() -> None:
    write("db/001_a.sql")
    write("db/002_b.sql")
    write("db/seeds/dev.sql")
    result = discover(["db"], exclude=["002_*", "seeds/*"])
    assert result.errors == []
    assert [paths(h) for h in result.histories] == [["db/001_a.sql"]]


def test_exclude_prunes_directories_and_prisma_folders() -> None:
    make_prisma()
    write("prisma/seeds/seed.sql")
    history = only(discover(["prisma"], exclude=["seeds", "*add index*"]))
    assert paths(history) == PRISMA_ORDER[:2]


def test_exclude_applies_to_explicit_files_without_error() -> None:
    write("db/1_a.up.sql")
    write("db/1_a.down.sql")
    result = discover(["db/1_a.up.sql", "db/1_a.down.sql"], exclude=["*.down.sql"])
    assert result.errors == []
    assert paths(only(result)) == ["db/1_a.up.sql"]


def test_directory_emptied_by_exclude_is_not_an_error() -> None:
    write("db/001_a.sql")
    result = discover(["db"], exclude=["*.sql"])
    assert (result.histories, result.errors) == ([], [])


# -- stdin -------------------------------------------------------------------------------


def test_stdin_is_one_history() -> None:
    history = only(discover(["-"], stdin_text="\ufeffSELECT 1;\n"))
    assert (history.tool, paths(history)) == ("stdin", ["-"])
    assert history.migrations[0].text == "SELECT 1;\n"


def test_stdin_shown_with_its_filename() -> None:
    history = only(discover(["-"], stdin_text="SELECT 1;", stdin_filename="new/0001_x.sql"))
    assert paths(history) == ["new/0001_x.sql"]


def test_stdin_filename_inside_a_history_replaces_that_file() -> None:
    write("db/001_a.sql", "CREATE TABLE t (a int);\n")
    write("db/002_b.sql", "-- saved version\n")
    history = only(
        discover(["-"], stdin_text="ALTER TABLE t ADD b int;\n", stdin_filename="db/002_b.sql")
    )
    assert selected(history) == ["db/002_b.sql"]
    assert [m.text for m in history.migrations] == [
        "CREATE TABLE t (a int);\n",
        "ALTER TABLE t ADD b int;\n",
    ]


def test_stdin_dbmate_file_has_down_section_blanked() -> None:
    history = only(discover(["-"], stdin_text=DBMATE_FILE))
    assert "DROP" not in (history.migrations[0].text or "")


def test_stdin_without_text_is_an_error_not_a_crash() -> None:
    result = discover(["-"])
    assert result.histories == []
    assert result.errors == [InputError("-", "no text was read from stdin")]


def test_supabase_migrations_run_as_one_implicit_transaction(tmp_path: Path) -> None:
    from helpers import lint_history

    mig = tmp_path / "supabase" / "migrations"
    mig.mkdir(parents=True)
    (mig / "20240101000000_init.sql").write_text("create table notes (id bigint primary key);\n")
    (mig / "20240102000000_index.sql").write_text(
        "alter table notes add column body text;\n"
        "create index concurrently notes_body_idx on notes (body);\n"
    )
    found = discover([str(mig)])
    (history,) = found.histories
    assert history.tool == "supabase"
    findings = lint_history(history, rules=["concurrent-in-transaction"]).findings
    assert [(f.rule, f.line) for f in findings] == [("concurrent-in-transaction", 2)]
    assert "Supabase CLI" in findings[0].message


def _diesel_tree(root: Path) -> Path:
    mig = root / "migrations"
    for folder, up in [
        (
            "00000000000000_diesel_initial_setup",
            "create table users (id bigint primary key, name text);\n",
        ),
        ("2024-01-02-120000_add_index", "create index users_name_idx on users (name);\n"),
        (
            "2024-01-10-090000_concurrent",
            "create index concurrently users_id_name on users (id, name);\n",
        ),
    ]:
        (mig / folder).mkdir(parents=True)
        (mig / folder / "up.sql").write_text(up)
        (mig / folder / "down.sql").write_text("drop table users;\n")
    (mig / "2024-01-10-090000_concurrent" / "metadata.toml").write_text(
        "run_in_transaction = false\n"
    )
    return mig


def test_diesel_folders_are_one_history_in_folder_order(tmp_path: Path) -> None:
    mig = _diesel_tree(tmp_path)
    (history,) = discover([str(mig)]).histories
    assert history.tool == "diesel"
    assert [m.key for m in history.migrations] == [
        "00000000000000_diesel_initial_setup",
        "2024-01-02-120000_add_index",
        "2024-01-10-090000_concurrent",
    ]
    assert [m.runner_transaction for m in history.migrations] == [True, True, False]
    # batch_execute still sends up.sql as one query: an implicit transaction.
    assert [m.notes.get("implicit_transaction") for m in history.migrations] == [
        None,
        None,
        True,
    ]


def test_naming_one_diesel_up_sql_replays_the_earlier_folders(tmp_path: Path) -> None:
    from helpers import lint_history

    mig = _diesel_tree(tmp_path)
    (history,) = discover([str(mig / "2024-01-02-120000_add_index" / "up.sql")]).histories
    assert [m.selected for m in history.migrations] == [False, True, False]
    findings = lint_history(
        history, rules=["non-concurrent-index", "concurrent-in-transaction"]
    ).findings
    assert [(f.rule, f.line) for f in findings] == [("non-concurrent-index", 1)]


def test_diesel_directory_still_walks_folders_that_are_not_migrations(tmp_path: Path) -> None:
    mig = _diesel_tree(tmp_path)
    (mig / "scripts").mkdir()
    (mig / "scripts" / "cleanup.sql").write_text("delete from users;\n")
    histories = discover([str(mig)]).histories
    assert sorted(h.tool for h in histories) == ["diesel", "sql"]
