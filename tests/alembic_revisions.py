"""Lint a linear Alembic history written from revision bodies, each its own deploy: how
the rule tests check the Alembic form of a pattern (the op call's file and line)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path

from migcheck.engine import Options, lint
from migcheck.model import Finding
from migcheck.sources.alembic import load_alembic


def lint_revisions(root: Path, bodies: Sequence[str], rules: Sequence[str]) -> list[Finding]:
    """Findings of ``rules`` on revisions r1, r2, … (r<n>.py), whose ``upgrade()`` holds the
    given bodies; a body's first line is line 6 of its file."""
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("from alembic import context\n")
    for n, body in enumerate(bodies, start=1):
        down = f'"r{n - 1}"' if n > 1 else "None"
        (versions / f"r{n}.py").write_text(
            f'revision = "r{n}"\ndown_revision = {down}\n'
            "from alembic import op\nimport sqlalchemy as sa\n"
            "def upgrade():\n" + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") + "\n"
        )
    histories, errors, _ = load_alembic(str(root))
    assert errors == []
    return lint(histories, Options(rules=list(rules), changeset=False)).findings
