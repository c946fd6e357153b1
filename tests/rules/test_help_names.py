"""Help in the user's own tool names the user's own objects (issue 13, point 3): for each
rule whose help gives code, the same migration linted as plain SQL, as a Prisma migration
and as an Alembic revision gives help that names its table, column, index or constraint,
and a revision gets the op call itself, valid Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import bare_sql, upgrade_code
from alembic_revisions import lint_revisions
from helpers import lint_sql
from migcheck.model import Finding

L = (
    "CREATE TABLE billing.ledger (id int PRIMARY KEY, account_id int, amount int, "
    "settled_at timestamptz, note text);"
)
A = "CREATE TABLE billing.accounts (id int PRIMARY KEY);"
IX = " CREATE INDEX ix_ledger_settled ON billing.ledger (settled_at);"
V = " CREATE VIEW billing.open_ledger AS SELECT * FROM billing.ledger;"
FK = (
    " ALTER TABLE billing.ledger ADD CONSTRAINT ledger_account_fk FOREIGN KEY (account_id) "
    "REFERENCES billing.accounts (id);"
)

# (rule, history, migration, names every form shows, a line of the revision's help)
CASES = [
    (
        "non-concurrent-index",
        [L],
        "CREATE INDEX ix_ledger_settled ON billing.ledger (settled_at);",
        ["ix_ledger_settled", "ledger", "settled_at", "billing"],
        '        op.create_index("ix_ledger_settled", "ledger", ["settled_at"], '
        'schema="billing", postgresql_concurrently=True)',
    ),
    (
        "non-concurrent-drop-index",
        [L + IX],
        "DROP INDEX billing.ix_ledger_settled;",
        ["ix_ledger_settled", "billing"],
        '        op.drop_index("ix_ledger_settled", table_name="ledger", schema="billing", '
        "postgresql_concurrently=True)",
    ),
    (
        "foreign-key-without-index",
        [A, L],
        "ALTER TABLE billing.ledger ADD CONSTRAINT ledger_account_fk FOREIGN KEY (account_id) "
        "REFERENCES billing.accounts (id) NOT VALID;",
        ["ledger_account_id_idx", "ledger", "account_id"],
        '        op.create_index("ledger_account_id_idx", "ledger", ["account_id"], '
        'schema="billing", postgresql_concurrently=True)',
    ),
    (
        "type-change-rewrite",
        [L],
        "ALTER TABLE billing.ledger ALTER COLUMN amount TYPE bigint;",
        ["ledger", "amount_new", "amount", "billing"],
        '    op.add_column("ledger", sa.Column("amount_new", sa.BigInteger()), schema="billing")',
    ),
    (
        "rename-column",
        [L],
        "ALTER TABLE billing.ledger RENAME COLUMN note TO memo;",
        ["ledger", "memo", "note", "billing"],
        '    op.drop_column("ledger", "note", schema="billing")',
    ),
    (
        "drop-column",
        [L],
        "ALTER TABLE billing.ledger DROP COLUMN note;",
        ["ledger", "note", "billing"],
        '    op.drop_column("ledger", "note", schema="billing")',
    ),
    (
        "drop-table",
        [L],
        "DROP TABLE billing.ledger;",
        ["ledger", "billing"],
        '    op.drop_table("ledger", schema="billing")',
    ),
    (
        "set-not-null-scan",
        [L],
        "ALTER TABLE billing.ledger ALTER COLUMN amount SET NOT NULL;",
        ["ledger_amount_not_null", "ledger", "amount"],
        '    op.create_check_constraint("ledger_amount_not_null", "ledger", "amount IS NOT NULL", '
        'schema="billing", postgresql_not_valid=True)',
    ),
    (
        "drop-foreign-key",
        [A, L + FK],
        "ALTER TABLE billing.ledger DROP CONSTRAINT ledger_account_fk;",
        ["ledger_account_fk", "ledger", "account_id", "accounts"],
        '    op.drop_constraint("ledger_account_fk", "ledger", type_="foreignkey", '
        'schema="billing")',
    ),
    (
        "missing-lock-timeout",
        [L],
        "ALTER TABLE billing.ledger ADD COLUMN memo text;",
        ["lock_timeout"],
        "    op.execute(\"SET lock_timeout = '2s'\")",
    ),
    (
        "lock-table",
        [L],
        "LOCK TABLE billing.ledger IN EXCLUSIVE MODE;",
        ["billing.ledger", "EXCLUSIVE"],
        '    op.execute("LOCK TABLE billing.ledger IN EXCLUSIVE MODE")',
    ),
    (
        "validate-in-same-transaction",
        [L],
        "ALTER TABLE billing.ledger ADD CONSTRAINT ledger_amount_positive CHECK (amount > 0) "
        "NOT VALID; ALTER TABLE billing.ledger VALIDATE CONSTRAINT ledger_amount_positive;",
        ["ledger_amount_positive", "ledger"],
        '    op.execute("ALTER TABLE billing.ledger VALIDATE CONSTRAINT ledger_amount_positive")',
    ),
    (
        "drop-view",
        [L + V],
        "DROP VIEW billing.open_ledger;",
        ["open_ledger", "billing"],
        """    op.execute('DROP VIEW "billing"."open_ledger"')""",
    ),
    (
        "rename-view",
        [L + V],
        "ALTER VIEW billing.open_ledger RENAME TO unsettled;",
        ["open_ledger", "unsettled"],
        """    op.execute('CREATE VIEW "billing"."open_ledger" AS SELECT * FROM """
        """"billing"."unsettled"')""",
    ),
    (
        "rename-table",
        [L],
        "ALTER TABLE billing.ledger RENAME TO journal;",
        ["ledger", "journal", "billing"],
        '    op.rename_table("ledger", "journal", schema="billing")',
    ),
    (
        "unique-without-index",
        [L],
        "ALTER TABLE billing.ledger ADD CONSTRAINT ledger_note_key UNIQUE (note);",
        ["ledger_note_key", "ledger", "note"],
        '        op.create_index("ledger_note_key", "ledger", ["note"], unique=True, '
        'schema="billing", postgresql_concurrently=True)',
    ),
    (
        "non-concurrent-reindex",
        [L + IX],
        "REINDEX INDEX billing.ix_ledger_settled;",
        ["ix_ledger_settled", "billing"],
        '        op.execute("REINDEX INDEX CONCURRENTLY billing.ix_ledger_settled")',
    ),
    (
        "delete-without-where",
        [L],
        "DELETE FROM billing.ledger;",
        ["ledger", "billing"],
        """    op.execute('DELETE FROM "billing"."ledger" WHERE <condition> AND <batch range>')""",
    ),
    (
        "truncate-table",
        [L],
        "TRUNCATE billing.ledger;",
        ["ledger", "billing"],
        """    op.execute('DELETE FROM "billing"."ledger" WHERE <condition> AND <batch range>')""",
    ),
    (
        "drop-trigger",
        [L],
        "DROP TRIGGER ledger_touch ON billing.ledger;",
        ["ledger_touch", "ledger"],
        """    op.execute('DROP TRIGGER ledger_touch ON "billing"."ledger"')""",
    ),
    (
        "rename-type",
        ["CREATE TYPE billing.ledger_state AS ENUM ('open');"],
        "ALTER TYPE billing.ledger_state RENAME TO entry_state;",
        ["ledger_state", "entry_state", "billing"],
        """    op.execute('ALTER TYPE "billing"."ledger_state" RENAME TO "entry_state"')""",
    ),
    (
        "prefer-bigint",
        [],
        "CREATE TABLE billing.ledger (id serial PRIMARY KEY, note text);",
        ["id"],
        '    sa.Column("id", sa.BigInteger(), autoincrement=True)',
    ),
    (
        "prefer-text",
        [],
        "CREATE TABLE billing.ledger (id bigint PRIMARY KEY, note varchar(40));",
        ["note", "40"],
        """    sa.Column("note", sa.Text(), sa.CheckConstraint('char_length("note") <= 40'))""",
    ),
    (
        "prefer-timestamptz",
        [],
        "CREATE TABLE billing.ledger (id bigint PRIMARY KEY, settled_at timestamp(3));",
        ["settled_at"],
        '    sa.Column("settled_at", postgresql.TIMESTAMP(timezone=True, precision=3))',
    ),
]
IDS = [c[0] for c in CASES]


