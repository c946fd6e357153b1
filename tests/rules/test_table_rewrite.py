"""table-rewrite: VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/TABLESPACE/ACCESS METHOD."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "table-rewrite"
COUPONS = "create table coupons (id bigint primary key, code text);"


def run(sql: str, history: tuple[str, ...] = (COUPONS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_vacuum_full() -> None:
    findings = run("vacuum full coupons;\n", tool="golang-migrate")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert 'VACUUM FULL rewrites "coupons"' in f.message and "ACCESS EXCLUSIVE" in f.message
    assert "pg_repack" in f.help


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("VACUUM (FULL, ANALYZE) coupons;", [(1, 1)]),
        ("vacuum full;", [(1, 1)]),
        ("cluster coupons using coupons_pkey;", [(1, 1)]),
        ("CLUSTER;", [(1, 1)]),
        ("ALTER TABLE coupons SET LOGGED;", [(1, 21)]),
        ("ALTER TABLE coupons SET UNLOGGED;", [(1, 21)]),
        ("alter table coupons set tablespace fast_ssd;", [(1, 21)]),
        ("alter table coupons set access method heap2;", [(1, 21)]),
        ("alter table coupons add column x int, set logged;", [(1, 39)]),
    ],
)
def test_flagged(sql: str, expected: list[tuple[int, int]]) -> None:
    assert where(run(sql), R) == expected


def test_messages_name_the_command() -> None:
    findings = run("vacuum full;\nalter table coupons set tablespace fast_ssd;")
    assert "every table of the database" in findings[0].message
    assert "SET TABLESPACE fast_ssd copies" in findings[1].message
    assert "pg_repack --tablespace fast_ssd" in findings[1].help


@pytest.mark.parametrize(
    "sql",
    [
        "vacuum coupons;",
        "vacuum (analyze) coupons;",
        "VACUUM (FULL false) coupons;",
        "create unlogged table staging (id int);\nalter table staging set logged;",
        "create table t2 (id int);\nvacuum full t2;\ncluster t2;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []
