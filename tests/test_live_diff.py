"""``live --diff`` and ``rehearse --diff`` take the static linter's changeset: nothing
changed is a clean exit before any server starts, a bad base is a usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@t", "-c", "user.name=t", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001_init.sql").write_text("CREATE TABLE t (id int);\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def _run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("command", ["live", "rehearse"])
def test_nothing_changed_since_the_base_is_clean(repo: Path, command: str) -> None:
    proc = _run(repo, command, "--diff", "HEAD", "migrations")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == f"migcheck {command}: no migration changed since HEAD"


@pytest.mark.parametrize("command", ["live", "rehearse"])
def test_an_unknown_base_is_a_usage_error(repo: Path, command: str) -> None:
    proc = _run(repo, command, "--diff", "no-such-ref", "migrations")
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"migcheck {command}: ")
    assert "no-such-ref" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["live", "rehearse"])
def test_an_app_schema_without_a_deployed_commit_says_no_queries_come_from_it(
    repo: Path, command: str
) -> None:
    (repo / "schema.prisma").write_text("model t {\n  id Int @id\n}\n")
    proc = _run(
        repo, command, "migrations", "--app-schema", "schema.prisma", "--pg-bin", "/nonexistent"
    )
    assert proc.returncode == 2
    assert (
        f"migcheck {command}: note: the app schema's queries come from the deployed commit, "
        "and none was given: no queries derived from it (pass --app-ref"
    ) in proc.stderr


@pytest.mark.parametrize("command", ["live", "rehearse"])
def test_the_diff_base_is_the_deployed_commit_for_the_app_schema(repo: Path, command: str) -> None:
    (repo / "schema.prisma").write_text("model t {\n  id Int @id\n}\n")
    (repo / "migrations" / "002_more.sql").write_text("ALTER TABLE t ADD COLUMN x int;\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "more")
    proc = _run(
        repo,
        command,
        "--diff",
        "HEAD~1",
        "migrations",
        "--app-schema",
        "schema.prisma",
        "--pg-bin",
        "/nonexistent",
    )
    assert proc.returncode == 2
    assert "note: the app schema's queries" not in proc.stderr
