"""Every SQL snippet a rule's help tells the user to run is accepted by a real PostgreSQL.

For each unsafe statement below, on a table in the default schema and on a schema-qualified
one (``app.users``), the statement is linted after the schema migration; then, for every
finding, the indented SQL of its help is run against that schema, in order, the way the
help says: a statement that cannot run in a transaction block (CONCURRENTLY, VACUUM) in
autocommit, every other one in a transaction of its own. Placeholders the user fills in
(``<value>``, ``<batch range>``) get a value of the right shape. A help offering
alternatives ("Either …, or …", "To … instead") has each alternative run on a fresh schema;
an alternative with an elided part (``AS SELECT ...``) is a template and is not run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from helpers import lint_sql
from migcheck.model import Finding

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")


def _schema(t: str, acc: str) -> str:
    return f"""
CREATE TABLE {acc} (id bigint PRIMARY KEY);
INSERT INTO {acc} VALUES (1), (2);
CREATE TABLE {t} (
    id bigint PRIMARY KEY, email text, name text, qty int, code text, fax text,
    acc bigint, ip cidr, flags bit(3)
);
INSERT INTO {t} VALUES (1, 'a@x', 'a', 1, 'c1', 'f', 1, '10.0.0.0/8', B'101'),
                       (2, 'b@x', 'b', 2, 'c2', 'f', 2, '10.1.0.0/16', B'011');
CREATE INDEX users_email_idx ON {t} (email);
CREATE MATERIALIZED VIEW {t}_mv AS SELECT id, email FROM {t};
"""


TABLES = {"public": ("users", "accounts"), "app": ("app.users", "app.accounts")}

# (case id, unsafe statement with {t} the table and {acc} the referenced one).
UNSAFE = [
    ("volatile-uuid", "ALTER TABLE {t} ADD COLUMN public_id uuid DEFAULT gen_random_uuid();"),
    ("volatile-serial", "ALTER TABLE {t} ADD COLUMN n serial;"),
    ("volatile-bigserial", "ALTER TABLE {t} ADD COLUMN n bigserial NOT NULL;"),
    ("volatile-identity", "ALTER TABLE {t} ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;"),
    (
        "volatile-stored",
        "ALTER TABLE {t} ADD COLUMN twice bigint GENERATED ALWAYS AS (id * 2) STORED;",
    ),
    ("set-not-null", "ALTER TABLE {t} ALTER COLUMN email SET NOT NULL;"),
    ("add-required", "ALTER TABLE {t} ADD COLUMN currency varchar(3) NOT NULL;"),
    ("check", "ALTER TABLE {t} ADD CONSTRAINT users_qty_positive CHECK (qty > 0);"),
    (
        "foreign-key",
        "ALTER TABLE {t} ADD CONSTRAINT users_acc_fk FOREIGN KEY (acc) REFERENCES {acc} (id);",
    ),
    ("unique", "ALTER TABLE {t} ADD CONSTRAINT users_code_key UNIQUE (code);"),
    ("index", "CREATE INDEX users_name_idx ON {t} (name);"),
    ("unique-index", "CREATE UNIQUE INDEX users_code_idx ON {t} (code);"),
    ("drop-column", "ALTER TABLE {t} DROP COLUMN fax;"),
    ("rename-column", "ALTER TABLE {t} RENAME COLUMN name TO full_name;"),
    ("widen", "ALTER TABLE {t} ALTER COLUMN qty TYPE bigint;"),
    ("narrow", "ALTER TABLE {t} ALTER COLUMN code TYPE varchar(10);"),
    ("drop-table", "DROP MATERIALIZED VIEW {t}_mv;\nDROP TABLE {t};"),
    ("drop-index", "DROP INDEX {s}users_email_idx;"),
    ("reindex", "REINDEX INDEX {s}users_email_idx;"),
    ("refresh", "REFRESH MATERIALIZED VIEW {t}_mv;"),
    ("backfill", "ALTER TABLE {t} ADD COLUMN nick text;\nUPDATE {t} SET nick = name;"),
    ("lock-table", "LOCK TABLE {t} IN EXCLUSIVE MODE;"),
    ("truncate", "TRUNCATE {t};"),
]

# Known wrong help, as (schema, case) -> why; each is a strict xfail until it is fixed.
KNOWN_BAD: dict[tuple[str, str], str] = {}

# What the user would write in place of each placeholder; a new placeholder fails the test
# until it is listed here.
PLACEHOLDERS = {
    "DEFAULT <value>": "DEFAULT 'x'",
    "<value>": "NULL",
    "<batch range>": "true",
    "<max + 1>": "1000",
    "<columns that identify a row>": "id",
    "<condition>": "true",
}
_STATEMENT = re.compile(
    r"\s*(ALTER|CREATE|UPDATE|DELETE|INSERT|DROP|SET|LOCK|REINDEX|REFRESH|VACUUM)\b", re.I
)
_NO_TRANSACTION = re.compile(r"\bCONCURRENTLY\b|^\s*VACUUM\b", re.I)


def _cases() -> Iterator[object]:
    for where in TABLES:
        for case, _ in UNSAFE:
            reason = KNOWN_BAD.get((where, case))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(where, case, marks=marks, id=f"{where}-{case}")


def alternatives(help_text: str) -> list[list[str]]:
    """The help's SQL statements, one list per alternative, in order."""
    runs: list[list[str]] = [[]]
    pending: list[str] = []
    for line in help_text.splitlines():
        if line.startswith("    "):
            code = line[4:]
            if not code.lstrip().startswith("--"):
                pending.append(code)
            continue
        runs[-1].extend(_statements(pending))
        pending = []
        if re.match(r"^(or|To)\b", line) and runs[-1]:
            runs.append([])
    runs[-1].extend(_statements(pending))
    # An alternative with an elided part ("AS SELECT ...") is a template, not runnable.
    return [r for r in runs if r and not any("..." in s or "…" in s for s in r)]


