"""opaque-ddl: DO blocks and PL/pgSQL functions that EXECUTE DDL built at run time."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids

R = "opaque-ddl"


def run(sql: str, **kw: object) -> list:
    return lint_sql(sql, rules=[R], **kw)


def test_loop_over_tables_with_quote_ident() -> None:
    sql = (
        "-- add tenant_id everywhere\n"
        "DO $$\n"
        "DECLARE\n"
        "  t text;\n"
        "BEGIN\n"
        "  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP\n"
        "    EXECUTE 'ALTER TABLE ' || quote_ident(t) || ' ADD COLUMN tenant_id bigint';\n"
        "  END LOOP;\n"
        "END\n"
        "$$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message.startswith("The DO block at line 2 runs `EXECUTE 'ALTER TABLE ' ||")
    assert "at line 7" in f.message
    assert "cannot check the ALTER TABLE it runs" in f.message
    assert "SET lock_timeout = '2s';" in f.help
    assert "RAISE NOTICE" in f.help


def test_format_with_run_time_table_name() -> None:
    sql = (
        "do $$\nbegin\n"
        "  perform 1;\n"
        "  execute format('create index concurrently %I on %I (created_at)', "
        "'idx_' || current_setting('app.part'), current_setting('app.part'));\n"
        "end $$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert "CREATE INDEX CONCURRENTLY" in findings[0].message
    assert "at line 4" in findings[0].message


def test_execute_of_generated_commands_is_unknown_but_flagged() -> None:
    sql = (
        "ALTER TABLE users ADD COLUMN note text;\n"
        "DO $$ DECLARE r record; BEGIN\n"
        "  FOR r IN SELECT 'DROP TABLE ' || quote_ident(tablename) AS cmd FROM pg_tables\n"
        "           WHERE tablename LIKE 'tmp_%' LOOP\n"
        "    EXECUTE r.cmd;\n"
        "  END LOOP;\n"
        "END $$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    assert "`EXECUTE r.cmd` at line 5" in findings[0].message
    assert "whether it changes the schema at all" in findings[0].message


def test_counts_further_dynamic_statements() -> None:
    sql = (
        "DO $$ BEGIN\n"
        "  EXECUTE 'ALTER TABLE ' || tbl() || ' ADD a int';\n"
        "  EXECUTE 'ALTER TABLE ' || tbl() || ' ADD b int';\n"
        "END $$;"
    )
    assert "(and 1 more)" in run(sql)[0].message


def test_function_building_ddl() -> None:
    sql = (
        "CREATE OR REPLACE FUNCTION create_month_partition(d date) RETURNS void\n"
        "LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES "
        "FROM (%L) TO (%L)', 'events_' || to_char(d, 'YYYYMM'), d, d + interval '1 month');\n"
        "END\n"
        "$fn$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    assert findings[0].message.startswith(
        'Function "create_month_partition" (line 1) runs, when called,'
    )
    assert "at line 4" in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        # data work only
        "DO $$ BEGIN UPDATE users SET plan = 'free' WHERE plan IS NULL; "
        "RAISE NOTICE 'done'; PERFORM pg_sleep(0.1); END $$;",
        # literal DDL: linted by the other rules instead
        "DO $$ BEGIN EXECUTE 'ALTER TABLE users ADD COLUMN note text'; END $$;",
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'mood') THEN "
        "CREATE TYPE mood AS ENUM ('ok'); END IF; END $$;",
        "DO $$ BEGIN EXECUTE format('ALTER TABLE %I ADD COLUMN %I int', 'users', 'age'); END $$;",
        "DO $$ DECLARE ddl text := 'DROP INDEX IF EXISTS old_idx'; BEGIN EXECUTE ddl; END $$;",
        # dynamic, but data work
        "DO $$ DECLARE t text; BEGIN FOR t IN SELECT tablename FROM pg_tables LOOP "
        "EXECUTE format('UPDATE %I SET updated_at = now() WHERE updated_at IS NULL', t); "
        "END LOOP; END $$;",
        # a trigger function: no EXECUTE
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "NEW.updated_at := now(); RETURN NEW; END $$;",
        # an audit trigger: dynamic INSERT
        "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN EXECUTE "
        "format('INSERT INTO audit.%I SELECT $1.*', TG_TABLE_NAME) USING NEW; RETURN NEW; "
        "END $$;",
        # a helper that runs whatever its caller passes: not visibly DDL
        "CREATE FUNCTION run_sql(q text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN "
        "EXECUTE q; END $$;",
    ],
)
def test_silent(sql: str) -> None:
    assert run(sql) == []


def test_single_quoted_do_body_points_at_statement_line() -> None:
    sql = "SELECT 1;\nDO 'BEGIN EXECUTE ''DROP TABLE '' || quote_ident(current_user); END';\n"
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    # The body is not written verbatim (its quotes are doubled): the DO's own line is named.
    assert "at line 2" in findings[0].message


def test_on_by_default() -> None:
    assert R in default_rule_ids()


def test_roles_and_privileges_built_at_run_time_are_not_opaque_ddl() -> None:
    # Installer-style migrations create roles named by a setting: no table is locked.
    sql = (
        "DO $$\n"
        "DECLARE r text = coalesce(current_setting('app.role', true), 'anon');\n"
        "BEGIN\n"
        "  EXECUTE 'CREATE ROLE ' || r || ' NOLOGIN';\n"
        "  EXECUTE 'GRANT USAGE ON SCHEMA app TO ' || r;\n"
        "  EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT ALL ON TABLES TO ' || r;\n"
        "  EXECUTE format('ALTER ROLE %I SET search_path = app', r);\n"
        "END $$;\n"
    )
    assert lint_sql(sql, rules=["opaque-ddl"]) == []


def test_role_statements_do_not_hide_a_table_change_in_the_same_block() -> None:
    sql = (
        "DO $$\n"
        "DECLARE r text = current_setting('app.owner');\n"
        "BEGIN\n"
        "  EXECUTE 'CREATE USER ' || r;\n"
        "  EXECUTE 'ALTER TABLE app.items OWNER TO ' || r;\n"
        "END $$;\n"
    )
    findings = lint_sql(sql, rules=["opaque-ddl"])
    assert where(findings, "opaque-ddl") == [(1, 1)]
    assert "at line 5" in findings[0].message and "ALTER TABLE" in findings[0].message


def _partition_loop(parent: str) -> str:
    return (
        "DO $$\n"
        "DECLARE r record;\n"
        "BEGIN\n"
        "  FOR r IN SELECT id FROM workspaces LOOP\n"
        "    EXECUTE format('CREATE TABLE IF NOT EXISTS search.docs_%s PARTITION OF "
        f"{parent} FOR VALUES IN (%L)', md5(r.id), r.id);\n"
        "  END LOOP;\n"
        "END $$;\n"
    )


def test_partitions_of_a_parent_created_in_this_migration_are_not_opaque() -> None:
    sql = "CREATE TABLE search.docs (ws text, body text) PARTITION BY LIST (ws);\n"
    assert run(sql + _partition_loop("search.docs")) == []


def test_partitions_of_a_parent_the_app_uses_stay_opaque() -> None:
    history = ["CREATE TABLE search.docs (ws text, body text) PARTITION BY LIST (ws);"]
    findings = run(_partition_loop("search.docs"), history=history)
    assert where(findings, R) == [(1, 1)]
    assert "CREATE TABLE" in findings[0].message


def test_run_time_create_table_that_references_another_table_stays_opaque() -> None:
    sql = (
        "DO $$\n"
        "DECLARE t text = current_setting('app.tenant');\n"
        "BEGIN\n"
        "  EXECUTE format('CREATE TABLE %I (id int REFERENCES accounts (id))', t);\n"
        "END $$;\n"
    )
    assert where(run(sql), R) == [(1, 1)]


def test_a_single_quoted_body_is_placed_at_its_statement() -> None:
    # The body PostgreSQL runs is not the file's text (quotes are doubled in it), so no
    # line inside it can be trusted: the statement's own line is named.
    sql = (
        "select 1;\n"
        "CREATE FUNCTION add_col(t text) RETURNS void LANGUAGE plpgsql AS '\n"
        "BEGIN\n"
        "  RAISE NOTICE ''adding'';\n"
        "  EXECUTE ''ALTER TABLE '' || t || '' ADD COLUMN note text'';\n"
        "END';"
    )
    findings = lint_sql(sql, rules=["opaque-ddl"])
    assert [(f.line, f.column) for f in findings] == [(2, 1)]
    assert findings[0].message.startswith(
        'Function "add_col" (line 2) runs, when called, '
        "`EXECUTE 'ALTER TABLE ' || t || ' ADD COLUMN note text'` at line 2: SQL built"
    )


def test_a_quoted_parent_created_in_this_migration_is_recognised() -> None:
    sql = 'CREATE TABLE search."Docs" (ws text, body text) PARTITION BY LIST (ws);\n'
    assert run(sql + _partition_loop('search."Docs"')) == []


def test_the_first_of_several_executes_is_named_and_long_sql_is_shortened() -> None:
    long_tail = "ADD COLUMN note_for_the_support_team_about_this_customer text DEFAULT ''''"
    sql = (
        "DO $$\nDECLARE t text = current_setting('app.table');\nBEGIN\n"
        f"  EXECUTE 'ALTER TABLE ' || t || ' {long_tail}';\n"
        "  EXECUTE 'DROP TABLE ' || t || '_old';\n"
        "END $$;\n"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1)]
    shown = f"'ALTER TABLE ' || t || ' {long_tail}'"[:79] + "…"
    assert f"`EXECUTE {shown}` at line 4 (and 1 more): SQL built" in findings[0].message
