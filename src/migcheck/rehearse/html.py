"""``rehearse --report FILE.html``: the rehearsal as one self-contained page.

``render`` takes the JSON report's ``rehearsal`` object (the issue's point 5 keys, plus
``timeline``, each statement's ``start_ms``/``end_ms`` and ``settings``) and returns the
page: a timeline of the app's latency (p50 and p99 per 100 ms bucket) above the number
of app queries waiting on a lock, each changeset statement a shaded span labelled with
its number and line, then the per-statement table.

The chart is drawn by matplotlib (the ``report`` extra) as inline SVG: no script and no
network, so the page opens the same from a CI artifact, a mail or a file share, and its
Content-Security-Policy forbids every script and every load outright. matplotlib is
imported inside ``render`` only; without it ``render`` raises ``ReportUnavailable``.

Everything from the input (SQL, paths, relation names, SQLSTATEs) is data from a
stranger's pull request: it reaches the page only through ``_text`` (control
characters made visible, then HTML-escaped), and never reaches the chart, whose labels
are numbers this module formats. A malformed value shows as "–", never as an exception.
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from migcheck.report.escape import visible

EXTRA = "pip install 'migcheck-pg[report]'"
# No script may run and nothing may be fetched; inline styles (ours and the SVG's) may.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_SQL_SHOWN = 400  # characters of a statement in the table; the rest is elided
_MISSING = "–"

_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }
h1 { font-size: 1.4em; margin: 0 0 .2em; }
p.settings, p.note { color: #57606a; margin: .2em 0; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin-top: 1em; }
th, td { border: 1px solid #d0d7de; padding: .3em .5em; vertical-align: top; text-align: right; }
th { background: #f6f8fa; text-align: left; }
td.num { white-space: nowrap; }
ul.notes { color: #57606a; }
td.sql { text-align: left; max-width: 40em; }
td.sql code { white-space: pre-wrap; word-break: break-word; font-size: 12px; }
td.where, td.locks { text-align: left; }
tr.over td { background: #fff1f0; }
.ex { color: #9a6700; font-weight: bold; }
"""


class ReportUnavailable(ImportError):
    """The plotting library of the ``report`` extra is not installed."""


