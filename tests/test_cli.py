"""The command line as a user runs it: real processes, real exit codes, real output.

Each bad input must produce a one-line message naming the path, never a traceback, and
the other files must still be linted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest

UNSAFE = 'ALTER TABLE "User" DROP COLUMN "bio";\n'
SAFE = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;\n'


def run(*args: str, cwd: Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        input=stdin.decode() if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_unsafe_file_exits_1_with_position(tmp_path: Path) -> None:
    write(tmp_path / "001_drop.sql", "-- drop it\n" + UNSAFE)
    proc = run("001_drop.sql", cwd=tmp_path)
    assert proc.returncode == 1
    assert '001_drop.sql:2:20: error[drop-column] Dropping column "User"."bio"' in proc.stdout
    assert "help:" in proc.stdout
    assert "Checked 1 file, 1 statement: 1 error, 0 warnings." in proc.stdout


def test_check_subcommand_is_the_same(tmp_path: Path) -> None:
    write(tmp_path / "001_drop.sql", UNSAFE)
    assert (
        run("check", "001_drop.sql", cwd=tmp_path).stdout
        == run("001_drop.sql", cwd=tmp_path).stdout
    )


def test_safe_file_exits_0(tmp_path: Path) -> None:
    write(tmp_path / "001_add.sql", SAFE)
    proc = run("001_add.sql", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "0 errors, 0 warnings" in proc.stdout


def test_fail_on_error_ignores_warnings(tmp_path: Path) -> None:
    write(tmp_path / "001_view.sql", "DROP VIEW active_users;\n")
    assert run("001_view.sql", cwd=tmp_path).returncode == 1
    assert run("--fail-on", "error", "001_view.sql", cwd=tmp_path).returncode == 0
    assert run("--fail-on", "never", "001_view.sql", cwd=tmp_path).returncode == 0
    assert run("--exit-zero", "001_view.sql", cwd=tmp_path).returncode == 0


def test_json_contract(tmp_path: Path) -> None:
    write(tmp_path / "001_drop.sql", UNSAFE)
    proc = run("--format", "json", "001_drop.sql", "missing.sql", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert set(data) == {"version", "findings", "errors", "summary", "config"}
    assert data["version"] == 1
    assert (data["config"]["path"], data["config"]["source"]) == (None, None)
    (finding,) = data["findings"]
    assert set(finding) == {
        "rule",
        "severity",
        "category",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "message",
        "help",
    }
    assert (finding["rule"], finding["line"], finding["column"]) == ("drop-column", 1, 20)
    assert (finding["end_line"], finding["end_column"]) == (1, 36)
    assert finding["path"] == "001_drop.sql"
    assert data["errors"] == [
        {"path": "missing.sql", "line": None, "message": "No such file or directory"}
    ]
    assert data["summary"] == {"files": 1, "statements": 1, "findings": 1, "unrecognized": 0}
    # A named file that could not be read is an input error, whatever else was found.
    assert proc.returncode == 2


def test_stdin_with_filename(tmp_path: Path) -> None:
    proc = run("--stdin-filename", "db/042_drop.sql", "-", cwd=tmp_path, stdin=UNSAFE.encode())
    assert proc.returncode == 1
    assert "db/042_drop.sql:1:20: error[drop-column]" in proc.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("--select", "no-such-rule", ".", cwd=tmp_path).returncode == 2
    proc = run("--pg-version", "9", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "pg-version" in proc.stderr


def test_missing_path_only_exits_2(tmp_path: Path) -> None:
    proc = run("nope/", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nope" in proc.stdout and "No such file or directory" in proc.stdout


def test_directory_without_migrations(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = run("empty", cwd=tmp_path)
    assert proc.returncode == 2
    assert "no SQL migrations found in empty" in proc.stdout


def test_bad_files_are_named_and_others_still_linted(tmp_path: Path) -> None:
    db = tmp_path / "db"
    write(db / "001_ok.sql", UNSAFE)
    write(db / "002_latin1.sql", b"-- caf\xe9\nSELECT 1;\n")
    write(db / "003_binary.sql", b"\x00\x01\x02PK\x03\x04" * 100)
    write(db / "004_empty.sql", "")
    write(db / "005_quote.sql", "CREATE TABLE t (id int);\nSELECT 'unterminated;\n")
    big = db / "006_big.sql"
    with big.open("wb") as fh:
        fh.truncate(50 * 1024 * 1024)
    os.symlink(db, db / "loop")
    proc = run("db", cwd=tmp_path)
    out = proc.stdout
    assert "db/001_ok.sql:1:20: error[drop-column]" in out
    assert "db/002_latin1.sql:1: error: not valid UTF-8 at line 1, column 7 (byte 0xe9)" in out
    assert "db/003_binary.sql: error: binary file, not SQL" in out
    assert "db/005_quote.sql:2:8: error[syntax-error] unterminated quoted string" in out
    assert "db/006_big.sql: error: file is 52.4 MB, above the 10 MB limit" in out
    assert "--max-file-size" in out
    assert "004_empty" not in out
    # Files of a whole-directory audit that could not be read fail the run (exit 2).
    assert proc.returncode == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_unreadable_file(tmp_path: Path) -> None:
    f = write(tmp_path / "001.sql", UNSAFE)
    f.chmod(0)
    proc = run("001.sql", cwd=tmp_path)
    assert "Permission denied" in proc.stdout


def test_unterminated_dollar_quote_keeps_earlier_statements(tmp_path: Path) -> None:
    write(
        tmp_path / "001.sql",
        'ALTER TABLE "User" DROP COLUMN "bio";\nDO $$ BEGIN\n  PERFORM 1;\n',
    )
    proc = run("001.sql", cwd=tmp_path)
    assert "001.sql:1:20: error[drop-column]" in proc.stdout
    assert "001.sql:2:4: error[syntax-error] unterminated dollar-quoted string $$" in proc.stdout


def test_rules_and_explain(tmp_path: Path) -> None:
    proc = run("rules", cwd=tmp_path)
    assert proc.returncode == 0
    assert "drop-column" in proc.stdout and "compatibility" in proc.stdout
    data = json.loads(run("rules", "--format", "json", cwd=tmp_path).stdout)
    assert {"id", "category", "severity", "default", "summary"} <= set(data[0])
    doc = run("explain", "drop-column", cwd=tmp_path)
    assert doc.stdout.startswith("# drop-column\n")
    assert "## Safe" in doc.stdout
    assert run("explain", "nope", cwd=tmp_path).returncode == 2


def test_colour_only_when_forced(tmp_path: Path) -> None:
    write(tmp_path / "001.sql", UNSAFE)
    assert "\033[" not in run("001.sql", cwd=tmp_path).stdout
    env = {**os.environ, "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "001.sql"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "\033[" in proc.stdout


def test_cached_run_does_not_import_the_parser(tmp_path: Path) -> None:
    write(tmp_path / "001_drop.sql", UNSAFE)
    script = (
        "import sys\n"
        "from migcheck.runner import RunRequest, run\n"
        "r = run(RunRequest(paths=['001_drop.sql']))\n"
        "print(len(r.findings), 'sqlglot' in sys.modules)\n"
    )
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    second = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert first.stdout.split() == ["1", "True"]
    assert second.stdout.split() == ["1", "False"]


def test_alembic_finding_shows_the_sql_the_call_runs() -> None:
    root = Path(__file__).resolve().parents[1]
    proc = run("fixtures/alembic", cwd=root)
    out = proc.stdout
    start = out.index("error[drop-column]")
    block = out[start : out.index("\n\n", start)]
    assert "  runs:\n" in block
    assert "   | ALTER TABLE users DROP COLUMN legacy_flag" in block


def test_alembic_notes_obey_suppression_comments(tmp_path: Path) -> None:
    import shutil

    root = Path(__file__).resolve().parents[1]
    shutil.copytree(root / "fixtures" / "alembic", tmp_path / "alembic")
    (revision,) = (tmp_path / "alembic").glob("migrations/versions/*create_users_and_accounts.py")
    text = revision.read_text()
    text = text.replace(
        "    op.create_table(\n",
        "    # migcheck: ignore[alembic-not-evaluated] GUID is our uuid column type\n"
        "    op.create_table(\n",
        1,
    )
    revision.write_text(text)
    out = run("alembic", cwd=tmp_path).stdout
    assert "create_users_and_accounts.py" not in out
    assert "unused-suppression" not in out
    assert "alembic-not-evaluated" in out  # the other revisions' notes are still shown


def test_explain_suggests_the_closest_rule_on_a_typo() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "explain", "drop-colum"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown rule 'drop-colum' (did you mean 'drop-column'?)" in proc.stderr


def test_config_dev_null_means_no_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.migcheck]\nignore = ["drop-column"]\n', encoding="utf-8"
    )
    (tmp_path / "0001.sql").write_text("ALTER TABLE users DROP COLUMN bio;\n", encoding="utf-8")
    run = partial(
        subprocess.run,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MIGCHECK_NO_CACHE": "1"},
    )
    assert run([sys.executable, "-m", "migcheck", "0001.sql"]).returncode == 0
    proc = run([sys.executable, "-m", "migcheck", "--config", "/dev/null", "0001.sql"])
    assert proc.returncode == 1, proc.stderr
    assert "drop-column" in proc.stdout and "config:" not in proc.stdout


def test_library_warnings_never_reach_stderr(tmp_path: Path) -> None:
    # SQLAlchemy warns about constructs in some revisions (airflow's 0080 printed an
    # SAWarning): a library's warning is not a finding, and Python prints it raw.
    (tmp_path / "0001.sql").write_text("SELECT 1;\n", encoding="utf-8")
    probe = (
        "import runpy, sys, warnings\n"
        "import migcheck.statements as st\n"
        "real = st.load\n"
        "def load(m):\n"
        "    warnings.warn('SAWarning: \\x1b[2J from a revision', UserWarning)\n"
        "    return real(m)\n"
        "st.load = load\n"
        "sys.argv = ['migcheck', *sys.argv[1:]]\n"
        "runpy.run_module('migcheck', run_name='__main__')\n"
    )
    run = partial(
        subprocess.run,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MIGCHECK_NO_CACHE": "1"},
    )
    proc = run([sys.executable, "-W", "always", "-c", probe, "0001.sql"])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    debug = run([sys.executable, "-W", "always", "-c", probe, "--debug", "0001.sql"])
    assert "SAWarning" in debug.stderr  # --debug shows everything


@pytest.mark.parametrize("flag", ["--format", "--output-format"])
def test_output_format_is_ruffs_spelling_of_format(tmp_path: Path, flag: str) -> None:
    write(tmp_path / "migrations" / "001_drop.sql", UNSAFE)
    proc = run("check", "migrations", flag, "concise", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[0].startswith(
        "migrations/001_drop.sql:1:20: error[drop-column] "
    )
    assert "help:" not in proc.stdout
