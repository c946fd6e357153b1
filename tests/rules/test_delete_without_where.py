"""delete-without-where: DELETE without WHERE on an existing table (data loss)."""

from __future__ import annotations

from helpers import lint_sql, where

R = "delete-without-where"
COUPONS = "create table coupons (id bigserial primary key, code text, expires_at timestamptz);"


def run(sql: str, history: tuple[str, ...] = (COUPONS,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_delete_all_rows() -> None:
    findings = run("begin;\n\n  delete from coupons;\ncommit;")
    assert where(findings, R) == [(3, 3)]
    f = findings[0]
    assert f.severity == "error" and f.category == "data"
    assert 'every row of "coupons"' in f.message
    assert 'DELETE FROM "coupons" WHERE <condition>' in f.help


def test_prisma_quoted_and_schema_qualified() -> None:
    findings = run('DELETE FROM public."Session";', history=())
    assert where(findings, R) == [(1, 1)]
    assert '"Session"' in findings[0].message


def test_delete_using_without_where_is_flagged() -> None:
    assert where(run("delete from coupons using coupons b;"), R) == [(1, 1)]


def test_silent_with_where() -> None:
    sql = (
        "delete from coupons a\nusing coupons b\nwhere a.code = b.code\n  and a.id > b.id;\n"
        "delete from coupons where expires_at < now();"
    )
    assert run(sql) == []


def test_silent_on_new_table() -> None:
    assert run("create table staging (id int);\ndelete from staging;", history=()) == []


def test_a_where_that_is_always_true_deletes_every_row() -> None:
    # PostgreSQL evaluates these to TRUE for every row: nothing is left out.
    sql = "delete from coupons where 1 = 1;\ndelete from coupons where true;\n" + (
        "delete from coupons where not false and 'a' = 'a';"
    )
    findings = run(sql)
    assert where(findings, R) == [(1, 1), (2, 1), (3, 1)]
    assert all("a WHERE that is always true" in f.message for f in findings)


def test_a_where_that_can_leave_rows_out_is_quiet() -> None:
    # ``code = code`` is NULL, not true, where code is NULL; ``1 = 0`` deletes nothing.
    sql = "delete from coupons where code = code;\ndelete from coupons where 1 = 0;"
    assert run(sql) == []


def test_hold_exclusive_lock_names_the_delete_as_slow_work() -> None:
    # The DELETE runs while ALTER TABLE's ACCESS EXCLUSIVE lock on "coupons" is held.
    sql = "begin;\nalter table coupons add column note text;\ndelete from coupons;\ncommit;"
    findings = lint_sql(sql, history=[COUPONS], rules=["hold-exclusive-lock"])
    assert where(findings, "hold-exclusive-lock") == [(2, 21)]
    assert 'line 3 deletes every row of "coupons"' in findings[0].message


def test_a_filtered_delete_or_one_on_a_view_is_not_slow_work() -> None:
    history = [COUPONS, "create view live_coupons as select * from coupons;"]
    for delete in ("delete from coupons where id = 1;", "delete from live_coupons;"):
        sql = f"begin;\nalter table coupons add column note text;\n{delete}\ncommit;"
        assert lint_sql(sql, history=history, rules=["hold-exclusive-lock"]) == [], delete
