"""Near misses and help text that the mutation run (scripts/mutate.py) found unpinned.

Each quiet case sits next to a minimally different one that must fire, so a rule that
goes silent, or fires where it must not, fails here. Expectations follow PostgreSQL's
behaviour as pgcatalog records it, not the rule's code.
"""

from __future__ import annotations

import pytest

from helpers import ids, lint_sql, where

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, email text, ip cidr, flags bit(3), n int);"


def run(sql: str, rule: str, **kw: object) -> list:
    return lint_sql(sql, history=[USERS], rules=[rule], **kw)


# --- volatile-default: a stored generated column --------------------------------------

STORED = "ALTER TABLE users ADD COLUMN twice bigint GENERATED ALWAYS AS (id * 2) STORED;"


def test_stored_generated_column_help_before_pg18_backfills() -> None:
    [f] = run(STORED, "volatile-default", pg=17)
    assert "A stored generated column cannot be added without a rewrite" in f.help
    assert "    ALTER TABLE users ADD COLUMN twice bigint;" in f.help
    assert (
        "UPDATE users SET twice = id * 2 WHERE id IN "
        "(SELECT id FROM users WHERE twice IS NULL LIMIT 5000);" in f.help
    )
    assert "VIRTUAL" not in f.help


def test_stored_generated_column_help_on_pg18_offers_virtual() -> None:
    [f] = run(STORED, "volatile-default", pg=18)
    assert f.help.startswith("On PostgreSQL 18+ a VIRTUAL generated column")
    assert (
        "    ALTER TABLE users ADD COLUMN twice bigint GENERATED ALWAYS AS (id * 2) VIRTUAL;"
        in f.help
    )


def test_plain_column_is_quiet_next_to_the_stored_generated_one() -> None:
    assert run("ALTER TABLE users ADD COLUMN twice bigint;", "volatile-default", pg=17) == []


# --- set-not-null after ADD COLUMN ----------------------------------------------------


@pytest.mark.parametrize("default", ["", " DEFAULT NULL"])
def test_nullable_column_then_set_not_null_fires(default: str) -> None:
    sql = (
        f"ALTER TABLE users ADD COLUMN x int{default};\n"
        "ALTER TABLE users ALTER COLUMN x SET NOT NULL;"
    )
    for rule in ("set-not-null", "set-not-null-scan"):
        assert where(run(sql, rule), rule) == [(2, 19)], rule


def test_column_added_not_null_with_a_default_then_set_not_null_is_quiet() -> None:
    sql = (
        "ALTER TABLE users ADD COLUMN x int NOT NULL DEFAULT 0;\n"
        "ALTER TABLE users ALTER COLUMN x SET NOT NULL;"
    )
    assert run(sql, "set-not-null") == []
    assert run(sql, "set-not-null-scan") == []


def test_column_added_not_null_is_reported_once() -> None:
    """ADD COLUMN ... NOT NULL is add-required-column's finding; the redundant SET NOT NULL
    after it adds no second one."""
    sql = (
        "ALTER TABLE users ADD COLUMN x int NOT NULL;\n"
        "ALTER TABLE users ALTER COLUMN x SET NOT NULL;"
    )
    rules = ["add-required-column", "set-not-null", "set-not-null-scan"]
    findings = lint_sql(sql, history=[USERS], rules=rules)
    assert [(f.rule, f.line) for f in findings] == [("add-required-column", 1)]


# --- change-column-type: types the app reads the same way ------------------------------


@pytest.mark.parametrize(
    ("column", "new"),
    [("ip", "inet"), ("flags", "varbit"), ("flags", "bit varying(5)"), ("n", "bigint")],
)
def test_compatible_type_changes_are_not_breaking(column: str, new: str) -> None:
    sql = f"ALTER TABLE users ALTER COLUMN {column} TYPE {new};"
    assert run(sql, "change-column-type") == []


