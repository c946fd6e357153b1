"""domain-constraint-scan: ALTER DOMAIN constraint forms scan every table using the domain
under SHARE locks (measured in tests/live/test_constraint_facts.py)."""

from __future__ import annotations

from helpers import lint_sql, where

R = "domain-constraint-scan"
SHOP = (
    "create domain price as numeric(12, 2);\n"
    "create domain label as text;\n"
    "create table items (id bigint primary key, amount price);\n"
    "create table refunds (id bigint primary key, amount price, note label[]);"
)
SCANS = '"items"."amount", "refunds"."amount"'
LOCK = (
    "a SHARE lock on each of those tables until the transaction ends, which blocks writes "
    "(INSERT, UPDATE, DELETE), while reads continue"
)


def run(sql: str, history: tuple[str, ...] = (SHOP,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_add_check_without_not_valid() -> None:
    findings = run("select 1;\nalter domain price add constraint price_positive check (value > 0);")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message == (
        'ALTER DOMAIN "price" ADD constraint price_positive check (value > 0) checks every '
        f"existing value: it scans {SCANS} while holding {LOCK}; it fails with column … "
        "contains values that violate the new constraint if one value does not pass."
    )
    assert (
        "    ALTER DOMAIN price ADD constraint price_positive check (value > 0) NOT VALID;"
        in f.help
    )


def test_set_not_null_suggests_a_not_valid_check() -> None:
    findings = run("alter domain price set not null;")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert "contains null values" in f.message and SCANS in f.message
    assert "    ALTER DOMAIN price ADD CHECK (VALUE IS NOT NULL) NOT VALID;" in f.help
    assert "a domain's NOT NULL has no NOT VALID form" in f.help


def test_validate_takes_the_same_locks() -> None:
    findings = run("alter domain price validate constraint price_positive;")
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith(
        f'ALTER DOMAIN "price" VALIDATE CONSTRAINT "price_positive" scans {SCANS}'
    )
    assert "Unlike a table's VALIDATE" in findings[0].message
    assert "    ALTER DOMAIN price VALIDATE CONSTRAINT price_positive;" in findings[0].help


def test_not_valid_drop_not_null_and_unused_domains_are_quiet() -> None:
    assert run("alter domain price add constraint p check (value > 0) not valid;") == []
    assert run("alter domain price drop not null;") == []
    new = "create domain code as text;\nalter domain code add check (value <> '');"
    assert run(new) == []
    # A domain only tables of this deploy use: nothing serving traffic is scanned.
    fresh = (
        "create domain sku as text;\ncreate table skus (id bigint, s sku);\n"
        "alter domain sku set not null;"
    )
    assert run(fresh) == []


def test_a_domain_the_history_never_created() -> None:
    findings = run("alter domain money_amount add check (value >= 0);")
    assert where(findings, R) == [(1, 1)]
    assert "it scans every table with a column of this domain while" in findings[0].message


def test_hold_exclusive_lock_counts_the_scan_as_slow_work() -> None:
    sql = (
        "BEGIN;\nalter table items add column note text;\nalter domain price set not null;\nCOMMIT;"
    )
    findings = lint_sql(sql, history=[SHOP], rules=["hold-exclusive-lock"])
    assert f'line 3 scans {SCANS} to check domain "price"' in findings[0].message


def test_an_array_column_of_the_domain_makes_it_fail() -> None:
    for sql in (
        "alter domain label set not null;",
        "alter domain label add check (value <> '');",
        "alter domain label validate constraint label_check;",
    ):
        findings = run(sql)
        assert where(findings, R) == [(1, 1)], sql
        assert findings[0].message.startswith(
            'ALTER DOMAIN "label" fails with cannot alter type "label" because column '
            '"refunds.note" uses it'
        )
    # Even when the table is new (the check is refused, not slow).
    fresh = (
        "create domain tag as text;\ncreate table t (tags tag[]);\nalter domain tag set not null;"
    )
    assert where(run(fresh), R) == [(3, 1)]
    assert run("alter domain label add check (value <> '') not valid;") == []


def test_no_slow_work_without_a_scan() -> None:
    for sql in (
        "alter domain price add constraint p check (value > 0) not valid;",
        "alter domain price drop not null;",
    ):
        tx = f"BEGIN;\nalter table items add column note text;\n{sql}\nCOMMIT;"
        assert lint_sql(tx, history=[SHOP], rules=["hold-exclusive-lock"]) == [], sql
    unused = "create domain code as text;"
    tx = "BEGIN;\nalter table items add column note text;\nalter domain code set not null;\nCOMMIT;"
    assert lint_sql(tx, history=[SHOP, unused], rules=["hold-exclusive-lock"]) == []


def test_array_columns_are_named_as_postgres_does() -> None:
    history = (
        "create domain tag as text;\n"
        "create table app.notes (id int, tags tag[]);\n"
        "create table app.other (id int, tags tag[]);",
    )
    findings = run("alter domain tag set not null;", history=history)
    assert 'because column "notes.tags" uses it' in findings[0].message
    assert '("app"."notes"."tags")' in findings[0].message
