"""The SQL rewrites of ``migcheck.fixes.sql`` on the findings migcheck reports: each
rewrite on its statement form, paired with the near misses that must get none."""

from __future__ import annotations

import pytest

from helpers import lint_sql
from migcheck.fixes.apply import apply_edits
from migcheck.fixes.model import NEEDS_OWN_MIGRATION, SAFE, Fix
from migcheck.fixes.sql import Where, sql_fixes
from migcheck.sources import Migration
from migcheck.statements import parse

HISTORY = [
    "CREATE TABLE accounts (id int, email text, org_id int);\n"
    "CREATE INDEX accounts_org_idx ON accounts (org_id);\n"
    "CREATE TABLE orgs (id int PRIMARY KEY);\n"
]


def fixes(sql: str, rule: str, *, pg: int = 14, transaction: bool = False) -> list[Fix]:
    """The fixes (not the lock_timeout) of the ``rule`` findings migcheck reports on ``sql``."""
    found = [f for f in lint_sql(sql, history=HISTORY, pg=pg) if f.rule == rule]
    assert found, f"{rule} does not fire on {sql!r}"
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    where = Where(transaction, pg)
    return [
        fix
        for f in found
        for fix in sql_fixes(f, statements, sql, where)
        if "lock_timeout" not in fix.title
    ]


def fixed(sql: str, rule: str, **kw: object) -> str:
    (fix,) = fixes(sql, rule, **kw)  # type: ignore[arg-type]
    return apply_edits(sql, fix.edits)


def test_reindex_of_an_index_or_table_gets_concurrently_from_postgresql_12() -> None:
    assert fixed("REINDEX INDEX accounts_org_idx;\n", "non-concurrent-reindex") == (
        "REINDEX INDEX CONCURRENTLY accounts_org_idx;\n"
    )
    assert fixed("reindex table accounts;\n", "non-concurrent-reindex") == (
        "reindex table CONCURRENTLY accounts;\n"
    )
    # PostgreSQL 11 has no REINDEX CONCURRENTLY; a SCHEMA/DATABASE one skips the system
    # catalogs a plain one rebuilds; options in parentheses are not modelled.
    assert fixes("REINDEX INDEX accounts_org_idx;\n", "non-concurrent-reindex", pg=11) == []
    assert fixes("REINDEX SCHEMA public;\n", "non-concurrent-reindex") == []
    assert fixes("REINDEX (VERBOSE) INDEX accounts_org_idx;\n", "non-concurrent-reindex") == []


def test_in_a_transaction_concurrently_is_shown_as_needing_its_own_migration() -> None:
    sql = "CREATE INDEX accounts_email_idx ON accounts (email);\n"
    (alone,) = fixes(sql, "non-concurrent-index")
    assert (alone.title, alone.applicability) == ("Add CONCURRENTLY", SAFE)
    (inside,) = fixes(sql, "non-concurrent-index", transaction=True)
    assert inside.applicability == NEEDS_OWN_MIGRATION
    assert inside.title == (
        "Add CONCURRENTLY (it cannot run in a transaction: give it a migration of its own)"
    )


def test_set_not_null_goes_through_a_validated_check_that_is_dropped_after() -> None:
    sql = "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
    assert fixed(sql, "set-not-null") == (
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_not_null_check "
        "CHECK (email IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null_check;\n"
        "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
        "ALTER TABLE accounts DROP CONSTRAINT accounts_email_not_null_check;\n"
    )


@pytest.mark.parametrize(
    ("sql", "pg"),
    [
        # Before 12 SET NOT NULL scans even with the CHECK.
        ("ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n", 11),
        # Two actions in one ALTER; IF EXISTS; ONLY: shapes the rewrite does not model.
        ("ALTER TABLE accounts ALTER email SET NOT NULL, ALTER id SET NOT NULL;\n", 14),
        ("ALTER TABLE IF EXISTS accounts ALTER COLUMN email SET NOT NULL;\n", 14),
        ("ALTER TABLE ONLY accounts ALTER COLUMN email SET NOT NULL;\n", 14),
    ],
)
def test_set_not_null_near_misses_get_no_fix(sql: str, pg: int) -> None:
    assert fixes(sql, "set-not-null", pg=pg) == []


