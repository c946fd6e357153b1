"""Observe each changeset statement: the locks it takes, what it rewrites and changes.

Inside a transaction a lock stays held until commit, so the locks a statement acquired
are those in ``pg_locks`` for our backend after it minus those before it. A lock an
earlier statement of the same transaction already holds is not taken again, so for the
relations a statement touches such a lock is reported too, with where it was taken.
A statement the runner would autocommit is observed the same way inside a transaction
of our own (a single statement behaves identically), except for the few that refuse to
run in a transaction block (``CREATE INDEX CONCURRENTLY``, ``VACUUM``...): those run
bare while a second connection polls ``pg_locks`` for our backend. That connection
first opens a transaction with a snapshot, which the CONCURRENTLY commands wait for
(holding their lock) before they finish; it ends that transaction once it has seen our
backend wait, so even a fast statement on an empty table is seen holding its lock.

Rewrites are relations whose ``relfilenode`` changed; full scans are tables whose
sequential scan count in ``pg_stat_xact_user_tables`` went up; schema changes come from
diffing catalog snapshots (``catalog.py``). Only objects that existed before the
changeset count as blocking, rewritten or scanned: nobody else uses the others yet.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from migcheck.live import catalog, locks
from migcheck.live.execute import Observer
from migcheck.live.plan import PlannedStatement, strip_comments
from migcheck.live.results import LockInfo, SchemaChange, StatementTrace

if TYPE_CHECKING:
    import psycopg

_LOCKS = """
SELECT relation::int8, mode FROM pg_locks
WHERE pid = %s AND locktype = 'relation' AND granted
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
# The same, plus whether the backend waits for a lock (for the bare-statement poller).
_LOCKS_WAITING = """
SELECT relation::int8, mode, granted FROM pg_locks
WHERE pid = %s AND (NOT granted OR (locktype = 'relation'
  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))
"""
# How long the poller holds its snapshot at most when the statement never waits for it.
_HOLD_S = 2.0
# Statements whose effect is not written in their own text.
_OPAQUE = re.compile(r"^(do|call|select|perform|execute)\b", re.IGNORECASE)
_NOT_IN_TRANSACTION = "25001"  # active_sql_transaction


