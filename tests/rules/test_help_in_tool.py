"""Every rule's help speaks the user's tool (issue 13, point 3), checked on every Unsafe
example of every rule doc, linted as plain SQL, as a Prisma migration and as an Alembic
revision: a revision's code lines are Python (op calls; SQL only inside op.execute), plain
SQL help names no ORM, Prisma help no SQLAlchemy."""

from __future__ import annotations

import re

import pytest

from alembic_help import bare_sql, code_lines, upgrade_code
from helpers import lint_history, make_history
from migcheck.docs import code_blocks, rule_doc
from migcheck.model import Finding
from migcheck.rules import all_rules

# Raised outside the statement rules (the Alembic reader, --diff, the suppression pass,
# whose comment syntax follows the file's extension rather than the tool).
_ELSEWHERE = {
    "alembic-not-evaluated",
    "edited-applied-migration",
    "suppression-without-reason",
    "unused-suppression",
}
RULES = sorted(set(all_rules()) - _ELSEWHERE)
_ORM = re.compile(r"SQLAlchemy|\bop\.|alembic|\brevision\b|autocommit_block")
_PRISMA = re.compile(r"Prisma|schema\.prisma|@ignore|@map\b|--create-only")


def _lint(rule_id: str, block: str, tool: str) -> list[Finding]:
    pg = int(m.group(1)) if (m := re.search(r"--\s*pg-version:\s*(\d+)", block)) else 14
    parts = [p for p in re.split(r"^--\s*migration:.*$", block, flags=re.M) if p.strip()]
    changeset = re.search(r"^--\s*changeset\b", block, flags=re.M) is not None
    history = make_history(
        parts or [block],
        selected=[i > 0 for i in range(len(parts))] if changeset else None,
        # Alembic runs every revision in a transaction.
        runner_transaction="-- in-transaction" in block or tool == "alembic",
        tool=tool,
    )
    result = lint_history(history, pg=pg, rules=[rule_id], changeset=changeset)
    return [f for f in result.findings if f.rule == rule_id]


def _findings(rule_id: str, tool: str) -> list[Finding]:
    blocks = code_blocks(rule_doc(rule_id) or "", "Unsafe")
    return [f for block in blocks for f in _lint(rule_id, block, tool)]


@pytest.mark.parametrize("rule_id", RULES)
def test_alembic_help_is_op_calls(rule_id: str) -> None:
    for f in _findings(rule_id, "alembic"):
        assert bare_sql(f.help) == [], f.help
        if code_lines(f.help):
            upgrade_code(f.help)
        assert "-- migcheck:" not in f.help, f.help


@pytest.mark.parametrize("rule_id", RULES)
def test_plain_sql_help_names_no_tool(rule_id: str) -> None:
    for f in _findings(rule_id, "sql"):
        assert not _ORM.search(f.help), f.help
        assert not _PRISMA.search(f.help), f.help


@pytest.mark.parametrize("rule_id", RULES)
def test_prisma_help_names_no_sqlalchemy(rule_id: str) -> None:
    for f in _findings(rule_id, "prisma"):
        assert not _ORM.search(f.help), f.help


def test_the_docs_reach_the_rules_that_give_sql() -> None:
    # The checks above mean something only if the doc examples make those rules speak.
    spoken = {r for r in RULES if any(code_lines(f.help) for f in _findings(r, "alembic"))}
    assert len(spoken) >= 40, sorted(set(RULES) - spoken)
