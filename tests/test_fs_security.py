"""Hostile file trees, through the command line: links out of the tree, FIFOs, deep
nesting, unreadable files, internal errors and the run's SQL budget.

A pull request controls the files, the links git stores and their names. Each case asserts
the exit code and the one-line message a user sees, and that no traceback is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DROP = "ALTER TABLE t DROP COLUMN x;\n"
SAFE = "CREATE TABLE t (id int);\n"
# Something /etc/passwd holds on any Unix machine, and no report of ours ever does.
PASSWD_CONTENT = "root:"

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return proc


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def write(path: Path, text: str | bytes = SAFE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout: the boundary is its top level, found from its ``.git``."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "db" / "001_init.sql", SAFE)
    return root


# -- links out of the tree -------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "junit", "json"])
def test_named_link_to_etc_passwd_is_refused_and_never_printed(repo: Path, fmt: str) -> None:
    os.symlink("/etc/passwd", repo / "db" / "002_leak.sql")
    proc = run("--format", fmt, "db/002_leak.sql", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert PASSWD_CONTENT not in proc.stdout + proc.stderr
    message = "symbolic link to /etc/passwd, outside the linted tree; not read"
    if fmt == "json":
        assert json.loads(proc.stdout)["errors"] == [
            {"path": "db/002_leak.sql", "line": None, "message": message}
        ]
    else:
        assert message in proc.stdout


@pytest.mark.parametrize("fmt", ["text", "junit", "json"])
def test_walked_link_to_etc_passwd_is_not_read(repo: Path, fmt: str) -> None:
    write(repo / "db" / "003_drop.sql", DROP)
    os.symlink("/etc/passwd", repo / "db" / "002_leak.sql")
    proc = run("--format", fmt, "db", cwd=repo)
    no_traceback(proc)
    assert PASSWD_CONTENT not in proc.stdout + proc.stderr
    # A migration of the audited directory that was not read fails the gate.
    assert proc.returncode == 2
    assert "db/002_leak.sql" in proc.stdout
    assert "drop-column" in proc.stdout  # the other files are still linted


def test_link_to_root_is_not_walked(repo: Path) -> None:
    os.symlink("/", repo / "db" / "root")
    proc = run("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 0, proc.stdout
    assert "Checked 1 file" in proc.stdout
    assert proc.stderr.splitlines() == [
        "migcheck: note: db/root: symbolic link to /, outside the linted tree; not followed"
    ]


def test_named_link_to_root_is_an_input_error(repo: Path) -> None:
    os.symlink("/", repo / "root")
    proc = run("root", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "root: error: symbolic link to /, outside the linted tree; not read" in proc.stdout
    assert "Checked 0 files" in proc.stdout


def test_links_inside_the_tree_are_still_followed(repo: Path) -> None:
    write(repo / "shared" / "001_drop.sql", DROP)
    os.symlink("../shared", repo / "db" / "linked")
    os.symlink("001_init.sql", repo / "db" / "002_same.sql")
    proc = run("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 1
    assert "db/linked/001_drop.sql:1:15: error[drop-column]" in proc.stdout
    assert "Checked 3 files" in proc.stdout
    assert proc.stderr == ""


def test_a_link_into_another_checkout_does_not_move_the_boundary(
    repo: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other"
    write(other / "migrations" / "001_drop.sql", DROP)
    (other / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's .git is a file
    os.symlink(other, repo / "db" / "ext")
    walked = run("db", cwd=repo)
    no_traceback(walked)
    assert walked.returncode == 0
    assert "migcheck: note: db/ext: symbolic link to" in walked.stderr
    # Named through the link, the file is still judged against this repository.
    named = run("db/ext/migrations/001_drop.sql", cwd=repo)
    no_traceback(named)
    assert named.returncode == 2
    assert "db/ext/migrations/001_drop.sql: error: symbolic link to" in named.stdout
    assert "drop-column" not in walked.stdout + named.stdout


def test_outside_a_checkout_the_named_directory_is_the_boundary(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "001_drop.sql", DROP)
    write(tmp_path / "db" / "001_init.sql")
    os.symlink("../shared", tmp_path / "db" / "linked")
    proc = run("db", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 0
    assert "drop-column" not in proc.stdout
    assert "db/linked: symbolic link to" in proc.stderr
    assert proc.stderr.rstrip().endswith("outside the linted tree; not followed")


def test_flyway_conf_and_package_json_links_out_of_the_tree_are_not_read(
    repo: Path, tmp_path: Path
) -> None:
    # Outside files that would change the verdict if they were read.
    write(tmp_path / "outside.conf", "executeInTransaction=false\n")
    write(tmp_path / "package.json", '{"devDependencies": {"prisma": "7.4.0"}}')
    # REINDEX … CONCURRENTLY: Flyway does not detect it, so only the .conf would move it
    # out of Flyway's transaction.
    write(repo / "flyway" / "V1__idx.sql", "REINDEX INDEX CONCURRENTLY i;\n")
    os.symlink(tmp_path / "outside.conf", repo / "flyway" / "V1__idx.sql.conf")
    proc = run("flyway", cwd=repo)
    no_traceback(proc)
    # Flyway's transaction is assumed: CONCURRENTLY inside it fails.
    assert "error[concurrent-in-transaction]" in proc.stdout

    from migcheck.sources import prisma

    os.symlink(tmp_path / "package.json", repo / "package.json")
    (repo / "prisma" / "migrations").mkdir(parents=True)
    spec, problems = prisma.find_version_spec(str(repo / "prisma" / "migrations"))
    assert spec is None and problems == []


# -- FIFOs and devices -----------------------------------------------------------------


@needs_fifo
def test_named_fifo_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / "db" / "002_pipe.sql")
    # Nobody ever writes to the FIFO: a read would block until the timeout.
    proc = run("db/002_pipe.sql", cwd=repo, timeout=60)
    no_traceback(proc)
    assert proc.returncode == 2
    assert (
        "db/002_pipe.sql: error: not a regular file (a FIFO, socket or device); not read"
        in proc.stdout
    )


@needs_fifo
def test_fifo_in_a_walked_directory_is_skipped_with_a_note(repo: Path) -> None:
    os.mkfifo(repo / "db" / "002_pipe.sql")
    proc = run("db", cwd=repo, timeout=60)
    no_traceback(proc)
    assert proc.returncode == 0
    assert "Checked 1 file" in proc.stdout
    assert proc.stderr.splitlines() == [
        "migcheck: note: db/002_pipe.sql: not a regular file (a FIFO, socket or device); not read"
    ]


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="needs /dev/stdin")
def test_link_to_dev_stdin_is_refused_without_blocking(repo: Path) -> None:
    os.symlink("/dev/stdin", repo / "db" / "002_stdin.sql")
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "db/002_stdin.sql"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.PIPE,  # an open pipe nobody writes to: reading it would block
        env={**os.environ, "NO_COLOR": "1"},
    )
    no_traceback(proc)
    assert proc.returncode == 2
    assert "db/002_stdin.sql: error:" in proc.stdout
    assert "not read" in proc.stdout


# -- deep trees and internal errors ----------------------------------------------------


def test_500_nested_directories(repo: Path) -> None:
    deep = repo / "db"
    for _ in range(500):
        deep = deep / "d"
    write(deep / "001_drop.sql", DROP)
    proc = run("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 1
    assert "/d/001_drop.sql:1:15: error[drop-column]" in proc.stdout


_CRASH = (
    "import sys, migcheck.runner as r\n"
    "def boom(req):\n"
    "    raise RuntimeError('planted\\nbug \\x1b[31m')\n"
    "r.run = boom\n"
    "from migcheck.cli import main\n"
    "sys.argv = ['migcheck', *sys.argv[1:]]\n"
    "main()\n"
)


def _crash(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CRASH, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={
            k: v for k, v in {**os.environ, **(env or {})}.items() if k != "MIGCHECK_DEBUG" or env
        },
    )


def test_an_unexpected_exception_is_one_line_and_exit_2(repo: Path) -> None:
    proc = _crash("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "migcheck: internal error: RuntimeError: planted\\nbug \\x1b[31m "
        "(run with --debug for the traceback)"
    ]


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--debug", "db"), None),
        (("check", "--debug", "db"), None),
        (("db",), {"MIGCHECK_DEBUG": "1"}),
    ],
)
def test_debug_shows_the_traceback(
    repo: Path, args: tuple[str, ...], env: dict[str, str] | None
) -> None:
    proc = _crash(*args, cwd=repo, env=env)
    assert proc.returncode == 1  # Python's own exit code for an uncaught exception
    assert "Traceback (most recent call last)" in proc.stderr
    assert "RuntimeError: planted" in proc.stderr


# -- files that could not be read ------------------------------------------------------

LATIN1 = b"-- caf\xe9\nSELECT 1;\n"


def test_named_file_not_utf8_is_exit_2(repo: Path) -> None:
    write(repo / "db" / "002_latin1.sql", LATIN1)
    proc = run("db/002_latin1.sql", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "db/002_latin1.sql:1: error: not valid UTF-8 at line 1, column 7 (byte 0xe9)" in (
        proc.stdout
    )


def test_whole_directory_audit_with_an_unreadable_file_is_exit_2(repo: Path) -> None:
    write(repo / "db" / "002_latin1.sql", LATIN1)
    proc = run("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "Checked 1 file" in proc.stdout


@pytest.mark.parametrize(("later", "code"), [(SAFE.replace("t ", "u "), 0), (DROP, 1)])
def test_unreadable_history_file_is_a_note_when_a_later_file_is_named(
    repo: Path, later: str, code: int
) -> None:
    write(repo / "db" / "002_latin1.sql", LATIN1)
    write(repo / "db" / "003_next.sql", later)
    proc = run("db/003_next.sql", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == code, proc.stdout
    assert "Checked 1 file" in proc.stdout
    assert "input error" not in proc.stdout
    assert proc.stderr.splitlines() == [
        "migcheck: note: 1 other file of the history could not be read (db/002_latin1.sql:1: "
        "not valid UTF-8 at line 1, column 7 (byte 0xe9)); what it does to the schema is "
        "unknown to this run"
    ]


def test_unparseable_statement_is_not_an_input_error(repo: Path) -> None:
    write(repo / "db" / "002_odd.sql", "FROBNICATE THE WIDGETS;\n")
    proc = run("db/002_odd.sql", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 0
    assert "input error" not in proc.stdout


# -- the run's SQL budget --------------------------------------------------------------


def test_sql_budget_exceeded_names_the_first_file_that_did_not_fit(repo: Path) -> None:
    for n in (2, 3, 4):
        write(repo / "db" / f"00{n}_data.sql", "SELECT 1;\n" * 60_000)  # 600 kB each
    proc = run("--max-total-size", "1", "db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    errors = [line for line in proc.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "db/003_data.sql: error: the run has read 600 kB of SQL and this file does not fit "
        "the 1 MB budget; it and the files after it are not read; raise it with "
        "--max-total-size"
    ]


def test_sql_budget_from_the_config_file(repo: Path) -> None:
    write(repo / "db" / "002_data.sql", "SELECT 1;\n" * 60_000)
    write(repo / ".migcheck.toml", "max-total-size = 0.5\n")
    proc = run("db", cwd=repo)
    no_traceback(proc)
    assert proc.returncode == 2
    assert "db/002_data.sql: error: the run has read" in proc.stdout


def test_a_generated_10_mb_file_over_the_budget_is_not_parsed(tmp_path: Path) -> None:
    write(tmp_path / "db" / "001_big.sql", "SELECT 1;\n" * 1_000_000)  # 10 MB
    proc = run("--max-total-size", "5", "db", cwd=tmp_path)
    no_traceback(proc)
    assert proc.returncode == 2
    assert proc.stdout.splitlines()[0] == (
        "db/001_big.sql: error: the run has read 0 B of SQL and this file does not fit the "
        "5 MB budget; it and the files after it are not read; raise it with --max-total-size"
    )


def test_peak_memory_of_many_small_statements_is_bounded(tmp_path: Path) -> None:
    # Four files of 50,000 trivial statements (0.5 MB each) peaked at 234 MB of RSS
    # before statements were streamed per file and such files were kept out of the parse
    # cache; about 125 MB after, the same as for one of them.
    for n in range(1, 5):
        write(tmp_path / "db" / f"00{n}_many.sql", "SELECT 1;\n" * 50_000)
    script = (
        "import resource, subprocess, sys\n"
        "subprocess.run([sys.executable, '-m', 'migcheck', 'db'],"
        " stdout=subprocess.DEVNULL, check=False)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    scale = 1024 if sys.platform == "darwin" else 1  # macOS reports bytes, Linux kB
    peak_mb = int(proc.stdout.strip()) / scale / 1000
    assert peak_mb < 190, f"peak RSS {peak_mb:.0f} MB"