@pytest.mark.parametrize(
    ("column", "new"),
    [("ip", "text"), ("flags", "bit(2)"), ("email", "inet USING email::inet"), ("n", "smallint")],
)
def test_near_miss_type_changes_are_breaking(column: str, new: str) -> None:
    sql = f"ALTER TABLE users ALTER COLUMN {column} TYPE {new};"
    assert where(run(sql, "change-column-type"), "change-column-type") == [(1, 19)]


# --- hold-exclusive-lock: only tables that existed before the transaction -------------


def test_lock_on_a_table_created_in_the_same_transaction_is_quiet() -> None:
    sql = (
        "BEGIN;\nCREATE TABLE t2 (id bigint);\nALTER TABLE t2 ADD COLUMN x int;\n"
        "UPDATE users SET n = 1;\nCOMMIT;"
    )
    assert run(sql, "hold-exclusive-lock") == []


def test_lock_on_an_existing_table_held_over_a_backfill_fires() -> None:
    sql = "BEGIN;\nALTER TABLE users ADD COLUMN x int;\nUPDATE users SET n = 1;\nCOMMIT;"
    [f] = run(sql, "hold-exclusive-lock")
    assert (f.line, f.column) == (2, 19)
    assert 'takes an ACCESS EXCLUSIVE lock on "users"' in f.message
    assert "line 3 updates every row" in f.message
    assert "every read and write" in f.message
    assert "COMMIT right after it" in f.help


def test_hold_exclusive_lock_is_reported_once_per_transaction() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN x int;\n"
        "UPDATE users SET n = 1;\nUPDATE users SET n = 2;\nCOMMIT;"
    )
    assert where(run(sql, "hold-exclusive-lock"), "hold-exclusive-lock") == [(2, 19)]


# --- messages name the lock the statement really takes --------------------------------


@pytest.mark.parametrize(
    ("sql", "rule", "says", "never"),
    [
        (
            "CREATE INDEX users_n ON users (n);",
            "non-concurrent-index",
            ["takes a SHARE lock", "blocks writes", "reads continue"],
            ["ACCESS EXCLUSIVE", "every read"],
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);",
            "unique-without-index",
            ["ACCESS EXCLUSIVE lock", "blocks every read and write"],
            ["SHARE lock", "reads continue"],
        ),
        (
            "ALTER TABLE users ADD CONSTRAINT users_n_pos CHECK (n > 0);",
            "constraint-without-not-valid",
            ["ACCESS EXCLUSIVE lock", "blocks every read and write"],
            ["reads continue"],
        ),
        (
            "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
            "set-not-null-scan",
            ["ACCESS EXCLUSIVE lock", "blocks every read and write"],
            ["reads continue"],
        ),
        (
            "ALTER TABLE users ALTER COLUMN n TYPE bigint;",
            "type-change-rewrite",
            ["ACCESS EXCLUSIVE lock", "blocks every read and write"],
            ["reads continue"],
        ),
        (
            "ALTER TABLE users ADD COLUMN u uuid DEFAULT gen_random_uuid();",
            "volatile-default",
            ["ACCESS EXCLUSIVE lock", "blocks every read and write"],
            ["reads continue"],
        ),
    ],
)
def test_message_names_the_lock_taken(
    sql: str, rule: str, says: list[str], never: list[str]
) -> None:
    [f] = run(sql, rule)
    for text in says:
        assert text in f.message, (text, f.message)
    for text in never:
        assert text not in f.message, (text, f.message)


def test_fk_message_names_share_row_exclusive_on_both_tables() -> None:
    history = [
        USERS,
        "CREATE TABLE accounts (id bigint PRIMARY KEY);",
        "ALTER TABLE users ADD COLUMN acc bigint;",
    ]
    sql = (
        "ALTER TABLE users ADD CONSTRAINT users_acc_fk FOREIGN KEY (acc) REFERENCES accounts (id);"
    )
    [f] = lint_sql(sql, history=history, rules=["constraint-without-not-valid"])
    assert (
        'SHARE ROW EXCLUSIVE locks on "users" and on the referenced table "accounts"' in f.message
    )
    assert "ACCESS EXCLUSIVE" not in f.message
    assert "SHARE UPDATE EXCLUSIVE" in f.help and "ROW SHARE" in f.help
    assert ids([f]) == ["constraint-without-not-valid"]


