"""Test helpers: lint SQL strings as a migration history, the way a user's files would be.

``lint_sql("ALTER TABLE ...")`` lints one migration. Pass ``history=[...]`` for earlier
migrations that only build the schema (replayed, not judged), exactly like files that
come before the named one in a real directory.
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path

from migcheck.engine import Options, Result, lint
from migcheck.model import Finding
from migcheck.rules import all_rules
from migcheck.sources import History, Migration


def make_history(
    sqls: Sequence[str],
    *,
    selected: Sequence[bool] | None = None,
    tool: str = "sql",
    runner_transaction: bool = False,
    implicit_transaction: bool = False,
    settings: dict[str, object] | None = None,
) -> History:
    migs = []
    for i, sql in enumerate(sqls):
        migs.append(
            Migration(
                path=f"migrations/{i + 1:03d}_m.sql",
                key=f"{i + 1:03d}",
                tool=tool,
                runner_transaction=runner_transaction,
                selected=True if selected is None else selected[i],
                text=sql,
                notes={"implicit_transaction": True} if implicit_transaction else {},
            )
        )
    return History(root="migrations", tool=tool, migrations=migs, settings=settings or {})


def lint_history(
    history: History, *, pg: int = 14, rules: Sequence[str] | None = None, **opts: object
) -> Result:
    ids = list(rules) if rules is not None else list(all_rules())
    return lint([history], Options(pg_version=pg, rules=ids, **opts))  # type: ignore[arg-type]


def lint_sql(
    sql: str,
    *,
    history: Sequence[str] = (),
    pg: int = 14,
    rules: Sequence[str] | None = None,
    tool: str = "sql",
    runner_transaction: bool = False,
    implicit_transaction: bool = False,
    **opts: object,
) -> list[Finding]:
    """Findings for ``sql`` as the newest migration after ``history`` (all rules, incl. opt-in,
    unless ``rules`` narrows them)."""
    h = make_history(
        [*history, sql],
        selected=[False] * len(history) + [True],
        tool=tool,
        runner_transaction=runner_transaction,
        implicit_transaction=implicit_transaction,
    )
    # Earlier migrations are separate deploys even though only the last one is selected.
    opts.setdefault("changeset", False)
    return lint_history(h, pg=pg, rules=rules, **opts).findings


def ids(findings: Sequence[Finding]) -> list[str]:
    return [f.rule for f in findings]


def where(findings: Sequence[Finding], rule: str) -> list[tuple[int, int]]:
    """(line, column) of each finding of ``rule``."""
    return [(f.line, f.column) for f in findings if f.rule == rule]


def lint_alembic(
    root: Path, earlier: str, body: str, *, rules: Sequence[str] | None = None, pg: int = 14
) -> list[Finding]:
    """Findings for an Alembic revision whose ``upgrade()`` holds ``body``, after one that
    holds ``earlier`` (replayed, not judged): a real project under ``root``, read by the
    static Alembic reader as a user's would be."""
    from migcheck.sources.alembic import load_alembic

    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("from alembic import context\n")
    head = (
        "from alembic import op\nimport sqlalchemy as sa\n\n"
        "revision = {rev!r}\ndown_revision = {down!r}\n\n\ndef upgrade():\n"
    )
    for name, rev, down, code in (
        ("aaa1_base", "aaa1", None, earlier),
        ("bbb2_change", "bbb2", "aaa1", body),
    ):
        lines = textwrap.indent(textwrap.dedent(code).strip() + "\n", "    ")
        (versions / f"{name}.py").write_text(head.format(rev=rev, down=down) + lines)
    histories, errors, _ = load_alembic(str(root), include_downgrade=False)
    assert errors == []
    (history,) = histories
    for m in history.migrations:
        m.selected = "bbb2" in m.path
    # As a user runs it: the default rules unless ``rules`` names others.
    from migcheck.selection import default_rule_ids

    ids = rules if rules is not None else default_rule_ids()
    return lint_history(history, pg=pg, rules=ids).findings


def cli(
    *args: str,
    cwd: Path | str,
    env: dict[str, str] | None = None,
    inherit_env: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``migcheck ARGS`` run in this process, in ``cwd``, reported as a finished process
    would be (exit code, stdout, stderr).

    A subprocess costs an interpreter start and the imports of sqlglot, Alembic and
    SQLAlchemy (about a second, several under load). Use this where the test is about
    what migcheck reports; start a real process where it is about the process: start-up
    imports, signals, file descriptors, the installed entry point, code a revision runs
    when imported, or a tree that changes between two runs of one test (this process
    remembers the directories it resolved, ``sources.reading.resolve``).

    ``env`` is added to the environment (``""`` removes a variable), or with
    ``inherit_env=False`` is the whole environment, as ``subprocess.run(env=...)``. An
    exception escaping ``main`` is reported as the process would print it: a traceback
    on stderr and exit 1, so ``"Traceback" not in stderr`` checks keep their meaning."""
    import os
    import traceback

    from click.testing import CliRunner

    from migcheck.cli import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    try:
        if not inherit_env:
            os.environ.clear()
        for name, value in (env or {}).items():
            if value == "":
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        os.chdir(cwd)
        result = CliRunner().invoke(main, list(args), input=input, catch_exceptions=True)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    stderr, code = result.stderr, result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        assert result.exc_info is not None
        stderr += "".join(traceback.format_exception(*result.exc_info))
        code = 1
    return subprocess.CompletedProcess(["migcheck", *args], code, result.stdout, stderr)
