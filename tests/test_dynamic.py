"""migcheck.dynamic: the SQL that DO blocks and PL/pgSQL bodies run, read statically."""

from __future__ import annotations

import pytest

from migcheck.dynamic import analyse_body, embedded_statements, extract_literal_sql
from migcheck.sources import Migration
from migcheck.statements import load_statements

# -- bare statements in DO blocks ----------------------------------------------------------


def test_bare_ddl_with_exception_guard() -> None:
    body = "$$ BEGIN ALTER TABLE t DROP COLUMN c; EXCEPTION WHEN undefined_column THEN NULL; END $$"
    assert extract_literal_sql(body) == (["ALTER TABLE t DROP COLUMN c"], False)


def test_rails_style_if_not_exists_constraint_guard() -> None:
    body = """$$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_constraint WHERE conname = 'fk_rails_orders_user_id'
  ) THEN
    ALTER TABLE "orders" ADD CONSTRAINT "fk_rails_orders_user_id"
      FOREIGN KEY ("user_id") REFERENCES "users" ("id");
  END IF;
END
$$"""
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == [
        'ALTER TABLE "orders" ADD CONSTRAINT "fk_rails_orders_user_id"\n'
        '      FOREIGN KEY ("user_id") REFERENCES "users" ("id")'
    ]
    assert dynamic is False


def test_prisma_style_duplicate_object_guard() -> None:
    # What people write by hand around Prisma's generated constraint to make it re-runnable.
    body = """$$ BEGIN
    ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
EXCEPTION
    WHEN duplicate_object THEN null;
END $$"""
    sqls, dynamic = extract_literal_sql(body)
    assert len(sqls) == 1 and sqls[0].startswith('ALTER TABLE "Post" ADD CONSTRAINT')
    assert sqls[0].endswith("ON UPDATE CASCADE")
    assert not dynamic


def test_django_style_create_type_guard_and_elsif_else() -> None:
    body = """$do$
DECLARE
    n integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'status') THEN
        CREATE TYPE status AS ENUM ('a', 'b');
    ELSIF n > 1 THEN
        RAISE NOTICE 'skipping';
    ELSE
        ALTER TYPE status ADD VALUE IF NOT EXISTS 'c';
    END IF;
END
$do$"""
    sqls, _ = extract_literal_sql(body)
    assert sqls == [
        "CREATE TYPE status AS ENUM ('a', 'b')",
        "ALTER TYPE status ADD VALUE IF NOT EXISTS 'c'",
    ]


def test_nested_blocks_loops_case_and_labels() -> None:
    body = """$$
<<outer>>
DECLARE
  r record;
BEGIN
  FOR r IN SELECT id FROM accounts WHERE legacy LOOP
    UPDATE accounts SET plan = 'free' WHERE id = r.id;
  END LOOP;
  CASE current_setting('server_version_num')::int >= 110000
    WHEN true THEN CREATE INDEX accounts_plan_idx ON accounts (plan);
    ELSE NULL;
  END CASE;
  BEGIN
    DROP INDEX old_idx;
  EXCEPTION WHEN undefined_object THEN
    RAISE NOTICE 'no index';
  END;
  WHILE false LOOP
    LOCK TABLE accounts IN SHARE MODE;
  END LOOP;
END outer
$$"""
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == [
        "UPDATE accounts SET plan = 'free' WHERE id = r.id",
        "CREATE INDEX accounts_plan_idx ON accounts (plan)",
        "DROP INDEX old_idx",
        "LOCK TABLE accounts IN SHARE MODE",
    ]
    assert not dynamic


def test_data_only_block_keeps_dml_and_nothing_else() -> None:
    body = """$$
DECLARE
  done bigint;
BEGIN
  PERFORM pg_advisory_lock(42);
  SELECT count(*) INTO done FROM users;
  RAISE NOTICE 'ALTER TABLE users happens later: %', done;
  INSERT INTO audit (note) VALUES ('backfill');
  DELETE FROM sessions WHERE expires_at < now();
END $$"""
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == [
        "INSERT INTO audit (note) VALUES ('backfill')",
        "DELETE FROM sessions WHERE expires_at < now()",
    ]
    assert not dynamic


