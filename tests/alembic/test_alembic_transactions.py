"""Transactions as Alembic runs them, judged through the engine.

By default one ``alembic upgrade`` runs all its revisions in ONE transaction; with
``transaction_per_migration=True`` in env.py each revision has its own. An
``autocommit_block()`` commits the transaction in progress, runs its body outside any
transaction and begins a new one. The projects are written to a temporary directory,
loaded with ``load_alembic`` and linted with ``migcheck.engine.lint``.

Tests marked ``xfail(strict=True, reason="needs engine wiring: ...")`` need
``engine._lint_history`` to take its transactions from ``transactions.TransactionPlan``;
they turn into passes (and the strict xfail into a failure to remove) once it does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from alembic_helpers import Tree, line_of

from migcheck.engine import Options, lint
from migcheck.model import Finding
from migcheck.sources import History
from migcheck.sources.alembic import load_alembic
from migcheck.transactions import TransactionPlan

CONCURRENT = "concurrent-in-transaction"
HOLD = "hold-exclusive-lock"
VALIDATE = "validate-in-same-transaction"

WIRING = "needs engine wiring: engine._lint_history must use transactions.TransactionPlan"

BASE = """
op.create_table(
    "users",
    sa.Column("id", sa.BigInteger(), primary_key=True),
    sa.Column("full_name", sa.Text()),
)
op.create_table("orders", sa.Column("id", sa.BigInteger(), primary_key=True))
"""


def load(tree: Tree, selected: Sequence[str] | None = None) -> History:
    histories, errors, _ = load_alembic(str(tree.root), selected=selected)
    assert errors == []
    assert len(histories) == 1
    return histories[0]


def findings(
    tree: Tree, rules: Sequence[str], selected: Sequence[str] | None = None
) -> list[Finding]:
    return lint([load(tree, selected)], Options(rules=list(rules))).findings


def of(found: list[Finding], rule: str) -> list[Finding]:
    return [f for f in found if f.rule == rule]


def per_migration(tree: Tree) -> None:
    tree.env("connection=connection, transaction_per_migration=True")


# --- CONCURRENTLY and autocommit blocks ----------------------------------------------


def test_concurrently_inside_an_autocommit_block_is_not_in_a_transaction(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    tree.revision(
        "rev002",
        "base01",
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_users_name", "users", ["full_name"], postgresql_concurrently=True)
        """,
    )
    assert of(findings(tree, [CONCURRENT]), CONCURRENT) == []


def test_concurrently_outside_a_block_is_flagged_and_says_alembic_runs_a_transaction(
    tree: Tree,
) -> None:
    tree.revision("base01", None, BASE)
    path = tree.revision(
        "rev002",
        "base01",
        'op.create_index("ix_users_name", "users", ["full_name"], postgresql_concurrently=True)',
    )
    found = of(findings(tree, [CONCURRENT]), CONCURRENT)
    assert [(f.path.endswith(path.name), f.span.line) for f in found] == [
        (True, line_of(path, "op.create_index"))
    ]
    message = found[0].message
    assert "Alembic runs all the revisions of one `alembic upgrade` in a single transaction" in (
        message
    )
    assert "transaction_per_migration" in message
    assert "autocommit_block()" in found[0].help


def test_per_migration_setting_is_named_in_the_message(tree: Tree) -> None:
    per_migration(tree)
    tree.revision(
        "rev001",
        None,
        'op.create_index("ix", "users", ["full_name"], postgresql_concurrently=True)',
    )
    found = of(findings(tree, [CONCURRENT]), CONCURRENT)
    assert len(found) == 1
    assert "Alembic runs each revision in its own transaction" in found[0].message


