"""implicit-not-null-scan: NOT NULL that PostgreSQL sets (PRIMARY KEY USING INDEX on a
nullable column) or re-checks (SET NOT NULL in the ALTER that drops its proving CHECK)
scans the table under ACCESS EXCLUSIVE. tests/live/test_constraint_facts.py measures both
on a real server."""

from __future__ import annotations

from helpers import lint_sql, where

R = "implicit-not-null-scan"
ACCOUNTS = (
    "create table accounts (id bigint, tenant bigint not null, email text);\n"
    "create table notes (id bigint primary key);\n"
    "create unique index accounts_id_idx on accounts (id);\n"
    "create unique index accounts_tenant_idx on accounts (tenant);\n"
    "create unique index accounts_id_tenant_idx on accounts (id, tenant);"
)
PROVEN = (
    "alter table accounts add constraint accounts_id_not_null check (id is not null) not valid;\n"
    "alter table accounts validate constraint accounts_id_not_null;"
)
ATTACH = "alter table accounts add constraint accounts_pkey primary key using index {};"
EMAIL_CHECK = (
    "alter table accounts add constraint accounts_email_nn check (email is not null) not valid;\n"
    "alter table accounts validate constraint accounts_email_nn;"
)


def run(sql: str, history: tuple[str, ...] = (ACCOUNTS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_primary_key_using_index_on_a_nullable_column() -> None:
    findings = run("select 1;\n" + ATTACH.format("accounts_id_idx"))
    assert where(findings, R) == [(2, 22)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message == (
        'ADD PRIMARY KEY USING INDEX "accounts_id_idx" makes "accounts"."id" NOT NULL, which '
        "PostgreSQL checks by scanning the whole table while holding an ACCESS EXCLUSIVE lock "
        'on "accounts" (blocking every read and write on the table); the ALTER fails if any '
        "row holds NULL there."
    )
    assert f.help.splitlines() == [
        "Backfill the NULLs, then prove there are none without blocking traffic, so the "
        "primary key skips its scan (PostgreSQL 12+):",
        "    ALTER TABLE accounts ADD CONSTRAINT accounts_id_not_null CHECK (id IS NOT NULL) "
        "NOT VALID;",
        "    -- next migration (SHARE UPDATE EXCLUSIVE: reads and writes continue):",
        "    ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_not_null;",
        "    -- next migration (no scan: the validated CHECK proves it):",
        "    alter table accounts add constraint accounts_pkey primary key using index "
        "accounts_id_idx;",
        "    ALTER TABLE accounts DROP CONSTRAINT accounts_id_not_null;",
    ]


def test_only_the_nullable_columns_of_a_composite_key_are_named() -> None:
    findings = run(ATTACH.format("accounts_id_tenant_idx"))
    assert where(findings, R) == [(1, 22)]
    assert 'makes "accounts"."id" NOT NULL' in findings[0].message
    assert '"accounts"."tenant"' not in findings[0].message


def test_columns_already_not_null_or_proven_are_quiet() -> None:
    assert run(ATTACH.format("accounts_tenant_idx")) == []
    assert run(ATTACH.format("accounts_id_idx"), history=(ACCOUNTS, PROVEN)) == []
    # Near miss: a CHECK added NOT VALID but never validated proves nothing.
    pending = PROVEN.splitlines()[0]
    assert where(run(ATTACH.format("accounts_id_idx"), history=(ACCOUNTS, pending)), R) == [(1, 22)]


def test_before_postgres_12_a_validated_check_does_not_help() -> None:
    findings = run(ATTACH.format("accounts_id_idx"), history=(ACCOUNTS, PROVEN), pg=11)
    assert where(findings, R) == [(1, 22)]
    assert findings[0].help.startswith("PostgreSQL 11 cannot skip this scan.")
    assert "SET lock_timeout = '5s';" in findings[0].help


def test_set_not_null_in_the_same_statement_is_set_not_null_scans_case() -> None:
    sql = (
        "alter table accounts alter column id set not null,\n"
        "  add constraint accounts_pkey primary key using index accounts_id_idx;"
    )
    assert run(sql) == []
    both = lint_sql(sql, history=[ACCOUNTS], rules=[R, "set-not-null-scan"])
    assert [f.rule for f in both] == ["set-not-null-scan"]


def test_unknown_index_columns_and_new_tables_are_quiet() -> None:
    # The history never showed the index: which columns it covers is unknown.
    assert run(ATTACH.format("elsewhere_idx")) == []
    new = (
        "create table invites (id bigint, token text);\n"
        "create unique index invites_id_idx on invites (id);\n"
        "alter table invites add constraint invites_pkey primary key using index invites_id_idx;"
    )
    assert run(new) == []
    # A plain ADD PRIMARY KEY (cols) is unique-without-index's, which names the scan.
    assert run("alter table accounts add primary key (id);") == []


def test_set_not_null_dropping_its_proving_check_in_the_same_statement() -> None:
    for sql in (
        "alter table accounts alter column email set not null, drop constraint accounts_email_nn;",
        "alter table accounts drop constraint accounts_email_nn, alter column email set not null;",
    ):
        findings = lint_sql(
            sql, history=[ACCOUNTS, EMAIL_CHECK], rules=[R, "set-not-null-scan", "set-not-null"]
        )
        assert [f.rule for f in findings] == [R], sql
        f = findings[0]
        assert 'the same ALTER TABLE drops CHECK "accounts_email_nn"' in f.message
        assert "PostgreSQL runs the drop first" in f.message
        assert f.help.splitlines()[1:] == [
            "    ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;",
            "    ALTER TABLE accounts DROP CONSTRAINT accounts_email_nn;",
        ]
    col = sql.index("alter column") + 1
    assert where(findings, R) == [(1, col)]


def test_the_check_dropped_in_a_separate_statement_is_quiet() -> None:
    sql = (
        "alter table accounts alter column email set not null;\n"
        "alter table accounts drop constraint accounts_email_nn;"
    )
    assert run(sql, history=(ACCOUNTS, EMAIL_CHECK)) == []
    # Another proving check that stays keeps the scan away.
    second = EMAIL_CHECK.replace("accounts_email_nn", "accounts_email_nn2")
    one_stmt = (
        "alter table accounts alter column email set not null, drop constraint accounts_email_nn;"
    )
    assert run(one_stmt, history=(ACCOUNTS, EMAIL_CHECK, second)) == []
    # Dropping an unrelated constraint does not matter either.
    other = "alter table accounts alter column email set not null, drop constraint unrelated;"
    assert run(other, history=(ACCOUNTS, EMAIL_CHECK)) == []
    # Before 12 the check never helped: set-not-null-scan reports the scan.
    old = lint_sql(one_stmt, history=[ACCOUNTS, EMAIL_CHECK], rules=[R, "set-not-null-scan"], pg=11)
    assert [f.rule for f in old] == ["set-not-null-scan"]
    # A column already NOT NULL is not checked again.
    done = "alter table accounts alter column email set not null;"
    assert run(one_stmt, history=(ACCOUNTS, EMAIL_CHECK, done)) == []


def test_hold_exclusive_lock_counts_the_scan_as_slow_work() -> None:
    sql = (
        "BEGIN;\n"
        "alter table notes add column body text;\n" + ATTACH.format("accounts_id_idx") + "\nCOMMIT;"
    )
    findings = lint_sql(sql, history=[ACCOUNTS], rules=["hold-exclusive-lock"])
    assert len(findings) == 1
    assert 'scans "accounts" for NULLs in the new primary key\'s columns' in findings[0].message
    drop = (
        "BEGIN;\n"
        "alter table notes add column body text;\n"
        "alter table accounts alter column email set not null, drop constraint accounts_email_nn;"
        "\nCOMMIT;"
    )
    findings = lint_sql(drop, history=[ACCOUNTS, EMAIL_CHECK], rules=["hold-exclusive-lock"])
    assert 'scans "accounts" for NULLs in "accounts"."email"' in findings[0].message


def test_unique_using_index_sets_no_not_null() -> None:
    sql = "alter table accounts add constraint accounts_id_key unique using index accounts_id_idx;"
    assert run(sql) == []
    # Near miss: the same index attached as the primary key.
    assert where(run(ATTACH.format("accounts_id_idx")), R) == [(1, 22)]


def test_postgres_12_is_the_first_version_that_uses_the_check() -> None:
    one_stmt = (
        "alter table accounts alter column email set not null, drop constraint accounts_email_nn;"
    )
    assert where(run(one_stmt, history=(ACCOUNTS, EMAIL_CHECK), pg=12), R) == [(1, 22)]
    assert run(ATTACH.format("accounts_id_idx"), history=(ACCOUNTS, PROVEN), pg=12) == []


def _held(sql: str, history: tuple[str, ...]) -> list:
    """hold-exclusive-lock's findings when ``sql`` runs after a quick DDL on "notes"."""
    tx = f"BEGIN;\nalter table notes add column body text;\n{sql}\nCOMMIT;"
    return lint_sql(tx, history=list(history), rules=["hold-exclusive-lock"])


def test_no_slow_work_when_nothing_is_scanned() -> None:
    # Already NOT NULL, or proven: no scan, so no lock is held during one.
    assert _held(ATTACH.format("accounts_tenant_idx"), (ACCOUNTS,)) == []
    assert (
        _held("alter table accounts alter column email set not null;", (ACCOUNTS, EMAIL_CHECK))
        == []
    )
    # A table this transaction creates has no rows and no traffic.
    new = (
        "create table invites (id bigint);\n"
        "create unique index invites_id_idx on invites (id);\n"
        "alter table invites add constraint invites_pkey primary key using index invites_id_idx;"
    )
    assert _held(new, (ACCOUNTS,)) == []


def test_two_dropped_checks_name_the_first() -> None:
    second = EMAIL_CHECK.replace("accounts_email_nn", "accounts_email_nn2")
    sql = (
        "alter table accounts alter column email set not null, drop constraint accounts_email_nn,"
        " drop constraint accounts_email_nn2;"
    )
    findings = run(sql, history=(ACCOUNTS, EMAIL_CHECK, second))
    assert 'drops CHECK "accounts_email_nn",' in findings[0].message


def test_another_action_on_the_key_column_does_not_hide_the_scan() -> None:
    sql = (
        "alter table accounts alter column id set default 0,\n"
        "  add constraint accounts_pkey primary key using index accounts_id_idx;"
    )
    assert where(run(sql), R) == [(2, 3)]


def test_postgres_12_help_and_schema_qualified_names() -> None:
    findings = run(ATTACH.format("accounts_id_idx"), pg=12)
    assert findings[0].help.startswith("Backfill the NULLs, then prove")
    history = (
        "create table app.accounts (id bigint, email text);\n"
        "create unique index accounts_id_idx on app.accounts (id);",
    )
    sql = "alter table app.accounts add constraint accounts_pkey primary key using index accounts_id_idx;"
    findings = run(sql, history=history)
    assert where(findings, R) == [(1, 26)]
    assert (
        "    ALTER TABLE app.accounts ADD CONSTRAINT accounts_id_not_null CHECK (id IS NOT NULL) "
        "NOT VALID;" in findings[0].help
    )
