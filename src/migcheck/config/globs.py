"""The config file's globs applied to paths: ``exclude`` and ``per-file-ignores``, and
``exclude`` rewritten as ``--exclude`` patterns for discovery.
"""

from __future__ import annotations

import fnmatch
import glob
import os
from collections.abc import Iterable
from pathlib import Path

from migcheck.config.rulenames import expand_rules
from migcheck.config.schema import Config


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
