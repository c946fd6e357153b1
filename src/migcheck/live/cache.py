"""Template databases holding the base schema, reused across runs.

Replaying hundreds of base migrations takes far longer than copying a database, so the
replayed base is kept as a template and each run clones it (``CREATE DATABASE work
TEMPLATE tmpl``). A template is keyed by a hash chain over the base migrations (each
migration's statements and how its runner sends them) seeded with the server version,
so the key of every prefix of the history is known: when the base grew by a few
migrations since the last run, the longest cached prefix is cloned and only the new
migrations are replayed.

On our own cluster the templates live in its persistent data directory and an index
(``templates.json`` beside it) records them with their last use; the least recently
used beyond ``MIGCHECK_CACHE_TEMPLATES`` (default 8) are dropped. On a DSN server the
templates are scratch databases like the others and are dropped at the end of the run.

The index is read strictly: an entry is used only when its key is a SHA-256 hex digest,
its database is the name this key's template gets (so an edited index cannot point a
key at another database) and its counters are numbers; anything else is left out, and an
unreadable index is an empty one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from migcheck.live.execute import AllowedExtensions, apply_all
from migcheck.live.plan import MigrationPlan, content_fingerprint
from migcheck.live.results import MigrationFailure, TemplateInfo
from migcheck.live.server import Server

# Bump when what a template holds changes (replay semantics, settings, owners).
CACHE_FORMAT = 2
_INDEX = "templates.json"
_KEY = re.compile(r"[0-9a-f]{64}")


@dataclass
class Template:
    db: str | None  # None when the base could not be replayed
    info: TemplateInfo
    failure: MigrationFailure | None = None


def prefix_keys(
    plans: list[MigrationPlan], version_num: int, extensions: frozenset[str] = frozenset()
) -> list[str]:
    """``keys[n]`` identifies the schema built by the first ``n`` migrations (with the
    extensions migcheck was allowed to create for them)."""
    seed = f"migcheck-live:{CACHE_FORMAT}:{version_num}:{','.join(sorted(extensions))}"
    digest = hashlib.sha256(seed.encode()).hexdigest()
    keys = [digest]
    for plan in plans:
        step = hashlib.sha256(content_fingerprint(plan).encode()).hexdigest()
        digest = hashlib.sha256(f"{digest}:{step}".encode()).hexdigest()
        keys.append(digest)
    return keys


class TemplateCache:
    def __init__(
        self,
        server: Server,
        *,
        max_templates: int | None = None,
        extensions: AllowedExtensions | None = None,
    ) -> None:
        self.server = server
        self.extensions = extensions
        self.max_templates = max_templates or _env_int("MIGCHECK_CACHE_TEMPLATES", 8)
        self._path = server.state_dir / _INDEX if server.state_dir is not None else None
        self.entries: dict[str, dict[str, Any]] = self._load()
        if self._path is not None:
            self._reconcile()

    # -- the index -------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, Any]]:
        if self._path is None:
            return {}
        try:
            data = json.loads(self._path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return {}
        if not isinstance(data, dict) or type(data.get("format")) is not int:
            return {}
        entries = data.get("templates")
        if data["format"] != CACHE_FORMAT or not isinstance(entries, dict):
            return {}
        prefix = self.server.name_prefix
        return {
            key: {name: entry[name] for name in ("db", "migrations", "created", "last_used")}
            for key, entry in entries.items()
            if _valid_entry(key, entry, prefix)
        }

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"format": CACHE_FORMAT, "templates": self.entries}, indent=1))
        os.replace(tmp, self._path)

    def _reconcile(self) -> None:
        """Make the index and the cluster agree; drop what a killed run left behind."""
        present = set(self.server.databases())
        self.entries = {k: v for k, v in self.entries.items() if v["db"] in present}
        known = {v["db"] for v in self.entries.values()}
        for name in present - known:
            # Work and build databases of an interrupted run, templates we lost track of.
            with contextlib.suppress(Exception):
                self.server.drop_database(name)
        self._save()

    # -- templates -------------------------------------------------------------------
    def obtain(
        self, plans: list[MigrationPlan], *, progress: Callable[[str], None] | None = None
    ) -> Template:
        """A template with the schema ``plans`` build, from the cache or replayed."""
        started = time.perf_counter()
        allowed = self.extensions.names if self.extensions is not None else frozenset()
        keys = prefix_keys(plans, self.server.info.version_num, allowed)
        hit = next((n for n in range(len(plans), 0, -1) if keys[n] in self.entries), 0)
        if hit == len(plans) and hit:
            entry = self.entries[keys[hit]]
            entry["last_used"] = time.time()
            self._save()
            info = TemplateInfo(keys[hit], hit, True, 0, time.perf_counter() - started)
            return Template(entry["db"], info)
        source = self.entries[keys[hit]]["db"] if hit else None
        build = self.server.new_name("build")
        self.server.create_database(build, template=source)
        conn = self.server.connect_runner(build)
        try:
            failure = apply_all(
                conn,
                plans[hit:],
                statement_timeout_ms=self.server.statement_timeout_ms,
                in_base=True,
                progress=progress,
                extensions=self.extensions,
            )
        finally:
            conn.close()
        info = TemplateInfo(keys[-1], len(plans), False, len(plans) - hit, 0.0)
        if failure is not None:
            self.server.drop_database(build)
            info.seconds = time.perf_counter() - started
            return Template(None, info, failure)
        name = template_name(self.server.name_prefix, keys[-1])
        self.server.rename_database(build, name)
        self.server.seal_template(name)
        self.entries[keys[-1]] = {
            "db": name,
            "migrations": len(plans),
            "created": time.time(),
            "last_used": time.time(),
        }
        if self._path is not None:
            # Only a persistent cluster keeps templates past the run.
            self.server.keep(name)
            self._evict(keep=keys[-1])
            self._save()
        info.seconds = time.perf_counter() - started
        return Template(name, info)

    # -- derived templates (the rehearsal's seeded databases) -------------------------
    def lookup(self, key: str) -> str | None:
        """The cached template database of ``key`` (any SHA-256 hex key), or None."""
        entry = self.entries.get(key)
        if entry is None:
            return None
        entry["last_used"] = time.time()
        self._save()
        return str(entry["db"])

    def adopt(self, key: str, build: str, migrations: int) -> str:
        """Turn the scratch database ``build`` into the cached template of ``key``, as
        ``obtain`` does with a replayed base; returns its name."""
        name = template_name(self.server.name_prefix, key)
        self.server.rename_database(build, name)
        self.server.seal_template(name)
        self.entries[key] = {
            "db": name,
            "migrations": migrations,
            "created": time.time(),
            "last_used": time.time(),
        }
        if self._path is not None:
            self.server.keep(name)
            self._evict(keep=key)
            self._save()
        return name

    def _evict(self, keep: str) -> None:
        ordered = sorted(self.entries.items(), key=lambda kv: kv[1].get("last_used", 0))
        excess = len(ordered) - self.max_templates
        for key, entry in ordered:
            if excess <= 0:
                break
            if key == keep:
                continue
            with contextlib.suppress(Exception):
                self.server.drop_database(entry["db"])
            del self.entries[key]
            excess -= 1


def _valid_entry(key: object, entry: object, prefix: str) -> bool:
    """Whether one index entry has exactly the shape ``obtain`` writes."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None or not isinstance(entry, dict):
        return False
    numbers = [entry.get(name) for name in ("created", "last_used")]
    return (
        entry.get("db") == template_name(prefix, key)
        and type(entry.get("migrations")) is int
        and entry["migrations"] >= 0
        and all(type(n) in (int, float) for n in numbers)
    )


def template_name(prefix: str, key: str) -> str:
    """The database that holds the template of ``key``."""
    return f"{prefix}tmpl_{key[:20]}"


def _env_int(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default
