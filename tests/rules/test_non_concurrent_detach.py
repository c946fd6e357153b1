"""non-concurrent-detach: DETACH PARTITION without CONCURRENTLY (PostgreSQL 14+)."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "non-concurrent-detach"
EVENTS = (
    "create table events (id bigint, created_at timestamptz) partition by range (created_at);\n"
    "create table events_2023 partition of events "
    "for values from ('2023-01-01') to ('2024-01-01');"
)
DETACH = "alter table events detach partition events_2023;"


def run(sql: str, history: tuple[str, ...] = (EVENTS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_pg14_detach_without_concurrently() -> None:
    findings = run(DETACH, pg=14)
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'Detaching partition "events_2023" from "events"' in f.message
    assert 'ACCESS EXCLUSIVE lock on "events"' in f.message
    assert "    ALTER TABLE events DETACH PARTITION events_2023 CONCURRENTLY;" in f.help
    assert "DEFAULT partition" in f.help and "FINALIZE" in f.help


def test_pg13_has_no_concurrent_form() -> None:
    assert run(DETACH, pg=13) == []


@pytest.mark.parametrize(
    "sql",
    [
        "alter table events detach partition events_2023 concurrently;",
        "alter table events detach partition events_2023 finalize;",
        "create table logs (id int) partition by list (id);\n"
        "create table logs_1 partition of logs for values in (1);\n"
        "alter table logs detach partition logs_1;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql, pg=16) == []


DEFAULT = "create table events_default partition of events default;"


def test_concurrent_detach_fails_beside_a_default_partition() -> None:
    sql = "alter table events detach partition events_2023 concurrently;"
    findings = run(sql, history=(EVENTS, DEFAULT), pg=16)
    assert where(findings, R) == [(1, 20)]
    assert findings[0].message == (
        'DETACH PARTITION "events_2023" CONCURRENTLY fails with cannot detach partitions '
        'concurrently when a default partition exists: "events" has the DEFAULT partition '
        '"events_default".'
    )
    assert "    ALTER TABLE events DETACH PARTITION events_2023;" in findings[0].help
    # Near miss: the default partition was detached earlier.
    gone = (EVENTS, DEFAULT, "alter table events detach partition events_default;")
    assert run(sql, history=gone, pg=16) == []


def test_plain_detach_beside_a_default_partition_does_not_advise_concurrently() -> None:
    findings = run(DETACH, history=(EVENTS, DEFAULT), pg=16)
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert 'CONCURRENTLY is not available because "events" has the DEFAULT partition' in f.message
    assert "CONCURRENTLY;" not in f.help and "lock_timeout" in f.help
