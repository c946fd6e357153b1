"""The rule registry: stable ids, metadata every rule must carry, and op kinds that exist."""

from __future__ import annotations

import re

from migcheck.model import OP_KINDS
from migcheck.rules import all_rules

NEVER = "\0never"  # rules reported by a source or the splitter, not by checking ops


def test_ids_are_kebab_case_and_match_their_module() -> None:
    for rid, rule in all_rules().items():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", rid), rid
        assert type(rule).__module__ == "migcheck.rules." + rid.replace("-", "_")


def test_metadata() -> None:
    for rid, rule in all_rules().items():
        assert rule.category in ("compatibility", "locking", "data", "style", "meta"), rid
        assert rule.severity in ("error", "warning", "info"), rid
        assert rule.summary and not rule.summary.endswith("."), rid


def test_rules_only_listen_to_op_kinds_the_parser_produces() -> None:
    for rid, rule in all_rules().items():
        unknown = set(rule.kinds) - OP_KINDS - {NEVER}
        assert not unknown, f"{rid} listens to unknown op kinds {sorted(unknown)}"


def test_style_and_timeout_rules_are_opt_in() -> None:
    on = {rid for rid, r in all_rules().items() if r.default_enabled}
    assert "missing-lock-timeout" not in on
    assert {rid for rid, r in all_rules().items() if r.category == "style"} & on == {
        "identifier-too-long"
    }


def test_the_generated_index_equals_the_rule_modules() -> None:
    # A run selects rules and builds meta findings from the index, without importing rule
    # modules; a stale index would silently run the wrong rules at the wrong severity.
    from migcheck.rules import info_of, rule_index

    expected = {rid: info_of(rule) for rid, rule in all_rules().items()}
    assert rule_index() == expected, "run scripts/update_rule_index.py"
    assert list(rule_index()) == list(expected)


def test_a_run_imports_only_the_rules_its_statements_reach(tmp_path) -> None:
    import subprocess
    import sys

    sql = tmp_path / "0001_index.sql"
    sql.write_text("CREATE INDEX orders_user_idx ON orders (user_id);\n", encoding="utf-8")
    probe = (
        "import sys, runpy\n"
        f"sys.argv = ['migcheck', '--format', 'json', {str(sql)!r}]\n"
        "try:\n    runpy.run_module('migcheck', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('migcheck.rules.'))\n"
        "sys.stderr.write('LOADED ' + ' '.join(loaded))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert '"non-concurrent-index"' in proc.stdout
    loaded = set(proc.stderr.split("LOADED ", 1)[1].split())
    assert "migcheck.rules.non_concurrent_index" in loaded
    # Rules listening to other op kinds stay unimported.
    assert "migcheck.rules.drop_column" not in loaded
    assert "migcheck.rules.rename_table" not in loaded


def test_version_bounds_include_both_ends() -> None:
    # No built-in rule has an upper bound yet; a rule for a behaviour PostgreSQL later
    # fixed would. Both bounds are inclusive, as `migcheck rules` shows them.
    from collections.abc import Iterable

    from migcheck.context import Context
    from migcheck.model import Finding, Op, Statement
    from migcheck.rules import Rule

    class Bounded(Rule):
        id = "bounded"
        category = "locking"
        severity = "warning"
        summary = "test"
        min_pg, max_pg = 12, 15

        def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterable[Finding]:
            return []

    assert [v for v in range(10, 18) if Bounded().applies_to_version(v)] == [12, 13, 14, 15]
    Bounded.min_pg = None
    assert [v for v in range(10, 18) if Bounded().applies_to_version(v)] == [10, 11, 12, 13, 14, 15]
