"""identifier-too-long: names over 63 bytes, which PostgreSQL silently truncates."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.engine import default_rule_ids
from migcheck.rules.identifier_too_long import truncate

R = "identifier-too-long"
USERS = "create table users (id bigserial primary key, email text);"
LONG = "index_users_on_lower_email_and_organization_id_where_deleted_at_is_null"  # 71
assert len(LONG) == 71


def run(sql: str, history: tuple[str, ...] = (USERS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_on_by_default() -> None:
    assert R in default_rule_ids()


def test_index_name() -> None:
    findings = run(f"create index {LONG} on users (lower(email));")
    assert where(findings, R) == [(1, 14)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "style"
    assert f.message.startswith(f'The index name "{LONG}" is 71 bytes long:')
    assert f'so the index is really named "{LONG[:63]}"' in f.message
    assert f'    "{LONG[:63]}"' in f.help


def test_prisma_generated_names_in_new_table_point_at_each_name() -> None:
    table = "OrganizationMembershipInvitationAcceptanceAuditTrailEntryArchive"  # 64
    column = "invitationAcceptanceAuditTrailEntryArchiveCreatorIdentifierValue"  # 65
    sql = (
        "-- CreateTable\n"
        f'CREATE TABLE "{table}" (\n'
        '    "id" TEXT NOT NULL,\n'
        f'    "{column}" TEXT,\n'
        f'    CONSTRAINT "{table}_pkey" PRIMARY KEY ("id")\n'
        ");\n"
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(2, 14), (4, 5), (5, 16)]
    assert [f.message.split(" name ")[0] for f in findings] == [
        "The table",
        "The column",
        "The constraint",
    ]


def test_add_column_and_constraint_actions() -> None:
    col = "x" * 64
    con = "users_" + "c" * 60
    sql = f"ALTER TABLE users\n  ADD COLUMN {col} text,\n  ADD CONSTRAINT {con} CHECK (id > 0);\n"
    assert where(run(sql), R) == [(2, 14), (3, 18)]


def test_renames_create_names_too() -> None:
    new = "n" * 64
    sql = f"ALTER TABLE users RENAME COLUMN email TO {new};\nALTER INDEX users_pkey RENAME TO {new};\n"
    findings = run(sql)
    assert where(findings, R) == [(1, 42), (2, 34)]
    assert findings[0].message.startswith("The column name")
    assert findings[1].message.startswith("The index name")


@pytest.mark.parametrize(
    "sql",
    [
        f"CREATE TYPE {'t' * 64} AS ENUM ('a');",
        f"CREATE VIEW {'v' * 64} AS SELECT 1;",
        f"CREATE SEQUENCE {'s' * 64};",
        f"CREATE TABLE public.{'t' * 64} (id int);",
    ],
)
def test_other_objects(sql: str) -> None:
    assert len(where(run(sql), R)) == 1


def test_multibyte_names_count_bytes_not_characters() -> None:
    name = "prénom_" + "é" * 28 + "x"  # 36 characters, 65 bytes
    assert len(name) == 36 and len(name.encode()) == 65
    findings = run(f'alter table users add column "{name}" text;')
    assert where(findings, R) == [(1, 30)]
    assert "is 65 bytes long" in findings[0].message
    # Never a half character: 63 bytes would split an "é", so 62 are kept.
    kept = truncate(name)
    assert len(kept.encode()) == 62 and f'really named "{kept}"' in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        f"create index {'i' * 63} on users (email);",  # exactly 63 bytes
        "create index on users (email);",  # Postgres picks (and shortens) the name
        f'alter table users add column "{"é" * 31}" text;',  # 62 bytes
        f"alter table users drop column if exists {'x' * 70};",  # not created
        f"drop index if exists {'i' * 70};",
    ],
)
def test_silent(sql: str) -> None:
    assert run(sql) == []


def test_truncate_helper() -> None:
    assert truncate("a" * 70) == "a" * 63
    assert truncate("short") == "short"


def test_a_quoted_lower_case_name_and_an_unquoted_accented_one_are_found_where_written() -> None:
    quoted = run(f'create index "{LONG}" on users (lower(email));')
    assert where(quoted, R) == [(1, 14)]
    accented = "prénom_" + "é" * 28 + "x"  # 65 bytes, unquoted (PostgreSQL allows it)
    findings = run(f"alter table users add column email text, add column {accented} text;")
    assert where(findings, R) == [(1, 53)]


def test_a_qualified_name_is_judged_part_by_part() -> None:
    # 70 bytes together, but the schema (22) and the table (47) each fit.
    sql = "create table analytics_warehouse_2024.customer_lifetime_value_snapshots_by_region (id int);"
    assert run(sql) == []
    # The near miss: a column name is one identifier, dots and all.
    column = "customer.lifetime_value_snapshot_by_region_and_sales_channel_usd"  # 64
    findings = run(f'alter table users add column "{column}" numeric;')
    assert where(findings, R) == [(1, 30)]
    assert f'The column name "{column}" is 64 bytes long' in findings[0].message


def test_a_long_name_inside_a_do_block_is_reported_at_the_block() -> None:
    sql = (
        "select 1;\nDO $$\nBEGIN\n"
        f"  CREATE INDEX IF NOT EXISTS {LONG} ON users (lower(email));\n"
        "END\n$$;"
    )
    findings = run(sql)
    assert where(findings, R) == [(2, 1)]
    assert findings[0].message.startswith(f'The index name "{LONG}" is 71 bytes long')
