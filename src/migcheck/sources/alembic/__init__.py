"""Alembic source: lint revisions as the SQL they run, with findings on the Python line
that caused them.

``load_alembic`` finds the project (``discover``), reads every revision with ``ast``
(``revfile``), orders them (``graph``) and renders each ``upgrade()`` to PostgreSQL SQL
chunks (``render``/``evaluate``) with Alembic's real ``Operations`` in offline mode,
without importing the revision or the application. Alembic and SQLAlchemy are imported
only when a project is actually rendered.
"""

from __future__ import annotations

from .discover import is_alembic_path
from .load import load_alembic
from .notes import AlembicNote

__all__ = ["AlembicNote", "is_alembic_path", "load_alembic"]
