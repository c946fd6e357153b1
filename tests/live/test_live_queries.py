"""Live check: app queries against the base and the migrated schema, on a real server."""

from __future__ import annotations

import json

from migcheck.live import run_live, to_findings

USERS = "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text);"


def test_drop_column_breaks_old_select(make_history, write_queries, dsn):
    hist = make_history([USERS], ["ALTER TABLE users DROP COLUMN name;"])
    old = write_queries(
        "old.sql", "SELECT id, email FROM users;\nSELECT id, name FROM users WHERE id = $1;\n"
    )
    result = run_live([hist], old_queries=[old], dsn=dsn)

    assert result.queries_checked == 2
    assert len(result.broken_queries) == 1
    problem = result.broken_queries[0]
    assert problem.query.line == 2
    assert problem.error.sqlstate == "42703"
    assert 'column "name" does not exist' in problem.error.message
    assert problem.broken_by is not None
    assert problem.broken_by.text == "ALTER TABLE users DROP COLUMN name"
    assert problem.broken_by.path == hist.migrations[1].path
    finding = next(f for f in to_findings(result) if f.rule == "live-query-broken")
    assert finding.severity == "error"
    assert finding.path == hist.migrations[1].path
    assert "old.sql:2" in finding.message


def test_required_column_breaks_old_insert(make_history, write_queries, dsn):
    hist = make_history(
        [USERS],
        [
            "ALTER TABLE users ADD COLUMN created_at timestamptz DEFAULT now();\n"
            "ALTER TABLE users ADD COLUMN tenant_id bigint NOT NULL;"
        ],
    )
    old = write_queries("old.sql", "INSERT INTO users (email, name) VALUES ($1, $2);")
    new = write_queries("new.sql", "INSERT INTO users (email, tenant_id) VALUES ($1, $2);")
    result = run_live([hist], old_queries=[old], new_queries=[new], dsn=dsn)

    [problem] = result.broken_queries
    assert problem.query.version == "old"
    assert problem.error.stage == "execute"
    assert problem.error.sqlstate == "23502"
    assert "tenant_id" in problem.error.message
    # The first statement (a column with a default) did not break it; the second did.
    assert problem.broken_by is not None and problem.broken_by.line == 2
    # The new app's INSERT uses the new column: it needs the migration first.
    assert [p.query.version for p in result.needs_migration] == ["new"]


def test_rename_breaks_both_versions(make_history, write_queries, dsn):
    hist = make_history([USERS], ["ALTER TABLE users RENAME COLUMN email TO email_address;"])
    old = write_queries("old.sql", "SELECT id, email FROM users WHERE email = $1;")
    new = write_queries("new.sql", "SELECT id, email_address FROM users WHERE email_address = $1;")
    result = run_live([hist], old_queries=[old], new_queries=[new], dsn=dsn)

    [broken] = result.broken_queries
    assert broken.query.version == "old" and broken.error.sqlstate == "42703"
    [needs] = result.needs_migration
    assert needs.query.version == "new" and needs.against == "base"
    assert result.no_safe_deploy_order
    rules = {f.rule: f.severity for f in to_findings(result)}
    assert rules["live-query-broken"] == "error"
    assert rules["live-query-needs-migration"] == "warning"


def test_query_already_failing_on_base_is_the_query_files_fault(make_history, write_queries, dsn):
    hist = make_history([USERS], ["ALTER TABLE users ADD COLUMN age int;"])
    old = write_queries(
        "old.sql", "SELECT nickname FROM users;\nINSERT INTO users (name) VALUES ($1);"
    )
    result = run_live([hist], old_queries=[old], dsn=dsn)

    assert not result.broken_queries
    assert {p.query.line for p in result.invalid_queries} == {1, 2}
    rules = sorted((f.rule, f.severity) for f in to_findings(result))
    # ADD COLUMN takes ACCESS EXCLUSIVE only briefly: worth knowing, not a warning.
    assert rules == [
        ("live-lock", "info"),
        ("live-query-invalid", "warning"),
        ("live-query-invalid", "warning"),
    ]


def test_pg_stat_statements_csv(make_history, write_queries, dsn):
    hist = make_history(
        ["CREATE TABLE orders (id bigserial PRIMARY KEY, status text NOT NULL, total numeric);"],
        ["ALTER TABLE orders DROP COLUMN total;"],
    )
    csv_text = (
        "userid,dbid,queryid,calls,query\n"
        '10,5,111,42,"SELECT id, status FROM orders WHERE id = $1"\n'
        '10,5,112,7,"SELECT sum(total) FROM orders\n WHERE status = $1"\n'
        "10,5,113,1,BEGIN\n"
        '10,5,114,3,"UPDATE orders SET status = $1 WHERE id = $2"\n'
    )
    old = write_queries("pg_stat_statements.csv", csv_text)
    result = run_live([hist], old_queries=[old], dsn=dsn)

    assert result.queries_checked == 3
    assert [q.text for q, _ in result.skipped_queries] == ["BEGIN"]
    [problem] = result.broken_queries
    assert problem.query.source == "pg_stat_statements"
    assert "sum(total)" in problem.query.text
    assert problem.query.line == 3
    assert problem.error.sqlstate == "42703"


def test_pg_stat_statements_json_and_bad_files(make_history, write_queries, dsn):
    hist = make_history([USERS], ["ALTER TABLE users DROP COLUMN email;"])
    good = write_queries("export.json", json.dumps([{"query": "SELECT email FROM users"}]))
    no_column = write_queries("bad.csv", "calls,text\n1,SELECT 1\n")
    missing = str(hist.migrations[0].path) + ".nope.sql"
    result = run_live([hist], old_queries=[good, no_column, missing], dsn=dsn)

    assert len(result.broken_queries) == 1
    messages = " | ".join(e.message for e in result.input_errors)
    assert "no 'query' column" in messages
    assert "cannot read query file" in messages


def test_statement_timeout_and_failed_changeset(make_history, dsn):
    hist = make_history([USERS], ["SELECT pg_sleep(5);"])
    result = run_live([hist], dsn=dsn, statement_timeout_s=0.3)

    failure = result.histories[0].failure
    assert failure is not None and not failure.in_base
    assert failure.sqlstate == "57014"
    assert "timeout" in failure.message
    assert [f.rule for f in to_findings(result)] == ["live-migration-failed"]


def test_base_failure_is_reported_not_raised(make_history, dsn):
    hist = make_history(
        ["CREATE TABLE t (id int);", "ALTER TABLE missing ADD COLUMN x int;"], ["SELECT 1;"]
    )
    result = run_live([hist], dsn=dsn)

    failure = result.histories[0].failure
    assert failure is not None and failure.in_base
    assert failure.path == hist.migrations[1].path
    assert 'relation "missing" does not exist' in failure.message
