"""Live check: sample values never make an ordinary query inconclusive.

Prisma casts text parameters to enums (``CAST($1::text AS "Status")``), inserts reference
parent rows that do not exist in an empty database, and a value that satisfies one
constraint may fail another. None of that says anything about the schema, so the check
takes it out of the way and still catches what the migration really breaks."""

from __future__ import annotations

from migcheck.live import run_live

BASE = (
    "CREATE TYPE \"TaskStatus\" AS ENUM ('OPEN', 'DONE');\n"
    "CREATE TYPE \"Priority\" AS ENUM ('LOW', 'HIGH');\n"
    'CREATE TABLE "Task" (id text PRIMARY KEY, status "TaskStatus" NOT NULL, '
    "priority \"Priority\" NOT NULL DEFAULT 'LOW', title text NOT NULL);\n"
    'CREATE TABLE "Comment" (id text PRIMARY KEY, "taskId" text NOT NULL '
    'REFERENCES "Task"(id), body text NOT NULL);\n'
)
OLD = (
    'SELECT id FROM "Task" WHERE status = CAST($1::text AS "TaskStatus");\n'
    'UPDATE "Task" SET status = CAST($1::text AS "TaskStatus"), '
    'priority = CAST($2::text AS "Priority") WHERE id = $3;\n'
    'INSERT INTO "Comment" (id, "taskId", body) VALUES ($1, $2, $3);\n'
    'INSERT INTO "Task" (id, status, title) VALUES ($1, CAST($2::text AS "TaskStatus"), $3);\n'
)


def test_enum_casts_and_foreign_keys_are_conclusive(make_history, write_queries, dsn):
    hist = make_history([BASE], ['ALTER TABLE "Task" ADD COLUMN done_at timestamptz;'])
    old = write_queries("old.sql", OLD)
    result = run_live([hist], old_queries=[old], dsn=dsn)
    assert result.queries_checked == 4
    assert result.inconclusive_queries == []
    assert result.broken_queries == []


def test_a_real_break_is_still_found_with_checks_relaxed(make_history, write_queries, dsn):
    hist = make_history(
        [BASE],
        ['ALTER TABLE "Comment" ADD COLUMN "authorId" text NOT NULL;'],
    )
    old = write_queries("old.sql", OLD)
    result = run_live([hist], old_queries=[old], dsn=dsn)
    assert result.inconclusive_queries == []
    [problem] = result.broken_queries
    assert problem.query.line == 3 and problem.error.sqlstate == "23502"


def test_foreign_keys_stay_enforced_for_the_migration(make_history, write_queries, dsn):
    # The relaxed session setting lives only inside each rolled-back query check: a
    # migration that violates a foreign key still fails.
    hist = make_history(
        [BASE],
        ["INSERT INTO \"Comment\" (id, \"taskId\", body) VALUES ('c1', 'missing', 'x');"],
    )
    # The queries are checked on the same connection before the migration runs.
    result = run_live([hist], old_queries=[write_queries("old.sql", OLD)], dsn=dsn)
    failure = result.histories[0].failure
    assert failure is not None and not failure.in_base
    assert failure.sqlstate == "23503" and "foreign key" in failure.message
