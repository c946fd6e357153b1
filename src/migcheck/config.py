"""Project configuration: find, read and validate migcheck's settings, merge them with the CLI.

Where settings live (the same keys in each, kebab-case as in ruff):

* ``[tool.migcheck]`` in ``pyproject.toml``;
* the top level of ``migcheck.toml`` or ``.migcheck.toml``;
* any file named with ``--config FILE`` (``pyproject.toml`` by name means the
  ``[tool.migcheck]`` table, any other name means top-level keys). It replaces discovery.

Discovery walks up from every linted path (a file starts at its directory; ``-`` starts
at the working directory), checking in each directory ``.migcheck.toml``, then
``migcheck.toml``, then ``pyproject.toml``. The nearest file *with migcheck settings*
wins: a ``pyproject.toml`` without ``[tool.migcheck]`` does not stop the walk (a nested
Python package must not hide the repository's settings). The walk stops at the
repository root, the first directory holding a ``.git`` entry (a directory, or the file a
worktree or submodule has), so a checkout never picks up settings from above it. Outside
a checkout it stops after ``$HOME``, and before any directory someone else could have
written a file into: one that others can write (``/tmp``), or that is owned by neither
the current user, root, nor the owner of the directory the walk started in. Such a
directory is neither searched nor taken for a repository root.

A config file never makes migcheck run code: ``[alembic] import = true`` is read (so
the CLI can say it is ignored) but ``merge`` does not use it; only the person running
migcheck can ask for imports, on the command line.

One run uses one configuration. When linted paths find different files, the first path
(in command-line order) that finds one decides, and ``locate_config`` returns a note
naming the files that were not used, for the CLI to print on stderr.

Globs (``exclude``, ``per-file-ignores``) are relative to the directory of the config
file, matched with ``fnmatch`` as ``--exclude`` is (so ``*`` also matches ``/``). A glob
without ``/`` matches a file or directory name at any depth under that directory; a glob
that matches a directory covers everything inside it.

Every mistake in a config file is a ``ConfigError`` naming the file, the key and what is
valid; the CLI prints it and exits 2. This module is on the CLI's start-up path, so the
rule registry is imported only when a config file is actually validated.
"""

from __future__ import annotations

import fnmatch
import glob
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG_NAMES = (".migcheck.toml", "migcheck.toml", "pyproject.toml")
CATEGORIES = ("compatibility", "locking", "data", "style", "meta")
SEVERITIES = ("error", "warning", "info")
FAIL_ON = ("error", "warning", "never")
PG_VERSIONS = tuple(range(11, 19))

# What ``merge`` returns for a setting given neither on the command line nor in a file.
DEFAULTS: dict[str, object] = {
    "select": [],
    "extend_select": [],
    "ignore": [],
    "severity": {},
    "fail_on": "warning",
    "pg_version": None,  # the runner's DEFAULT_PG_VERSION
    "assume_in_transaction": False,
    "exclude": [],
    "max_file_size": 10.0,
    "max_total_size": 64.0,  # megabytes of SQL one run reads in total
    "prisma_version": None,  # read from package.json
    "alembic_import": False,
    "include_downgrade": False,
    "transaction_per_migration": None,  # read from env.py
    "lock_timeout_role_level": False,
}


# Settings a config file may hold but cannot switch on: importing Alembic revisions runs
# the project's code, and the config file may come from the pull request being checked.
FILE_CANNOT_SET = frozenset({"alembic_import"})


class ConfigError(ValueError):
    """A config file that cannot be used. ``str()`` is the whole message for the user.

    A ``ValueError`` so that a caller which only knows about usage errors still exits 2
    without a traceback.
    """

    def __init__(
        self,
        path: Path | str,
        key: str | None,
        message: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.key = key  # dotted: "fail-on", "alembic.import", "severity.drop-column"
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = _shown(self.path)
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Config:
    """One config file's settings, validated. ``None`` means "not set in the file"."""

    root: Path  # the directory of the file: globs are relative to it
    path: Path  # the file itself, for messages
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] | None = None
    severity: Mapping[str, str] | None = None
    fail_on: str | None = None
    pg_version: int | None = None
    assume_in_transaction: bool | None = None
    exclude: tuple[str, ...] | None = None
    per_file_ignores: Mapping[str, tuple[str, ...]] | None = None
    max_file_size: float | None = None
    max_total_size: float | None = None
    prisma_version: str | None = None
    alembic_import: bool | None = None
    include_downgrade: bool | None = None
    transaction_per_migration: bool | None = None
    lock_timeout_role_level: bool | None = None


