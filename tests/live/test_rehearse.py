"""``migcheck rehearse`` on a real PostgreSQL: what the app felt while each statement ran.

Latency on a shared CI machine is noisy, so these tests assert what was observed (lock
modes, rewrites, waits, SQLSTATEs) against thresholds they pass explicitly, never a
wall-clock bound. They run on the session server through ``--dsn`` (scratch databases
and a runner role made for the run), with small tables and short warm-ups.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migcheck.rehearse_cli import RehearseRequest, run_rehearse_command

pytest.importorskip("psycopg", reason="the live extra is not installed")

ITEMS = """CREATE TABLE items (
    id bigint PRIMARY KEY,
    qty integer NOT NULL,
    label text NOT NULL
);
"""
ITEM_QUERIES = """SELECT id, qty, label FROM items WHERE id = $1;
UPDATE items SET qty = $1 WHERE id = $2;
"""


@pytest.fixture
def rehearse(
    tmp_path: Path, dsn: str, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, dict[str, Any]]]:
    """Write a plain-SQL history (its last file is the changeset), rehearse it with
    JSON output, and return the exit code and the report."""

    def run(
        base: str, change: str, queries: str | None = ITEM_QUERIES, **options: Any
    ) -> tuple[int, dict[str, Any]]:
        root = tmp_path / "migrations"
        root.mkdir(exist_ok=True)
        (root / "001_base.sql").write_text(base)
        (root / "002_change.sql").write_text(change)
        old = []
        if queries is not None:
            (tmp_path / "old.sql").write_text(queries)
            old = [str(tmp_path / "old.sql")]
        settings = {
            "clients": 4,
            "rows": 20_000,
            "warmup_seconds": 0.5,
            "cooldown_seconds": 0.3,
            **options,
        }
        request = RehearseRequest(
            paths=[str(root)], old_queries=old, dsn=dsn, fmt="json", **settings
        )
        code = run_rehearse_command(request)
        out = capsys.readouterr().out
        return code, json.loads(out)

    return run


def _rules(report: dict[str, Any]) -> list[str]:
    return [f["rule"] for f in report["findings"]]


def _statement(report: dict[str, Any], line: int = 1) -> dict[str, Any]:
    found = [s for s in report["rehearsal"]["statements"] if s["line"] == line]
    assert len(found) == 1, report["rehearsal"]["statements"]
    return found[0]


def test_a_rewriting_type_change_blocks_the_traffic(rehearse: Callable[..., Any]) -> None:
    code, report = rehearse(
        ITEMS, "ALTER TABLE items ALTER COLUMN qty TYPE bigint;\n", rows=200_000, max_stall=0.05
    )
    st = _statement(report)
    assert st["rewrote"] is True
    assert st["lock_mode"] == "ACCESS EXCLUSIVE"
    assert st["locks"][0]["relation"] == "public.items"
    assert st["waiting_queries"] > 0
    assert st["max_wait_ms"] > 0
    blocked = [f for f in report["findings"] if f["rule"] == "rehearse-blocked-traffic"]
    assert [(f["line"], f["column"], f["end_column"], f["severity"]) for f in blocked] == [
        (1, 1, 46, "error")
    ]
    assert 'held ACCESS EXCLUSIVE on "public.items" (200,000 rows)' in blocked[0]["message"]
    assert " waited on its lock, longest " in blocked[0]["message"]
    assert code == 1
    assert report["rehearsal"]["seeded"] == {"public.items": 200_000}
    assert report["rehearsal"]["baseline"]["queries"] > 0


def test_a_long_transaction_makes_the_app_queue_behind_an_instant_change(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS, "ALTER TABLE items ADD COLUMN note text;\n", long_transaction=1.0
    )
    st = _statement(report)
    assert st["long_transaction_lock"] == "ACCESS SHARE"  # a slow report
    assert st["queued_queries"] > 0
    assert st["max_queue_ms"] > 500
    queue = [f for f in report["findings"] if f["rule"] == "rehearse-lock-queue"]
    assert [(f["line"], f["severity"]) for f in queue] == [(1, "error")]
    assert "behind a 1 s transaction holding ACCESS SHARE: " in queue[0]["message"]
    # The changeset sets no lock_timeout: the same rehearsal with one, side by side.
    other = report["rehearsal"]["with_lock_timeout"]
    assert other["lock_timeout_ms"] == 500
    assert other["statements"][0]["failed"]["sqlstate"] == "55P03"
    assert (
        "It needs a lock_timeout no longer than --max-stall; with SET lock_timeout = '500ms' "
        "prepended: it fails fast (SQLSTATE 55P03)"
    ) in queue[0]["message"]
    assert "the runner must retry" in queue[0]["message"]
    assert code == 1


def test_with_lock_timeout_the_change_fails_fast_instead_of_queueing(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS,
        "SET lock_timeout = '100ms';\nALTER TABLE items ADD COLUMN note text;\n",
        long_transaction=2.0,
    )
    st = _statement(report, line=2)
    assert st["failed"]["sqlstate"] == "55P03"
    # Queries that arrived in those 100 ms waited for at most as long; none stayed
    # queued for the 2 s the long transaction lasted.
    assert st["max_queue_ms"] < 1000
    rules = _rules(report)
    assert "rehearse-lock-queue" not in rules
    timeout = [f for f in report["findings"] if f["rule"] == "rehearse-lock-timeout"]
    assert [(f["line"], f["severity"]) for f in timeout] == [(2, "warning")]
    assert timeout[0]["message"].startswith("would fail; the runner must retry")
    # The changeset sets lock_timeout itself: there is no second rehearsal.
    assert "with_lock_timeout" not in report["rehearsal"]
    assert code == 0


def test_old_app_inserts_failing_on_a_required_column_are_counted(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS,
        "ALTER TABLE items ADD COLUMN sku text NOT NULL DEFAULT 'none';\n"
        "ALTER TABLE items ALTER COLUMN sku DROP DEFAULT;\n",
        queries="INSERT INTO items (id, qty, label) VALUES ($1, $2, $3);\n"
        "SELECT qty FROM items WHERE id = $1;\n",
    )
    assert report["rehearsal"]["baseline"]["errors"] == {}
    assert _statement(report, line=1)["app_errors"] == {}
    st = _statement(report, line=2)
    assert st["app_errors"]["23502"] > 0
    assert "sku" in st["app_error_examples"]["23502"]
    errors = [f for f in report["findings"] if f["rule"] == "rehearse-app-errors"]
    assert [(f["line"], f["severity"]) for f in errors] == [(2, "error")]
    assert "23502 ×" in errors[0]["message"]
    assert code == 1


def test_migrations_and_traffic_run_without_superuser(rehearse: Callable[..., Any]) -> None:
    superuser = "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)"
    code, report = rehearse(
        ITEMS,
        f"DO $$ BEGIN IF {superuser} THEN RAISE EXCEPTION 'ran as superuser'; END IF; END $$;\n"
        "ALTER SYSTEM SET work_mem = '8MB';\n",
        queries=f"SELECT 1 / (CASE WHEN {superuser} THEN 0 ELSE 1 END) FROM items WHERE id = $1;\n",
    )
    assert _statement(report, line=1)["failed"] is None
    assert _statement(report, line=2)["failed"]["sqlstate"] == "42501"
    mix = report["rehearsal"]["traffic"]
    assert len(mix) == 1 and mix[0]["queries"] > 0 and mix[0]["errors"] == 0
    assert "live-migration-failed" in _rules(report)
    assert code == 1


def test_a_stats_file_sets_the_volume_and_the_traffic_mix(
    rehearse: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stats = {
        "version": 1,
        "tables": [
            {"schema": "public", "name": "items", "rows": 3000, "bytes": 1},
            {"schema": "public", "name": "shops", "rows": 40, "bytes": 1},
        ],
        "queries": [
            {"query": "SELECT qty FROM items WHERE id = $1", "calls": 100_000},
            {"query": "SELECT name FROM shops WHERE id = $1", "calls": 10},
        ],
    }
    monkeypatch.chdir(tmp_path)
    Path("stats.json").write_text(json.dumps(stats))
    code, report = rehearse(
        ITEMS.replace(
            "label text NOT NULL", "label text NOT NULL, shop int REFERENCES shops"
        ).replace(
            "CREATE TABLE items",
            "CREATE TABLE shops (id int PRIMARY KEY, name text);\nCREATE TABLE items",
        ),
        "ALTER TABLE items ADD COLUMN note text;\n",
        queries=None,
        table_stats="stats.json",
    )
    assert report["rehearsal"]["seeded"] == {"public.items": 3000, "public.shops": 40}
    mix = {m["origin"]: m for m in report["rehearsal"]["traffic"]}
    heavy, light = mix["stats.json:queries[0]"], mix["stats.json:queries[1]"]
    assert (heavy["weight"], light["weight"]) == (100_000, 10)
    assert heavy["queries"] > 10 * max(light["queries"], 1)
    assert code == 0


def test_the_config_sets_rows_per_table(
    rehearse: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()  # the config walk stops at the repository root
    (tmp_path / "migcheck.toml").write_text("[rehearse]\nrows = {items = 1234}\n")
    monkeypatch.chdir(tmp_path)
    code, report = rehearse(ITEMS, "ALTER TABLE items ADD COLUMN note text;\n", rows=50)
    assert report["rehearsal"]["seeded"] == {"public.items": 1234}
    assert code == 0


def test_scale_seeds_a_fraction_and_marks_durations_extrapolated(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS, "ALTER TABLE items ALTER COLUMN qty TYPE bigint;\n", rows=40_000, scale=0.25
    )
    assert code in (0, 1)
    assert report["rehearsal"]["seeded"] == {"public.items": 10_000}
    assert report["rehearsal"]["settings"]["scale"] == 0.25
    st = _statement(report)
    assert st["extrapolated"] is True
    assert st["rewrote"] is True
    finding = next(f for f in report["findings"] if f["line"] == 1)
    assert "(extrapolated to full size)" in finding["message"]


def test_rate_paces_the_traffic(rehearse: Callable[..., Any]) -> None:
    code, report = rehearse(ITEMS, "ALTER TABLE items ADD COLUMN note text;\n", rate=40.0)
    assert code == 0
    timeline = report["rehearsal"]["timeline"]
    elapsed_s = len(timeline) * 0.1
    ran = sum(bucket["queries"] for bucket in timeline)
    # Each of the 4 clients starts a query every 4 / 40 s at most.
    assert 0 < ran <= 40 * elapsed_s + 4
    assert report["rehearsal"]["settings"]["rate"] == 40.0


def test_a_lock_taken_earlier_in_the_transaction_is_held_through_later_statements(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS,
        "BEGIN;\nALTER TABLE items ADD COLUMN a int;\nUPDATE items SET a = 1 WHERE id < 50;\n"
        "COMMIT;\n",
        rows=2000,
    )
    first, second = _statement(report, line=2), _statement(report, line=3)
    assert (first["lock_mode"], second["lock_mode"]) == ("ACCESS EXCLUSIVE", "ACCESS EXCLUSIVE")
    # Both hold it until the COMMIT: the first for longer, since it took it first.
    assert first["lock_held_ms"] >= second["lock_held_ms"] >= second["duration_ms"]
    assert first["end_ms"] == second["end_ms"]
    assert code in (0, 1)


# An index expression that sleeps 1 ms on every 25th key: on 20,000 rows the build takes
# a clearly measurable ~0.8 s, so the tests need no large volume (CI time). IMMUTABLE,
# as an index expression must be; the sleep is PostgreSQL's business, not the index's.
SLOW_KEY = """CREATE FUNCTION slow_key(v bigint) RETURNS bigint LANGUAGE plpgsql IMMUTABLE
AS $$ BEGIN IF v % 25 = 0 THEN PERFORM pg_sleep(0.001); END IF; RETURN v; END $$;
"""


# The app's workload with a report that would run for 30 s: without the app's own
# statement_timeout it pinned every client, so no write was left to wait on the lock
# and the blocking statement looked idle (the fixtures' Task index did).
WITH_SLOW_REPORT = ITEM_QUERIES + "SELECT pg_sleep(30), qty FROM items WHERE id = $1;\n"


def test_a_plain_create_index_blocks_the_app_writes_it_waits_for(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS + SLOW_KEY,
        "CREATE INDEX items_key ON items (slow_key(id));\n",
        queries=WITH_SLOW_REPORT,
        max_stall=0.05,
        app_timeout=0.5,
    )
    st = _statement(report)
    assert st["lock_mode"] == "SHARE"
    assert st["waiting_queries"] > 0
    assert st["max_wait_ms"] > 50
    blocked = [f for f in report["findings"] if f["rule"] == "rehearse-blocked-traffic"]
    assert [(f["line"], f["column"], f["severity"]) for f in blocked] == [(1, 1, "error")]
    assert " waited on its lock, longest " in blocked[0]["message"]
    assert "rehearse-app-errors" not in _rules(report)
    assert code == 1


def test_the_same_index_built_concurrently_is_not_blocking(
    rehearse: Callable[..., Any],
) -> None:
    code, report = rehearse(
        ITEMS + SLOW_KEY,
        "CREATE INDEX CONCURRENTLY items_key ON items (slow_key(id));\n",
        queries=WITH_SLOW_REPORT,
        app_timeout=0.5,
    )
    st = _statement(report)
    assert st["lock_mode"] == "SHARE UPDATE EXCLUSIVE"
    assert st["waiting_queries"] == 0
    assert st["rewrote"] is False
    assert _rules(report) == ["rehearse-statement"]
    assert report["findings"][0]["severity"] == "info"
    assert code == 0


def test_a_long_transaction_makes_the_app_writes_queue_behind_a_plain_create_index(
    rehearse: Callable[..., Any],
) -> None:
    # SHARE waits for no reader: the long transaction is a session idle after a write.
    code, report = rehearse(ITEMS, "CREATE INDEX items_qty ON items (qty);\n", long_transaction=1.0)
    st = _statement(report)
    assert st["long_transaction_lock"] == "ROW EXCLUSIVE"
    assert st["queued_queries"] > 0
    queue = [f for f in report["findings"] if f["rule"] == "rehearse-lock-queue"]
    assert [(f["line"], f["severity"]) for f in queue] == [(1, "error")]
    assert "behind a 1 s transaction holding ROW EXCLUSIVE: " in queue[0]["message"]
    other = report["rehearsal"]["with_lock_timeout"]["statements"][0]
    assert other["failed"]["sqlstate"] == "55P03"
    assert code == 1


def test_slow_app_queries_are_in_flight_and_their_timeouts_are_not_app_errors(
    rehearse: Callable[..., Any],
) -> None:
    # Every app query scans the table through slow_key (~0.8 s) and the app's
    # statement_timeout cancels it after 0.3 s; the statement sleeps 1 s and locks
    # nothing the app uses. No query ever completes: none may vanish from the figures.
    code, report = rehearse(
        ITEMS + SLOW_KEY,
        "DO $$ BEGIN PERFORM pg_sleep(1); END $$;\n",
        queries="SELECT count(*) FROM items WHERE slow_key(id) >= 0;\n",
        clients=2,
        app_timeout=0.3,
    )
    baseline = report["rehearsal"]["baseline"]
    assert baseline["timed_out"] > 0 and baseline["errors"] == {}
    assert any("too slow for this volume" in w for w in report["rehearsal"]["warnings"])
    st = _statement(report)
    assert st["in_flight_queries"] > 0
    assert st["timed_out_queries"] > 0
    assert st["p99_ms"] is not None and st["p99_ms"] > 0
    assert st["app_errors"] == {}
    assert report["rehearsal"]["settings"]["app_timeout_s"] == 0.3
    assert report["rehearsal"]["traffic"][0]["timed_out"] > 0
    assert report["rehearsal"]["traffic"][0]["errors"] == 0
    assert _rules(report) == ["rehearse-statement"]
    assert "cancelled by the app's statement_timeout" in report["findings"][0]["message"]
    assert code == 0
