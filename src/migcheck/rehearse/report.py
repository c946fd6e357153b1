"""The rehearsal's figures as the JSON ``rehearsal`` object and as a text table.

The JSON keys are an interface: CI pipelines and the HTML report
(``migcheck.rehearse.html.render``) read them, so they are named here once:

* ``baseline``: {``queries``, ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``} plus
  ``errors`` (SQLSTATE → count);
* ``statements``: {``path``, ``line``, ``sql``, ``duration_ms``, ``locks`` [{``relation``,
  ``mode``, ``held_ms``}], ``lock_mode``, ``lock_held_ms``, ``rewrote``,
  ``waiting_queries``, ``max_wait_ms``, ``p50_ms``, ``p95_ms``, ``p99_ms``, ``max_ms``,
  ``app_errors``, ``queued_queries``, ``max_queue_ms``, ``extrapolated``, ``start_ms``,
  ``end_ms``} plus ``app_error_examples``, ``failed`` ({``sqlstate``, ``message``}),
  ``in_flight_queries`` (still running at the window's end: they count in the
  percentiles with the time they had run) and ``timed_out_queries`` (cancelled by the
  app's statement_timeout, ``--app-timeout``; not app errors); the baseline also has
  ``in_flight`` and ``timed_out``;
* ``timeline``: 100 ms buckets {``t_ms``, ``queries``, ``in_flight``, ``p50_ms``,
  ``p99_ms``, ``waiting``, ``errors``} (a query still running at a bucket's end counts
  there with the time it had run);
* ``settings``: {``clients``, ``rate``, ``max_stall_s``, ``app_timeout_s``, ``rows``, ``scale``,
  ``long_transaction_s``, ``pg_version``};
* ``seeded`` (table → rows), ``traffic`` (per app query: ``origin``, ``weight``,
  ``queries``, ``errors``, ``timed_out``), ``notes``, ``warnings`` (about the workload,
  such as a baseline that already times out), and under ``--long-transaction`` without a
  ``lock_timeout`` in the changeset, ``with_lock_timeout``: {``lock_timeout_ms``,
  ``statements``} (the same changeset with ``SET lock_timeout`` prepended).
"""

from __future__ import annotations

from migcheck.rehearse.options import RehearseOptions
from migcheck.rehearse.runner import RehearseResult
from migcheck.rehearse.verdicts import ms
from migcheck.report.escape import log_line, visible


def rehearsal_dict(result: RehearseResult, options: RehearseOptions) -> dict[str, object]:
    main = result.passes[0] if result.passes else None
    data: dict[str, object] = {
        "baseline": main.baseline if main else {},
        "statements": main.statements if main else [],
        "timeline": main.timeline if main else [],
        "settings": {
            "clients": options.clients,
            "rate": options.rate,
            "max_stall_s": options.max_stall_s,
            "app_timeout_s": options.app_timeout,
            "rows": options.rows,
            "scale": options.scale,
            "long_transaction_s": options.long_transaction_s,
            "pg_version": result.server.version if result.server else None,
        },
        "seeded": dict(result.seeded),
        "seed_cached": result.seed_cached,
        "seed_problems": list(result.seed_problems),
        "traffic": main.mix if main else [],
        "notes": list(result.notes),
        "warnings": list(result.warnings),
    }
    if len(result.passes) > 1:
        other = result.passes[1]
        data["with_lock_timeout"] = {
            "lock_timeout_ms": other.lock_timeout_ms,
            "statements": other.statements,
        }
    return data


def render_table(result: RehearseResult, options: RehearseOptions) -> str:
    """The per-statement table, for the terminal."""
    out: list[str] = []
    if result.server is not None:
        out.append(f"PostgreSQL {result.server.version} ({result.server.kind})")
    if result.seeded:
        how = "from the cache" if result.seed_cached else f"in {result.seed_seconds:.1f} s"
        volumes = ", ".join(f"{visible(t)} {n:,}" for t, n in sorted(result.seeded.items()))
        out.append(f"seeded {how}: {volumes}")
        if options.scale < 1:
            out.append(f"scale {options.scale:g}: durations extrapolated to full size (marked *)")
    for problem in result.seed_problems:
        out.append(f"seeding: {visible(problem)}")
    for number, one in enumerate(result.passes):
        if number == 1:
            out.append("")
            out.append(f"the same changeset with SET lock_timeout = '{one.lock_timeout_ms}ms':")
        b = one.baseline
        out.append(
            f"baseline: {b.get('queries', 0):,} queries, p50 {ms(b.get('p50_ms'))}, "
            f"p99 {ms(b.get('p99_ms'))} ({options.clients} clients)"
        )
        header = (
            "statement",
            "time",
            "lock (held)",
            "rewrote",
            "waited (longest)",
            "p50/p99",
            "errors",
        )
        rows = [header]
        for st in one.statements:
            star = "*" if st.get("extrapolated") else ""
            lock = (
                f"{st['lock_mode']} ({ms(st.get('lock_held_ms'))}{star})"
                if st.get("lock_mode")
                else "-"
            )
            waited = f"{st['waiting_queries']:,}"
            if st["waiting_queries"]:
                waited += f" ({ms(st.get('max_wait_ms'))})"
            if st.get("queued_queries"):
                waited += f", queued {st['queued_queries']:,} ({ms(st.get('max_queue_ms'))})"
            errors = st.get("app_errors")
            errors = errors if isinstance(errors, dict) else {}
            failed = st.get("failed")
            parts = [f"{k}×{v}" for k, v in sorted(errors.items())]
            timed_out = st.get("timed_out_queries")
            if isinstance(timed_out, int) and timed_out:
                parts.append(f"app timeout×{timed_out}")
            err_text = ", ".join(parts) or "-"
            if isinstance(failed, dict):
                err_text = f"FAILED {failed.get('sqlstate')}" + (f"; {err_text}" if errors else "")
            rows.append(
                (
                    visible(f"{st['path']}:{st['line']}"),
                    ms(st.get("duration_ms")) + star,
                    lock,
                    "yes" if st.get("rewrote") else "no",
                    waited,
                    f"{ms(st.get('p50_ms'))}/{ms(st.get('p99_ms'))}",
                    err_text,
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        for row in rows:
            out.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for warning in result.warnings:
        out.append(f"warning: {visible(warning)}")
    for note in result.notes:
        out.append(f"note: {visible(note)}")
    return "".join(log_line(line) + "\n" for line in out)
