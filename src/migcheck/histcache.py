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

One file per history holds it all, the emissions and the parsed statements (the parse
of a migration is keyed by its own path and text, ``cache.key``), as two JSON sections
read by the strict ``datacodec``: the statements are decoded only when some migration
must be linted again. The file is replaced atomically; entries no run asked for are
dropped, except emissions of the other mode (audit vs one named file), kept up to a bound.
The directory's trust rules are ``cache``'s.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migcheck import __version__, cache
from migcheck.model import Finding, InputError, Options
from migcheck.suppress import Directive

if TYPE_CHECKING:
    from migcheck.sources import History, Migration
    from migcheck.statements import Loaded

# pack1: a header line ``{"results": n}``, n bytes of emissions, then the parses.
_FORMAT = "pack1"
# Emissions kept beyond the current run's, as a multiple of the history's length.
_KEEP = 3
_package_fingerprint: str | None = None


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
    h = hashlib.sha256()
    for part in parts:
        h.update(repr(part).encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()


def chain(history: History, options: Options, rule_ids: list[str], deploys: list[int]) -> list[str]:
    """The key of each migration's emission (see the module docstring)."""
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
        body = m.text if m.chunks is None else m.chunks
        notes = sorted((str(k), repr(v)) for k, v in m.notes.items())
        key = _digest(
            key, m.path, m.key, m.tool, m.runner_transaction, m.selected, deploy, notes, body
        )
        out.append(key)
    return out


class Pack:
    """One history's cache file, read once; ``save`` writes what this run used."""

    def __init__(self, path: Path, results: dict[str, Emitted], parsed_raw: bytes) -> None:
        self.path = path
        self.results = results
        self._parsed_raw = parsed_raw
        self._parsed: dict[str, Loaded] | None = None
        self.used_results: dict[str, Emitted] = {}
        self.used_parsed: dict[str, Loaded] = {}
        self.dirty = False

    def emitted(self, key: str) -> Emitted | None:
        return self.results.get(key)

    def record(self, key: str, emitted: Emitted) -> None:
        self.used_results[key] = emitted
        if self.results.get(key) != emitted:
            self.dirty = True

    def keep(self, key: str) -> None:
        self.used_results[key] = self.results[key]

    def missing(self, migrations: list[Migration]) -> list[Migration]:
        """The migrations whose parse this file does not hold."""
        self._decode_parsed()
        assert self._parsed is not None
        return [m for m in migrations if cache.key(m) not in self._parsed]

    def add_parsed(self, migration: Migration, loaded: Loaded) -> None:
        k = cache.key(migration)
        if k is not None and self._parsed is not None:
            self._parsed[k] = loaded
            self.dirty = True

    def _decode_parsed(self) -> None:
        from migcheck.statements import Loaded

        if self._parsed is None:
            self._parsed = _decode(self._parsed_raw, dict[str, Loaded]) or {}
            self._parsed_raw = b""

    def parsed(self, migration: Migration) -> Loaded:
        """The migration's statements: from this file, else parsed (and kept for it)."""
        from migcheck.statements import load

        k = cache.key(migration)
        self._decode_parsed()
        assert self._parsed is not None
        hit = self._parsed.get(k) if k is not None else None
        if hit is None:
            hit = load(migration, use_cache=False)
            self.dirty = True
        if k is not None:
            self.used_parsed[k] = hit
        return hit

    def save(self, length: int) -> None:
        """Write the emissions and parses this run used, plus older emissions (the other
        mode's) up to a bound; nothing when nothing changed."""
        if not self.dirty:
            return
        from migcheck.statements import Loaded

        results = dict(self.used_results)
        for k, v in self.results.items():
            if len(results) >= _KEEP * max(length, 1):
                break
            results.setdefault(k, v)
        parsed = self.used_parsed
        if self._parsed is not None:
            # Parses of migrations this run did not reach again (a warm prefix) stay.
            for pk, loaded in self._parsed.items():
                parsed.setdefault(pk, loaded)
        head = cache.codec(dict[str, Emitted]).encode(results)
        try:
            body = cache.codec(dict[str, Loaded]).encode(parsed)
        except (TypeError, ValueError):
            body = b"{}"
        cache.write_file(self.path, b'{"results": %d}\n' % len(head) + head + body)


def open_pack(history: History) -> Pack | None:
    """The cache file of ``history`` (an empty one when missing or unreadable), or None
    when caching is off or the directory may not be used."""
    folder = cache.folder()
    if folder is None:
        return None
    path = folder / "histories" / _digest(_FORMAT, history.root, history.tool)[:40]
    data = cache.read_file(path)
    results: dict[str, Emitted] = {}
    parsed_raw = b""
    if data:
        newline = data.find(b"\n", 0, 40)
        size = _header(data[:newline]) if newline > 0 else -1
        if 0 <= size <= len(data) - newline - 1:
            start = newline + 1
            results = _decode(data[start : start + size], dict[str, Emitted]) or {}
            parsed_raw = data[start + size :]
    return Pack(path, results, parsed_raw)


def _header(line: bytes) -> int:
    """The size of the emissions section the header line gives, or -1."""
    import json

    try:
        head = json.loads(line)
    except ValueError:
        return -1
    size = head.get("results") if type(head) is dict else None
    return size if type(size) is int else -1


def _decode(data: bytes, tp: Any) -> Any:
    """A section of the file, or None when it is not well-formed (a miss, never an error)."""
    if not data:
        return None
    try:
        return cache.codec(tp).decode(data)
    except Exception:
        return None
