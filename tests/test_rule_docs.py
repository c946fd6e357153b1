"""Every rule has a doc in rules/<id>.md; its Unsafe examples fire the rule, its Safe ones don't.

Doc conventions for the SQL blocks:
- ``-- migration: <name>`` starts a new migration (its own deploy); earlier migrations in
  the block build the schema, and the rule is checked on every migration of the block;
- ``-- pg-version: N`` sets the target version for the block;
- ``-- in-transaction`` makes the runner wrap each migration in a transaction.
"""

from __future__ import annotations

import re

import pytest

from helpers import lint_history, make_history
from migcheck.docs import code_blocks, docs_dir, rule_doc
from migcheck.rules import all_rules

RULES = sorted(all_rules())


def _run(rule_id: str, block: str) -> list[str]:
    pg = 14
    m = re.search(r"--\s*pg-version:\s*(\d+)", block)
    if m:
        pg = int(m.group(1))
    parts = re.split(r"^--\s*migration:.*$", block, flags=re.M)
    parts = [p for p in parts if p.strip()] or [block]
    # "-- changeset" marks the later migrations of the block as one deploy (the first builds
    # the schema), for rules about what only shows across the files of a changeset.
    changeset = re.search(r"^--\s*changeset\b", block, flags=re.M) is not None
    selected = [i > 0 for i in range(len(parts))] if changeset else None
    history = make_history(
        parts, selected=selected, runner_transaction="-- in-transaction" in block
    )
    result = lint_history(history, pg=pg, rules=[rule_id], changeset=changeset)
    return [f.rule for f in result.findings if f.rule == rule_id]


def test_every_rule_has_a_doc() -> None:
    assert docs_dir() is not None
    missing = [r for r in RULES if rule_doc(r) is None]
    assert missing == []


def test_every_doc_belongs_to_a_rule() -> None:
    d = docs_dir()
    assert d is not None
    orphans = sorted(p.stem for p in d.glob("*.md") if p.stem not in all_rules())
    assert orphans == []


@pytest.mark.parametrize("rule_id", RULES)
def test_doc_header_and_sections(rule_id: str) -> None:
    doc = rule_doc(rule_id) or ""
    rule = all_rules()[rule_id]
    assert doc.startswith(f"# {rule_id}\n")
    assert f"category: {rule.category}" in doc
    assert f"default severity: {rule.severity}" in doc
    for section in ("## What it flags", "## Why it breaks", "## Unsafe", "## Safe"):
        assert section in doc, f"{rule_id}.md lacks {section}"


@pytest.mark.parametrize("rule_id", RULES)
def test_unsafe_examples_fire(rule_id: str) -> None:
    if rule_id == "alembic-not-evaluated":
        pytest.skip("raised by the Alembic reader on Python code; tests/alembic covers it")
    if rule_id == "edited-applied-migration":
        pytest.skip("raised by --diff on a git history; tests/test_gitdiff.py covers it")
    if rule_id == "app-schema-mismatch":
        pytest.skip("needs the app's schema beside the migrations; tests/rules covers it")
    blocks = code_blocks(rule_doc(rule_id) or "", "Unsafe")
    assert blocks, f"{rule_id}.md has no ```sql block under ## Unsafe"
    for block in blocks:
        assert _run(rule_id, block), f"{rule_id} did not fire on its Unsafe example:\n{block}"


@pytest.mark.parametrize("rule_id", RULES)
def test_safe_examples_are_quiet(rule_id: str) -> None:
    blocks = code_blocks(rule_doc(rule_id) or "", "Safe")
    assert blocks, f"{rule_id}.md has no ```sql block under ## Safe"
    for block in blocks:
        assert _run(rule_id, block) == [], f"{rule_id} fired on its Safe example:\n{block}"
