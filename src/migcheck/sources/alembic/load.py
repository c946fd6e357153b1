"""``load_alembic``: from a path to ordered ``History`` objects with rendered chunks.

Each revision file is looked up in the project's render cache (``rendercache``) by its
bytes first; only the revisions it does not hold are parsed and rendered, and then stored.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from migcheck.model import InputError
from migcheck.sources import History, Migration
from migcheck.sources.reading import DEFAULT_MAX_BYTES, boundary_for, read_bytes_in_tree

from . import rendercache
from .discover import Project, env_settings, find_projects, revision_paths
from .graph import Graph, build_graph
from .notes import BOTH_BRANCHES, EXISTING_COLUMNS, AlembicNote
from .positions import display_path
from .recorder import Recorder
from .render import Rendered, render_revision
from .revfile import RevisionFile, read_revision_file

_MISSING_EXTRA = (
    "Alembic/SQLAlchemy are not installed (pip install 'migcheck[alembic]'); op calls are "
    "read from their literal arguments only"
)


class _RecorderFactory:
    """Creates the (heavy) Alembic recorder on first use, once per load."""

    def __init__(self) -> None:
        self._recorder: Recorder | None = None
        self._failed: str | None = None

    def get(self) -> tuple[Recorder | None, str | None]:
        if self._recorder is None and self._failed is None:
            try:
                self._recorder = Recorder()
            except ImportError as exc:
                self._failed = f"{_MISSING_EXTRA} ({exc})"
        return self._recorder, self._failed

    @property
    def complete(self) -> bool:
        """Whether renderings use Alembic itself. Literal-only renderings (Alembic not
        importable) are not cached: they would outlive installing it."""
        return self._recorder is not None


def _match_selection(
    entry: str, revs: list[RevisionFile], labels: dict[str, RevisionFile]
) -> RevisionFile | None:
    for rev in revs:
        if rev.revision == entry:
            return rev
    if entry in labels:
        return labels[entry]
    path = Path(entry)
    if path.suffix == ".py" and path.exists():
        # The path as the project lists it (the pre-commit case) is found without
        # resolving every revision's path; a link or another spelling is resolved.
        absolute = os.path.abspath(path)
        for rev in revs:
            if os.path.abspath(rev.path) == absolute:
                return rev
        try:
            target: Path | None = path.resolve()
        except OSError:
            target = None
        for rev in revs if target is not None else ():
            try:
                if rev.path.resolve() == target:
                    return rev
            except OSError:
                continue
    prefixed = [rev for rev in revs if rev.revision.startswith(entry)]
    return prefixed[0] if len(prefixed) == 1 else None


def _down_note(rev: RevisionFile) -> object:
    down = rev.down_revision
    return list(down) if isinstance(down, tuple) else down


def _migration(rev: RevisionFile, key: str, selected: bool, direction: str) -> Migration:
    notes: dict[str, object] = {"revision": rev.revision, "down_revision": _down_note(rev)}
    if rev.branch_labels:
        notes["branch_labels"] = list(rev.branch_labels)
    if rev.depends_on:
        notes["depends_on"] = list(rev.depends_on)
    if rev.message:
        notes["message"] = rev.message
    if direction == "downgrade":
        notes["direction"] = "downgrade"
    return Migration(
        path=rev.display,
        key=key,
        tool="alembic",
        runner_transaction=True,
        selected=selected,
        notes=notes,
    )


@dataclass
class _Revisions:
    """The revision files of a project as read, with their cached renderings (by
    identity) and, for the others, the cache key and read errors to store them under."""

    files: list[RevisionFile] = field(default_factory=list)
    cached: dict[int, Rendered] = field(default_factory=dict)
    pending: dict[int, tuple[str, list[InputError]]] = field(default_factory=dict)


def _load_project(
    project: Project,
    selected: Sequence[str] | None,
    matched: set[str],
    import_revisions: bool,
    include_downgrade: bool,
    recorders: _RecorderFactory,
) -> tuple[History, list[InputError], list[AlembicNote]]:
    errors: list[InputError] = []
    notes: list[AlembicNote] = []
    settings, env_notes = env_settings(project)
    functions = ["upgrade", "downgrade"] if include_downgrade else ["upgrade"]
    # --alembic-import runs application code the cache key cannot describe: no cache.
    project_key = None if import_revisions else rendercache.settings_key(settings, functions)
    pack = _open_pack(project) if project_key is not None else rendercache.Pack(None, {})
    revisions = _read_revisions(project, project_key, pack, errors, notes)
    graph: Graph
    graph, graph_errors = build_graph(revisions.files)
    errors.extend(graph_errors)
    notes.extend(env_notes)
    notes.extend(AlembicNote(display_path(path), 1, 1, message) for path, message in project.notes)
    _describe(project, settings)
    chosen = _choose(project, selected, graph, matched)

    history = History(
        root=display_path(project.root), tool="alembic", settings=settings, shape=_shape(graph)
    )
    downgrades: list[Migration] = []
    revision_notes: list[AlembicNote] = []
    sys_path = [*project.sys_path, *([project.script_dir] if project.script_dir else [])]
    for rev in graph.order:
        is_selected = chosen is None or rev.revision in chosen
        upgrade = _migration(rev, rev.revision, is_selected, "upgrade")
        downgrade = _migration(rev, f"{rev.revision}:downgrade", is_selected, "downgrade")
        rendered = revisions.cached.get(id(rev))
        if rev.error is not None or (rev.tree is None and rendered is None):
            upgrade.notes["error"] = rev.error.message if rev.error else "unreadable"
            downgrade.notes["error"] = upgrade.notes["error"]
        else:
            if rendered is None:
                rendered, complete = _render(
                    rev, functions, recorders, notes, import_revisions, sys_path
                )
                if id(rev) in revisions.pending and complete:
                    store_key, errs = revisions.pending[id(rev)]
                    pack.put(store_key, rendercache.pack(rev, errs, rendered))
            revision_notes.extend(rendered.notes)
            _attach(rendered, upgrade, downgrade)
        history.migrations.append(upgrade)
        downgrades.append(downgrade)
    if include_downgrade:
        history.migrations.extend(reversed(downgrades))
    notes.extend(merge_repeated(revision_notes))
    pack.save(len(revisions.files))
    return history, errors, notes


def _open_pack(project: Project) -> rendercache.Pack:
    """The project's render cache, found by where its revisions are: neither the working
    directory nor how the project was found (its ini, its script directory) matters."""
    return rendercache.open_pack("\0".join(os.path.abspath(d) for d in project.version_dirs))


def merge_repeated(notes: list[AlembicNote]) -> list[AlembicNote]:
    """One note for an undecided ``if`` that several revisions share word for word (the
    same unknown helper in a guard at the top of every ``upgrade()``, as in ckan): it is
    one uncertainty of the project, read the same way in each, with both branches
    checked. It stays on the newest of them (the notes come in history order), the one a
    pull request most likely adds, and says how many others share it. Notes that say
    something went unchecked stay on every file they concern."""
    files: dict[str, list[str]] = {}
    for n in notes:
        if not n.message.endswith(BOTH_BRANCHES):
            continue
        paths = files.setdefault(n.message, [])
        if n.path not in paths:
            paths.append(n.path)
    out = []
    for n in notes:
        paths = files.get(n.message, [n.path])
        if len(paths) == 1:
            out.append(n)
        elif n.path == paths[-1]:
            others = len(paths) - 1
            word = "revision" if others == 1 else "revisions"
            out.append(
                replace(
                    n,
                    message=f"{n.message} (the same in {others} earlier {word} of this "
                    f"project, from {Path(paths[0]).name}; reported once, here)",
                )
            )
    return out


def _read_revisions(
    project: Project,
    project_key: str | None,
    pack: rendercache.Pack,
    errors: list[InputError],
    notes: list[AlembicNote],
) -> _Revisions:
    out = _Revisions()
    folders = _Folders()
    for path in revision_paths(project):
        rev, errs, rendered, store_key = _read(path, project_key, pack, folders)
        errors.extend(errs)
        if rev is not None:
            out.files.append(rev)
            if rendered is not None:
                out.cached[id(rev)] = rendered
            elif store_key is not None:
                out.pending[id(rev)] = (store_key, errs)
        elif not errs:
            notes.append(
                AlembicNote(
                    display_path(path), 1, 1, "no `revision` variable: not a revision, skipped"
                )
            )
    return out


def _describe(project: Project, settings: dict[str, object]) -> None:
    """Add where the project lives to its settings."""
    settings.update(
        {
            "script_location": display_path(project.script_dir) if project.script_dir else None,
            "version_locations": [display_path(d) for d in project.version_dirs],
        }
    )
    if project.config_path is not None:
        settings["config"] = display_path(project.config_path)


def _shape(graph: Graph) -> dict[str, object]:
    """The graph's heads, bases, merges and branch points (``History.shape``: adding a
    revision moves the head, which must not change the cache key of those before it)."""
    return {
        "heads": graph.heads,
        "bases": graph.bases,
        "merges": graph.merges,
        "branch_points": graph.branch_points,
    }


def _choose(
    project: Project, selected: Sequence[str] | None, graph: Graph, matched: set[str]
) -> set[str] | None:
    """The revision ids named on the command line or by the project's files (None: all);
    the command-line entries that named one are added to ``matched``."""
    if selected is None and not project.only_files:
        return None
    chosen: set[str] = set()
    labels = {label: rev for rev in graph.order for label in rev.branch_labels}
    for entry in selected or ():
        hit = _match_selection(entry, graph.order, labels)
        if hit is not None:
            chosen.add(hit.revision)
            matched.add(entry)
    for only in project.only_files:
        hit = _match_selection(str(only), graph.order, {})
        if hit is not None:
            chosen.add(hit.revision)
    return chosen


def _attach(rendered: Rendered, upgrade: Migration, downgrade: Migration) -> None:
    upgrade.chunks = rendered.chunks.get("upgrade", [])
    downgrade.chunks = rendered.chunks.get("downgrade", [])
    # Rules read a column's prior type and nullability from here when the replayed
    # history never showed the column (see migcheck.rules._alembic).
    for migration, function in ((upgrade, "upgrade"), (downgrade, "downgrade")):
        if function in rendered.facts:
            migration.notes[EXISTING_COLUMNS] = rendered.facts[function]


class _Folders:
    """Per directory of revision files, what is the same for every file in it: its tree
    boundary and how it is shown. Found once per directory, not once per file (walking
    up to the repository root and building display paths was most of a cached read)."""

    def __init__(self) -> None:
        self._boundaries: dict[str, str] = {}
        self._shown: dict[Path, str] = {}

    def boundary(self, path: Path) -> str:
        directory = os.path.dirname(os.path.abspath(path))
        found = self._boundaries.get(directory)
        if found is None:
            found = self._boundaries[directory] = boundary_for(directory)
        return found

    def shown(self, path: Path) -> str:
        """``display_path(path)``, from its directory's."""
        folder = self._shown.get(path.parent)
        if folder is None:
            folder = self._shown[path.parent] = display_path(path.parent)
        return path.name if folder == "." else posixpath.join(folder, path.name)


