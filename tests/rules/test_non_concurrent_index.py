"""non-concurrent-index: CREATE INDEX without CONCURRENTLY on an existing table."""

from __future__ import annotations

import pytest

from helpers import lint_history, lint_sql, make_history, where

R = "non-concurrent-index"
TASK = 'CREATE TABLE "Task" ("id" TEXT NOT NULL, "status" TEXT NOT NULL, "projectId" TEXT);'
COUPONS = "create table coupons (id bigserial primary key, code text not null);"


def run(sql: str, history: tuple[str, ...] = (TASK, COUPONS), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_index_on_existing_table() -> None:
    sql = '-- CreateIndex\nCREATE INDEX "Task_status_idx" ON "Task"("status");\n'
    findings = run(sql, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert 'index "Task_status_idx" on existing table "Task"' in f.message
    assert "SHARE lock" in f.message and "blocks writes (INSERT, UPDATE, DELETE)" in f.message
    assert '    CREATE INDEX CONCURRENTLY "Task_status_idx" ON "Task"("status");' in f.help
    assert "INVALID index" in f.help
    assert 'DROP INDEX CONCURRENTLY "Task_status_idx";' in f.help
    assert "Prisma" in f.help and "alone in its own migration" in f.help


def test_unique_index_in_explicit_transaction_keeps_users_case() -> None:
    sql = (
        "-- block concurrent inserts while we dedupe\n"
        "begin;\n\n"
        "create unique index coupons_code_key on coupons (code);\n\n"
        "commit;\n"
    )
    findings = run(sql, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, R) == [(4, 1)]
    f = findings[0]
    assert "unique index" in f.message and "held until the transaction commits" in f.message
    assert "    create unique index concurrently coupons_code_key on coupons (code);" in f.help
    assert "Move it out of the BEGIN" in f.help


def test_if_not_exists_warns_about_invalid_leftover() -> None:
    findings = run("create index if not exists coupons_code_idx on coupons (lower(code));")
    assert where(findings, R) == [(1, 1)]
    assert (
        "concurrently if not exists coupons_code_idx on coupons (lower(code));" in findings[0].help
    )
    help_ = findings[0].help
    assert "IF NOT EXISTS does not make a retry safe" in help_
    assert "NOTICE: relation already exists, skipping" in help_
    assert help_.endswith("    DROP INDEX CONCURRENTLY IF EXISTS coupons_code_idx;")


def test_unknown_table_counts_as_existing() -> None:
    assert where(run("CREATE INDEX ON audit_log (created_at);", history=()), R) == [(1, 1)]


def test_index_right_after_create_table_is_quiet() -> None:
    sql = (
        "-- CreateTable\n"
        'CREATE TABLE "Comment" ("id" TEXT NOT NULL, "taskId" TEXT NOT NULL);\n\n'
        "-- CreateIndex\n"
        'CREATE INDEX "Comment_taskId_idx" ON "Comment"("taskId");\n'
        'CREATE UNIQUE INDEX "Comment_id_key" ON "Comment"("id");\n'
    )
    assert run(sql, tool="prisma") == []


def test_table_created_by_an_earlier_migration_of_the_same_deploy_is_quiet() -> None:
    history = make_history(["create table t (a int);", "create index t_a_idx on t (a);"])
    same_deploy = lint_history(history, rules=[R], changeset=True).findings
    assert same_deploy == []
    separate = lint_history(history, rules=[R], changeset=False).findings
    assert where(separate, R) == [(1, 1)]


@pytest.mark.parametrize(
    "sql",
    [
        'CREATE INDEX CONCURRENTLY "Task_status_idx" ON "Task"("status");',
        "create unique index concurrently if not exists coupons_code_key on coupons (code);",
        # ON ONLY a partitioned parent builds nothing: the partitions' indexes are built
        # concurrently and attached.
        "create index events_created_at_idx on only events (created_at);",
    ],
)
def test_safe_forms_are_quiet(sql: str) -> None:
    assert run(sql) == []


def test_index_on_materialized_view_is_quiet() -> None:
    history = ("create materialized view order_totals as select 1 as customer_id;",)
    assert run("create index order_totals_idx on order_totals (customer_id);", history) == []


def test_each_statement_is_judged() -> None:
    sql = (
        'CREATE INDEX "Task_projectId_idx" ON "Task"("projectId");\n'
        'CREATE TABLE "Tag" ("id" TEXT NOT NULL);\n'
        'CREATE INDEX "Tag_id_idx" ON "Tag"("id");\n'
        "  create index coupons_code_idx on coupons (code);\n"
    )
    assert where(run(sql), R) == [(1, 1), (4, 3)]


def test_if_not_exists_of_an_existing_index_is_a_no_op() -> None:
    history = (TASK, 'CREATE INDEX "Task_status_idx" ON "Task"("status");')
    sql = 'CREATE INDEX IF NOT EXISTS "Task_status_idx" ON "Task"("status");'
    assert run(sql, history=history) == []
    assert where(run(sql), R) == [(1, 1)]


def test_cleanup_advice_names_the_index_in_its_tables_schema() -> None:
    """CREATE INDEX puts the index in the table's schema: dropping a leftover INVALID index
    by its bare name fails when that schema is not on the search_path."""
    findings = lint_sql(
        "CREATE INDEX IF NOT EXISTS es_wm ON eventstore.events (instance_id, created_at);",
        history=[
            "CREATE SCHEMA eventstore; CREATE TABLE eventstore.events (instance_id text, created_at timestamptz);"
        ],
        rules=["non-concurrent-index"],
    )
    assert where(findings, "non-concurrent-index") == [(1, 1)]
    assert "DROP INDEX CONCURRENTLY eventstore.es_wm;" in findings[0].help


EVENTS = (
    "create table events (id bigint, created_at timestamptz) partition by range (created_at);",
    "create table events_2024 partition of events "
    "for values from ('2024-01-01') to ('2025-01-01');",
)


def test_partitioned_parent_advice_does_not_lead_with_concurrently() -> None:
    # PostgreSQL refuses CREATE INDEX CONCURRENTLY on a partitioned table (verified in
    # tests/live/test_live_transaction_facts.py).
    sql = "CREATE INDEX events_created_at_idx ON events (created_at);"
    findings = lint_sql(sql, history=list(EVENTS), rules=[R])
    assert where(findings, R) == [(1, 1)]
    help_ = findings[0].help
    assert help_.startswith('"events" is partitioned, and PostgreSQL cannot build an index')
    assert "    CREATE INDEX events_created_at_idx ON ONLY events (created_at);" in help_
    assert "    ALTER INDEX events_created_at_idx ATTACH PARTITION <partition>_idx;" in help_
    assert "CONCURRENTLY events_created_at_idx" not in help_


def test_partitioned_parent_in_lower_case_keeps_the_case() -> None:
    sql = "create index if not exists events_at on events using btree (created_at);"
    help_ = lint_sql(sql, history=list(EVENTS), rules=[R])[0].help
    assert "    create index if not exists events_at on only events using btree" in help_


def test_a_partition_itself_gets_the_concurrent_advice() -> None:
    sql = "create index events_2024_at on events_2024 (created_at);"
    help_ = lint_sql(sql, history=list(EVENTS), rules=[R])[0].help
    assert help_.startswith("Build the index without blocking writes")
    # The table is known and not partitioned: no partitioned-table note.
    assert "partitioned" not in help_


def test_unknown_table_mentions_the_partitioned_case_last() -> None:
    help_ = lint_sql("create index t_a on unknown_t (a);", rules=[R])[0].help
    assert help_.startswith("Build the index without blocking writes")
    assert help_.endswith("then ALTER INDEX … ATTACH PARTITION each one.")


def test_partitioned_advice_inserts_only_once() -> None:
    sql = "CREATE INDEX events_note_idx ON events (created_at) WHERE kind = 'turn on alarm';"
    help_ = lint_sql(sql, history=list(EVENTS), rules=[R])[0].help
    assert (
        "    CREATE INDEX events_note_idx ON ONLY events (created_at) WHERE kind = 'turn on alarm';"
        in help_
    )


def test_on_only_is_not_slow_work_under_a_held_lock() -> None:
    # ON ONLY builds nothing (the parent's index stays invalid until partitions attach),
    # so holding ACCESS EXCLUSIVE across it is not a long hold; a real build is.
    quiet = (
        "begin;\nalter table events add column note text;\n"
        "create index events_at_idx on only events (created_at);\ncommit;\n"
    )
    assert lint_sql(quiet, history=list(EVENTS), rules=["hold-exclusive-lock"]) == []
    loud = quiet.replace("on only events", "on events")
    findings = lint_sql(loud, history=list(EVENTS), rules=["hold-exclusive-lock"])
    assert [f.line for f in findings] == [2]
    assert 'builds index "events_at_idx" on "events"' in findings[0].message