# -- finding the file ---------------------------------------------------------------------


def find_config(paths: Sequence[str], explicit: str | None) -> Path | None:
    """The config file for a run over ``paths``; ``explicit`` is ``--config FILE``."""
    return locate_config(paths, explicit)[0]


def locate_config(paths: Sequence[str], explicit: str | None) -> tuple[Path | None, list[str]]:
    """Like ``find_config``, plus notes for stderr when paths found different files."""
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            reason = "is a directory, not a file" if path.is_dir() else "no such file"
            raise ConfigError(path, None, f"{reason} (named by --config)")
        return path, []
    cache: dict[str, Path | None] = {}
    found: list[tuple[str, Path]] = []
    for linted in paths or ["."]:
        config = _walk_up(_start_dir(linted), cache)
        if config is not None:
            found.append((linted, config))
    if not found:
        return None, []
    chosen = found[0][1]
    return chosen, _unused_notes(found, chosen)


def locate_config_on_base(
    read: Callable[[str], bytes | None],
    top: Path,
    ref: str,
    paths: Sequence[str],
    explicit: str | None,
) -> tuple[Path | None, bytes | None]:
    """The config file as it is on the ``--diff`` base, for ``--config-from-base``.

    ``read`` gives a file's content on the base (path relative to the repository root
    ``top``, ``/``-separated), or None when the base has no such file. Discovery walks up
    from the linted paths to ``top`` exactly as on disk, but looks only at the base's
    files, so a pull request cannot add, edit or delete the config that judges it.
    Returns the work-tree path of the file (its globs are relative to it) and its content.
    """
    root = Path(os.path.realpath(top))

    def relative(path: Path) -> str | None:
        rel = os.path.relpath(os.path.realpath(path), root)
        if _is_above(rel):
            return None
        return "" if rel == os.curdir else rel.replace(os.sep, "/")

    if explicit is not None:
        rel = relative(Path(os.path.abspath(explicit)))
        if rel is None:
            raise ConfigError(
                explicit,
                None,
                f"is outside the repository, so it has no version on {ref} "
                "(named by --config, read there because of --config-from-base)",
            )
        raw = read(rel)
        if raw is None:
            raise ConfigError(
                explicit,
                None,
                f"does not exist on {ref} "
                "(named by --config, read there because of --config-from-base)",
            )
        return Path(explicit), raw
    for linted in paths or ["."]:
        rel = relative(_start_dir(linted))
        if rel is None:
            continue
        parts = rel.split("/") if rel else []
        for depth in range(len(parts), -1, -1):
            directory = "/".join(parts[:depth])
            for name in CONFIG_NAMES:
                file = f"{directory}/{name}" if directory else name
                raw = read(file)
                if raw is None:
                    continue
                if name == "pyproject.toml" and not _table_in(root / file, raw):
                    continue
                return root / file, raw
    return None, None


def _unused_notes(found: list[tuple[str, Path]], chosen: Path) -> list[str]:
    notes: list[str] = []
    seen: set[Path] = {chosen}
    for linted, other in found:
        if other in seen:
            continue
        seen.add(other)
        notes.append(
            f"{_shown(other)} (the config for {linted}) is not used: one run uses one "
            f"configuration, {_shown(chosen)}; lint that path in a run of its own to use it"
        )
    return notes


def _start_dir(linted: str) -> Path:
    if linted == "-":
        return Path.cwd()
    path = Path(os.path.abspath(linted))
    # A path that does not exist (a typo, reported by discovery) still has a project.
    while not path.exists() and path.parent != path:
        path = path.parent
    return path if path.is_dir() else path.parent


def _walk_up(start: Path, cache: dict[str, Path | None]) -> Path | None:
    visited: list[str] = []
    directory = start
    result: Path | None = None
    owners = _walk_owners(start)
    home = _home()
    while True:
        # The start directory is the tree being linted, whoever owns it; above it only a
        # directory no one else could write to is searched.
        if directory != start and not _trusted_dir(directory, owners):
            break
        key = str(directory)
        if key in cache:
            result = cache[key]
            break
        visited.append(key)
        result = _config_in(directory)
        if result is not None or (directory / ".git").exists() or directory == home:
            break
        if directory.parent == directory:
            break
        directory = directory.parent
    for key in visited:
        cache[key] = result
    return result


