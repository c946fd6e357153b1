"""The static Alembic reader runs no code of the revision, and is bounded.

Each payload below is a revision that, if any of its code really ran, would create a
marker file. The reader must leave no marker, give no traceback, and say at the
payload's line (``alembic-not-evaluated``) that the call was not evaluated. The bounds
inputs (a huge factorial, format width, repetition, range, nesting) must each become an
"unknown" with a note instead of hanging, exhausting memory or crashing, while the other
revisions of the history are still linted. The CLI runs in a subprocess with a generous
timeout: a hang fails the test without any wall-clock assertion.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic_helpers import Tree, line_of

from migcheck.sources.alembic import load_alembic

# (id, module-level imports and code, upgrade() body, line needles that must be noted).
# ``MARKER`` is replaced by the absolute path of the marker file.
PICKLE = "b\"cos\\nsystem\\n(S'touch MARKER'\\ntR.\""
PAYLOADS: list[tuple[str, str, str, list[str]]] = [
    (
        "dataclasses_sys",
        "import functools, dataclasses",
        """
        os_mod = dataclasses.sys.modules["os"]
        list(map(os_mod.system, ["touch MARKER"]))
        functools.partial(os_mod.system, "touch MARKER")()
        op.execute("SELECT 1")
        """,
        ["list(map(", "functools.partial("],
    ),
    (
        "sqlalchemy_langhelpers_sys",
        "",
        """
        os_mod = sa.util.langhelpers.sys.modules["os"]
        list(map(os_mod.system, ["touch MARKER"]))
        sorted(["touch MARKER"], key=os_mod.system)
        sa.sql.sqltypes.util.langhelpers.sys.modules["subprocess"].run(["touch", "MARKER"])
        """,
        ["list(map(", "sorted(", "subprocess"],
    ),
    (
        "getattr_builtins",
        "",
        'getattr(__builtins__, "__import__")("os").system("touch MARKER")',
        ["getattr("],
    ),
    (
        "globals_vars",
        "",
        """
        globals()["__builtins__"]["__import__"]("os").system("touch MARKER")
        vars(sa)["util"].langhelpers.sys.modules["os"].system("touch MARKER")
        """,
        ["globals()", "vars(sa)"],
    ),
    ("dunder_import", "", '__import__("os").system("touch MARKER")', ["__import__"]),
    (
        "mro_subclasses",
        "",
        """
        classes = ().__class__.__mro__[1].__subclasses__()
        [c for c in classes if c.__name__ == "Popen"][0](["touch", "MARKER"])
        op.execute("SELECT %d" % len("".__class__.__base__.__subclasses__()))
        """,
        ["Popen", "op.execute("],
    ),
    (
        "decorators_and_defaults",
        "import os\n\ndef deco(f):\n    os.system('touch MARKER')\n    return f\n\n"
        "@deco\ndef helper(x=os.system('touch MARKER')):\n    return 't'\n",
        """
        @(lambda f: __import__("os").system("touch MARKER"))
        def inner(y=__import__("os").system("touch MARKER")):
            return y
        op.drop_column(helper(), "c")
        """,
        [],
    ),
    (
        "fstrings",
        "",
        """
        op.execute(f"SELECT {__import__('os').system('touch MARKER')}")
        op.execute(f"SELECT '{op.__class__}'")
        op.execute(f"SELECT '{sa.Column.__init__}'")
        op.execute(f"SELECT '{1:>{10**9}}'")
        """,
        ["__import__('os')", "op.__class__", "sa.Column.__init__", "10**9"],
    ),
    (
        "comprehensions_generators_lambda",
        "",
        """
        [__import__("os").system("touch MARKER") for _ in range(1)]
        any(__import__("os").system("touch MARKER") for _ in [1])
        {k: __import__("os").system("touch MARKER") for k in "a"}
        (lambda: sa.util.langhelpers.sys.modules["os"].system("touch MARKER"))()
        """,
        ["[__import__", "any(", "{k:", "(lambda"],
    ),
    (
        "operator_module",
        "import operator",
        """
        operator.methodcaller("system", "touch MARKER")(sa.util.langhelpers.sys.modules["os"])
        operator.attrgetter("util.langhelpers.sys")(sa).modules["os"].system("touch MARKER")
        """,
        ["methodcaller", "attrgetter"],
    ),
    (
        "str_format_lookups",
        "def helper():\n    return 1\n",
        """
        op.execute("SELECT '{0.__globals__}'".format(helper))
        op.execute("SELECT '{0.__init__.__globals__[sys]}'".format(sa.Column))
        op.execute("SELECT '{0[0]}'".format(["x"]))
        op.execute("SELECT '%s'" % "{0.__class__}".format(1))
        """,
        ["__globals__}'", "__init__.__globals__", "{0[0]}", "{0.__class__}"],
    ),
    (
        "type_and_classes",
        "class Evil:\n    __import__('os').system('touch MARKER')\n",
        """
        type("X", (), {"__del__": lambda s: __import__("os").system("touch MARKER")})()
        class Local:
            __import__("os").system("touch MARKER")
        Evil().run()
        """,
        ['type("X"', "Evil().run()"],
    ),
    (
        "importlib_exec_eval_open",
        "import importlib",
        """
        importlib.import_module("os").system("touch MARKER")
        exec("import os; os.system('touch MARKER')")
        eval(compile("__import__('os').system('touch MARKER')", "x", "eval"))
        open("MARKER", "w").write("x")
        """,
        ["importlib.import_module", "exec(", "eval(", "open("],
    ),
    (
        "sqlalchemy_internals",
        "",
        f"""
        sa.sql.sqltypes.pickle.loads({PICKLE})
        sa.PickleType().result_processor(op.get_bind().dialect, None)({PICKLE})
        sa.event.listen(sa.MetaData(), "before_create", print)
        sa.create_engine("sqlite:///MARKER").connect()
        op.get_bind().dialect.dbapi.connect("MARKER")
        sa.Integer().python_type("x")
        sa.lambda_stmt(lambda: __import__("os").system("touch MARKER"))
        op.add_column("t", sa.Column("p", sa.PickleType(pickler=sa.sql.sqltypes.pickle)))
        """,
        [
            "sqltypes.pickle.loads",
            "result_processor",
            "sa.event",
            "create_engine",
            "dbapi",
            "python_type",
            "lambda_stmt",
            "pickler=",
        ],
    ),
    (
        "sqlalchemy_func_and_text",
        "",
        """
        f = sa.func.system
        op.execute(sa.select(f("touch MARKER")))
        sa.func.now.__call__()
        op.execute(sa.text("SELECT 1").compile().dialect.dbapi)
        """,
        ["__call__", "compile().dialect"],
    ),
    (
        "context_manager_and_try",
        "",
        """
        with open("MARKER", "w") as fh:
            fh.write("x")
        try:
            __import__("os").system("touch MARKER")
        except Exception:
            pass
        """,
        ["with open(", "fh.write(", '__import__("os")'],
    ),
]


def _project(
    tree: Tree, marker_dir: Path, payloads: list[tuple[str, str, str, list[str]]]
) -> list[Path]:
    paths = []
    down = None
    for number, (name, extra, body, _) in enumerate(payloads, start=1):
        rev = f"rev{number:03d}"
        marker = str(marker_dir / name)
        paths.append(
            tree.revision(
                rev,
                down,
                body.replace("MARKER", marker),
                extra=extra.replace("MARKER", marker),
                filename=f"{rev}_{name}.py",
            )
        )
        down = rev
    return paths


def _markers(marker_dir: Path) -> list[str]:
    return sorted(p.name for p in marker_dir.iterdir())


@pytest.mark.parametrize("payload", PAYLOADS, ids=[p[0] for p in PAYLOADS])
def test_payload_is_not_run_and_is_noted(
    tree: Tree, tmp_path: Path, payload: tuple[str, str, str, list[str]]
) -> None:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    (path,) = _project(tree, marker_dir, [payload])
    _, errors, notes = load_alembic(str(tree.root))
    assert _markers(marker_dir) == []
    assert errors == []
    noted = {n.line for n in notes}
    for needle in payload[3]:
        assert line_of(path, needle) in noted, (needle, [(n.line, n.message) for n in notes])


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1", "MIGCHECK_NO_CACHE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--format", "json", *args, str(root)],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return proc


@pytest.mark.parametrize("flags", [(), ("--no-alembic-import",)])
def test_cli_runs_no_payload(tree: Tree, tmp_path: Path, flags: tuple[str, ...]) -> None:
    marker_dir = tmp_path / "markers"
    marker_dir.mkdir()
    _project(tree, marker_dir, PAYLOADS)
    proc = _cli(tree.root, *flags)
    assert _markers(marker_dir) == []
    assert proc.returncode in (0, 1), proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    noted = {f["path"].rsplit("/", 1)[-1] for f in findings if f["rule"] == "alembic-not-evaluated"}
    expected = {f"rev{i:03d}_{p[0]}.py" for i, p in enumerate(PAYLOADS, start=1) if p[3]}
    assert expected <= noted


# (id, upgrade() body, what the note says). Each is bounded: an unknown value, a note.
BOUNDS: list[tuple[str, str, str]] = [
    ("factorial", 'op.execute("SELECT " + str(math.factorial(10**7)))', "math.factorial"),
    ("format_width", """op.execute("SELECT '{0:>999999999}'".format(1))""", "too large"),
    ("percent_width", """op.execute("SELECT '%999999999d'" % 1)""", "too large"),
    (
        "long_sum",
        'op.execute("SELECT " + str(' + " + ".join(["1"] * 900) + "))",
        "nests too deeply",
    ),
    ("repetition", """op.execute("SELECT '" + "x" * 10**10 + "'")""", "too large"),
    ("huge_range", 'op.execute("SELECT %d" % len(list(range(10**12))))', "too large"),
    ("huge_power", 'op.execute("SELECT %d" % (10**10000) ** 10000)', "too large"),
    ("ljust", """op.execute("SELECT '" + "x".ljust(10**9) + "'")""", "too large"),
    ("join", """op.execute(",".join(["x" * 10000] * 1000))""", "too large"),
    (
        "deep_nesting",
        "a = []\nfor _ in range(5000):\n    a = [a]\nop.execute(str(a))",
        "nests too deeply",
    ),
    (
        "shared_doubling",
        "a = [1]\nb = [1]\nfor _ in range(60):\n    a = [a, a]\n    b = [b, b]\n"
        'if a == b:\n    op.execute("SELECT 1")\nop.execute(str(a))',
        "too large",
    ),
    (
        "growing_string",
        's = "x" * 100000\nfor _ in range(10000):\n    s = s[:500000] + s[:500000]\n'
        'op.execute("SELECT 1")',
        "too many steps",
    ),
    (
        "construct_doubling",
        'e = sa.literal_column("x")\nfor _ in range(60):\n    e = sa.and_(e, e)\n'
        "op.execute(sa.select(e))",
        "too large",
    ),
    ("construct_repetition", 'op.execute("SELECT " + op.f("x") * 10**9)', "too large"),
    ("construct_percent", """op.execute("SELECT '%999999999s'" % op.f("x"))""", "too large"),
    (
        "tuple_hashing",
        't = (1,)\nfor _ in range(60):\n    t = (t, t)\nop.execute("SELECT %d" % {t: 1}[t])',
        "too large",
    ),
    (
        "partial_nesting",
        "p = functools.partial(print)\nfor _ in range(5000):\n    p = functools.partial(p)\n"
        'p()\nop.execute("SELECT 1")',
        "too deeply",
    ),
    (
        "json_nesting",
        'op.execute(str(json.loads("[" * 100000 + "]" * 100000)))',
        "loads(...)` failed",
    ),
]


def test_bounds_end_in_notes_and_the_history_is_still_linted(tree: Tree) -> None:
    down = None
    paths = {}
    for number, (name, body, _) in enumerate(BOUNDS, start=1):
        rev = f"rev{number:03d}"
        paths[name] = tree.revision(
            rev, down, body, imports="import functools, json, math", filename=f"{rev}_{name}.py"
        )
        down = rev
    # Python's own parser cannot build this one: an input error names the file.
    too_deep = tree.revision(
        "rev998",
        down,
        'op.execute("SELECT " + str(' + " + ".join(["1"] * 20000) + "))",
        filename="rev998_too_deep.py",
    )
    last = tree.revision("rev999", "rev998", 'op.drop_column("users", "legacy")')
    proc = _cli(tree.root)
    assert proc.returncode in (1, 2), proc.stderr
    report = json.loads(proc.stdout)
    (error,) = report["errors"]
    assert error["path"].endswith(too_deep.name) and "nests too deeply" in error["message"]
    findings = report["findings"]
    assert any(f["rule"] == "drop-column" and f["path"].endswith(last.name) for f in findings), (
        findings
    )
    for name, _, says in BOUNDS:
        notes = [
            f
            for f in findings
            if f["rule"] == "alembic-not-evaluated" and f["path"].endswith(paths[name].name)
        ]
        assert any(says in f["message"] for f in notes), (name, notes)


def test_closed_world_keeps_rendering_faithful(tree: Tree) -> None:
    # What the closed world must still evaluate: constructs formatted into SQL, Python-side
    # defaults (which never reach the DDL) given as functions, the dialect's name.
    from alembic_helpers import load_one, sqls

    tree.revision(
        "rev001",
        None,
        """
        op.execute("UPDATE t SET a = %s" % sa.text("now()"))
        op.execute("UPDATE t SET b = {}".format(sa.literal_column("x") + 1))
        op.add_column("t", sa.Column("id", sa.Integer(), default=lambda: 1, nullable=True))
        op.add_column("t", sa.Column("u", sa.String(36), default=uuid.uuid4, nullable=True))
        if op.get_bind().dialect.name == "postgresql":
            op.execute(textwrap.dedent('''
                SELECT 1
            ''').strip())
        """,
        imports="import textwrap, uuid",
    )
    assert sqls(load_one(tree.root), "rev001") == [
        "UPDATE t SET a = now()",
        "UPDATE t SET b = x + :x_1",
        "ALTER TABLE t ADD COLUMN id INTEGER;",
        "ALTER TABLE t ADD COLUMN u VARCHAR(36);",
        "SELECT 1",
    ]
