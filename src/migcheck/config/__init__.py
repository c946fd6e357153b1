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

from migcheck.config.discover import (
    CONFIG_NAMES,
    find_config,
    locate_config,
    locate_config_on_base,
)
from migcheck.config.errors import ConfigError
from migcheck.config.globs import discovery_excludes, is_excluded, per_file_ignored
from migcheck.config.merge import FILE_CANNOT_SET, merge
from migcheck.config.rulenames import expand_rules
from migcheck.config.schema import PG_VERSIONS, Config, load_config
from migcheck.settings import Settings
from migcheck.vocabulary import CATEGORIES, FAIL_ON, SEVERITIES

__all__ = [
    "CATEGORIES",
    "CONFIG_NAMES",
    "FAIL_ON",
    "FILE_CANNOT_SET",
    "PG_VERSIONS",
    "SEVERITIES",
    "Config",
    "ConfigError",
    "Settings",
    "discovery_excludes",
    "expand_rules",
    "find_config",
    "is_excluded",
    "load_config",
    "locate_config",
    "locate_config_on_base",
    "merge",
    "per_file_ignored",
]
