"""The old app's traffic: K clients replaying the workload while the changeset runs.

Each client is a thread with its own runner connection (the live check's role, never
superuser). Threads rather than processes: a client spends its time waiting on its
socket, where psycopg releases the GIL, so on a 2-core machine threads cost less than
processes and share the workload without copying it. A client picks a query by weight,
binds values from the seeded rows, and runs it; a write runs inside a transaction that
is rolled back, so the data is the same from run to run. Without ``rate`` the loop is
closed (the next query starts when the last one ended); with it, each client paces its
starts at ``clients / rate`` seconds.

Every query leaves one ``Sample`` (its start, end, backend and SQLSTATE), including the
queries still running when the traffic stops: those are cancelled and marked ``cut``,
so a query that never finished (stuck behind a lock, or just slow) stays visible to the
measures instead of vanishing. Each client runs with its own ``statement_timeout``
(``--app-timeout``): one slow query cannot pin a client for the whole rehearsal, and its
cancellation (SQLSTATE 57014) is told apart from the app's real errors. The number of
samples is bounded, and every loop stops at the deadline or when told to.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migcheck.rehearse.binding import Workload

if TYPE_CHECKING:
    import psycopg

# At most this many samples per client: a 300 s run at 3,000 queries/s per client.
MAX_SAMPLES_PER_CLIENT = 1_000_000
# What PostgreSQL answers when a statement_timeout (or a cancel request) stops a query.
QUERY_CANCELED = "57014"


@dataclass(frozen=True)
class Sample:
    start: float  # time.perf_counter()
    end: float
    query: int  # index into the workload list
    pid: int  # the client's backend
    sqlstate: str | None = None
    message: str | None = None
    # Still running when the traffic stopped: ``end`` is when it was cut, not when it
    # finished, and its latency is a lower bound.
    cut: bool = False

    @property
    def timed_out(self) -> bool:
        """Cancelled by the app's statement_timeout (the only cancel besides the stop)."""
        return self.sqlstate == QUERY_CANCELED and not self.cut


class Traffic:
    def __init__(
        self,
        workloads: list[Workload],
        connect: Callable[[], psycopg.Connection],
        *,
        clients: int,
        rate: float | None,
        deadline: float,
        statement_timeout_s: float | None = None,
        seed: int = 7,
    ) -> None:
        self.workloads = workloads
        self._connect = connect
        self.clients = clients
        self.rate = rate
        self.deadline = deadline
        self.statement_timeout_s = statement_timeout_s
        self._seed = seed
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[psycopg.Connection] = []
        self._samples: list[list[Sample]] = []
        self.pids: list[int] = []
        # Per client: whether it is inside a query now (stop() cancels those at once).
        self._busy: list[bool] = []
        weights = list(itertools.accumulate(w.weight for w in workloads))
        self._cumulative = weights
        self.failure: str | None = None

    def start(self) -> None:
        """Connect every client, then start them together."""
        for _ in range(self.clients):
            conn = self._connect()
            if self.statement_timeout_s is not None:
                conn.execute(
                    f"SET statement_timeout = {max(1, round(self.statement_timeout_s * 1000))}"
                )
            self._conns.append(conn)
            self.pids.append(conn.info.backend_pid)
            self._samples.append([])
            self._busy.append(False)
        for number, conn in enumerate(self._conns):
            thread = threading.Thread(
                target=self._client,
                args=(number, conn),
                name=f"migcheck-rehearse-client-{number}",
                daemon=True,
            )
            self._threads.append(thread)
            thread.start()

    def stop(self) -> None:
        """Stop every client and close them. A query still running is cancelled at
        once (its sample is marked ``cut``): the measured part of the run is over, and
        waiting for it would only delay the cleanup."""
        self._stop.set()
        for number, conn in enumerate(self._conns):
            if number < len(self._threads) and self._busy[number]:
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=2.0)
        for thread, conn in zip(self._threads, self._conns, strict=False):
            thread.join(timeout=1.0)
            if thread.is_alive():
                with contextlib.suppress(Exception):
                    conn.cancel_safe(timeout=2.0)
                thread.join(timeout=5.0)
        for conn in self._conns:
            with contextlib.suppress(Exception):
                conn.close()

    def samples(self) -> list[Sample]:
        merged = [s for per_client in self._samples for s in per_client]
        merged.sort(key=lambda s: s.start)
        return merged

    def count(self) -> int:
        return sum(len(s) for s in self._samples)

    # -- one client ------------------------------------------------------------------
    def _pick(self, rng: random.Random) -> int:
        at = rng.random() * self._cumulative[-1]
        return min(bisect.bisect_right(self._cumulative, at), len(self.workloads) - 1)

    def _client(self, number: int, conn: psycopg.Connection) -> None:
        import psycopg

        rng = random.Random(self._seed * 1000 + number)
        cursor = psycopg.RawCursor(conn)
        out = self._samples[number]
        pid = conn.info.backend_pid
        interval = self.clients / self.rate if self.rate else 0.0
        next_start = time.perf_counter()
        try:
            while not self._stop.is_set() and len(out) < MAX_SAMPLES_PER_CLIENT:
                if interval:
                    wait = next_start - time.perf_counter()
                    if wait > 0 and self._stop.wait(wait):
                        break
                    next_start += interval
                now = time.perf_counter()
                if now >= self.deadline:
                    break
                index = self._pick(rng)
                workload = self.workloads[index]
                values = workload.values(rng)
                sqlstate = message = None
                self._busy[number] = True
                start = time.perf_counter()
                try:
                    if workload.write:
                        conn.execute("BEGIN")
                    cursor.execute(workload.query.text, values)
                except psycopg.Error as err:
                    sqlstate = err.sqlstate or "?"
                    message = _first_line(err)
                finally:
                    end = time.perf_counter()
                    self._busy[number] = False
                    if workload.write or conn.info.transaction_status != 0:
                        with contextlib.suppress(psycopg.Error):
                            conn.execute("ROLLBACK")
                # Ended by the stop (cancelled, or finished after it): cut, not failed.
                cut = self._stop.is_set()
                if cut:
                    sqlstate = message = None
                out.append(Sample(start, end, index, pid, sqlstate, message, cut))
                if conn.closed or conn.broken:
                    break
        except Exception as err:  # a lost connection ends this client, not the run
            self.failure = f"{type(err).__name__}: {_first_line(err)}"


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
