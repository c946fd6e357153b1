"""The Prisma schema parser and the queries derived from it (no server needed)."""

from __future__ import annotations

from migcheck.appschema.prisma import derive_queries, parse_prisma_schema

BLOG = r"""
// This is your Prisma schema file,
// learn more about it in the docs: https://pris.ly/d/prisma-schema

generator client {
  provider = "prisma-client-js"
  previewFeatures = ["multiSchema", "views"]
}

datasource db {
  provider = "postgresql"
  url      = env("DATABASE_URL")
  schemas  = ["public", "auth"]
}

/// A registered user
model User {
  id            String    @id @default(cuid())
  email         String    @unique @db.VarChar(255)
  name          String?
  role          Role      @default(USER)
  posts         Post[]
  profile       Profile?
  createdAt     DateTime  @default(now()) @map("created_at")
  updatedAt     DateTime  @updatedAt @map("updated_at")
  tags          String[]
  legacyHash    Unsupported("bytea")?
  secret        String    @ignore

  @@map("users")
  @@schema("auth")
}

model Profile {
  id     Int    @id @default(autoincrement())
  bio    String @default("") // a literal default
  user   User   @relation(fields: [userId], references: [id], onDelete: Cascade)
  userId String @unique @map("user_id")

  @@schema("public")
}

model Post {
  id        Int        @id @default(autoincrement())
  title     String     @db.VarChar(200)
  body      String?    @db.Text
  published Boolean    @default(false)
  author    User?      @relation(fields: [authorId], references: [id])
  authorId  String?    @map("author_id")
  rating    Decimal    @db.Decimal(3, 2)
  meta      Json       @default("{\"a\": \"}\"}")
  slug      String     @default(uuid())
  categories CategoriesOnPosts[]

  @@index([authorId, published], map: "post_author_idx")
  @@schema("public")
}

model CategoriesOnPosts {
  post       Post     @relation(fields: [postId], references: [id])
  postId     Int
  categoryId Int
  assignedAt DateTime @default(now())

  @@id([postId, categoryId])
  @@schema("public")
}

view PostStats {
  authorId String @unique
  posts    Int

  @@schema("public")
}

enum Role {
  USER
  ADMIN  @map("admin")
  EDITOR

  @@map("user_role")
  @@schema("auth")
}
"""


def test_parses_models_fields_and_attributes():
    schema = parse_prisma_schema(BLOG)
    assert schema.errors == []
    assert schema.provider == "postgresql"
    assert schema.schemas == ["public", "auth"]
    assert [m.name for m in schema.models] == [
        "User",
        "Profile",
        "Post",
        "CategoriesOnPosts",
        "PostStats",
    ]
    user = schema.model("User")
    assert user is not None
    assert (user.table, user.schema, user.line) == ("users", "auth", 17)
    fields = {f.name: f for f in user.fields}
    assert fields["name"].optional and not fields["email"].optional
    assert fields["tags"].is_list and fields["posts"].is_list
    assert fields["createdAt"].column == "created_at"
    assert fields["updatedAt"].updated_at
    assert fields["id"].is_id and fields["id"].default_function == "cuid"
    assert fields["role"].default_function == ""  # a literal (enum value) default
    # Relations, Unsupported and @ignore fields are no columns of the client.
    scalar = [f.name for f in schema.scalar_fields(user)]
    assert scalar == ["id", "email", "name", "role", "createdAt", "updatedAt", "tags"]


def test_parses_enums_with_maps():
    [role] = parse_prisma_schema(BLOG).enums
    assert role.db_name == "user_role"
    assert role.values == [("USER", "USER"), ("ADMIN", "admin"), ("EDITOR", "EDITOR")]


def test_strings_with_braces_and_comment_markers_do_not_confuse_the_parser():
    schema = parse_prisma_schema(BLOG)
    post = schema.model("Post")
    assert post is not None
    meta = next(f for f in post.fields if f.name == "meta")
    default = meta.attribute("default")
    assert default is not None and default.args == '"{\\"a\\": \\"}\\"}"'
    profile = schema.model("Profile")
    assert profile is not None
    bio = next(f for f in profile.fields if f.name == "bio")
    bio_default = bio.attribute("default")
    assert bio_default is not None and bio_default.args == '""'


def test_derived_select_insert_update_use_mapped_quoted_names():
    queries = {(q.model, q.operation): q.sql for q in derive_queries(parse_prisma_schema(BLOG))}
    cols = (
        '"auth"."users"."id", "auth"."users"."email", "auth"."users"."name", '
        '"auth"."users"."role", "auth"."users"."created_at", "auth"."users"."updated_at", '
        '"auth"."users"."tags"'
    )
    assert queries[("User", "findMany")] == f'SELECT {cols} FROM "auth"."users" WHERE 1=1 OFFSET $1'
    # cuid() and @updatedAt are filled in by Prisma Client: sent even when "not required".
    assert queries[("User", "create (required fields)")] == (
        f'INSERT INTO "auth"."users" ("id","email","updated_at") VALUES ($1,$2,$3) RETURNING {cols}'
    )
    assert queries[("User", "create (all fields)")].startswith(
        'INSERT INTO "auth"."users" ("id","email","name","role","created_at","updated_at","tags") '
        "VALUES ($1,$2,$3,$4,$5,$6,$7)"
    )
    assert queries[("User", "update email")] == (
        'UPDATE "auth"."users" SET "email" = $1 WHERE ("auth"."users"."id" = $2)'
    )
    assert ("User", "update id") not in queries


def test_required_fields_and_composite_keys():
    queries = {(q.model, q.operation): q.sql for q in derive_queries(parse_prisma_schema(BLOG))}
    # autoincrement() and now() are database defaults; uuid() is the client's.
    assert queries[("Post", "create (required fields)")].startswith(
        'INSERT INTO "public"."Post" ("title","rating","slug") VALUES ($1,$2,$3)'
    )
    assert queries[("CategoriesOnPosts", "update assignedAt")] == (
        'UPDATE "public"."CategoriesOnPosts" SET "assignedAt" = $1 WHERE '
        '("public"."CategoriesOnPosts"."postId" = $2 AND '
        '"public"."CategoriesOnPosts"."categoryId" = $3)'
    )
    # A view is only read.
    assert [op for model, op in queries if model == "PostStats"] == ["findMany"]
    # A model whose only field has a default inserts DEFAULT VALUES.
    single = parse_prisma_schema("model Tick {\n  id Int @id @default(autoincrement())\n}\n")
    [_find, create, _create_all] = derive_queries(single)
    assert create.sql.startswith('INSERT INTO "public"."Tick" DEFAULT VALUES RETURNING')


def test_default_schema_multiline_attributes_and_errors():
    text = """
    model Account {
      id       BigInt @id
      provider String
      key      String
      @@unique([
        provider,
        key
      ])
      @@map(name: "accounts")
    }
    model Broken {
      id Int @id
      this is not a field
      name String @default("x"
    }
    model Unclosed {
      id Int @id
    """
    schema = parse_prisma_schema(text)
    account = schema.model("Account")
    assert account is not None and account.table == "accounts"
    unique = account.attribute("unique")
    assert unique is not None and unique.field_list() == ["provider", "key"]
    assert len(schema.errors) == 3
    assert any("line 14: unexpected text in Broken: not a field" in e for e in schema.errors)
    assert any("line 15: unbalanced parentheses in @default in Broken" in e for e in schema.errors)
    assert any("Unclosed is not closed" in e for e in schema.errors)
    derived = derive_queries(schema, default_schema="app")
    assert derived[0].sql.endswith('FROM "app"."accounts" WHERE 1=1 OFFSET $1')
