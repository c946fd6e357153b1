"""prefer-jsonb (opt-in): new json columns."""

from __future__ import annotations

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids
from migcheck.rules import all_rules

R = "prefer-jsonb"


def run(sql: str, **kw: object) -> list:
    return lint_sql(sql, history=["create table orders (id bigint, legacy json);"], rules=[R], **kw)


def test_opt_in() -> None:
    assert R not in default_rule_ids()
    rule = all_rules()[R]
    assert rule.category == "style" and rule.severity == "warning"


def test_create_table_and_add_column() -> None:
    sql = (
        'CREATE TABLE "Event" ("id" TEXT NOT NULL, "payload" JSON NOT NULL, "tags" json[]);\n'
        "alter table orders add column metadata json;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1), (1, 1), (2, 20)]
    assert 'Column "Event"."payload" is json:' in findings[0].message
    assert "    payload jsonb" in findings[0].help
    assert 'Column "Event"."tags" is json[]' in findings[1].message
    assert "    tags jsonb[]" in findings[1].help


def test_jsonb_and_existing_json_columns_are_quiet() -> None:
    sql = (
        'CREATE TABLE "Event" ("id" TEXT NOT NULL, "payload" JSONB NOT NULL);\n'
        "alter table orders add column metadata jsonb;\n"
        "alter table orders alter column legacy set not null;\n"
    )
    assert run(sql) == []


def test_not_run_by_default() -> None:
    sql = "alter table orders add column metadata json;"
    findings = lint_sql(sql, history=["create table orders (id bigint);"], rules=default_rule_ids())
    assert where(findings, R) == []
