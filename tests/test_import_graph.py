"""migcheck's import graph has no circle, and no layer imports one above it.

Read from the source with ``ast`` (no dependency needed, nothing imported). What counts
as an import: every ``import`` and ``from ... import`` in a module, at module level AND
inside functions (a lazy import still ties two modules: a circle through one only
moves the failure to run time). Imports under ``if TYPE_CHECKING:`` do not count: they
never run, and exist to name types. Importing ``a.b.c`` counts as importing the module
``a.b.c`` only, not the packages ``a`` and ``a.b`` Python also initialises.

The layers, lowest first (docs/dev/architecture.md explains them). A module may import
modules of its own layer or below, never above.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"

# Lowest first; the first prefix that matches a module names its layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Data types, safe reading of files, the parse cache's storage, PostgreSQL facts.
    ("foundation", ("migcheck.__init__", "migcheck.model", "migcheck.errors",
                    "migcheck.jsonfile", "migcheck.datacodec", "migcheck.cache",
                    "migcheck.sources.__init__", "migcheck.sources.reading",
                    "migcheck.report.escape", "migcheck.docs", "migcheck.locks",
                    "migcheck.pgcatalog", "migcheck._volatility", "migcheck.schema",
                    "migcheck.settings", "migcheck.vocabulary", "migcheck.quoting",
                    "migcheck.flyway", "migcheck.lazyre")),
    ("sources", ("migcheck.sources",)),
    ("sql", ("migcheck.sql", "migcheck.dynamic")),
    ("rules", ("migcheck.context", "migcheck.rules", "migcheck.suppress", "migcheck.selection")),
    ("engine", ("migcheck.statements", "migcheck.histcache", "migcheck.snapshot", "migcheck.parallel", "migcheck.transactions", "migcheck.engine",
                "migcheck.postlint", "migcheck.baseline", "migcheck.gitdiff",
                "migcheck.tablestats", "migcheck.appschema")),
    ("config", ("migcheck.config",)),
    ("run", ("migcheck.runner", "migcheck.configreport", "migcheck.fixes")),
    ("report", ("migcheck.report",)),
    ("live", ("migcheck.live", "migcheck.stats_collect")),
    ("rehearse", ("migcheck.rehearse",)),
    ("lsp", ("migcheck.lsp",)),
    ("cli", ("migcheck.cli", "migcheck.live_cli", "migcheck.stats_cli", "migcheck.rehearse_cli",
             "migcheck.__main__")),
]  # fmt: skip


def modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in (SRC / "migcheck").rglob("*.py"):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if package else parts)
        out[name] = (path, package)
    return out


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(name: str, path: Path, package: bool, known: set[str]) -> set[str]:
    """The migcheck modules ``name`` imports (see the module docstring for what counts)."""
    here = name if package else name.rpartition(".")[0]

    def resolve(target: str) -> str | None:
        while target and target not in known:
            target = target.rpartition(".")[0]
        return target or None

    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and _is_type_checking(node):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(filter(None, (resolve(a.name) for a in node.names)))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    target = sub if sub in known else resolve(base)
                    if target:
                        found.add(target)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    found.discard(name)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, pkg, known) for name, (path, pkg) in mods.items()}


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def layer(module: str) -> int:
    for rank, (_name, prefixes) in enumerate(LAYERS):
        if f"{module}.__init__" in prefixes:  # a package's own module, named exactly
            return rank
    best = -1
    length = -1
    for rank, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and len(prefix) > length:
                best, length = rank, len(prefix)
    assert best >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def test_the_checker_finds_a_circle() -> None:
    edges = {"migcheck.a": {"migcheck.b"}, "migcheck.b": {"migcheck.a"}, "migcheck.c": set()}
    assert circles(edges) == [["migcheck.a", "migcheck.b"]]


def test_lazy_imports_count_and_type_checking_imports_do_not(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from migcheck.b import T\n"
        "def f():\n    from migcheck.c import g\n"
    )
    known = {"migcheck.m", "migcheck.b", "migcheck.c"}
    assert imports_of("migcheck.m", source, False, known) == {"migcheck.c"}


def test_no_import_circle() -> None:
    assert circles(graph()) == []


def test_no_module_imports_a_layer_above_its_own() -> None:
    upward = [
        f"{module} ({LAYERS[layer(module)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for module, targets in sorted(graph().items())
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


# -- what a run really imports (a subprocess each: sys.modules of a fresh interpreter) ----

# Runs the command line in-process, then prints the modules it imported as JSON.
_PROBE = (
    "import sys, runpy\n"
    "sys.argv = ['migcheck', *sys.argv[1:]]\n"
    "try:\n    runpy.run_module('migcheck', run_name='__main__')\n"
    "except SystemExit as exit:\n    code = exit.code\n"
    "loaded = sorted(sys.modules)\n"  # before the probe's own json import
    "import json\n"
    "sys.stderr.write('\\nMODULES ' + json.dumps([code, loaded]))\n"
)


def _run_probe(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[object, set[str], str]:
    import json
    import os
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "\nMODULES " in proc.stderr, proc.stderr
    code, loaded = json.loads(proc.stderr.rsplit("\nMODULES ", 1)[1])
    return code, set(loaded), proc.stdout


def _prisma_history(root: Path) -> None:
    mig = root / "prisma" / "migrations"
    steps = {
        "20240101000000_init": 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "bio" TEXT);\n',
        "20240102000000_index": 'CREATE INDEX "User_bio_idx" ON "User"("bio");\n',
        "20240103000000_drop": 'ALTER TABLE "User" DROP COLUMN "bio";\n',
    }
    for name, sql in steps.items():
        (mig / name).mkdir(parents=True)
        (mig / name / "migration.sql").write_text(sql, encoding="utf-8")
    (mig / "migration_lock.toml").write_text('provider = "postgresql"\n', encoding="utf-8")


def _parser_or_rules(loaded: set[str]) -> list[str]:
    """sqlglot, migcheck's SQL layer and rule modules (the rule metadata index aside)."""
    return sorted(
        m
        for m in loaded
        if m.split(".")[0] == "sqlglot"
        or m.startswith(("migcheck.sql.", "migcheck.dynamic"))
        or (
            m.startswith("migcheck.rules.")
            and m not in ("migcheck.rules._index", "migcheck.rules._info")
        )
    )


