"""Checks that a finding's help for an Alembic revision is code a user can paste."""

from __future__ import annotations

import ast


def code_lines(help_text: str) -> list[str]:
    """The help's code: its lines indented by four spaces or more."""
    return [line for line in help_text.splitlines() if line.startswith("    ")]


def assert_python(help_text: str) -> str:
    """Assert the help's code parses as the body of ``def upgrade():`` and holds an
    ``op.`` call and no SQL statement outside ``op.execute``; return the code."""
    code = "\n".join(code_lines(help_text))
    assert code, help_text
    ast.parse("def upgrade():\n" + code)
    assert "op." in code
    for line in code_lines(help_text):
        stripped = line.strip()
        assert not stripped.upper().startswith(("ALTER ", "UPDATE ", "INSERT ", "CREATE ")), line
    return code
