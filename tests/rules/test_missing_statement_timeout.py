"""missing-statement-timeout (opt-in): a blocking lock taken with no statement_timeout."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "missing-statement-timeout"
ORDERS = "create table orders (id bigint primary key, status text, note text);"
TASK = 'CREATE TABLE "Task" ("id" TEXT NOT NULL, "status" TEXT);'


def run(sql: str, **kw: object) -> list:
    return lint_sql(sql, history=[ORDERS, TASK], rules=[R], **kw)


def test_plain_sql_alter_without_statement_timeout() -> None:
    sql = (
        "set lock_timeout = '2s';\n"
        "alter table orders add constraint orders_status_check check (status <> '');\n"
        "alter table orders alter column note set not null;\n"
    )
    findings = run(sql)
    # Once per migration, at the first blocking statement (its ADD CONSTRAINT).
    assert where(findings, R) == [(2, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'ALTER TABLE takes an ACCESS EXCLUSIVE lock on "orders" with no statement_timeout' in (
        f.message
    )
    assert "nothing bounds how long it runs once it has the lock" in f.message
    assert "    SET statement_timeout = '5min';" in f.help
    assert "INVALID index" in f.help


def test_prisma_index() -> None:
    sql = '-- CreateIndex\nCREATE INDEX "Task_status_idx" ON "Task"("status");\n'
    findings = run(sql, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(2, 1)]
    assert 'CREATE INDEX takes a SHARE lock on "Task"' in findings[0].message


@pytest.mark.parametrize(
    "setting",
    [
        "SET statement_timeout = '5min';",
        "set session statement_timeout to 300000;",
        "SELECT set_config('statement_timeout', '5min', false);",
    ],
)
def test_quiet_with_a_timeout(setting: str) -> None:
    sql = f"{setting}\nalter table orders alter column note set not null;\n"
    assert run(sql) == []


def test_reset_turns_it_off() -> None:
    sql = (
        "SET statement_timeout = '5min';\n"
        "RESET statement_timeout;\n"
        "alter table orders alter column note set not null;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(3, 20)]
    assert "(the statement_timeout at line 2 is set to RESET, which turns it off)" in (
        findings[0].message
    )


def test_set_local_outside_a_transaction_is_ignored() -> None:
    sql = "SET LOCAL statement_timeout = '5min';\nalter table orders alter column note set not null;\n"
    findings = run(sql)
    assert where(findings, R) == [(2, 20)]
    assert "was SET LOCAL outside a transaction block" in findings[0].message


def test_set_local_inside_the_transaction_counts() -> None:
    sql = (
        "BEGIN;\nSET LOCAL statement_timeout = '5min';\n"
        "alter table orders alter column note set not null;\nCOMMIT;\n"
    )
    assert run(sql) == []


def test_lock_timeout_alone_is_not_enough_and_vice_versa() -> None:
    # Each rule watches its own setting.
    sql = "SET statement_timeout = '5min';\nalter table orders alter column note set not null;\n"
    both = lint_sql(sql, history=[ORDERS], rules=[R, "missing-lock-timeout"])
    assert [f.rule for f in both] == ["missing-lock-timeout"]


def test_new_table_and_concurrent_build_are_quiet() -> None:
    sql = (
        "create table audit (id bigint, at timestamptz);\n"
        "create index audit_at_idx on audit (at);\n"
        "create index concurrently orders_status_idx on orders (status);\n"
    )
    assert run(sql) == []


def test_off_by_default_and_on_when_selected() -> None:
    from migcheck.selection import default_rule_ids, select_rules

    sql = "alter table orders alter column note set not null;\n"
    assert R not in [f.rule for f in lint_sql(sql, history=[ORDERS], rules=default_rule_ids())]
    selected = select_rules([], [R], [])
    assert R in [f.rule for f in lint_sql(sql, history=[ORDERS], rules=selected)]