def test_a_warm_run_of_an_unchanged_history_imports_no_parser_and_no_rule(tmp_path: Path) -> None:
    _prisma_history(tmp_path)
    env = {"MIGCHECK_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    cold_code, cold, cold_out = _run_probe(["prisma/migrations"], tmp_path, env)
    # The near miss: the first run parses and lints, so the probe does see the imports.
    assert "sqlglot" in cold and "migcheck.rules.drop_column" in cold
    warm_code, warm, warm_out = _run_probe(["prisma/migrations"], tmp_path, env)
    assert (warm_code, warm_out) == (cold_code, cold_out) == (1, cold_out)
    assert "error[drop-column]" in warm_out
    assert _parser_or_rules(warm) == []
    # Nor what only some runs need: git for the deployed schema, the PL/pgSQL reader.
    assert sorted(m for m in ("subprocess", "migcheck.dynamic") if m in warm) == []


@pytest.mark.xfail(
    strict=True,
    reason="engine.py and selection.py import migcheck.rules (RuleSet, rule_index) at "
    "module level; the warm path needs only the generated index",
)
def test_a_warm_run_does_not_import_the_rules_package(tmp_path: Path) -> None:
    _prisma_history(tmp_path)
    env = {"MIGCHECK_CACHE_DIR": str(tmp_path / "cache"), "NO_COLOR": "1"}
    _run_probe(["prisma/migrations"], tmp_path, env)
    _code, warm, _out = _run_probe(["prisma/migrations"], tmp_path, env)
    assert "migcheck.rules" not in warm


def test_version_imports_click_and_little_else(tmp_path: Path) -> None:
    code, loaded, out = _run_probe(["--version"], tmp_path, {})
    assert code == 0 and out.startswith("migcheck, version ")
    heavy = ("dataclasses", "json", "hashlib", "subprocess", "importlib.metadata", "sqlglot")
    assert sorted(m for m in heavy if m in loaded) == []
    ours = sorted(m for m in loaded if m.startswith("migcheck"))
    assert ours == [
        "migcheck",
        "migcheck.cli",
        "migcheck.lazyre",
        "migcheck.report",
        "migcheck.report.escape",
        "migcheck.vocabulary",
    ]


def test_subcommands_load_only_when_named(tmp_path: Path) -> None:
    (tmp_path / "a.sql").write_text("SELECT 1;\n", encoding="utf-8")
    code, loaded, _out = _run_probe(["a.sql"], tmp_path, {"MIGCHECK_NO_CACHE": "1"})
    assert code == 0
    others = ("migcheck.live_cli", "migcheck.stats_cli", "migcheck.rehearse_cli", "migcheck.lsp")
    assert sorted(m for m in others if m in loaded) == []
    # Named, a lazy command is that command, not ``check`` of a path called "stats".
    code, loaded, out = _run_probe(["stats", "--help"], tmp_path, {})
    assert code == 0 and "Usage: migcheck stats [OPTIONS]" in out
    assert "migcheck.stats_cli" in loaded and "migcheck.live_cli" not in loaded
    code, _loaded, out = _run_probe(["--help"], tmp_path, {})
    listed = [line.split()[0] for line in out.split("Commands:\n", 1)[1].splitlines() if line]
    assert listed == ["check", "explain", "live", "rehearse", "rules", "server", "stats"]


def test_plain_ddl_does_not_load_the_plpgsql_reader(tmp_path: Path) -> None:
    (tmp_path / "001.sql").write_text("CREATE INDEX t_a ON t (a);\n", encoding="utf-8")
    env = {"MIGCHECK_NO_CACHE": "1"}
    code, loaded, out = _run_probe(["001.sql"], tmp_path, env)
    assert code == 1 and "concurrent" in out.lower()
    assert "migcheck.rules.concurrent_in_transaction" in loaded
    assert sorted(m for m in loaded if m.startswith("migcheck.dynamic")) == []
    # The near miss: a DO block is read by it.
    (tmp_path / "001.sql").write_text(
        "DO $$ BEGIN CREATE INDEX t_a ON t (a); COMMIT; END $$;\n", encoding="utf-8"
    )
    _code, loaded, _out = _run_probe(["001.sql"], tmp_path, env)
    assert "migcheck.dynamic.lexer" in loaded
