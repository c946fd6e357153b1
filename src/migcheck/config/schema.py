"""What a config file may say, and reading it: ``load_config`` parses the TOML and
validates every key into a ``Config``, or raises a ``ConfigError`` naming the file, the
key and what is valid. The rule registry is imported only when a file is validated.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from migcheck.config.errors import ConfigError, _key, _toml
from migcheck.config.rulenames import _close, _unknown_rule
from migcheck.vocabulary import FAIL_ON, SEVERITIES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

PG_VERSIONS = tuple(range(11, 19))


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
    app_schema: tuple[str, ...] | None = None  # resolved against the file's directory
    app_ref: str | None = None  # command line only (--app-ref); never read from a file
    table_stats: str | None = None  # resolved against the file's directory
    small_table_rows: int | None = None
    small_table_bytes: int | None = None
    # ``[rehearse] rows = {orders = 2_000_000}``: rows ``migcheck rehearse`` seeds per table.
    rehearse_rows: Mapping[str, int] | None = None


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
    "table-stats",
    "app-schema",
    "small-table-rows",
    "small-table-bytes",
    "rehearse",
)
_REHEARSE_KEYS = ("rows",)
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
        rehearse = self._table(table, "rehearse", "rows = {orders = 2_000_000}") or {}
        rehearse_section = f"{self.section}.rehearse" if self.section else "rehearse"
        self._check_keys(rehearse, _REHEARSE_KEYS, rehearse_section)
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
            app_schema=self._inside_paths(table, "app-schema"),
            table_stats=self._inside_path(table, "table-stats"),
            small_table_rows=self._count(table, "small-table-rows"),
            small_table_bytes=self._count(table, "small-table-bytes"),
            rehearse_rows=self._rows(rehearse, rehearse_section),
        )

    def _rows(self, table: Mapping[str, object], section: str) -> dict[str, int] | None:
        value = table.get("rows")
        if value is None:
            return None
        expected = "expected a table of row counts by table name, e.g. rows = {orders = 2_000_000}"
        if not isinstance(value, dict):
            raise self._invalid("rows", value, expected, section)
        for name, rows in value.items():
            if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
                raise self._invalid(
                    "rows", {name: rows}, f"{_key(name)} must be a whole number ≥ 0", section
                )
        return dict(value)

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

    def _inside_path(self, table: Mapping[str, object], key: str) -> str | None:
        """A file named relative to the config file, which may not point outside its
        directory: the config file may come from the pull request being checked."""
        value = table.get(key)
        if value is None:
            return None
        expected = 'expected a path relative to this file, inside its directory, e.g. "stats.json"'
        if not isinstance(value, str) or not value.strip() or "\0" in value:
            raise self._invalid(key, value, expected)
        rel = Path(value)
        if rel.is_absolute() or os.path.normpath(value).split(os.sep)[0] == "..":
            raise self._invalid(key, value, expected)
        return os.path.join(os.path.abspath(self.path.parent), os.path.normpath(value))

    def _inside_paths(self, table: Mapping[str, object], key: str) -> tuple[str, ...] | None:
        value = table.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value:
            raise self._invalid(
                key, value, 'expected a list of paths or globs, e.g. ["prisma/schema.prisma"]'
            )
        return tuple(self._inside_path({key: v}, key) or "" for v in value)

    def _count(self, table: Mapping[str, object], key: str) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self._invalid(key, value, "expected a whole number, e.g. 10_000")
        return value

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
