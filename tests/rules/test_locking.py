"""The locking rules' shared helpers (rules/_locking.py), as users meet them in findings.

``scripts/mutate.py src/migcheck/rules/_locking.py`` runs this file first.
"""

from __future__ import annotations

from helpers import lint_sql, where

MOOD = "create type mood as enum ('ok', 'sad');\ncreate table users (id bigint primary key, mood mood);"


def test_a_value_committed_by_an_earlier_transaction_of_the_file_is_usable() -> None:
    # Each transaction is scanned on its own: the ADD VALUE of the first is committed
    # before the second uses it.
    rule = "enum-value-in-transaction"
    two = (
        "begin;\nalter type mood add value 'meh';\nupdate users set mood = 'ok' where id = 2;\n"
        "commit;\n"
        "begin;\nupdate users set mood = 'meh' where id = 1;\ncommit;"
    )
    assert lint_sql(two, history=[MOOD], rules=[rule], pg=16) == []
    # The near miss: in one transaction the new value is not usable yet.
    one = "begin;\nalter type mood add value 'meh';\nupdate users set mood = 'meh' where id = 1;\ncommit;"
    findings = lint_sql(one, history=[MOOD], rules=[rule], pg=16)
    assert where(findings, rule) == [(3, 1)]
    assert "added at line 2 in the same transaction (the file opens one with BEGIN at line 1)" in (
        findings[0].message
    )


def test_a_lock_taken_before_the_rules_first_look_at_the_transaction_is_seen() -> None:
    # unbatched-backfill first looks at this transaction at the UPDATE: the ALTER TABLE
    # before it (and its ACCESS EXCLUSIVE lock) must still be found.
    sql = (
        "select 1;\nbegin;\nalter table users add column plan text;\n"
        "create index users_mood_idx on users (mood);\n"
        "update users set plan = 'free';\ncommit;"
    )
    findings = lint_sql(sql, history=[MOOD], rules=["unbatched-backfill"])
    assert where(findings, "unbatched-backfill") == [(5, 1)]
    assert (
        "it runs in the same transaction as the schema change at line 3, so that statement's "
        'ACCESS EXCLUSIVE lock on "users" is held for the whole backfill'
    ) in findings[0].message


def test_dbmate_is_told_how_to_leave_the_transaction() -> None:
    history = [MOOD, "create index users_mood_idx on users (mood);"]
    findings = lint_sql(
        "drop index users_mood_idx;",
        history=history,
        rules=["non-concurrent-drop-index"],
        tool="dbmate",
    )
    assert findings[0].help.endswith(
        "Run it outside any transaction block: put it alone in its own migration whose first line "
        "is -- migrate:up transaction:false (dbmate still sends the section as one query, so "
        "no other statement may share it)."
    )