def test_comments_and_strings_do_not_split_or_leak() -> None:
    body = """$$
BEGIN
  -- ALTER TABLE commented_out DROP COLUMN x;
  /* DROP TABLE also_commented; /* nested */ still comment; */
  UPDATE t SET note = 'a; DROP TABLE not_a_statement' WHERE id = 1;
  UPDATE t SET note = $q$ b; c $q$ WHERE id = 2;
END $$"""
    sqls, _ = extract_literal_sql(body)
    assert sqls == [
        "UPDATE t SET note = 'a; DROP TABLE not_a_statement' WHERE id = 1",
        "UPDATE t SET note = $q$ b; c $q$ WHERE id = 2",
    ]


def test_if_condition_with_case_expression_then() -> None:
    body = (
        "$$ BEGIN IF CASE WHEN 1 = 1 THEN true ELSE false END THEN "
        "ALTER TABLE t ADD COLUMN c int; END IF; END $$"
    )
    assert extract_literal_sql(body)[0] == ["ALTER TABLE t ADD COLUMN c int"]


def test_set_lock_timeout_inside_block_is_kept() -> None:
    body = "$$ BEGIN SET LOCAL lock_timeout = '2s'; ALTER TABLE t ADD c int; END $$"
    assert extract_literal_sql(body)[0] == [
        "SET LOCAL lock_timeout = '2s'",
        "ALTER TABLE t ADD c int",
    ]


def test_compiler_directive_is_skipped() -> None:
    body = "$$\n#variable_conflict use_column\nBEGIN ALTER TABLE t ADD c int; END $$"
    assert extract_literal_sql(body)[0] == ["ALTER TABLE t ADD c int"]


# -- EXECUTE --------------------------------------------------------------------------------


def test_execute_literal_with_doubled_quotes() -> None:
    body = "$$ BEGIN EXECUTE 'ALTER TABLE t ADD COLUMN n text DEFAULT ''x'''; END $$"
    assert extract_literal_sql(body) == (["ALTER TABLE t ADD COLUMN n text DEFAULT 'x'"], False)


def test_single_quoted_do_body_has_quotes_doubled_twice() -> None:
    # DO '...' itself is a string, so the literal inside doubles its quotes once more.
    body = "'BEGIN EXECUTE ''ALTER TABLE t ADD COLUMN n text DEFAULT ''''x''''''; END'"
    assert extract_literal_sql(body) == (["ALTER TABLE t ADD COLUMN n text DEFAULT 'x'"], False)
    assert analyse_body(body).code_offset == -1


def test_language_clause_before_or_after() -> None:
    for body in (
        "LANGUAGE plpgsql $$ BEGIN EXECUTE 'DROP INDEX i'; END $$",
        "$body$ BEGIN EXECUTE 'DROP INDEX i'; END $body$ LANGUAGE plpgsql",
    ):
        assert extract_literal_sql(body) == (["DROP INDEX i"], False)


def test_execute_dollar_quoted_and_escape_string_literals() -> None:
    body = "$$ BEGIN EXECUTE $sql$ALTER TABLE t ADD c text DEFAULT 'a'$sql$; EXECUTE E'DROP INDEX \\'i\\''; END $$"
    # E'...' with \' is not valid as an index name, but shows the unescaping.
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == ["ALTER TABLE t ADD c text DEFAULT 'a'", "DROP INDEX 'i'"]
    assert not dynamic


def test_execute_concatenation_of_literals_and_quote_functions() -> None:
    body = (
        "$$ BEGIN EXECUTE 'ALTER TABLE ' || quote_ident('User') || ' ADD COLUMN ' "
        "|| quote_ident('nick') || ' text DEFAULT ' || quote_literal('it''s'); END $$"
    )
    assert extract_literal_sql(body) == (
        ["ALTER TABLE \"User\" ADD COLUMN nick text DEFAULT 'it''s'"],
        False,
    )


def test_execute_format_with_literal_arguments_is_resolved() -> None:
    body = """$$ BEGIN
  EXECUTE format('ALTER TABLE %I ADD COLUMN %I int DEFAULT %L', 'users', 'Age', '7');
  EXECUTE format('CREATE INDEX %2$s ON %1$I (x); -- 100%%', 'order', 'idx');
  EXECUTE format('DROP INDEX old_idx');
END $$"""
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == [
        "ALTER TABLE users ADD COLUMN \"Age\" int DEFAULT '7'",
        'CREATE INDEX idx ON "order" (x); -- 100%',
        "DROP INDEX old_idx",
    ]
    assert not dynamic


def test_execute_into_and_using_clauses_are_not_part_of_the_sql() -> None:
    body = """$$ DECLARE n int; BEGIN
  EXECUTE 'SELECT count(*) FROM t WHERE x = $1' INTO n USING 3;
  EXECUTE 'UPDATE t SET y = $1' USING n;
END $$"""
    assert extract_literal_sql(body) == (
        ["SELECT count(*) FROM t WHERE x = $1", "UPDATE t SET y = $1"],
        False,
    )