def _statements(lines: list[str]) -> list[str]:
    """Statements may span lines; each ends with a semicolon at the end of its last line."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if line.rstrip().endswith(";"):
            out.append("\n".join(current))
            current = []
    # A fragment to paste into a statement (a column definition) is not run on its own.
    assert not (current and _STATEMENT.match(current[0])), f"no semicolon: {current}"
    return out


def _fill(sql: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        sql = sql.replace(placeholder, value)
    assert not re.search(r"<[a-z]", re.sub(r"'[^']*'", "", sql)), f"unknown placeholder: {sql}"
    return sql


def _reset(conn: object, where: str) -> None:
    t, acc = TABLES[where]
    conn.execute("DROP SCHEMA IF EXISTS app CASCADE")  # type: ignore[attr-defined]
    conn.execute(  # type: ignore[attr-defined]
        "DROP TABLE IF EXISTS users, accounts CASCADE; DROP SEQUENCE IF EXISTS users_n_seq"
    )
    conn.execute("CREATE SCHEMA app")  # type: ignore[attr-defined]
    conn.execute(_schema(t, acc))  # type: ignore[attr-defined]


def _unsafe(case: str, where: str) -> str:
    t, acc = TABLES[where]
    sql = dict(UNSAFE)[case]
    return sql.format(t=t, acc=acc, s="app." if where == "app" else "")


def _findings(case: str, where: str, pg: int) -> list[Finding]:
    t, acc = TABLES[where]
    history = [("CREATE SCHEMA app;\n" if where == "app" else "") + _schema(t, acc)]
    return lint_sql(_unsafe(case, where), history=history, pg=pg)


def _server_major(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SHOW server_version_num").fetchone()
    assert row is not None
    return min(int(row[0]) // 10000, 18)


@pytest.mark.parametrize(("where", "case"), list(_cases()))
def test_help_snippets_run_on_postgresql(dsn: str, where: str, case: str) -> None:
    findings = _findings(case, where, _server_major(dsn))
    assert findings, f"{case} no longer fires; pick an unsafe statement that does"
    ran = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        for finding in findings:
            for run in alternatives(finding.help or ""):
                _reset(conn, where)
                # The help replaces the finding's statement: what came before it stays applied.
                for before in _unsafe(case, where).splitlines()[: finding.line - 1]:
                    conn.execute(before)
                for raw in run:
                    sql = _fill(raw)
                    try:
                        if _NO_TRANSACTION.search(sql):
                            conn.execute(sql)
                        else:
                            with conn.transaction():
                                conn.execute(sql)
                    except psycopg.Error as err:
                        pytest.fail(
                            f"{finding.rule} help for {_unsafe(case, where)!r}: PostgreSQL "
                            f"rejects {sql!r}: {err}\n--- help ---\n{finding.help}"
                        )
                    ran += 1
    assert ran or case in ("drop-table", "truncate", "lock-table"), (
        f"no runnable SQL in the help of {[f.rule for f in findings]}"
    )


def test_alternatives_split_on_or_and_join_lines() -> None:
    help_text = (
        "Either give it a default:\n    ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT <value>;\n"
        "or add it nullable:\n    ALTER TABLE t ADD COLUMN c int;\n    -- then\n"
        "    UPDATE t SET c = 1\n    WHERE id IN (SELECT 1);\n"
    )
    assert alternatives(help_text) == [
        ["ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT <value>;"],
        ["ALTER TABLE t ADD COLUMN c int;", "UPDATE t SET c = 1\nWHERE id IN (SELECT 1);"],
    ]


def test_not_null_column_on_a_filled_new_table_fails_as_reported(dsn: str) -> None:
    # add-required-column reports this ALTER as failing: PostgreSQL's own verdict.
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE settings (id int PRIMARY KEY, name text)")
        conn.execute("INSERT INTO settings VALUES (1, 'a')")
        with pytest.raises(psycopg.errors.NotNullViolation) as err:
            conn.execute("ALTER TABLE settings ADD COLUMN owner_id bigint NOT NULL")
        assert 'column "owner_id" of relation "settings" contains null values' in str(err.value)
