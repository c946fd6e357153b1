"""The settings of a run: the command line's where given, else the config file's, else
the defaults, as one typed ``Settings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from migcheck.config.globs import discovery_excludes
from migcheck.config.rulenames import expand_rules
from migcheck.config.schema import Config
from migcheck.settings import Settings

# Settings a config file may hold but cannot switch on: importing Alembic revisions runs
# the project's code, and the config file may come from the pull request being checked.
FILE_CANNOT_SET = frozenset({"alembic_import"})


# -- using a loaded config ----------------------------------------------------------------


def merge(config: Config | None, cli: Mapping[str, object]) -> Settings:
    """The settings of a run: the CLI's where given, else the file's, else ``Settings``'
    defaults.

    ``cli`` uses the CLI's parameter names (``fail_on``, ``extend_select``, ...); ``None``
    (and an empty list) means "not given". Keys that are not settings are ignored.

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

    # Each value was validated where it was read (the config schema, click's types).
    out: dict[str, Any] = {}
    for f in fields(Settings):
        for value in (given(f.name), from_file(f.name)):
            if value is not None:
                out[f.name] = value
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
    for key in ("select", "extend_select", "ignore"):
        out[key] = tuple(_names(out.get(key)))
    severity: dict[str, str] = {}
    for table in (from_file("severity"), given("severity")):
        if isinstance(table, Mapping):
            severity.update(table)
    out["severity"] = severity
    out["exclude"] = (*_names(given("exclude")), *discovery_excludes(config))
    return Settings(**out)


def _names(value: object) -> list[str]:
    """A list of strings from a tuple/list setting (``None``: empty)."""
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return []