class Tracer(Observer):
    def __init__(
        self,
        base: catalog.Snapshot,
        monitor: Callable[[], psycopg.Connection],
        progress: Callable[[str], None] | None = None,
        *,
        light: bool = False,
    ) -> None:
        self.traces: list[StatementTrace] = []
        # Snapshots of relations only (``catalog.take(light=True)``): locks and rewrites
        # without schema changes, for the rehearsal.
        self.light = light
        self.base = base
        self._monitor_factory = monitor
        self._monitor: psycopg.Connection | None = None
        self._progress = progress
        # The snapshot after the last statement, valid while the transaction goes on (the
        # scan counters it holds are per transaction).
        self._last: catalog.Snapshot | None = None
        self._current: StatementTrace | None = None
        self._current_statement: PlannedStatement | None = None
        # Locks the current transaction holds: oid → (mode, where it was taken).
        self._held: dict[int, tuple[locks.LockMode, str]] = {}

    def close(self) -> None:
        if self._monitor is not None:
            self._monitor.close()

    # -- Observer hooks --------------------------------------------------------------
    def run(self, conn: psycopg.Connection, statement: PlannedStatement, in_tx: bool) -> None:
        import psycopg

        trace = self._new_trace(statement, in_tx)
        if self._progress is not None:
            self._progress(f"running {trace.location}")
        if in_tx:
            self._observe(conn, statement, trace)
            return
        # Autocommit: observe inside a transaction of our own, committed right after.
        conn.execute("BEGIN")
        self.transaction_ended()
        try:
            self._observe(conn, statement, trace)
        except psycopg.Error as err:
            with contextlib.suppress(psycopg.Error):
                conn.execute("ROLLBACK")
            self.transaction_ended()
            if err.sqlstate != _NOT_IN_TRANSACTION:
                raise
            self._reset(trace)
            self._observe_bare(conn, statement, trace)
            return
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self.transaction_ended()

    def control(self, statement: PlannedStatement, kind: str) -> None:
        trace = self._new_trace(statement, kind != "commit")
        trace.control = kind

    def skipped(self, statement: PlannedStatement, reason: str) -> None:
        if self._current is not None and self._current_statement is statement:
            trace = self._current  # a tolerated statement: already recorded
        else:
            trace = self._new_trace(statement, False)
        trace.skipped = reason
        trace.locks.clear()
        trace.changes.clear()

    def failed(self, statement: PlannedStatement, message: str, sqlstate: str | None) -> None:
        if self._current is not None and self._current_statement is statement:
            trace = self._current
        else:
            trace = self._new_trace(statement, False)
        trace.error = message
        trace.sqlstate = sqlstate

    def transaction_ended(self) -> None:
        self._last = None
        self._held = {}

    # -- observation -----------------------------------------------------------------
    def _new_trace(self, statement: PlannedStatement, in_tx: bool) -> StatementTrace:
        trace = StatementTrace(
            path=statement.path,
            index=statement.index,
            span=statement.span,
            text=statement.text,
            in_transaction=in_tx,
        )
        self.traces.append(trace)
        self._current = trace
        self._current_statement = statement
        return trace

    def _reset(self, trace: StatementTrace) -> None:
        trace.in_transaction = False
        trace.locks.clear()
        trace.changes.clear()
        trace.rewrites.clear()
        trace.scanned.clear()

    def _observe(
        self, conn: psycopg.Connection, statement: PlannedStatement, trace: StatementTrace
    ) -> None:
        pid = conn.info.backend_pid
        before = self._last or catalog.take(conn, scans=True, light=self.light)
        held = set(conn.execute(_LOCKS, (pid,)).fetchall())
        started = time.perf_counter()
        conn.execute(statement.text)
        trace.duration_s = time.perf_counter() - started
        acquired = set(conn.execute(_LOCKS, (pid,)).fetchall()) - held
        after = catalog.take(conn, scans=True, light=self.light)
        self._last = after
        self._record(trace, before, after, acquired, held_to_commit=trace.in_transaction)
        for oid, count in after.scans.items():
            name = after.name_of(oid)
            rewritten = name in trace.rewrites
            if count > before.scans.get(oid, 0) and oid in self.base.relations and not rewritten:
                trace.scanned.append(name or str(oid))

    def _observe_bare(
        self, conn: psycopg.Connection, statement: PlannedStatement, trace: StatementTrace
    ) -> None:
        """Run a statement that refuses transaction blocks while polling its locks."""
        before = catalog.take(conn, light=self.light)
        monitor = self._monitor_connection()
        seen: set[tuple[int, str]] = set()
        done = threading.Event()
        pid = conn.info.backend_pid
        # A snapshot older than the statement: CONCURRENTLY commands wait for it to go.
        monitor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        monitor.execute("SELECT 1")

        def poll() -> None:
            holding = True
            deadline = time.monotonic() + _HOLD_S
            # A failing poll only ends the polling; the snapshot is released below.
            with contextlib.suppress(Exception):
                while not done.is_set():
                    rows = monitor.execute(_LOCKS_WAITING, (pid,)).fetchall()
                    seen.update((oid, mode) for oid, mode, granted in rows if granted and oid)
                    waiting = any(not granted for _, _, granted in rows)
                    if holding and (waiting or time.monotonic() > deadline):
                        monitor.execute("COMMIT")
                        holding = False
            if holding:
                with contextlib.suppress(Exception):
                    monitor.execute("ROLLBACK")

        poller = threading.Thread(target=poll, name="migcheck-lock-poll", daemon=True)
        poller.start()
        started = time.perf_counter()
        try:
            conn.execute(statement.text)
        finally:
            trace.duration_s = time.perf_counter() - started
            done.set()
            poller.join()
        after = catalog.take(conn, light=self.light)
        self._record(trace, before, after, seen, held_to_commit=False)

    def _monitor_connection(self) -> psycopg.Connection:
        if self._monitor is None or self._monitor.closed:
            self._monitor = self._monitor_factory()
        return self._monitor

    def _record(
        self,
        trace: StatementTrace,
        before: catalog.Snapshot,
        after: catalog.Snapshot,
        acquired: set[tuple[int, str]],
        *,
        held_to_commit: bool,
    ) -> None:
        trace.rewrites = [
            relation.qualname
            for relation, previous in catalog.rewrites(before, after)
            if previous in self.base.relations
        ]
        bare = strip_comments(trace.text)
        opaque = bool(_OPAQUE.match(bare))
        lowered = bare.lower()
        trace.changes = [_mark_hidden(c, lowered, opaque) for c in catalog.diff(before, after)]
        trace.locks = self._locks(trace, before, after, acquired, held_to_commit)

    def _locks(
        self,
        trace: StatementTrace,
        before: catalog.Snapshot,
        after: catalog.Snapshot,
        acquired: set[tuple[int, str]],
        held_to_commit: bool,
    ) -> list[LockInfo]:
        strongest: dict[int, tuple[locks.LockMode, str | None]] = {}
        for oid, pg_mode in acquired:
            mode = locks.mode(pg_mode)
            if oid not in strongest or mode.strength > strongest[oid][0].strength:
                strongest[oid] = (mode, None)
        # Relations the statement worked on under a lock taken earlier in the transaction.
        for oid in self._touched(trace, after) | set(strongest):
            earlier = self._held.get(oid)
            if earlier is not None and (
                oid not in strongest or earlier[0].strength > strongest[oid][0].strength
            ):
                strongest[oid] = (earlier[0], earlier[1])
        found = []
        for oid, (mode, since) in strongest.items():
            relation = after.relations.get(oid) or before.relations.get(oid)
            if relation is None:
                continue  # a catalog, a TOAST table or a transient heap of a rewrite
            if held_to_commit and since is None:
                self._held[oid] = (mode, trace.location)
            found.append(
                LockInfo(
                    relation=relation.qualname,
                    kind=relation.word,
                    mode=mode.name,
                    blocks=mode.blocks,
                    existing=oid in self.base.relations,
                    held_to_commit=held_to_commit,
                    since=since,
                )
            )
        found.sort(key=lambda lock: (not lock.existing, lock.since is not None, lock.relation))
        return found

    @staticmethod
    def _touched(trace: StatementTrace, after: catalog.Snapshot) -> set[int]:
        """OIDs of the relations a statement changed or rewrote."""
        by_name = {r.qualname: oid for oid, r in after.relations.items()}
        names = set(trace.rewrites)
        for change in trace.changes:
            names.add(change.table or change.object)
        return {by_name[name] for name in names if name in by_name}


def _mark_hidden(change: SchemaChange, text: str, opaque: bool) -> SchemaChange:
    """Flag a change the statement's text does not name (see ``SchemaChange.hidden``)."""
    if opaque:
        return _with_hidden(change)
    if change.kind.startswith("sequence_"):
        return change  # serial and identity columns create sequences under derived names
    if change.kind.startswith(("index_", "constraint_")) and change.table:
        names = [change.table.rsplit(".", 1)[-1]]
    elif change.column:
        names = [change.column]
    else:
        names = [change.object.rsplit(".", 1)[-1]]
    if change.kind.endswith("_renamed"):
        names += [n.rsplit(".", 1)[-1] for n in (change.before, change.after) if n]
    if any(name.lower() in text for name in names):
        return change
    return _with_hidden(change)


def _with_hidden(change: SchemaChange) -> SchemaChange:
    from dataclasses import replace

    return replace(change, hidden=True)
