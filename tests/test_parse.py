"""The statement model for every form sqlglot leaves opaque, raises on, or misparses.

Each case is a statement a safety linter must understand; the assertion is on the
normalised ops a rule would read, so a regression in either reader shows up here.
"""

from __future__ import annotations

import pytest

from migcheck.model import Op
from migcheck.sql.parse import parse_statement
from migcheck.sql.split import split_sql


def ops_of(sql: str) -> tuple[list[Op], str | None]:
    result = split_sql(sql)
    assert len(result.statements) == 1, result.statements
    return parse_statement(sql, result.statements[0].tokens)


def brief(op: Op) -> tuple[object, ...]:
    return (op.kind, op.table, op.name, op.column, op.new_name)


CASES = [
    # sqlglot: exp.Command (opaque)
    ("ALTER TYPE \"Role\" ADD VALUE 'AUDITOR'", [("add_enum_value", "Role", None, None, None)]),
    (
        "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'",
        [("rename_enum_value", "mood", None, None, "blue")],
    ),
    ('ALTER TYPE "Plan" RENAME TO "Plan_old"', [("rename_type", "Plan", "Plan", None, "Plan_old")]),
    (
        "ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk",
        [("validate_constraint", "orders", "orders_user_fk", None, None)],
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx",
        [("add_constraint", "users", "users_email_key", None, None)],
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT users_pkey PRIMARY KEY USING INDEX users_id_idx",
        [("add_constraint", "users", "users_pkey", None, None)],
    ),
    (
        "ALTER TABLE users RENAME CONSTRAINT a TO b",
        [("rename_constraint", "users", "a", None, "b")],
    ),
    (
        "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        [("attach_partition", "events", "events_2026", None, None)],
    ),
    (
        "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY",
        [("detach_partition", "events", "events_2020", None, None)],
    ),
    (
        "ALTER TABLE events DETACH PARTITION events_2020",
        [("detach_partition", "events", "events_2020", None, None)],
    ),
    ("ALTER TABLE users SET SCHEMA archive", [("set_schema", "users", None, None, "archive")]),
    (
        "ALTER TABLE users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY",
        [("add_identity", "users", None, "id", None)],
    ),
    (
        "ALTER TABLE users ALTER COLUMN total DROP EXPRESSION",
        [("drop_expression", "users", None, "total", None)],
    ),
    (
        "REINDEX INDEX CONCURRENTLY users_email_idx",
        [("reindex", None, "users_email_idx", None, None)],
    ),
    ("REINDEX TABLE users", [("reindex", "users", "users", None, None)]),
    (
        "REFRESH MATERIALIZED VIEW sales_summary",
        [("refresh_matview", "sales_summary", "sales_summary", None, None)],
    ),
    ("LOCK TABLE users IN ACCESS EXCLUSIVE MODE", [("lock", "users", None, None, None)]),
    ("VACUUM FULL users", [("vacuum", "users", None, None, None)]),
    (
        "CREATE EXTENSION IF NOT EXISTS pgcrypto",
        [("create_extension", None, "pgcrypto", None, None)],
    ),
    ("DO $$ BEGIN EXECUTE 'ALTER TABLE t DROP COLUMN c'; END $$", [("do", None, None, None, None)]),
    (
        "CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN NEW.updated_at = now(); RETURN NEW; END $f$",
        [("create_function", None, "touch", None, None)],
    ),
    # one unsupported action made the whole ALTER opaque and hid the DROP COLUMN
    (
        "ALTER TABLE users ALTER COLUMN total DROP EXPRESSION, DROP COLUMN legacy",
        [
            ("drop_expression", "users", None, "total", None),
            ("drop_column", "users", None, "legacy", None),
        ],
    ),
    (
        "ALTER TABLE users ADD CONSTRAINT k UNIQUE USING INDEX i, DROP COLUMN bio",
        [("add_constraint", "users", "k", None, None), ("drop_column", "users", None, "bio", None)],
    ),
    # sqlglot raises
    (
        "DROP INDEX a, b",
        [("drop_index", None, "a", None, None), ("drop_index", None, "b", None, None)],
    ),
    (
        "CREATE INDEX events_at_idx ON ONLY events (at)",
        [("create_index", "events", "events_at_idx", None, None)],
    ),
    ("CLUSTER users USING users_pkey", [("cluster", "users", "users_pkey", None, None)]),
    (
        "CREATE TABLE t (id int, CONSTRAINT t_id_nn NOT NULL id)",
        [("create_table", "t", "t", None, None)],
    ),
    # sqlglot silently misparses
    (
        "ALTER TABLE users RENAME name TO full_name",
        [("rename_column", "users", None, "name", "full_name")],
    ),
    (
        "ALTER TABLE users RENAME COLUMN name TO full_name",
        [("rename_column", "users", None, "name", "full_name")],
    ),
    ("ALTER TABLE users RENAME TO customers", [("rename_table", "users", None, None, "customers")]),
    ("SAVEPOINT before_backfill", [("savepoint", None, "before_backfill", None, None)]),
    ("CLUSTER users", [("cluster", "users", None, None, None)]),
]