HOLD = (
    "BEGIN;\nALTER TABLE users ADD COLUMN a int;\n{middle}\nUPDATE orders SET total = 1;\nCOMMIT;"
)
TWO_TABLES = [
    USERS,
    "CREATE TABLE orders (id bigint PRIMARY KEY, total int);",
    "CREATE TABLE coupons (id bigint PRIMARY KEY);",
]


@pytest.mark.parametrize(
    ("middle", "fires"),
    [
        ("DROP TABLE users;", False),  # the DROP holds the lock to the end by itself
        ("DROP TABLE coupons, users;", False),  # second name of a multi-table DROP
        ("DROP TABLE coupons;", True),  # another table dropped: the lock on users still counts
        ("COMMIT;\nBEGIN;", False),  # committed before the slow work
        ("SELECT 1;", True),
    ],
)
def test_hold_exclusive_lock_after_a_drop_or_commit(middle: str, fires: bool) -> None:
    sql = HOLD.format(middle=middle)
    findings = lint_sql(sql, history=TWO_TABLES, rules=["hold-exclusive-lock"])
    assert where(findings, "hold-exclusive-lock") == ([(2, 19)] if fires else [])


def test_hold_exclusive_lock_help_in_a_runner_transaction_moves_the_rest_out() -> None:
    sql = "ALTER TABLE users ADD COLUMN a int;\nUPDATE users SET n = 1;"
    [f] = lint_sql(
        sql, history=[USERS], rules=["hold-exclusive-lock"], runner_transaction=True, tool="flyway"
    )
    assert "move line 2 (and what follows) into a separate migration" in f.help
    assert "COMMIT right after" not in f.help
    assert "    SET lock_timeout = '5s';" in f.help
    assert f.severity == "warning"


@pytest.mark.parametrize(
    ("column", "int_type"),
    [
        ("n2 serial", "integer"),
        ("n2 smallserial", "smallint"),
        ("n2 bigserial", "bigint"),
        ("n2 integer GENERATED BY DEFAULT AS IDENTITY", "integer"),
    ],
)
def test_sequence_help_keeps_the_integer_width(column: str, int_type: str) -> None:
    [f] = run(f"ALTER TABLE users ADD COLUMN {column};", "volatile-default")
    assert f"    ALTER TABLE users ADD COLUMN n2 {int_type};" in f.help
    assert "    CREATE SEQUENCE users_n2_seq OWNED BY users.n2;" in f.help
    identity = "ADD GENERATED BY DEFAULT AS IDENTITY" in f.help
    assert identity == ("IDENTITY" in column)


# --- set-not-null: the help per version, and columns this migration adds ---------------

SNN = "ALTER TABLE users ALTER COLUMN email SET NOT NULL;"


def test_set_not_null_help_on_pg12_sets_not_null_after_the_check() -> None:
    [f] = run(SNN, "set-not-null", pg=12)
    assert '    ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL;' in f.help
    assert '    ALTER TABLE "users" DROP CONSTRAINT "users_email_not_null";' in f.help
    assert "Keep the check" not in f.help


def test_set_not_null_help_before_pg12_keeps_the_check() -> None:
    [f] = run(SNN, "set-not-null", pg=11)
    assert "3. Keep the check instead of SET NOT NULL" in f.help
    assert "DROP CONSTRAINT" not in f.help and "SET NOT NULL;" not in f.help


def test_set_not_null_check_name_of_a_schema_qualified_table() -> None:
    history = ["CREATE SCHEMA app;", "CREATE TABLE app.users (id bigint PRIMARY KEY, email text);"]
    sql = "ALTER TABLE app.users ALTER COLUMN email SET NOT NULL;"
    [f] = lint_sql(sql, history=history, rules=["set-not-null"])
    assert '"app_users_email_not_null"' in f.help


