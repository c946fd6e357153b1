"""drop-foreign-key: dropping a FOREIGN KEY stops integrity enforcement (info by default)."""

from __future__ import annotations

from pathlib import Path

from alembic_revisions import lint_revisions
from helpers import lint_sql, where

R = "drop-foreign-key"
SHOP = (
    "create table customers (id bigint primary key, email text constraint customers_email_key unique);\n"
    "create table orders (id bigint primary key, customer_id bigint constraint orders_customer_fk "
    "references customers on delete cascade, total int, constraint orders_total_check check (total > 0));"
)


def run(sql: str, history: tuple[str, ...] = (SHOP,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_dropping_a_foreign_key() -> None:
    findings = run("alter table orders drop constraint orders_customer_fk;")
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.severity == "info" and f.category == "data"
    assert f.message == (
        'Dropping foreign key "orders_customer_fk" of "orders" (customer_id → "customers"): '
        'PostgreSQL no longer rejects rows of "orders" that reference no row of "customers", '
        'nor deletes of "customers" rows still referenced, and its ON DELETE / ON UPDATE '
        "actions stop. Rows orphaned from now on make adding the key back fail until they are "
        'cleaned up. The drop takes a brief ACCESS EXCLUSIVE lock on "orders" and on '
        '"customers".'
    )
    assert (
        "    ALTER TABLE orders ADD CONSTRAINT <new_fk> FOREIGN KEY (customer_id) REFERENCES "
        "customers (…) NOT VALID;" in f.help
    )


def test_a_foreign_key_replaced_on_the_same_columns_is_quiet() -> None:
    before = (
        "alter table orders add constraint orders_customer_fk2 foreign key (customer_id) "
        "references customers not valid;\n"
        "alter table orders drop constraint orders_customer_fk;"
    )
    assert run(before) == []
    same_stmt = (
        "alter table orders drop constraint orders_customer_fk,\n"
        "  add constraint orders_customer_fk foreign key (customer_id) references customers;"
    )
    assert run(same_stmt) == []
    # Near miss: a foreign key on another column does not replace it.
    other = before.replace("foreign key (customer_id)", "foreign key (total)")
    assert where(run(other), R) == [(2, 20)]


def test_other_constraints_unknown_ones_and_new_tables_are_quiet() -> None:
    assert run("alter table orders drop constraint orders_total_check;") == []
    assert run("alter table customers drop constraint customers_email_key;") == []
    assert run("alter table orders drop constraint never_seen;") == []
    new = (
        "create table refunds (id bigint, order_id bigint constraint refunds_order_fk "
        "references orders);\nalter table refunds drop constraint refunds_order_fk;"
    )
    assert run(new) == []


def test_prisma_relation_removed() -> None:
    history = (
        'CREATE TABLE "User" ("id" TEXT NOT NULL, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));\n'
        'CREATE TABLE "Post" ("id" TEXT NOT NULL, "authorId" TEXT NOT NULL);\n'
        'ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") '
        'REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;'
    )
    sql = '-- DropForeignKey\nALTER TABLE "Post" DROP CONSTRAINT "Post_authorId_fkey";'
    findings = run(sql, history=(history,), tool="prisma")
    assert where(findings, R) == [(2, 20)]
    assert '"Post_authorId_fkey" of "Post" ("authorId" → "User")' in findings[0].message


def test_alembic_drop_foreign_key(tmp_path: Path) -> None:
    findings = lint_revisions(
        tmp_path,
        [
            """
            op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True))
            op.create_table(
                "posts",
                sa.Column("id", sa.BigInteger(), primary_key=True),
                sa.Column("user_id", sa.BigInteger()),
            )
            op.create_foreign_key("fk_posts_user", "posts", "users", ["user_id"], ["id"])
            """,
            'op.drop_constraint("fk_posts_user", "posts", type_="foreignkey")',
        ],
        [R],
    )
    assert [(Path(f.path).name, f.line, f.rule) for f in findings] == [("r2.py", 6, R)]


def test_a_foreign_key_dropped_before_its_table_or_the_referenced_one_is_quiet() -> None:
    history = (
        'CREATE TABLE "Org" ("id" TEXT NOT NULL, CONSTRAINT "Org_pkey" PRIMARY KEY ("id"));\n'
        'CREATE TABLE "Invite" ("id" TEXT NOT NULL, "orgId" TEXT NOT NULL);\n'
        'ALTER TABLE "Invite" ADD CONSTRAINT "Invite_orgId_fkey" FOREIGN KEY ("orgId") '
        'REFERENCES "Org"("id");'
    )
    drop = '-- DropForeignKey\nALTER TABLE "Invite" DROP CONSTRAINT "Invite_orgId_fkey";\n'
    for table in ("Invite", "Org"):
        sql = drop + f'-- DropTable\nDROP TABLE "{table}";'
        assert run(sql, history=(history,), tool="prisma") == [], table
    # Near miss: another table is dropped.
    sql = drop + 'CREATE TABLE "Tmp" (id int);\nDROP TABLE "Tmp";'
    assert where(run(sql, history=(history,), tool="prisma"), R) == [(2, 22)]
