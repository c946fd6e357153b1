"""non-concurrent-refresh: REFRESH MATERIALIZED VIEW without CONCURRENTLY."""

from __future__ import annotations

from helpers import lint_sql, where

R = "non-concurrent-refresh"
VIEW = (
    "create table orders (id bigint primary key, customer_id bigint, total_cents bigint);\n"
    "create materialized view order_totals as\n"
    "  select customer_id, sum(total_cents) as total from orders group by customer_id;"
)
UNIQUE = "create unique index order_totals_customer_id_key on order_totals (customer_id);"


def run(sql: str, history: tuple[str, ...] = (VIEW,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_refresh_existing_view() -> None:
    findings = run("refresh materialized view order_totals;")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert 'ACCESS EXCLUSIVE lock on "order_totals"' in f.message
    assert "every read of the view" in f.message
    assert "    REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals;" in f.help
    # No unique index yet: the help says to create one first.
    assert "CREATE UNIQUE INDEX CONCURRENTLY order_totals_key ON order_totals" in f.help


def test_help_skips_the_index_when_one_exists() -> None:
    findings = run('REFRESH MATERIALIZED VIEW "order_totals";', history=(VIEW, UNIQUE))
    assert where(findings, R) == [(1, 1)]
    assert "CREATE UNIQUE INDEX" not in findings[0].help


def test_unknown_view_counts_as_existing() -> None:
    assert where(run("refresh materialized view reporting.daily;", history=()), R) == [(1, 1)]


def test_concurrently_is_quiet_even_in_a_transaction() -> None:
    sql = "begin;\nrefresh materialized view concurrently order_totals;\ncommit;"
    assert run(sql, history=(VIEW, UNIQUE)) == []


def test_view_created_in_this_deploy_is_quiet() -> None:
    sql = (
        "create materialized view top_customers as select customer_id from orders with no data;\n"
        "refresh materialized view top_customers;\n"
    )
    assert run(sql) == []


def test_with_no_data_is_reported_as_emptying_the_view_not_as_a_long_lock() -> None:
    history = [
        "create table users (id bigint primary key);",
        "create materialized view user_ids as select id from users;",
    ]
    findings = lint_sql(
        "refresh materialized view user_ids with no data;",
        history=history,
        rules=["non-concurrent-refresh", "hold-exclusive-lock"],
    )
    assert [(f.rule, f.span.line) for f in findings] == [("non-concurrent-refresh", 1)]
    assert 'materialized view "user_ids" has not been populated' in findings[0].message
    assert "blocks every read" not in findings[0].message
    # The near miss: a refresh that recomputes the view is the long lock.
    full = lint_sql(
        "refresh materialized view user_ids with data;",
        history=history,
        rules=["non-concurrent-refresh"],
    )
    assert "blocks every read of the view" in full[0].message


def test_no_data_names_the_view_as_postgres_does_for_a_schema_qualified_view() -> None:
    history = (
        "create schema reports;\ncreate table orders (id bigint primary key);\n"
        "create materialized view reports.order_ids as select id from orders;",
    )
    findings = run("refresh materialized view reports.order_ids with no data;", history=history)
    assert where(findings, R) == [(1, 1)]
    # PostgreSQL's error names the relation without its schema.
    assert findings[0].message.endswith(
        'fails with materialized view "order_ids" has not been populated.'
    )


def test_a_refresh_keeps_an_earlier_access_exclusive_lock_held() -> None:
    # hold-exclusive-lock asks this rule what slow work a refresh does.
    def held(refresh: str, history: tuple[str, ...] = (VIEW,)) -> list:
        sql = f"begin;\nalter table orders add column note text;\n{refresh}\ncommit;"
        return lint_sql(sql, history=list(history), rules=["hold-exclusive-lock"])

    findings = held("refresh materialized view concurrently order_totals;")
    assert where(findings, "hold-exclusive-lock") == [(2, 20)]
    assert 'line 3 refreshes "order_totals"' in findings[0].message
    # Near misses: WITH NO DATA recomputes nothing; a view new in this deploy is not live.
    assert held("refresh materialized view order_totals with no data;") == []
    new_view = "create materialized view ids as select id from orders with no data;"
    orders = ("create table orders (id bigint primary key, customer_id bigint);",)
    assert held(f"{new_view}\nrefresh materialized view ids;", history=orders) == []


def test_the_unique_index_advised_for_a_qualified_view_is_named_after_the_view() -> None:
    history = (
        "create schema reports;\ncreate table orders (id bigint primary key);\n"
        "create materialized view reports.order_ids as select id from orders;",
    )
    findings = run("refresh materialized view reports.order_ids;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert (
        "    CREATE UNIQUE INDEX CONCURRENTLY order_ids_key ON reports.order_ids "
        "(<columns that identify a row>);"
    ) in findings[0].help
