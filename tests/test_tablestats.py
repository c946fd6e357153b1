"""--table-stats: production table sizes scale lock findings, as a user sees it.

A non-concurrent index on a 500-row table is info and says why; on a 50-million-row table
it stays an error and gives the size and an estimated duration; a table the file does
not list keeps today's severity; compatibility rules never scale; a malformed file is one
line and exit 2; with --diff the sizes are read on the base, so a pull request cannot
make its own tables look small.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import cli

INIT = (
    "CREATE TABLE lookups (id int PRIMARY KEY, code text);\n"
    "CREATE TABLE events (id bigint PRIMARY KEY, kind text, bio text);\n"
    "CREATE TABLE audits (id bigint PRIMARY KEY, kind text);\n"
)
CHANGE = (
    "CREATE INDEX lookups_code_idx ON lookups (code);\n"
    "CREATE INDEX events_kind_idx ON events (kind);\n"
    "CREATE INDEX audits_kind_idx ON audits (kind);\n"
    "ALTER TABLE lookups DROP COLUMN code;\n"
)
STATS = {
    "version": 1,
    "generated_by": "a pg_class export",  # more keys are allowed
    "tables": [
        {"schema": "public", "name": "lookups", "rows": 500, "bytes": 65536},
        {"schema": "public", "name": "events", "rows": 50_000_000, "bytes": 9_000_000_000},
    ],
}


def migcheck(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return cli("--format", "json", *args, cwd=cwd, env={"MIGCHECK_NO_CACHE": "1"})


@pytest.fixture
def project(tmp_path: Path) -> Path:
    mig = tmp_path / "db" / "migrations"
    mig.mkdir(parents=True)
    (mig / "0001_init.sql").write_text(INIT, encoding="utf-8")
    (mig / "0002_indexes.sql").write_text(CHANGE, encoding="utf-8")
    (tmp_path / "table-stats.json").write_text(json.dumps(STATS), encoding="utf-8")
    return tmp_path


def by_line(out: str) -> dict[int, dict[str, object]]:
    findings = json.loads(out)["findings"]
    return {f["line"]: f for f in findings if f["path"].endswith("0002_indexes.sql")}


def test_small_table_is_info_big_table_gives_size_and_duration(project: Path) -> None:
    proc = migcheck(project, "--table-stats", "table-stats.json", "db/migrations")
    assert proc.returncode == 1, proc.stderr
    found = by_line(proc.stdout)
    small, big, unknown, drop = found[1], found[2], found[3], found[4]
    assert (small["rule"], small["severity"]) == ("non-concurrent-index", "info")
    assert small["original_severity"] == "error"
    assert small["evidence"] == "small table: 500 rows, 66 kB in table-stats.json"
    assert small["message"].endswith(
        "Small table (500 rows, 66 kB in table-stats.json): the lock is brief."
    )
    assert (big["severity"], "original_severity" in big) == ("error", False)
    assert '"events" holds 50,000,000 rows, 9.0 GB in table-stats.json' in big["message"]
    assert "building the index takes about 2 min at 550,000 rows/s" in big["message"]
    # Not in the file: today's finding, untouched.
    assert unknown["severity"] == "error" and "evidence" not in unknown
    assert "rows" not in unknown["message"]
    # drop-column is about the running app, not the lock: never scaled.
    assert drop["rule"] == "drop-column" and drop["severity"] == "error"
    assert "evidence" not in drop


def test_without_a_stats_file_nothing_changes(project: Path) -> None:
    plain = migcheck(project, "db/migrations")
    found = by_line(plain.stdout)
    assert [f["severity"] for f in found.values()] == ["error"] * 4
    assert all("evidence" not in f for f in found.values())


def test_config_names_the_file_and_the_thresholds(project: Path) -> None:
    (project / "migcheck.toml").write_text(
        'table-stats = "table-stats.json"\nsmall-table-rows = 100\n', encoding="utf-8"
    )
    found = by_line(migcheck(project, "db/migrations").stdout)
    assert found[1]["severity"] == "error"  # 500 rows is no longer small
    assert "lookups" in str(found[1]["message"]) and "500 rows" in str(found[1]["message"])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "table-stats.json: invalid JSON at line 1"),
        ('{"version": 2, "tables": []}', "unsupported version 2"),
        ('{"version": 1, "tables": [{"name": "t", "rows": -1, "bytes": 0}]}', "rows must be"),
        ('{"version": 1, "tables": {}}', '"tables" must be a list'),
        ('{"version": 1, "tables": [], "queries": {}}', '"queries" must be a list'),
        ('{"version": 1, "tables": [], "queries": [{"calls": 1}]}', "queries[0]: query must"),
        (
            '{"version": 1, "tables": [], "queries": [{"query": "SELECT 1", "calls": -3}]}',
            "queries[0]: calls must be a whole number",
        ),
        (
            '{"version": 1, "tables": [], "queries": [{"query": "SELECT 1", "calls": 1,'
            ' "mean_ms": "fast"}]}',
            "queries[0]: mean_ms must be a number",
        ),
    ],
)
def test_a_malformed_file_is_one_line_and_exit_2(project: Path, content: str, message: str) -> None:
    (project / "table-stats.json").write_text(content, encoding="utf-8")
    proc = migcheck(project, "--table-stats", "table-stats.json", "db/migrations")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr


def test_a_config_cannot_point_outside_its_directory(project: Path) -> None:
    (project / "migcheck.toml").write_text('table-stats = "../../etc/passwd"\n', encoding="utf-8")
    proc = migcheck(project, "db/migrations")
    assert proc.returncode == 2
    assert "table-stats" in proc.stderr and "inside its directory" in proc.stderr


def git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, env=env)


def test_with_diff_the_base_sizes_count_not_the_pull_requests(project: Path) -> None:
    change = project / "db" / "migrations" / "0002_indexes.sql"
    change.rename(project / "0002.pending")
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    git(project, "checkout", "-q", "-b", "pr")
    (project / "0002.pending").rename(change)
    # The pull request claims "events" is tiny.
    lied = {**STATS, "tables": [{"schema": "public", "name": "events", "rows": 10, "bytes": 10}]}
    (project / "table-stats.json").write_text(json.dumps(lied), encoding="utf-8")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "pr")
    proc = migcheck(project, "--diff", "main", "--table-stats", "table-stats.json", "db/migrations")
    found = by_line(proc.stdout)
    assert found[2]["severity"] == "error", proc.stdout
    assert "50,000,000 rows" in str(found[2]["message"])
    assert "main:table-stats.json" in str(found[2]["evidence"])
