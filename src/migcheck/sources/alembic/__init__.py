"""Alembic source: lint revisions as the SQL they run, with findings on the Python line
that caused them.

``load_alembic`` finds the project (``discover``), reads every revision with ``ast``
(``revfile``), orders them (``graph``) and renders each ``upgrade()`` to PostgreSQL SQL
chunks without importing the revision or the application: a plain revision (``op.``
calls with literal arguments and SQLAlchemy types) by migcheck's own model of Alembic
(``purerender``, which gives exactly Alembic's SQL), any other by evaluating it
(``render``/``evaluate``) with Alembic's real ``Operations`` in offline mode. Each
revision's result is kept in a content-addressed cache (``rendercache``), so Alembic and
SQLAlchemy are imported only when some revision that is not plain is not in it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .notes import AlembicNote

if TYPE_CHECKING:
    from .discover import is_alembic_path
    from .load import load_alembic

__all__ = ["AlembicNote", "is_alembic_path", "load_alembic"]


def __getattr__(name: str) -> Any:
    # Every migcheck run asks is_alembic_path; only runs that find a project need the
    # loader, so neither is imported until first used (start-up time of the hook).
    if name == "is_alembic_path":
        from .discover import is_alembic_path

        return is_alembic_path
    if name == "load_alembic":
        from .load import load_alembic

        return load_alembic
    raise AttributeError(name)
