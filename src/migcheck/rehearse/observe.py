"""Run the changeset under the live check's tracer, timing each statement's window.

``Rehearsal`` is an ``execute.Observer`` that hands every statement to
``live.trace.Tracer`` (locks taken, rewrites, schema changes) and notes, on the same
clock as the traffic, when the statement started, when it returned and when its
transaction ended (its locks are held until then). Before a statement whose lock on an
existing table makes app queries wait, it asks the ``Holder`` (``--long-transaction``)
to hold that table first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.live.execute import Observer
from migcheck.live.plan import PlannedStatement
from migcheck.live.trace import Tracer

if TYPE_CHECKING:
    import psycopg

    from migcheck.live.results import LockInfo, StatementTrace
    from migcheck.rehearse.holder import Holder


@dataclass
class Window:
    """When one changeset statement ran, on ``time.perf_counter()``'s clock."""

    trace: StatementTrace
    start: float
    end: float = 0.0
    released: float = 0.0  # when its transaction ended: its locks were held until then
    # The lock the long transaction held on the statement's table first, if it did.
    long_transaction_lock: str | None = None
    # Locks earlier statements of the same transaction took and still hold.
    inherited: list[LockInfo] = field(default_factory=list)
    # Windows of the later statements of the same transaction (their tracing counts
    # as overhead inside this statement's hold, see ``overhead``).
    later: list[Window] = field(default_factory=list)

    @property
    def overhead(self) -> float:
        """Seconds the tracer spent around the statement (catalog and lock readings):
        time production would not spend."""
        return max(0.0, (self.end - self.start) - self.trace.duration_s)


class Rehearsal(Observer):
    def __init__(
        self,
        tracer: Tracer,
        holder: Holder | None = None,
        targets: dict[tuple[str, int], tuple[str, str]] | None = None,
    ) -> None:
        self.tracer = tracer
        self.holder = holder
        # (path, index) → (quoted table, lock mode) the holder must hold first.
        self.targets = targets or {}
        self.windows: list[Window] = []
        self._open: list[Window] = []  # windows whose transaction is still open

    def run(self, conn: psycopg.Connection, statement: PlannedStatement, in_tx: bool) -> None:
        held: str | None = None
        target = self.targets.get((statement.path, statement.index))
        if self.holder is not None and target is not None:
            held = target[1] if self.holder.hold(*target) else None
        before = len(self.tracer.traces)
        start = time.perf_counter()
        try:
            self.tracer.run(conn, statement, in_tx)
        finally:
            end = time.perf_counter()
            if len(self.tracer.traces) > before:
                window = Window(self.tracer.traces[-1], start, end, 0.0, held)
                self.windows.append(window)
                if in_tx:
                    for earlier in self._open:
                        window.inherited += earlier.trace.locks
                        earlier.later.append(window)
                    self._open.append(window)
                else:
                    window.released = end

    def control(self, statement: PlannedStatement, kind: str) -> None:
        self.tracer.control(statement, kind)

    def skipped(self, statement: PlannedStatement, reason: str) -> None:
        self.tracer.skipped(statement, reason)

    def failed(self, statement: PlannedStatement, message: str, sqlstate: str | None) -> None:
        self.tracer.failed(statement, message, sqlstate)

    def transaction_ended(self) -> None:
        now = time.perf_counter()
        for window in self._open:
            window.released = now
        self._open = []
        self.tracer.transaction_ended()

    def finish(self) -> None:
        """Close the windows of a transaction that never ended (a failed run)."""
        self.transaction_ended()
