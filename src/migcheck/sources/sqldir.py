"""Plain SQL migration directories: which naming scheme a directory uses, and the order
its migration tool applies the files in.

A directory is judged from the names of the ``.sql`` files directly inside it:

- golang-migrate: ``<version>_<title>.up.sql``, ordered by the integer version;
- Flyway: ``V<version>__<desc>.sql`` ordered by version (``1.1``, ``1_1`` and ``2026.01.02``
  compare as tuples of integers), then repeatable ``R__<desc>.sql`` sorted by description;
- dbmate: ``<version>_<name>.sql`` files holding ``-- migrate:up`` / ``-- migrate:down``;
- numbered or timestamped files (``001_init.sql``, ``0001-init.sql``,
  ``20240101120000_add_users.sql``) in natural numeric order.

Rollback files are never linted as part of a history: golang-migrate and other
``*.down.sql`` files, ``*_down.sql``, ``down.sql``, ``*.rollback.sql`` and Flyway undo
files ``U<version>__<desc>.sql``. Any other ``.sql`` file (a seed, a saved query) is a
history of its own, linted as plain SQL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from migcheck.lazyre import lazy
from migcheck.sources import History, Migration
from migcheck.sources.reading import read_text_in_tree

_SQL = r"\.(?i:sql)"
GOLANG_UP = lazy(rf"^(\d+)_(.*)\.(?i:up){_SQL}$")
FLYWAY_VERSIONED = lazy(rf"^V(\d+(?:[._]\d+)*)__(.+){_SQL}$")
FLYWAY_REPEATABLE = lazy(rf"^R__(.+){_SQL}$")
FLYWAY_UNDO = lazy(rf"^U\d+(?:[._]\d+)*__.+{_SQL}$")
NUMBERED = lazy(rf"^(\d+)(?:[_\-.].*)?{_SQL}$")
_ROLLBACK = lazy(rf"(^down|[._]down|\.rollback){_SQL}$", re.IGNORECASE)

# dbmate's block directives: a whole line ``-- migrate:up [option:value ...]``.
_DBMATE_UP = lazy(r"^--[ \t]*migrate:up(?=[ \t\r]|$)([^\n]*)$", re.MULTILINE)
_DBMATE_DOWN = lazy(r"^--[ \t]*migrate:down(?=[ \t\r]|$)", re.MULTILINE)
_NOT_NEWLINE = lazy(r"[^\r\n]")
# ``executeInTransaction=true|false`` in a script's ``.sql.conf`` overrides Flyway's own
# detection either way (flyway-core ParserSqlScript.executeInTransaction).
_FLYWAY_EXECUTE_IN_TRANSACTION = lazy(
    r"^\s*executeInTransaction\s*=\s*(true|false)\s*$", re.MULTILINE | re.IGNORECASE
)

# Layouts returned by ``plan_directory``; ``finalize`` needs to know which one it has.
GOLANG = "golang-migrate"
FLYWAY = "flyway"
NUMBERED_LAYOUT = "numbered"
SINGLE = "single"


def is_sql_name(name: str) -> bool:
    return name.lower().endswith(".sql")


def is_rollback(name: str) -> bool:
    """True for down/undo/rollback files, which are not part of the forward history."""
    return bool(_ROLLBACK.search(name) or FLYWAY_UNDO.match(name))


def _natural_key(text: str) -> tuple[tuple[int, str], ...]:
    """Sort key comparing digit runs as numbers: ``2_x`` < ``10_x``."""
    parts = re.split(r"(\d+)", text.lower())
    return tuple((int(part), "") if index % 2 else (0, part) for index, part in enumerate(parts))


def _flyway_version(version: str) -> tuple[int, ...]:
    numbers = [int(part) for part in re.split(r"[._]", version)]
    # Flyway treats 1.0 and 1 as the same version.
    while len(numbers) > 1 and numbers[-1] == 0:
        numbers.pop()
    return tuple(numbers)


SUPABASE = "supabase"


def _is_supabase(directory: str) -> bool:
    parts = os.path.normpath(os.path.abspath(directory)).split(os.sep)
    return parts[-2:] == ["supabase", "migrations"]


def plan_directory(
    directory: str, names: Iterable[str], forced: Iterable[str] = ()
) -> list[tuple[History, str]]:
    """Group the files ``names`` of ``directory`` into histories, each with its layout.

    ``forced`` names were given explicitly by the user: they are linted even when they are
    rollback files or do not end in ``.sql`` (each then as a history of its own). Texts are
    not loaded; migration paths are filesystem paths.
    """
    forced = set(forced)
    golang: list[tuple[int, str, str]] = []
    versioned: list[tuple[tuple[int, ...], str, str]] = []
    repeatable: list[tuple[str, str]] = []
    numbered: list[tuple[tuple[tuple[int, str], ...], str, str]] = []
    single: list[str] = []
    for name in sorted(set(names) | forced):
        if name not in forced and (not is_sql_name(name) or is_rollback(name)):
            continue
        if is_rollback(name):
            single.append(name)
        elif match := GOLANG_UP.match(name):
            golang.append((int(match.group(1)), name, match.group(1)))
        elif match := FLYWAY_VERSIONED.match(name):
            versioned.append((_flyway_version(match.group(1)), name, match.group(1)))
        elif match := FLYWAY_REPEATABLE.match(name):
            repeatable.append((match.group(1), name))
        elif match := NUMBERED.match(name):
            numbered.append((_natural_key(name), name, match.group(1)))
        else:
            single.append(name)

    plans: list[tuple[History, str]] = []
    if golang:
        files = [(name, key) for _, name, key in sorted(golang)]
        plans.append((_history(directory, GOLANG, files), GOLANG))
    if versioned or repeatable:
        files = [(name, key) for _, name, key in sorted(versioned)]
        files += [(name, desc) for desc, name in sorted(repeatable)]
        plans.append((_history(directory, FLYWAY, files), FLYWAY))
    if numbered:
        files = [(name, key) for _, name, key in sorted(numbered)]
        tool = SUPABASE if _is_supabase(directory) else "sql"
        plans.append((_history(directory, tool, files), NUMBERED_LAYOUT))
    for name in single:
        history = _history(directory, "sql", [(name, name)])
        history.root = os.path.join(directory, name)
        plans.append((history, SINGLE))
    return plans


def _history(directory: str, tool: str, files: list[tuple[str, str]]) -> History:
    history = History(root=directory, tool=tool)
    for name, key in files:
        migration = Migration(path=os.path.join(directory, name), key=key, tool=tool)
        if tool == GOLANG:
            # golang-migrate sends the whole file as one multi-statement Exec, which
            # PostgreSQL runs as one implicit transaction.
            migration.notes["implicit_transaction"] = True
        elif tool == SUPABASE:
            # The Supabase CLI sends a migration's statements as one pipelined batch,
            # which PostgreSQL runs as one implicit transaction.
            migration.notes["implicit_transaction"] = True
        elif tool == FLYWAY:
            # Flyway wraps each migration in a transaction by default on PostgreSQL.
            migration.runner_transaction = True
        history.migrations.append(migration)
    return history


def finalize(history: History, layout: str) -> None:
    """Adjust a planned history once its texts are loaded (dbmate detection, Flyway
    per-script configuration)."""
    if layout == NUMBERED_LAYOUT and any(
        has_dbmate_blocks(m.text or "") for m in history.migrations
    ):
        history.tool = "dbmate"
        for migration in history.migrations:
            migration.tool = "dbmate"
            apply_dbmate(migration)
    elif layout == FLYWAY:
        for migration in history.migrations:
            setting = flyway_script_transaction(migration.path)
            if setting is not None:
                migration.runner_transaction = setting
                migration.notes["execute_in_transaction"] = setting


def has_dbmate_blocks(text: str) -> bool:
    return _DBMATE_UP.search(text) is not None


def dbmate_up_options(text: str) -> dict[str, str]:
    """Options written after ``-- migrate:up``, e.g. ``{"transaction": "false"}``."""
    match = _DBMATE_UP.search(text)
    if match is None:
        return {}
    pairs = (word.split(":") for word in match.group(1).split())
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def blank_dbmate_down(text: str) -> str:
    """Replace the ``-- migrate:down`` section with spaces, keeping every newline, so the up
    section's line and column positions stay those of the file."""
    up = _DBMATE_UP.search(text)
    down = _DBMATE_DOWN.search(text, up.end() if up else 0)
    if down is None:
        return text
    return text[: down.start()] + _NOT_NEWLINE.sub(" ", text[down.start() :])


def apply_dbmate(migration: Migration) -> None:
    """Lint only the up section of a dbmate migration, in the transaction dbmate uses."""
    text = migration.text or ""
    if not has_dbmate_blocks(text):
        # dbmate refuses such a file; lint it whole rather than guess.
        migration.runner_transaction = True
        migration.notes["dbmate_missing_up"] = True
        return
    migration.text = blank_dbmate_down(text)
    migration.runner_transaction = dbmate_up_options(text).get("transaction") != "false"
    if not migration.runner_transaction:
        # Without its transaction dbmate still sends the up section as one Exec
        # (pkg/dbmate/db.go, Migrate: execMigration(sqlDB) runs tx.Exec(up)); lib/pq sends
        # a query without arguments as one simple query, which PostgreSQL runs as one
        # implicit transaction.
        migration.notes["implicit_transaction"] = True


def flyway_script_transaction(sql_path: str) -> bool | None:
    """``executeInTransaction`` from the script configuration file ``<script>.sql.conf``
    next to a Flyway migration, or None when it does not set it."""
    text = read_text_in_tree(sql_path + ".conf")
    match = _FLYWAY_EXECUTE_IN_TRANSACTION.search(text or "")
    return None if match is None else match.group(1).lower() == "true"
