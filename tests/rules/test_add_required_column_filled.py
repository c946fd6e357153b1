"""add-required-column on a table this migration creates and already filled with rows: the
new-table exemption holds only while the table is empty, because the ALTER itself fails."""

from __future__ import annotations

from helpers import lint_sql, where

R = "add-required-column"
CREATE = "CREATE TABLE settings (id int PRIMARY KEY, name text);\n"


def run(sql: str) -> list:
    return lint_sql(sql, rules=[R])


def test_not_null_column_added_after_rows_were_inserted_fails_the_migration() -> None:
    findings = run(
        CREATE + "INSERT INTO settings (id, name) VALUES (1, 'a'), (2, 'b');\n"
        "ALTER TABLE settings ADD COLUMN owner_id bigint NOT NULL;\n"
    )
    assert where(findings, R) == [(3, 22)]
    f = findings[0]
    assert f.severity == "error"
    assert "which line 2 of this migration fills with rows" in f.message
    assert 'column "owner_id" of relation "settings" contains null values' in f.message
    assert "running app" not in f.message  # nothing runs against a brand-new table
    assert 'ADD COLUMN "owner_id" bigint NOT NULL DEFAULT <value>;' in f.help


def test_copy_and_insert_select_fill_it_too() -> None:
    copy = (
        CREATE
        + "COPY settings (id, name) FROM STDIN;\nALTER TABLE settings ADD COLUMN o int NOT NULL;\n"
    )
    assert where(run(copy), R) == [(3, 22)]
    select = (
        CREATE + "INSERT INTO settings SELECT id, name FROM legacy_settings;\n"
        "ALTER TABLE settings ADD COLUMN o int NOT NULL;\n"
    )
    assert where(run(select), R) == [(3, 22)]


def test_empty_new_table_or_a_default_or_rows_after_the_alter_stay_quiet() -> None:
    assert run(CREATE + "ALTER TABLE settings ADD COLUMN o int NOT NULL;\n") == []
    with_default = (
        CREATE + "INSERT INTO settings VALUES (1, 'a');\n"
        "ALTER TABLE settings ADD COLUMN o int NOT NULL DEFAULT 0;\n"
    )
    assert run(with_default) == []
    rows_after = (
        CREATE + "ALTER TABLE settings ADD COLUMN o int NOT NULL;\n"
        "INSERT INTO settings VALUES (1, 'a', 7);\n"
    )
    assert run(rows_after) == []
    other_table = (
        CREATE + "CREATE TABLE flags (id int);\nINSERT INTO flags VALUES (1);\n"
        "ALTER TABLE settings ADD COLUMN o int NOT NULL;\n"
    )
    assert run(other_table) == []


def test_a_table_emptied_first_drops_the_alter_fails_clause_only() -> None:
    history = ["CREATE TABLE serialized_dag (dag_id text PRIMARY KEY, data json);"]
    sql = "DELETE FROM serialized_dag;\nALTER TABLE serialized_dag ADD COLUMN dag_hash text NOT NULL;\n"
    findings = lint_sql(sql, history=history, rules=[R])
    assert where(findings, R) == [(2, 28)]
    assert "the app version still running inserts rows without it" in findings[0].message
    assert "this ALTER fails" not in findings[0].message
    near_miss = "DELETE FROM serialized_dag WHERE data IS NULL;\n" + sql.split("\n", 1)[1]
    findings = lint_sql(near_miss, history=history, rules=[R])
    assert 'this ALTER fails if "serialized_dag" has any row' in findings[0].message