def render(rehearsal: Mapping[str, Any]) -> str:
    """The page for ``rehearsal`` (the JSON report's ``rehearsal`` object)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ReportUnavailable(f"the HTML report needs matplotlib: {EXTRA}") from None
    data = rehearsal if isinstance(rehearsal, Mapping) else {}
    statements = [s for s in _list(data.get("statements")) if isinstance(s, Mapping)]
    timeline = [b for b in _list(data.get("timeline")) if isinstance(b, Mapping)]
    settings = data.get("settings") if isinstance(data.get("settings"), Mapping) else {}
    baseline = data.get("baseline") if isinstance(data.get("baseline"), Mapping) else {}
    assert isinstance(settings, Mapping) and isinstance(baseline, Mapping)
    max_stall_ms = _ms_from_s(settings.get("max_stall_s"))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>migcheck rehearsal</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>migcheck rehearsal</h1>",
        f'<p class="settings">{_settings_line(settings)}</p>',
        f'<p class="settings">{_baseline_line(baseline)}</p>',
    ]
    if any(_bool(s.get("extrapolated")) for s in statements):
        parts.append(
            '<p class="note"><span class="ex">*</span> extrapolated: measured at a fraction '
            "of the production volume (--scale) and scaled to full size.</p>"
        )
    if timeline:
        parts.append(f"<figure>{_chart(timeline, statements, max_stall_ms)}")
        parts.append(
            "<figcaption>App latency per 100 ms (p50, p99; log scale) and app queries "
            "waiting on a lock. Shaded: the changeset's statements, numbered as in the "
            "table.</figcaption></figure>"
        )
    else:
        parts.append('<p class="note">No timeline was recorded.</p>')
    parts.append(_table(statements, baseline, max_stall_ms))
    other = data.get("with_lock_timeout")
    if isinstance(other, Mapping):
        others = [s for s in _list(other.get("statements")) if isinstance(s, Mapping)]
        parts.append(
            f"<h2>The same changeset with <code>SET lock_timeout = "
            f"{_count(other.get('lock_timeout_ms'))}ms</code> prepended</h2>"
        )
        parts.append(_table(others, baseline, max_stall_ms))
    parts.append(_extras(data))
    parts.append("</body></html>\n")
    return "\n".join(parts)


# -- values from the input --------------------------------------------------------------
def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else []


def _num(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _bool(value: object) -> bool:
    return value is True


def _ms_from_s(value: object) -> float | None:
    seconds = _num(value)
    return None if seconds is None else seconds * 1000


def _text(value: object) -> str:
    """Input text for the page: control and bidi characters visible, then escaped."""
    return html.escape(visible(str(value)), quote=True)


def _sql(value: object) -> str:
    text = visible(str(value), multiline=True) if isinstance(value, str) else _MISSING
    if len(text) > _SQL_SHOWN:
        text = text[:_SQL_SHOWN] + " …"
    return html.escape(text, quote=True)


def _ms(value: object) -> str:
    ms = _num(value)
    if ms is None:
        return _MISSING
    if ms >= 1000:
        return f"{ms / 1000:,.1f} s"
    return f"{ms:,.0f} ms" if ms >= 10 else f"{ms:.1f} ms"


def _count(value: object) -> str:
    n = _num(value)
    return _MISSING if n is None else f"{n:,.0f}"


def _line_no(value: object) -> str:
    n = _num(value)
    return str(int(n)) if n is not None and n == int(n) else "?"


# -- the page's parts -------------------------------------------------------------------
def _settings_line(settings: Mapping[str, Any]) -> str:
    bits = []
    pg = settings.get("pg_version")
    if pg is not None:
        bits.append(f"PostgreSQL {_text(pg)}")
    clients, rate = _num(settings.get("clients")), _num(settings.get("rate"))
    if clients is not None:
        load = f"{clients:,.0f} clients"
        bits.append(f"{load} at {rate:,.0f} queries/s" if rate else f"{load}, closed loop")
    rows = _num(settings.get("rows"))
    if rows is not None:
        bits.append(f"{rows:,.0f} rows per table")
    scale = _num(settings.get("scale"))
    if scale is not None and scale != 1:
        bits.append(f"seeded at scale {scale:g}")
    stall = _num(settings.get("max_stall_s"))
    if stall is not None:
        bits.append(f"max stall {stall:g} s")
    long_tx = _num(settings.get("long_transaction_s"))
    if long_tx:
        bits.append(f"long transaction {long_tx:g} s before each blocking statement")
    return " · ".join(bits) or "settings not recorded"


def _baseline_line(baseline: Mapping[str, Any]) -> str:
    return (
        f"Baseline (traffic alone): {_count(baseline.get('queries'))} queries; p50 "
        f"{_ms(baseline.get('p50_ms'))}, p95 {_ms(baseline.get('p95_ms'))}, p99 "
        f"{_ms(baseline.get('p99_ms'))}, max {_ms(baseline.get('max_ms'))}"
    )


def _chart(
    timeline: list[Mapping[str, Any]],
    statements: list[Mapping[str, Any]],
    max_stall_ms: float | None,
) -> str:
    import matplotlib
    from matplotlib.figure import Figure

    points = [(_num(b.get("t_ms")), b) for b in timeline]
    rows = sorted((t / 1000, b) for t, b in points if t is not None)
    xs = [x for x, _ in rows]

    def series(key: str, floor: float | None = None) -> list[float]:
        out = []
        for _, bucket in rows:
            v = _num(bucket.get(key))
            out.append(math.nan if v is None else (max(v, floor) if floor else v))
        return out

    # Deterministic ids, text kept as text (searchable, small), no creation date.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "migcheck"}):
        fig = Figure(figsize=(11, 5.2), layout="constrained")
        latency, waiting = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
        # A 0 ms bucket cannot sit on a log axis; 0.01 ms is below anything measured.
        latency.plot(xs, series("p50_ms", 0.01), color="#0969da", lw=1.2, label="p50")
        latency.plot(xs, series("p99_ms", 0.01), color="#cf222e", lw=1.2, label="p99")
        latency.set_yscale("log")
        latency.set_ylabel("app latency (ms)")
        if max_stall_ms:
            latency.axhline(max_stall_ms, color="#9a6700", ls="--", lw=1, label="max stall")
        waiting.fill_between(xs, series("waiting"), step="post", color="#8250df", alpha=0.5)
        waiting.step(xs, series("waiting"), where="post", color="#8250df", lw=1, label="waiting")
        errors = series("errors")
        if any(e > 0 for e in errors if not math.isnan(e)):
            waiting.step(xs, errors, where="post", color="#cf222e", lw=1, label="errors")
        waiting.set_ylabel("app queries")
        waiting.set_xlabel("seconds since the traffic started")
        waiting.set_ylim(bottom=0)
        for number, stmt in enumerate(statements, start=1):
            start, end = _num(stmt.get("start_ms")), _num(stmt.get("end_ms"))
            if start is None:
                continue
            end = start if end is None or end < start else end
            shade = "#fb8500" if number % 2 else "#219ebc"
            for ax in (latency, waiting):
                ax.axvspan(
                    start / 1000, max(end / 1000, start / 1000 + 0.02), color=shade, alpha=0.18
                )
            latency.annotate(
                f"{number}: L{_line_no(stmt.get('line'))}",
                xy=(start / 1000, 1),
                xycoords=("data", "axes fraction"),
                xytext=(2, -2),
                textcoords="offset points",
                va="top",
                fontsize=8,
                rotation=90,
            )
        latency.legend(loc="upper left", fontsize=8)
        waiting.legend(loc="upper left", fontsize=8)
        buf = io.StringIO()
        fig.savefig(
            buf,
            format="svg",
            metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
        )
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]  # the XML prolog and DOCTYPE have no place in HTML


def _table(
    statements: list[Mapping[str, Any]], baseline: Mapping[str, Any], max_stall_ms: float | None
) -> str:
    head = (
        "<table><thead><tr><th>#</th><th>where</th><th>statement</th><th>duration</th>"
        "<th>locks held (until its transaction ended)</th><th>rewrote</th>"
        "<th>app queries waiting<br>(longest wait)</th><th>app p50 / p95 / p99 / max</th>"
        "<th>app errors</th><th>queued behind the lock<br>(longest)</th></tr></thead><tbody>"
    )
    rows = [head]
    base_p99 = _ms(baseline.get("p99_ms"))
    for number, s in enumerate(statements, start=1):
        figures = [_num(s.get(key)) for key in ("p99_ms", "max_wait_ms")]
        over = max_stall_ms is not None and any(v is not None and v > max_stall_ms for v in figures)
        extrapolated = _bool(s.get("extrapolated"))
        mark = ' <span class="ex" title="extrapolated">*</span>' if extrapolated else ""
        rewrote = s.get("rewrote")
        row_class = ' class="over"' if over else ""
        rows.append(
            f"<tr{row_class}>"
            f"<td>{number}</td>"
            f'<td class="where">{_text(s.get("path", "?"))}:{_line_no(s.get("line"))}</td>'
            f'<td class="sql"><code>{_sql(s.get("sql"))}</code></td>'
            f'<td class="num">{_ms(s.get("duration_ms"))}{mark}{_failed(s.get("failed"))}</td>'
            f'<td class="locks">{_locks(s)}</td>'
            f"<td>{'yes' if rewrote is True else 'no' if rewrote is False else _MISSING}</td>"
            f'<td class="num">{_count(s.get("waiting_queries"))} ({_ms(s.get("max_wait_ms"))})</td>'
            f'<td class="num">{_ms(s.get("p50_ms"))} / {_ms(s.get("p95_ms"))} / {_ms(s.get("p99_ms"))}'
            f" / {_ms(s.get('max_ms'))}<br><small>baseline p99 {base_p99}</small></td>"
            f"<td>{_errors(s.get('app_errors'), s.get('app_error_examples'))}</td>"
            f'<td class="num">{_queued(s)}</td></tr>'
        )
    if not statements:
        rows.append('<tr><td colspan="10">No statement was rehearsed.</td></tr>')
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _extras(data: Mapping[str, Any]) -> str:
    """What was seeded, the traffic mix, and the run's notes and seeding problems."""
    out = []
    seeded = data.get("seeded")
    if isinstance(seeded, Mapping) and seeded:
        tables = ", ".join(
            f"{_text(t)} {_count(n)} rows" for t, n in sorted(seeded.items(), key=str)
        )
        cached = " (from the cached seeded template)" if data.get("seed_cached") is True else ""
        out.append(f'<p class="settings">Seeded{cached}: {tables}</p>')
    mix = [m for m in _list(data.get("traffic")) if isinstance(m, Mapping)]
    if mix:
        out.append(
            "<h2>Traffic</h2><table><thead><tr><th>app query</th><th>weight</th>"
            "<th>queries run</th><th>errors</th></tr></thead><tbody>"
        )
        for m in mix:
            weight = _num(m.get("weight"))
            out.append(
                f'<tr><td class="where">{_text(m.get("origin", "?"))}</td>'
                f'<td class="num">{_MISSING if weight is None else f"{weight:g}"}</td>'
                f'<td class="num">{_count(m.get("queries"))}</td>'
                f'<td class="num">{_count(m.get("errors"))}</td></tr>'
            )
        out.append("</tbody></table>")
    notes = [
        *(f"warning: {w}" for w in _list(data.get("warnings"))),
        *_list(data.get("seed_problems")),
        *_list(data.get("notes")),
    ]
    if notes:
        items = "".join(f"<li>{_text(n)}</li>" for n in notes)
        out.append(f'<h2>Notes</h2><ul class="notes">{items}</ul>')
    return "\n".join(out)


