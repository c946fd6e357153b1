"""Rule.slow_work: each rule that owns a slow operation says what slow work an op does,
next to its ``check``; hold-exclusive-lock asks them instead of keeping its own copy."""

from __future__ import annotations

import ast
from pathlib import Path

from helpers import lint_sql, where
from migcheck.rules import slow_work_rules

R = "hold-exclusive-lock"
TABLES = (
    "create table users (id bigserial primary key, display_name text, full_name text);\n"
    "create table orders (id bigserial primary key, status text);\n"
    "create index orders_status_idx on orders (status);"
)


def run(sql: str, rules: list[str] | None = None) -> list:
    return lint_sql(f"BEGIN;\n{sql}\nCOMMIT;\n", history=[TABLES], rules=rules or [R])


def test_the_rules_that_answer_for_each_op_kind() -> None:
    slow = slow_work_rules()  # imports a kind's rules when that kind is first asked about
    # At least these (a new slow rule adds itself without touching this test).
    expected = {
        "add_column": ["constraint-without-not-valid", "unique-without-index", "volatile-default"],
        "add_constraint": ["constraint-without-not-valid", "unique-without-index"],
        "alter_column_type": ["type-change-rewrite"],
        "cluster": ["table-rewrite"],
        "create_index": ["non-concurrent-index"],
        "delete": ["delete-without-where"],
        "insert": ["unbatched-backfill"],
        "refresh_matview": ["non-concurrent-refresh"],
        "reindex": ["non-concurrent-reindex"],
        "set_logged": ["table-rewrite"],
        "set_not_null": ["set-not-null-scan"],
        "set_tablespace": ["table-rewrite"],
        "set_unlogged": ["table-rewrite"],
        "update": ["unbatched-backfill"],
        "vacuum": ["table-rewrite"],
        "validate_constraint": ["validate-in-same-transaction"],
    }
    for kind, ids in expected.items():
        assert set(ids) <= {r.id for r in slow.get(kind, [])}, kind


def test_hold_exclusive_lock_asks_rules_that_are_not_enabled() -> None:
    findings = run(
        "alter table orders add column note text;\nupdate users set display_name = full_name;"
    )
    assert where(findings, R) == [(2, 20)]
    assert 'line 3 updates every row of "users"' in findings[0].message


def test_a_batched_update_join_is_not_slow_work() -> None:
    # unbatched-backfill already let this batch pass; hold-exclusive-lock used to count it
    # as "updates every row".
    batch = (
        "WITH todo AS (SELECT id FROM users WHERE display_name IS NULL LIMIT 500)\n"
        "UPDATE users SET display_name = full_name FROM todo WHERE users.id = todo.id;"
    )
    assert run(f"alter table orders add column note text;\n{batch}") == []
    unbounded = batch.replace(" LIMIT 500", "")
    findings = run(f"alter table orders add column note text;\n{unbounded}")
    assert where(findings, R) == [(2, 20)]


def test_cluster_without_a_table_names_what_it_rewrites() -> None:
    findings = run("alter table orders add column note text;\nCLUSTER;")
    assert "line 3 rewrites every clustered table (CLUSTER)" in findings[0].message


def test_reindex_of_an_index_this_deploy_built_is_slow_work_but_not_reported_again() -> None:
    sql = (
        "create index concurrently orders_id_status_idx on orders (id, status);\n"
        "BEGIN;\n"
        "alter table users add column note text;\n"
        "reindex index orders_id_status_idx;\n"
        "COMMIT;\n"
    )
    # non-concurrent-reindex stays quiet about an index built in this deploy, but
    # rebuilding it still reads every row of the live table while "users" stays locked.
    findings = lint_sql(sql, history=[TABLES], rules=[R, "non-concurrent-reindex"])
    assert [(f.rule, f.span.line) for f in findings] == [(R, 3)]
    assert 'line 4 rebuilds "orders_id_status_idx"' in findings[0].message


def test_no_module_imports_from_a_rule_module() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "migcheck"
    rule_modules = {
        f"migcheck.rules.{p.stem}"
        for p in (src / "rules").glob("*.py")
        if not p.stem.startswith("_")
    }
    offenders = []
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in rule_modules:
                offenders.append(f"{path.relative_to(src)}: from {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{path.relative_to(src)}: import {a.name}"
                    for a in node.names
                    if a.name in rule_modules
                ]
    assert offenders == []
