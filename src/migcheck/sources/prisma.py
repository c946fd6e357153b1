"""Prisma Migrate histories: ``migrations/<timestamp>_<name>/migration.sql`` folders.

Prisma applies the folders sorted by name (a plain string sort), so that is the order here.
The Prisma version matters to the rules (how a multi-statement ``migration.sql`` is sent to
PostgreSQL changed between releases), so it is read from the nearest ``package.json``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from migcheck.jsonfile import JsonFileError, parse_json
from migcheck.lazyre import lazy
from migcheck.model import InputError
from migcheck.sources import History, Migration
from migcheck.sources.reading import display_path, read_text_in_tree

LOCK_FILE = "migration_lock.toml"
MIGRATION_FILE = "migration.sql"
# Folders named like ``20240101120000_init``. Used to recognise a migrations directory whose
# lock file was deleted or never committed; nothing else lays migrations out this way.
_FOLDER_NAME = lazy(r"^\d{8,}_")
_PROVIDER = lazy(r"""^\s*provider\s*=\s*["']([^"']*)["']""", re.MULTILINE)
_VERSION = lazy(r"(?<![\w.])(\d+)(?:\.(\d+))?")
# The CLI (``prisma``) runs migrations, so its version wins over the client's.
_PACKAGES = ("prisma", "@prisma/client")
_DEPENDENCY_FIELDS = ("dependencies", "devDependencies")


def is_migrations_dir(path: str) -> bool:
    """True when ``path`` is a Prisma ``migrations`` directory."""
    if os.path.isfile(os.path.join(path, LOCK_FILE)):
        return True
    return any(
        _FOLDER_NAME.match(name) and os.path.isfile(os.path.join(path, name, MIGRATION_FILE))
        for name in _list_dir(path)
    )


def migration_folders(path: str) -> list[str]:
    """Names of the migration folders in the order Prisma applies them."""
    try:
        # DirEntry.is_dir() follows a link as os.path.isdir does, and for anything else
        # answers from the directory listing: no stat per migration.
        with os.scandir(path) as entries:
            return sorted(e.name for e in entries if not e.name.startswith(".") and _is_dir(e))
    except OSError:
        return []


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # as os.path.isdir: what cannot be looked at is not a directory
        return False


def _list_dir(path: str) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def read_provider(path: str) -> str | None:
    """The ``provider`` recorded in ``migration_lock.toml`` (``postgresql``...), if any."""
    text = read_text_in_tree(os.path.join(path, LOCK_FILE))
    # A regex, not a TOML parser: the file is two generated lines, and tomllib is not in
    # the standard library before Python 3.11.
    match = _PROVIDER.search(text) if text is not None else None
    return match.group(1) if match else None


def parse_version_spec(spec: str) -> tuple[int, int] | None:
    """``"^5.22.0"`` → ``(5, 22)``; a range gives its first (lowest) version; ``"latest"``,
    ``"workspace:*"`` and other specs without a version number give ``None``."""
    match = _VERSION.search(spec)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def find_version_spec(start: str) -> tuple[tuple[str, str] | None, list[InputError]]:
    """``(spec, package.json path)`` of the nearest ``package.json`` above ``start`` that
    depends on Prisma, and the ``package.json`` files on the way that could not be read
    (reported, then passed over). The search stops at the repository root (a directory
    holding ``.git``) or the filesystem root."""
    problems: list[InputError] = []
    directory = os.path.abspath(start)
    while True:
        candidate = os.path.join(directory, "package.json")
        spec = None
        if os.path.isfile(candidate):
            try:
                spec = _prisma_spec(candidate)
            except OSError as exc:
                problem = f"unreadable ({exc.strerror or exc})"
            except JsonFileError as exc:
                problem = str(exc)
            else:
                problem = ""
            if problem:
                problems.append(
                    InputError(
                        display_path(candidate),
                        f"package.json is {problem}; the Prisma version is not read from "
                        "it (pass --prisma-version)",
                    )
                )
        if spec is not None:
            return (spec, candidate), problems
        parent = os.path.dirname(directory)
        if parent == directory or os.path.exists(os.path.join(directory, ".git")):
            return None, problems
        directory = parent


def _prisma_spec(package_json: str) -> str | None:
    """The Prisma version spec ``package_json`` declares, or None (also when the file is
    unreadable or a link out of the tree: the search goes on further up). Raises
    ``JsonFileError`` when the file is not usable JSON."""
    text = read_text_in_tree(package_json)
    if text is None:
        return None
    data = parse_json(text)
    if not isinstance(data, dict):
        return None
    for package in _PACKAGES:
        for field_name in _DEPENDENCY_FIELDS:
            dependencies = data.get(field_name)
            if isinstance(dependencies, dict) and isinstance(dependencies.get(package), str):
                return str(dependencies[package])
    return None


def history_settings(path: str) -> tuple[dict[str, object], list[InputError]]:
    """Settings of a Prisma history: provider and Prisma version (``None`` when unknown),
    and the problems met reading them."""
    found, problems = find_version_spec(path)
    spec = found[0] if found else None
    settings: dict[str, object] = {
        "provider": read_provider(path),
        "lock_file": os.path.isfile(os.path.join(path, LOCK_FILE)),
        "prisma_version_spec": spec,
        "prisma_version": parse_version_spec(spec) if spec is not None else None,
        "prisma_version_source": display_path(found[1]) if found else None,
    }
    return settings, problems


def plan_history(path: str, is_excluded: Callable[[str], bool]) -> tuple[History, list[InputError]]:
    """The history of the migrations directory ``path``, texts not loaded yet.

    Migration paths are filesystem paths here; the loader turns them into display paths.
    A folder without ``migration.sql`` is reported: ``prisma migrate`` refuses it too.
    """
    settings, errors = history_settings(path)
    history = History(root=path, tool="prisma", settings=settings)
    for folder in migration_folders(path):
        folder_path = os.path.join(path, folder)
        sql_path = os.path.join(folder_path, MIGRATION_FILE)
        if is_excluded(folder_path) or is_excluded(sql_path):
            continue
        if not os.path.lexists(sql_path):
            errors.append(
                InputError(
                    display_path(folder_path), "Prisma migration folder has no migration.sql"
                )
            )
            continue
        history.migrations.append(
            Migration(
                path=sql_path,
                key=folder,
                tool="prisma",
                runner_transaction=False,
                # Whether the script then runs as one implicit transaction depends on the
                # Prisma version; the rules read settings["prisma_version"] to decide.
                notes={"implicit_transaction": True},
            )
        )
    return history, errors
