"""Tables created in the same migration are recognised however they are created (issue 12,
point 1): a temp table, ``SELECT … INTO``, or a table filled right after it is created."""

from __future__ import annotations

from helpers import lint_sql, where

USERS = "create table users (id bigint primary key, bio text, email text);"


def rules_at(sql: str) -> list[tuple[str, int]]:
    return [(f.rule, f.span.line) for f in lint_sql(sql, history=[USERS])]


def test_temp_table_filled_and_dropped_in_the_migration_is_quiet() -> None:
    sql = (
        "CREATE TEMP TABLE tmp_ids (id bigint);\n"
        "INSERT INTO tmp_ids SELECT id FROM users;\n"
        "DROP TABLE tmp_ids;"
    )
    assert rules_at(sql) == []


def test_select_into_creates_the_table_it_names() -> None:
    assert rules_at("SELECT id INTO TEMP TABLE tmp_ids FROM users;\nDROP TABLE tmp_ids;") == []
    assert (
        rules_at("SELECT id, email INTO users_emails FROM users;\nDROP TABLE users_emails;") == []
    )


def test_filling_a_new_table_from_an_existing_one_is_not_a_backfill() -> None:
    sql = "CREATE TABLE users_copy (id bigint);\nINSERT INTO users_copy SELECT id FROM users;"
    assert rules_at(sql) == []


def test_near_misses_on_existing_tables_still_fire() -> None:
    # The same statements aimed at the table the running app uses.
    assert where(lint_sql("DROP TABLE users;", history=[USERS]), "drop-table") == [(1, 1)]
    copy = lint_sql("INSERT INTO users SELECT id, bio, email FROM users;", history=[USERS])
    assert where(copy, "unbatched-backfill") == [(1, 1)]
