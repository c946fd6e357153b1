"""``migcheck rehearse`` before any server starts: option and input errors are one line
and exit 2, the statistics file's queries are read strictly, and importing the CLI
stays light (no psycopg, no rehearsal modules)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from migcheck.tablestats import MAX_QUERIES, QueryStat, StatsError, parse_table_stats


def rehearse(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "migcheck", "rehearse", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    mig = tmp_path / "migrations"
    mig.mkdir()
    (mig / "001.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    (mig / "002.sql").write_text("ALTER TABLE t ADD COLUMN c int;\n")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clients", "0"], "--clients must be between 1 and 64"),
        (["--scale", "1.5"], "--scale must be a fraction in (0, 1]"),
        (["--scale", "0"], "--scale must be a fraction in (0, 1]"),
        (["--rate", "-1"], "--rate must be a positive number"),
        (["--max-stall", "0"], "--max-stall must be positive"),
        (["--app-timeout", "0"], "--app-timeout must be a positive number of seconds"),
        (["--long-transaction", "0"], "--long-transaction must be a positive number"),
        (["--rows", "-5"], "--rows must be between 0 and"),
        (["--max-seconds", "5", "--warmup-seconds", "10"], "--warmup-seconds must be between"),
    ],
)
def test_an_impossible_option_is_one_line_and_exit_2(
    project: Path, args: list[str], message: str
) -> None:
    proc = rehearse(project, "migrations", *args)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"migcheck rehearse: {message}")
    assert "Traceback" not in proc.stderr


def test_the_app_schema_is_read_as_live_reads_it_inside_the_tree(project: Path) -> None:
    (project / ".git").mkdir()  # the repository's root bounds what is read
    for name, message in (
        ("../outside.prisma", "outside the repository; the app schema is not read"),
        ("nothere.prisma", "nothere.prisma: cannot read the app schema: no such file"),
    ):
        proc = rehearse(project, "migrations", "--prisma-schema", name)
        assert proc.returncode == 2
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith(message), proc.stderr


def test_live_and_rehearse_share_the_query_source_options() -> None:
    import click

    from migcheck.live_cli import live_command
    from migcheck.rehearse_cli import rehearse_command

    def options(command: click.Command) -> dict[tuple[str, ...], str | None]:
        return {tuple(p.opts): p.help for p in command.params if isinstance(p, click.Option)}

    live, rehearsal = options(live_command), options(rehearse_command)
    shared = [("--old-queries",), ("--app-schema", "--prisma-schema"), ("--app-ref", "--old-ref")]
    shared.append(("--sqlalchemy-metadata",))
    for names in shared:
        assert live[names] == rehearsal[names] and live[names]


def test_a_malformed_stats_file_is_one_line_and_exit_2(project: Path) -> None:
    (project / "stats.json").write_text(
        json.dumps({"version": 1, "tables": [], "queries": [{"query": "", "calls": 3}]})
    )
    proc = rehearse(project, "migrations", "--table-stats", "stats.json")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "migcheck rehearse: stats.json: queries[0]: query must be a non-empty string"
    ]


def test_the_stats_file_queries_are_read_with_their_calls() -> None:
    data = {
        "version": 1,
        "tables": [{"schema": "public", "name": "t", "rows": 5, "bytes": 10}],
        "queries": [
            {"query": "SELECT 1 FROM t WHERE id = $1", "calls": 900, "mean_ms": 0.25},
            {"query": "UPDATE t SET id = $1", "calls": 3, "rows": 3},
        ],
    }
    stats = parse_table_stats(json.dumps(data).encode(), "stats.json")
    assert stats.queries == (
        QueryStat("SELECT 1 FROM t WHERE id = $1", 900, 0.25),
        QueryStat("UPDATE t SET id = $1", 3, None),
    )
    # Without "queries", the file is the sizes-only format of `check --table-stats`.
    del data["queries"]
    assert parse_table_stats(json.dumps(data).encode(), "s").queries == ()


def test_the_stats_file_query_list_is_bounded() -> None:
    many = {"version": 1, "tables": [], "queries": [{"query": "SELECT 1", "calls": 1}] * 10_001}
    with pytest.raises(StatsError, match=f"at most {MAX_QUERIES}"):
        parse_table_stats(json.dumps(many).encode(), "s.json")
    huge = {"version": 1, "tables": [], "queries": [{"query": "x" * 100_001, "calls": 1}]}
    with pytest.raises(StatsError, match="longer than 100000 characters"):
        parse_table_stats(json.dumps(huge).encode(), "s.json")


def test_importing_the_cli_does_not_import_the_rehearsal() -> None:
    code = (
        "import sys\n"
        "import migcheck.cli\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] == 'psycopg'\n"
        "         or m.startswith(('migcheck.rehearse.', 'migcheck.live.'))]\n"
        "print(heavy, 'migcheck.rehearse_cli' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    # The command registers lazily: its module loads only when ``rehearse`` is named.
    assert out.stdout.strip() == "[] False"


def test_a_bad_rows_table_in_the_config_is_one_line_and_exit_2(project: Path) -> None:
    (project / "migcheck.toml").write_text("[rehearse]\nrows = {t = -1}\n")
    proc = rehearse(project, "migrations")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "migcheck.toml" in lines[0] and "t must be a whole number ≥ 0" in lines[0]


def test_an_unknown_rehearse_key_is_named(project: Path) -> None:
    (project / "migcheck.toml").write_text("[rehearse]\nrow = 5\n")
    proc = rehearse(project, "migrations")
    assert proc.returncode == 2
    assert 'unknown key "row" (did you mean "rows"?)' in proc.stderr


def test_an_exports_calls_column_is_kept_as_the_traffic_weight(tmp_path: Path) -> None:
    from migcheck.live.queries import load_query_file

    csv_file = tmp_path / "top.csv"
    csv_file.write_text('query,calls\n"SELECT 1 FROM t WHERE id = $1",9120\nSELECT 2,many\n')
    queries, errors = load_query_file(str(csv_file), "old")
    assert errors == []
    assert [(q.text, q.calls) for q in queries] == [
        ("SELECT 1 FROM t WHERE id = $1", 9120),
        ("SELECT 2", None),  # not a number: no weight of its own
    ]
    json_file = tmp_path / "top.json"
    json_file.write_text(json.dumps([{"query": "SELECT 3", "calls": 7}, {"query": "SELECT 4"}]))
    queries, errors = load_query_file(str(json_file), "old")
    assert [(q.text, q.calls) for q in queries] == [("SELECT 3", 7), ("SELECT 4", None)]
