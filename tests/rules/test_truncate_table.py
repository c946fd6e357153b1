"""truncate-table: TRUNCATE of an existing table (data loss)."""

from __future__ import annotations

from helpers import lint_sql, where

R = "truncate-table"
COUPONS = "create table coupons (id bigserial primary key, code text);"


def run(sql: str, history: tuple[str, ...] = (COUPONS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_truncate_existing_table() -> None:
    findings = run("-- reset\nTRUNCATE TABLE coupons;")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "data"
    assert 'Truncating "coupons"' in f.message and "ACCESS EXCLUSIVE" in f.message
    assert 'DELETE FROM "coupons" WHERE' in f.help


def test_each_table_and_cascade() -> None:
    sql = "CREATE TABLE staging (id int);\ntruncate only coupons, staging restart identity cascade;"
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    assert '"coupons"' in findings[0].message and "CASCADE" in findings[0].message


def test_unknown_table_is_flagged() -> None:
    assert where(run('TRUNCATE "Session";', history=()), R) == [(1, 1)]


def test_silent_on_new_table() -> None:
    assert run("CREATE TABLE import_staging (id int);\nTRUNCATE import_staging;", history=()) == []
