"""What an Alembic user copies from a help text: its code lines, checked to be valid Python.

In help for an Alembic revision every line indented four spaces is code the user pastes
into ``upgrade()``; prose is never indented.
"""

from __future__ import annotations

import ast


def upgrade_code(help_text: str) -> str:
    """The help's code lines inside ``def upgrade():``, asserted to parse as Python."""
    code = [line for line in help_text.splitlines() if line.startswith("    ")]
    assert code, help_text
    source = "def upgrade():\n" + "\n".join(code) + "\n"
    ast.parse(source)
    assert "ALTER TABLE" not in "\n".join(line for line in code if "op.execute(" not in line), (
        source
    )  # SQL only ever inside op.execute
    return source
