"""missing-lock-timeout: blocking locks requested with no lock_timeout in effect."""

from __future__ import annotations

import pytest

from helpers import lint_history, lint_sql, make_history, where
from migcheck.engine import default_rule_ids
from migcheck.model import RuleOptions

R = "missing-lock-timeout"
USERS = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL);'
ORDERS = "create table orders (id bigserial primary key, user_id bigint, total bigint);"
HISTORY = (USERS, ORDERS, "create index orders_user_idx on orders (user_id);")


def run(sql: str, history: tuple[str, ...] = HISTORY, **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_opt_in() -> None:
    assert R not in default_rule_ids()


def test_prisma_alter_table_without_timeout() -> None:
    sql = '-- AlterTable\nALTER TABLE "User" ADD COLUMN "name" TEXT;\n'
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(2, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message.startswith(
        'ALTER TABLE takes an ACCESS EXCLUSIVE lock on "User" with no lock_timeout set:'
    )
    assert "every read and write on the table" in f.message
    assert "    SET lock_timeout = '2s';" in f.help
    assert "retry" in f.help
    assert "lock-timeout-role-level = true" in f.help


def test_reported_once_per_migration_at_first_offender() -> None:
    sql = (
        "alter table orders add column note text;\n"
        "create index orders_user_idx on orders (user_id);\n"
        'ALTER TABLE "User" DROP COLUMN "email";\n'
    )
    assert where(run(sql), R) == [(1, 20)]


def test_first_statement_on_a_new_table_is_skipped() -> None:
    sql = (
        "create table invoices (id bigserial primary key, note text);\n"
        "create index invoices_note_idx on invoices (note);\n"
        "alter table invoices add column total bigint;\n"
        "create index orders_total_idx on orders (total);\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(4, 1)]
    assert 'takes a SHARE lock on "orders"' in findings[0].message
    assert "writes (INSERT, UPDATE, DELETE); reads continue" in findings[0].message


@pytest.mark.parametrize(
    "setting",
    [
        "SET lock_timeout = '2s';",
        "SET lock_timeout TO 5000;",
        "set session lock_timeout = '3s';",
        "SELECT set_config('lock_timeout', '2s', false);",
    ],
)
def test_session_setting_protects_the_rest_of_the_file(setting: str) -> None:
    sql = f'{setting}\nALTER TABLE "User" ADD COLUMN "name" TEXT;\nDROP INDEX IF EXISTS x;\n'
    assert run(sql) == []


def test_set_local_in_runner_transaction_protects() -> None:
    sql = "SET LOCAL lock_timeout = '2s';\nalter table orders add column note text;\n"
    assert run(sql, runner_transaction=True) == []
    # Prisma (before 7.4) runs a multi-statement file as one implicit transaction.
    assert run(sql, implicit_transaction=True, tool="prisma") == []


def test_set_local_outside_a_transaction_has_no_effect() -> None:
    sql = "SET LOCAL lock_timeout = '2s';\nalter table orders add column note text;\n"
    findings = run(sql)
    assert where(findings, R) == [(2, 20)]
    assert "the lock_timeout at line 1 was SET LOCAL outside a transaction block" in (
        findings[0].message
    )


def test_set_local_ends_with_its_explicit_transaction() -> None:
    sql = (
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "alter table orders add column note text;\n"
        "COMMIT;\n"
        "alter table orders add column note2 text;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(5, 20)]
    assert "line 2 was SET LOCAL, which ended with its transaction" in findings[0].message


def test_session_set_inside_rolled_back_transaction_is_undone() -> None:
    sql = "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nalter table orders add column note text;\n"
    assert where(run(sql), R) == [(4, 20)]
    committed = sql.replace("ROLLBACK", "COMMIT")
    assert run(committed) == []


@pytest.mark.parametrize(
    ("reset", "said"),
    [
        ("SET lock_timeout = 0;", "is set to 0, which turns it off"),
        ("SET lock_timeout = '0s';", "is set to 0s, which turns it off"),
        ("SET lock_timeout TO DEFAULT;", "is set to DEFAULT, which turns it off"),
        ("RESET lock_timeout;", "is set to RESET, which turns it off"),
        ("RESET ALL;", "is set to RESET, which turns it off"),
    ],
)
def test_zero_default_and_reset_switch_it_off(reset: str, said: str) -> None:
    sql = f"SET lock_timeout = '2s';\n{reset}\nalter table orders add column note text;\n"
    findings = run(sql)
    assert where(findings, R) == [(3, 20)]
    assert f"the lock_timeout at line 2 {said}" in findings[0].message


def test_statement_timeout_is_not_a_lock_timeout() -> None:
    sql = "SET statement_timeout = '5s';\nalter table orders add column note text;\n"
    assert where(run(sql), R) == [(2, 20)]


def test_multi_action_alter_points_at_first_action() -> None:
    sql = "ALTER TABLE orders\n  ADD COLUMN a text,\n  ADD COLUMN b text;\n"
    assert where(run(sql), R) == [(2, 3)]


@pytest.mark.parametrize(
    ("sql", "mode", "column"),
    [
        ("TRUNCATE orders;", "ACCESS EXCLUSIVE", 1),
        ("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;", "SHARE ROW EXCLUSIVE", 1),
        ("LOCK TABLE orders;", "ACCESS EXCLUSIVE", 1),
        ("VACUUM FULL orders;", "ACCESS EXCLUSIVE", 1),
        ("DROP INDEX orders_user_idx;", "ACCESS EXCLUSIVE", 1),
        ("REINDEX INDEX orders_user_idx;", "SHARE", 1),
        (
            "ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) "
            'REFERENCES "User" (id) NOT VALID;',
            "SHARE ROW EXCLUSIVE",
            20,
        ),
        (
            "CREATE TRIGGER t BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION f();",
            "SHARE ROW EXCLUSIVE",
            1,
        ),
    ],
)
def test_blocking_statements(sql: str, mode: str, column: int) -> None:
    findings = run(sql)
    assert where(findings, R) == [(1, column)]
    article = "an" if mode[0] == "A" else "a"
    assert f'takes {article} {mode} lock on "orders"' in findings[0].message


def test_new_table_referencing_existing_table_locks_the_referenced_one() -> None:
    sql = (
        "CREATE TABLE payments (\n"
        "  id bigserial PRIMARY KEY,\n"
        "  order_id bigint NOT NULL REFERENCES orders (id)\n"
        ");\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert 'takes a SHARE ROW EXCLUSIVE lock on "orders"' in findings[0].message


def test_partition_of_locks_the_parent() -> None:
    history = ("create table events (id bigint, at date) partition by range (at);",)
    sql = "create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');"
    findings = run(sql, history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'ACCESS EXCLUSIVE lock on "events"' in findings[0].message


def test_drop_index_of_unknown_index_counts_as_existing_table() -> None:
    findings = run("DROP INDEX legacy_idx;")
    assert where(findings, R) == [(1, 1)]
    assert 'on the table of index "legacy_idx"' in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        # non-blocking locks
        "CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total);",
        "DROP INDEX CONCURRENTLY IF EXISTS orders_total_idx;",
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_check;",
        "VACUUM orders;",
        "LOCK TABLE orders IN ACCESS EXCLUSIVE MODE NOWAIT;",
        "LOCK TABLE orders IN ROW EXCLUSIVE MODE;",
        # data and objects that are not tables
        "UPDATE orders SET total = 0 WHERE total IS NULL;",
        "CREATE TYPE mood AS ENUM ('ok');",
        "CREATE TABLE notes (id bigserial PRIMARY KEY, body text);",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto;",
    ],
)
def test_silent(sql: str) -> None:
    assert run(sql) == []


def test_lock_already_held_in_the_transaction_does_not_wait() -> None:
    sql = (
        "BEGIN;\n"
        "SET LOCAL lock_timeout = '2s';\n"
        "ALTER TABLE orders ADD COLUMN a text;\n"
        "SET LOCAL lock_timeout = 0;\n"
        "ALTER TABLE orders ADD COLUMN b text;\n"
        "COMMIT;\n"
    )
    assert run(sql) == []


def test_role_level_option_silences() -> None:
    history = make_history(
        [ORDERS, "alter table orders add column note text;"], selected=[False, True]
    )
    assert len(lint_history(history, rules=[R], changeset=False).findings) == 1
    role_level = RuleOptions(lock_timeout_role_level=True)
    assert lint_history(history, rules=[R], changeset=False, rule_options=role_level).findings == []


def test_each_migration_of_a_changeset_needs_its_own_setting() -> None:
    history = make_history(
        [
            ORDERS,
            "SET lock_timeout = '2s';\nalter table orders add column a text;",
            "alter table orders add column b text;",
        ],
        selected=[False, True, True],
    )
    result = lint_history(history, rules=[R], changeset=True)
    assert [(f.path, f.line) for f in result.findings] == [("migrations/003_m.sql", 1)]


def test_same_history_linted_twice_reports_twice() -> None:
    history = make_history(
        [ORDERS, "alter table orders add column a text;"], selected=[False, True]
    )
    for _ in range(2):
        assert len(lint_history(history, rules=[R], changeset=False).findings) == 1


def test_retry_advice_depends_on_the_transaction() -> None:
    sql = "alter table orders add column note text;\nalter table orders add column n2 text;"
    assert "rolled back whole" in run(sql, runner_transaction=True)[0].help
    assert "IF NOT EXISTS" in run(sql)[0].help


# -- the shared walk and trigger (rules/_timeouts.py), pinned case by case --------------


def test_create_table_if_not_exists_of_an_existing_table_waits_for_nothing() -> None:
    sql = "create table if not exists orders (id bigint, user_id bigint references orders);\n"
    assert run(sql) == []
    # A new table that references an existing one waits on it.
    new = "create table if not exists items (id bigint, order_id bigint references orders);\n"
    findings = run(new)
    assert where(findings, R) == [(1, 1)]
    assert 'SHARE ROW EXCLUSIVE lock on "orders"' in findings[0].message


def test_foreign_key_added_to_a_new_table_waits_on_the_referenced_one() -> None:
    sql = (
        "create table items (id bigint, order_id bigint);\n"
        "alter table items add constraint items_order_fk foreign key (order_id) "
        "references orders (id) not valid;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 19)]
    assert 'SHARE ROW EXCLUSIVE lock on "orders"' in findings[0].message


def test_drop_index_of_an_unknown_index_names_its_table_as_unknown() -> None:
    findings = run("drop index legacy_idx;\n")
    assert 'on the table of index "legacy_idx"' in findings[0].message
    # An index the history shows: its table is named.
    shown = run("drop index orders_user_idx;\n")
    assert 'lock on "orders"' in shown[0].message


def test_reset_of_another_setting_keeps_the_timeout() -> None:
    sql = (
        "SET lock_timeout = '2s';\nRESET statement_timeout;\n"
        "alter table orders add column note text;\n"
    )
    assert run(sql) == []


def test_rollback_undoes_a_session_set_made_in_its_transaction() -> None:
    sql = "BEGIN;\nSET lock_timeout = '2s';\nROLLBACK;\nalter table orders add column note text;\n"
    assert where(run(sql), R) == [(4, 20)]
    # The reason the timeout was off before that transaction comes back with it.
    sql = "SET lock_timeout = 0;\n" + sql
    findings = run(sql)
    assert where(findings, R) == [(5, 20)]
    assert "(the lock_timeout at line 1 is set to 0, which turns it off)" in findings[0].message


@pytest.mark.parametrize(
    ("call", "fires"),
    [
        ("SELECT set_config('lock_timeout', '0', false);", True),
        ("SELECT set_config('lock_timeout', '2s', false);", False),
        ("SELECT set_config('lock_timeout', '2s', true);", True),  # local, outside a block
    ],
)
def test_set_config_value_and_scope(call: str, fires: bool) -> None:
    sql = f"{call}\nalter table orders add column note text;\n"
    findings = run(sql)
    assert where(findings, R) == ([(2, 20)] if fires else [])
    if "'0'" in call:
        assert "(the lock_timeout at line 1 is set to 0, which turns it off)" in (
            findings[0].message
        )


def test_create_or_replace_trigger_is_named_whole() -> None:
    sql = (
        "create or replace trigger orders_touch before update on orders "
        "for each row execute function touch();\n"
    )
    findings = run(sql)
    assert findings[0].message.startswith("CREATE OR REPLACE TRIGGER takes a SHARE ROW EXCLUSIVE")
