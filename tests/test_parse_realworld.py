"""Statements from real migration histories that migcheck once failed to understand.

Each case is a minimal reconstruction (written for this suite, not copied) of a form
seen in public Prisma, golang-migrate, Supabase and Flyway histories; the assertion is on
the normalised ops a rule reads, or on the finding a whole file produces.
"""

from __future__ import annotations

import pytest

from helpers import ids, lint_sql, where
from migcheck.model import Op
from migcheck.sql.parse import parse_statement
from migcheck.sql.split import split_sql


def ops_of(sql: str) -> tuple[list[Op], str | None]:
    result = split_sql(sql)
    assert len(result.statements) == 1, result.statements
    return parse_statement(sql, result.statements[0].tokens)


# DML whose subquery has a multi-word keyword (ORDER BY, GROUP BY, PARTITION BY): the
# recogniser's one-word-per-token form used to reach sqlglot, which then failed.
@pytest.mark.parametrize(
    ("sql", "kind", "table", "has_where"),
    [
        (
            "UPDATE jobs SET owner = (SELECT id FROM users ORDER BY created_at LIMIT 1)\n"
            "WHERE owner IS NULL",
            "update",
            "jobs",
            True,
        ),
        (
            "INSERT INTO tally (k, n) SELECT k, count(*) FROM events GROUP BY k",
            "insert",
            "tally",
            False,
        ),
        (
            "DELETE FROM dupes WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER "
            "(PARTITION BY k ORDER BY id) AS rn FROM dupes) d WHERE rn > 1)",
            "delete",
            "dupes",
            True,
        ),
    ],
)
def test_dml_with_multiword_keywords(sql: str, kind: str, table: str, has_where: bool) -> None:
    ops, reason = ops_of(sql)
    assert reason is None
    assert [(o.kind, o.table, o.has_where) for o in ops] == [(kind, table, has_where)]


def test_insert_select_group_by_is_judged_as_a_backfill() -> None:
    findings = lint_sql(
        "INSERT INTO tally (k, n) SELECT k, count(*) FROM events GROUP BY k;",
        history=["CREATE TABLE events (k text); CREATE TABLE tally (k text, n int);"],
    )
    assert "unrecognized-statement" not in ids(findings)
    assert where(findings, "unbatched-backfill") == [(1, 1)]


# UPDATE ... FROM whose WHERE only joins the two tables touches every row it can match:
# Prisma's hand-written "reverse relation" backfills look like this.
@pytest.mark.parametrize(
    ("sql", "has_where"),
    [
        (
            'UPDATE "Doc" SET "dataId" = "Data"."id" FROM "Data" WHERE "Doc"."id" = "Data"."docId"',
            False,
        ),
        ("UPDATE a SET x = b.x FROM b WHERE (a.id = b.a_id) AND a.k = b.k", False),
        ("UPDATE a SET x = b.x FROM b WHERE a.id = b.a_id AND b.kind = 'x'", True),
        ("UPDATE a SET x = 1 WHERE a.id = a.other_id", True),
    ],
)
def test_update_from_with_join_only_where(sql: str, has_where: bool) -> None:
    ops, reason = ops_of(sql)
    assert reason is None
    assert [(o.kind, o.has_where) for o in ops] == [("update", has_where)]


def test_update_from_join_is_an_unbatched_backfill() -> None:
    findings = lint_sql(
        'UPDATE "Doc" SET "dataId" = "Data"."id" FROM "Data"\nWHERE "Doc"."id" = "Data"."docId";',
        history=[
            'CREATE TABLE "Doc" ("id" TEXT, "dataId" TEXT); CREATE TABLE "Data" ("id" TEXT, "docId" TEXT);'
        ],
        rules=["unbatched-backfill"],
    )
    assert where(findings, "unbatched-backfill") == [(1, 1)]


def test_quoted_name_with_a_dot_is_one_identifier() -> None:
    """Old Prisma index names contain dots; they must not read as schema.name."""
    from helpers import lint_sql

    findings = lint_sql(
        'DROP INDEX "Team.slug_unique";',
        history=(
            'CREATE TABLE "Team" (id int, slug text);',
            'CREATE UNIQUE INDEX "Team.slug_unique" ON "Team"(slug);',
        ),
        rules=["non-concurrent-drop-index"],
    )
    (f,) = findings
    assert '"Team.slug_unique"' in f.message
    assert 'DROP INDEX CONCURRENTLY "Team.slug_unique";' in f.help
