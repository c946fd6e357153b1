"""Shared by every test directory: the import path of ``helpers``, a parse cache of the
run's own, and how pytest-xdist (``-n`` in pyproject's addopts) splits the suite."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

# Make tests/helpers.py importable as ``helpers`` from every test directory.
sys.path.insert(0, str(Path(__file__).parent))
# Keep the parse cache of test runs (and of the subprocesses they start) out of ~/.cache.
# Each xdist worker imports this file, so each worker has its own.
os.environ.setdefault("MIGCHECK_CACHE_DIR", tempfile.mkdtemp(prefix="migcheck-cache-"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A module-scoped fixture is built once per worker that runs a test using it (the
    # pre-commit hook's environment, the Action's install step take 10-20 s each):
    # --dist loadgroup sends a module's tests that share one to the same worker.
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        defs = info.name2fixturedefs.values() if info is not None else ()
        if any(d[-1].scope == "module" for d in defs if d):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
