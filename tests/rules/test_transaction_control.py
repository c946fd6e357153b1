"""begin-without-commit and nested-transaction: transaction control written in a
migration, judged against the transaction the runner really opens (plain SQL, Prisma,
golang-migrate, Flyway and Alembic forms). The PostgreSQL behaviour both rules state is
verified in tests/live/test_live_transaction_facts.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers import lint_history, lint_sql, where

B = "begin-without-commit"
N = "nested-transaction"
ORDERS = "create table orders (id bigint primary key, status text);"


def run(sql: str, **kw: object) -> list:
    return lint_sql(sql, history=[ORDERS], rules=[B, N], **kw)


# -- begin-without-commit -----------------------------------------------------------------


def test_begin_without_commit_in_plain_sql() -> None:
    sql = (
        "-- 004_add_note.sql\n"
        "BEGIN;\n"
        "ALTER TABLE orders ADD COLUMN note text;\n"
        "UPDATE orders SET note = '' WHERE id = 1;\n"
    )
    findings = run(sql)
    assert where(findings, B) == [(2, 1)]
    f = findings[0]
    assert f.severity == "error" and f.category == "data"
    assert "BEGIN at line 2 opens a transaction that no COMMIT in this file ends" in f.message
    assert "PostgreSQL rolls it back: nothing after this BEGIN is applied" in f.message
    assert f.help.startswith("End the transaction in the same file: add COMMIT;")


def test_start_transaction_in_a_golang_migrate_file() -> None:
    # golang-migrate sends the file as one query: BEGIN turns its implicit transaction
    # into an explicit one that is still open after the query.
    sql = "START TRANSACTION;\nALTER TABLE orders ADD COLUMN note text;\n"
    findings = run(sql, tool="golang-migrate", implicit_transaction=True)
    assert where(findings, B) == [(1, 1)]


def test_begin_without_commit_in_a_prisma_migration() -> None:
    sql = '-- AlterTable\nBEGIN;\nALTER TABLE "orders" ADD COLUMN "note" TEXT;\n'
    findings = run(sql, tool="prisma", implicit_transaction=True)
    assert where(findings, B) == [(2, 1)]


@pytest.mark.parametrize("end", ["COMMIT;", "commit work;", "END;", "ROLLBACK;", "abort;"])
def test_quiet_when_the_file_ends_its_transaction(end: str) -> None:
    sql = f"BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n{end}\n"
    assert run(sql) == []


def test_rollback_to_savepoint_does_not_end_the_transaction() -> None:
    sql = (
        "BEGIN;\nSAVEPOINT s;\nALTER TABLE orders ADD COLUMN note text;\nROLLBACK TO SAVEPOINT s;\n"
    )
    assert where(run(sql), B) == [(1, 1)]


def test_a_second_begin_after_commit_is_judged_on_its_own() -> None:
    sql = (
        "BEGIN;\nALTER TABLE orders ADD COLUMN a text;\nCOMMIT;\n"
        "BEGIN;\nALTER TABLE orders ADD COLUMN b text;\n"
    )
    assert where(run(sql), B) == [(4, 1)]


def test_begin_inside_the_runner_transaction_is_not_this_rule() -> None:
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\n"
    # Flyway's transaction is open: this BEGIN only warns, and nothing ends early.
    assert run(sql, tool="flyway", runner_transaction=True) == []


# -- nested-transaction -------------------------------------------------------------------


def test_commit_inside_flyway_transaction() -> None:
    sql = (
        "BEGIN;\n"
        "ALTER TABLE orders ADD COLUMN note text;\n"
        "COMMIT;\n"
        "ALTER TABLE orders ADD COLUMN other text;\n"
    )
    findings = run(sql, tool="flyway", runner_transaction=True)
    assert where(findings, N) == [(3, 1)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "data"
    assert "(Flyway runs each migration inside a transaction)" in f.message
    assert "this COMMIT commits it here" in f.message
    assert "a failed migration is left half applied" in f.message
    assert "The BEGIN at line 1 opened nothing" in f.message
    assert "there is already a transaction in progress" in f.message
    assert f.help.startswith("Remove BEGIN/COMMIT from the file")
    assert "executeInTransaction=false" in f.help


def test_rollback_inside_the_runner_transaction() -> None:
    sql = "ALTER TABLE orders ADD COLUMN note text;\nROLLBACK;\n"
    findings = run(sql, tool="dbmate", runner_transaction=True)
    assert where(findings, N) == [(2, 1)]
    assert "this ROLLBACK rolls it back here" in findings[0].message
    assert "The BEGIN" not in findings[0].message


def test_assume_in_transaction_applies() -> None:
    findings = run("END;\n", assume_in_transaction=True)
    assert where(findings, N) == [(1, 1)]
    assert "this END commits it here" in findings[0].message
    findings = run("commit work;\n", assume_in_transaction=True)
    assert "and this COMMIT commits it here" in findings[0].message
    assert findings[0].message.endswith("after it no longer run in the runner's transaction.")
    assert "do not COMMIT by hand: run it outside any transaction block: put it alone" in (
        findings[0].help
    )


@pytest.mark.parametrize(
    ("tool", "kw"),
    [
        ("sql", {}),
        ("golang-migrate", {"implicit_transaction": True}),
        ("prisma", {"implicit_transaction": True}),
    ],
)
def test_quiet_when_the_file_owns_its_transaction(tool: str, kw: dict[str, object]) -> None:
    sql = "BEGIN;\nALTER TABLE orders ADD COLUMN note text;\nCOMMIT;\n"
    assert run(sql, tool=tool, **kw) == []


def _alembic(tmp_path: Path, body: str) -> list:
    from migcheck.sources.alembic import load_alembic

    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (tmp_path / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (tmp_path / "migrations" / "env.py").write_text(
        "from alembic import context\n\n\ndef run_migrations_online():\n"
        "    context.configure(connection=None, target_metadata=None)\n"
    )
    head = "from alembic import op\nimport sqlalchemy as sa\n\nrevision = {rev!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
    (versions / "a1_orders.py").write_text(
        head.format(rev="a1", down=None)
        + '    op.create_table("orders", sa.Column("id", sa.BigInteger(), primary_key=True),'
        ' sa.Column("status", sa.Text()))\n'
    )
    (versions / "b2_index.py").write_text(
        head.format(rev="b2", down="a1") + textwrap.indent(textwrap.dedent(body), "    ")
    )
    histories, errors, _ = load_alembic(str(tmp_path), include_downgrade=False)
    assert errors == []
    (history,) = histories
    for m in history.migrations:
        m.selected = "b2" in m.path
    return lint_history(history, rules=[B, N], changeset=False).findings


def test_alembic_commit_hack_before_a_concurrent_index(tmp_path: Path) -> None:
    findings = _alembic(
        tmp_path,
        """
        op.execute("COMMIT")
        op.create_index("orders_status_idx", "orders", ["status"], postgresql_concurrently=True)
        """,
    )
    assert [(f.rule, f.line) for f in findings] == [(N, 10)]
    assert "Alembic runs all the revisions" in findings[0].message
    assert "autocommit_block()" in findings[0].help


def test_alembic_autocommit_block_is_quiet(tmp_path: Path) -> None:
    findings = _alembic(
        tmp_path,
        """
        with op.get_context().autocommit_block():
            op.create_index("orders_status_idx", "orders", ["status"], postgresql_concurrently=True)
        """,
    )
    assert findings == []
