"""A content-addressed cache of parsed statements, so unchanged files skip parsing.

A pre-commit run replays the whole history to build the schema; with the cache only the
new file is tokenized and parsed, and a run where every file is cached never imports
sqlglot at all (its import is most of migcheck's start-up time). Entries are keyed by
the file's path and text, the migcheck version and the installed sqlglot version, so an
upgrade of either invalidates them. Set ``MIGCHECK_NO_CACHE=1`` to disable it and
``MIGCHECK_CACHE_DIR`` to move it (default: ``$XDG_CACHE_HOME/migcheck``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from migcheck import __version__
from migcheck.sources import Migration

# 3: entries are ``statements.Loaded`` (statements, findings, suppression directives).
_FORMAT = "3"
_sqlglot_version: str | None = None


def _enabled() -> bool:
    return not os.environ.get("MIGCHECK_NO_CACHE")


def _dir() -> Path:
    env = os.environ.get("MIGCHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migcheck"


def _parser_version() -> str:
    """sqlglot's version, read from its files without importing it (that is the point)."""
    global _sqlglot_version
    if _sqlglot_version is None:
        import importlib.util

        spec = importlib.util.find_spec("sqlglot")
        version = "unknown"
        if spec is not None and spec.origin:
            vfile = Path(spec.origin).with_name("_version.py")
            with contextlib.suppress(OSError):
                version = hashlib.sha1(vfile.read_bytes()).hexdigest()[:12]
        _sqlglot_version = version
    return _sqlglot_version


_code_fingerprint: str | None = None


def _code_version() -> str:
    """A fingerprint of migcheck's own parsing code (sizes and mtimes of its modules), so
    editing the parser (in a checkout) invalidates entries even without a version bump."""
    global _code_fingerprint
    if _code_fingerprint is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha1()
        for path in sorted([*root.glob("*.py"), *root.glob("sql/*.py")]):
            try:
                st = path.stat()
            except OSError:
                continue
            h.update(f"{path.name}:{st.st_size}:{st.st_mtime_ns};".encode())
        _code_fingerprint = h.hexdigest()[:16]
    return _code_fingerprint


def key(migration: Migration) -> str | None:
    if not _enabled():
        return None
    h = hashlib.sha256()
    for part in (_FORMAT, __version__, _parser_version(), _code_version(), migration.path):
        h.update(part.encode())
        h.update(b"\0")
    if migration.chunks is not None:
        h.update(pickle.dumps(migration.chunks))
    else:
        h.update((migration.text or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def load(k: str | None) -> Any:
    if k is None:
        return None
    try:
        with open(_dir() / k[:2] / k, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # a missing, truncated or stale entry is just a miss
        return None


def store(k: str | None, value: object) -> None:
    if k is None:
        return
    folder = _dir() / k[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder)
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, folder / k)
    except OSError:  # a read-only home or full disk must not fail the lint
        pass