def _config_in(directory: Path) -> Path | None:
    for name in CONFIG_NAMES:
        candidate = directory / name
        if not candidate.is_file():
            continue
        if name != "pyproject.toml" or _has_migcheck_table(candidate):
            return candidate
    return None


def _trusted_dir(directory: Path, owners: frozenset[int]) -> bool:
    """Whether a file found in ``directory`` can only have been put there by the user,
    root or the owner of the linted tree: not writable by others, owned by one of them."""
    try:
        st = directory.stat()
    except OSError:
        return False
    if st.st_mode & stat.S_IWOTH:
        return False
    return not hasattr(os, "geteuid") or st.st_uid in owners


def _walk_owners(start: Path) -> frozenset[int]:
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows has no owners to compare
        return frozenset()
    try:
        tree_owner = start.stat().st_uid
    except OSError:  # a start that cannot be read adds no owner
        tree_owner = os.geteuid()
    return frozenset({os.geteuid(), 0, tree_owner})


def _home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(os.path.abspath(home)) if home else None


def _has_migcheck_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_bytes()
    except OSError:
        return False
    return _table_in(pyproject, text)


def _table_in(pyproject: Path, text: bytes) -> bool:
    # Most pyproject.toml files never mention migcheck: skip parsing them, and never fail
    # the run over an unrelated project's broken file.
    if b"migcheck" not in text:
        return False
    tool = _parse(pyproject, text).get("tool")
    return isinstance(tool, dict) and "migcheck" in tool


# -- reading and validating ---------------------------------------------------------------


