"""constraint-without-not-valid: FOREIGN KEY / CHECK validated under a blocking lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from alembic_help import assert_python
from helpers import lint_alembic, lint_sql, where

R = "constraint-without-not-valid"
PRISMA = (
    'CREATE TABLE "User" ("id" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
    'CREATE TABLE "Project" ("id" TEXT NOT NULL, "ownerId" TEXT);'
)
SQL = (
    "create table coupons (id bigserial primary key, code text);\n"
    "create table orders (id bigserial primary key, coupon_id bigint, total_cents bigint);\n"
    "CREATE TABLE invoice (id bigint primary key, status varchar(20));"
)


def run(sql: str, history: tuple[str, ...] = (PRISMA, SQL), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_foreign_key_on_existing_table() -> None:
    sql = (
        "-- AlterTable\n"
        'ALTER TABLE "Project" ADD COLUMN     "ownerId2" TEXT;\n\n'
        "-- AddForeignKey\n"
        'ALTER TABLE "Project" ADD CONSTRAINT "Project_ownerId_fkey" FOREIGN KEY ("ownerId") '
        'REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE;\n'
    )
    findings = run(sql, tool="prisma", implicit_transaction=True)
    assert where(findings, R) == [(5, 23)]
    f = findings[0]
    assert f.severity == "error" and f.category == "locking"
    assert 'foreign key "Project_ownerId_fkey" to existing table "Project"' in f.message
    assert 'SHARE ROW EXCLUSIVE locks on "Project" and on the referenced table "User"' in f.message
    assert (
        '    ALTER TABLE "Project" ADD CONSTRAINT "Project_ownerId_fkey" FOREIGN KEY ("ownerId") '
        'REFERENCES "User"("id") ON DELETE SET NULL ON UPDATE CASCADE NOT VALID;' in f.help
    )
    assert '    ALTER TABLE "Project" VALIDATE CONSTRAINT "Project_ownerId_fkey";' in f.help


def test_flyway_check_constraint() -> None:
    sql = (
        "ALTER TABLE invoice\n"
        "    ADD CONSTRAINT chk_invoice_status CHECK (status IN ('DRAFT', 'SENT', 'PAID', 'VOID'));\n"
    )
    findings = run(sql, tool="flyway", runner_transaction=True)
    assert where(findings, R) == [(2, 5)]
    assert "ACCESS EXCLUSIVE lock" in findings[0].message
    assert "every read and write" in findings[0].message
    assert "VALIDATE CONSTRAINT chk_invoice_status;" in findings[0].help


def test_unnamed_constraint_gets_postgres_default_name() -> None:
    findings = run("alter table orders add foreign key (coupon_id) references coupons (id);")
    assert where(findings, R) == [(1, 20)]
    assert "ADD CONSTRAINT orders_coupon_id_fkey foreign key (coupon_id)" in findings[0].help
    assert "VALIDATE CONSTRAINT orders_coupon_id_fkey;" in findings[0].help


def test_multi_action_alter_points_at_each_action() -> None:
    sql = (
        "alter table orders\n"
        "  add constraint orders_total_positive check (total_cents >= 0),\n"
        "  add constraint orders_coupon_fk foreign key (coupon_id) references coupons (id) "
        "not valid,\n"
        "  add constraint orders_coupon_fk2 foreign key (coupon_id) references coupons (id);\n"
    )
    assert where(run(sql), R) == [(2, 3), (4, 3)]


def test_add_column_references_with_default_validates() -> None:
    findings = run("alter table orders add column coupon2_id bigint default 0 references coupons;")
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert 'column "orders"."coupon2_id" with a REFERENCES "coupons"' in f.message
    assert "ALTER TABLE orders ADD COLUMN coupon2_id bigint DEFAULT 0;" in f.help
    assert "NOT VALID" in f.help


def test_add_column_check_scans() -> None:
    findings = run("alter table orders add column qty int check (qty > 0);")
    assert where(findings, R) == [(1, 20)]
    assert "ADD CONSTRAINT orders_qty_check CHECK (qty > 0) NOT VALID;" in findings[0].help


@pytest.mark.parametrize(
    "sql",
    [
        # Without a default every new value is NULL: PostgreSQL skips the validation scan.
        'ALTER TABLE "Project" ADD COLUMN "reviewerId" TEXT REFERENCES "User"("id");',
        "alter table orders add column coupon3_id bigint references coupons (id) on delete set null;",
        "alter table orders add constraint orders_coupon_id_fkey foreign key (coupon_id) "
        "references coupons (id) not valid;",
        "alter table orders add constraint c check (total_cents >= 0) not valid;",
        "alter table orders validate constraint orders_coupon_id_fkey;",
        "alter table orders add constraint orders_pkey2 unique (id);",
    ],
)
def test_safe_forms_are_quiet(sql: str) -> None:
    assert run(sql) == []


def test_foreign_key_from_a_new_table_to_an_existing_one_is_quiet() -> None:
    sql = (
        "-- CreateTable\n"
        'CREATE TABLE "Task" ("id" TEXT NOT NULL, "projectId" TEXT NOT NULL);\n\n'
        "-- AddForeignKey\n"
        'ALTER TABLE "Task" ADD CONSTRAINT "Task_projectId_fkey" FOREIGN KEY ("projectId") '
        'REFERENCES "Project"("id") ON DELETE RESTRICT ON UPDATE CASCADE;\n'
        'ALTER TABLE "Task" ADD CONSTRAINT "Task_id_check" CHECK ("id" <> \'\');\n'
    )
    assert run(sql, tool="prisma", implicit_transaction=True) == []


NOT_NULL_HISTORY = [
    "create table members (id bigint primary key, email text, name text not null);",
]


def test_postgres_18_not_null_constraint_without_not_valid() -> None:
    sql = "select 1;\nalter table members add constraint members_email_nn not null email;"
    findings = lint_sql(sql, history=NOT_NULL_HISTORY, rules=[R], pg=18)
    assert where(findings, R) == [(2, 21)]
    f = findings[0]
    assert f.message == (
        'Adding NOT NULL constraint "members_email_nn" on "members"."email" without NOT VALID '
        'scans every row while holding an ACCESS EXCLUSIVE lock on "members", which blocks '
        "every read and write on the table until the scan ends."
    )
    assert (
        "    ALTER TABLE members ADD constraint members_email_nn not null email NOT VALID;"
        in f.help
    )
    assert "    ALTER TABLE members VALIDATE CONSTRAINT members_email_nn;" in f.help


def test_not_null_constraints_that_do_not_scan_are_quiet() -> None:
    add = "alter table members add constraint members_{c}_nn not null {c}{suffix};"
    # NOT VALID; a column already NOT NULL; a validated CHECK proving it.
    assert (
        lint_sql(
            add.format(c="email", suffix=" not valid"), history=NOT_NULL_HISTORY, rules=[R], pg=18
        )
        == []
    )
    assert (
        lint_sql(add.format(c="name", suffix=""), history=NOT_NULL_HISTORY, rules=[R], pg=18) == []
    )
    proven = [
        *NOT_NULL_HISTORY,
        "alter table members add constraint m_email check (email is not null) not valid;\n"
        "alter table members validate constraint m_email;",
    ]
    assert lint_sql(add.format(c="email", suffix=""), history=proven, rules=[R], pg=18) == []
    # Before 18 the syntax does not exist (the statement fails): no scan claim.
    assert (
        lint_sql(add.format(c="email", suffix=""), history=NOT_NULL_HISTORY, rules=[R], pg=17) == []
    )


def test_hold_exclusive_lock_counts_the_not_null_constraint_scan() -> None:
    history = [*NOT_NULL_HISTORY, "create table notes (id int);"]
    sql = (
        "BEGIN;\nalter table notes add column x int;\n"
        "alter table members add constraint members_email_nn not null email;\nCOMMIT;"
    )
    findings = lint_sql(sql, history=history, rules=["hold-exclusive-lock"], pg=18)
    assert 'line 3 validates NOT NULL constraint "members_email_nn" by scanning "members"' in (
        findings[0].message
    )


def _held(sql: str) -> list:
    """hold-exclusive-lock's findings when ``sql`` runs after a quick DDL on "invoice"."""
    tx = f"BEGIN;\nalter table invoice add column note text;\n{sql}\nCOMMIT;"
    return lint_sql(tx, history=[PRISMA, SQL], rules=["hold-exclusive-lock"])