@pytest.mark.parametrize(("sql", "expected"), CASES, ids=[c[0][:50] for c in CASES])
def test_statement_model(sql: str, expected: list[tuple[object, ...]]) -> None:
    ops, reason = ops_of(sql)
    assert reason is None
    assert [brief(op) for op in ops] == expected


def test_flags_that_rules_read() -> None:
    (op,), _ = ops_of("ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY")
    assert op.concurrently
    (op,), _ = ops_of("REINDEX INDEX CONCURRENTLY users_email_idx")
    assert op.concurrently and op.mode == "index"
    (op,), _ = ops_of("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
    assert op.mode == "SHARE ROW EXCLUSIVE"
    (op,), _ = ops_of("LOCK users")
    assert op.mode == "ACCESS EXCLUSIVE"
    (op,), _ = ops_of("VACUUM (FULL, ANALYZE) users")
    assert op.mode == "full"
    (op,), _ = ops_of("VACUUM ANALYZE users")
    assert op.mode is None
    (op,), _ = ops_of(
        "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_idx"
    )
    assert op.constraint is not None and op.constraint.using_index == "users_email_idx"
    (op,), _ = ops_of("ALTER TABLE t ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID")
    assert op.constraint is not None
    assert (op.constraint.kind, op.constraint.not_valid, op.constraint.not_null_column) == (
        "check",
        True,
        "email",
    )
    (op,), _ = ops_of(
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE'
    )
    assert op.constraint is not None
    assert (
        op.constraint.kind,
        op.constraint.columns,
        op.constraint.ref_table,
        op.constraint.not_valid,
    ) == ("foreign_key", ("authorId",), "User", False)


def test_identifiers_fold_like_postgres() -> None:
    (a, b), _ = ops_of('ALTER TABLE Public.Users DROP COLUMN "Email", DROP COLUMN Name')
    assert (a.table, a.column, b.column) == ("users", "Email", "name")
    ops, _ = ops_of('ALTER TABLE "Public"."Users" DROP COLUMN x')
    assert ops[0].table == "Public.Users"


def test_column_definitions_and_defaults() -> None:
    (op,), _ = ops_of(
        'ALTER TABLE "User" ADD COLUMN "token" UUID NOT NULL DEFAULT gen_random_uuid()'
    )
    col = op.column_def
    assert col is not None and col.not_null and col.type is not None
    assert col.default is not None and col.default.functions == ("gen_random_uuid",)
    assert col.default.volatility == "volatile"
    (op,), _ = ops_of(
        'ALTER TABLE "User" ADD COLUMN "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP'
    )
    assert op.column_def is not None and op.column_def.default is not None
    assert op.column_def.default.volatility == "stable"
    assert op.type is not None and op.type.params == (3,)
    (op,), _ = ops_of("ALTER TABLE t ADD COLUMN c varchar(255)[] DEFAULT '{}'::varchar[]")
    assert op.type is not None and (op.type.params, op.type.array) == ((255,), 1)
    assert op.default is not None and op.default.volatility == "immutable"
    (op,), _ = ops_of(
        "ALTER TABLE t ADD COLUMN total numeric GENERATED ALWAYS AS (price * qty) STORED"
    )
    assert op.column_def is not None and op.column_def.generated == "stored"


def test_alter_column_type_with_using() -> None:
    (op,), _ = ops_of(
        'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DECIMAL(65,30) USING "total"::decimal'
    )
    assert op.kind == "alter_column_type" and op.column == "total"
    assert op.type is not None and op.type.params == (65, 30)
    assert op.using is not None and op.using.text == '"total"::decimal'


def test_unknown_statement_is_reported_not_dropped() -> None:
    ops, reason = ops_of("FROBNICATE the database")
    assert ops == []
    assert reason is not None and "FROBNICATE" in reason


def test_dml_through_sqlglot() -> None:
    (op,), _ = ops_of("UPDATE users SET plan = 'free'")
    assert (op.kind, op.table, op.has_where) == ("update", "users", False)
    (op,), _ = ops_of(
        "WITH b AS (SELECT id FROM users LIMIT 1000) UPDATE users SET plan = 'free' WHERE id IN (SELECT id FROM b)"
    )
    assert (op.kind, op.table, op.has_where) == ("update", "users", True)
    (op,), _ = ops_of("DELETE FROM sessions")
    assert (op.kind, op.table, op.has_where) == ("delete", "sessions", False)
    (op,), _ = ops_of("INSERT INTO archive (id) SELECT id FROM users")
    assert (op.kind, op.table, op.options["select"], op.options["select_from"]) == (
        "insert",
        "archive",
        True,
        "users",
    )


def test_queries_sqlglot_cannot_parse_are_still_reads() -> None:
    (op,), reason = ops_of(
        'SELECT "id" FROM "Comment" WHERE "taskId" IN ($1) ORDER BY "createdAt" OFFSET $2'
    )
    assert (op.kind, reason) == ("select", None)


DOMAIN_CASES = [
    ("ALTER DOMAIN posint ADD CONSTRAINT pos CHECK (VALUE > 0)", "add_constraint", False),
    ("ALTER DOMAIN app.posint ADD CHECK (VALUE > 0) NOT VALID", "add_constraint", True),
    ("ALTER DOMAIN posint SET NOT NULL", "set_not_null", False),
    ("ALTER DOMAIN posint DROP NOT NULL", "drop_not_null", False),
    ("ALTER DOMAIN posint VALIDATE CONSTRAINT pos", "validate_constraint", False),
]


@pytest.mark.parametrize(("sql", "mode", "not_valid"), DOMAIN_CASES)
def test_alter_domain_constraint_forms(sql: str, mode: str, not_valid: bool) -> None:
    ops, _ = ops_of(sql)
    assert [(o.kind, o.mode) for o in ops] == [("alter_domain", mode)]
    con = ops[0].constraint
    assert (con is not None and con.not_valid) == not_valid


def test_alter_domain_rename_still_reads_as_a_type_rename() -> None:
    ops, _ = ops_of("ALTER DOMAIN posint RENAME TO positive")
    assert [brief(o) for o in ops] == [("rename_type", "posint", "posint", None, "positive")]


def test_index_keys_count_only_leading_plain_columns() -> None:
    ops, _ = ops_of("CREATE INDEX i ON t (a, lower(b), c)")
    assert ops[0].names[: ops[0].options["plain_keys"]] == ("a",)  # type: ignore[misc]
    ops, _ = ops_of("CREATE INDEX i ON t ((a + b), c)")
    assert ops[0].options["plain_keys"] == 0


def test_unique_index_keys_and_predicate_are_one_spelling() -> None:
    # drop-key-constraint compares indexes written by different tools (sql/indexkeys.py).
    sep = "\x1f"
    a = ops_of(
        'CREATE UNIQUE INDEX i ON "user" (lower("email") DESC, "State" ASC NULLS LAST) '
        "WHERE (\"user\".state = 'active')"
    )[0][0]
    b = ops_of('create unique index j on "user" ((lower(email)), "State") where state=\'active\'')[
        0
    ][0]
    assert a.options["keys"] == b.options["keys"] == sep.join(["lower ( email )", "State"])
    assert a.options["key_refs"] == "email" + sep + "State"
    assert a.options["where"] == b.options["where"] == "state = 'active'"
    plain = ops_of("create unique index k on t (a) include (b) nulls not distinct")[0][0]
    assert plain.options["where"] is None and plain.options["nulls_not_distinct"] is True
    # ``(a) + (b)`` keeps its parentheses: they do not wrap the whole key.
    expr = ops_of("create unique index m on t (((a) + (b)))")[0][0]
    assert expr.options["keys"] == "( a ) + ( b )"
    assert expr.options["key_refs"] == "a" + sep + "b"


def test_update_says_which_columns_it_fills_and_what_it_reads() -> None:
    sep = "\x1f"
    (op,), _ = ops_of("UPDATE t SET a = COALESCE(a, 0), b = 'x', c = d, e = NULL")
    assert op.options["fills"] == "a" + sep + "b"
    (op,), _ = ops_of("UPDATE t SET a = 1, b = 2 WHERE (a IS NULL)")
    assert op.options["fills"] == "a"
    (op,), _ = ops_of("UPDATE t SET a = 1 WHERE a IS NULL AND b > 0")
    assert op.options["fills"] == ""
    (op,), _ = ops_of("UPDATE t SET a = 1 FROM s WHERE s.id = t.id")
    assert op.options["fills"] == "" and op.options["reads"] == "s"
    (op,), _ = ops_of("UPDATE t SET a = CASE WHEN b THEN 1 END")
    assert op.options["fills"] == ""
    (op,), _ = ops_of("UPDATE t SET a = (SELECT max(x) FROM u WHERE u.id = t.id)")
    assert op.options["reads"] == "u"
    (op,), _ = ops_of("INSERT INTO t VALUES (1)")
    assert op.options["reads"] == ""
