"""drop-not-null (opt-in, info): an expand step worth a reviewer's look."""

from __future__ import annotations

from helpers import lint_sql, where
from migcheck.rules import all_rules

R = "drop-not-null"
USERS = "create table users (id bigint primary key, name text not null, bio text);"


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_it_is_opt_in_and_info() -> None:
    rule = all_rules()[R]
    assert rule.default_enabled is False and rule.severity == "info"


def test_drop_not_null_on_an_existing_column() -> None:
    findings = run("alter table users alter column name drop not null;")
    assert where(findings, R) == [(1, 19)]
    f = findings[0]
    assert f.category == "compatibility"
    assert f.message.startswith(
        'DROP NOT NULL on "users"."name": the app version still running keeps writing values'
    )
    assert f.message.endswith(
        'The ALTER itself takes a brief ACCESS EXCLUSIVE lock on "users" and does not scan.'
    )
    # A column the history never showed may be NOT NULL: reported.
    assert where(run('ALTER TABLE "Account" ALTER COLUMN "plan" DROP NOT NULL;'), R) == [(1, 23)]


def test_nullable_and_new_columns_are_quiet() -> None:
    assert run("alter table users alter column bio drop not null;") == []
    new_col = (
        "alter table users add column nick text not null default '';\n"
        "alter table users alter column nick drop not null;"
    )
    assert run(new_col) == []
    new_table = "create table t (a int not null);\nalter table t alter column a drop not null;"
    assert run(new_table) == []
