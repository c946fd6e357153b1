"""What an Alembic user copies from a help text: its code lines, checked to be valid Python.

In help for an Alembic revision every line indented four spaces is code the user pastes
into ``upgrade()``; prose is never indented.
"""

from __future__ import annotations

import ast
import re

# A line of SQL a user would paste: a statement keyword or an SQL comment. In a revision's
# help it may only appear inside ``op.execute("...")``.
SQL_LINE = re.compile(
    r"^\s*(?:--|(?:ALTER|CREATE|DROP|UPDATE|INSERT|DELETE|SET|RESET|BEGIN|COMMIT|REINDEX|"
    r"LOCK|VACUUM|ANALYZE|REFRESH|SELECT|WITH(?!\s+op\.)|COMMENT|GRANT|TRUNCATE)\b)",
    re.I,
)


def code_lines(help_text: str) -> list[str]:
    """The help's code: its lines indented by four spaces or more."""
    return [line for line in help_text.splitlines() if line.startswith("    ")]


def bare_sql(help_text: str) -> list[str]:
    """The help's code lines that are SQL rather than Python (none in a revision's help)."""
    return [line for line in code_lines(help_text) if SQL_LINE.match(line)]


def upgrade_code(help_text: str) -> str:
    """The help's code lines inside ``def upgrade():``, asserted to parse as Python, with
    SQL only ever inside ``op.execute``."""
    code = code_lines(help_text)
    assert code, help_text
    source = "def upgrade():\n" + "\n".join(code) + "\n"
    ast.parse(source)
    assert bare_sql(help_text) == [], source
    for line in code:
        if "op.execute(" not in line:
            assert "ALTER TABLE" not in line, source
    return source


def assert_python(help_text: str) -> str:
    """``upgrade_code``'s checks, plus at least one ``op.`` call; the code lines."""
    upgrade_code(help_text)
    code = "\n".join(code_lines(help_text))
    assert "op." in code
    return code
