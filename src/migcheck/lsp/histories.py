"""The language server's memory: each open file's history, parsed once, and the walk
stopped before each open file, so a keystroke re-lints one file against the schema
before it.

Per history it keeps every migration's parsed statements (``loaded``) and a
``engine.Replay`` stopped before each open file (``checkpoints``). An edit parses the
edited buffer only, forks the checkpoint before it and judges that one migration: no
file before it is parsed or replayed again.

What an edit invalidates is bounded: when the edited file's operations (what the schema
replay sees, compared as a fingerprint) are unchanged, e.g. a comment or a blank line,
nothing after it changes. When they change, the checkpoints after it are dropped and
only the *open* files after it are re-linted (``later_open``): each is replayed from the
edited file's checkpoint with statements already in memory (no parse, no disk). Files
that are not open have no diagnostics to refresh.

The same settings as ``migcheck check``: the config file found from the document, rule
selection, per-file ignores, suppression comments. The same boundaries: a document
outside the workspace roots is not read, discovery reads inside the tree only, Alembic
revisions are read statically (never imported: the server never runs project code).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migcheck.model import Finding, InputError, Options, Statement

if TYPE_CHECKING:
    from migcheck.config import Config
    from migcheck.engine import Replay
    from migcheck.sources import History, Migration
    from migcheck.statements import Loaded

# Plain SQL outside a recognised layout is a migration only inside such a folder; any
# other .sql file (a query, a seed) gets no diagnostics.
MIGRATION_DIRS = frozenset({"migrations", "migration", "migrate", "schema_migrations"})


@dataclass
class Linted:
    """One document's result: its findings, and the statements code actions rewrite."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    # True for SQL text (Prisma, plain SQL): code actions edit it; an Alembic revision's
    # statements point into Python.
    sql: bool = True
    tool: str = ""


@dataclass
class OpenHistory:
    """One discovered history with its parsed files and saved walks."""

    history: History
    options: Options
    config: Config | None
    by_path: dict[str, int]
    loaded: dict[int, Loaded] = field(default_factory=dict)
    checkpoints: dict[int, Replay] = field(default_factory=dict)
    # The files whose last edit changed their operations: later files see a new schema.
    moved: set[int] = field(default_factory=set)
    # The Alembic reader's notes on each revision's buffer (alembic-not-evaluated).
    notes: dict[int, list[Finding]] = field(default_factory=dict)
    # Alembic's recorder (imports Alembic), made once per history, on first use.
    recorder: object = None

    def load(self, migration: Migration) -> Loaded:
        """The loader the replays use: statements kept in memory, else the parse cache."""
        from migcheck.statements import load

        loaded = self.loaded.get(id(migration))
        if loaded is None:
            loaded = self.loaded[id(migration)] = load(migration)
        return loaded


def real(path: str) -> str:
    return os.path.realpath(path)


def inside(path: str, roots: list[str]) -> bool:
    """``path`` (resolved) lies under one of ``roots`` (resolved)."""
    for root in roots:
        try:
            if os.path.commonpath([path, root]) == root:
                return True
        except ValueError:  # another drive on Windows
            continue
    return False


