"""prefer-timestamptz: new timestamp (without time zone) columns."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids

R = "prefer-timestamptz"
EVENTS = "create table events (id bigserial primary key, at timestamp);"


def run(sql: str, history: tuple[str, ...] = (EVENTS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_opt_in() -> None:
    assert R not in default_rule_ids()


def test_prisma_datetime() -> None:
    sql = (
        "-- CreateTable\n"
        'CREATE TABLE "Session" (\n'
        '    "id" TEXT NOT NULL,\n'
        '    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
        '    "expiresAt" TIMESTAMPTZ(3) NOT NULL,\n'
        '    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")\n'
        ");\n"
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(4, 5)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "style"
    assert f.message.startswith('Column "Session"."createdAt" is TIMESTAMP(3) (without time zone):')
    assert '    "createdAt" TIMESTAMPTZ(3)' in f.help
    assert "@db.Timestamptz(3)" in f.help


@pytest.mark.parametrize(
    ("decl", "expected"),
    [
        ("at timestamp", '"at" timestamptz'),
        ("at timestamp without time zone", '"at" timestamptz'),
        ("at timestamp(6) without time zone", '"at" timestamptz(6)'),
        ("at timestamp[]", '"at" timestamptz[]'),
    ],
)
def test_spellings(decl: str, expected: str) -> None:
    findings = run(f"alter table events add column {decl};")
    assert where(findings, R) == [(1, 20)]
    assert f"    {expected}" in findings[0].help.splitlines()


@pytest.mark.parametrize(
    "column",
    [
        "at timestamptz",
        "at timestamp with time zone",
        "at timestamp(3) with time zone",
        "d date",
        "t time",
    ],
)
def test_silent(column: str) -> None:
    assert run(f"create table t ({column});") == []


def test_existing_columns_are_not_judged() -> None:
    assert run("alter table events alter column at set default now();") == []
    assert run("alter table events add column if not exists at timestamp;") == []