def test_execute_of_variable_assigned_once_is_resolved() -> None:
    body = """LANGUAGE plpgsql $$
DECLARE
  ddl text := 'ALTER TABLE a DROP COLUMN b';
  idx CONSTANT text DEFAULT 'CREATE INDEX ON a (c)';
BEGIN
  EXECUTE ddl;
  EXECUTE idx;
END $$"""
    assert extract_literal_sql(body) == (
        ["ALTER TABLE a DROP COLUMN b", "CREATE INDEX ON a (c)"],
        False,
    )


def test_execute_of_variable_assigned_in_body_then_reassigned_is_dynamic() -> None:
    body = """$$ DECLARE cmd text; BEGIN
  cmd := 'ALTER TABLE a ADD x int';
  EXECUTE cmd;
  cmd := 'ALTER TABLE b ADD x int';
  EXECUTE cmd;
END $$"""
    sqls, dynamic = extract_literal_sql(body)
    assert sqls == []
    assert dynamic is True


def test_dynamic_alter_table_with_quote_ident_of_a_variable() -> None:
    body = """$$
DECLARE
  t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' LOOP
    EXECUTE 'ALTER TABLE ' || quote_ident(t) || ' ADD COLUMN tenant_id bigint';
  END LOOP;
END
$$"""
    analysis = analyse_body(body)
    assert analysis.statements == []
    [d] = analysis.dynamic
    assert d.verb == "ALTER TABLE" and d.ddl is True and d.line == 6
    assert d.text == "'ALTER TABLE ' || quote_ident(t) || ' ADD COLUMN tenant_id bigint'"
    assert extract_literal_sql(body) == ([], True)


def test_dynamic_format_with_run_time_argument() -> None:
    body = "$$ BEGIN EXECUTE format('CREATE INDEX CONCURRENTLY %I ON t (x)', name); END $$"
    analysis = analyse_body(body)
    assert [(d.verb, d.ddl) for d in analysis.dynamic] == [("CREATE INDEX CONCURRENTLY", True)]
    assert extract_literal_sql(body) == ([], True)


def test_execute_of_query_result_is_unknown_and_counts_as_dynamic() -> None:
    for body in (
        "$$ DECLARE r record; BEGIN FOR r IN SELECT cmd FROM pending LOOP EXECUTE r.cmd; END LOOP; END $$",
        "$$ DECLARE cmd text := 'SELECT 1'; BEGIN SELECT c INTO cmd FROM q; EXECUTE cmd; END $$",
    ):
        analysis = analyse_body(body)
        assert [d.ddl for d in analysis.dynamic] == [None]
        assert extract_literal_sql(body) == ([], True)


@pytest.mark.parametrize(
    "execute",
    [
        "format('INSERT INTO %I.%I VALUES ($1.*)', tg_table_schema, tg_table_name) USING NEW",
        "'UPDATE ' || quote_ident(tbl) || ' SET done = true'",
        "'DELETE FROM ' || tbl",
        "'SELECT count(*) FROM ' || tbl INTO n",
        "'GRANT SELECT ON ' || quote_ident(tbl) || ' TO reporting'",
        "format('COMMENT ON TABLE %I IS %L', tbl, 'archived')",
        "'ANALYZE ' || tbl",
    ],
)
def test_dynamic_data_work_is_not_opaque_ddl(execute: str) -> None:
    body = (
        f"$$ DECLARE n int; tbl text := current_setting('app.t'); BEGIN EXECUTE {execute}; END $$"
    )
    analysis = analyse_body(body)
    assert len(analysis.dynamic) == 1 and analysis.dynamic[0].ddl is False
    assert extract_literal_sql(body) == ([], False)


def test_call_of_run_time_procedure_is_unknown() -> None:
    body = "$$ BEGIN EXECUTE 'CALL ' || current_setting('app.proc') || '()'; END $$"
    assert [d.ddl for d in analyse_body(body).dynamic] == [None]
    assert extract_literal_sql(body) == ([], True)


def test_function_body_without_execute() -> None:
    # A trigger function body, as the tokenizer hands it over (no $$).
    body = "\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n"
    assert extract_literal_sql(body) == ([], False)


def test_other_language_is_opaque_only_when_it_shows_ddl() -> None:
    assert extract_literal_sql(
        "LANGUAGE plpython3u $$ plpy.execute('ALTER TABLE t ADD x int') $$"
    ) == ([], True)
    assert extract_literal_sql("LANGUAGE plpython3u $$ plpy.notice('hi') $$") == ([], False)


