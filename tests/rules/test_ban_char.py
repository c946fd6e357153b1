"""ban-char: new char(n) / character(n) / bpchar columns."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids

R = "ban-char"
COUNTRIES = "create table countries (id bigserial primary key, name text);"


def run(sql: str, history: tuple[str, ...] = (COUNTRIES,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_opt_in() -> None:
    assert R not in default_rule_ids()


def test_prisma_db_char() -> None:
    sql = (
        'CREATE TABLE "Address" (\n'
        '    "id" TEXT NOT NULL,\n'
        '    "country" CHAR(2) NOT NULL,\n'
        '    CONSTRAINT "Address_pkey" PRIMARY KEY ("id")\n'
        ");\n"
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(3, 5)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "style"
    assert f.message.startswith('Column "Address"."country" is CHAR(2): char(n) pads')
    assert "to 2 characters" in f.message
    assert '    "country" TEXT CHECK (char_length("country") <= 2)' in f.help
    assert "@db.Char(2)" in f.help


@pytest.mark.parametrize(
    ("decl", "n"),
    [("code char(3)", 3), ("code character(5)", 5), ("code char", 1), ("code bpchar(4)", 4)],
)
def test_spellings(decl: str, n: int) -> None:
    findings = run(f"alter table countries add column {decl};")
    assert where(findings, R) == [(1, 23)]
    assert f"to {n} characters" in findings[0].message


@pytest.mark.parametrize(
    "column",
    ['flag "char"', "code varchar(3)", "code text", "code character varying(3)"],
)
def test_silent(column: str) -> None:
    assert run(f"create table t ({column});") == []


def test_existing_columns_are_not_judged() -> None:
    assert run("alter table countries alter column name type char(10);") == []


def test_bpchar_without_length_pads_nothing_so_no_length_check_is_advised() -> None:
    # bpchar without a length takes any length (unlike char, which means char(1)): the
    # help must not invent a one-character limit.
    findings = run("alter table countries add column code bpchar;")
    assert where(findings, R) == [(1, 23)]
    f = findings[0]
    assert f.message == (
        'Column "countries"."code" is bpchar: it ignores trailing spaces when comparing '
        "but not in LIKE or regular expressions."
    )
    assert f.help.splitlines()[:2] == ["Use text:", '    "code" text']
    assert "char_length" not in f.help and "pads" not in f.message


def test_quoted_bpchar_is_the_same_type_and_fires() -> None:
    # Only "char" in quotes is the one-byte type; "bpchar" in quotes is still bpchar.
    findings = run('alter table countries add column code "bpchar"(2);')
    assert where(findings, R) == [(1, 23)]
    assert "to 2 characters" in findings[0].message
