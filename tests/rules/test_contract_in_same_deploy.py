"""contract-in-same-deploy: one migration of a deploy contracts what another one added."""

from __future__ import annotations

import pytest

from helpers import lint_history, lint_sql, make_history, where
from migcheck.engine import default_rule_ids

R = "contract-in-same-deploy"
USERS = 'CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL);'


def changeset(*new: str, base: tuple[str, ...] = (USERS,), pg: int = 14) -> list:
    history = make_history(
        [*base, *new], selected=[False] * len(base) + [True] * len(new), tool="prisma"
    )
    return lint_history(history, rules=[R], changeset=True, pg=pg).findings


def test_on_by_default() -> None:
    assert R in default_rule_ids()


def test_prisma_add_then_drop_in_the_same_deploy() -> None:
    findings = changeset(
        '-- AlterTable\nALTER TABLE "User" ADD COLUMN "nickname" TEXT;',
        '-- AlterTable\nALTER TABLE "User" DROP COLUMN "nickname";',
    )
    assert [(f.path, f.line, f.column) for f in findings] == [("migrations/003_m.sql", 2, 20)]
    f = findings[0]
    assert f.severity == "error" and f.category == "compatibility"
    assert f.message.startswith(
        'This migration drops column "User"."nickname", which migrations/002_m.sql adds in '
        "the same deploy"
    )
    assert 'fails on every query that names "nickname"' in f.message
    assert "later deploy" in f.help


@pytest.mark.parametrize(
    ("contract", "verb", "column"),
    [
        ('ALTER TABLE "User" RENAME COLUMN "nickname" TO "displayName";', "renames", 20),
        ('ALTER TABLE "User" ALTER COLUMN "nickname" SET NOT NULL;', "sets NOT NULL on", 20),
        ('ALTER TABLE "User" ALTER COLUMN "nickname" TYPE VARCHAR(20);', "changes the type of", 20),
        (
            'ALTER TABLE "User" ADD COLUMN "bio" TEXT, DROP COLUMN "nickname";',
            "drops",
            43,
        ),
    ],
)
def test_other_contract_steps(contract: str, verb: str, column: int) -> None:
    findings = changeset('ALTER TABLE "User" ADD COLUMN "nickname" TEXT;', contract)
    assert [(f.line, f.column) for f in findings] == [(1, column)]
    assert findings[0].message.startswith(f'This migration {verb} column "User"."nickname"')


def test_set_not_null_message_names_the_failing_insert() -> None:
    findings = changeset(
        "alter table orders add column region text;",
        "alter table orders alter column region set not null;",
        base=("create table orders (id bigint primary key);",),
    )
    assert 'fails on every INSERT that leaves "region" out' in findings[0].message


def test_table_created_then_dropped_or_renamed() -> None:
    findings = changeset(
        "create table drafts (id bigint primary key);",
        "alter table drafts rename to posts;",
        "drop table posts;",
    )
    assert [(f.path, f.line) for f in findings] == [
        ("migrations/003_m.sql", 1),
        ("migrations/004_m.sql", 1),
    ]
    assert findings[0].message.startswith('This migration renames table "drafts"')
    assert findings[1].message.startswith('This migration drops table "posts"')


def test_column_of_a_new_table_dropped_later_in_the_deploy() -> None:
    findings = changeset(
        "create table drafts (id bigint primary key, body text);",
        "alter table drafts drop column body;",
    )
    assert len(findings) == 1


@pytest.mark.parametrize(
    "contract",
    [
        # widening keeps the first migration's app working
        'ALTER TABLE "User" ALTER COLUMN "nickname" TYPE TEXT;',
        # a default makes the earlier app's INSERTs fine
        'ALTER TABLE "User" ALTER COLUMN "score" SET NOT NULL;',
        # already NOT NULL
        'ALTER TABLE "User" ALTER COLUMN "handle" SET NOT NULL;',
        # expand steps
        'ALTER TABLE "User" ADD COLUMN "bio" TEXT;',
        'ALTER TABLE "User" ALTER COLUMN "nickname" SET DEFAULT \'anon\';',
        'CREATE INDEX "User_nickname_idx" ON "User" ("nickname");',
        # objects that existed before the deploy: other rules' business
        'ALTER TABLE "User" DROP COLUMN "email";',
    ],
)
def test_silent(contract: str) -> None:
    first = (
        'ALTER TABLE "User" ADD COLUMN "nickname" VARCHAR(20), '
        'ADD COLUMN "score" INTEGER DEFAULT 0, ADD COLUMN "handle" TEXT NOT NULL DEFAULT \'x\';'
    )
    assert changeset(first, contract) == []


