"""Whether pip can reach a package index, for the tests that install migcheck's
dependencies the way a user's machine would (pre-commit's hook environment, the Action's
install step). Without one they skip with a reason instead of failing after a long timeout.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile

_PROBE_TIMEOUT_S = 30
_PIP_DOWNLOAD = ("-m", "pip", "download", "-q", "--no-deps", "--timeout", "10", "--retries", "0")


@functools.cache
def missing_index_reason() -> str | None:
    """None when pip can fetch a small package; otherwise why the tests cannot install."""
    if os.environ.get("PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes", "on"):
        return "no package index: PIP_NO_INDEX is set"
    with tempfile.TemporaryDirectory(prefix="migcheck-index-probe-") as dest:
        try:
            proc = subprocess.run(
                [sys.executable, *_PIP_DOWNLOAD, "--dest", dest, "six"],
                capture_output=True,
                text=True,
                timeout=_PROBE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"no package index: `pip download six` did not finish in {_PROBE_TIMEOUT_S}s"
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"no package index: `pip download six` failed ({last[:200]})"
    return None