def _locks(stmt: Mapping[str, Any]) -> str:
    locks = [lk for lk in _list(stmt.get("locks")) if isinstance(lk, Mapping)]
    if not locks:
        mode = stmt.get("lock_mode")
        if not mode:
            return "none"
        return f"{_text(mode)} for {_ms(stmt.get('lock_held_ms'))}"
    return "<br>".join(
        f"{_text(lk.get('mode', '?'))} on {_text(lk.get('relation', '?'))} for "
        f"{_ms(lk.get('held_ms'))}"
        for lk in locks
    )


def _errors(value: object, examples: object = None) -> str:
    if not isinstance(value, Mapping) or not value:
        return "none"
    shown = examples if isinstance(examples, Mapping) else {}
    out = []
    for state, n in sorted(value.items(), key=str):
        example = shown.get(state)
        hint = f"<br><small>e.g. {_text(example)}</small>" if example else ""
        out.append(f"{_text(state)}: {_count(n)}{hint}")
    return "<br>".join(out)


def _failed(value: object) -> str:
    """A statement that failed (``lock_timeout`` under the long transaction)."""
    if not isinstance(value, Mapping):
        return ""
    state, message = value.get("sqlstate"), value.get("message")
    detail = f": {_text(message)}" if message else ""
    return f'<br><span class="ex">failed {_text(state or "?")}{detail}</span>'


def _queued(stmt: Mapping[str, Any]) -> str:
    if stmt.get("queued_queries") is None and stmt.get("max_queue_ms") is None:
        return _MISSING
    return f"{_count(stmt.get('queued_queries'))} ({_ms(stmt.get('max_queue_ms'))})"