def load_config(path: Path, raw: bytes | None = None) -> Config:
    """Read and validate one config file. Raises ``ConfigError``.

    ``raw`` is the file's content when it does not come from the work tree (the version
    on the ``--diff`` base); ``path`` still names it and anchors its globs.
    """
    path = Path(path)
    try:
        data = _parse(path, path.read_bytes() if raw is None else raw)
    except OSError as err:
        raise ConfigError(path, None, f"cannot read the file: {err.strerror or err}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        table = tool.get("migcheck") if isinstance(tool, dict) else None
        if table is None:
            raise ConfigError(
                path, None, "has no [tool.migcheck] table; put migcheck's settings there"
            )
        section = "tool.migcheck"
        if not isinstance(table, dict):
            raise ConfigError(
                path, None, f"tool.migcheck = {_toml(table)} is not valid; expected a table"
            )
    else:
        table, section = data, ""
    return _Validator(path, section).config(table)


def _parse(path: Path, raw: bytes) -> dict[str, object]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ConfigError(
            path, None, f"is not valid UTF-8 (byte {err.start}); TOML files are UTF-8"
        ) from None
    try:
        return tomllib.loads(text)
    except RecursionError:
        # tomllib's parser recurses once per nested array or inline table.
        raise ConfigError(
            path, None, "invalid TOML: arrays or tables are nested too deeply to read"
        ) from None
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        # tomllib puts the position at the end of its message; show it the way compilers
        # do (file:line:column) so editors and CI annotations can jump to it.
        at = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
        if at is None:
            at_end = re.search(r"\s*\(at end of document\)$", message)
            if at_end is not None:
                line = text.count("\n") + 1
                detail = message[: at_end.start()]
                raise ConfigError(path, None, f"invalid TOML: {detail}", line) from None
            raise ConfigError(path, None, f"invalid TOML: {message}") from None
        detail = message[: at.start()]
        raise ConfigError(
            path, None, f"invalid TOML: {detail}", int(at.group(1)), int(at.group(2))
        ) from None


_TOP_KEYS = (
    "select",
    "ignore",
    "extend-select",
    "severity",
    "fail-on",
    "pg-version",
    "assume-in-transaction",
    "exclude",
    "per-file-ignores",
    "max-file-size",
    "max-total-size",
    "prisma-version",
    "alembic",
    "lock-timeout-role-level",
)
_ALEMBIC_KEYS = ("import", "include-downgrade", "transaction-per-migration")
_RULE_LIST_EXAMPLE = '["drop-column", "locking"]'


class _Validator:
    """Turns one parsed table into a ``Config``, raising at the first mistake."""

    def __init__(self, path: Path, section: str) -> None:
        self.path = path
        self.section = section  # "tool.migcheck", or "" for top-level keys

    def config(self, table: dict[str, object]) -> Config:
        self._check_keys(table, _TOP_KEYS, self.section)
        alembic = self._table(table, "alembic", "import = true") or {}
        alembic_section = f"{self.section}.alembic" if self.section else "alembic"
        self._check_keys(alembic, _ALEMBIC_KEYS, alembic_section)
        return Config(
            root=Path(os.path.abspath(self.path)).parent,
            path=self.path,
            select=self._rules(table, "select"),
            ignore=self._rules(table, "ignore"),
            extend_select=self._rules(table, "extend-select"),
            severity=self._severity(table),
            fail_on=self._choice(table, "fail-on", FAIL_ON),
            pg_version=self._pg_version(table),
            assume_in_transaction=self._bool(table, "assume-in-transaction"),
            exclude=self._globs(table),
            per_file_ignores=self._per_file_ignores(table),
            max_file_size=self._max_file_size(table),
            max_total_size=self._max_file_size(table, "max-total-size"),
            prisma_version=self._prisma_version(table),
            alembic_import=self._bool(alembic, "import", alembic_section),
            include_downgrade=self._bool(alembic, "include-downgrade", alembic_section),
            transaction_per_migration=self._bool(
                alembic, "transaction-per-migration", alembic_section
            ),
            lock_timeout_role_level=self._bool(table, "lock-timeout-role-level"),
        )

    # -- messages

    def _where(self, section: str) -> str:
        return f"[{section}] " if section else ""

    def _error(self, key: str, message: str, section: str | None = None) -> ConfigError:
        section = self.section if section is None else section
        dotted = f"{section.removeprefix('tool.migcheck').lstrip('.')}.{key}".lstrip(".")
        return ConfigError(self.path, dotted, self._where(section) + message)

    def _invalid(
        self, key: str, value: object, expected: str, section: str | None = None
    ) -> ConfigError:
        return self._error(key, f"{_key(key)} = {_toml(value)} is not valid; {expected}", section)

    def _check_keys(self, table: Mapping[str, object], valid: Sequence[str], section: str) -> None:
        for key in table:
            if key in valid:
                continue
            kebab = key.replace("_", "-")
            if kebab in valid:
                hint = f'; keys are kebab-case: use "{kebab}"'
            elif key == "tool" and not section:
                hint = (
                    f"; {self.path.name} takes the settings at the top level, "
                    "without [tool.migcheck]"
                )
            else:
                close = _close(kebab, valid)
                hint = f' (did you mean "{close}"?)' if close else ""
                hint += f"; valid keys: {', '.join(sorted(valid))}"
            raise self._error(key, f"unknown key {_toml(key)}{hint}", section)

    # -- value kinds

    def _bool(
        self, table: Mapping[str, object], key: str, section: str | None = None
    ) -> bool | None:
        value = table.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self._invalid(key, value, "expected true or false", section)

    def _choice(self, table: Mapping[str, object], key: str, choices: Sequence[str]) -> str | None:
        value = table.get(key)
        if value is None or value in choices:
            return value  # type: ignore[return-value]  # value is one of the str choices
        raise self._invalid(key, value, f"choose one of: {', '.join(choices)}")

    def _table(
        self, table: Mapping[str, object], key: str, example: str
    ) -> dict[str, object] | None:
        value = table.get(key)
        if value is None or isinstance(value, dict):
            return value
        section = f"{self.section}.{key}" if self.section else key
        raise self._invalid(key, value, f"expected a table, e.g. [{section}] {example}")

    def _strings(self, table: Mapping[str, object], key: str, expected: str) -> list[str] | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        raise self._invalid(key, value, expected)

    def _rules(self, table: Mapping[str, object], key: str) -> tuple[str, ...] | None:
        names = self._strings(
            table,
            key,
            f"expected a list of rule ids or categories, e.g. {key} = {_RULE_LIST_EXAMPLE}",
        )
        if names is None:
            return None
        if key == "select" and not names:
            # The runner reads an empty selection as "the defaults": say so instead.
            raise self._invalid(
                key, names, "it would select no rule; remove it to run the default rules"
            )
        for name in names:
            problem = _unknown_rule(name, categories=True)
            if problem:
                raise self._error(key, f"{key}: {problem}")
        return tuple(names)

    def _severity(self, table: Mapping[str, object]) -> dict[str, str] | None:
        severity = self._table(table, "severity", 'drop-column = "warning"')
        if severity is None:
            return None
        section = f"{self.section}.severity" if self.section else "severity"
        for rule, value in severity.items():
            problem = _unknown_rule(rule, categories=False)
            if problem:
                raise self._error(rule, problem, section)
            if value not in SEVERITIES:
                raise self._invalid(rule, value, f"choose one of: {', '.join(SEVERITIES)}", section)
        return dict(severity)  # type: ignore[arg-type]  # every value was checked to be a str

    def _pg_version(self, table: Mapping[str, object]) -> int | None:
        value = table.get("pg-version")
        if value is None:
            return None
        versions = ", ".join(map(str, PG_VERSIONS))
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._invalid(
                "pg-version",
                value,
                f"expected a major version number (no quotes), one of: {versions}",
            )
        if value not in PG_VERSIONS:
            raise self._invalid("pg-version", value, f"choose one of: {versions}")
        return value

    def _globs(self, table: Mapping[str, object]) -> tuple[str, ...] | None:
        globs = self._strings(
            table,
            "exclude",
            'expected a list of globs relative to this file\'s directory, e.g. exclude = ["db/legacy/*"]',
        )
        return None if globs is None else tuple(globs)

    def _per_file_ignores(self, table: Mapping[str, object]) -> dict[str, tuple[str, ...]] | None:
        per_file = self._table(table, "per-file-ignores", '"db/legacy/*" = ["drop-column"]')
        if per_file is None:
            return None
        section = f"{self.section}.per-file-ignores" if self.section else "per-file-ignores"
        out: dict[str, tuple[str, ...]] = {}
        for pattern, names in per_file.items():
            if not (isinstance(names, list) and all(isinstance(n, str) for n in names)):
                raise self._invalid(
                    pattern,
                    names,
                    f"expected a list of rule ids or categories, e.g. "
                    f"{_key(pattern)} = {_RULE_LIST_EXAMPLE}",
                    section,
                )
            for name in names:
                problem = _unknown_rule(name, categories=True)
                if problem:
                    raise self._error(pattern, f"{_key(pattern)}: {problem}", section)
            out[pattern] = tuple(names)
        return out

    def _max_file_size(
        self, table: Mapping[str, object], key: str = "max-file-size"
    ) -> float | None:
        value = table.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self._invalid(key, value, "expected a positive number of megabytes, e.g. 20")
        return float(value)

    def _prisma_version(self, table: Mapping[str, object]) -> str | None:
        value = table.get("prisma-version")
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\s*[\^~=v]?\d+(\.\d+){0,2}\s*", value):
            return value.strip()
        quoted = (
            " (in quotes: a number cannot tell 5.1 from 5.10)" if not isinstance(value, str) else ""
        )
        raise self._invalid("prisma-version", value, f'expected a version like "5.22"{quoted}')


def _unknown_rule(name: str, *, categories: bool) -> str | None:
    """Why ``name`` is not a rule id (or category), with a suggestion; None if it is one."""
    from migcheck.rules import all_rules

    ids = list(all_rules())
    if name in ids or (categories and (name in CATEGORIES or name.upper() == "ALL")):
        return None
    if not categories:
        if name in CATEGORIES:
            return (
                f'"{name}" is a category, but severity takes rule ids; `migcheck rules` lists them'
            )
        close = _close(name, ids)
        hint = f' (did you mean "{close}"?)' if close else ""
        return f'unknown rule "{name}"{hint}; `migcheck rules` lists the rule ids'
    close = _close(name, [*ids, *CATEGORIES])
    hint = f' (did you mean "{close}"?)' if close else ""
    return (
        f'unknown rule or category "{name}"{hint}; `migcheck rules` lists the rule ids, '
        f"the categories are: {', '.join(CATEGORIES)}"
    )


def _close(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return match[0] if match else None


def _key(key: str) -> str:
    """A key as it would be written in TOML (bare when it can be)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


def _toml(value: object, limit: int = 60, depth: int = 0) -> str:
    """A value as TOML would write it, for messages (long values are cut)."""
    if depth > 8 and isinstance(value, (list, dict)):
        # A message needs no more, and a hostile file nests thousands deep.
        return "[...]" if isinstance(value, list) else "{...}"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        import json

        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml(v, limit, depth + 1) for v in value[:limit]) + "]"
    elif isinstance(value, dict):
        items = list(value.items())[:limit]
        inner = ", ".join(f"{_key(k)} = {_toml(v, limit, depth + 1)}" for k, v in items)
        text = "{ " + inner + " }" if inner else "{}"
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(path: Path) -> str:
    """A path as shown to users: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.getcwd())
    except (ValueError, OSError):
        return absolute.replace(os.sep, "/")
    under = relative != os.pardir and not relative.startswith(os.pardir + os.sep)
    return (relative if under else absolute).replace(os.sep, "/")


# -- using a loaded config ----------------------------------------------------------------


def merge(config: Config | None, cli: Mapping[str, object]) -> dict[str, object]:
    """The settings of a run: the CLI's where given, else the file's, else ``DEFAULTS``.

    ``cli`` uses the CLI's parameter names (``fail_on``, ``extend_select``, ...); ``None``
    (and an empty list) means "not given". Keys this module does not know (``fmt``,
    ``statistics``) pass through unchanged.

    Rule selection follows ruff: a ``select`` on the command line replaces the file's
    ``select``, ``extend-select`` and ``ignore``; otherwise the command line's
    ``extend-select`` and ``ignore`` add to the file's (and a rule the command line
    extend-selects is no longer ignored by the file). ``severity`` tables merge per rule.
    ``exclude`` comes back ready for discovery: the command line's globs, then the file's
    rewritten by ``discovery_excludes``. Settings in ``FILE_CANNOT_SET`` come from the
    command line (or their default) only.
    """

    def given(key: str) -> object:
        value = cli.get(key)
        return None if value is None or (isinstance(value, (list, tuple)) and not value) else value

    def from_file(key: str) -> object:
        if config is None or key in FILE_CANNOT_SET:
            return None
        return getattr(config, key)

    out: dict[str, object] = {k: v for k, v in cli.items() if k not in DEFAULTS}
    for key, default in DEFAULTS.items():
        out[key] = default
        for value in (given(key), from_file(key)):
            if value is not None:
                out[key] = value
                break
    cli_extend = _names(given("extend_select"))
    cli_ignore = _names(given("ignore"))
    if given("select") is not None:
        out["extend_select"] = cli_extend
        out["ignore"] = cli_ignore
    else:
        file_ignore = _names(from_file("ignore"))
        if cli_extend and file_ignore:
            wanted = set(expand_rules(cli_extend))
            file_ignore = [r for r in expand_rules(file_ignore) if r not in wanted]
        out["extend_select"] = _names(from_file("extend_select")) + cli_extend
        out["ignore"] = file_ignore + cli_ignore
    out["select"] = _names(out["select"])
    severity: dict[str, str] = {}
    for table in (from_file("severity"), given("severity")):
        if isinstance(table, Mapping):
            severity.update(table)
    out["severity"] = severity
    out["exclude"] = _names(given("exclude")) + discovery_excludes(config)
    return out


def _names(value: object) -> list[str]:
    """A list of strings from a tuple/list setting (``None``: empty)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []


def expand_rules(names: Iterable[str]) -> list[str]:
    """Rule ids named by ids, categories and ``ALL`` (names are assumed valid)."""
    from migcheck.rules import all_rules

    rules = all_rules()
    out: list[str] = []
    for name in names:
        if name in rules:
            ids = [name]
        elif name.upper() == "ALL":
            ids = list(rules)
        else:
            ids = [rid for rid, r in rules.items() if r.category == name]
        out.extend(rid for rid in ids if rid not in out)
    return out


def _candidates(config: Config, path: str) -> list[tuple[str, str]] | None:
    """(path relative to the config's directory, base name) for ``path`` and each of its
    directories below that directory; None when ``path`` is not under it."""
    if path == "-":
        return None
    for absolute, root in (
        (os.path.abspath(path), os.path.abspath(config.root)),
        # The same tree seen through symbolic links (/tmp vs /private/tmp on macOS).
        (os.path.realpath(path), os.path.realpath(config.root)),
    ):
        try:
            relative = os.path.relpath(absolute, root)
        except ValueError:  # another drive on Windows
            continue
        if relative == os.curdir or relative.startswith(os.pardir):
            continue
        parts = relative.replace(os.sep, "/").split("/")
        return [("/".join(parts[: i + 1]), parts[i]) for i in range(len(parts))]
    return None


def _matches(config: Config, patterns: Iterable[str], path: str) -> list[str]:
    candidates = _candidates(config, path)
    if not candidates:
        return []
    hits = []
    for pattern in patterns:
        clean = pattern.strip().removeprefix("./").rstrip("/")
        anchored = "/" in clean
        if any(
            fnmatch.fnmatchcase(relative if anchored else name, clean)
            for relative, name in candidates
        ):
            hits.append(pattern)
    return hits


def is_excluded(config: Config | None, path: str) -> bool:
    """Whether the config's ``exclude`` globs cover ``path`` (a file or directory)."""
    if config is None or not config.exclude:
        return False
    return bool(_matches(config, config.exclude, path))


def per_file_ignored(config: Config | None, path: str) -> set[str]:
    """The rule ids ``per-file-ignores`` turns off for ``path`` (as findings display it)."""
    if config is None or not config.per_file_ignores:
        return set()
    hits = _matches(config, config.per_file_ignores, path)
    return set(expand_rules(name for pattern in hits for name in config.per_file_ignores[pattern]))


def discovery_excludes(config: Config | None) -> list[str]:
    """The config's ``exclude`` as ``--exclude`` patterns for ``sources.discover``.

    Discovery matches its patterns against (among others) the path as displayed:
    relative to the working directory when under it, else absolute. The config's globs
    are relative to its own directory, so each is rewritten for where that directory
    sits from the working directory, keeping exactly the meaning ``is_excluded`` gives it.
    """
    if config is None or not config.exclude:
        return []
    forms: list[str] = []
    for pattern in config.exclude:
        clean = pattern.strip().removeprefix("./").rstrip("/")
        # A glob names a file or a directory (then everything in it); one without "/"
        # names it at any depth.
        more = [f"{clean}/*"] if "/" in clean else [f"*/{clean}", f"{clean}/*", f"*/{clean}/*"]
        forms.extend(f for f in (clean, *more) if f not in forms)
    root = os.path.abspath(config.root)
    cwd = os.getcwd()
    try:
        root_from_cwd = os.path.relpath(root, cwd)
        cwd_from_root = os.path.relpath(cwd, root)
    except ValueError:  # another drive on Windows: everything is shown absolute
        root_from_cwd = cwd_from_root = os.pardir
    if root_from_cwd == os.curdir:
        return forms
    if not _is_above(root_from_cwd):
        # The config directory is under the working directory: shown as "sub/dir/...".
        prefix = glob.escape(root_from_cwd.replace(os.sep, "/")) + "/"
        return [prefix + form for form in forms]
    # Files outside the working directory are shown absolute...
    prefix = glob.escape(Path(root).as_posix()) + "/"
    out = [prefix + form for form in forms]
    if not _is_above(cwd_from_root):
        # ... and those under it (itself inside the config directory) relative to it:
        # what remains of each glob once it has matched the way down to the cwd.
        way_down = cwd_from_root.replace(os.sep, "/") + "/"
        for form in forms:
            out.extend(rest for rest in _glob_after(form, way_down) if rest and rest not in out)
    return out


def _is_above(relative: str) -> bool:
    return relative == os.pardir or relative.startswith(os.pardir + os.sep)


def _glob_after(pattern: str, prefix: str) -> list[str]:
    """The globs G such that ``fnmatch(prefix + x, pattern)`` iff ``fnmatch(x, G)`` for
    some G (the derivative of the pattern by the string ``prefix``)."""
    current = [pattern]
    for char in prefix:
        following: list[str] = []
        for glob_ in current:
            for rest in _glob_after_char(glob_, char):
                if rest not in following:
                    following.append(rest)
        current = following
        if not current:
            break
    return current


def _glob_after_char(pattern: str, char: str) -> list[str]:
    if not pattern:
        return []
    head = pattern[0]
    if head == "*":
        rest = pattern.lstrip("*")
        # The star takes this character (and stays), or takes nothing.
        return ["*" + rest, *_glob_after_char(rest, char)]
    if head == "[":
        # fnmatch: "[!...]" negates, a "]" right after "[" or "[!" is a member.
        end = 2 if pattern[1:2] == "!" else 1
        end = pattern.find("]", end + 1 if pattern[end : end + 1] == "]" else end)
        if end == -1:  # no closing bracket: a literal "["
            return [pattern[1:]] if char == "[" else []
        member = fnmatch.fnmatchcase(char, pattern[: end + 1])
        return [pattern[end + 1 :]] if member else []
    if head == "?" or head == char:
        return [pattern[1:]]
    return []
