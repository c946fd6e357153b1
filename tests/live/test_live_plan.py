"""How migrations are planned for the live check: transactions per runner (no server)."""

from __future__ import annotations

from typing import Any

import pytest

from migcheck.live.cache import prefix_keys
from migcheck.live.plan import MigrationPlan, control_kind, plan_migration
from migcheck.sources import History, Migration, SqlChunk


def _plan(tool: str, text: str | None, **kwargs: Any) -> MigrationPlan:
    migration = Migration(path=f"m.{tool}.sql", key="1", tool=tool, text=text, **kwargs)
    return plan_migration(History(root=".", tool=tool), migration)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("BEGIN", "begin"),
        ("-- go\nstart transaction isolation level serializable", "begin"),
        ("BEGIN ATOMIC", None),
        ("COMMIT", "commit"),
        ("end", "commit"),
        ("COMMIT PREPARED 'x'", None),
        ("ROLLBACK", "rollback"),
        ("ROLLBACK TO SAVEPOINT a", None),
        ("ALTER TABLE t ADD COLUMN c int", None),
    ],
)
def test_control_kind(text, kind):
    assert control_kind(text) == kind


def test_prisma_file_is_one_transaction_unless_concurrently():
    plain = _plan("prisma", "CREATE TABLE a (id int);\nCREATE INDEX ON a (id);")
    assert plain.wrap and len(plain.statements) == 2
    concurrent = _plan("prisma", "CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY ON a (id);")
    assert not concurrent.wrap and "CONCURRENTLY" in concurrent.mode
    # A comment mentioning the word does not count.
    commented = _plan("golang-migrate", "-- not concurrently\nCREATE INDEX ON a (id);")
    assert commented.wrap


def test_runner_transaction_flag_for_flyway_dbmate_and_plain_sql():
    assert _plan("flyway", "SELECT 1;", runner_transaction=True).wrap
    assert not _plan("flyway", "SELECT 1;", runner_transaction=False).wrap
    # Flyway detects CREATE INDEX CONCURRENTLY and runs the script without a transaction.
    cic = "CREATE INDEX CONCURRENTLY i ON t (a);"
    assert not _plan("flyway", cic, runner_transaction=True).wrap
    assert _plan("flyway", "REINDEX INDEX CONCURRENTLY i;", runner_transaction=True).wrap
    assert not _plan("dbmate", "SELECT 1;", runner_transaction=False).wrap
    assert not _plan("sql", "SELECT 1;").wrap


def test_alembic_chunks_keep_positions_and_autocommit_blocks():
    migration = Migration(
        path="versions/abc.py",
        key="abc",
        tool="alembic",
        runner_transaction=True,
        chunks=[
            SqlChunk("ALTER TABLE t ADD COLUMN c int", 10, 5, 10, 40, sql_line=None),
            SqlChunk(
                "SELECT 1;\nCREATE INDEX CONCURRENTLY i ON t (c)",
                14,
                9,
                15,
                3,
                sql_line=14,
                autocommit=True,
            ),
        ],
    )
    plan = plan_migration(History(root="versions", tool="alembic"), migration)
    assert plan.wrap
    first, second, third = plan.statements
    assert first.span is not None and (first.span.line, first.span.column) == (10, 5)
    assert not first.autocommit
    assert second.span is not None and second.span.line == 14 and second.autocommit
    assert third.span is not None and third.span.line == 15


def test_unreadable_or_unsplittable_migrations_are_errors():
    assert _plan("sql", None).error == "the migration could not be read"
    broken = _plan("sql", "SELECT 1;\nSELECT 'unterminated")
    assert broken.error is not None and "line 2" in broken.error


def test_cache_keys_chain_over_prefixes():
    a = _plan("prisma", "CREATE TABLE a (id int);")
    b = _plan("prisma", "CREATE TABLE b (id int);")
    keys_ab = prefix_keys([a, b], 180004)
    keys_a = prefix_keys([a], 180004)
    assert keys_ab[:2] == keys_a
    assert prefix_keys([b, a], 180004)[2] != keys_ab[2]
    assert prefix_keys([a, b], 160010) != keys_ab
    # Comments between statements do not change the schema, nor the key.
    a_commented = _plan("prisma", "-- CreateTable\nCREATE TABLE a (id int);\n")
    assert prefix_keys([a_commented], 180004) == keys_a
