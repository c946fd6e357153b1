"""The packed per-history cache: what linting each migration emitted, and its parse.

A warm run of an unchanged history should do almost nothing: no parse, no schema replay,
no rule (so neither sqlglot nor any rule module is imported). The engine processes a
history's migrations in order, and what processing migration *i* emits (its findings,
including those a later statement reports at an earlier one; its counts; its
``migcheck:`` comments) depends only on migrations 0..*i* and the run's settings. So
each migration's emission is stored under a hash chain::

    key[-1] = H(format, migcheck and sqlglot versions, migcheck's code, the engine's
                options, the history's root, tool and settings)
    key[i]  = H(key[i-1], path, text (or rendered chunks), tool, runner transaction,
                notes, selected, deploy number)

The history's settings are what its source read from ``package.json``,
``migration_lock.toml``, ``env.py`` or ``alembic.ini`` (the Prisma version, Alembic's
``transaction_per_migration``...): they decide the runner, so they are in the key.
Editing migration *i* changes every key from *i* on and nothing before it; a run naming
one file differs from an audit of the directory by the ``selected`` flags. Anything
applied after the walk (suppressions, severity overrides, app-schema gating, table
sizes, the baseline) is recomputed on every run and needs no key.

One file per history holds it all, the emissions, the parsed statements (the parse
of a migration is keyed by its own path and text, ``cache.key``) and a few schema states
(``snapshot``: the state after migration *i*, under ``key[i]``), one JSON entry per
line, each read by the strict ``datacodec`` only when asked for: a warm run decodes the
emissions only, a pre-commit run the state before the new file and nothing before it,
and writing the file back re-encodes only new entries. The file is replaced atomically.
Entries this run did not use are kept up to a bound (the other mode's emissions: an
audit vs one named file; the latest states). A damaged entry is a miss. The directory's trust rules are ``cache``'s.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migcheck import __version__, cache, snapshot
from migcheck.model import Finding, InputError, Options
from migcheck.suppress import Directive

if TYPE_CHECKING:
    from migcheck.sources import History, Migration
    from migcheck.statements import Loaded

# pack2: a header line, then one entry per line: ``r <key> <json>`` for an emission,
# ``p <key> <json>`` for a parse, ``s <key> <json>`` for a schema state.
_FORMAT = "pack2"
_HEADER = b'{"migcheck-cache": "pack2"}'
# Emissions kept beyond the current run's, as a multiple of the history's length.
_KEEP = 3
# Schema states kept beyond the current run's (each is the size of a whole schema).
_KEEP_STATES = 2
_package_fingerprint: str | None = None
# What a migration that emitted nothing is stored as (every field at its default).
_NOTHING = b"{}"


@dataclass
class Emitted:
    """What processing one migration added to the walk's result."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    statements: int = 0
    unrecognized: int = 0
    directives: list[Directive] = field(default_factory=list)


def _code() -> str:
    """Every module of migcheck (rules included: they decide the findings), by size and
    modification time, so editing a checkout invalidates the results too."""
    global _package_fingerprint
    if _package_fingerprint is None:
        root = Path(__file__).resolve().parent
        h = hashlib.sha1()
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if name.endswith(".py"):
                    try:
                        st = os.stat(os.path.join(folder, name))
                    except OSError:
                        continue
                    rel = os.path.relpath(os.path.join(folder, name), root)
                    h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns};".encode())
        _package_fingerprint = h.hexdigest()
    return _package_fingerprint


def _digest(*parts: object) -> str:
    # Each part's repr followed by a NUL, hashed in one call (821 of them per run).
    text = "".join([f"{part!r}\0" for part in parts])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def chain(
    history: History,
    options: Options,
    rule_ids: list[str],
    deploys: list[int],
    digest: Callable[[Migration], str | None] = cache.key,
) -> list[str]:
    """The key of each migration's emission (see the module docstring). ``digest`` gives
    a migration's own key (its path and text, or rendered chunks, hashed once: the parse
    is stored under it too)."""
    settings = sorted((str(k), repr(v)) for k, v in history.settings.items())
    key = _digest(
        _FORMAT,
        __version__,
        cache.parser_version(),
        _code(),
        options.pg_version,
        rule_ids,
        sorted(options.severity.items()),
        options.assume_in_transaction,
        options.changeset,
        options.prisma_version,
        options.rule_options,
        history.root,
        history.tool,
        settings,
    )
    out = []
    for m, deploy in zip(history.migrations, deploys, strict=True):
        body = digest(m)
        if body is None:  # no cache: never stored, but still a faithful key
            body = _digest(m.text if m.chunks is None else m.chunks)
        notes = sorted((str(k), repr(v)) for k, v in m.notes.items())
        key = _digest(
            key, m.path, m.key, m.tool, m.runner_transaction, m.selected, deploy, notes, body
        )
        out.append(key)
    return out


