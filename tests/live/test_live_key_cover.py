"""What PostgreSQL does when a migration drops a unique index and the rest of it makes up
for that (precision round 3, langfuse and ckan), side by side with drop-key-constraint's
claim on the same SQL: duplicates are rejected after a rebuild on the renamed column and
after a stricter index (ckan 108), while ON CONFLICT on the old keys loses its arbiter."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")

R = "drop-key-constraint"
NO_ARBITER = "there is no unique or exclusion constraint matching the ON CONFLICT specification"


def _run(dsn: str, setup: str, migration: str, probe: str) -> str | None:
    """Apply ``setup`` then ``migration`` (one transaction, as Prisma's script), then
    ``probe``: its error message, None when it succeeds."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(setup)
        conn.execute(migration)  # one multi-statement query: one implicit transaction
        try:
            conn.execute(probe)
        except psycopg.Error as exc:
            return str(exc).splitlines()[0]
    return None


def test_rebuilt_on_the_renamed_column_rejects_duplicates(dsn: str) -> None:
    setup = (
        "CREATE TABLE api_keys (id text PRIMARY KEY, publishable_key text NOT NULL);"
        "CREATE UNIQUE INDEX api_keys_publishable_key_key ON api_keys (publishable_key);"
    )
    migration = (
        "DROP INDEX api_keys_publishable_key_key;\n"
        "ALTER TABLE api_keys RENAME COLUMN publishable_key TO public_key;\n"
        "CREATE UNIQUE INDEX api_keys_public_key_key ON api_keys (public_key);"
    )
    error = _run(dsn, setup, migration, "INSERT INTO api_keys VALUES ('a', 'k'), ('b', 'k')")
    assert error is not None and "duplicate key value violates unique constraint" in error
    assert where(lint_sql(migration, history=[setup], rules=[R]), R) == []


def test_a_stricter_partial_index_rejects_duplicates_but_answers_no_old_upsert(dsn: str) -> None:
    setup = (
        'CREATE TABLE "user" (id text PRIMARY KEY, email text, state text);'
        'CREATE UNIQUE INDEX idx_only_one_active_email ON "user" (email, state) '
        "WHERE state = 'active';"
    )
    migration = (
        'CREATE UNIQUE INDEX idx_no_case ON "user" (lower(email)) '
        "WHERE \"user\".state = 'active';\n"
        "DROP INDEX idx_only_one_active_email;"
    )
    dup = "INSERT INTO \"user\" VALUES ('1', 'A@x', 'active'), ('2', 'A@x', 'active')"
    error = _run(dsn, setup, migration, dup)
    assert error is not None and 'unique constraint "idx_no_case"' in error
    with psycopg.connect(dsn, autocommit=True) as conn:
        with pytest.raises(psycopg.Error, match=NO_ARBITER):
            conn.execute(
                "INSERT INTO \"user\" VALUES ('3', 'b@x', 'active') "
                "ON CONFLICT (email, state) WHERE state = 'active' DO NOTHING"
            )
        # The same keys without a predicate would still be an arbiter for it.
        conn.execute('CREATE UNIQUE INDEX user_email_state ON "user" (state, email)')
        conn.execute(
            "INSERT INTO \"user\" VALUES ('3', 'b@x', 'active') "
            "ON CONFLICT (email, state) WHERE state = 'active' DO NOTHING"
        )
    findings = lint_sql(migration, history=[setup], rules=[R])
    assert where(findings, R) == [(2, 1)]
    assert NO_ARBITER in findings[0].message
    assert "Duplicate values stay rejected" in findings[0].message


def test_another_predicate_lets_duplicates_in(dsn: str) -> None:
    setup = (
        'CREATE TABLE "user" (id text PRIMARY KEY, email text, state text);'
        'CREATE UNIQUE INDEX idx_only_one_active_email ON "user" (email, state) '
        "WHERE state = 'active';"
    )
    migration = (
        'CREATE UNIQUE INDEX idx_no_case ON "user" (lower(email)) '
        "WHERE state = 'deleted';\n"
        "DROP INDEX idx_only_one_active_email;"
    )
    dup = "INSERT INTO \"user\" VALUES ('1', 'A@x', 'active'), ('2', 'A@x', 'active')"
    assert _run(dsn, setup, migration, dup) is None
    findings = lint_sql(migration, history=[setup], rules=[R])
    assert findings[0].message.endswith("and duplicate values can now be written.")
