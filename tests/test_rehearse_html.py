"""``rehearse --report FILE.html``: the page a reviewer opens, from the ``rehearsal`` object.

The page parses, names every statement (in the table and on the chart), loads nothing
from anywhere and runs no script; hostile SQL, paths and names stay text; malformed
figures show as "–" rather than raising; and in headless Chromium (Debian's package;
skipped with its reason where it is not installed) the page opens with no console
message at all, checked against a page that does produce one.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("matplotlib", reason="the report extra is not installed")

from migcheck.rehearse.html import CSP, ReportUnavailable, render

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "wbr", "source"}
# SVG elements matplotlib writes self-closed (``<path .../>``): startendtag, no end tag.
URL_ATTRS = {"src", "href", "xlink:href", "action", "formaction", "poster", "srcset", "data"}


def rehearsal(**over: Any) -> dict[str, Any]:
    statements = [
        {
            "path": "db/migrations/0007_orders/migration.sql",
            "line": 3,
            "sql": "ALTER TABLE orders ALTER COLUMN qty TYPE bigint",
            "duration_ms": 2400.0,
            "locks": [{"relation": "orders", "mode": "AccessExclusiveLock", "held_ms": 2410.0}],
            "lock_mode": "AccessExclusiveLock",
            "lock_held_ms": 2410.0,
            "rewrote": True,
            "waiting_queries": 1914,
            "max_wait_ms": 2400.0,
            "p50_ms": 1200.0,
            "p95_ms": 2300.0,
            "p99_ms": 2450.0,
            "max_ms": 2460.0,
            "app_errors": {},
            "queued_queries": None,
            "max_queue_ms": None,
            "extrapolated": False,
            "start_ms": 3000,
            "end_ms": 5400,
        },
        {
            "path": "db/migrations/0007_orders/migration.sql",
            "line": 5,
            "sql": "CREATE INDEX CONCURRENTLY orders_qty_idx ON orders (qty)",
            "duration_ms": 900.0,
            "locks": [{"relation": "orders", "mode": "ShareUpdateExclusiveLock", "held_ms": 900.0}],
            "lock_mode": "ShareUpdateExclusiveLock",
            "lock_held_ms": 900.0,
            "rewrote": False,
            "waiting_queries": 0,
            "max_wait_ms": 0.0,
            "p50_ms": 2.0,
            "p95_ms": 3.5,
            "p99_ms": 4.1,
            "max_ms": 9.0,
            "app_errors": {"23502": 17},
            "queued_queries": 0,
            "max_queue_ms": 0.0,
            "extrapolated": True,
            "start_ms": 5600,
            "end_ms": 6500,
        },
    ]
    timeline = [
        {
            "t_ms": t,
            "queries": 40,
            "p50_ms": 1.5 if not 3000 <= t < 5400 else 1200.0,
            "p99_ms": 4.0 if not 3000 <= t < 5400 else 2450.0,
            "waiting": 0 if not 3000 <= t < 5400 else 4,
            "errors": 2 if 5600 <= t < 6500 else 0,
        }
        for t in range(0, 8000, 100)
    ]
    doc: dict[str, Any] = {
        "baseline": {"queries": 1200, "p50_ms": 1.5, "p95_ms": 3.0, "p99_ms": 4.0, "max_ms": 8.0},
        "statements": statements,
        "timeline": timeline,
        "settings": {
            "clients": 4,
            "rate": None,
            "max_stall_s": 0.5,
            "rows": 200000,
            "scale": 0.1,
            "long_transaction_s": None,
            "pg_version": "18.1",
        },
    }
    doc.update(over)
    return doc


class Page(HTMLParser):
    """The page as a browser's parser sees it, with the tag balance checked."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.problems: list[str] = []
        self.style: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        (self.style if self._in_style else self.text).append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    assert parser.problems == [] and parser.stack == [], (parser.problems, parser.stack)
    return parser


def external_loads(parsed: Page) -> list[str]:
    found = []
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            v = (value or "").strip().lower()
            if name in URL_ATTRS and not v.startswith(("#", "data:")):
                found.append(f"<{tag} {name}={value!r}>")
            if "url(" in v and "url(#" not in v:
                found.append(f"<{tag} {name}={value!r}>")
    for css in parsed.style:
        if "@import" in css or ("url(" in css and "url(#" not in css):
            found.append(css)
    return found


def test_the_page_parses_names_every_statement_and_loads_nothing() -> None:
    page = render(rehearsal())
    parsed = parse(page)
    text = " ".join(parsed.text)
    for where, sql in (
        ("db/migrations/0007_orders/migration.sql:3", "ALTER TABLE orders ALTER COLUMN qty"),
        ("db/migrations/0007_orders/migration.sql:5", "CREATE INDEX CONCURRENTLY orders_qty_idx"),
    ):
        assert where in text and sql in text
    # The chart's spans are labelled with the table's numbers and the lines.
    assert "1: L3" in text and "2: L5" in text
    assert [t for t, _ in parsed.tags].count("svg") == 1
    assert external_loads(parsed) == []
    assert not any(t == "script" for t, _ in parsed.tags)
    assert ("meta", {"http-equiv": "Content-Security-Policy", "content": CSP}) in parsed.tags
    # Point 3's figures, next to the baseline.
    for figure in ("2.4 s", "AccessExclusiveLock on orders for 2.4 s", "1,914 (2.4 s)"):
        assert figure in text, figure
    assert "1.2 s / 2.3 s / 2.5 s / 2.5 s" in text and "2.0 ms / 3.5 ms / 4.1 ms / 9.0 ms" in text
    assert "baseline p99 4.0 ms" in text and "23502: 17" in text
    assert "extrapolated" in text and "4 clients, closed loop" in text