class Pack:
    """One history's cache file, read once; ``save`` writes what this run used.

    Entries are kept as the bytes read and decoded one by one when asked for, so a run
    pays for the entries it uses, and writing the file back re-encodes only new ones."""

    def __init__(
        self,
        path: Path,
        results: dict[str, bytes],
        parsed: dict[str, bytes],
        states: dict[str, bytes] | None = None,
    ) -> None:
        self.path = path
        self._results = results
        self._parsed = parsed
        self._states = states if states is not None else {}
        self._out_results: dict[str, bytes] = {}
        self._out_parsed: dict[str, bytes] = {}
        self._out_states: dict[str, bytes] = {}
        self._keys: dict[int, str | None] = {}
        self.dirty = False

    def key(self, migration: Migration) -> str | None:
        """``cache.key`` of a migration, hashed once per run (the chain, the parse lookup
        and storing it all need it)."""
        k = self._keys.get(id(migration), "")
        if k == "":
            k = self._keys[id(migration)] = cache.key(migration)
        return k

    def emitted(self, key: str) -> Emitted | None:
        raw = self._results.get(key)
        if raw == _NOTHING:  # a file only replayed (most of a pre-commit run's history)
            return Emitted()
        value: Emitted | None = _decode(raw, Emitted) if raw is not None else None
        if value is None and raw is not None:
            del self._results[key]  # damaged: a miss, written again
        return value

    def record(self, key: str, emitted: Emitted) -> None:
        """What linting a migration emitted (a miss); kept if it can be stored exactly."""
        raw = _encode(emitted, Emitted)
        if raw is not None:
            self._out_results[key] = raw
            self.dirty = True

    def keep(self, key: str) -> None:
        self._out_results[key] = self._results[key]

    def has_state(self, key: str) -> bool:
        return key in self._states

    def state(self, key: str) -> snapshot.State | None:
        """The schema state stored under ``key`` (kept for the next run), or None."""
        raw = self._states.get(key)
        value: snapshot.State | None = _decode(raw, snapshot.State) if raw is not None else None
        if value is None:
            self._states.pop(key, None)  # damaged: a miss
            return None
        self._out_states[key] = self._states[key]
        return value

    def record_state(self, key: str, state: snapshot.State) -> None:
        """The schema state after the migration of ``key``, if it can be stored exactly."""
        if key in self._states:
            self._out_states[key] = self._states[key]
            return
        raw = _encode(state, snapshot.State)
        if raw is not None:
            self._out_states[key] = raw
            self.dirty = True

    def missing(self, migrations: list[Migration]) -> list[Migration]:
        """The migrations whose parse this file does not hold."""
        return [m for m in migrations if self.key(m) not in self._parsed]

    def add_parsed(self, migration: Migration, loaded: Loaded) -> None:
        """A parse done elsewhere (the process pool), kept for the next run."""
        from migcheck.statements import CACHE_MAX_STATEMENTS, Loaded

        k = self.key(migration)
        # A file of many thousand statements parses as fast as it decodes, and encoding
        # it would take several times its memory: it is not kept.
        if len(loaded.statements) > CACHE_MAX_STATEMENTS:
            return
        raw = _encode(loaded, Loaded) if k is not None else None
        if k is not None and raw is not None:
            self._out_parsed[k] = raw
            self.dirty = True

    def parsed(self, migration: Migration) -> Loaded:
        """The migration's statements: from this file, else parsed (and kept for it)."""
        from migcheck.statements import Loaded, load

        k = self.key(migration)
        raw = self._parsed.get(k) if k is not None else None
        hit: Loaded | None = _decode(raw, Loaded) if raw is not None else None
        if hit is not None and k is not None and raw is not None:
            self._out_parsed[k] = raw
            return hit
        loaded = load(migration, use_cache=False)
        if k is not None:
            self.add_parsed(migration, loaded)
        return loaded

    def save(self, length: int) -> None:
        """Write the entries this run used, plus older ones up to a bound (the other
        mode's emissions, the parses of a warm prefix); nothing when nothing changed."""
        if not self.dirty:
            return
        bound = _KEEP * max(length, 1)
        results = dict(self._out_results)
        for k, raw in self._results.items():
            if len(results) >= bound:
                break
            results.setdefault(k, raw)
        parsed = dict(self._out_parsed)
        for k, raw in self._parsed.items():
            if len(parsed) >= bound:
                break
            parsed.setdefault(k, raw)
        # Oldest first, this run's last: the next run keeps the most recent ones.
        older = [(k, raw) for k, raw in self._states.items() if k not in self._out_states]
        states = dict(older[-_KEEP_STATES:])
        states.update(self._out_states)
        lines = [_HEADER]
        lines.extend(b"r " + k.encode() + b" " + raw for k, raw in results.items())
        lines.extend(b"p " + k.encode() + b" " + raw for k, raw in parsed.items())
        lines.extend(b"s " + k.encode() + b" " + raw for k, raw in states.items())
        cache.write_file(self.path, b"\n".join(lines) + b"\n")


def open_pack(history: History) -> Pack | None:
    """The cache file of ``history`` (an empty one when missing or unreadable), or None
    when caching is off or the directory may not be used."""
    folder = cache.folder()
    if folder is None:
        return None
    path = folder / "histories" / _digest(_FORMAT, history.root, history.tool)[:40]
    data = cache.read_file(path)
    results: dict[str, bytes] = {}
    parsed: dict[str, bytes] = {}
    states: dict[str, bytes] = {}
    if data and data.startswith(_HEADER + b"\n"):
        for line in data.split(b"\n")[1:]:
            kind, _, rest = line.partition(b" ")
            key, _, raw = rest.partition(b" ")
            if len(key) != 64 or not raw:
                continue
            if kind == b"r":
                results[key.decode("ascii", "replace")] = raw
            elif kind == b"p":
                parsed[key.decode("ascii", "replace")] = raw
            elif kind == b"s":
                states[key.decode("ascii", "replace")] = raw
    return Pack(path, results, parsed, states)


def _encode(value: Any, tp: Any) -> bytes | None:
    try:
        raw: bytes = cache.codec(tp).encode(value)
    except (TypeError, ValueError):  # not storable exactly: recomputed next time
        return None
    return raw if b"\n" not in raw else None


def _decode(data: bytes, tp: Any) -> Any:
    """An entry of the file, or None when it is not well-formed (a miss, never an error)."""
    if not data:
        return None
    try:
        return cache.codec(tp).decode(data)
    except Exception:
        return None
