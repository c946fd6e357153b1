"""Findings from a rehearsal's figures, at the path and line of each statement.

Rule ids:

* ``rehearse-blocked-traffic`` (locking, error): an app query waited longer than
  ``--max-stall`` on a lock the statement held or requested (the sampler saw the
  migration's backend among the query's ``pg_blocking_pids``), counted until the
  window's end for a query still waiting then. A p99 rise without such a wait (the
  machine busy building an index concurrently, a slow app query) is not the
  statement's blocking: its figures go into the info finding, marked as contention.
* ``rehearse-lock-queue`` (locking, error): under ``--long-transaction``, app queries
  queued behind the statement's pending lock for longer than ``--max-stall``.
* ``rehearse-lock-timeout`` (locking, warning): the statement's ``lock_timeout`` ran
  out (SQLSTATE 55P03): it would fail in production and the runner must retry.
* ``rehearse-app-errors`` (compatibility, error): old-app queries failed while the
  changeset ran (lock timeouts, constraint errors...), beyond the failures the same
  queries had during the baseline.
* ``rehearse-statement`` (locking, info): the statement's figures, when nothing above
  fired: the evidence that it is safe under this load.
* ``live-migration-failed`` (meta, error): PostgreSQL rejected the statement.
"""

from __future__ import annotations

from migcheck.model import Category, Finding, Severity, Span
from migcheck.rehearse.options import RehearseOptions

LOCK_NOT_AVAILABLE = "55P03"
_HELP = {
    "rehearse-blocked-traffic": (
        "The app stalls while this statement holds its lock. Use a form that does not "
        "block (CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE, a new column "
        "backfilled in batches), or run it when the table is idle."
    ),
    "rehearse-lock-queue": (
        "A long transaction made the statement wait for its lock, and every app query on "
        "the table queued behind it. Set lock_timeout before the statement and retry it "
        "when it times out."
    ),
    "rehearse-lock-timeout": (
        "lock_timeout made the statement give up instead of stalling the app: good. The "
        "migration runner must retry it until it gets the lock."
    ),
    "rehearse-app-errors": (
        "The running app version fails while the changeset runs: ship the change in "
        "expand/contract steps so the old app keeps working."
    ),
    "rehearse-statement": "Measured under load; nothing crossed a threshold.",
    "live-migration-failed": "PostgreSQL rejected this statement; the migration would fail.",
}
_CATEGORY: dict[str, Category] = {
    "rehearse-blocked-traffic": "locking",
    "rehearse-lock-queue": "locking",
    "rehearse-lock-timeout": "locking",
    "rehearse-app-errors": "compatibility",
    "rehearse-statement": "locking",
    "live-migration-failed": "meta",
}
_SEVERITY: dict[str, Severity] = {
    "rehearse-blocked-traffic": "error",
    "rehearse-lock-queue": "error",
    "rehearse-lock-timeout": "warning",
    "rehearse-app-errors": "error",
    "rehearse-statement": "info",
    "live-migration-failed": "error",
}


def ms(value: object) -> str:
    """1,234 ms or 2.4 s."""
    if not isinstance(value, int | float):
        return "n/a"
    if value >= 1000:
        return f"{value / 1000:,.1f} s"
    return f"{value:,.0f} ms" if value >= 10 else f"{value:,.1f} ms"


def _finding(rule: str, st: dict[str, object], message: str, span: Span | None) -> Finding:
    line = st["line"] if isinstance(st["line"], int) else 1
    return Finding(
        rule=rule,
        severity=_SEVERITY[rule],
        category=_CATEGORY[rule],
        path=str(st["path"]),
        span=span or Span(line, 1, line, 1),
        message=message,
        help=_HELP[rule],
        statement=str(st["sql"]),
    )


def _lock_text(st: dict[str, object], seeded: dict[str, int]) -> str:
    mode = st.get("lock_mode")
    if not mode:
        return "took no lock on an existing table"
    locks = st.get("locks")
    relation = ""
    if isinstance(locks, list) and locks:
        first = next((lk for lk in locks if lk.get("mode") == mode), locks[0])
        relation = str(first.get("relation", ""))
    rows = seeded.get(relation)
    size = f" ({rows:,} rows)" if rows else ""
    extrapolated = " (extrapolated to full size)" if st.get("extrapolated") else ""
    return f'held {mode} on "{relation}"{size} for {ms(st.get("lock_held_ms"))}{extrapolated}'


def _figures(
    st: dict[str, object],
    baseline: dict[str, object],
    seeded: dict[str, int],
    options: RehearseOptions,
) -> str:
    stall_ms = options.max_stall_s * 1000
    waited = st.get("waiting_queries") or 0
    longest = st.get("max_wait_ms")
    wait = (
        f"{_queries(waited)} waited on its lock, longest {ms(longest)}"
        if isinstance(waited, int) and waited
        else "no app query waited on its lock"
    )
    if waited and isinstance(longest, int | float) and longest >= 0.95 * options.app_timeout * 1000:
        # The app's statement_timeout ended the wait, not the lock: say so.
        wait += " (cut there by --app-timeout)"
    p99, floor = st.get("p99_ms"), baseline.get("p99_ms")
    if p99 is None:
        latency = "no app query ran in its window"
    elif not waited and _rose(p99, floor, stall_ms):
        latency = (
            f"app p99 rose to {ms(p99)} vs {ms(floor)} baseline; no query waited on its "
            "lock: contention, not blocking"
        )
    else:
        latency = f"app p99 {ms(p99)} vs {ms(floor)} baseline"
    rewrote = "; rewrote the table" if st.get("rewrote") else ""
    extra = ""
    cut = st.get("timed_out_queries")
    if isinstance(cut, int) and cut:
        extra += (
            f"; {_queries(cut)} cancelled by the app's statement_timeout "
            f"({options.app_timeout:g} s, --app-timeout)"
        )
    return f"{_lock_text(st, seeded)}{rewrote}; {wait}; {latency}{extra}"


