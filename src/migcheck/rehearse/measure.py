"""From raw samples to figures: the baseline, each statement's window, the timeline.

Clock: ``time.perf_counter()`` everywhere; reported times are milliseconds from the
start of the baseline. A statement's *lock window* runs from its start to the end of
its transaction (its locks are held until then): the app's latency and lock waits are
read there. Its *error window* runs on to the next statement's start (to the end of
the cool-down for the last one), since a change keeps breaking the old app after the
statement returns. Errors of a query that already failed the same way during the
baseline are the binding's, not the migration's, and are not counted.

A window's latency covers every query that overlaps it, finished or not: a query still
running at the window's end counts with the time it had run by then (``in_flight``).
Otherwise the statement that blocks every query would look idle, since none of them
finishes while it holds its lock. The same goes for the baseline's end. Queries the
app's statement_timeout cancelled (57014) are counted apart from its errors.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from migcheck.live import locks
from migcheck.live.results import LockInfo
from migcheck.rehearse.observe import Window
from migcheck.rehearse.sampler import WaitSample
from migcheck.rehearse.traffic import Sample

BUCKET_S = 0.1


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of sorted ``values``; None when there are none."""
    if not values:
        return None
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[min(rank, len(values)) - 1]


def latency(samples: Sequence[Sample], until: float | None = None) -> dict[str, float | None]:
    """Percentiles of the samples' latencies, each counted up to ``until`` at most (a
    query still running then counts with the time it had run)."""
    ms = sorted(((s.end if until is None else min(s.end, until)) - s.start) * 1000 for s in samples)
    return {
        "p50_ms": _round(percentile(ms, 50)),
        "p95_ms": _round(percentile(ms, 95)),
        "p99_ms": _round(percentile(ms, 99)),
        "max_ms": _round(ms[-1] if ms else None),
    }


def _locks(own: list[LockInfo], inherited: list[LockInfo]) -> list[LockInfo]:
    """The statement's locks on existing relations (all when none existed), with the
    stronger ones earlier statements of its transaction still hold."""
    strongest: dict[str, LockInfo] = {}
    for lock in [*own, *inherited]:
        if not lock.existing:
            continue
        known = strongest.get(lock.relation)
        if known is None or _strength(lock.mode) > _strength(known.mode):
            strongest[lock.relation] = lock
    return list(strongest.values()) or list(own)


def _strength(mode: str) -> int:
    found = locks.BY_NAME.get(mode)
    return found.strength if found is not None else 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class Measured:
    baseline: dict[str, object]
    statements: list[dict[str, object]]
    timeline: list[dict[str, object]]
    # Examples of the app errors counted per statement: SQLSTATE → "origin: message".
    examples: list[dict[str, str]] = field(default_factory=list)


