"""The render cache: each revision file as read and rendered, one packed file per project.

Rendering a revision that is not plain (``purerender``) needs Alembic and SQLAlchemy,
whose import alone costs about half a second, and every revision of a history must be
rendered on every run because the engine replays them all. Static rendering is a pure
function of the file's bytes and a few settings, so each revision's result is cached
under a key made of:

* the SHA-256 of the file's bytes (not its path or mtime: a copy or a checkout with new
  mtimes still hits, an edit misses);
* the settings read from ``env.py`` (``env_settings``) and which functions are rendered
  (``upgrade`` only, or ``downgrade`` too);
* migcheck's version and a fingerprint of the code that reads and renders revisions;
* the installed Alembic and SQLAlchemy versions and the Python version, read WITHOUT
  importing them (from the ``*.dist-info`` directory names next to the packages);
  avoiding that import on a full hit is the point of the cache.

The value holds what ``load`` needs from the file: its header (revision id, parents,
labels, message), input errors, the chunks per function and the notes. Paths shown to
users depend on the working directory, so they are not stored; they are put back from
the current run when an entry is used.

A project's entries live in one file (``Pack``) under ``alembic/`` in migcheck's cache
directory, found by the project's location: a header line, then ``<key> <json>`` per
revision, read with one system call and decoded entry by entry when used (a pre-commit
run of a 500-revision project opened 500 entry files). It follows ``migcheck.cache``'s
rules like the per-history result cache (``histcache``): the directory's trust checks,
``MIGCHECK_CACHE_DIR``, ``MIGCHECK_NO_CACHE=1``, atomic replacement, and entries rebuilt
strictly from JSON (``datacodec``): an entry is plain data (``Entry``,
``CachedRevision``), never a syntax tree or an object that could run code; a damaged
entry is a miss. ``--alembic-import`` is never cached: it runs application code that the
key cannot describe.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path

from migcheck import __version__, cache
from migcheck.model import InputError
from migcheck.sources import SqlChunk

from .notes import AlembicNote
from .positions import display_path
from .render import Facts, Rendered
from .revfile import RevisionFile

# Bump when the entry layout or what it means changes.
_FORMAT = "alembic-render-4"
_FILE_HEADER = b'{"migcheck-cache": "alembic-render-4"}'
# Entries kept beyond the current run's, as a multiple of the project's revision files
# (the other mode's: with and without --include-downgrade).
_KEEP = 3

_environment: str | None = None


@functools.cache
def dist_version(package: str) -> str:
    """``name-version`` of an installed distribution, found without importing it.

    ``importlib.metadata.version`` costs ~30 ms (it scans every path entry); the package's
    own directory sits next to its ``.dist-info`` in a normal install, so one listing of
    that directory is enough. Anything unusual (an editable install, a vendored copy)
    falls back to the size and mtime of the package's ``__init__.py``, which changes when
    the code does.
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return f"{package}:absent"
    origin = Path(spec.origin)
    site = origin.parent.parent
    prefix = package.lower() + "-"
    try:
        names = [
            name
            for name in os.listdir(site)
            if name.lower().startswith(prefix)
            and name[len(prefix) : len(prefix) + 1].isdigit()  # not ``alembic-utils``
            and name.endswith(".dist-info")
        ]
    except OSError:
        names = []
    if len(names) == 1:
        return names[0].lower()
    try:
        st = origin.stat()
    except OSError:
        return f"{package}:unknown"
    return f"{package}:{origin}:{st.st_size}:{st.st_mtime_ns}"


def _code_fingerprint() -> str:
    """Sizes and mtimes of the modules that read and render revisions, so editing them in
    a checkout invalidates entries even without a version bump."""
    here = Path(__file__).resolve().parent
    sources = here.parent
    paths = [*sorted(here.glob("*.py")), sources / "__init__.py", sources.parent / "model.py"]
    parts = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        parts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return ";".join(parts)


def _environment_key() -> str:
    """Everything about this installation that can change a rendering, computed once."""
    global _environment
    if _environment is None:
        _environment = "\0".join(
            [
                _FORMAT,
                __version__,
                _code_fingerprint(),
                dist_version("alembic"),
                dist_version("sqlalchemy"),
                sys.implementation.cache_tag or "",
                ".".join(map(str, sys.version_info[:3])),
            ]
        )
    return _environment


def settings_key(settings: dict[str, object], functions: list[str]) -> str:
    """The per-project part of the key: env.py settings and the functions rendered."""
    return json.dumps([settings, functions], sort_keys=True, default=repr)


def key(data: bytes, project_key: str) -> str | None:
    """The cache key of one revision file's bytes, or None when caching is off."""
    # The same switch as the parse cache (MIGCHECK_NO_CACHE), read the same way.
    if not cache._enabled():
        return None
    h = hashlib.sha256()
    for part in (_environment_key(), project_key):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


@dataclass
class CachedRevision:
    """What a ``RevisionFile`` holds that the cache keeps: its header, not its paths,
    source or syntax tree (``unpack`` puts the paths back; a hit is never rendered)."""

    revision: str
    down_revision: str | tuple[str, ...] | None = None
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str = ""
    header_lines: dict[str, int] = field(default_factory=dict)
    # (message, line) of ``RevisionFile.error``.
    error: tuple[str, int | None] | None = None