@pytest.mark.parametrize("known", [True, False])
@pytest.mark.parametrize(
    ("column", "fires"),
    [
        ("x int", True),
        ("x int DEFAULT NULL", True),
        ("x int DEFAULT 0", False),
        ("x int GENERATED BY DEFAULT AS IDENTITY", False),
    ],
)
def test_set_not_null_on_a_column_this_migration_adds(
    column: str, fires: bool, known: bool
) -> None:
    """Known table or one the history never showed: the same verdict and message."""
    sql = f"ALTER TABLE users ADD COLUMN {column};\nALTER TABLE users ALTER COLUMN x SET NOT NULL;"
    findings = lint_sql(sql, history=[USERS] if known else [], rules=["set-not-null"])
    assert where(findings, "set-not-null") == ([(2, 19)] if fires else [])
    if fires:
        assert 'a column this migration adds to existing table "users"' in findings[0].message
        assert (
            '    ALTER TABLE "users" ADD COLUMN "x" int NOT NULL DEFAULT <value>;'
            in findings[0].help
        )


def test_set_not_null_on_an_unknown_table_column_added_not_null_is_add_required_columns() -> None:
    sql = "ALTER TABLE users ADD COLUMN x int NOT NULL;\nALTER TABLE users ALTER COLUMN x SET NOT NULL;"
    assert lint_sql(sql, history=[], rules=["set-not-null"]) == []


# --- add-required-column: a NULL default is no default ----------------------------------


@pytest.mark.parametrize(
    ("column", "fires"),
    [
        ("x int NOT NULL DEFAULT NULL", True),
        ("x int NOT NULL DEFAULT (NULL)", True),
        ("x int NOT NULL DEFAULT NULL::integer", True),
        ("x text NOT NULL DEFAULT 'null'", False),
        ("x text NOT NULL DEFAULT ''", False),
        ("x bigserial NOT NULL", False),
        ("x smallserial NOT NULL", False),
        ("x int NOT NULL GENERATED ALWAYS AS (id) STORED", False),
        ("x int NOT NULL", True),
    ],
)
def test_add_required_column_defaults(column: str, fires: bool) -> None:
    findings = run(f"ALTER TABLE users ADD COLUMN {column};", "add-required-column")
    assert where(findings, "add-required-column") == ([(1, 19)] if fires else [])


def test_add_required_column_help_mentions_prisma_only_for_prisma() -> None:
    sql = 'ALTER TABLE "users" ADD COLUMN "x" INTEGER NOT NULL;'
    [plain] = run(sql, "add-required-column")
    [prisma] = run(sql, "add-required-column", tool="prisma")
    assert "Prisma" not in plain.help
    assert prisma.help.startswith("With Prisma, give the field a @default(...)")
    assert '    ALTER TABLE "users" ADD COLUMN "x" integer NOT NULL DEFAULT <value>;' in plain.help
    assert '    ALTER TABLE "users" ADD COLUMN "x" integer;' in plain.help
    assert plain.severity == "error" and plain.category == "compatibility"


# --- change-column-type: messages per kind of change -----------------------------------

MONEY = [USERS, "ALTER TABLE users ADD COLUMN price numeric(10,2);"]


@pytest.mark.parametrize(
    ("new", "fires"),
    [("numeric(12,2)", False), ("numeric(12,4)", True), ("numeric(8,2)", True)],
)
def test_numeric_precision_and_scale(new: str, fires: bool) -> None:
    sql = f"ALTER TABLE users ALTER COLUMN price TYPE {new};"
    findings = lint_sql(sql, history=MONEY, rules=["change-column-type"])
    assert where(findings, "change-column-type") == ([(1, 19)] if fires else [])


