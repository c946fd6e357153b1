"""Today's help of the rules whose Alembic and SQL column steps share one renderer,
pinned word for word so that merging the renderers provably changes nothing here."""

from __future__ import annotations

import pytest

from helpers import lint_sql

CASES = [
    pytest.param(
        "change-column-type",
        "ALTER TABLE app.orders ALTER COLUMN quantity TYPE geography;",
        ["CREATE TABLE app.orders (id int, quantity text);"],
        "alembic",
        'Change the type with a new column (expand and contract):\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    op.add_column("orders", sa.Column("quantity_new", sa.types.NullType()), schema="app")  # geography: your model\'s type\n2. Backfill it in batches:\n    op.execute(\'UPDATE "app"."orders" SET "quantity_new" = "quantity"::geography WHERE "quantity_new" IS NULL AND <batch range>\')\n3. Ship app code that reads and writes "quantity_new" only.\n4. In a later deploy, drop the old column in a new revision:\n    op.drop_column("orders", "quantity", schema="app")',
        id="change_column_type_unknown_type_in_schema-alembic",
    ),
    pytest.param(
        "change-column-type",
        "ALTER TABLE app.orders ALTER COLUMN quantity TYPE geography;",
        ["CREATE TABLE app.orders (id int, quantity text);"],
        "sql",
        'Change the type with a new column (expand and contract):\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    ALTER TABLE "app"."orders" ADD COLUMN "quantity_new" geography;\n2. Backfill it in batches:\n    UPDATE "app"."orders" SET "quantity_new" = "quantity"::geography WHERE "quantity_new" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "quantity_new" only.\n4. In a later deploy, drop the old column:\n    ALTER TABLE "app"."orders" DROP COLUMN "quantity";',
        id="change_column_type_unknown_type_in_schema-sql",
    ),
    pytest.param(
        "change-column-type",
        "ALTER TABLE app.orders ALTER COLUMN quantity TYPE geography;",
        ["CREATE TABLE app.orders (id int, quantity text);"],
        "prisma",
        'Change the type with a new column (expand and contract):\n1. Add an optional field mapped to the new column (`<field> <Type>? @map("quantity_new")`) and keep it in sync (app writes to both); `prisma migrate dev` writes:\n    ALTER TABLE "app"."orders" ADD COLUMN "quantity_new" geography;\n2. Backfill it in batches, in a migration created with `prisma migrate dev --create-only` (or from a script):\n    UPDATE "app"."orders" SET "quantity_new" = "quantity"::geography WHERE "quantity_new" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "quantity_new" only.\n4. In a later migration, remove the old field from schema.prisma; `prisma migrate dev` then drops the old column:\n    ALTER TABLE "app"."orders" DROP COLUMN "quantity";',
        id="change_column_type_unknown_type_in_schema-prisma",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        ["CREATE TABLE users (id int, fullname varchar(200));"],
        "alembic",
        'If only the code\'s name matters, keep the column and map it in the model instead: `full_name = Column("fullname", ...)`.\nTo rename the column itself, expand and contract:\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    op.add_column("users", sa.Column("full_name", sa.String(200)))\n2. Backfill it in batches:\n    op.execute(\'UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>\')\n3. Ship app code that reads and writes "full_name" only.\n4. In a later deploy, drop the old column in a new revision:\n    op.drop_column("users", "fullname")',
        id="rename_column_known_type-alembic",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        ["CREATE TABLE users (id int, fullname varchar(200));"],
        "sql",
        'If only the code\'s name matters, keep the column and alias it where the app reads it (`SELECT "fullname" AS "full_name"`) instead of renaming it.\nTo rename the column itself, expand and contract:\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    ALTER TABLE "users" ADD COLUMN "full_name" varchar(200);\n2. Backfill it in batches:\n    UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "full_name" only.\n4. In a later deploy, drop the old column:\n    ALTER TABLE "users" DROP COLUMN "fullname";',
        id="rename_column_known_type-sql",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        ["CREATE TABLE users (id int, fullname varchar(200));"],
        "prisma",
        'With Prisma, rename only the field and keep the column: `full_name ... @map("fullname")` needs no migration at all.\nTo rename the column itself, expand and contract:\n1. Add an optional field mapped to the new column (`<field> <Type>? @map("full_name")`) and keep it in sync (app writes to both); `prisma migrate dev` writes:\n    ALTER TABLE "users" ADD COLUMN "full_name" varchar(200);\n2. Backfill it in batches, in a migration created with `prisma migrate dev --create-only` (or from a script):\n    UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "full_name" only.\n4. In a later migration, remove the old field from schema.prisma; `prisma migrate dev` then drops the old column:\n    ALTER TABLE "users" DROP COLUMN "fullname";',
        id="rename_column_known_type-prisma",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        [],
        "alembic",
        'If only the code\'s name matters, keep the column and map it in the model instead: `full_name = Column("fullname", ...)`.\nTo rename the column itself, expand and contract:\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    op.add_column("users", sa.Column("full_name", sa.types.NullType()))  # the column\'s type in your model\n2. Backfill it in batches:\n    op.execute(\'UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>\')\n3. Ship app code that reads and writes "full_name" only.\n4. In a later deploy, drop the old column in a new revision:\n    op.drop_column("users", "fullname")',
        id="rename_column_unknown_column-alembic",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        [],
        "sql",
        'If only the code\'s name matters, keep the column and alias it where the app reads it (`SELECT "fullname" AS "full_name"`) instead of renaming it.\nTo rename the column itself, expand and contract:\n1. Add the new column and keep it in sync (a trigger, or app writes to both):\n    ALTER TABLE "users" ADD COLUMN "full_name" <type>;\n2. Backfill it in batches:\n    UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "full_name" only.\n4. In a later deploy, drop the old column:\n    ALTER TABLE "users" DROP COLUMN "fullname";',
        id="rename_column_unknown_column-sql",
    ),
    pytest.param(
        "rename-column",
        "ALTER TABLE users RENAME COLUMN fullname TO full_name;",
        [],
        "prisma",
        'With Prisma, rename only the field and keep the column: `full_name ... @map("fullname")` needs no migration at all.\nTo rename the column itself, expand and contract:\n1. Add an optional field mapped to the new column (`<field> <Type>? @map("full_name")`) and keep it in sync (app writes to both); `prisma migrate dev` writes:\n    ALTER TABLE "users" ADD COLUMN "full_name" <type>;\n2. Backfill it in batches, in a migration created with `prisma migrate dev --create-only` (or from a script):\n    UPDATE "users" SET "full_name" = "fullname" WHERE "full_name" IS NULL AND <batch range>;\n3. Ship app code that reads and writes "full_name" only.\n4. In a later migration, remove the old field from schema.prisma; `prisma migrate dev` then drops the old column:\n    ALTER TABLE "users" DROP COLUMN "fullname";',
        id="rename_column_unknown_column-prisma",
    ),
    pytest.param(
        "unique-without-index",
        "ALTER TABLE accounts ADD COLUMN slug text DEFAULT 'x' UNIQUE;",
        ["CREATE TABLE accounts (id int);"],
        "alembic",
        'Add the column first, without the constraint:\n    op.add_column("accounts", sa.Column("slug", sa.Text(), server_default=sa.text("\'x\'")))\nthen build the index concurrently and attach it:\n    with op.get_context().autocommit_block():\n        op.create_index("accounts_slug_idx", "accounts", ["slug"], unique=True, postgresql_concurrently=True)\n    op.execute("ALTER TABLE accounts ADD CONSTRAINT accounts_slug_key UNIQUE USING INDEX accounts_slug_idx")',
        id="unique_without_index_added_column-alembic",
    ),
    pytest.param(
        "unique-without-index",
        "ALTER TABLE accounts ADD COLUMN slug text DEFAULT 'x' UNIQUE;",
        ["CREATE TABLE accounts (id int);"],
        "sql",
        "Add the column first, without the constraint:\n    ALTER TABLE accounts ADD COLUMN slug text DEFAULT 'x';\nthen build the index concurrently and attach it:\n    CREATE UNIQUE INDEX CONCURRENTLY accounts_slug_idx ON accounts (slug);\nRun it outside any transaction block: put it alone in its own migration, without BEGIN, if your runner sends a file as one query or wraps it in a transaction.\n    -- then, in the next migration:\n    ALTER TABLE accounts ADD CONSTRAINT accounts_slug_key UNIQUE USING INDEX accounts_slug_idx;",
        id="unique_without_index_added_column-sql",
    ),
    pytest.param(
        "unique-without-index",
        "ALTER TABLE accounts ADD COLUMN slug text DEFAULT 'x' UNIQUE;",
        ["CREATE TABLE accounts (id int);"],
        "prisma",
        "Add the column first, without the constraint:\n    ALTER TABLE accounts ADD COLUMN slug text DEFAULT 'x';\nthen build the index concurrently and attach it:\n    CREATE UNIQUE INDEX CONCURRENTLY accounts_slug_idx ON accounts (slug);\nRun it outside any transaction block: put it alone in its own migration (a migration.sql holding only this statement): Prisma before 7.4 sends a multi-statement migration.sql as one implicit transaction, a single statement runs on its own.\n    -- then, in the next migration:\n    ALTER TABLE accounts ADD CONSTRAINT accounts_slug_key UNIQUE USING INDEX accounts_slug_idx;",
        id="unique_without_index_added_column-prisma",
    ),
    pytest.param(
        "add-required-column",
        "ALTER TABLE orders ADD COLUMN currency varchar(3) NOT NULL;",
        ["CREATE TABLE orders (id int);"],
        "alembic",
        'Either give it a default (a constant default adds no rewrite on PostgreSQL 11+):\n    op.add_column("orders", sa.Column("currency", sa.String(3), nullable=False, server_default=sa.text("<value>")))\nor add it nullable, ship app code that always writes it, backfill, and make it NOT NULL in a later deploy (see set-not-null):\n    op.add_column("orders", sa.Column("currency", sa.String(3), nullable=True))',
        id="add_required_column-alembic",
    ),
    pytest.param(
        "add-required-column",
        "ALTER TABLE orders ADD COLUMN currency varchar(3) NOT NULL;",
        ["CREATE TABLE orders (id int);"],
        "sql",
        'Either give it a default (a constant default adds no rewrite on PostgreSQL 11+):\n    ALTER TABLE "orders" ADD COLUMN "currency" varchar(3) NOT NULL DEFAULT <value>;\nor add it nullable, ship app code that always writes it, backfill, and make it NOT NULL in a later deploy (see set-not-null):\n    ALTER TABLE "orders" ADD COLUMN "currency" varchar(3);',
        id="add_required_column-sql",
    ),
    pytest.param(
        "add-required-column",
        "ALTER TABLE orders ADD COLUMN currency varchar(3) NOT NULL;",
        ["CREATE TABLE orders (id int);"],
        "prisma",
        'With Prisma, give the field a @default(...) in schema.prisma, or make it optional (`?`) first.\nEither give it a default (a constant default adds no rewrite on PostgreSQL 11+):\n    ALTER TABLE "orders" ADD COLUMN "currency" varchar(3) NOT NULL DEFAULT <value>;\nor add it nullable, ship app code that always writes it, backfill, and make it NOT NULL in a later deploy (see set-not-null):\n    ALTER TABLE "orders" ADD COLUMN "currency" varchar(3);',
        id="add_required_column-prisma",
    ),
]


@pytest.mark.parametrize(("rule", "sql", "history", "tool", "expected"), CASES)
def test_help_is_unchanged(
    rule: str, sql: str, history: list[str], tool: str, expected: str
) -> None:
    [finding] = [
        f for f in lint_sql(sql, history=history, rules=[rule], tool=tool) if f.rule == rule
    ]
    assert finding.help == expected