class Measure:
    def __init__(
        self,
        t0: float,
        t_end: float,
        samples: list[Sample],
        waits: list[WaitSample],
        clients: set[int],
        origins: list[str],
        interval: float = 0.015,
    ) -> None:
        self.t0 = t0
        self.interval = interval  # the sampler's
        self.t_end = t_end
        # A query still running at the end (cut by the stop, or finishing after it)
        # counts as in flight until then: neither its end nor its outcome is known.
        self.samples = [
            s if s.end <= t_end else replace(s, end=t_end, cut=True, sqlstate=None, message=None)
            for s in samples
            if s.start < t_end
        ]
        self.waits = waits
        self.clients = clients
        self.origins = origins
        self._by_pid: dict[int, list[Sample]] = defaultdict(list)
        for s in self.samples:
            self._by_pid[s.pid].append(s)
        self._starts = {pid: [s.start for s in ss] for pid, ss in self._by_pid.items()}

    def ms(self, t: float) -> int:
        return round((t - self.t0) * 1000)

    def _overlapping(self, a: float, b: float) -> list[Sample]:
        return [s for s in self.samples if s.start < b and s.end > a]

    def _window(self, a: float, b: float) -> dict[str, object]:
        """What the app felt between ``a`` and ``b``: latency percentiles over every
        query that overlapped it (one still running at ``b`` counts until ``b``), how
        many were in flight at ``b``, and how many the app's statement_timeout cut."""
        inside = self._overlapping(a, b)
        return {
            **latency(inside, b),
            "in_flight_queries": sum(1 for s in inside if s.end > b or s.cut),
            "timed_out_queries": sum(1 for s in inside if s.timed_out and s.end <= b),
        }

    def _sample_at(self, pid: int, at: float) -> Sample | None:
        starts = self._starts.get(pid)
        if not starts:
            return None
        i = bisect.bisect_right(starts, at) - 1
        if i < 0:
            return None
        sample = self._by_pid[pid][i]
        return sample if sample.end >= at else None

    def baseline(self, until: float) -> tuple[dict[str, object], set[tuple[int, str]]]:
        """The traffic alone, up to ``until``: the queries that finished (``queries``),
        latency over those and the ones still running then (counted until then), the
        errors, and ``timed_out``: queries the app's statement_timeout cancelled before
        any migration ran (the workload is too slow for this volume)."""
        done = [s for s in self.samples if s.end <= until]
        failing = {(s.query, s.sqlstate) for s in done if s.sqlstate and not s.timed_out}
        errors: dict[str, int] = {}
        for s in done:
            if s.sqlstate and not s.timed_out:
                errors[s.sqlstate] = errors.get(s.sqlstate, 0) + 1
        running = [s for s in self.samples if s.start < until < s.end]
        return {
            "queries": len(done),
            **latency([*done, *running], until),
            "errors": errors,
            "in_flight": len(running),
            "timed_out": sum(1 for s in done if s.timed_out),
        }, failing

    def mix(self, weights: list[float]) -> list[dict[str, object]]:
        """Per app query: its weight, how often it ran and failed over the whole pass."""
        runs = [0] * len(self.origins)
        failed = [0] * len(self.origins)
        timed_out = [0] * len(self.origins)
        for s in self.samples:
            runs[s.query] += 1
            if s.timed_out:
                timed_out[s.query] += 1
            elif s.sqlstate:
                failed[s.query] += 1
        return [
            {"origin": origin, "weight": weight, "queries": n, "errors": bad, "timed_out": cut}
            for origin, weight, n, bad, cut in zip(
                self.origins, weights, runs, failed, timed_out, strict=True
            )
        ]

    def waited(
        self, a: float, b: float, migration: int, queued_only: bool = False
    ) -> dict[Sample, float]:
        """App queries seen waiting behind the migration's backend between ``a`` and
        ``b`` and how long each waited, in ms: from when it started (or ``a``, when the
        migration came later) to the last sample that saw it waiting plus one interval
        (at most its end, or ``b`` for one still waiting then). A query takes
        its locks as it starts, so it waited from then, not from when a sample first
        saw it: on a busy machine the sampler's polls come late. With ``queued_only``,
        only while the migration itself waited for a lock (they queued behind its
        pending lock)."""
        seen: dict[Sample, list[float]] = {}
        for w in self.waits:
            if not a <= w.at <= b:
                continue
            if queued_only and not any(pid == migration for pid, _ in w.waiting):
                continue
            for pid, blockers in w.waiting:
                if pid in self.clients and migration in blockers:
                    sample = self._sample_at(pid, w.at)
                    if sample is not None:
                        seen.setdefault(sample, []).append(w.at)
        return {
            sample: max(0.0, min(sample.end, times[-1] + self.interval, b) - max(sample.start, a))
            * 1000
            for sample, times in seen.items()
        }

    def statement(
        self,
        window: Window,
        error_until: float,
        migration: int,
        baseline_failures: set[tuple[int, str]],
        scale: float,
        long_transaction: bool,
    ) -> dict[str, object]:
        trace = window.trace
        released = max(window.released, window.end)
        lock_until = released
        waited = self.waited(window.start, lock_until, migration)
        errors: dict[str, int] = {}
        examples: dict[str, str] = {}
        for s in self.samples:
            if s.sqlstate and not s.timed_out and window.start <= s.end < error_until:
                if (s.query, s.sqlstate) in baseline_failures:
                    continue
                errors[s.sqlstate] = errors.get(s.sqlstate, 0) + 1
                examples.setdefault(s.sqlstate, f"{self.origins[s.query]}: {s.message}")
        factor = 1 / scale if scale < 1 else 1.0
        lock_rows = _locks(trace.locks, window.inherited)
        if trace.in_transaction:
            # Until the commit, less migcheck's own tracing of this and later statements.
            tracing = window.overhead + sum(w.overhead for w in window.later)
            held_s = max(trace.duration_s, released - window.start - tracing)
        else:
            held_s = trace.duration_s or (window.end - window.start)
        lock_list = [
            {
                "relation": lk.relation,
                "mode": lk.mode,
                "held_ms": round(held_s * 1000 * factor, 1),
            }
            for lk in lock_rows
        ]
        strongest = max(lock_rows, key=lambda lk: _strength(lk.mode), default=None)
        queued = self.waited(window.start, lock_until, migration, True) if long_transaction else {}
        return {
            "path": trace.path,
            "line": trace.line,
            "sql": trace.text,
            # A statement that failed has no duration of its own: its window's.
            "duration_ms": round(
                (trace.duration_s or (window.end - window.start)) * 1000 * factor, 1
            ),
            "locks": lock_list,
            "lock_mode": strongest.mode if strongest else None,
            "lock_held_ms": round(held_s * 1000 * factor, 1) if strongest else None,
            "rewrote": bool(trace.rewrites),
            "waiting_queries": len(waited),
            "max_wait_ms": _round(max(waited.values(), default=0.0)),
            **self._window(window.start, lock_until),
            "app_errors": errors,
            "app_error_examples": examples,
            "queued_queries": len(queued) if long_transaction else None,
            "long_transaction_lock": window.long_transaction_lock,
            "max_queue_ms": _round(max(queued.values(), default=0.0)) if long_transaction else None,
            "extrapolated": scale < 1,
            "start_ms": self.ms(window.start),
            "end_ms": self.ms(released),
            "failed": (
                {"sqlstate": trace.sqlstate, "message": trace.error} if trace.error else None
            ),
        }

    def timeline(self) -> list[dict[str, object]]:
        count = max(1, math.ceil((self.t_end - self.t0) / BUCKET_S))
        ends: list[list[float]] = [[] for _ in range(count)]
        errors = [0] * count
        waiting = [0] * count
        in_flight = [0] * count
        for s in self.samples:
            at = min(count - 1, max(0, int((s.end - self.t0) / BUCKET_S)))
            ends[at].append((s.end - s.start) * 1000)
            in_flight[at] += 1 if s.cut else 0
            if s.sqlstate and not s.timed_out:
                errors[at] += 1
            # Still running at the end of an earlier bucket: there it counts with the
            # time it had run, so a stall shows while it lasts, not only after it.
            for bucket in range(max(0, int((s.start - self.t0) / BUCKET_S)), at):
                ends[bucket].append((self.t0 + (bucket + 1) * BUCKET_S - s.start) * 1000)
                in_flight[bucket] += 1
        for w in self.waits:
            at = int((w.at - self.t0) / BUCKET_S)
            if 0 <= at < count:
                n = sum(1 for pid, _ in w.waiting if pid in self.clients)
                waiting[at] = max(waiting[at], n)
        rows: list[dict[str, object]] = []
        for i in range(count):
            ms = sorted(ends[i])
            rows.append(
                {
                    "t_ms": round(i * BUCKET_S * 1000),
                    "queries": len(ms) - in_flight[i],
                    "in_flight": in_flight[i],
                    "p50_ms": _round(percentile(ms, 50)),
                    "p99_ms": _round(percentile(ms, 99)),
                    "waiting": waiting[i],
                    "errors": errors[i],
                }
            )
        return rows
