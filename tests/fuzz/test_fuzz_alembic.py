"""Fuzz the static Alembic reader through the runner the CLI uses: generated revision
files (random Python expressions inside ``upgrade()``, ``op.*`` calls with random
arguments) never raise, never write a file, and every finding points inside the file.

The reader must evaluate in a closed world of plain values; the second property feeds
it the gadgets of issue 10 point 1 (module attribute chains handed to higher-order
builtins) and checks the marker file they would create never appears.
"""

from __future__ import annotations

import os
import tempfile

from fuzz_strategies import hostile_text
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_split import assert_inside

from migcheck.runner import RunRequest, run

MARKER = "FUZZ_MARKER"

literals = st.one_of(
    st.integers(-(2**70), 2**70).map(repr),
    st.floats(allow_nan=True).map(repr),
    hostile_text.map(repr),
    st.binary(max_size=8).map(repr),
    st.sampled_from(["None", "True", "False", "...", "sa", "op", "revision", "x", "__name__"]),
)


CALLABLES = [
    "str", "len", "int", "repr", "sorted", "tuple", "sa.text", "sa.String", "sa.Column",
    "sa.Integer", "'{}'.format", "'-'.join", "getattr",
]  # fmt: skip


def _expressions(leaf: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        pair = st.tuples(inner, inner)
        return st.one_of(
            st.tuples(
                inner, st.sampled_from(["+", "*", "%", "//", "**", "-", "|", "and"]), inner
            ).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
            pair.map(lambda p: f"{{{p[0]}: {p[1]}}}"),
            pair.map(lambda p: f"({p[0]})[{p[1]}]"),
            inner.map(lambda e: f'f"{{{e}}}x{{{e}!r:>3}}"'),
            inner.map(lambda e: f"[v for v in {e} if v]"),
            inner.map(lambda e: f"(lambda q: q)({e})"),
            st.tuples(
                st.sampled_from(CALLABLES),
                st.lists(inner, max_size=3),
            ).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
            inner.map(lambda e: f"({e}).upper()"),
            inner.map(lambda e: f"({e}).__class__"),
        )

    return st.recursive(leaf, extend, max_leaves=12)


expressions = _expressions(literals)

op_calls = st.one_of(
    st.tuples(expressions, expressions, expressions).map(
        lambda t: f"op.add_column({t[0]}, sa.Column({t[1]}, sa.Integer(), server_default={t[2]}))"
    ),
    expressions.map(lambda e: f"op.execute({e})"),
    st.tuples(expressions, expressions).map(lambda t: f"op.drop_column({t[0]}, {t[1]})"),
    st.tuples(expressions, expressions).map(
        lambda t: f"op.create_index({t[0]}, 't', [{t[1]}], unique=True)"
    ),
    st.tuples(expressions, expressions).map(
        lambda t: f"op.alter_column('t', {t[0]}, nullable={t[1]}, type_=sa.BigInteger())"
    ),
    st.tuples(expressions, expressions).map(
        lambda t: f"op.create_table({t[0]}, sa.Column('id', sa.Integer, primary_key={t[1]}))"
    ),
    expressions.map(lambda e: f"op.rename_table('t', {e})"),
    expressions.map(lambda e: f"x = {e}"),
    expressions.map(lambda e: f"op.execute(sa.text({e}))"),
    st.just("with op.batch_alter_table('t') as b:\n        b.drop_column('c')"),
    st.just("with op.get_context().autocommit_block():\n        op.execute('VACUUM t')"),
    expressions.map(lambda e: f"for i in {e}:\n        op.execute(str(i))"),
    expressions.map(lambda e: f"if {e}:\n        op.drop_table('t')"),
)


def revision(body: list[str], imports: str = "") -> str:
    lines = "\n".join("    " + line for line in body) or "    pass"
    return (
        '"""fuzz"""\nfrom alembic import op\nimport sqlalchemy as sa\n'
        f"{imports}\n"
        'revision = "0002"\ndown_revision = "0001"\n\n'
        f"def upgrade():\n{lines}\n\n\ndef downgrade():\n    pass\n"
    )


def lint_project(source: str) -> tuple[str, list[str]]:
    """Lint a project holding ``source`` as its second revision: (its text, the files
    in the project afterwards)."""
    with tempfile.TemporaryDirectory(prefix="migcheck-fuzz-alembic-") as root:
        versions = os.path.join(root, "migrations", "versions")
        os.makedirs(versions)
        with open(os.path.join(root, "alembic.ini"), "w") as fh:
            fh.write("[alembic]\nscript_location = %(here)s/migrations\n")
        with open(os.path.join(root, "migrations", "env.py"), "w") as fh:
            fh.write("from alembic import context\n")
        with open(os.path.join(versions, "0001_init.py"), "w") as fh:
            fh.write(
                revision(["op.create_table('t', sa.Column('c', sa.Integer()))"]).replace(
                    'revision = "0002"\ndown_revision = "0001"',
                    'revision = "0001"\ndown_revision = None',
                )
            )
        path = os.path.join(versions, "0002_fuzz.py")
        with open(path, "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(source)
        before = sorted(_files(root))
        cwd = os.getcwd()
        os.chdir(root)  # a relative marker path lands in the project, where it is seen
        try:
            result = run(RunRequest(paths=[root]))
        finally:
            os.chdir(cwd)
        for finding in result.findings:
            if finding.path.endswith("0002_fuzz.py"):
                assert_inside(finding.span, source)
        for error in result.errors:
            assert "\n" not in error.message
        after = sorted(_files(root))
        assert after == before, "the reader wrote a file"
        return source, after


def _files(root: str) -> list[str]:
    return [
        os.path.relpath(os.path.join(d, f), root)
        for d, _, fs in os.walk(root)
        for f in fs
        if "__pycache__" not in d
    ]


@given(st.lists(op_calls, max_size=6))
def test_alembic_reader_survives_any_revision(body: list[str]) -> None:
    lint_project(revision(body))


@given(st.text(max_size=300) | hostile_text)
def test_alembic_reader_survives_any_text(source: str) -> None:
    lint_project(source)


_GADGETS = [
    f"dataclasses.sys.modules['os'].system('touch {MARKER}')",
    f"list(map(dataclasses.sys.modules['os'].system, ['touch {MARKER}']))",
    f"functools.partial(dataclasses.sys.modules['os'].system, 'touch {MARKER}')()",
    f"sa.util.langhelpers.sys.modules['os'].system('touch {MARKER}')",
    f"sorted(['touch {MARKER}'], key=dataclasses.sys.modules['os'].system)",
    f"open('{MARKER}', 'w').write('x')",
    f"__import__('os').system('touch {MARKER}')",
    f"getattr(__import__('os'), 'system')('touch {MARKER}')",
    f"operator.methodcaller('system', 'touch {MARKER}')(dataclasses.sys.modules['os'])",
    f"[dataclasses.sys.modules['os'].system(c) for c in ['touch {MARKER}']]",
    "'{0.__init__.__globals__[sys].modules[os].system}'.format(dataclasses)",
]


@given(
    st.lists(
        st.sampled_from(_GADGETS) | op_calls,
        min_size=1,
        max_size=4,
    ).filter(lambda body: any(MARKER in line for line in body))
)
def test_alembic_reader_never_runs_revision_code(body: list[str]) -> None:
    _, files = lint_project(revision(body, imports="import dataclasses, functools, operator, os"))
    assert MARKER not in files