def test_widening_to_another_family_reads_back_differently() -> None:
    [f] = run("ALTER TABLE users ALTER COLUMN n TYPE numeric;", "change-column-type")
    assert "from integer to numeric" in f.message
    assert "psycopg returns Decimal instead of int" in f.message
    assert f.severity == "warning"
    assert "may reject" not in f.message
    # The rewrite is type-change-rewrite's finding; this one does not repeat its reason.
    assert "Postgres: " not in f.help


def test_narrowing_may_reject_values() -> None:
    [f] = run("ALTER TABLE users ALTER COLUMN n TYPE smallint;", "change-column-type")
    assert "smallint may reject or convert the values it writes" in f.message
    # Whether the ALTER itself fails is type-change-rewrite's reason, not repeated here.
    assert "ALTER fails" not in f.message
    assert '    UPDATE "users" SET "n_new" = "n"::smallint WHERE "n_new" IS NULL' in f.help


def test_unknown_old_type_says_so_and_keeps_the_using() -> None:
    sql = "ALTER TABLE t ALTER COLUMN c TYPE inet USING c::inet;"
    [f] = lint_sql(sql, history=[], rules=["change-column-type"])
    assert "cannot tell the column's old type" in f.message
    assert f.severity == "warning"
    assert '    UPDATE "t" SET "c_new" = c::inet WHERE "c_new" IS NULL AND <batch range>;' in f.help
    assert "Postgres:" not in f.help


# --- type-change-rewrite: rewrite, index rebuild only, unknown -------------------------


def test_bit_to_varbit_rebuilds_indexes_without_a_rewrite() -> None:
    [f] = run("ALTER TABLE users ALTER COLUMN flags TYPE varbit;", "type-change-rewrite")
    assert 'does not rewrite the table but rebuilds every index on "flags"' in f.message
    assert "ACCESS EXCLUSIVE" in f.message and "rewrites" not in f.message.split(":")[0]


def test_rewrite_names_the_old_type() -> None:
    [f] = run("ALTER TABLE users ALTER COLUMN n TYPE bigint;", "type-change-rewrite")
    assert 'Changing "users"."n" from integer to bigint rewrites "users"' in f.message


def test_unknown_old_type_is_one_warning_that_names_the_rewrite_doubt() -> None:
    sql = "ALTER TABLE t ALTER COLUMN c TYPE bigint;"
    assert lint_sql(sql, history=[], rules=["type-change-rewrite"]) == []
    [f] = lint_sql(sql, history=[], rules=["type-change-rewrite", "change-column-type"])
    assert f.rule == "change-column-type" and f.severity == "warning"
    assert 'or whether Postgres rewrites "t".' in f.message


def test_hold_exclusive_lock_reports_the_first_statement_that_took_the_lock() -> None:
    sql = (
        "BEGIN;\nALTER TABLE users ADD COLUMN a int;\nALTER TABLE users ADD COLUMN b int;\n"
        "ALTER TABLE orders ADD COLUMN c int;\nUPDATE coupons SET id = id;\nCOMMIT;"
    )
    [f] = lint_sql(sql, history=TWO_TABLES, rules=["hold-exclusive-lock"])
    assert (f.line, f.column) == (2, 19)
    assert 'ACCESS EXCLUSIVE lock on "users"' in f.message
    assert "line 5 updates every row" in f.message


def test_integer_to_numeric_with_scale_zero_still_reads_back_as_decimal() -> None:
    [f] = run("ALTER TABLE users ALTER COLUMN n TYPE numeric(10,0);", "change-column-type")
    assert "psycopg returns Decimal instead of int" in f.message


def test_type_change_of_a_view_column_is_not_a_table_change() -> None:
    history = [USERS, "CREATE VIEW v AS SELECT id FROM users;"]
    sql = "ALTER TABLE v ALTER COLUMN id TYPE integer;"
    assert lint_sql(sql, history=history, rules=["change-column-type"]) == []
    near = "ALTER TABLE users ALTER COLUMN id TYPE integer;"
    assert ids(lint_sql(near, history=history, rules=["change-column-type"])) == [
        "change-column-type"
    ]