def test_unterminated_body_does_not_raise() -> None:
    # The splitter reports the broken file; here nothing is extracted and nothing raises.
    assert extract_literal_sql("$$ BEGIN EXECUTE 'ALTER TABLE t") == ([], False)
    assert extract_literal_sql("$$ BEGIN EXECUTE format('%") == ([], False)
    assert extract_literal_sql("$$ BEGIN IF x THEN") == ([], False)


def test_format_width_specifier_is_not_guessed() -> None:
    body = "$$ BEGIN EXECUTE format('ALTER TABLE %10s ADD c int', 'a'); END $$"
    assert extract_literal_sql(body) == ([], True)


# -- statements for the engine -----------------------------------------------------------


def _statements(sql: str) -> list:
    stmts, _ = load_statements(Migration(path="m.sql", key="1", tool="sql", text=sql))
    return stmts


def test_embedded_statements_take_the_do_span_and_parse() -> None:
    sql = (
        "SELECT 1;\n"
        "DO $$\nBEGIN\n  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'fk') THEN\n"
        "    ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);\n"
        "  END IF;\n  EXECUTE 'CREATE INDEX orders_user_idx ON orders (user_id)';\nEND $$;\n"
    )
    do = _statements(sql)[1]
    inner = embedded_statements(do)
    assert [s.ops[0].kind for s in inner] == ["add_constraint", "create_index"]
    assert all(s.span == do.span for s in inner)
    assert all(op.offset == -1 for s in inner for op in s.ops)
    assert inner[0].ops[0].table == "orders" and inner[0].ops[0].constraint.kind == "foreign_key"
    assert inner[1].ops[0].name == "orders_user_idx" and not inner[1].ops[0].concurrently
    assert inner[0].comment_lines == do.comment_lines


def test_embedded_statements_of_function_keep_only_ddl_and_skip_temp_tables() -> None:
    sql = (
        "CREATE OR REPLACE FUNCTION add_flag() RETURNS void LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  CREATE TEMP TABLE scratch (id int);\n"
        "  UPDATE counters SET n = n + 1;\n"
        "  ALTER TABLE accounts ADD COLUMN IF NOT EXISTS flag boolean;\n"
        "END $fn$;\n"
    )
    fn = _statements(sql)[0]
    inner = embedded_statements(fn)
    assert [(s.ops[0].kind, s.ops[0].table) for s in inner] == [("add_column", "accounts")]


def test_embedded_statements_of_plain_statement_is_empty() -> None:
    assert embedded_statements(_statements("ALTER TABLE t ADD c int;")[0]) == []
    assert embedded_statements(_statements("DO $$ BEGIN RAISE NOTICE 'x'; END $$;")[0]) == []


# -- the engine wiring, simulated as statements.py will do it ----------------------------


def test_rules_see_ddl_inside_do_blocks_at_the_do_position() -> None:
    from helpers import lint_sql, where

    long = "c" * 64
    sql = (
        "SELECT 1;\n"
        "DO $$\nBEGIN\n"
        "  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE column_name = 'x') THEN\n"
        f"    EXECUTE 'ALTER TABLE users ADD COLUMN {long} varchar(20)';\n"
        "  END IF;\n"
        "END $$;\n"
    )
    rules = ["identifier-too-long", "prefer-text", "opaque-ddl", "missing-lock-timeout"]
    findings = lint_sql(sql, history=["create table users (id bigint);"], rules=rules)
    # Everything found inside the block is reported at the DO statement (line 2, column 1).
    assert sorted(f.rule for f in findings) == [
        "identifier-too-long",
        "missing-lock-timeout",
        "prefer-text",
    ]
    assert {(f.line, f.column) for f in findings} == {(2, 1)}
    assert where(findings, "opaque-ddl") == []


def test_schema_sees_columns_added_in_do_blocks() -> None:
    from helpers import lint_history, make_history

    history = make_history(
        [
            "create table users (id bigint);",
            "DO $$ BEGIN ALTER TABLE users ADD COLUMN nick text; "
            "EXCEPTION WHEN duplicate_column THEN NULL; END $$;",
            "alter table users drop column nick;",
        ],
        selected=[False, True, True],
    )
    result = lint_history(history, rules=["contract-in-same-deploy"], changeset=True)
    assert [(f.path, f.line) for f in result.findings] == [("migrations/003_m.sql", 1)]