def _help(rule: str, history: list[str], sql: str, tool: str) -> Finding:
    # Every form runs in a transaction, as an Alembic revision does.
    found = [
        f
        for f in lint_sql(sql, history=history, rules=[rule], tool=tool, runner_transaction=True)
        if f.rule == rule
    ]
    assert found, (rule, tool)
    return found[0]


@pytest.mark.parametrize(("rule", "history", "sql", "names", "call"), CASES, ids=IDS)
def test_revision_gets_the_op_call_with_the_users_names(
    rule: str, history: list[str], sql: str, names: list[str], call: str
) -> None:
    f = _help(rule, history, sql, "alembic")
    assert call in f.help.splitlines(), f.help
    assert all(n in f.help for n in names), f.help
    assert bare_sql(f.help) == []
    upgrade_code(f.help)


@pytest.mark.parametrize(("rule", "history", "sql", "names", "call"), CASES, ids=IDS)
def test_plain_sql_gets_sql_with_the_users_names(
    rule: str, history: list[str], sql: str, names: list[str], call: str
) -> None:
    f = _help(rule, history, sql, "sql")
    assert all(n in f.help for n in names), f.help
    assert call not in f.help and "op." not in f.help and "SQLAlchemy" not in f.help


@pytest.mark.parametrize(("rule", "history", "sql", "names", "call"), CASES, ids=IDS)
def test_prisma_gets_its_migration_sql_with_the_users_names(
    rule: str, history: list[str], sql: str, names: list[str], call: str
) -> None:
    f = _help(rule, history, sql, "prisma")
    assert all(n in f.help for n in names), f.help
    assert "op." not in f.help and "SQLAlchemy" not in f.help


