"""Second precision round on real migration histories (Prisma, golang-migrate/fizz, diesel,
hand-run SQL scripts).

Each case is a minimal reconstruction written for this suite, not copied text; the
assertion is on the normalised ops a rule reads, or on the rule id and position a whole
file produces.
"""

from __future__ import annotations

import pytest

from helpers import lint_sql, where
from migcheck.model import Op
from migcheck.sql.parse import parse_statement
from migcheck.sql.split import split_sql


def ops_of(sql: str) -> tuple[list[Op], str | None]:
    result = split_sql(sql)
    assert len(result.statements) == 1, result.statements
    return parse_statement(sql, result.statements[0].tokens)


# UPDATE ... FROM whose WHERE joins on an expression of one table's columns (bucketing a
# timestamp, lower-casing a key, casting an enum) still names no row to skip: it is a
# join, and the UPDATE rewrites every row the join matches.
@pytest.mark.parametrize(
    ("sql", "has_where"),
    [
        (
            "UPDATE ev e SET visit = v.id FROM visits v\n"
            "WHERE e.sid = v.sid AND date_trunc('hour', e.at) = v.hour",
            False,
        ),
        ("UPDATE a SET x = b.x FROM b WHERE lower(a.email) = b.email", False),
        ("UPDATE a SET x = b.x FROM b WHERE a.kind::text = b.kind", False),
        # still filters: a constant, a column compared with its own table, a subquery
        ("UPDATE a SET x = b.x FROM b WHERE a.id = b.a_id AND lower(a.k) = 'x'", True),
        ("UPDATE a SET x = b.x FROM b WHERE a.id = b.a_id AND a.k = a.j", True),
        ("UPDATE a SET x = b.x FROM b WHERE a.id = (SELECT max(c.id) FROM c)", True),
        ("UPDATE a SET x = b.x FROM b WHERE a.id = b.a_id AND coalesce(a.k, b.k) = 1", True),
    ],
)
def test_update_from_join_on_expressions(sql: str, has_where: bool) -> None:
    ops, reason = ops_of(sql)
    assert reason is None
    assert [(o.kind, o.has_where) for o in ops] == [("update", has_where)]


def test_update_from_expression_join_is_an_unbatched_backfill() -> None:
    findings = lint_sql(
        "ALTER TABLE ev ADD COLUMN visit uuid;\n"
        "UPDATE ev e SET visit = v.id\n"
        "FROM (SELECT DISTINCT sid, date_trunc('hour', at) AS hour, gen_random_uuid() id\n"
        "      FROM ev) v\n"
        "WHERE e.sid = v.sid AND date_trunc('hour', e.at) = v.hour;",
        history=["CREATE TABLE ev (id uuid, sid uuid, at timestamptz);"],
        rules=["unbatched-backfill", "hold-exclusive-lock"],
        runner_transaction=True,
    )
    assert where(findings, "unbatched-backfill") == [(2, 1)]
    # One finding (issue 12, point 5): the backfill's names the ADD COLUMN's held lock.
    assert where(findings, "hold-exclusive-lock") == []
    assert 'ACCESS EXCLUSIVE lock on "ev" is held for the whole backfill' in findings[0].message
