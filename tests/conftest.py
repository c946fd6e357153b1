"""Shared by every test directory: the import path of ``helpers``, a parse cache of the
run's own, and how pytest-xdist (``-n`` in pyproject's addopts) splits the suite."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

# Make tests/helpers.py importable as ``helpers`` from every test directory.
sys.path.insert(0, str(Path(__file__).parent))
# Keep the parse cache of test runs (and of the subprocesses they start) out of ~/.cache.
# Each xdist worker imports this file, so each worker has its own.
os.environ.setdefault("MIGCHECK_CACHE_DIR", tempfile.mkdtemp(prefix="migcheck-cache-"))

_MODULE_FIXTURE = 'scope="module"'


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Tests go to the workers one by one, except that a module declaring a module-scoped
    fixture goes whole to one worker: that fixture is built once per worker using it, and
    some take 10-20 s (the pre-commit hook's environment, the Action's install step).

    The controller sees node ids only, hence the look at the source. (xdist's
    ``--dist loadgroup`` marks do not reach the scheduler under pytest 9.2, which no
    longer reads the ``_nodeid`` xdist rewrites.)"""
    from xdist.scheduler import LoadScopeScheduling

    here = Path(__file__).parent
    grouped = frozenset(
        path.relative_to(config.rootpath).as_posix()
        for path in here.rglob("test_*.py")
        if _MODULE_FIXTURE in path.read_text(encoding="utf-8")
    )

    class Scheduler(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in grouped else nodeid

    return Scheduler(config, log)
