"""Live check: prove each verdict on a real PostgreSQL.

``run_live`` replays the migrations before the changeset (cached as a template
database), runs the changeset statement by statement with the transactions its runner
uses while recording locks, rewrites and catalog changes, and checks the old and new
app's queries against the schema before and after. ``report`` turns the result into
findings, a Markdown PR comment or text.

Importing this package is cheap: psycopg and the embedded server are imported only
when a check runs, and their absence is reported as a ``LiveError`` naming
``pip install 'migcheck[live]'``.

Modules: ``server``/``cluster``/``service`` (where PostgreSQL runs, as whom),
``plan``/``execute`` (runner semantics), ``cache`` (template databases),
``trace``/``catalog``/``locks`` (what a statement did), ``queries``/``prisma_schema``/
``sqlalchemy_models``/``derived`` (app queries), ``classify`` (what query outcomes
mean), ``report``, ``runner``, ``signals``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migcheck.live.errors import INSTALL_HINT, LiveError
    from migcheck.live.report import render_markdown, render_text, to_findings
    from migcheck.live.results import (
        HistoryResult,
        LiveResult,
        LockInfo,
        MigrationFailure,
        Query,
        QueryError,
        QueryProblem,
        SchemaChange,
        ServerInfo,
        StatementTrace,
        TemplateInfo,
    )
    from migcheck.live.runner import run_live
    from migcheck.live.signals import LiveInterrupted

# Name → module: the package imports its modules on first use (PEP 562).
_LAZY = {
    "INSTALL_HINT": "errors",
    "LiveError": "errors",
    "render_markdown": "report",
    "render_text": "report",
    "to_findings": "report",
    "run_live": "runner",
    "LiveInterrupted": "signals",
    **{
        name: "results"
        for name in (
            "HistoryResult",
            "LiveResult",
            "LockInfo",
            "MigrationFailure",
            "Query",
            "QueryError",
            "QueryProblem",
            "SchemaChange",
            "ServerInfo",
            "StatementTrace",
            "TemplateInfo",
        )
    },
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"migcheck.live.{module}"), name)


__all__ = [
    "INSTALL_HINT",
    "HistoryResult",
    "LiveError",
    "LiveInterrupted",
    "LiveResult",
    "LockInfo",
    "MigrationFailure",
    "Query",
    "QueryError",
    "QueryProblem",
    "SchemaChange",
    "ServerInfo",
    "StatementTrace",
    "TemplateInfo",
    "render_markdown",
    "render_text",
    "run_live",
    "to_findings",
]