def _read(
    path: Path, project_key: str | None, pack: rendercache.Pack, folders: _Folders
) -> tuple[RevisionFile | None, list[InputError], Rendered | None, str | None]:
    """Read one revision file, from the render cache when its bytes are known:
    (revision, errors, its rendering if cached, the key to store its rendering under)."""
    if project_key is None:
        return (*read_revision_file(path), None, None)
    boundary = folders.boundary(path)
    data = read_bytes_in_tree(str(path), max_bytes=DEFAULT_MAX_BYTES, boundary=boundary)
    if isinstance(data, InputError):  # reported by read_revision_file, which tries again
        return (*read_revision_file(path), None, None)
    key = rendercache.key(data, project_key)
    hit = pack.get(key, path, folders.shown(path))
    if hit is not None:
        return (*hit, None)
    rev, errs = read_revision_file(path, data)
    if key is not None and (rev is None or rev.error is not None or rev.tree is None):
        # Nothing to render: the reading is the whole result.
        pack.put(key, rendercache.pack(rev, errs, None))
        return rev, errs, None, None
    return rev, errs, None, key


def render_pure(rev: RevisionFile, functions: list[str]) -> Rendered | None:
    # Imported on first use: a run whose revisions all come from the cache renders none.
    from .purerender import render_pure

    return render_pure(rev, functions)


