"""table-rewrite: VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED/TABLESPACE/ACCESS METHOD."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "table-rewrite"
COUPONS = "create table coupons (id bigint primary key, code text);"


def run(sql: str, history: tuple[str, ...] = (COUPONS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_vacuum_full() -> None:
    findings = run("vacuum full coupons;\n", tool="golang-migrate")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert 'VACUUM FULL rewrites "coupons"' in f.message and "ACCESS EXCLUSIVE" in f.message
    assert "pg_repack" in f.help


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("VACUUM (FULL, ANALYZE) coupons;", [(1, 1)]),
        ("vacuum full;", [(1, 1)]),
        ("cluster coupons using coupons_pkey;", [(1, 1)]),
        ("CLUSTER;", [(1, 1)]),
        ("ALTER TABLE coupons SET LOGGED;", [(1, 21)]),
        ("ALTER TABLE coupons SET UNLOGGED;", [(1, 21)]),
        ("alter table coupons set tablespace fast_ssd;", [(1, 21)]),
        ("alter table coupons set access method heap2;", [(1, 21)]),
        ("alter table coupons add column x int, set logged;", [(1, 39)]),
    ],
)
def test_flagged(sql: str, expected: list[tuple[int, int]]) -> None:
    assert where(run(sql), R) == expected


def test_messages_name_the_command() -> None:
    findings = run("vacuum full;\nalter table coupons set tablespace fast_ssd;")
    assert "every table of the database" in findings[0].message
    assert "SET TABLESPACE fast_ssd copies" in findings[1].message
    assert "pg_repack --tablespace fast_ssd" in findings[1].help


@pytest.mark.parametrize(
    "sql",
    [
        "vacuum coupons;",
        "vacuum (analyze) coupons;",
        "VACUUM (FULL false) coupons;",
        "create unlogged table staging (id int);\nalter table staging set logged;",
        "create table t2 (id int);\nvacuum full t2;\ncluster t2;",
    ],
)
def test_quiet(sql: str) -> None:
    assert run(sql) == []


ORDERS_STORED = (
    "create table orders (id bigint primary key, net numeric, "
    "gross numeric generated always as (net * 1.2) stored);"
)
ORDERS_VIRTUAL = ORDERS_STORED.replace(" stored);", " virtual);")
SET_EXPRESSION = "alter table orders alter column gross set expression as (net * 1.25);"


def test_set_expression_of_a_stored_column_rewrites() -> None:
    findings = run(SET_EXPRESSION, history=(ORDERS_STORED,), pg=17)
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.message == (
        'ALTER TABLE "orders" ALTER COLUMN "gross" SET EXPRESSION: "orders"."gross" is a STORED '
        "generated column, so PostgreSQL rewrites the table and all its indexes to recompute "
        "it for every row, while holding an ACCESS EXCLUSIVE lock, which blocks every read "
        "and write on the table until it finishes."
    )
    assert "VIRTUAL" not in f.help  # no virtual columns before 18
    pg18 = run(SET_EXPRESSION, history=(ORDERS_STORED,), pg=18)[0]
    assert pg18.help.startswith("On PostgreSQL 18+ a VIRTUAL generated column changes")


def test_set_expression_of_a_virtual_column_is_quiet_on_pg18() -> None:
    assert run(SET_EXPRESSION, history=(ORDERS_VIRTUAL,), pg=18) == []
    # PostgreSQL 18's default kind is VIRTUAL.
    default = ORDERS_STORED.replace(" stored);", ");")
    assert run(SET_EXPRESSION, history=(default,), pg=18) == []


def test_set_expression_of_an_unknown_column() -> None:
    # Before 18 every generated column is STORED.
    assert where(run(SET_EXPRESSION, history=(), pg=17), R) == [(1, 20)]
    f = run(SET_EXPRESSION, history=(), pg=18)[0]
    assert "may rewrite" in f.message and "the history does not say" in f.message


def test_set_expression_does_not_exist_before_pg17() -> None:
    assert run(SET_EXPRESSION, history=(ORDERS_STORED,), pg=16) == []


def test_set_expression_on_a_new_table_and_drop_expression_are_quiet() -> None:
    assert run(ORDERS_STORED + "\n" + SET_EXPRESSION, history=(), pg=17) == []
    drop = "alter table orders alter column gross drop expression;"
    assert run(drop, history=(ORDERS_STORED,), pg=18) == []


def test_alter_index_set_tablespace() -> None:
    history = (COUPONS, "create index coupons_code_idx on coupons (code);")
    findings = run("alter index coupons_code_idx set tablespace fast_ssd;", history=history)
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.message == (
        'ALTER INDEX "coupons_code_idx" SET TABLESPACE fast_ssd copies the index\'s files while '
        'holding an ACCESS EXCLUSIVE lock on "coupons_code_idx", and every query that plans or '
        'writes on "coupons" waits for it (reads and writes alike) until it finishes.'
    )
    assert (
        "    CREATE INDEX CONCURRENTLY <new_name> ON coupons (…) TABLESPACE fast_ssd;\n"
        "    DROP INDEX CONCURRENTLY coupons_code_idx;\n"
        "Run it outside any transaction block: "
    ) in f.help
    assert f.help.endswith(
        "\n    ALTER INDEX <new_name> RENAME TO coupons_code_idx;\n"
        "Or move it online with pg_repack --only-indexes --tablespace fast_ssd."
    )


@pytest.mark.parametrize(
    "sql",
    [
        # Measured: SHARE UPDATE EXCLUSIVE, no new files.
        "alter index coupons_code_idx set (fillfactor = 70);",
        "alter table coupons set (fillfactor = 70);",
        "alter index coupons_code_idx rename to coupons_code_key;",
        # An index built by this deploy serves no query yet.
        "create index coupons_id_idx on coupons (id);\n"
        "alter index coupons_id_idx set tablespace fast_ssd;",
    ],
)
def test_index_storage_changes_that_are_quiet(sql: str) -> None:
    history = (COUPONS, "create index coupons_code_idx on coupons (code);")
    assert run(sql, history=history) == []


def test_unknown_index_is_treated_as_live() -> None:
    findings = run("ALTER INDEX app.orders_idx SET TABLESPACE archive;", history=())
    assert where(findings, R) == [(1, 1)]
    assert "on its table" in findings[0].message


def test_index_tablespace_move_waits_for_its_lock_like_any_access_exclusive() -> None:
    history = [COUPONS, "create index coupons_code_idx on coupons (code);"]
    sql = (
        "alter index coupons_code_idx set (fillfactor = 70);\n"
        "alter index coupons_code_idx set tablespace fast_ssd;"
    )
    findings = lint_sql(sql, history=history, rules=["missing-lock-timeout"])
    assert where(findings, "missing-lock-timeout") == [(2, 1)]
    assert "ACCESS EXCLUSIVE" in findings[0].message


@pytest.mark.parametrize(
    ("statement", "work"),
    [
        ("vacuum full coupons;", 'line 3 rewrites "coupons" (VACUUM FULL)'),
        ("vacuum full;", "line 3 rewrites every table (VACUUM FULL)"),
        ("cluster;", "line 3 rewrites every clustered table (CLUSTER)"),
        ("cluster coupons using coupons_pkey;", 'line 3 rewrites "coupons"'),
        ("alter table coupons set logged;", 'line 3 rewrites "coupons"'),
        (
            "alter index coupons_code_idx set tablespace fast_ssd;",
            'line 3 copies the index "coupons_code_idx" to another tablespace',
        ),
    ],
)
def test_rewrites_are_slow_work_under_a_held_lock(statement: str, work: str) -> None:
    history = [COUPONS, "create index coupons_code_idx on coupons (code);", ORDERS_STORED]
    sql = f"BEGIN;\nalter table orders add column note text;\n{statement}\nCOMMIT;"
    findings = lint_sql(sql, history=history, rules=["hold-exclusive-lock"])
    assert len(findings) == 1 and work in findings[0].message


@pytest.mark.parametrize(
    "statement",
    [
        "vacuum coupons;",
        "alter index coupons_code_idx set (fillfactor = 70);",
        "alter table orders alter column gross drop expression;",
    ],
)
def test_quick_commands_are_not_slow_work(statement: str) -> None:
    history = [COUPONS, "create index coupons_code_idx on coupons (code);", ORDERS_STORED]
    sql = f"BEGIN;\nalter table orders add column note text;\n{statement}\nCOMMIT;"
    assert lint_sql(sql, history=history, rules=["hold-exclusive-lock"]) == []


def test_materialized_view_index_moved() -> None:
    history = (
        COUPONS,
        "create materialized view code_counts as select code, count(*) n from coupons group by code;\n"
        "create index code_counts_idx on code_counts (code);",
    )
    findings = run("alter index code_counts_idx set tablespace fast_ssd;", history=history)
    assert where(findings, R) == [(1, 1)]
    assert 'every query that plans or writes on "code_counts" waits' in findings[0].message


def test_messages_of_each_rewrite() -> None:
    named = run("cluster coupons using coupons_pkey;")[0]
    assert named.message.startswith('CLUSTER rewrites "coupons" and all its indexes in index order')
    every = run("CLUSTER;")[0]
    assert every.message.startswith("CLUSTER without a table name re-clusters every")
    logged = run("alter table coupons set logged;")[0]
    assert 'ALTER TABLE "coupons" SET LOGGED rewrites' in logged.message
    assert "Create a new logged table" in logged.help
    unlogged = run("alter table coupons set unlogged;")[0]
    assert 'ALTER TABLE "coupons" SET UNLOGGED rewrites' in unlogged.message


def test_pg17_generated_columns_are_all_stored() -> None:
    f = run(SET_EXPRESSION, history=(), pg=17)[0]
    assert '"orders"."gross" is a STORED generated column, so PostgreSQL rewrites' in f.message


def test_qualified_index_is_renamed_back_without_its_schema() -> None:
    f = run("ALTER INDEX app.orders_idx SET TABLESPACE archive;", history=())[0]
    assert "    DROP INDEX CONCURRENTLY app.orders_idx;" in f.help
    assert "    ALTER INDEX <new_name> RENAME TO orders_idx;" in f.help
