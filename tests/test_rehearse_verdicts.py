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


def test_only_a_long_wait_on_its_lock_blocks() -> None:
    assert rules(statement(waiting_queries=1, max_wait_ms=600.0)) == ["rehearse-blocked-traffic"]
    assert rules(statement(waiting_queries=1, max_wait_ms=400.0)) == ["rehearse-statement"]
    assert rules(statement(waiting_queries=2, max_wait_ms=61.0), max_stall_s=0.05) == [
        "rehearse-blocked-traffic"
    ]
    assert rules(statement(waiting_queries=2, max_wait_ms=49.0), max_stall_s=0.05) == [
        "rehearse-statement"
    ]


def test_a_p99_rise_without_a_lock_wait_is_contention_not_blocking() -> None:
    st = statement(lock_mode="SHARE UPDATE EXCLUSIVE", p99_ms=4479.0, in_flight_queries=3)
    st["locks"][0]["mode"] = "SHARE UPDATE EXCLUSIVE"
    found = findings([st], BASELINE, RehearseOptions(), {"public.items": 5000})
    assert [(f.rule, f.severity) for f in found] == [("rehearse-statement", "info")]
    assert found[0].message == (
        'held SHARE UPDATE EXCLUSIVE on "public.items" (5,000 rows) for 40 ms; no app query '
        "waited on its lock; app p99 rose to 4.5 s vs 10 ms baseline; no query waited on "
        "its lock: contention, not blocking."
    )
    # A rise under the stall: plain figures, no contention remark.
    plain = findings([statement(p99_ms=505.0)], BASELINE, RehearseOptions(), {})
    assert "contention" not in plain[0].message
    assert "app p99 505 ms vs 10 ms baseline." in plain[0].message


def test_timeouts_are_figures_not_app_errors() -> None:
    st = statement(waiting_queries=4, max_wait_ms=1001.0, timed_out_queries=4)
    found = findings([st], BASELINE, RehearseOptions(), {})
    assert [f.rule for f in found] == ["rehearse-blocked-traffic"]
    assert found[0].message.endswith(
        "4 app queries waited on its lock, longest 1.0 s (cut there by --app-timeout); app p99 "
        "12 ms vs 10 ms baseline; 4 app queries cancelled by the app's statement_timeout (1 s, "
        "--app-timeout)."
    )
    # A wait that ended before the app's timeout did: no remark.
    shorter = findings([dict(st, max_wait_ms=940.0)], BASELINE, RehearseOptions(), {})
    assert "longest 940 ms; app p99" in shorter[0].message


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


def test_a_wait_lasts_from_the_query_start_to_the_last_sample_that_saw_it() -> None:
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
    # It took its lock as it started: 1.8 - 1.0 + one 20 ms interval, not from 1.2.
    assert round(waited[blocked]) == 820
    # A query that was there before the statement waited from the statement's start.
    assert round(measure.waited(1.1, 3.0, migration=99)[blocked]) == 720


def test_a_query_still_running_at_the_end_is_in_flight_not_invisible() -> None:
    # Client 11 finished two fast queries, then one that never returned (stuck on
    # the lock): the traffic cut it after the run ended (t_end = 3.0).
    fast = [Sample(0.1, 0.11, 0, 11), Sample(0.2, 0.21, 0, 11)]
    stuck = Sample(1.0, 3.4, 0, 11, "57014", "canceling statement due to user request", True)
    waits = [WaitSample(1.1 + i / 10, ((11, (99,)),)) for i in range(15)]
    measure = Measure(0.0, 3.0, [*fast, stuck], waits, {11}, ["q"], interval=0.02)
    baseline, _ = measure.baseline(0.5)
    assert (baseline["queries"], baseline["in_flight"], baseline["timed_out"]) == (2, 0, 0)
    figures = measure._window(0.9, 2.0)
    assert figures["in_flight_queries"] == 1
    assert figures["p99_ms"] == 1000.0  # ran from 1.0 to the window's end at 2.0
    waited = measure.waited(0.9, 2.0, migration=99)
    assert [round(ms) for ms in waited.values()] == [1000]
    # The stall shows in every bucket it lasted, not only where it ended.
    timeline = measure.timeline()
    assert [b["in_flight"] for b in timeline[9:12]] == [0, 1, 1]
    assert timeline[19]["p99_ms"] == 1000.0
    assert sum(b["errors"] for b in timeline) == 0


def test_app_statement_timeouts_are_counted_apart_from_errors() -> None:
    cut = Sample(0.1, 0.6, 0, 11, "57014", "canceling statement due to statement timeout")
    broken = Sample(0.2, 0.3, 1, 12, "42703", "column does not exist")
    measure = Measure(0.0, 3.0, [cut, broken], [], {11, 12}, ["q0", "q1"])
    baseline, failing = measure.baseline(1.0)
    assert (baseline["timed_out"], baseline["errors"]) == (1, {"42703": 1})
    assert failing == {(1, "42703")}
    assert measure._window(0.0, 1.0)["timed_out_queries"] == 1
    assert [m["timed_out"] for m in measure.mix([1.0, 1.0])] == [1, 0]
    assert [m["errors"] for m in measure.mix([1.0, 1.0])] == [0, 1]


def test_the_table_shows_app_timeouts_and_the_slow_workload_warning() -> None:
    from migcheck.rehearse.report import rehearsal_dict, render_table
    from migcheck.rehearse.runner import Pass, RehearseResult

    result = RehearseResult(warnings=["the workload is too slow for this volume: 2 app queries"])
    result.passes.append(Pass(baseline=BASELINE, statements=[statement(timed_out_queries=3)]))
    text = render_table(result, RehearseOptions())
    row = next(line for line in text.splitlines() if line.startswith("m/002.sql:3"))
    assert row.endswith("app timeout×3")
    assert "warning: the workload is too slow for this volume: 2 app queries\n" in text
    data = rehearsal_dict(result, RehearseOptions(max_stall_s=0.2))
    assert data["warnings"] == ["the workload is too slow for this volume: 2 app queries"]
    assert data["settings"]["app_timeout_s"] == 0.4  # type: ignore[index]
