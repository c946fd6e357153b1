"""lock-table: explicit LOCK TABLE in a mode that blocks traffic."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "lock-table"
COUPONS = "create table coupons (id bigserial primary key, code text not null);"


def run(sql: str, history: tuple[str, ...] = (COUPONS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_dedupe_migration() -> None:
    sql = (
        "-- block concurrent inserts while we dedupe, then enforce uniqueness\n"
        "begin;\n\n"
        "lock table coupons in exclusive mode;\n\n"
        "delete from coupons a\nusing coupons b\nwhere a.code = b.code\n  and a.id > b.id;\n\n"
        "commit;\n"
    )
    findings = run(sql, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, R) == [(4, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'LOCK TABLE "coupons" IN EXCLUSIVE MODE holds its lock until the transaction ends' in (
        f.message
    )
    assert "writes and SELECT ... FOR UPDATE" in f.message
    assert "SET lock_timeout" in f.help


@pytest.mark.parametrize(
    "sql",
    [
        "begin;\nlock table coupons;\ncommit;",
        "begin;\nLOCK coupons IN ACCESS EXCLUSIVE MODE NOWAIT;\ncommit;",
        "begin;\nlock table only coupons in share mode;\ncommit;",
        "begin;\nlock table coupons in share row exclusive mode;\ncommit;",
    ],
)
def test_blocking_modes(sql: str) -> None:
    assert where(run(sql), R) == [(2, 1)]


def test_outside_a_transaction_postgres_rejects_it() -> None:
    findings = run("LOCK TABLE coupons IN SHARE MODE;")
    assert where(findings, R) == [(1, 1)]
    assert "LOCK TABLE can only be used in transaction blocks" in findings[0].message


def test_each_table_of_a_list() -> None:
    sql = "begin;\ncreate table t (a int);\nlock table t, coupons in share mode;\ncommit;"
    findings = run(sql)
    assert where(findings, R) == [(3, 1)]
    assert '"coupons"' in findings[0].message


@pytest.mark.parametrize(
    "mode", ["ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE"]
)
def test_modes_that_let_traffic_through_are_quiet(mode: str) -> None:
    assert run(f"begin;\nlock table coupons in {mode} mode;\ncommit;") == []


def test_lock_table_without_a_mode_is_access_exclusive() -> None:
    # PostgreSQL's default mode: the strongest, which blocks reads too.
    findings = run("begin;\nlock table coupons;\ncommit;")
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message.startswith(
        'LOCK TABLE "coupons" IN ACCESS EXCLUSIVE MODE holds its lock until the transaction ends'
    )
    assert "    LOCK TABLE coupons IN ACCESS EXCLUSIVE MODE;\n" in findings[0].help
