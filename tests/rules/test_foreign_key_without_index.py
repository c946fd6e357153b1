"""foreign-key-without-index (opt-in): a foreign key whose columns lead no index of the
referencing table (tests/live/test_constraint_facts.py measures the scan)."""

from __future__ import annotations

from pathlib import Path

from alembic_revisions import lint_revisions
from helpers import lint_sql, where
from migcheck.rules import all_rules

R = "foreign-key-without-index"
SHOP = (
    "create table customers (id bigint primary key);\n"
    "create table orders (id bigint primary key, customer_id bigint, store_id bigint, "
    "region text);\n"
    "create index orders_store_region_idx on orders (store_id, region);\n"
    "create index orders_region_lower_idx on orders (lower(region));\n"
    "create index orders_customer_open_idx on orders (customer_id) where region is null;\n"
    "create table payments (id bigint primary key, customer_id bigint);"
)
FK = "alter table orders add constraint {name} foreign key ({cols}) references customers not valid;"


def run(sql: str, history: tuple[str, ...] = (SHOP,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_it_is_opt_in() -> None:
    assert all_rules()[R].default_enabled is False


def test_foreign_key_without_an_index() -> None:
    findings = run(FK.format(name="orders_customer_fk", cols="customer_id"))
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message == (
        'Foreign key "orders_customer_fk" of "orders" (customer_id) → "customers" has no index '
        'on "orders" that starts with (customer_id): every DELETE from "customers", and every '
        "UPDATE of its referenced key, finds the referencing rows with a sequential scan of "
        '"orders", and ON DELETE CASCADE / SET NULL work through them the same way.'
    )
    assert f.help.splitlines()[:2] == [
        "Index the referencing columns without blocking writes:",
        "    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);",
    ]


def test_an_index_leading_with_the_columns_counts_in_any_order() -> None:
    assert run(FK.format(name="fk", cols="store_id")) == []
    assert run(FK.format(name="fk", cols="region, store_id")) == []
    # Near misses: the column is second in the index, or only inside an expression.
    assert where(run(FK.format(name="fk", cols="region")), R) == [(1, 20)]
    # The partial index on customer_id does not count.
    assert where(run(FK.format(name="fk", cols="customer_id")), R) == [(1, 20)]


def test_an_index_built_later_in_the_migration_or_a_key_counts() -> None:
    later = (
        FK.format(name="fk", cols="customer_id")
        + "\ncreate index concurrently orders_customer_idx on orders (customer_id);"
    )
    assert run(later) == []
    assert run("alter table orders add constraint fk foreign key (id) references customers;") == []
    # Near miss: an index built later on another table.
    elsewhere = (
        FK.format(name="fk", cols="customer_id") + "\ncreate index customers_x on customers (id);"
    )
    assert where(run(elsewhere), R) == [(1, 20)]


def test_references_in_create_table_and_add_column() -> None:
    sql = (
        "create table refunds (id bigint primary key,\n"
        "  order_id bigint references orders,\n"
        "  customer_id bigint, constraint refunds_customer_fk foreign key (customer_id) "
        "references customers);\n"
        "create index refunds_customer_idx on refunds (customer_id);"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith(
        'Foreign key "refunds_order_id_fkey" of "refunds" (order_id) → "orders"'
    )
    assert "    CREATE INDEX refunds_order_id_idx ON refunds (order_id);" in findings[0].help
    unique = (
        "create table tokens (id bigint primary key, order_id bigint unique references orders);"
    )
    assert run(unique) == []
    findings = run("alter table orders add column coupon_id bigint references customers;")
    assert where(findings, R) == [(1, 20)]
    assert "CREATE INDEX CONCURRENTLY orders_coupon_id_idx" in findings[0].help


def test_alembic_foreign_key(tmp_path: Path) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            """
            op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))
            op.create_table(
                "posts",
                sa.Column("id", sa.BigInteger(), primary_key=True),
                sa.Column("user_id", sa.BigInteger()),
            )
            """,
            'op.create_foreign_key("fk_posts_user", "posts", "users", ["user_id"], ["id"])',
        ],
        [R],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("r2.py", 6, R)]


def test_only_indexes_of_the_referencing_table_count() -> None:
    sql = (
        FK.format(name="fk", cols="customer_id")
        + "\ncreate index concurrently payments_customer_idx on payments (customer_id);"
    )
    assert where(run(sql), R) == [(1, 20)]


def test_table_level_foreign_keys_of_create_table() -> None:
    sql = (
        "create table refunds (id bigint primary key, customer_id bigint,\n"
        "  constraint refunds_customer_fk foreign key (customer_id) references customers);"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith('Foreign key "refunds_customer_fk" of "refunds"')
    # Its own primary key or a unique constraint on the column counts.
    keyed = sql.replace("customer_id bigint,", "customer_id bigint unique,")
    assert run(keyed) == []


def test_other_constraints_are_not_foreign_keys() -> None:
    assert run("alter table orders add constraint c check (region is not null);") == []
    assert run("alter table orders add constraint u unique (region);") == []


def test_a_new_unique_column_with_references_is_indexed() -> None:
    sql = "alter table orders add column voucher_id bigint unique references customers;"
    assert run(sql) == []
    assert where(run(sql.replace(" unique", "")), R) == [(1, 20)]


def test_schema_qualified_table_names_its_index_by_the_table() -> None:
    history = ("create table app.orders (id bigint primary key, customer_id bigint);",)
    sql = "alter table app.orders add constraint fk foreign key (customer_id) references app.customers;"
    findings = run(sql, history=history)
    assert where(findings, R) == [(1, 24)]
    assert (
        "    CREATE INDEX CONCURRENTLY orders_customer_id_idx ON app.orders (customer_id);"
        in findings[0].help
    )


def test_a_partial_index_built_later_does_not_count() -> None:
    sql = (
        FK.format(name="fk", cols="customer_id")
        + "\ncreate index concurrently orders_c_idx on orders (customer_id) where region = 'eu';"
    )
    assert where(run(sql), R) == [(1, 20)]
