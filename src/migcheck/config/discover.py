"""Finding the config file of a run: the walk up from each linted path (see the package
docstring for where it stops, and why), ``--config``, and the file on the ``--diff`` base.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from migcheck.config.errors import ConfigError, _shown
from migcheck.config.globs import _is_above
from migcheck.config.schema import _parse

CONFIG_NAMES = (".migcheck.toml", "migcheck.toml", "pyproject.toml")

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
