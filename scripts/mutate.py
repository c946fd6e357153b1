"""Hand-rolled mutation testing for one migcheck module: does the suite notice a wrong rule?

For each small AST change to the module (a mutant), the module's tests run against the
mutated code; a mutant that no test fails on "survived" and shows a behaviour nothing pins.
Not run in CI (it takes minutes per module). Survivors are either a missing test or an
equivalent mutant (same behaviour); read each one.

    python scripts/mutate.py src/migcheck/rules/drop_column.py
    python scripts/mutate.py src/migcheck/rules/volatile_default.py --list
    python scripts/mutate.py src/migcheck/rules/_locking.py --tests tests/rules/ --only 3 17

Mutations: comparisons flipped (== !=, < >=, in / not in, is / is not), and/or swapped,
if/while/ternary conditions negated, `not` dropped, if-branches and else-branches dropped,
True/False swapped, int constants +1 and -1, lock modes swapped for another mode and
severities for another severity (in plain and f-strings).

Tests run per mutant, in this order, stopping at the first failure: the rule's own
tests/rules/test_<name>.py (when present) with the cross-rule tests/rules/test_near_misses.py
and test_pinned_behaviour.py; tests/test_rule_docs.py for the module's rule id; and
tests/test_golden.py (the fixtures' full report, a superset of tests/test_fixtures.py).
``--tests`` replaces the list. The mutant is served to every Python process (the CLI
subprocesses too) by an import hook loaded through PYTHONPATH; the source tree is never
modified and the lint cache is off. Source is regenerated with ast.unparse, so comments
and layout differ from the original; line numbers printed are the original's.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from migcheck.locks import LOCK_MODES
from migcheck.vocabulary import SEVERITIES

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# A lock mode as a whole phrase, longest first so "ACCESS EXCLUSIVE" is not read as "EXCLUSIVE".
_MODE_RE = re.compile(
    r"(?<![A-Z ])(" + "|".join(sorted(LOCK_MODES, key=len, reverse=True)) + r")(?![A-Z])"
)
_FLIP: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Lt: ast.GtE,
    ast.GtE: ast.Lt,
    ast.Gt: ast.LtE,
    ast.LtE: ast.Gt,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
# Class attributes whose change every test notices at once, and text nobody reads as logic.
_SKIP_ASSIGN = {"id", "summary", "__all__"}

# Loaded by every Python process the tests start: serves the mutant for one module name.
_HOOK = """
import importlib.machinery, importlib.util, os, sys

class _MutantFinder:
    def find_spec(self, name, path=None, target=None):
        if name != os.environ.get("MIGCHECK_MUTANT_MODULE"):
            return None
        file = os.environ["MIGCHECK_MUTANT_FILE"]
        # A package's __init__: its submodules still come from the source tree.
        package = os.environ.get("MIGCHECK_MUTANT_PACKAGE")
        return importlib.util.spec_from_file_location(
            name, file, submodule_search_locations=[package] if package else None
        )

if os.environ.get("MIGCHECK_MUTANT_MODULE"):
    sys.meta_path.insert(0, _MutantFinder())
