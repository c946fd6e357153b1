"""drop-trigger: DROP TRIGGER on a live table (behaviour removed, ACCESS EXCLUSIVE)."""

from __future__ import annotations

from helpers import lint_sql, where

R = "drop-trigger"
ORDERS = (
    "create table orders (id bigint primary key, updated_at timestamptz);\n"
    "create function touch() returns trigger language plpgsql as $$\n"
    "begin new.updated_at := now(); return new; end $$;\n"
    "create trigger orders_touch before update on orders for each row execute function touch();"
)


def run(sql: str, history: tuple[str, ...] = (ORDERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_drop_trigger_on_a_live_table() -> None:
    findings = run("select 1;\ndrop trigger if exists orders_touch on orders;")
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "info" and f.category == "compatibility"
    assert 'ACCESS EXCLUSIVE lock on "orders"' in f.message
    assert "DROP TRIGGER orders_touch ON" in f.help


def test_recreated_in_the_same_transaction_or_on_a_new_table_is_quiet() -> None:
    recreate = (
        "begin;\ndrop trigger orders_touch on orders;\n"
        "create trigger orders_touch before insert or update on orders "
        "for each row execute function touch();\ncommit;"
    )
    assert run(recreate) == []
    new_table = (
        "create table carts (id bigint);\n"
        "create trigger carts_touch before update on carts for each row execute function touch();\n"
        "drop trigger carts_touch on carts;"
    )
    assert run(new_table) == []


def test_the_lock_is_access_exclusive_for_the_lock_rules() -> None:
    # Measured on PostgreSQL 18 (pg_locks): DROP TRIGGER holds ACCESS EXCLUSIVE.
    findings = lint_sql(
        "drop trigger orders_touch on orders;",
        history=[ORDERS],
        rules=["missing-lock-timeout"],
    )
    assert where(findings, "missing-lock-timeout") == [(1, 1)]
    assert "ACCESS EXCLUSIVE" in findings[0].message


def test_the_help_quotes_a_trigger_name_that_needs_it() -> None:
    history = (
        'create table "Orders" (id bigint primary key);\n'
        "create function audit() returns trigger language plpgsql as $$\n"
        "begin return new; end $$;\n"
        'create trigger "Audit Log" after insert on "Orders" '
        "for each row execute function audit();"
    )
    findings = run('drop trigger "Audit Log" on "Orders";', history=(history,))
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith('DROP TRIGGER "Audit Log" on "Orders": writes by')
    assert '    DROP TRIGGER "Audit Log" ON "Orders";\n' in findings[0].help


def test_a_drop_trigger_without_table_or_name_still_reads_as_a_sentence() -> None:
    # MySQL and SQLite spell it without ON; a template can leave the name empty.
    mysql = run("drop trigger orders_audit;")
    assert where(mysql, R) == [(1, 1)]
    assert mysql[0].message.startswith('DROP TRIGGER "orders_audit" on its table: writes')
    assert "    DROP TRIGGER orders_audit ON <table>;\n" in mysql[0].help
    unnamed = run("drop trigger if exists;")
    assert unnamed[0].message.startswith("DROP TRIGGER the trigger on its table: writes")
    assert "    DROP TRIGGER <trigger> ON <table>;\n" in unnamed[0].help