def test_unique_and_primary_key_build_their_index_concurrently_first() -> None:
    sql = 'ALTER TABLE accounts ADD CONSTRAINT "Accounts_Email" UNIQUE (email, id);\n'
    (fix,) = fixes(sql, "unique-without-index")
    assert fix.applicability == NEEDS_OWN_MIGRATION  # CONCURRENTLY: never in one file
    assert apply_edits(sql, fix.edits) == (
        'CREATE UNIQUE INDEX CONCURRENTLY "Accounts_Email" ON accounts (email, id);\n'
        'ALTER TABLE accounts ADD CONSTRAINT "Accounts_Email" UNIQUE USING INDEX '
        '"Accounts_Email";\n'
    )
    # Unnamed: the name PostgreSQL would give the constraint.
    assert fixed("ALTER TABLE accounts ADD PRIMARY KEY (id);\n", "unique-without-index") == (
        "CREATE UNIQUE INDEX CONCURRENTLY accounts_pkey ON accounts (id);\n"
        "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX "
        "accounts_pkey;\n"
    )


@pytest.mark.parametrize(
    "sql",
    [
        "ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (email) INCLUDE (id);\n",
        "ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (email) DEFERRABLE;\n",
        "ALTER TABLE accounts ADD CONSTRAINT u UNIQUE NULLS NOT DISTINCT (email);\n",
        "ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (email), ADD COLUMN x int;\n",
        "ALTER TABLE accounts ADD CONSTRAINT u UNIQUE (lower(email));\n",
    ],
)
def test_unique_near_misses_get_no_fix(sql: str) -> None:
    found = [f for f in lint_sql(sql, history=HISTORY, pg=16) if f.rule == "unique-without-index"]
    assert found
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    assert [
        fix
        for f in found
        for fix in sql_fixes(f, statements, sql, Where(False, 16))
        if "lock_timeout" not in fix.title
    ] == []


def test_a_check_split_into_not_valid_and_validate() -> None:
    sql = "ALTER TABLE accounts ADD CONSTRAINT pos CHECK (id > 0);\n"
    assert fixed(sql, "constraint-without-not-valid") == (
        "ALTER TABLE accounts ADD CONSTRAINT pos CHECK (id > 0) NOT VALID;\n"
        "ALTER TABLE accounts VALIDATE CONSTRAINT pos;\n"
    )
    (inside,) = fixes(sql, "constraint-without-not-valid", transaction=True)
    assert inside.title.endswith(
        "(run the VALIDATE in a later migration, outside this one's transaction)"
    )


def test_a_fix_locates_its_edits_by_line_and_column() -> None:
    sql = "-- x\r\nCREATE INDEX a ON accounts (email);\n"
    (fix,) = fixes(sql, "non-concurrent-index")
    fix.locate(sql)
    assert fix.regions[0] == (2, 13, 2, 13)
    assert fix.to_json()["edits"] == [
        {"content": " CONCURRENTLY", "line": 2, "column": 13, "end_line": 2, "end_column": 13}
    ]


def test_postgresql_12_is_the_first_version_with_the_rewrites_that_need_it() -> None:
    assert fixed("REINDEX INDEX accounts_org_idx;\n", "non-concurrent-reindex", pg=12) == (
        "REINDEX INDEX CONCURRENTLY accounts_org_idx;\n"
    )
    sql = "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;\n"
    assert "VALIDATE CONSTRAINT" in fixed(sql, "set-not-null", pg=12)


def test_the_check_of_a_schema_qualified_table_is_named_after_the_table_alone() -> None:
    history = ["CREATE SCHEMA billing;\nCREATE TABLE billing.accounts (id int, email text);\n"]
    sql = "ALTER TABLE billing.accounts ALTER COLUMN email SET NOT NULL;\n"
    (finding,) = [f for f in lint_sql(sql, history=history) if f.rule == "set-not-null"]
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    (fix,) = [
        f for f in sql_fixes(finding, statements, sql, Where(False, 14)) if "lock" not in f.title
    ]
    assert apply_edits(sql, fix.edits).splitlines()[0] == (
        "ALTER TABLE billing.accounts ADD CONSTRAINT accounts_email_not_null_check "
        "CHECK (email IS NOT NULL) NOT VALID;"
    )


