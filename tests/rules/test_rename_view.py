"""rename-view: ALTER VIEW / ALTER MATERIALIZED VIEW ... RENAME TO."""

from __future__ import annotations

from helpers import lint_sql, where

R = "rename-view"
VIEWS = (
    "CREATE TABLE invoice (id bigint);",
    "CREATE VIEW v_open_invoice AS SELECT * FROM invoice;\n"
    "CREATE MATERIALIZED VIEW monthly_revenue AS SELECT count(*) AS n FROM invoice;",
)


def run(sql: str, history: tuple[str, ...] = VIEWS, **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_rename_view_is_a_warning() -> None:
    findings = run("ALTER VIEW v_open_invoice RENAME TO open_invoices;")
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.severity == "warning"
    assert 'view "v_open_invoice"' in f.message and '"open_invoices"' in f.message
    assert 'CREATE VIEW "v_open_invoice" AS SELECT * FROM "open_invoices";' in f.help


def test_rename_materialized_view() -> None:
    findings = run("\nALTER MATERIALIZED VIEW monthly_revenue RENAME TO revenue_by_month;")
    assert where(findings, R) == [(2, 1)]
    assert 'materialized view "monthly_revenue"' in findings[0].message
    assert "ALTER MATERIALIZED VIEW" in findings[0].help


def test_view_renamed_with_alter_table() -> None:
    findings = run("ALTER TABLE v_open_invoice RENAME TO open_invoices;")
    assert where(findings, R) == [(1, 28)]


def test_table_rename_is_not_a_view_rename() -> None:
    assert run("ALTER TABLE invoice RENAME TO invoices;") == []
    assert run("ALTER TABLE unknown_thing RENAME TO other;", history=()) == []


def test_unknown_view_is_flagged() -> None:
    assert where(run("ALTER VIEW reporting.daily RENAME TO day;", history=()), R) == [(1, 1)]


def test_silent_on_new_view_and_on_old_name_kept() -> None:
    assert run("CREATE VIEW tmp AS SELECT 1;\nALTER VIEW tmp RENAME TO tmp2;", history=()) == []
    sql = (
        "ALTER VIEW v_open_invoice RENAME TO open_invoices;\n"
        "CREATE VIEW v_open_invoice AS SELECT * FROM open_invoices;"
    )
    assert run(sql, implicit_transaction=True) == []


def test_materialized_view_renamed_with_alter_table_says_so() -> None:
    # ALTER TABLE renames a materialized view too; the history says what it is, so the
    # help's ALTER names the right kind of relation.
    findings = run("ALTER TABLE monthly_revenue RENAME TO revenue_by_month;")
    assert where(findings, R) == [(1, 29)]
    assert findings[0].message.startswith('Renaming materialized view "monthly_revenue"')
    assert 'ALTER MATERIALIZED VIEW "monthly_revenue" RENAME TO' in findings[0].help
    # A plain view renamed the same way stays a view.
    [plain] = run("ALTER TABLE v_open_invoice RENAME TO open_invoices;")
    assert plain.message.startswith('Renaming view "v_open_invoice"')
