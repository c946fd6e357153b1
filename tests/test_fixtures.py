"""The fixture histories as a user lints them: every finding, and nothing else.

The expected list below was reviewed against fixtures/EXPECTED.md (which also lists the
statements that must stay silent and why). Columns point at the offending action inside
an ALTER TABLE, not at the statement start. Alembic findings point at the op. call.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import cli

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = [
    (
        "alembic/migrations/versions/2024_01_08_0930-3f1a9c2e7b10_create_users_and_accounts.py",
        23,
        5,
        "alembic-not-evaluated",
    ),
    (
        "alembic/migrations/versions/2024_01_22_1415-b7e9f0a1c2d3_create_orders.py",
        24,
        5,
        "alembic-not-evaluated",
    ),
    (
        "alembic/migrations/versions/2024_02_05_1000-a1b2c3d4e5f6_add_invoices_table.py",
        31,
        5,
        "alembic-not-evaluated",
    ),
    (
        "alembic/migrations/versions/2024_02_05_1000-a1b2c3d4e5f6_add_invoices_table.py",
        31,
        5,
        "alembic-not-evaluated",
    ),
    (
        "alembic/migrations/versions/2024_03_04_1000-3d4e5f6a7b82_drop_users_legacy_flag.py",
        21,
        5,
        "drop-column",
    ),
    (
        "alembic/migrations/versions/2024_03_06_1430-4e5f6a7b8c93_rename_users_fullname.py",
        21,
        5,
        "rename-column",
    ),
    (
        "alembic/migrations/versions/2024_03_08_0900-5f6a7b8c9da4_widen_orders_quantity_to_bigint.py",
        21,
        5,
        "type-change-rewrite",
    ),
    (
        "alembic/migrations/versions/2024_03_11_1115-6a7b8c9d0eb5_require_users_email.py",
        21,
        5,
        "set-not-null",
    ),
    (
        "alembic/migrations/versions/2024_03_13_1600-7b8c9d0e1fc6_add_orders_currency_not_null.py",
        21,
        5,
        "add-required-column",
    ),
    (
        "alembic/migrations/versions/2024_03_15_0945-8c9d0e1f2ad7_index_orders_status.py",
        21,
        5,
        "non-concurrent-index",
    ),
    (
        "alembic/migrations/versions/2024_03_18_1330-9d0e1f2a3be8_orders_account_foreign_key.py",
        21,
        5,
        "constraint-without-not-valid",
    ),
    (
        "alembic/migrations/versions/2024_03_20_1000-ae1f2a3b4cf9_drop_legacy_sessions.py",
        21,
        5,
        "drop-table",
    ),
    (
        "alembic/migrations/versions/2024_03_22_1500-bf2a3b4c5d0a_unique_accounts_slug.py",
        21,
        5,
        "unique-without-index",
    ),
    ("flyway/V1_1__add_invoice_customer_index.sql", 1, 1, "non-concurrent-index"),
    ("flyway/V2__add_invoice_status.sql", 4, 5, "constraint-without-not-valid"),
    ("flyway/V3__rename_customer_email.sql", 1, 22, "rename-column"),
    ("flyway/V4__drop_customer_fax.sql", 2, 22, "drop-column"),
    ("prisma/prisma/migrations/20240219152210_drop_user_bio/migration.sql", 8, 20, "drop-column"),
    (
        "prisma/prisma/migrations/20240226104733_rename_full_name_to_display_name/migration.sql",
        8,
        20,
        "drop-column",
    ),
    (
        "prisma/prisma/migrations/20240304081956_add_order_status/migration.sql",
        11,
        21,
        "add-required-column",
    ),
    (
        "prisma/prisma/migrations/20240311140502_remove_enterprise_plan/migration.sql",
        11,
        28,
        "remove-enum-value",
    ),
    (
        "prisma/prisma/migrations/20240311140502_remove_enterprise_plan/migration.sql",
        11,
        28,
        "type-change-rewrite",
    ),
    (
        "prisma/prisma/migrations/20240318093124_order_total_decimal/migration.sql",
        8,
        21,
        "change-column-type",
    ),
    (
        "prisma/prisma/migrations/20240318093124_order_total_decimal/migration.sql",
        8,
        21,
        "type-change-rewrite",
    ),
    (
        "prisma/prisma/migrations/20240402085630_require_user_name/migration.sql",
        8,
        20,
        "set-not-null",
    ),
    (
        "prisma/prisma/migrations/20240409131745_index_task_status/migration.sql",
        2,
        1,
        "non-concurrent-index",
    ),
    (
        "prisma/prisma/migrations/20240416094402_project_owner/migration.sql",
        2,
        23,
        "hold-exclusive-lock",
    ),
    (
        "prisma/prisma/migrations/20240416094402_project_owner/migration.sql",
        5,
        23,
        "constraint-without-not-valid",
    ),
    ("prisma/prisma/migrations/20240430102215_drop_invites/migration.sql", 11, 1, "drop-table"),
    (
        "prisma/prisma/migrations/20240514093307_drop_user_timezone/migration.sql",
        8,
        20,
        "drop-column",
    ),
    ("sql/migrations/000014_rename_users_name_to_full_name.up.sql", 1, 19, "rename-column"),
    ("sql/migrations/000015_add_users_public_id.up.sql", 1, 19, "volatile-default"),
    ("sql/migrations/000016_add_users_display_name.up.sql", 3, 1, "unbatched-backfill"),
    ("sql/migrations/000019_dedupe_coupon_codes.up.sql", 4, 1, "lock-table"),
    ("sql/migrations/000019_dedupe_coupon_codes.up.sql", 11, 1, "non-concurrent-index"),
    ("sql/migrations/000020_compact_coupons.up.sql", 1, 1, "table-rewrite"),
]


def _lint(*args: str) -> subprocess.CompletedProcess[str]:
    return cli(*args, cwd=ROOT)


def test_fixtures_report_exactly_the_expected_findings() -> None:
    proc = _lint("--format", "json", "--pg-version", "16", "fixtures/")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    got = [
        (f["path"].removeprefix("fixtures/"), f["line"], f["column"], f["rule"])
        for f in data["findings"]
    ]
    assert got == EXPECTED
    assert data["errors"] == []
    assert data["summary"]["unrecognized"] == 0


@pytest.mark.parametrize("tree", ["prisma", "sql", "flyway", "alembic"])
def test_json_contract_on_every_fixture(tree: str) -> None:
    data = json.loads(_lint("--format", "json", f"fixtures/{tree}").stdout)
    assert set(data) == {"version", "findings", "errors", "summary", "config"}
    assert data["version"] == 1
    assert set(data["summary"]) == {"files", "statements", "findings", "unrecognized"}
    assert data["summary"]["findings"] == len(data["findings"])
    for f in data["findings"]:
        assert set(f) == {
            "rule",
            "severity",
            "category",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "help",
        }
        assert f["severity"] in ("error", "warning", "info")
        assert f["line"] >= 1 and f["column"] >= 1
        assert (f["end_line"], f["end_column"]) >= (f["line"], f["column"])
        assert f["message"] and f["path"].startswith(f"fixtures/{tree}/")


def test_text_output_of_the_readme_command() -> None:
    proc = _lint("fixtures/")
    assert proc.returncode == 1
    assert "error[drop-column]" in proc.stdout
    assert proc.stdout.rstrip().splitlines()[-1].startswith("Checked 67 files, 154 statements:")
