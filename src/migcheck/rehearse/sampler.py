"""Who waits on a lock, and behind whom: sampled from a separate connection.

Every ``interval`` seconds one query reads ``pg_stat_activity`` for the backends we
watch (the app's clients, the migration, the long transaction) that wait on a lock,
with ``pg_blocking_pids`` for each. The connection is an admin one: the runner role
cannot see other sessions' wait events. Samples are bounded in number; the thread
stops when told to or at the deadline.
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

MAX_SAMPLES = 100_000
_WAITING = """
SELECT pid, pg_catalog.pg_blocking_pids(pid) FROM pg_catalog.pg_stat_activity
WHERE pid = ANY(%s) AND wait_event_type = 'Lock'
"""


@dataclass(frozen=True)
class WaitSample:
    at: float  # time.perf_counter()
    waiting: tuple[tuple[int, tuple[int, ...]], ...]  # (pid, pids blocking it)


class Sampler:
    def __init__(
        self, conn: psycopg.Connection, pids: list[int], interval: float, deadline: float
    ) -> None:
        self.conn = conn
        self.pids = list(pids)
        self.interval = interval
        self.deadline = deadline
        self.samples: list[WaitSample] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="migcheck-sampler", daemon=True)
        self.failure: str | None = None

    def watch(self, pid: int) -> None:
        """Watch one more backend (the migration's, the long transaction's)."""
        if pid not in self.pids:
            self.pids = [*self.pids, pid]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        if self._thread.is_alive():
            with contextlib.suppress(Exception):
                self.conn.cancel_safe(timeout=2.0)
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        try:
            while not self._stop.is_set() and len(self.samples) < MAX_SAMPLES:
                now = time.perf_counter()
                if now >= self.deadline:
                    break
                rows = self.conn.execute(_WAITING, (self.pids,)).fetchall()
                waiting = tuple(
                    (int(pid), tuple(int(b) for b in blockers or ())) for pid, blockers in rows
                )
                self.samples.append(WaitSample(now, waiting))
                self._stop.wait(self.interval)
        except Exception as err:  # sampling stops; the rehearsal says so
            self.failure = f"{type(err).__name__}: {err}"
