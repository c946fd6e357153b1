"""Parse many migrations at once in worker processes, for a cold run on a big history.

Parsing is pure (a migration's text in, its statements out) and most of a cold run's
time, so a first audit of a 2,000-migration history parses in a process pool sized to
the CPUs this process may use. Below ``MIN_FILES`` or ``MIN_BYTES`` of SQL, starting
workers costs more than it saves, and the engine parses as it walks. Workers are forked
after sqlglot is imported where the platform allows it, so they start warm; their
results come back pickled between migcheck's own processes (never read from disk).
Any failure of the pool (no fork, no semaphores in a sandbox) falls back to parsing in
this process: the result is the same, only slower.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migcheck.sources import Migration
    from migcheck.statements import Loaded

MIN_FILES = 48
MIN_BYTES = 96 * 1024


def workers() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worth_it(migrations: Sequence[Migration]) -> bool:
    size = sum(len(m.text or "") for m in migrations if m.chunks is None)
    size += sum(len(c.sql) for m in migrations if m.chunks is not None for c in m.chunks)
    return workers() > 1 and len(migrations) >= MIN_FILES and size >= MIN_BYTES


def _parse(migration: Migration) -> Loaded:
    from migcheck.statements import load

    return load(migration, use_cache=False)


def parse_all(migrations: Sequence[Migration]) -> list[Loaded] | None:
    """Each migration parsed, in order, by a process pool; None when the pool could not
    run (the caller parses them itself)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    import migcheck.sql.parse  # noqa: F401  (imported before the fork: workers start warm)

    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    count = min(workers(), len(migrations))
    chunk = max(1, len(migrations) // (count * 4))
    try:
        with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
            return list(pool.map(_parse, migrations, chunksize=chunk))
    except Exception:  # a sandbox without fork or semaphores: parse here instead
        return None