# The RevisionFile fields a CachedRevision leaves out, or stores in another form.
_NOT_CACHED = frozenset({"path", "display", "source", "tree", "error"})
_HEADER = [f.name for f in fields(CachedRevision) if f.name not in _NOT_CACHED]


@dataclass
class Entry:
    """One revision file as read (and, when it renders, rendered), without its paths."""

    format: str
    # None: the file is not a revision, or cannot be used (``errors`` say why).
    revision: CachedRevision | None
    errors: list[tuple[str, int | None]] = field(default_factory=list)
    # None when the file was not rendered (unreadable or not a revision).
    chunks: dict[str, list[SqlChunk]] | None = None
    notes: list[tuple[int, int, str, str]] = field(default_factory=list)
    facts: dict[str, Facts] = field(default_factory=dict)


def pack(rev: RevisionFile | None, errors: list[InputError], rendered: Rendered | None) -> Entry:
    """An entry for the cache: the revision without its syntax tree, source or paths."""
    stripped = None
    if rev is not None:
        stripped = CachedRevision(
            **{name: getattr(rev, name) for name in _HEADER},
            error=None if rev.error is None else (rev.error.message, rev.error.line),
        )
    return Entry(
        format=_FORMAT,
        revision=stripped,
        errors=[(e.message, e.line) for e in errors],
        chunks=None if rendered is None else rendered.chunks,
        notes=[]
        if rendered is None
        else [(n.line, n.column, n.message, n.severity) for n in rendered.notes],
        facts={} if rendered is None else rendered.facts,
    )


def unpack(
    entry: object, path: Path, shown: str | None = None
) -> tuple[RevisionFile | None, list[InputError], Rendered | None] | None:
    """What ``pack`` stored, with ``path`` and how it is shown now (``shown``, by default
    ``display_path(path)``) put back; None when ``entry`` is not a usable entry (a miss,
    or a stale layout)."""
    if not isinstance(entry, Entry) or entry.format != _FORMAT:
        return None
    if shown is None:
        shown = display_path(path)
    errors = [InputError(shown, message, line) for message, line in entry.errors]
    rev = None
    cached = entry.revision
    if cached is not None:
        rev = RevisionFile(
            path=path,
            display=shown,
            **{name: getattr(cached, name) for name in _HEADER},
            error=None if cached.error is None else InputError(shown, *cached.error),
        )
    rendered = None
    if entry.chunks is not None:
        rendered = Rendered(
            chunks=entry.chunks,
            notes=[AlembicNote(shown, line, col, msg, sev) for line, col, msg, sev in entry.notes],
            facts=entry.facts,
        )
    return rev, errors, rendered


def _digest(*parts: str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


class Pack:
    """One project's render cache file, read once; ``save`` writes what this run used.

    Entries are kept as the bytes read and decoded only when asked for; writing the file
    back re-encodes only new ones. Without a usable cache directory (``path`` None) it
    is an always-empty cache that stores nothing."""

    def __init__(self, path: Path | None, entries: dict[str, bytes]) -> None:
        self.path = path
        self._entries = entries
        self._out: dict[str, bytes] = {}
        self._dirty = False

    def get(
        self, k: str | None, path: Path, shown: str | None = None
    ) -> tuple[RevisionFile | None, list[InputError], Rendered | None] | None:
        """The entry stored under ``k``, unpacked for ``path`` (``unpack``); None: a miss."""
        raw = self._entries.get(k) if k is not None else None
        if raw is None or k is None:
            return None
        try:
            entry = cache.codec(Entry).decode(raw)
        except Exception:  # anything wrong with an entry is a miss, never an error
            entry = None
        hit = unpack(entry, path, shown)
        if hit is None:
            del self._entries[k]  # damaged or stale: written again once rendered
        else:
            self._out[k] = raw
        return hit

    def put(self, k: str | None, entry: Entry) -> None:
        if k is None or self.path is None:
            return
        try:
            raw = cache.codec(Entry).encode(entry)
        except (TypeError, ValueError):  # not storable exactly: recomputed next time
            return
        if b"\n" not in raw:
            self._out[k] = raw
            self._dirty = True

    def save(self, revisions: int) -> None:
        """Write the entries this run used, plus older ones up to a bound; nothing when
        every entry came from the file."""
        if not self._dirty or self.path is None:
            return
        bound = _KEEP * max(revisions, 1)
        kept = dict(self._out)
        for k, raw in self._entries.items():
            if len(kept) >= bound:
                break
            kept.setdefault(k, raw)
        lines = [_FILE_HEADER, *(k.encode("ascii") + b" " + raw for k, raw in kept.items())]
        cache.write_file(self.path, b"\n".join(lines) + b"\n")


def open_pack(location: str) -> Pack:
    """The render cache of the project at ``location`` (its absolute root and version
    directories): empty when missing, unreadable or of another format."""
    folder = cache.folder()
    if folder is None:
        return Pack(None, {})
    path = folder / "alembic" / _digest(_FORMAT, location)[:40]
    data = cache.read_file(path)
    entries: dict[str, bytes] = {}
    if data and data.startswith(_FILE_HEADER + b"\n"):
        for line in data.split(b"\n")[1:]:
            k, _, raw = line.partition(b" ")
            if len(k) == 64 and raw:
                entries[k.decode("ascii", "replace")] = raw
    return Pack(path, entries)