def test_a_real_revision_gets_its_own_index_back_as_a_concurrent_call(tmp_path: Path) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            'op.create_table("orders", sa.Column("id", sa.BigInteger()), '
            'sa.Column("status", sa.Text()))',
            'op.create_index("ix_orders_status", "orders", ["status"])',
        ],
        ["non-concurrent-index"],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [
        ("r2.py", 6, "non-concurrent-index")
    ]
    code = upgrade_code(findings[0].help)
    assert (
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_orders_status", "orders", ["status"], '
        "postgresql_concurrently=True)\n"
    ) in code
    assert (
        '        op.drop_index("ix_orders_status", table_name="orders", '
        "postgresql_concurrently=True)\n"
    ) in code
    assert "CREATE INDEX" not in findings[0].help


def test_a_renamed_enum_keeps_its_database_name_in_the_model() -> None:
    history = ["CREATE TYPE billing.ledger_state AS ENUM ('open');"]
    sql = "ALTER TYPE billing.ledger_state RENAME TO entry_state;"
    alembic = _help("rename-type", history, sql, "alembic")
    assert '`sa.Enum(NewName, name="ledger_state", schema="billing")`' in alembic.help
    plain = _help("rename-type", history, sql, "sql")
    assert "sa.Enum" not in plain.help


def test_a_concurrent_call_inside_the_revisions_transaction_comes_back_in_a_block(
    tmp_path: Path,
) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            'op.create_table("orders", sa.Column("status", sa.Text()))',
            'op.create_index("ix_orders_status", "orders", ["status"], '
            "postgresql_concurrently=True)",
        ],
        ["concurrent-in-transaction"],
    )
    assert [(Path(f.path).name, f.line) for f in findings] == [("r2.py", 6)]
    assert upgrade_code(findings[0].help).endswith(
        "    with op.get_context().autocommit_block():\n"
        '        op.create_index("ix_orders_status", "orders", ["status"], '
        "postgresql_concurrently=True)\n"
    )
    # Plain SQL keeps the runner advice, with no Alembic in it.
    (plain,) = lint_sql(
        "BEGIN; CREATE INDEX CONCURRENTLY ix_orders_status ON orders (status); COMMIT;",
        rules=["concurrent-in-transaction"],
    )
    assert "op." not in plain.help and "autocommit_block" not in plain.help


def test_non_concurrent_index_in_a_revision_each_form() -> None:
    rule, history = "non-concurrent-index", [L]
    plain = _help(
        rule, history, "CREATE INDEX ix_ledger_settled ON billing.ledger (settled_at);", "alembic"
    )
    assert "drop it and run the call again:" in plain.help
    assert "Run it outside any transaction block: the `autocommit_block()` above commits" in (
        plain.help
    )
    # An expression index: op.create_index cannot say it, so its SQL runs in the block.
    expr = _help(rule, history, "CREATE INDEX ix_note ON billing.ledger (lower(note));", "alembic")
    assert (
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("CREATE INDEX CONCURRENTLY ix_note ON billing.ledger (lower(note))")'
    ) in expr.help
    upgrade_code(expr.help)
    # IF NOT EXISTS: the leftover is dropped IF EXISTS first.
    ine = _help(
        rule, history, "CREATE INDEX IF NOT EXISTS ix_s ON billing.ledger (settled_at);", "alembic"
    )
    assert (
        '        op.drop_index("ix_s", table_name="ledger", schema="billing", '
        "postgresql_concurrently=True, if_exists=True)"
    ) in ine.help.splitlines()
    # A partitioned parent: each partition's build in an autocommit block.
    parted = [
        "CREATE TABLE events (id bigint, at timestamptz) PARTITION BY RANGE (at);",
    ]
    part = _help(rule, parted, "CREATE INDEX events_at_idx ON events (at);", "alembic")
    assert (
        "    with op.get_context().autocommit_block():\n"
        '        op.execute("CREATE INDEX CONCURRENTLY <partition>_idx ON <partition> (…)")'
    ) in part.help
    upgrade_code(part.help)
    sql = _help(rule, parted, "CREATE INDEX events_at_idx ON events (at);", "sql")
    assert "    CREATE INDEX CONCURRENTLY <partition>_idx ON <partition> (…);" in sql.help
    assert (
        "drop it and run the statement again:"
        in _help(
            rule, history, "CREATE INDEX ix_ledger_settled ON billing.ledger (settled_at);", "sql"
        ).help
    )
