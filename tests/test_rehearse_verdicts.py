"""The rehearsal's verdicts from measured figures (no server): which rule fires for
which figures, against the thresholds passed in."""

from __future__ import annotations

from typing import Any

from migcheck.rehearse.measure import Measure, percentile
from migcheck.rehearse.options import RehearseOptions
from migcheck.rehearse.sampler import WaitSample
from migcheck.rehearse.traffic import Sample
from migcheck.rehearse.verdicts import findings


def statement(**figures: Any) -> dict[str, Any]:
    return {
        "path": "m/002.sql",
        "line": 3,
        "sql": "ALTER TABLE items ADD COLUMN note text",
        "duration_ms": 2.0,
        "locks": [{"relation": "public.items", "mode": "ACCESS EXCLUSIVE", "held_ms": 40.0}],
        "lock_mode": "ACCESS EXCLUSIVE",
        "lock_held_ms": 40.0,
        "rewrote": False,
        "waiting_queries": 0,
        "max_wait_ms": 0.0,
        "p50_ms": 5.0,
        "p95_ms": 9.0,
        "p99_ms": 12.0,
        "max_ms": 12.0,
        "app_errors": {},
        "app_error_examples": {},
        "queued_queries": None,
        "max_queue_ms": None,
        "extrapolated": False,
        "failed": None,
        **figures,
    }


BASELINE = {"queries": 100, "p50_ms": 4.0, "p95_ms": 8.0, "p99_ms": 10.0, "max_ms": 11.0}


def rules(st: dict[str, Any], baseline: dict[str, Any] = BASELINE, **options: Any) -> list[str]:
    found = findings([st], baseline, RehearseOptions(**options), {"public.items": 5000})
    return [f.rule for f in found]


def test_nothing_crossed_gives_the_figures_as_info() -> None:
    found = findings([statement()], BASELINE, RehearseOptions(), {"public.items": 5000})
    assert [(f.rule, f.severity, f.line) for f in found] == [("rehearse-statement", "info", 3)]
    assert found[0].message == (
        'held ACCESS EXCLUSIVE on "public.items" (5,000 rows) for 40 ms; no app query '
        "waited on its lock; app p99 12 ms vs 10 ms baseline."
    )


def test_a_long_lock_wait_or_a_p99_above_the_baseline_blocks() -> None:
    assert rules(statement(waiting_queries=1, max_wait_ms=600.0)) == ["rehearse-blocked-traffic"]
    assert rules(statement(waiting_queries=1, max_wait_ms=400.0)) == ["rehearse-statement"]
    assert rules(statement(p99_ms=520.0)) == ["rehearse-blocked-traffic"]
    assert rules(statement(p99_ms=505.0)) == ["rehearse-statement"]  # 495 ms above
    assert rules(statement(p99_ms=61.0), max_stall_s=0.05) == ["rehearse-blocked-traffic"]


def test_a_slow_app_does_not_make_every_statement_blocking() -> None:
    slow = {**BASELINE, "p99_ms": 900.0}
    assert rules(statement(p99_ms=880.0), slow) == ["rehearse-statement"]
    assert rules(statement(p99_ms=1500.0), slow) == ["rehearse-blocked-traffic"]


def test_queueing_behind_a_long_transaction_is_the_lock_queue() -> None:
    queued = statement(queued_queries=3, max_queue_ms=900.0, waiting_queries=3, max_wait_ms=900.0)
    assert rules(queued, long_transaction_s=1.0) == ["rehearse-lock-queue"]
    brief = statement(queued_queries=3, max_queue_ms=90.0)
    assert rules(brief, long_transaction_s=1.0) == ["rehearse-statement"]


def test_a_lock_timeout_is_a_retry_and_other_failures_fail() -> None:
    timeout = statement(failed={"sqlstate": "55P03", "message": "lock timeout"})
    assert rules(timeout) == ["rehearse-lock-timeout"]
    other = statement(failed={"sqlstate": "23502", "message": "null value"})
    assert rules(other) == ["live-migration-failed"]


def test_app_errors_are_counted_by_sqlstate_with_an_example() -> None:
    st = statement(app_errors={"23502": 7}, app_error_examples={"23502": "q.sql:1: null value"})
    found = findings([st], BASELINE, RehearseOptions(), {})
    assert [(f.rule, f.severity) for f in found] == [("rehearse-app-errors", "error")]
    assert found[0].message == (
        "old-app queries failed while the changeset ran: 23502 × 7 (e.g. q.sql:1: null value)"
    )


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50, 99, None)
    assert percentile([3.0], 99) == 3.0


def test_a_wait_lasts_from_the_first_sample_that_saw_it_to_the_last() -> None:
    blocked = Sample(start=1.0, end=2.0, query=0, pid=11)
    other = Sample(start=1.0, end=1.01, query=0, pid=12)
    waits = [
        WaitSample(1.2, ((11, (99,)),)),
        WaitSample(1.5, ((11, (99,)), (12, (77,)))),  # 12 waits on someone else
        WaitSample(1.8, ((11, (99,)),)),
    ]
    measure = Measure(0.0, 3.0, [blocked, other], waits, {11, 12}, ["q"], interval=0.02)
    waited = measure.waited(0.0, 3.0, migration=99)
    assert list(waited) == [blocked]
    assert round(waited[blocked]) == 620  # 1.8 - 1.2 + one 20 ms interval
