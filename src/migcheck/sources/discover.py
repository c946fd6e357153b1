"""Migration discovery: turn the paths given on the command line into ordered histories.

Each PATH is a file, a directory (walked recursively in sorted order) or ``-`` for stdin.
Directories are recognised by their layout (Prisma Migrate, golang-migrate, Flyway,
dbmate, numbered files; see ``prisma.py`` and ``sqldir.py``). Naming a file that belongs
to a recognised history loads the whole history, so earlier migrations build the schema,
and marks only the named files ``selected``. Bad input never raises: it becomes an
``InputError`` and the other files are still returned.

Nothing outside the tree is read (see ``reading.py`` for the boundary): a named path whose
link leaves it is an input error, a walked directory link that leaves it is skipped with a
note. A file that cannot be read is an input error when it is judged (named, or found by a
walk) and only a note when it is an earlier migration replayed as history. The walk is
iterative, so any depth of nesting is fine.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.model import InputError
from migcheck.sources import History, Migration, diesel, prisma, sqldir
from migcheck.sources.reading import (
    DEFAULT_MAX_BYTES,
    NON_REGULAR,
    UTF8_BOM,
    describe_os_error,
    display_path,
    find_repository_root,
    format_size,
    is_inside,
    named_boundary,
    new_run,
    outside_message,
    read_source,
    resolve,
    size_message,
)

if TYPE_CHECKING:
    from migcheck.sources.alembic.notes import AlembicNote
    from migcheck.sources.alembic.projects import AlembicRequest

STDIN = "-"
# Directories that never hold the project's own migrations (hidden ones are skipped too).
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})
# The SQL one run reads in total, by default (``--max-total-size``).
DEFAULT_MAX_TOTAL_BYTES = 64_000_000


@dataclass
class DiscoveryResult:
    histories: list[History] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # Skipped entries that are not input errors (a FIFO in a walked directory, a link out
    # of the tree).
    notes: list[InputError] = field(default_factory=list)
    # Files read only as history (not named, not changed) that could not be read: the
    # user did not ask about them, so they are summed up, not errors.
    history_errors: list[InputError] = field(default_factory=list)
    # The Alembic reader's notes (places it could not evaluate), for the caller to report.
    alembic_notes: list[AlembicNote] = field(default_factory=list)


@dataclass
class _Unit:
    """One directory whose files form histories, and which of them the user named.

    ``selected`` holds names (file names, or folder names for Prisma); ``None`` means all.
    ``forced`` holds files named explicitly, linted even if they would be skipped.
    ``root`` is the path the user gave, which ``--exclude`` patterns are relative to.
    ``boundary`` is the resolved directory no file of the unit may leave.
    """

    kind: str  # "prisma" | "diesel" | "sqldir"
    path: str
    root: str
    boundary: str
    selected: set[str] | None = None
    forced: set[str] = field(default_factory=set)

    def select(self, selected: set[str] | None) -> None:
        if self.selected is None or selected is None:
            self.selected = None
        else:
            self.selected |= selected


def discover(
    paths: Sequence[str],
    *,
    stdin_text: str | None = None,
    stdin_filename: str | None = None,
    exclude: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    alembic: AlembicRequest | None = None,
    excluded: Callable[[str], bool] = lambda _path: False,
) -> DiscoveryResult:
    """Find, order and read the migrations named by ``paths``.

    With ``alembic``, Alembic projects named by a path, or found in a directory given,
    are read too (without it, only SQL layouts). ``excluded`` says which paths the
    config file excludes: such a project is skipped, such a revision is not judged.
    """
    new_run()
    if alembic is None:
        return _Discovery(stdin_text, stdin_filename, exclude, max_bytes, max_total_bytes).run(
            paths
        )
    from migcheck.sources.alembic.projects import load_projects, split_paths

    alembic_paths, sql_paths = split_paths(paths, excluded)
    found = (
        _Discovery(stdin_text, stdin_filename, exclude, max_bytes, max_total_bytes).run(sql_paths)
        if sql_paths
        else DiscoveryResult()
    )
    histories, errors, notes = load_projects(alembic, alembic_paths, excluded)
    if histories:
        # A directory holding only an Alembic project is not "without migrations".
        found.errors = [e for e in found.errors if not e.message.startswith("no SQL migrations")]
    found.histories += histories
    found.errors += errors
    found.alembic_notes = notes
    return found


class _Discovery:
    def __init__(
        self,
        stdin_text: str | None,
        stdin_filename: str | None,
        exclude: Sequence[str],
        max_bytes: int,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
    ) -> None:
        self.stdin_text = stdin_text
        self.stdin_filename = stdin_filename
        self.exclude = tuple(exclude)
        self.max_bytes = max_bytes
        # What is left of the run's SQL budget; once spent, nothing more is read.
        self.budget = max_total_bytes
        self.max_total_bytes = max_total_bytes
        self.over_budget = False
        self.errors: list[InputError] = []
        self.notes: list[InputError] = []
        self.history_errors: list[InputError] = []
        self.noted: set[str] = set()
        # Insertion-ordered so the output follows the order of the command line.
        self.units: dict[tuple[str, str], _Unit | History] = {}
        # Real paths whose text comes from stdin instead of the disk.
        self.overrides: dict[str, str] = {}
        # What walking each directory found, by (device, inode): walked once even when
        # reached twice (``db`` and ``db/migrations``, or a second symbolic link).
        self.walked: dict[tuple[int, int], tuple[int, bool]] = {}

    def run(self, paths: Sequence[str]) -> DiscoveryResult:
        for path in paths:
            if path == STDIN:
                self._add_stdin()
            else:
                self._add_path(path)
        result = DiscoveryResult(
            errors=self.errors, notes=self.notes, history_errors=self.history_errors
        )
        for unit in list(self.units.values()):
            if isinstance(unit, History):
                result.histories.append(unit)
            elif unit.kind == "prisma":
                result.histories.extend(self._build_prisma(unit))
            elif unit.kind == "diesel":
                result.histories.extend(self._build_diesel(unit))
            else:
                result.histories.extend(self._build_sqldir(unit))
        return result

    # -- resolving command-line paths into units ---------------------------------------

    def _add_path(self, path: str) -> None:
        if not os.path.lexists(path):
            self._error(path, "No such file or directory")
            return
        try:
            info = os.stat(path)
        except OSError as err:  # broken symbolic link, loop, permission
            self._error(path, describe_os_error(path, err))
            return
        is_dir = stat.S_ISDIR(info.st_mode)
        boundary = named_boundary(path)
        if not is_inside(path, boundary):
            self._error(path, outside_message(path))
        elif is_dir:
            self._add_directory(path, boundary)
        elif not stat.S_ISREG(info.st_mode):
            # A FIFO (or /dev/stdin) would block forever, a device never end.
            self._error(path, NON_REGULAR)
        else:
            self._add_file(path, boundary)

    def _add_file(self, path: str, boundary: str) -> None:
        directory, name = os.path.split(os.path.abspath(path))
        parent, folder = os.path.split(directory)
        if name == prisma.MIGRATION_FILE and prisma.is_migrations_dir(parent):
            self._unit("prisma", parent, parent, boundary).select({folder})
            return
        if name == diesel.MIGRATION_FILE and diesel.is_migrations_dir(parent):
            self._unit("diesel", parent, parent, boundary).select({folder})
            return
        unit = self._unit("sqldir", directory, directory, boundary)
        unit.select({name})
        unit.forced.add(name)

    def _add_directory(self, path: str, boundary: str) -> None:
        parent, folder = os.path.split(os.path.abspath(path))
        if prisma.is_migrations_dir(parent) and os.path.isfile(
            os.path.join(path, prisma.MIGRATION_FILE)
        ):
            # A single Prisma migration folder: the history is its parent.
            self._unit("prisma", parent, parent, boundary).select({folder})
            return
        if diesel.is_migrations_dir(parent) and os.path.isfile(
            os.path.join(path, diesel.MIGRATION_FILE)
        ):
            self._unit("diesel", parent, parent, boundary).select({folder})
            return
        errors_before = len(self.errors)
        found, excluded = self._walk(path, boundary)
        # Stay quiet when --exclude removed the files or the walk already said what is wrong.
        if not found and not excluded and len(self.errors) == errors_before:
            self._error(path, f"no SQL migrations found in {display_path(path)}")

    def _unit(self, kind: str, path: str, root: str, boundary: str) -> _Unit:
        key = (kind, os.path.realpath(path))
        unit = self.units.get(key)
        if not isinstance(unit, _Unit):
            if find_repository_root(boundary) is None:
                # Outside a git checkout a named file's history is the named directory:
                # the other migrations of a Prisma or Diesel history sit beside its folder.
                boundary = min(boundary, key[1], key=len)
            unit = _Unit(kind, path, root, boundary, selected=set())
            self.units[key] = unit
        return unit

    def _add_stdin(self) -> None:
        if self.stdin_text is None:
            self._error(self.stdin_filename or STDIN, "no text was read from stdin")
            return
        text = self.stdin_text.removeprefix(UTF8_BOM.decode("utf-8"))
        name = self.stdin_filename
        shown = (name or STDIN).replace("\\", "/")
        size = len(text.encode("utf-8", errors="replace"))
        if size > self.max_bytes:
            self.errors.append(InputError(shown, size_message(size, self.max_bytes)))
            return
        if name and os.path.isfile(name):
            # An editor linting an unsaved buffer: lint the text in place of the file on
            # disk, inside its history.
            self.overrides[resolve(name)] = text
            self._add_file(name, named_boundary(name))
            return
        migration = Migration(path=shown, key=shown, tool="stdin", text=text)
        if sqldir.has_dbmate_blocks(text):
            sqldir.apply_dbmate(migration)
        if not text.strip():
            migration.notes["empty"] = True
        self.units[("stdin", shown)] = History(root=shown, tool="stdin", migrations=[migration])

    # -- walking directories -------------------------------------------------------------

    def _walk(self, top: str, boundary: str) -> tuple[int, bool]:
        """Register the units under ``top``; return (files found, anything excluded).

        Iterative (a stack of open directories), so deep nesting cannot exhaust Python's
        recursion limit. Symbolic links to directories inside the boundary are followed,
        but a link back to a directory being walked is reported and not followed, and a
        directory reached twice is walked once.
        """
        root = top
        opened = self._open_dir(top, root, boundary, ())
        if opened is None:
            return 0, False
        if isinstance(opened, tuple):
            return opened
        stack = [opened]
        while stack:
            frame = stack[-1]
            entry = next(frame.subdirs, None)
            if entry is None:
                stack.pop()
                self.walked[frame.identity] = (frame.found, frame.excluded)
                if stack:
                    stack[-1].found += frame.found
                    stack[-1].excluded = stack[-1].excluded or frame.excluded
                continue
            child = self._open_dir(entry.path, root, boundary, frame.ancestors, entry)
            if isinstance(child, _Frame):
                stack.append(child)
            elif child is not None:
                frame.found += child[0]
                frame.excluded = frame.excluded or child[1]
        return opened.found, opened.excluded

    def _open_dir(
        self,
        directory: str,
        root: str,
        boundary: str,
        ancestors: tuple[tuple[int, int], ...],
        entry: os.DirEntry[str] | None = None,
    ) -> _Frame | tuple[int, bool] | None:
        """Scan one directory: a frame to walk its subdirectories, the remembered result
        of a directory walked before, or ``None`` when it is not walked."""
        if entry is not None and entry.is_symlink():
            if not is_inside(entry.path, boundary):
                self._note(
                    entry.path, outside_message(entry.path).replace("not read", "not followed")
                )
                return None
            target = self._link_target_identity(entry)
            if target in ancestors:
                self._error(
                    entry.path,
                    "symbolic link cycle: points back to "
                    f"{display_path(os.path.realpath(entry.path))}, not followed",
                )
                return None
        try:
            info = os.stat(directory)
            entries = sorted(os.scandir(directory), key=lambda item: item.name)
        except OSError as err:
            self._error(directory, describe_os_error(directory, err))
            return None
        identity = (info.st_dev, info.st_ino)
        if identity in self.walked:
            return self.walked[identity]
        # Marked before its subdirectories are walked: a second link to it is not rewalked.
        self.walked[identity] = (0, False)
        frame = _Frame(identity, (*ancestors, identity))
        subdirs = self._scan_entries(directory, root, boundary, entries, frame)
        frame.subdirs = iter(subdirs)
        return frame

    def _scan_entries(
        self,
        directory: str,
        root: str,
        boundary: str,
        entries: list[os.DirEntry[str]],
        frame: _Frame,
    ) -> list[os.DirEntry[str]]:
        """Register the units of one directory; return the subdirectories to walk."""
        # In a Prisma directory the folders are the migrations; there is nothing else to
        # walk inside. In a Diesel one, folders that are not migrations are still walked.
        folders_are_migrations = False
        diesel_dir = False
        if prisma.is_migrations_dir(directory):
            self._unit("prisma", directory, root, boundary).select(None)
            frame.found += 1
            folders_are_migrations = True
        elif diesel.is_migrations_dir(directory):
            self._unit("diesel", directory, root, boundary).select(None)
            frame.found += 1
            diesel_dir = True
        sql_names: list[str] = []
        subdirs: list[os.DirEntry[str]] = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if self._is_excluded(entry.path, root):
                frame.excluded = True
            elif self._is_dir(entry):
                subdirs.append(entry)
            elif self._is_sql_file(entry):
                sql_names.append(entry.name)
            elif entry.is_symlink():
                self._check_link(entry.path)
        if sql_names:
            self._unit("sqldir", directory, root, boundary).select(None)
            frame.found += sum(1 for name in sql_names if not sqldir.is_rollback(name))
        if folders_are_migrations:
            return []
        return [
            entry
            for entry in subdirs
            if entry.name not in SKIPPED_DIRS
            and not _is_virtualenv(entry.path)
            and not (diesel_dir and diesel.is_migration_folder(entry.path))
        ]

    @staticmethod
    def _link_target_identity(entry: os.DirEntry[str]) -> tuple[int, int] | None:
        if not entry.is_symlink():
            return None
        try:
            info = os.stat(entry.path)
        except OSError:
            return None
        return info.st_dev, info.st_ino

    def _check_link(self, path: str) -> None:
        """Report a symbolic link loop whatever its name: it can never be a migration, and
        may have been meant as a directory to walk. (Broken ``.sql`` links are reported by
        ``_is_sql_file``; other broken links are not ours to judge.)"""
        try:
            os.stat(path)
        except OSError as err:
            if err.errno == errno.ELOOP:
                self._error(path, describe_os_error(path, err))

    def _is_dir(self, entry: os.DirEntry[str]) -> bool:
        try:
            return entry.is_dir()  # follows symbolic links
        except OSError:
            return False

    def _is_sql_file(self, entry: os.DirEntry[str]) -> bool:
        """True for ``.sql`` files (or links to one) that are migrations to read. Broken
        links are reported; FIFOs and devices are skipped with a note (they would block or
        never end). A link out of the tree counts: reading it then reports it."""
        if not sqldir.is_sql_name(entry.name):
            return False
        try:
            info = os.stat(entry.path)
        except OSError as err:
            self._error(entry.path, describe_os_error(entry.path, err))
            return False
        if not stat.S_ISREG(info.st_mode):
            self._note(entry.path, NON_REGULAR)
            return False
        return True

    def _is_excluded(self, path: str, root: str) -> bool:
        """``--exclude`` globs match the path relative to the given root, the base name,
        or the path as displayed."""
        if not self.exclude:
            return False
        candidates = {
            os.path.relpath(path, root).replace(os.sep, "/"),
            os.path.basename(path),
            display_path(path),
        }
        return any(
            fnmatch.fnmatchcase(candidate, pattern)
            for pattern in self.exclude
            for candidate in candidates
        )

    # -- building and loading histories --------------------------------------------------

    def _build_prisma(self, unit: _Unit) -> list[History]:
        history, errors = prisma.plan_history(
            unit.path, lambda path: self._is_excluded(path, unit.root)
        )
        self.errors.extend(errors)
        for migration in history.migrations:
            folder = os.path.basename(os.path.dirname(migration.path))
            migration.selected = unit.selected is None or folder in unit.selected
        return [history] if self._load(history, unit.boundary) else []

    def _build_diesel(self, unit: _Unit) -> list[History]:
        history = diesel.plan_history(unit.path, lambda path: self._is_excluded(path, unit.root))
        for migration in history.migrations:
            folder = os.path.basename(os.path.dirname(migration.path))
            migration.selected = unit.selected is None or folder in unit.selected
        return [history] if history.migrations and self._load(history, unit.boundary) else []

    def _build_sqldir(self, unit: _Unit) -> list[History]:
        names = [
            name
            for name in self._sql_names(unit.path)
            if not self._is_excluded(os.path.join(unit.path, name), unit.root)
        ]
        forced = [
            name
            for name in unit.forced
            if not self._is_excluded(os.path.join(unit.path, name), unit.root)
        ]
        histories = []
        for history, layout in sqldir.plan_directory(unit.path, names, forced):
            for migration in history.migrations:
                name = os.path.basename(migration.path)
                migration.selected = unit.selected is None or name in unit.selected
            # Unnamed stand-alone siblings of a named file are not read at all.
            if not any(m.selected for m in history.migrations):
                continue
            if self._load(history, unit.boundary, layout):
                histories.append(history)
        return histories

    @staticmethod
    def _sql_names(directory: str) -> list[str]:
        try:
            entries = list(os.scandir(directory))
        except OSError:
            return []
        names = []
        for entry in entries:
            if not sqldir.is_sql_name(entry.name) or entry.name.startswith("."):
                continue
            try:
                info = os.stat(entry.path)
            except OSError:
                continue
            if stat.S_ISREG(info.st_mode):
                names.append(entry.name)
        return names

    def _load(self, history: History, boundary: str, layout: str = "") -> bool:
        """Read the texts; drop unreadable migrations (reported: an input error for a
        judged migration, a note for one only replayed as history). False when nothing the
        user selected is left."""
        loaded = []
        for migration in history.migrations:
            text = self._read(migration.path, boundary)
            if text is None:  # over the run's budget, which one error already reported
                continue
            if isinstance(text, InputError):
                if migration.selected:
                    self.errors.append(text)
                elif text.path not in self.noted:
                    self.noted.add(text.path)
                    self.history_errors.append(text)
                continue
            migration.text = text
            loaded.append(migration)
        history.migrations = loaded
        sqldir.finalize(history, layout)
        for migration in loaded:
            if not (migration.text or "").strip():
                migration.notes["empty"] = True
            migration.path = display_path(migration.path)
        history.root = display_path(history.root)
        return any(m.selected for m in loaded)

    def _read(self, path: str, boundary: str) -> str | InputError | None:
        override = self.overrides.get(resolve(path)) if self.overrides else None
        if override is not None:
            return override
        if self.over_budget:
            return None
        text = read_source(path, max_bytes=min(self.max_bytes, self.budget), boundary=boundary)
        if isinstance(text, str):
            self.budget -= len(text.encode("utf-8", errors="surrogatepass"))
        elif self.budget < self.max_bytes and text.message.startswith("file is "):
            alone = read_source(path, max_bytes=self.max_bytes, boundary=boundary)
            if isinstance(alone, InputError):
                return alone  # over the per-file limit too: that is the message to give
            # The file fits the per-file limit but not what is left of the run's budget.
            self.over_budget = True
            return InputError(
                display_path(path),
                f"the run has read {format_size(self.max_total_bytes - self.budget)} of SQL "
                f"and this file does not fit the {format_size(self.max_total_bytes)} budget; "
                "it and the files after it are not read; raise it with --max-total-size",
            )
        return text

    def _error(self, path: str, message: str) -> None:
        self.errors.append(InputError(display_path(path), message))

    def _note(self, path: str, message: str) -> None:
        self._note_error(InputError(display_path(path), message))

    def _note_error(self, error: InputError) -> None:
        if error.path not in self.noted:
            self.noted.add(error.path)
            self.notes.append(error)


@dataclass
class _Frame:
    """A directory being walked: what was found so far under it, and what is left."""

    identity: tuple[int, int]
    ancestors: tuple[tuple[int, int], ...]
    found: int = 0
    excluded: bool = False
    subdirs: Iterator[os.DirEntry[str]] = field(default_factory=lambda: iter(()))


def _is_virtualenv(path: str) -> bool:
    # A virtualenv under any name (env/, .tox/py311/) is marked by its pyvenv.cfg.
    return os.path.isfile(os.path.join(path, "pyvenv.cfg"))
