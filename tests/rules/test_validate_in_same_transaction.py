"""validate-in-same-transaction: VALIDATE CONSTRAINT in the transaction of its NOT VALID add."""

from __future__ import annotations

from helpers import lint_sql, where

R = "validate-in-same-transaction"
ORDERS = (
    "create table coupons (id bigserial primary key);\n"
    "create table orders (id bigserial primary key, coupon_id bigint, total_cents bigint);"
)
ADD_FK = (
    "alter table orders add constraint orders_coupon_id_fkey foreign key (coupon_id) "
    "references coupons (id) not valid;\n"
)
VALIDATE_FK = "alter table orders validate constraint orders_coupon_id_fkey;\n"


def run(sql: str, history: tuple[str, ...] = (ORDERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_golang_migrate_implicit_transaction() -> None:
    findings = run(ADD_FK + "\n" + VALIDATE_FK, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, R) == [(3, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert "golang-migrate sends the file as one multi-statement query" in f.message
    assert "added it NOT VALID at line 1" in f.message
    assert 'SHARE ROW EXCLUSIVE lock on "orders"' in f.message
    assert "    ALTER TABLE orders VALIDATE CONSTRAINT orders_coupon_id_fkey;" in f.help


def test_explicit_transaction_check_constraint() -> None:
    sql = (
        "BEGIN;\n"
        'ALTER TABLE "orders" ADD CONSTRAINT "total_positive" CHECK ("total_cents" >= 0) '
        "NOT VALID;\n"
        'ALTER TABLE "orders" VALIDATE CONSTRAINT "total_positive";\n'
        "COMMIT;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(3, 22)]
    assert 'ACCESS EXCLUSIVE lock on "orders"' in findings[0].message


def test_multi_action_validate() -> None:
    sql = (
        ADD_FK
        + "alter table orders validate constraint other, validate constraint orders_coupon_id_fkey;"
    )
    findings = run(sql, runner_transaction=True, tool="flyway")
    assert where(findings, R) == [(2, 47)]
    assert "(Flyway runs each migration inside a transaction)" in findings[0].message


def test_separate_migrations_are_quiet() -> None:
    assert run(VALIDATE_FK, history=(ORDERS, ADD_FK), runner_transaction=True) == []


def test_without_a_transaction_each_statement_commits() -> None:
    assert run(ADD_FK + VALIDATE_FK) == []


def test_commit_between_the_steps_is_quiet() -> None:
    sql = "begin;\n" + ADD_FK + "commit;\nbegin;\n" + VALIDATE_FK + "commit;\n"
    assert run(sql) == []


def test_new_table_is_quiet() -> None:
    sql = (
        "create table refunds (id bigint, order_id bigint);\n"
        "alter table refunds add constraint refunds_order_fk foreign key (order_id) "
        "references orders (id) not valid;\n"
        "alter table refunds validate constraint refunds_order_fk;\n"
    )
    assert run(sql, runner_transaction=True) == []


def test_the_add_is_found_among_other_statements_on_the_table() -> None:
    # Another ALTER of the same table comes first: the finding names the NOT VALID add's
    # line and its lock, not the first statement that touched the table.
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n" + ADD_FK + VALIDATE_FK + "COMMIT;\n"
    [f] = run(sql)
    assert "added it NOT VALID at line 3" in f.message
    assert 'SHARE ROW EXCLUSIVE lock on "orders"' in f.message


def test_a_validation_scan_is_the_slow_work_that_keeps_an_earlier_lock() -> None:
    # hold-exclusive-lock asks this rule what a VALIDATE does: on an existing table it
    # scans, which keeps the earlier ADD COLUMN's ACCESS EXCLUSIVE lock held.
    history = (ORDERS, ADD_FK)
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n" + VALIDATE_FK + "COMMIT;\n"
    findings = lint_sql(sql, history=list(history), rules=["hold-exclusive-lock"])
    assert [f.rule for f in findings] == ["hold-exclusive-lock"]
    assert 'validates "orders_coupon_id_fkey" by scanning "orders"' in findings[0].message