class Workspace:
    """Every history the editor's open files belong to, by resolved file path."""

    def __init__(self, roots: list[str]) -> None:
        self.roots = [real(r) for r in roots] or [real(os.getcwd())]
        self._histories: dict[str, OpenHistory] = {}  # resolved path -> its history
        self._open: set[str] = set()

    def close(self, path: str) -> None:
        """The editor closed ``path``: drop its saved walk, and its history once none of
        its files is open (memory stays bounded by what the editor shows)."""
        resolved = real(path)
        self._open.discard(resolved)
        opened = self._histories.get(resolved)
        if opened is None:
            return
        index = opened.by_path[resolved]
        if index:
            opened.checkpoints.pop(index, None)
        if not any(p in self._open for p in opened.by_path):
            self.forget(resolved)

    def forget(self, path: str) -> None:
        """Drop the history ``path`` belongs to (a saved file may rename or reorder it):
        the next lint discovers it again."""
        found = self._histories.get(real(path))
        if found is None:
            return
        for key in [k for k, v in self._histories.items() if v is found]:
            del self._histories[key]

    def lint(self, path: str, text: str) -> Linted | None:
        """Lint the buffer ``text`` of ``path`` against the schema before it; None when
        the file is no migration (or lies outside the workspace)."""
        resolved = real(path)
        if not inside(resolved, self.roots):
            return None
        self._open.add(resolved)
        opened = self._histories.get(resolved)
        if opened is None:
            found = self._discover(path, resolved)
            if isinstance(found, Linted) or found is None:
                return found
            opened = found
        index = opened.by_path[resolved]
        changed = self._set_text(opened, index, text)
        if isinstance(changed, Linted):
            return changed
        if changed:
            for later in [i for i in opened.checkpoints if i > index]:
                del opened.checkpoints[later]
        return self._judge(opened, index, resolved)

    def later_open(self, path: str) -> list[str]:
        """The open files after ``path`` in its history, whose schema its last edit may
        have changed (empty when the edit left its operations as they were)."""
        resolved = real(path)
        opened = self._histories.get(resolved)
        if opened is None or opened.by_path[resolved] not in opened.moved:
            return []
        index = opened.by_path[resolved]
        opened.moved.discard(index)
        return sorted(
            (p for p, i in opened.by_path.items() if i > index and p in self._open),
            key=lambda p: opened.by_path[p],
        )

    # -- discovery ---------------------------------------------------------------------

    def _discover(self, path: str, resolved: str) -> OpenHistory | Linted | None:
        from migcheck.config import ConfigError, load_config, locate_config, merge
        from migcheck.errors import UserError
        from migcheck.runner import DEFAULT_PG_VERSION, RunRequest, collect, parse_prisma_version
        from migcheck.selection import select_rules

        try:
            found, _notes = locate_config([path], None)
            config = load_config(found) if found is not None else None
            settings = merge(config, {})
            rules = select_rules(settings.select, settings.extend_select, settings.ignore)
            prisma_version = parse_prisma_version(settings.prisma_version)
        except (ConfigError, UserError, ValueError) as err:
            return Linted(path, errors=[InputError(path, f"config: {err}")])
        collected = collect(RunRequest(paths=[path], settings=settings, config=config))
        history = next((h for h in collected.histories for m in h.migrations if m.selected), None)
        if history is None:
            errors = [e for e in collected.errors if real(e.path) == resolved]
            return Linted(path, errors=errors) if errors else None
        if history.tool == "sql" and not _in_migrations_dir(resolved):
            return None
        options = Options(
            pg_version=settings.pg_version or DEFAULT_PG_VERSION,
            rules=rules,
            assume_in_transaction=settings.assume_in_transaction,
            # Each migration is its own deploy, as when `check` names one file.
            changeset=False,
            prisma_version=prisma_version,
            severity=dict(settings.severity),
            rule_options=settings.rule_options,
        )
        by_path: dict[str, int] = {}
        for i, m in enumerate(history.migrations):
            m.selected = False
            if m.notes.get("direction") != "downgrade":
                by_path.setdefault(real(m.path), i)
        if resolved not in by_path:
            return None
        opened = OpenHistory(history, options, config, by_path)
        for p in by_path:
            self._histories[p] = opened
        return opened

    # -- one edit ------------------------------------------------------------------------

    def _set_text(self, opened: OpenHistory, index: int, text: str) -> bool | Linted:
        """Put the buffer into the history; True when what the schema sees changed."""
        from migcheck.statements import parse

        migration = opened.history.migrations[index]
        if migration.tool == "alembic":
            rendered = _render_alembic(opened, migration, text)
            if isinstance(rendered, Linted):
                return rendered
            opened.notes[index] = rendered
        elif migration.text == text and id(migration) in opened.loaded:
            return False
        else:
            migration.text = text
        loaded = parse(migration)
        old = opened.loaded.get(id(migration))
        opened.loaded[id(migration)] = loaded
        changed = old is not None and _fingerprint(old) != _fingerprint(loaded)
        if changed:
            opened.moved.add(index)
        return changed

    def _judge(self, opened: OpenHistory, index: int, resolved: str) -> Linted:
        from migcheck.config import per_file_ignored
        from migcheck.engine import Replay
        from migcheck.postlint import settle

        start = max((i for i in opened.checkpoints if i <= index), default=None)
        if start is None:
            walk = Replay(opened.history, opened.options, opened.load)
            opened.checkpoints[0] = walk
        else:
            walk = opened.checkpoints[start]
        if walk.position < index:
            walk = walk.fork()
            while walk.position < index:
                walk.step()
            opened.checkpoints[index] = walk
        judge = walk.fork()
        migration = opened.history.migrations[index]
        migration.selected = True
        try:
            judge.step()
        finally:
            migration.selected = False
        config = opened.config
        result = settle(
            judge.walked,
            opened.options,
            opened.notes.get(index, []),
            ignored=None if config is None else lambda p: per_file_ignored(config, p),
        )
        loaded = opened.loaded[id(migration)]
        return Linted(
            migration.path,
            findings=[f for f in result.findings if real(f.path) == resolved],
            statements=loaded.statements,
            errors=result.errors,
            sql=migration.chunks is None,
            tool=opened.history.tool,
        )


def _fingerprint(loaded: Loaded) -> str:
    """What later files see of a migration: its operations, not its text or positions."""
    return repr([s.ops for s in loaded.statements])


def _in_migrations_dir(resolved: str) -> bool:
    return any(part.lower() in MIGRATION_DIRS for part in Path(resolved).parent.parts)


def _render_alembic(opened: OpenHistory, migration: Migration, text: str) -> Linted | list[Finding]:
    """Render an Alembic revision's buffer statically (never imported: that would run
    the buffer's code) into ``migration.chunks``."""
    from migcheck.sources.alembic.load import _attach, _RecorderFactory
    from migcheck.sources.alembic.render import render_revision
    from migcheck.sources.alembic.revfile import read_revision_file

    rev, errors = read_revision_file(Path(migration.path), text.encode("utf-8"))
    if rev is None or rev.tree is None:
        return Linted(migration.path, errors=errors, sql=False)
    if opened.recorder is None:
        opened.recorder = _RecorderFactory()
    assert isinstance(opened.recorder, _RecorderFactory)
    recorder, _missing = opened.recorder.get()
    rendered = render_revision(rev, ["upgrade"], recorder)
    from migcheck.sources import Migration as _Migration

    downgrade = _Migration(migration.path, migration.key, "alembic")
    _attach(rendered, migration, downgrade)
    from migcheck.model import Span
    from migcheck.rules import meta_finding

    return [
        meta_finding(
            "alembic-not-evaluated",
            migration.path,
            Span(n.line or 1, n.column or 1, n.line or 1, n.column or 1),
            n.message,
        )
        for n in rendered.notes
    ]
