"""Diesel-style migration folders: ``migrations/<version>_<name>/up.sql`` (+ ``down.sql``).

Diesel (and tools that copied its layout) keep one folder per migration and apply them
in folder-name order, each inside a transaction unless the folder's ``metadata.toml``
says ``run_in_transaction = false``. Only ``up.sql`` is linted.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from migcheck.lazyre import lazy
from migcheck.sources import History, Migration
from migcheck.sources.reading import read_text_in_tree

MIGRATION_FILE = "up.sql"
# 2019-08-28-192523_create_users, 00000000000000_diesel_initial_setup, 20240101_x
_FOLDER_NAME = lazy(r"^\d[\d-]*_[^/]+$")
_NO_TRANSACTION = lazy(r"(?m)^\s*run_in_transaction\s*=\s*false\s*$")


def _list_dir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def is_migrations_dir(path: str) -> bool:
    """True when ``path`` holds migration folders with an ``up.sql`` each."""
    return any(
        _FOLDER_NAME.match(name) and os.path.isfile(os.path.join(path, name, MIGRATION_FILE))
        for name in _list_dir(path)
    )


def is_migration_folder(path: str) -> bool:
    """A ``<version>_<name>`` folder holding an ``up.sql``."""
    return bool(_FOLDER_NAME.match(os.path.basename(path))) and os.path.isfile(
        os.path.join(path, MIGRATION_FILE)
    )


def _in_transaction(folder: str) -> bool:
    text = read_text_in_tree(os.path.join(folder, "metadata.toml"))
    return text is None or not _NO_TRANSACTION.search(text)


def plan_history(path: str, is_excluded: Callable[[str], bool]) -> History:
    """The history of the migrations directory ``path``, texts not loaded yet."""
    history = History(root=path, tool="diesel")
    for folder in sorted(_list_dir(path)):
        folder_path = os.path.join(path, folder)
        sql_path = os.path.join(folder_path, MIGRATION_FILE)
        if not _FOLDER_NAME.match(folder) or not os.path.isfile(sql_path):
            continue
        if is_excluded(folder_path) or is_excluded(sql_path):
            continue
        in_transaction = _in_transaction(folder_path)
        migration = Migration(
            path=sql_path, key=folder, tool="diesel", runner_transaction=in_transaction
        )
        if not in_transaction:
            # diesel_migrations runs up.sql with conn.batch_execute (file_based_migrations.rs,
            # SqlFileMigration::run), one simple query (PQexec) that PostgreSQL runs as one
            # implicit transaction; run_in_transaction = false only drops the explicit one
            # (migration_harness.rs, run_migration).
            migration.notes["implicit_transaction"] = True
        history.migrations.append(migration)
    return history
