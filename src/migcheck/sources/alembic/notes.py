"""Diagnostics of severity *info* that the Alembic source reports alongside its SQL.

An ``AlembicNote`` says where migcheck's view of a revision is less precise than running
it would be (a call it could not evaluate, an application type it stood in for, an import
that failed in ``--alembic-import`` mode). Problems that make input unusable are
``migcheck.model.InputError`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlembicNote:
    """An informational diagnostic about one place in an Alembic project (1-based)."""

    path: str
    line: int
    column: int
    message: str
    severity: str = "info"