@pytest.mark.parametrize(
    ("sql", "work"),
    [
        (
            "alter table orders add check (total_cents >= 0);",
            'validates a new CHECK constraint by scanning "orders"',
        ),
        (
            "alter table orders add constraint c check (total_cents >= 0);",
            'validates CHECK constraint "c" by scanning "orders"',
        ),
        (
            "alter table orders add column n int check (n > 0);",
            'scans "orders" to check the new column "n"',
        ),
        (
            "alter table orders add column c2 bigint default 1 references coupons (id);",
            'validates the foreign key of "c2" by scanning "orders"',
        ),
    ],
)
def test_slow_work_names_the_validation(sql: str, work: str) -> None:
    findings = _held(sql)
    assert f"line 3 {work}" in findings[0].message


@pytest.mark.parametrize(
    "sql",
    [
        "alter table orders add constraint c check (total_cents >= 0) not valid;",
        "alter table orders add column n int;",
        "alter table orders add column c3 bigint references coupons (id);",
        "alter table orders add column if not exists total_cents bigint check (total_cents > 0);",
        "create table t3 (x int);\nalter table t3 add constraint c check (x > 0);",
    ],
)
def test_no_slow_work_without_a_validation_scan(sql: str) -> None:
    assert _held(sql) == []


def test_a_sibling_foreign_key_makes_an_inline_references_validate() -> None:
    sql = (
        "alter table orders add column c4 bigint references coupons (id),\n"
        "  add constraint orders_total_fk foreign key (total_cents) references coupons (id) not valid;"
    )
    assert where(run(sql), R) == [(1, 20)]
    sibling_check = sql.replace(
        "foreign key (total_cents) references coupons (id) not valid",
        "check (total_cents > 0) not valid",
    )
    assert run(sibling_check) == []


