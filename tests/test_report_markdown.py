"""``--format markdown``: the pull-request comment, as GitHub would render it.

The comment groups findings by statement (the SQL once, then a table with the lock and
what it blocks), folds the help, starts with the marker the Action updates in place, and
renders everything taken from the pull request literally: no HTML, no link, no mention.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from helpers import cli
from migcheck.model import Finding, Span
from migcheck.report import render
from migcheck.runner import RunResult

HISTORY = "CREATE TABLE users (id bigint PRIMARY KEY, email text, bio text);\n"


def migcheck(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"MIGCHECK_NO_CACHE": "1", "PATH": "/usr/bin:/bin"}
    return cli("check", *args, cwd=cwd, env=env, inherit_env=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    mig = tmp_path / "db" / "migrations"
    mig.mkdir(parents=True)
    (mig / "0001_init.sql").write_text(HISTORY, encoding="utf-8")
    (mig / "0002_tighten.sql").write_text(
        "ALTER TABLE users\n  ADD COLUMN plan text NOT NULL,\n  DROP COLUMN bio;\n"
        "CREATE INDEX users_email_idx ON users (email);\n",
        encoding="utf-8",
    )
    return tmp_path


def test_one_section_per_statement_with_lock_and_what_it_blocks(project: Path) -> None:
    proc = migcheck(project, "--format", "markdown", "db/migrations")
    assert proc.returncode == 1, proc.stderr
    out = proc.stdout
    assert out.startswith("<!-- migcheck-report findings=3 errors=0 -->\n")
    assert "### migcheck: Checked 2 files, 3 statements: 3 errors, 0 warnings." in out
    # The ALTER TABLE carries two findings: its SQL is printed once, above both rows.
    assert out.count("ADD COLUMN plan text NOT NULL") == 1
    section = out.split("#### `db/migrations/0002_tighten.sql:2`", 1)[1].split("####", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| **error**")]
    assert [re.search(r"`([a-z-]+)`", r).group(1) for r in rows] == [  # type: ignore[union-attr]
        "add-required-column",
        "drop-column",
    ]
    assert all(
        "| ACCESS EXCLUSIVE on `users` | every read and write on the table |" in r for r in rows
    )
    index = out.split("#### `db/migrations/0002_tighten.sql:4`", 1)[1]
    assert "| SHARE on `users` | writes (INSERT, UPDATE, DELETE); reads continue |" in index
    assert "<details><summary>How to fix (non-concurrent-index)</summary>" in index
    assert "CREATE INDEX CONCURRENTLY users_email_idx ON users (email);" in index


def test_clean_run_says_so_and_exits_zero(project: Path) -> None:
    (project / "db" / "migrations" / "0002_tighten.sql").unlink()
    proc = migcheck(project, "--format", "markdown", "db/migrations")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("<!-- migcheck-report findings=0 errors=0 -->")
    assert "No unsafe operation found." in proc.stdout


def test_a_config_that_loosens_the_gate_is_in_the_comment(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.migcheck]\nignore = ["drop-column"]\n', encoding="utf-8"
    )
    out = migcheck(project, "--format", "markdown", "db/migrations").stdout
    quoted = [line for line in out.splitlines() if line.startswith("> ")]
    assert quoted and any("drop-column" in line for line in quoted), out
    assert "`drop-column`" not in out.split("####", 1)[1]


def hostile_finding(**kw: object) -> Finding:
    base: dict[str, object] = {
        "rule": "drop-column",
        "severity": "error",
        "category": "compatibility",
        "path": "db/<img src=x onerror=alert(1)>@octocat|x.sql",
        "span": Span(1, 1, 1, 10),
        "message": 'Dropping column "t"."[click](http://evil.example) @admin *x* <b>|"',
        "help": "```\n@here <script>",
        "statement": 'ALTER TABLE t DROP COLUMN "```\n@team\x1b[2J";',
        "lock": ("ACCESS EXCLUSIVE", "t<b>"),
    }
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def strip_code(markdown: str) -> str:
    """The text GitHub would parse as Markdown: fenced blocks and code spans removed."""
    kept: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        opening = re.match(r"(`{3,})", line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            kept.append(re.sub(r"(`+)(?:(?!\1).)+?\1", "", line))
    return "\n".join(kept)


def test_everything_from_the_pull_request_renders_literally() -> None:
    out = render(RunResult(findings=[hostile_finding()], files=1, statements=1), "markdown")
    outside_code = strip_code(out)
    # Inside code spans and fences GitHub renders text as is; outside them, no raw HTML.
    assert "<img" not in outside_code and "<b>" not in outside_code
    assert "<script>" not in outside_code and "&lt;b&gt;" in outside_code
    assert not re.search(r"(?<!\\)\]\(", outside_code) and "http://" not in outside_code
    assert not re.search(r"@(octocat|admin|here|team)\b", outside_code)
    assert "\x1b" not in out and "\\x1b[2J" in out
    # The statement's own ``` cannot close its fence: the fence is longer.
    fence = re.search(r"^(`{4,})sql$", out, flags=re.M)
    assert fence is not None and out.count(fence.group(1)) >= 2
    # A "|" from the input never splits the table row: 6 unescaped bars, 5 cells.
    row = next(line for line in out.splitlines() if line.startswith("| **error**"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6


def test_a_huge_report_stays_under_githubs_comment_limit() -> None:
    findings = [
        hostile_finding(path=f"db/{i:05d}.sql", statement=f"ALTER TABLE t{i} DROP COLUMN c;" * 20)
        for i in range(400)
    ]
    out = render(RunResult(findings=findings, files=400, statements=400), "markdown")
    assert len(out) < 65_536
    assert re.search(r"… and \d+ more statements with findings, not shown here", out)
