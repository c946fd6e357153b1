"""disable-trigger-all: DISABLE TRIGGER ALL turns off foreign-key enforcement."""

from __future__ import annotations

from helpers import lint_sql, where

R = "disable-trigger-all"
ORDERS = "create table orders (id bigint primary key, customer_id bigint);"


def test_disable_trigger_all_on_a_live_table() -> None:
    findings = lint_sql("alter table orders disable trigger all;", history=[ORDERS], rules=[R])
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "data"
    assert "enforce foreign keys" in f.message
    assert 'ALTER TABLE "orders" DISABLE TRIGGER USER;' in f.help


def test_user_triggers_and_new_tables_are_quiet() -> None:
    quiet = [
        "alter table orders disable trigger user;",
        "alter table orders disable trigger orders_touch;",
        "create table carts (id bigint);\nalter table carts disable trigger all;",
    ]
    for sql in quiet:
        assert lint_sql(sql, history=[ORDERS], rules=[R]) == [], sql