def _render(
    rev: RevisionFile,
    functions: list[str],
    recorders: _RecorderFactory,
    notes: list[AlembicNote],
    import_revisions: bool,
    sys_path: list[Path],
) -> tuple[Rendered, bool]:
    """The revision's rendering, and whether it is complete enough to cache."""
    if not import_revisions:
        # A plain revision is rendered without importing Alembic and SQLAlchemy (half a
        # second of a pre-commit run); its result equals Alembic's, so it is cached too.
        pure = render_pure(rev, functions)
        if pure is not None:
            return pure, True
    recorder, missing = recorders.get()
    if missing is not None and not any(n.message == missing for n in notes):
        notes.append(AlembicNote(rev.display, 1, 1, missing))
    rendered = render_revision(
        rev, functions, recorder, import_revisions=import_revisions, sys_path=sys_path
    )
    return rendered, recorders.complete


def load_alembic(
    path: str,
    *,
    selected: Sequence[str] | None = None,
    import_revisions: bool = False,
    include_downgrade: bool = False,
) -> tuple[list[History], list[InputError], list[AlembicNote]]:
    """Load every Alembic project ``path`` names.

    One ``History`` per project, one ``Migration`` per revision in upgrade order (then,
    with ``include_downgrade``, one per revision's ``downgrade()`` in reverse order, key
    ``<rev>:downgrade``), each with ``chunks`` set; ``chunks`` stays None for a revision
    that could not be parsed (its ``InputError`` says why). ``selected`` names revisions
    (ids, unique id prefixes, branch labels or file paths) to mark selected; by default
    all are, except when ``path`` is a single revision file.
    """
    projects, errors = find_projects(path)
    notes: list[AlembicNote] = []
    histories: list[History] = []
    matched: set[str] = set()
    recorders = _RecorderFactory()
    for project in projects:
        history, errs, nts = _load_project(
            project, selected, matched, import_revisions, include_downgrade, recorders
        )
        histories.append(history)
        errors.extend(errs)
        notes.extend(nts)
    for entry in selected or ():
        if entry not in matched and projects:
            errors.append(InputError(path, f"no Alembic revision `{entry}` in this project"))
    return histories, errors, notes