def test_the_detector_finds_an_external_load() -> None:
    evil = '<html><body><img src="https://x.example/a.png"><p style="background:url(//x)">'
    assert len(external_loads(parse(evil + "</p></body></html>"))) == 2


HOSTILE_PATH = 'db/<script>alert("p")</script>\x1b[31m.sql'
HOSTILE_SQL = "SELECT '\"><img src=x onerror=alert(1)>' -- \u202e\x07 </code></td>"


def test_hostile_input_stays_text() -> None:
    doc = rehearsal()
    doc["statements"][0].update(
        path=HOSTILE_PATH,
        sql=HOSTILE_SQL,
        locks=[{"relation": '"</td><script>x()</script>', "mode": "<b>", "held_ms": 1}],
        app_errors={"<i>55P03": 3},
    )
    doc["settings"]["pg_version"] = "18'\"><script>"
    page = render(doc)
    parsed = parse(page)
    tags = {t for t, _ in parsed.tags}
    assert not tags & {"script", "img", "b", "i"}
    assert not any(k.startswith("on") for _, attrs in parsed.tags for k in attrs)
    text = " ".join(parsed.text)
    assert 'db/<script>alert("p")</script>\\x1b[31m.sql:3' in text
    assert "onerror=alert(1)>' -- \\u202e\\x07 </code></td>" in text
    assert '"</td><script>x()</script>' in text and "<i>55P03: 3" in text
    assert "\x1b" not in page and "\u202e" not in page and "\x07" not in page


def test_the_lock_timeout_rerun_seeding_traffic_and_notes_are_shown() -> None:
    doc = rehearsal()
    failing = dict(
        doc["statements"][0],
        failed={"sqlstate": "55P03", "message": "canceling statement due to lock timeout"},
    )
    doc.update(
        with_lock_timeout={"lock_timeout_ms": 100, "statements": [failing]},
        seeded={"public.orders": 200000},
        seed_cached=True,
        traffic=[{"origin": "old_app.sql:12", "weight": 0.75, "queries": 3100, "errors": 17}],
        notes=["<script>note()</script>"],
        seed_problems=["orders_qty_check rejected the seeded value"],
        warnings=["the workload is too slow for this volume: 3 app queries"],
    )
    doc["statements"][1]["app_error_examples"] = {"23502": 'null value in column "qty"'}
    parsed = parse(render(doc))
    text = " ".join(" ".join(parsed.text).split())
    assert "The same changeset with SET lock_timeout = 100ms prepended" in text
    assert "failed 55P03: canceling statement due to lock timeout" in text
    assert text.count("db/migrations/0007_orders/migration.sql:3") == 2  # both tables
    assert "Seeded (from the cached seeded template): public.orders 200,000 rows" in text
    assert "old_app.sql:12 0.75 3,100 17" in text
    assert '23502: 17 e.g. null value in column "qty"' in text
    assert "<script>note()</script>" in text and "orders_qty_check rejected" in text
    assert "warning: the workload is too slow for this volume: 3 app queries" in text
    assert not any(t == "script" for t, _ in parsed.tags)


def test_malformed_figures_show_as_missing_not_as_an_error() -> None:
    doc = rehearsal(baseline="nope", settings=[1])
    doc["statements"].append(
        {"path": 7, "line": "x", "sql": None, "duration_ms": "fast", "locks": "all",
         "p99_ms": float("nan"), "start_ms": True, "app_errors": [1]}
    )  # fmt: skip
    doc["timeline"].append({"t_ms": "later", "p50_ms": {}, "waiting": None})
    text = " ".join(parse(render(doc)).text)
    assert "7:?" in text and "settings not recorded" in text
    assert "Baseline (traffic alone): – queries" in text
    assert " ".join(parse(render({})).text).count("No statement was rehearsed") == 1


def test_without_matplotlib_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ReportUnavailable, match=r"pip install 'migcheck-pg\[report\]'"):
        render(rehearsal())


def test_importing_the_renderer_does_not_import_matplotlib() -> None:
    code = "import sys, migcheck.rehearse.html; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- headless Chromium ------------------------------------------------------------------
def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium installed (apt-get install chromium; .ci/run installs it)")


def open_in_chromium(page: Path) -> tuple[str, list[str]]:
    """The DOM Chromium built, and every console message it logged (errors, blocked
    loads and scripts are all console messages)."""
    proc = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",  # running as root in CI
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={page.parent / 'profile'}",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, console


def test_chromium_opens_the_page_without_a_console_message(tmp_path: Path) -> None:
    page = tmp_path / "rehearsal.html"
    doc = rehearsal()
    doc["statements"][0]["sql"] = HOSTILE_SQL
    page.write_text(render(doc), encoding="utf-8")
    dom, console = open_in_chromium(page)
    assert console == []
    assert "db/migrations/0007_orders/migration.sql:5" in dom
    assert "<svg" in dom and "onerror=alert(1)&gt;" in dom


def test_chromium_harness_sees_a_blocked_script(tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        f'content="{CSP}"></head><body><script>throw new Error("x")</script></body></html>'
    )
    _, console = open_in_chromium(page)
    assert console, "a blocked inline script must show as a console message"