"""


@dataclass(frozen=True)
class Mutant:
    index: int
    line: int
    column: int
    kind: str
    before: str
    after: str
    node: int  # the mutated node's position in ast.walk order

    def where(self, path: str) -> str:
        return f"{path}:{self.line}:{self.column + 1}"


def _short(node: ast.AST) -> str:
    text = ast.unparse(node).replace("\n", " ")
    return text if len(text) <= 70 else text[:67] + "..."


def _skipped_nodes(tree: ast.Module) -> set[int]:
    """Docstrings, annotations and identity attributes: changing them tests nothing."""
    skip: set[int] = set()

    def skip_all(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            skip_all(first)
        if isinstance(node, ast.AnnAssign):
            skip_all(node.annotation)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            skip_all(node.returns)
            for arg in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs]:
                skip_all(arg.annotation)
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id in _SKIP_ASSIGN for t in targets):
                skip_all(node)
        if isinstance(node, ast.If) and _short(node.test) == "TYPE_CHECKING":
            skip_all(node)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            skip_all(node)
    return skip


def _string_swaps(value: str) -> Iterator[str]:
    if value in SEVERITIES:
        for other in SEVERITIES:
            if other != value:
                yield other
        return
    for match in _MODE_RE.finditer(value):
        mode = match.group(1)
        # One neighbour each way is enough to catch a message naming the wrong lock.
        i = LOCK_MODES.index(mode)
        for j in (i - 1, i + 1, 0 if mode != LOCK_MODES[0] else len(LOCK_MODES) - 1):
            if 0 <= j < len(LOCK_MODES) and LOCK_MODES[j] != mode:
                yield value[: match.start()] + LOCK_MODES[j] + value[match.end() :]


def _mutations(node: ast.AST) -> Iterator[tuple[str, ast.AST]]:
    """(kind, replacement) for each mutation of one node."""
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            flipped = _FLIP.get(type(op))
            if flipped is not None:
                new = copy.deepcopy(node)
                new.ops[i] = flipped()
                yield "flip comparison", new
    elif isinstance(node, ast.BoolOp):
        swapped = copy.deepcopy(node)
        swapped.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "swap and/or", swapped
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "drop not", copy.deepcopy(node.operand)
    elif isinstance(node, (ast.If, ast.While, ast.IfExp)):
        negated = copy.deepcopy(node)
        negated.test = ast.UnaryOp(op=ast.Not(), operand=negated.test)
        yield "negate condition", negated
        if isinstance(node, ast.If):
            dropped = copy.deepcopy(node)
            dropped.body = [ast.Pass()]
            yield "drop if-branch", dropped
            if node.orelse:
                no_else = copy.deepcopy(node)
                no_else.orelse = []
                yield "drop else-branch", no_else
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield "swap bool", ast.Constant(not value)
        elif isinstance(value, int):
            yield "int +1", ast.Constant(value + 1)
            yield "int -1", ast.Constant(value - 1)
        elif isinstance(value, str):
            for other in _string_swaps(value):
                yield "swap lock mode/severity", ast.Constant(other)


class _Replace(ast.NodeTransformer):
    def __init__(self, target: int, replacement: ast.AST) -> None:
        self.target, self.replacement = target, replacement

    def visit(self, node: ast.AST) -> ast.AST:
        if getattr(node, "_mutate_index", None) == self.target:
            return self.replacement
        return super().visit(node)


def enumerate_mutants(source: str) -> tuple[ast.Module, list[tuple[Mutant, ast.AST]]]:
    tree = ast.parse(source)
    skip = _skipped_nodes(tree)
    mutants: list[tuple[Mutant, ast.AST]] = []
    for counter, node in enumerate(ast.walk(tree)):
        if id(node) in skip:
            continue
        node._mutate_index = counter  # type: ignore[attr-defined]
        for kind, replacement in _mutations(node):
            ast.copy_location(replacement, node)
            replacement._mutate_index = -1  # type: ignore[attr-defined]
            mutant = Mutant(
                index=len(mutants) + 1,
                line=getattr(node, "lineno", 0),
                column=getattr(node, "col_offset", 0),
                kind=kind,
                before=_short(node) if not isinstance(node, ast.If) else _short(node.test),
                after=_short(replacement)
                if not isinstance(replacement, ast.If)
                else ("<branch dropped>" if kind.startswith("drop") else _short(replacement.test)),
                node=counter,
            )
            mutants.append((mutant, replacement))
    return tree, mutants


def mutant_source(tree: ast.Module, mutant: Mutant, replacement: ast.AST) -> str:
    new_tree = _Replace(mutant.node, replacement).visit(copy.deepcopy(tree))
    return ast.unparse(ast.fix_missing_locations(new_tree))


def module_name(path: Path) -> str:
    rel = path.resolve().relative_to(SRC).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def rule_id_of(source: str) -> str | None:
    m = re.search(r'^\s+id = "([a-z0-9-]+)"', source, flags=re.M)
    return m.group(1) if m else None


def default_tests(path: Path, source: str) -> list[list[str]]:
    """Pytest argument groups, cheapest and most specific first."""
    groups: list[list[str]] = []
    own = ROOT / "tests" / "rules" / f"test_{path.stem.lstrip('_')}.py"
    # Cross-rule files: near misses of every main rule and behaviour pinned after a run.
    shared = [
        ROOT / "tests" / "rules" / n for n in ("test_near_misses.py", "test_pinned_behaviour.py")
    ]
    # A rule's tests may be split over test_<name>.py and test_<name>_<topic>.py.
    more = sorted(own.parent.glob(f"{own.stem}_*.py"))
    first = [str(p) for p in [own, *more, *shared] if p.is_file()]
    if first:
        groups.append(first)
    rule = rule_id_of(source)
    if rule is not None:
        groups.append([str(ROOT / "tests" / "test_rule_docs.py"), "-k", rule])
    # The golden report holds every finding's position, message and help: it subsumes
    # tests/test_fixtures.py, which would only cost another lint of the fixtures.
    groups.append([str(ROOT / "tests" / "test_golden.py")])
    return groups


def run_tests(groups: list[list[str]], env: dict[str, str], timeout: int) -> str:
    """'killed', 'survived' or 'timeout' (a mutant that loops counts as killed)."""
    for args in groups:
        code = (
            _pytest_forked(args, env, timeout) if _FORK else _pytest_subprocess(args, env, timeout)
        )
        if code is None:
            return "timeout"
        if code not in (0, 5):  # 5: no test selected
            return "killed"
    return "survived"


_PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider"]
# Forking a parent that has already imported the heavy libraries (never migcheck itself) saves
# about a second of start-up per test group; os.fork is POSIX-only, so elsewhere a subprocess.
_FORK = hasattr(os, "fork")


def _pytest_subprocess(args: list[str], env: dict[str, str], timeout: int) -> int | None:
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", *_PYTEST_ARGS, *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return proc.returncode


def _preload() -> None:
    """Import the heavy libraries every test group imports (migcheck is re-imported per run)."""
    import pytest  # noqa: F401
    import sqlglot
    import sqlglot.dialects.postgres
    import sqlglot.optimizer.simplify  # noqa: F401

    for optional in ("click", "hypothesis", "sqlalchemy", "alembic", "psycopg"):
        with contextlib.suppress(ImportError):
            __import__(optional)


def _pytest_forked(args: list[str], env: dict[str, str], timeout: int) -> int | None:
    pid = os.fork()
    if pid == 0:  # child: become a fresh test process for this mutant
        code = 3
        try:
            os.chdir(ROOT)
            os.environ.clear()
            os.environ.update(env)
            # A cached .pyc of an earlier mutant with the same size and mtime would be served.
            sys.dont_write_bytecode = True
            # This script's own migcheck imports must not hand the tests an unmutated module.
            for name in [n for n in sys.modules if n.split(".")[0] == "migcheck"]:
                del sys.modules[name]
            sys.path.insert(0, str(SRC))
            sys.meta_path.insert(
                0,
                _MutantFinder(
                    env["MIGCHECK_MUTANT_MODULE"],
                    env["MIGCHECK_MUTANT_FILE"],
                    env.get("MIGCHECK_MUTANT_PACKAGE"),
                ),
            )
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            import pytest

            code = int(pytest.main([*_PYTEST_ARGS, *args]))
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return None
        time.sleep(0.01)


class _MutantFinder:
    """The in-process twin of _HOOK, for forked test runs."""

    def __init__(self, name: str, file: str, package: str | None) -> None:
        self.name, self.file, self.package = name, file, package

    def find_spec(self, name: str, path: object = None, target: object = None) -> object:
        if name != self.name:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(
            name, self.file, submodule_search_locations=[self.package] if self.package else None
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module", type=Path, help="a file under src/, e.g. src/migcheck/rules/x.py")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", type=int, nargs="+", help="run only these mutant numbers")
    parser.add_argument("--show", type=int, help="print mutant N's full source and exit")
    parser.add_argument(
        "--tests", nargs="+", help="pytest arguments to run instead of the defaults (one group)"
    )
    parser.add_argument("--timeout", type=int, default=90, help="seconds per test group")
    args = parser.parse_args(argv)

    path: Path = args.module.resolve()
    source = path.read_text(encoding="utf-8")
    tree, mutants = enumerate_mutants(source)
    rel = str(path.relative_to(ROOT))
    if args.list:
        for m, _ in mutants:
            print(f"#{m.index} {m.where(rel)} {m.kind}: {m.before} -> {m.after}")
        return 0
    if args.show is not None:
        m, replacement = mutants[args.show - 1]
        print(mutant_source(tree, m, replacement))
        return 0
    groups = [args.tests] if args.tests else default_tests(path, source)
    if _FORK:
        _preload()
    selected = [mr for mr in mutants if not args.only or mr[0].index in args.only]

    with tempfile.TemporaryDirectory(prefix="migcheck-mutate-") as tmp:
        (Path(tmp) / "sitecustomize.py").write_text(_HOOK, encoding="utf-8")
        mutant_file = Path(tmp) / "mutant" / path.name
        mutant_file.parent.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [tmp, os.environ.get("PYTHONPATH")])),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MIGCHECK_NO_CACHE": "1",
            "MIGCHECK_MUTANT_MODULE": module_name(path),
            "MIGCHECK_MUTANT_FILE": str(mutant_file),
            # Mutating a package's __init__.py (migcheck.rules): where its submodules are.
            "MIGCHECK_MUTANT_PACKAGE": str(path.parent) if path.name == "__init__.py" else "",
        }
        env.pop("MIGCHECK_UPDATE_GOLDEN", None)
        # The unmutated module must pass, or every mutant would look killed.
        mutant_file.write_text(source, encoding="utf-8")
        if run_tests(groups, env, args.timeout) != "survived":
            print("the tests fail on the unmutated module; fix them first", file=sys.stderr)
            return 2
        killed = 0
        started = time.monotonic()
        for m, replacement in selected:
            mutant_file.write_text(mutant_source(tree, m, replacement), encoding="utf-8")
            outcome = run_tests(groups, env, args.timeout)
            killed += outcome != "survived"
            print(
                f"{outcome.upper():8} #{m.index} {m.where(rel)} {m.kind}: {m.before} -> {m.after}",
                flush=True,
            )
    total = len(selected)
    score = 100 * killed / total if total else 100.0
    print(
        f"{rel}: {killed}/{total} killed ({score:.0f}%), {total - killed} survived, "
        f"{time.monotonic() - started:.0f}s"
    )
    return 0 if killed == total else 1


if __name__ == "__main__":
    raise SystemExit(main())
