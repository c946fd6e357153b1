"""A content-addressed cache of parsed statements, so unchanged files skip parsing.

A pre-commit run replays the whole history to build the schema; with the cache only the
new file is tokenized and parsed, and a run where every file is cached never imports
sqlglot at all (its import is most of migcheck's start-up time). Entries are keyed by
the file's path and text, the migcheck version and the installed sqlglot version, so an
upgrade of either invalidates them. Set ``MIGCHECK_NO_CACHE=1`` to disable it and
``MIGCHECK_CACHE_DIR`` to move it (default: ``$XDG_CACHE_HOME/migcheck``).

The directory is input like any other: a restored CI cache or a shared runner may have
been written by someone else. Entries are JSON read back by a strict ``datacodec.Codec``
(never pickle: loading a pickle runs code), a malformed entry is a miss, and a directory
owned by another user or writable by group or others is not used at all (one note on
stderr says so). What remains is forgery: whoever can write the directory can plant a
well-formed entry with false results, so a writable cache directory is trusted input.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
from pathlib import Path
from typing import Any, TypeVar

from migcheck import __version__
from migcheck.datacodec import Codec
from migcheck.sources import Migration

T = TypeVar("T")

# 4: entries are JSON (``datacodec``) of ``statements.Loaded`` (statements, findings,
# suppression directives). 5: CREATE INDEX ops carry their normalised keys and predicate.
_FORMAT = "5"
_sqlglot_version: str | None = None
# Each cache directory this process looked at, and whether it may be used.
_checked: dict[Path, bool] = {}
_codecs: dict[Any, Codec[Any]] = {}
# An entry holds one file's statements; past this size it is not one of ours.
_MAX_ENTRY = 256 * 1024 * 1024
# Never follow a link or wait on a FIFO that a restored cache may contain.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)
_OPEN_FLAGS |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def _enabled() -> bool:
    return not os.environ.get("MIGCHECK_NO_CACHE")


def _dir() -> Path:
    env = os.environ.get("MIGCHECK_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "migcheck"


def parser_version() -> str:
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


def codec(tp: Any) -> Codec[Any]:
    codec = _codecs.get(tp)
    if codec is None:
        codec = _codecs[tp] = Codec(tp)
    return codec


def key(migration: Migration) -> str | None:
    if not _enabled():
        return None
    h = hashlib.sha256()
    for part in (_FORMAT, __version__, parser_version(), _code_version(), migration.path):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    if migration.chunks is not None:
        # The dataclasses' repr shows every field and its type: a faithful digest input.
        h.update(b"chunks\0")
        h.update(repr(migration.chunks).encode("utf-8", "surrogatepass"))
    else:
        h.update((migration.text or "").encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def _refuse(folder: Path, why: str) -> bool:
    from migcheck.report.escape import visible

    sys.stderr.write(f"migcheck: not using the cache directory {visible(str(folder))}: {why}\n")
    return False


def _usable(folder: Path, st: os.stat_result) -> bool:
    """Whether a directory that exists may be trusted: ours, and writable by us only."""
    if not stat.S_ISDIR(st.st_mode):
        return _refuse(folder, "it is not a directory")
    uid = os.geteuid() if hasattr(os, "geteuid") else None
    if uid is not None and st.st_uid != uid:
        return _refuse(folder, f"it is owned by another user (uid {st.st_uid})")
    if uid is not None and st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(st.st_mode)
        return _refuse(folder, f"group or others can write to it (mode {mode:04o})")
    return True


def _check(folder: Path) -> bool:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            folder.mkdir(mode=0o700)
            st = os.stat(folder)
        except OSError:  # a read-only home: no cache, and nothing to say
            return False
    except OSError:
        return False
    return _usable(folder, st)


def _cache_dir() -> Path | None:
    """The cache directory, created with mode 0700 when missing; None when it must not be
    used. Each directory is checked once per process, so its note is printed once."""
    folder = _dir()
    ok = _checked.get(folder)
    if ok is None:
        ok = _checked[folder] = _check(folder)
    return folder if ok else None


def folder() -> Path | None:
    """The cache directory when caching is on and it may be used, else None."""
    return _cache_dir() if _enabled() else None


def read_file(path: Path) -> bytes | None:
    """The bytes of a regular file in the cache (never through a link, never a FIFO), or
    None: a missing, unreadable or oversized entry is a miss."""
    try:
        with open(os.open(path, _OPEN_FLAGS), "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_ENTRY:
                return None
            return fh.read(st.st_size + 1)  # not the cap: read(n) allocates n bytes
    except OSError:
        return None


def write_file(path: Path, data: bytes) -> None:
    """Replace ``path`` (under the cache directory) atomically; a failure is ignored, as a
    read-only home or a full disk must not fail the lint."""
    top = _cache_dir()
    if top is None:
        return
    sub = path.parent
    try:
        try:
            sub.mkdir(mode=0o700, exist_ok=True)
        except FileNotFoundError:  # removed since it was checked: check it again
            _checked.pop(top, None)
            if _cache_dir() is None:
                return
            sub.mkdir(mode=0o700, exist_ok=True)
        import tempfile  # only a cache miss writes: a warm pre-commit run never needs it

        fd, tmp = tempfile.mkstemp(dir=sub)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass


def load(k: str | None, tp: type[T]) -> T | None:
    """The entry stored under ``k`` as a ``tp``, or None: a missing, unreadable,
    truncated, malformed or stale entry is just a miss."""
    if k is None:
        return None
    top = _cache_dir()
    if top is None:
        return None
    data = read_file(top / k[:2] / k)
    if data is None:
        return None
    try:
        value: T = codec(tp).decode(data)
    except Exception:  # anything wrong with an entry is a miss, never an error
        return None
    return value


def store(k: str | None, value: T, tp: type[T]) -> None:
    if k is None:
        return
    top = _cache_dir()
    if top is None:
        return
    try:
        data = codec(tp).encode(value)
    except (TypeError, ValueError):  # not storable exactly: recomputed next time
        return
    write_file(top / k[:2] / k, data)