def test_autocommit_block_in_an_earlier_revision_does_not_cover_a_later_one(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    tree.revision(
        "rev002",
        "base01",
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_a", "users", ["full_name"], postgresql_concurrently=True)
        """,
    )
    later = tree.revision(
        "rev003",
        "rev002",
        'op.create_index("ix_b", "orders", ["id"], postgresql_concurrently=True)',
    )
    found = of(findings(tree, [CONCURRENT], selected=["rev002", "rev003"]), CONCURRENT)
    assert [f.span.line for f in found] == [line_of(later, "op.create_index")]


def test_concurrently_after_a_block_runs_in_the_new_transaction(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    path = tree.revision(
        "rev002",
        "base01",
        """
        with op.get_context().autocommit_block():
            op.create_index("ix_a", "users", ["full_name"], postgresql_concurrently=True)
        op.create_index("ix_b", "orders", ["id"], postgresql_concurrently=True)
        """,
    )
    found = of(findings(tree, [CONCURRENT]), CONCURRENT)
    assert [f.span.line for f in found] == [line_of(path, '"ix_b"')]
    block = line_of(path, '"ix_a"')
    assert f"begins a new transaction after it (the block ending at line {block})" in (
        found[0].message
    )


# --- hold-exclusive-lock -------------------------------------------------------------

LOCK_THEN_BACKFILL = """
op.add_column("users", sa.Column("display_name", sa.Text(), nullable=True))
{between}
op.execute("UPDATE users SET display_name = full_name")
"""
BLOCK = """
with op.get_context().autocommit_block():
    op.create_index("ix_users_id", "users", ["id"], postgresql_concurrently=True)
"""


def test_exclusive_lock_held_through_a_backfill_is_flagged(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    path = tree.revision("rev002", "base01", LOCK_THEN_BACKFILL.format(between=""))
    found = of(findings(tree, [HOLD]), HOLD)
    assert [f.span.line for f in found] == [line_of(path, "op.add_column")]
    assert "Alembic runs all the revisions" in found[0].message


def test_exclusive_lock_does_not_span_an_autocommit_block(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    tree.revision("rev002", "base01", LOCK_THEN_BACKFILL.format(between=BLOCK))
    assert of(findings(tree, [HOLD]), HOLD) == []


def test_one_transaction_spans_the_revisions_of_a_deploy_by_default(tree: Tree) -> None:
    tree.revision("base01", None, BASE)
    first = tree.revision(
        "rev002", "base01", 'op.add_column("users", sa.Column("nick", sa.Text(), nullable=True))'
    )
    tree.revision("rev003", "rev002", 'op.execute("UPDATE users SET nick = full_name")')
    found = of(findings(tree, [HOLD], selected=["rev002", "rev003"]), HOLD)
    assert [(f.path.endswith(first.name), f.span.line) for f in found] == [
        (True, line_of(first, "op.add_column"))
    ]


def test_per_migration_transactions_end_with_the_revision(tree: Tree) -> None:
    per_migration(tree)
    tree.revision("base01", None, BASE)
    tree.revision(
        "rev002", "base01", 'op.add_column("users", sa.Column("nick", sa.Text(), nullable=True))'
    )
    tree.revision("rev003", "rev002", 'op.execute("UPDATE users SET nick = full_name")')
    assert of(findings(tree, [HOLD], selected=["rev002", "rev003"]), HOLD) == []


def test_each_revision_is_its_own_run_when_a_directory_is_audited(tree: Tree) -> None:
    # Naming the project judges every revision as its own deploy, i.e. its own
    # `alembic upgrade`, so nothing is shared between revisions even by default.
    tree.revision("base01", None, BASE)
    tree.revision(
        "rev002", "base01", 'op.add_column("users", sa.Column("nick", sa.Text(), nullable=True))'
    )
    tree.revision("rev003", "rev002", 'op.execute("UPDATE users SET nick = full_name")')
    assert of(findings(tree, [HOLD]), HOLD) == []


# --- NOT VALID then VALIDATE ---------------------------------------------------------

NOT_VALID = (
    'op.create_foreign_key("fk_orders_users", "orders", "users", ["id"], ["id"], '
    "postgresql_not_valid=True)"
)
VALIDATE_SQL = 'op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_users")'


def test_validate_in_the_next_revision_of_one_upgrade_is_the_same_transaction(
    tree: Tree,
) -> None:
    tree.revision("base01", None, BASE)
    tree.revision("rev002", "base01", NOT_VALID)
    tree.revision("rev003", "rev002", VALIDATE_SQL)
    found = of(findings(tree, [VALIDATE], selected=["rev002", "rev003"]), VALIDATE)
    assert len(found) == 1


def test_validate_in_the_next_revision_is_separate_per_migration(tree: Tree) -> None:
    per_migration(tree)
    tree.revision("base01", None, BASE)
    tree.revision("rev002", "base01", NOT_VALID)
    tree.revision("rev003", "rev002", VALIDATE_SQL)
    assert of(findings(tree, [VALIDATE], selected=["rev002", "rev003"]), VALIDATE) == []


# --- the plan itself (what the engine will call) --------------------------------------


def _walk(history: History, plan: TransactionPlan, deploys: list[int]) -> list[tuple[str, int]]:
    """(kind, id) of the transaction of every statement, the way the engine walks them."""
    from migcheck.statements import load_statements

    out: list[tuple[str, int]] = []
    for index, migration in enumerate(history.migrations):
        statements, _ = load_statements(migration)
        plan.start_migration(index, migration, statements)
        for stmt in statements:
            tx = plan.transaction_for(stmt)
            out.append((tx.kind, tx.id))
            tx.statements.append(stmt)
            plan.after(stmt)
    return out


@pytest.mark.parametrize("per_revision", [False, True])
def test_plan_places_statements_as_alembic_runs_them(tree: Tree, per_revision: bool) -> None:
    if per_revision:
        per_migration(tree)
    tree.revision("rev001", None, 'op.execute("SELECT 1")')
    tree.revision(
        "rev002",
        "rev001",
        """
        op.execute("SELECT 2")
        with op.get_context().autocommit_block():
            op.execute("SELECT 3")
            op.execute("SELECT 4")
        op.execute("SELECT 5")
        """,
    )
    tree.revision("rev003", "rev002", 'op.execute("SELECT 6")')
    history = load(tree)
    deploys = [1, 1, 1]  # one `alembic upgrade head` applies all three
    placed = _walk(history, TransactionPlan(history, Options(), deploys), deploys)
    kinds = [kind for kind, _ in placed]
    assert kinds == ["runner", "runner", "autocommit", "autocommit", "runner", "runner"]
    ids = [tx_id for _, tx_id in placed]
    assert len(set(ids[2:4])) == 2  # each autocommit statement commits on its own
    assert ids[4] not in (ids[1], *ids[2:4])  # a new transaction after the block
    if per_revision:
        assert ids[0] != ids[1] and ids[4] != ids[5]
    else:
        assert ids[0] == ids[1] and ids[4] == ids[5]


def test_plan_keeps_other_runners_per_file(tree: Tree) -> None:
    from helpers import make_history

    history = make_history(["SELECT 1; SELECT 2;", "SELECT 3;"], tool="flyway")
    for migration in history.migrations:
        migration.runner_transaction = True
    deploys = [1, 1]
    placed = _walk(history, TransactionPlan(history, Options(), deploys), deploys)
    assert [kind for kind, _ in placed] == ["runner"] * 3
    assert placed[0][1] == placed[1][1] != placed[2][1]


def test_advice_to_split_says_what_alembic_needs(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    versions = project / "migrations" / "versions"
    versions.mkdir(parents=True)
    (project / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (project / "migrations" / "env.py").write_text("from alembic import context\n")
    (versions / "a1_orders.py").write_text(
        'revision = "a1"\ndown_revision = None\n'
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "def upgrade():\n"
        '    op.create_table("accounts", sa.Column("id", sa.Integer, primary_key=True))\n'
        '    op.create_table("orders", sa.Column("id", sa.Integer, primary_key=True),'
        ' sa.Column("account_id", sa.Integer))\n'
    )
    (versions / "b2_fk.py").write_text(
        'revision = "b2"\ndown_revision = "a1"\n'
        "from alembic import op\n\n"
        "def upgrade():\n"
        '    op.create_foreign_key("fk_orders_account", "orders", "accounts",'
        ' ["account_id"], ["id"])\n'
    )
    histories, errors, _ = load_alembic(str(project))
    assert errors == []
    result = lint(histories, Options(rules=["constraint-without-not-valid"], changeset=False))
    (finding,) = result.findings
    assert finding.path.endswith("b2_fk.py") and finding.line == 6
    assert "transaction_per_migration=True" in finding.help
