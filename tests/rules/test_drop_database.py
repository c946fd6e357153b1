"""drop-database: DROP DATABASE in a migration."""

from __future__ import annotations

from helpers import lint_sql, where

R = "drop-database"


def test_drop_database_is_an_error_at_its_line() -> None:
    findings = lint_sql("select 1;\n  DROP DATABASE IF EXISTS legacy_reports;", rules=[R])
    assert where(findings, R) == [(2, 3)]
    f = findings[0]
    assert f.severity == "error" and f.category == "data"
    assert 'DROP DATABASE "legacy_reports" removes the whole database' in f.message
    assert "cannot run inside a transaction block" in f.message
    assert f.help.splitlines()[1:3] == [
        "    pg_dump --format=custom --file=backup.dump legacy_reports",
        '    DROP DATABASE "legacy_reports";',
    ]


def test_force_is_named_and_other_drops_are_not_this_rule() -> None:
    forced = lint_sql('DROP DATABASE "Old DB" WITH (FORCE);', rules=[R])
    assert 'DROP DATABASE "Old DB"' in forced[0].message
    assert "WITH (FORCE) also disconnects" in forced[0].message
    # The backup line is for a shell: the name with a space must stay one argument.
    assert "    pg_dump --format=custom --file=backup.dump 'Old DB'\n" in forced[0].help
    # The near miss: dropping a schema or a table is another rule's business.
    assert lint_sql("DROP SCHEMA legacy_reports CASCADE;\nDROP TABLE t;", rules=[R]) == []