def findings(
    statements: list[dict[str, object]],
    baseline: dict[str, object],
    options: RehearseOptions,
    seeded: dict[str, int],
    with_timeout: list[dict[str, object]] | None = None,
    lock_timeout_ms: int | None = None,
    spans: list[Span | None] | None = None,
) -> list[Finding]:
    """The findings of one pass's statements (``spans``: where each one is)."""
    stall_ms = options.max_stall_s * 1000
    alternative = {(s["path"], s["line"]): s for s in with_timeout or []}
    found: list[Finding] = []
    for number, st in enumerate(statements):
        span = spans[number] if spans and number < len(spans) else None
        failed = st.get("failed")
        fired = False
        if isinstance(failed, dict):
            if failed.get("sqlstate") == LOCK_NOT_AVAILABLE:
                found.append(
                    _finding(
                        "rehearse-lock-timeout",
                        st,
                        "would fail; the runner must retry: its lock_timeout ran out "
                        f"(SQLSTATE {LOCK_NOT_AVAILABLE}) after {ms(st.get('duration_ms'))}; "
                        f"{_queue_text(st)}",
                        span,
                    )
                )
            else:
                state = f" [{failed.get('sqlstate')}]" if failed.get("sqlstate") else ""
                found.append(
                    _finding(
                        "live-migration-failed",
                        st,
                        "PostgreSQL rejected this statement while rehearsing the changeset: "
                        f"{failed.get('message')}{state}",
                        span,
                    )
                )
            fired = True
        queued = st.get("queued_queries")
        max_queue = st.get("max_queue_ms")
        if (
            isinstance(queued, int)
            and queued > 0
            and isinstance(max_queue, int | float)
            and max_queue > stall_ms
        ):
            held = st.get("long_transaction_lock") or "ACCESS SHARE"
            message = (
                f"waited for its lock behind a {options.long_transaction_s:g} s transaction "
                f"holding {held}: {_queue_text(st)}"
            )
            other = alternative.get((st["path"], st["line"]))
            if other is not None and lock_timeout_ms is not None:
                message += (
                    f". It needs a lock_timeout no longer than --max-stall; with "
                    f"SET lock_timeout = '{lock_timeout_ms}ms' prepended: {_outcome(other)}"
                )
            elif lock_timeout_ms is None:
                message += " (the changeset sets lock_timeout, yet the queue built up)"
            found.append(_finding("rehearse-lock-queue", st, message, span))
            fired = True
        elif not failed and _blocked(st, stall_ms):
            figures = _figures(st, baseline, seeded, options)
            found.append(_finding("rehearse-blocked-traffic", st, figures + ".", span))
            fired = True
        errors = st.get("app_errors")
        if isinstance(errors, dict) and errors:
            examples = st.get("app_error_examples")
            parts = []
            for state, count in sorted(errors.items()):
                example = examples.get(state) if isinstance(examples, dict) else None
                parts.append(f"{state} × {count:,}" + (f" (e.g. {example})" if example else ""))
            found.append(
                _finding(
                    "rehearse-app-errors",
                    st,
                    "old-app queries failed while the changeset ran: " + "; ".join(parts),
                    span,
                )
            )
            fired = True
        if not fired:
            figures = _figures(st, baseline, seeded, options) + "."
            found.append(_finding("rehearse-statement", st, figures, span))
    return found


def _queries(n: int) -> str:
    return f"{n:,} app {'query' if n == 1 else 'queries'}"


def _blocked(st: dict[str, object], stall_ms: float) -> bool:
    """An app query waited longer than the stall on the statement's lock. Only a wait
    the sampler tied to the statement counts: the app's latency alone cannot tell the
    statement's lock from a busy machine or the app's own slow queries."""
    wait = st.get("max_wait_ms")
    return isinstance(wait, int | float) and wait > stall_ms


def _rose(p99: object, baseline_p99: object, stall_ms: float) -> bool:
    """The app's p99 rose by more than the stall above the baseline's."""
    floor = baseline_p99 if isinstance(baseline_p99, int | float) else 0.0
    return isinstance(p99, int | float) and p99 - floor > stall_ms


def _queue_text(st: dict[str, object]) -> str:
    queued = st.get("queued_queries") or 0
    if not isinstance(queued, int) or not queued:
        return "no app query queued behind it"
    longest = ms(st.get("max_queue_ms"))
    return f"{_queries(queued)} queued behind its pending lock, longest {longest}"


def _outcome(st: dict[str, object]) -> str:
    failed = st.get("failed")
    if isinstance(failed, dict) and failed.get("sqlstate") == LOCK_NOT_AVAILABLE:
        return f"it fails fast (SQLSTATE {LOCK_NOT_AVAILABLE}) and the runner must retry; {_queue_text(st)}"
    if isinstance(failed, dict):
        return f"it fails ({failed.get('sqlstate')}: {failed.get('message')})"
    return f"it got its lock in time; {_queue_text(st)}"