def test_same_migration_add_and_drop_is_silent() -> None:
    sql = 'ALTER TABLE "User" ADD COLUMN "tmp" TEXT;\nALTER TABLE "User" DROP COLUMN "tmp";'
    assert changeset(sql) == []


def test_separate_deploys_are_not_a_changeset() -> None:
    added = 'ALTER TABLE "User" ADD COLUMN "nickname" TEXT;'
    dropped = 'ALTER TABLE "User" DROP COLUMN "nickname";'
    # Each migration its own deploy: drop-column's business, not this rule's.
    assert where(lint_sql(dropped, history=[USERS, added], rules=[R]), R) == []
    history = make_history([USERS, added, dropped], selected=[False, True, True])
    assert lint_history(history, rules=[R], changeset=False).findings == []


def test_views_dropped_and_recreated_are_silent() -> None:
    assert (
        changeset(
            'create view active_users as select * from "User";',
            'drop view active_users;\ncreate view active_users as select "id" from "User";',
        )
        == []
    )


def test_schema_qualified_names_are_quoted_part_by_part() -> None:
    """``eventstore.events2`` is schema ``eventstore``, table ``events2``: the message names
    it ``"eventstore"."events2"``, never ``"eventstore.events2"``."""
    findings = changeset(
        "alter table eventstore.events2 add column kind text;",
        "alter table eventstore.events2 alter column kind set not null;",
        "alter table eventstore.events2 rename to events3;",
        base=("create schema eventstore; create table eventstore.events2 (id bigint);",),
    )
    assert [(f.path, f.line, f.column) for f in findings] == [
        ("migrations/003_m.sql", 1, 32),
    ]
    assert findings[0].message.startswith(
        'This migration sets NOT NULL on column "eventstore"."events2"."kind", which '
    )
    drop = changeset(
        "create table eventstore.drafts (id bigint);",
        "drop table eventstore.drafts;",
        base=("create schema eventstore;",),
    )
    assert [(f.line, f.column) for f in drop] == [(1, 1)]
    assert drop[0].message.startswith('This migration drops table "eventstore"."drafts"')
    assert 'fails on every query of "eventstore"."drafts"' in drop[0].message


def test_a_view_renamed_with_alter_table_is_silent() -> None:
    # ALTER TABLE ... RENAME works on views too; a view holds no app data.
    view = 'create view active_users as select * from "User";'
    assert changeset(view, "alter table active_users rename to live_users;") == []
    # The near miss: the same rename of a table added in the deploy breaks the first app.
    table = 'create table "Session" ("id" TEXT NOT NULL);'
    renamed = changeset(table, 'alter table "Session" rename to "UserSession";')
    assert [(f.path, f.line) for f in renamed] == [("migrations/003_m.sql", 1)]
    assert renamed[0].message.startswith('This migration renames table "Session", which')
    assert renamed[0].message.endswith('fails on every query of "Session".')


def test_objects_the_history_never_showed_are_silent() -> None:
    assert (
        changeset(
            'alter table "User" add column "bio" text;',
            'drop table if exists "Legacy";\nalter table "Legacy2" drop column if exists "x";',
        )
        == []
    )


def test_a_retype_says_the_first_app_misreads_the_column() -> None:
    findings = changeset(
        'ALTER TABLE "User" ADD COLUMN "score" TEXT;',
        'ALTER TABLE "User" ALTER COLUMN "score" TYPE INTEGER USING "score"::integer;',
    )
    assert [(f.path, f.line, f.column) for f in findings] == [("migrations/003_m.sql", 1, 20)]
    assert findings[0].message.endswith(
        'the app version written for it reads and writes "score" with the old type and fails '
        "or misreads it."
    )