def test_only_an_earlier_lock_timeout_saves_the_prepended_one() -> None:
    sql = "SET statement_timeout = '1min';\nCREATE INDEX a ON accounts (email);\n"
    found = [f for f in lint_sql(sql, history=HISTORY) if f.rule == "non-concurrent-index"]
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    titles = [f.title for f in sql_fixes(found[0], statements, sql, Where(False, 14))]
    assert "Prepend SET lock_timeout = '5s'" in titles
    timed = "SET lock_timeout = '1s';\n" + sql
    statements = parse(Migration("m.sql", "1", "sql", text=timed)).statements
    found = [f for f in lint_sql(timed, history=HISTORY) if f.rule == "non-concurrent-index"]
    titles = [f.title for f in sql_fixes(found[0], statements, timed, Where(False, 14))]
    assert "Prepend SET lock_timeout = '5s'" not in titles


def test_a_check_name_over_63_bytes_gets_no_fix_rather_than_a_cut_name() -> None:
    # accounts_<column>_not_null_check: 63 bytes with a 39-character column, 64 with 40.
    for length, fits in ((39, True), (40, False)):
        column = "c" * length
        history = [f"CREATE TABLE accounts (id int, {column} text);\n"]
        sql = f"ALTER TABLE accounts ALTER COLUMN {column} SET NOT NULL;\n"
        (finding,) = [f for f in lint_sql(sql, history=history) if f.rule == "set-not-null"]
        statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
        titles = [f.title for f in sql_fixes(finding, statements, sql, Where(False, 14))]
        assert any(t.startswith("SET NOT NULL after") for t in titles) is fits


def test_drop_index_gets_concurrently() -> None:
    assert fixed("DROP INDEX IF EXISTS accounts_org_idx;\n", "non-concurrent-drop-index") == (
        "DROP INDEX CONCURRENTLY IF EXISTS accounts_org_idx;\n"
    )
    assert fixes("DROP INDEX accounts_org_idx CASCADE;\n", "non-concurrent-drop-index") == []


def test_a_constraint_name_postgresql_would_cut_gets_no_index_rewrite() -> None:
    for length, fits in ((63, True), (64, False)):
        sql = f"ALTER TABLE accounts ADD CONSTRAINT {'u' * length} UNIQUE (email);\n"
        assert bool(fixes(sql, "unique-without-index")) is fits


def test_a_lock_timeout_set_after_the_statement_does_not_count() -> None:
    sql = "CREATE INDEX a ON accounts (email);\nSET lock_timeout = '1s';\n"
    found = [f for f in lint_sql(sql, history=HISTORY) if f.rule == "non-concurrent-index"]
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    titles = [f.title for f in sql_fixes(found[0], statements, sql, Where(False, 14))]
    assert "Prepend SET lock_timeout = '5s'" in titles


def test_the_editor_says_when_a_file_of_several_statements_needs_its_own_migration() -> None:
    from migcheck.lsp.fixes import fixes_for

    sql = "ALTER TABLE accounts ADD COLUMN x int;\nCREATE INDEX a ON accounts (email);\n"
    (finding,) = [f for f in lint_sql(sql, history=HISTORY) if f.rule == "non-concurrent-index"]
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    titles = [f.title for f in fixes_for(finding, statements, sql, "sql")]
    assert titles[0] == (
        "Add CONCURRENTLY (it cannot run in a transaction: give it a migration of its own)"
    )
    one = "CREATE INDEX a ON accounts (email);\n"
    (finding,) = [f for f in lint_sql(one, history=HISTORY) if f.rule == "non-concurrent-index"]
    statements = parse(Migration("m.sql", "1", "sql", text=one)).statements
    assert fixes_for(finding, statements, one, "sql")[0].title == "Add CONCURRENTLY"
    assert fixes_for(finding, statements, one, "alembic") == []


def test_a_constraint_followed_by_another_action_is_not_split() -> None:
    sql = "ALTER TABLE accounts ADD CONSTRAINT pos CHECK (id > 0), ADD COLUMN y int;\n"
    assert fixes(sql, "constraint-without-not-valid") == []
