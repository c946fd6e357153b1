"""Regenerate tests/golden/fixtures.json: every finding migcheck reports on fixtures/,
message and help included, as a user reads them.

Run it after a reviewed change to a message, a help text or a finding, then read the diff
(``git diff tests/golden``) before committing it: the golden file is what
tests/test_golden.py holds the linter to. ``MIGCHECK_UPDATE_GOLDEN=1 pytest
tests/test_golden.py`` does the same from the test run.

    python scripts/update_golden.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "fixtures.json"
# The fixtures' target: the version the fixture list in tests/test_fixtures.py uses.
COMMAND = ["--format", "json", "--pg-version", "16", "fixtures/"]


def current() -> dict[str, Any]:
    """The JSON report of the fixtures, run from the repository root with the cache off
    (so paths are relative and nothing cached can hide a change)."""
    env = {**os.environ, "MIGCHECK_NO_CACHE": "1"}
    env.pop("MIGCHECK_ALEMBIC_IMPORT", None)
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *COMMAND],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if proc.returncode not in (0, 1):
        raise SystemExit(f"migcheck exited {proc.returncode}: {proc.stderr.strip()}")
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    GOLDEN.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN.write_text(render(current()), encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)}; review it with: git diff {GOLDEN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