def test_add_column_help_keeps_not_null_and_the_references_text() -> None:
    sql = "alter table orders add column c5 bigint not null default 1 references coupons (id) on delete cascade;"
    h = run(sql)[0].help
    assert "    ALTER TABLE orders ADD COLUMN c5 bigint DEFAULT 1 NOT NULL;" in h
    assert (
        "    ALTER TABLE orders ADD CONSTRAINT orders_c5_fkey FOREIGN KEY (c5) REFERENCES coupons (id) "
        "on delete cascade NOT VALID;" in h
    )


ALEMBIC_BASE = (
    'op.create_table("users", sa.Column("id", sa.Integer(), primary_key=True), schema="app")\n'
    'op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True), '
    'sa.Column("user_id", sa.Integer()), sa.Column("total", sa.Integer()), schema="app")'
)


def test_alembic_foreign_key_gets_create_foreign_key_not_valid(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        ALEMBIC_BASE,
        'op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"], '
        'ondelete="SET NULL", source_schema="app", referent_schema="app")',
        rules=["constraint-without-not-valid"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"], '
        'ondelete="SET NULL", postgresql_not_valid=True, source_schema="app", '
        'referent_schema="app")' in code
    )
    assert 'op.execute("ALTER TABLE app.orders VALIDATE CONSTRAINT fk_orders_user")' in code


def test_alembic_check_gets_create_check_constraint_not_valid(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        ALEMBIC_BASE,
        'op.create_check_constraint("ck_total", "orders", "total > 0", schema="app")',
        rules=["constraint-without-not-valid"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.create_check_constraint("ck_total", "orders", "total > 0", '
        'postgresql_not_valid=True, schema="app")' in code
    )
    assert 'op.execute("ALTER TABLE app.orders VALIDATE CONSTRAINT ck_total")' in code


def test_alembic_column_with_check_gets_add_column_then_the_constraint(tmp_path: Path) -> None:
    findings = lint_alembic(
        tmp_path,
        ALEMBIC_BASE,
        'op.execute("ALTER TABLE app.orders ADD COLUMN qty int DEFAULT 1 CHECK (qty > 0)")',
        rules=["constraint-without-not-valid"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.add_column("orders", sa.Column("qty", sa.Integer(), nullable=True, '
        'server_default=sa.text("1")), schema="app")' in code
    )
    assert (
        'op.create_check_constraint("orders_qty_check", "orders", "qty > 0", '
        'postgresql_not_valid=True, schema="app")' in code
    )


def test_alembic_foreign_key_with_match_clause_falls_back_to_op_execute(
    tmp_path: Path,
) -> None:
    findings = lint_alembic(
        tmp_path,
        ALEMBIC_BASE,
        'op.execute("ALTER TABLE app.orders ADD CONSTRAINT fk FOREIGN KEY (user_id) '
        'REFERENCES app.users (id) MATCH FULL")',
        rules=["constraint-without-not-valid"],
    )
    (f,) = findings
    code = assert_python(f.help)
    assert (
        'op.execute("ALTER TABLE app.orders ADD CONSTRAINT fk FOREIGN KEY (user_id) '
        'REFERENCES app.users (id) MATCH FULL NOT VALID")' in code
    )


@pytest.mark.parametrize(
    "body",
    [
        'op.create_foreign_key("fk_orders_user", "orders", "users", ["user_id"], ["id"], '
        'ondelete="CASCADE", source_schema="app", referent_schema="app")',
        'op.create_check_constraint("ck_total", "orders", "total > 0", schema="app")',
    ],
)
def test_alembic_help_followed_as_written_is_quiet(tmp_path: Path, body: str) -> None:
    (f,) = lint_alembic(tmp_path / "before", ALEMBIC_BASE, body, rules=[R])
    add, _comment, validate = assert_python(f.help).splitlines()
    # The first step alone (its own revision), then the VALIDATE (the next one).
    assert lint_alembic(tmp_path / "step1", ALEMBIC_BASE, add.strip(), rules=[R]) == []
    after = lint_alembic(
        tmp_path / "step2", ALEMBIC_BASE + "\n" + add.strip(), validate.strip(), rules=[R]
    )
    assert after == []


@pytest.mark.parametrize(
    "constraint",
    [
        "CONSTRAINT ck CHECK (total > 0) NO INHERIT",
        "CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES app.users (id) ON DELETE SET NULL (user_id)",
    ],
)
def test_alembic_constraint_the_op_call_cannot_say_falls_back_to_op_execute(
    tmp_path: Path, constraint: str
) -> None:
    (f,) = lint_alembic(
        tmp_path,
        ALEMBIC_BASE,
        f'op.execute("ALTER TABLE app.orders ADD {constraint}")',
        rules=[R],
    )
    code = assert_python(f.help)
    assert code.splitlines()[0] == (
        f'    op.execute("ALTER TABLE app.orders ADD {constraint} NOT VALID")'
    )


def test_several_checks_of_one_alter_are_one_scan() -> None:
    # pgflow 20250609105135: four CHECKs and a foreign key in one ALTER TABLE. The CHECKs
    # are verified in one pass over the table (one finding); the foreign key runs its own
    # validation query (its own finding).
    history = (
        'create schema pgflow;\ncreate table "pgflow"."workers" (worker_id uuid primary key);\n'
        'create table "pgflow"."step_tasks" (status text, queued_at timestamptz, '
        "completed_at timestamptz, failed_at timestamptz, started_at timestamptz, "
        "last_worker_id uuid);",
    )
    sql = (
        'alter table "pgflow"."step_tasks" drop constraint if exists "valid_status",\n'
        "add constraint \"valid_status\" check (status = ANY(array['queued', 'started'])),\n"
        'add constraint "completed_at_is_after_started_at" check (completed_at >= started_at),\n'
        'add constraint "step_tasks_last_worker_id_fkey" foreign key ("last_worker_id") '
        'references "pgflow"."workers" ("worker_id"),\n'
        'add constraint "started_at_is_after_queued_at" check (started_at >= queued_at);\n'
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(2, 1), (4, 1)]
    check = findings[0]
    assert check.message.endswith(
        ' The same scan also checks "completed_at_is_after_started_at", '
        '"started_at_is_after_queued_at".'
    )
    assert check.help.endswith(
        '\nAdd "completed_at_is_after_started_at", "started_at_is_after_queued_at" NOT VALID '
        "the same way."
    )
    assert "foreign key" in findings[1].message and "same scan" not in findings[1].message
    # Near miss: a CHECK already NOT VALID is not scanned, so it is not named.
    partly = sql.replace("(started_at >= queued_at)", "(started_at >= queued_at) not valid")
    (first, _) = run(partly, history=history)
    assert first.message.endswith(' also checks "completed_at_is_after_started_at".')
    # An unnamed CHECK is named as PostgreSQL names it (two columns: table_check).
    unnamed = sql.replace('add constraint "started_at_is_after_queued_at" check', "add check")
    (first, _) = run(unnamed, history=history)
    assert first.message.endswith(' "completed_at_is_after_started_at", "step_tasks_check".')
