"""Which of the linted paths are Alembic projects, and loading them for ``discover``.

A path is an Alembic project when it is one (``is_alembic_path``), or when a directory
given to migcheck holds one a few levels down (``alembic.ini``, or ``env.py`` next to
``versions/``): the SQL walk skips ``.py`` files, so without this a plain
``migcheck repo/`` would miss them. Knows nothing of rules or config files: the caller
passes what is excluded, and turns the reader's notes into findings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from migcheck.model import InputError
from migcheck.sources import History
from migcheck.sources.alembic.notes import AlembicNote

_SKIP_DIRS = frozenset({".git", "node_modules", "__pycache__", ".venv", "venv", "site-packages"})


@dataclass(frozen=True)
class AlembicRequest:
    """How to read the Alembic projects of a run."""

    # Import the revisions (runs their code): only when the person running migcheck asks.
    import_revisions: bool = False
    include_downgrade: bool = False
    # From the command line or config file; None: read from env.py.
    transaction_per_migration: bool | None = None
    # Says "importing revisions" once, just before the first import.
    announce: Callable[[], None] | None = None


def project_roots(path: str, depth: int = 4) -> list[str]:
    """Alembic projects inside a directory given to migcheck."""
    found: list[str] = []
    base = path.rstrip("/").count(os.sep)
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS and not d.startswith("."))
        if "alembic.ini" in files or ("env.py" in files and "versions" in dirs):
            found.append(root)
            dirs[:] = []
        elif root.count(os.sep) - base >= depth:
            dirs[:] = []
    return found


def split_paths(
    paths: Sequence[str], excluded: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """(the Alembic projects ``paths`` name or hold, the paths for the SQL walk)."""
    from migcheck.sources.alembic import is_alembic_path
    from migcheck.sources.reading import is_inside, named_boundary

    alembic_paths: list[str] = []
    sql_paths: list[str] = []
    for p in paths:
        if p != "-" and not is_inside(p, named_boundary(p)):
            sql_paths.append(p)  # a link out of the tree: the SQL walk reports it, unread
            continue
        if p != "-" and is_alembic_path(p):
            alembic_paths.append(p)
            continue
        sql_paths.append(p)
        if p != "-" and os.path.isdir(p):
            alembic_paths.extend(project_roots(p))
    return [p for p in alembic_paths if not excluded(p)], sql_paths


def load_projects(
    req: AlembicRequest, paths: Sequence[str], excluded: Callable[[str], bool]
) -> tuple[list[History], list[InputError], list[AlembicNote]]:
    """Every history of the projects at ``paths``; an ``excluded`` revision still builds
    the schema but is not judged."""
    histories: list[History] = []
    errors: list[InputError] = []
    notes: list[AlembicNote] = []
    if not paths:
        return histories, errors, notes
    from migcheck.sources.alembic import load_alembic

    if req.import_revisions and req.announce is not None:
        req.announce()
    for path in paths:
        hs, errs, nts = load_alembic(
            path, import_revisions=req.import_revisions, include_downgrade=req.include_downgrade
        )
        for history in hs:
            if req.transaction_per_migration is not None:
                history.settings["transaction_per_migration"] = req.transaction_per_migration
            for migration in history.migrations:
                if excluded(migration.path):
                    migration.selected = False
        histories.extend(hs)
        errors.extend(errs)
        notes.extend(nts)
    return histories, errors, notes
