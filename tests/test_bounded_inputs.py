"""Tiny hostile inputs that used to cost unbounded work (issue 10, point 11).

Each ran into a RecursionError traceback with exit 1 and stopped every other file from
being linted. Now each is bounded: the DO block is reported as SQL migcheck cannot read,
and a JSON file nested too deeply is a one-line input error naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path

from migcheck.baseline import BaselineError, load_baseline
from migcheck.dynamic import MAX_NESTING, analyse_body
from migcheck.sources.discover import discover
from test_cli import run, write

NESTED_EXECUTE = "DO $$ BEGIN EXECUTE " + "(" * 500 + "'x'" + ")" * 500 + "; END $$;\n"
DEEP_JSON = "[" * 100_000 + "]" * 100_000


def test_do_block_with_500_nested_parentheses_is_opaque_and_the_file_is_still_linted(
    tmp_path: Path,
) -> None:
    write(tmp_path / "db" / "001.sql", 'CREATE TABLE "User" ("bio" text);\n')
    write(tmp_path / "db" / "002.sql", NESTED_EXECUTE + 'ALTER TABLE "User" DROP COLUMN "bio";\n')
    proc = run("--format", "json", "db", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    found = {(f["rule"], f["line"]) for f in json.loads(proc.stdout)["findings"]}
    assert ("opaque-ddl", 1) in found
    assert ("drop-column", 2) in found


def test_execute_argument_nesting_just_inside_the_bound_is_still_evaluated() -> None:
    depth = MAX_NESTING - 2
    body = "$$ BEGIN EXECUTE " + "(" * depth + "'ALTER TABLE t DROP COLUMN c'" + ")" * depth
    analysis = analyse_body(body + "; END $$")
    assert analysis.statements == ["ALTER TABLE t DROP COLUMN c"]
    assert analysis.dynamic == []


def test_nested_calls_and_variables_share_the_bound() -> None:
    calls = "$$ BEGIN EXECUTE " + "lower(" * 2000 + "'x'" + ")" * 2000 + "; END $$"
    assert [d.verb for d in analyse_body(calls).opaque_ddl] == [""]
    chain = " ".join(f"v{i} text := (((v{i + 1})));" for i in range(50))
    variables = f"$$ DECLARE {chain} v50 text := 'DROP TABLE t'; BEGIN EXECUTE v0; END $$"
    assert len(analyse_body(variables).dynamic) == 1


def test_deeply_nested_cast_in_using_does_not_recurse_without_bound(tmp_path: Path) -> None:
    casts = "CAST(" * 1000 + "a" + " AS int)" * 1000
    parens = "(" * 5000 + "b" + ")" * 5000
    write(tmp_path / "db" / "001.sql", "CREATE TABLE t (a int, b int);\n")
    write(
        tmp_path / "db" / "002.sql",
        f"ALTER TABLE t ALTER COLUMN a TYPE bigint USING {casts};\n"
        f"ALTER TABLE t ALTER COLUMN b TYPE bigint USING {parens};\n",
    )
    proc = run("--format", "json", "db", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    found = {(f["rule"], f["line"]) for f in json.loads(proc.stdout)["findings"]}
    assert {("type-change-rewrite", 1), ("type-change-rewrite", 2)} <= found


def test_deeply_nested_baseline_is_a_one_line_input_error(tmp_path: Path) -> None:
    write(tmp_path / "baseline.json", DEEP_JSON)
    write(tmp_path / "db" / "001.sql", "SELECT 1;\n")
    proc = run("--baseline", "baseline.json", "db", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "migcheck: baseline baseline.json is not valid JSON (nested too deeply); "
        "rewrite it with --write-baseline baseline.json"
    ]


def test_oversized_baseline_is_refused_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path / "baseline.json", '{"version": 1, "entries": []}' + " " * 10_000_001)
    try:
        load_baseline(str(path))
    except BaselineError as exc:
        assert "is larger than the 10 MB limit" in str(exc)
    else:
        raise AssertionError("an oversized baseline was read")


def test_deeply_nested_package_json_is_reported_and_the_migrations_linted(
    tmp_path: Path,
) -> None:
    migrations = tmp_path / "prisma" / "migrations"
    write(migrations / "migration_lock.toml", 'provider = "postgresql"\n')
    write(migrations / "20240101000000_init" / "migration.sql", "CREATE TABLE t (a int);\n")
    write(migrations / "20240201000000_drop" / "migration.sql", "ALTER TABLE t DROP COLUMN a;\n")
    write(tmp_path / "package.json", '{"a": ' * 100_000 + "1" + "}" * 100_000)
    (tmp_path / ".git").mkdir()
    proc = run("--format", "json", "prisma/migrations", cwd=tmp_path)
    report = json.loads(proc.stdout)
    assert [(e["path"], e["message"]) for e in report["errors"]] == [
        (
            "package.json",
            "package.json is not valid JSON (nested too deeply); the Prisma version is not "
            "read from it (pass --prisma-version)",
        )
    ]
    assert "drop-column" in {f["rule"] for f in report["findings"]}


def test_package_json_nested_deeply_under_discovery_is_an_input_error(tmp_path: Path) -> None:
    write(tmp_path / "m" / "migration_lock.toml", 'provider = "postgresql"\n')
    write(tmp_path / "m" / "20240101000000_init" / "migration.sql", "SELECT 1;\n")
    write(tmp_path / "package.json", DEEP_JSON)
    (tmp_path / ".git").mkdir()
    result = discover([str(tmp_path / "m")])
    assert [e.message.split(";")[0] for e in result.errors] == [
        "package.json is not valid JSON (nested too deeply)"
    ]
    assert result.histories[0].settings["prisma_version"] is None
