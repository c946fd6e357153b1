"""Diagnostics of severity *info* that the Alembic source reports alongside its SQL.

An ``AlembicNote`` says where migcheck's view of a revision is less precise than running
it would be (a call it could not evaluate, an application type it stood in for, an import
that failed in ``--alembic-import`` mode). Problems that make input unusable are
``migcheck.model.InputError`` instead.

It also names the ``Migration.notes`` key (``EXISTING_COLUMNS``) through which the reader
hands the rules what a revision states about the columns it alters.
"""

from __future__ import annotations

from dataclasses import dataclass

# The ``Migration.notes`` key under which a revision's ``alter_column(existing_type=...,
# existing_nullable=...)`` statements reach the rules: {table: {column: {"type": SQL,
# "nullable": bool}}}, the column before the revision changed it. Defined here, in the
# one module the package imports eagerly, so rules read it without loading the reader.
EXISTING_COLUMNS = "alembic_existing_columns"

# How a note about an ``if`` test the reader could not decide ends: nothing was skipped
# (both branches were read), so many revisions sharing it word for word are one note of
# the project (``load.merge_repeated``); a note that says SQL went unchecked never merges.
BOTH_BRANCHES = "both branches are checked"


@dataclass(frozen=True)
class AlembicNote:
    """An informational diagnostic about one place in an Alembic project (1-based)."""

    path: str
    line: int
    column: int
    message: str
    severity: str = "info"
