"""Finding Alembic projects on disk and the revision files they contain.

A project is found from ``alembic.ini`` (``script_location`` with ``%(here)s`` or the
``package:path`` form, ``version_locations``), from ``[tool.alembic]`` in
``pyproject.toml``, or from a script directory (``env.py`` next to ``versions/``). A
``versions/`` directory or a single revision file is resolved back to its project so the
whole history is replayed; only the named file is then marked selected.

Real projects rarely lint from where Alembic runs, so a configuration is read the way
its own tooling reads it: an ``alembic.ini`` inside a script directory with no
``script_location`` is Flask-Migrate's layout (the directory is the script location); a
relative location is tried against the directories above the ini (Alembic resolves it
against the working directory, usually the repository or application root); an ini
whose ``[alembic]`` section has no location but whose named sections do (``alembic -n
core``) holds one project per section; a location that names nothing found here falls
back to the script directories next to the ini, with a note; and a ``versions/``
directory split into dialect subdirectories (``versions/postgresql``) uses the
PostgreSQL one.

Nothing here imports application code: package locations are found on the filesystem.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from migcheck.model import InputError
from migcheck.sources.reading import read_tree_bytes

from .notes import AlembicNote
from .positions import display_path

# Directories never worth descending into when searching a tree for projects.
_SKIP_DIRS = frozenset(
    {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "site-packages", ".tox"}
)
_SEARCH_DEPTH = 3
# How far up from a script directory we look for the alembic.ini that points at it.
_UP_LEVELS = 3


@dataclass
class Project:
    """One Alembic environment: where its revisions live and how to import them."""

    root: Path
    script_dir: Path | None
    version_dirs: list[Path]
    recursive: bool = False
    config_path: Path | None = None
    # Directories put on sys.path for --alembic-import (prepend_sys_path, project root).
    sys_path: list[Path] = field(default_factory=list)
    # Revision files the user named directly; empty means "the whole project".
    only_files: list[Path] = field(default_factory=list)
    # How the project was found when that was a guess: (file, message), reported as notes.
    notes: list[tuple[Path, str]] = field(default_factory=list)

    @property
    def env_path(self) -> Path | None:
        if self.script_dir is None:
            return None
        env = self.script_dir / "env.py"
        return env if env.is_file() else None


def _has_tool_alembic(pyproject: Path) -> bool:
    try:
        text = read_tree_bytes(pyproject).decode("utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"^\s*\[tool\.alembic\]", text, re.MULTILINE) is not None


def _is_script_dir(path: Path) -> bool:
    return (path / "env.py").is_file() and (path / "versions").is_dir()


def _is_dialect_versions_dir(path: Path) -> bool:
    """``versions/postgresql`` of a script directory: revisions split by dialect."""
    return path.parent.name == "versions" and (path.parent.parent / "env.py").is_file()


def is_alembic_path(path: str) -> bool:
    """Cheap check (a few ``stat`` calls) whether ``path`` is, or is inside, an Alembic
    project: ``alembic.ini``, a script directory, a ``versions/`` directory next to an
    ``env.py``, or a ``.py`` revision file inside one."""
    p = Path(path)
    if p.is_file():
        if p.name == "alembic.ini":
            return True
        if p.name == "pyproject.toml":
            return _has_tool_alembic(p)
        if p.suffix != ".py":
            return False
        if p.name == "env.py":
            return (p.parent / "versions").is_dir()
        return (
            (p.parent.parent / "env.py").is_file()
            or (p.parent.name == "versions" and (p.parent.parent / "alembic.ini").is_file())
            or _is_dialect_versions_dir(p.parent)
        )
    if p.is_dir():
        if (p / "alembic.ini").is_file() or _is_script_dir(p):
            return True
        if (p.parent / "env.py").is_file() and p.name == "versions":
            return True
        if _is_dialect_versions_dir(p):
            return True
        pyproject = p / "pyproject.toml"
        return pyproject.is_file() and _has_tool_alembic(pyproject)
    return False


# --- configuration -----------------------------------------------------------------


def _split_locations(value: str, separator: str | None) -> list[str]:
    """Split ``version_locations``/``prepend_sys_path`` the way Alembic does."""
    seps = {"space": " ", "newline": "\n", "colon": ":", "semicolon": ";", "os": None}
    if separator is None:
        parts = re.split(r"[,\s]+", value)
    elif separator in seps or separator in (":", ";", " "):
        sep = seps.get(separator, separator)
        if sep is None:
            sep = os.pathsep
        parts = value.split(sep)
    else:
        parts = re.split(r"[,\s]+", value)
    return [part.strip() for part in parts if part.strip()]


def _find_package_dir(dotted: str, roots: list[Path]) -> Path | None:
    """Locate a package directory on disk without importing it."""
    rel = Path(*dotted.split("."))
    for root in roots:
        candidate = root / rel
        if candidate.is_dir():
            return candidate
    return None


def _ancestors(base: Path) -> list[Path]:
    """The directories above ``base`` that Alembic's working directory plausibly was."""
    return list(base.absolute().parents)[: _UP_LEVELS + 1]


def _resolve_location(value: str, base: Path) -> Path | None:
    value = value.strip()
    if ":" in value and not Path(value).is_absolute() and not re.match(r"^[A-Za-z]:[\\/]", value):
        # Alembic splits on every colon and uses the first two parts (package, path).
        package, sub = value.split(":")[:2]
        roots = [base, base / "src", Path.cwd(), Path.cwd() / "src", *_ancestors(base)]
        roots += [Path(entry) for entry in sys.path if entry]
        pkg_dir = _find_package_dir(package, roots)
        return (pkg_dir / sub) if pkg_dir is not None else None
    path = Path(value)
    if path.is_absolute():
        return path
    # Alembic resolves relative paths against the working directory; projects are
    # usually linted from elsewhere, so the config file's directory is tried first, then
    # the working directory, then the directories above the config file (where
    # `alembic` is usually run from: the repository or the application root).
    for candidate in (base / path, Path.cwd() / path, *(a / path for a in _ancestors(base))):
        if candidate.exists():
            return candidate
    return base / path


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _project_from_options(
    options: dict[str, object], config: Path, fallback_allowed: bool = True
) -> tuple[Project | None, list[InputError]]:
    shown = display_path(config)
    base = config.parent
    location = options.get("script_location")
    if not isinstance(location, str) or not location.strip():
        return None, [InputError(shown, "no `script_location` in the Alembic configuration")]
    script_dir = _resolve_location(location, base)
    # A directory without env.py is not what Alembic ends up running either.
    if script_dir is None or not (script_dir / "env.py").is_file():
        fallback = _fallback_script_dirs(base) if fallback_allowed else []
        if not fallback and script_dir is not None and script_dir.is_dir():
            fallback = [script_dir]
        if not fallback:
            return None, [
                InputError(shown, f"script_location `{location}` does not name a directory")
            ]
        # Usually set by the application at run time (Prefect, Flask apps) or relative
        # to a working directory we cannot know: the script directory beside the ini is
        # what Alembic ends up using.
        note = (
            ""
            if _same(fallback[0], script_dir or base)
            else f"script_location `{location}` does not name a script directory from here; "
            f"using {display_path(fallback[0])}"
        )
        script_dir = fallback[0]
    else:
        note = ""
    separator = options.get("path_separator") or options.get("version_path_separator")
    sep = separator if isinstance(separator, str) else None
    raw_versions = options.get("version_locations")
    if isinstance(raw_versions, list):
        version_values = [str(v) for v in raw_versions]
    elif isinstance(raw_versions, str) and raw_versions.strip():
        version_values = _split_locations(raw_versions, sep)
    else:
        version_values = []
    version_dirs: list[Path] = []
    for value in version_values:
        resolved = _resolve_location(value, base)
        if resolved is not None:
            version_dirs.append(resolved)
    if not version_dirs:
        version_dirs = [script_dir / "versions"]
    raw_sys = options.get("prepend_sys_path", ".")
    sys_values = (
        [str(v) for v in raw_sys]
        if isinstance(raw_sys, list)
        else _split_locations(str(raw_sys), sep)
    )
    sys_path = [p if p.is_absolute() else base / p for p in map(Path, sys_values)]
    project = Project(
        root=base,
        script_dir=script_dir,
        version_dirs=version_dirs,
        recursive=_truthy(options.get("recursive_version_locations", False)),
        config_path=config,
        sys_path=[*sys_path, base],
        notes=[(config, note)] if note else [],
    )
    missing = [d for d in version_dirs if not d.is_dir()]
    if missing and len(missing) == len(version_dirs):
        return None, [InputError(shown, f"no versions directory at {display_path(missing[0])}")]
    return project, []


def _fallback_script_dirs(base: Path) -> list[Path]:
    """Script directories at or below ``base`` (the ini's directory), nearest first."""
    if _is_script_dir(base):
        return [base]
    found: list[Path] = []
    _search(base, _SEARCH_DEPTH, found)
    return [d for d in found if _is_script_dir(d)]


_INI_KEYS = (
    "script_location",
    "version_locations",
    "path_separator",
    "version_path_separator",
    "recursive_version_locations",
    "prepend_sys_path",
)

Found = tuple[list[Project], list[InputError]]


def projects_from_ini(ini: Path) -> Found:
    """Every project ``ini`` configures: its ``[alembic]`` section, or each named
    section with a ``script_location`` (``alembic -n NAME``) when ``[alembic]`` has none."""
    import configparser  # only a project with an alembic.ini pays for it, not every run

    shown = display_path(ini)
    # Alembic defines %(here)s as the directory holding the ini file.
    parser = configparser.ConfigParser(defaults={"here": str(ini.parent.absolute())})
    try:
        parser.read_string(read_tree_bytes(ini).decode("utf-8"), source=str(ini))
        if parser.has_option("alembic", "script_location"):
            sections = ["alembic"]
        else:
            sections = [s for s in parser.sections() if parser.has_option(s, "script_location")]
        options = [
            {key: parser.get(section, key) for key in _INI_KEYS if parser.has_option(section, key)}
            for section in sections
        ]
    except (configparser.Error, UnicodeDecodeError, OSError) as exc:
        return [], [InputError(shown, f"cannot read Alembic configuration: {exc}")]
    if not options:
        if _is_script_dir(ini.parent):
            # Flask-Migrate keeps alembic.ini inside the migrations directory and passes
            # that directory as the script location itself.
            return [_script_dir_project(ini.parent, config=ini)], []
        message = (
            "no `script_location` in the Alembic configuration"
            if parser.has_section("alembic")
            else "no [alembic] section with `script_location`"
        )
        return [], [InputError(shown, message)]
    projects: list[Project] = []
    errors: list[InputError] = []
    for opts in options:
        # With several named environments, a script directory found nearby cannot be
        # told apart: only a location that resolves is used.
        project, errs = _project_from_options(dict(opts), ini, len(options) == 1)
        errors.extend(errs)
        if project is not None:
            projects.append(project)
    return projects, errors


def project_from_ini(ini: Path) -> tuple[Project | None, list[InputError]]:
    """The first project ``ini`` configures (see ``projects_from_ini``)."""
    projects, errors = projects_from_ini(ini)
    return (projects[0] if projects else None), errors


def project_from_pyproject(pyproject: Path) -> tuple[Project | None, list[InputError]]:
    shown = display_path(pyproject)
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(read_tree_bytes(pyproject).decode("utf-8"))
    except (OSError, ValueError) as exc:
        return None, [InputError(shown, f"cannot read pyproject.toml: {exc}")]
    section = data.get("tool", {}).get("alembic")
    if not isinstance(section, dict):
        return None, [InputError(shown, "no [tool.alembic] section")]
    here = str(pyproject.parent.absolute())

    def subst(value: object) -> object:
        if isinstance(value, str):
            return value.replace("%(here)s", here)
        if isinstance(value, list):
            return [subst(v) for v in value]
        return value

    return _project_from_options({k: subst(v) for k, v in section.items()}, pyproject)


def _listed(found: tuple[Project | None, list[InputError]]) -> Found:
    project, errors = found
    return ([project] if project is not None else []), errors


def _config_projects(directory: Path) -> Found | None:
    """The projects configured in ``directory`` (alembic.ini first), if any."""
    ini = directory / "alembic.ini"
    if ini.is_file():
        return projects_from_ini(ini)
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file() and _has_tool_alembic(pyproject):
        return _listed(project_from_pyproject(pyproject))
    return None


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _configured_project_for(directory: Path, matches: str, target: Path) -> Project | None:
    """Look upward from ``directory`` for a configuration whose script directory (or one
    of whose version directories, per ``matches``) is ``target``."""
    current = directory
    for _ in range(_UP_LEVELS + 1):
        found = _config_projects(current)
        for project in found[0] if found is not None else []:
            candidates = [project.script_dir] if matches == "script" else list(project.version_dirs)
            if any(c is not None and _same(c, target) for c in candidates):
                return project
        if current.parent == current:
            break
        current = current.parent
    return None


def _script_dir_project(script_dir: Path, config: Path | None = None) -> Project:
    return Project(
        root=script_dir,
        script_dir=script_dir,
        version_dirs=[script_dir / "versions"],
        config_path=config,
        sys_path=[script_dir.parent],
    )


def project_for_script_dir(script_dir: Path) -> Project:
    configured = _configured_project_for(script_dir, "script", script_dir)
    if configured is not None:
        return configured
    return _script_dir_project(script_dir)


def project_for_versions_dir(versions: Path) -> Project:
    configured = _configured_project_for(versions.parent, "versions", versions)
    if configured is not None:
        return configured
    if _is_dialect_versions_dir(versions):
        # versions/postgresql: the script directory is two levels up.
        return Project(
            root=versions.parent.parent,
            script_dir=versions.parent.parent,
            version_dirs=[versions],
            sys_path=[versions.parent.parent.parent],
        )
    script_dir = versions.parent if (versions.parent / "env.py").is_file() else None
    return Project(
        root=versions.parent,
        script_dir=script_dir,
        version_dirs=[versions],
        sys_path=[versions.parent.parent],
    )


def _search(directory: Path, depth: int, found: list[Path]) -> None:
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return
    for entry in entries:
        if not entry.is_dir() or entry.name in _SKIP_DIRS or entry.name.startswith("."):
            continue
        if (entry / "alembic.ini").is_file() or _is_script_dir(entry):
            found.append(entry)
        elif depth > 1:
            _search(entry, depth - 1, found)


def _from_file(p: Path) -> Found:
    if p.suffix == ".ini":
        return projects_from_ini(p)
    if p.name == "pyproject.toml":
        return _listed(project_from_pyproject(p))
    if p.name == "env.py":
        return [project_for_script_dir(p.parent)], []
    if p.suffix == ".py":
        project = project_for_versions_dir(p.parent)
        project.only_files = [p]
        return [project], []
    return [], [InputError(display_path(p), "not an Alembic project file")]


def _from_tree(p: Path) -> Found:
    """Projects found in subdirectories of ``p`` (a repository root, say)."""
    roots: list[Path] = []
    _search(p, _SEARCH_DEPTH, roots)
    projects: list[Project] = []
    errors: list[InputError] = []
    seen: set[Path] = set()
    for root in roots:
        found = _config_projects(root)
        if found is not None:
            listed, errs = found
            errors.extend(errs)
        else:
            listed = [project_for_script_dir(root)]
        for project in listed:
            if project.script_dir is None:
                continue
            key = project.script_dir.resolve()
            if key not in seen:
                seen.add(key)
                projects.append(project)
    if not projects and not errors:
        errors.append(InputError(display_path(p), "no Alembic project found"))
    return projects, errors


def _dialect_version_dirs(project: Project) -> None:
    """Replace a ``versions/`` directory that holds no revision but one subdirectory per
    dialect (``versions/postgresql``, ``versions/sqlite``) by the PostgreSQL one, which is
    where Alembic is pointed (from env.py) when it runs against PostgreSQL."""
    if project.recursive:
        return
    dirs: list[Path] = []
    for directory in project.version_dirs:
        if not directory.is_dir() or any(_is_revision_candidate(f) for f in directory.iterdir()):
            dirs.append(directory)
            continue
        subdirs = sorted(d for d in directory.iterdir() if d.is_dir() and d.name in _PG_DIRS)
        if not subdirs:
            dirs.append(directory)
            continue
        dirs.extend(subdirs)
        project.notes.append(
            (
                directory,
                f"revisions are split by dialect; reading {display_path(subdirs[0])}",
            )
        )
    project.version_dirs = dirs


# Names of versions/ subdirectories that hold the PostgreSQL revisions.
_PG_DIRS = frozenset({"postgresql", "postgres", "pg"})


def _is_revision_candidate(path: Path) -> bool:
    return path.is_file() and path.suffix == ".py" and not path.name.startswith("__init__")


def find_projects(path: str) -> Found:
    """Every Alembic project ``path`` names (usually one)."""
    p = Path(path)
    if not p.exists():
        return [], [InputError(path, "no such file or directory")]
    projects, errors = _find_projects(p)
    for project in projects:
        _dialect_version_dirs(project)
    return projects, errors


def _find_projects(p: Path) -> Found:
    if p.is_file():
        return _from_file(p)
    configured = _config_projects(p)
    if configured is not None:
        return configured
    if _is_script_dir(p):
        return [project_for_script_dir(p)], []
    if p.name == "versions" or (p.parent / "env.py").is_file() or _is_dialect_versions_dir(p):
        return [project_for_versions_dir(p)], []
    return _from_tree(p)


def revision_paths(project: Project) -> list[Path]:
    """Candidate revision files, in a stable order (Alembic skips ``__init__.py``)."""
    paths: list[Path] = []
    for directory in project.version_dirs:
        if not directory.is_dir():
            continue
        if project.recursive:
            found = [p for p in sorted(directory.glob("**/*.py")) if p.is_file()]
        else:
            # One listing, file types from it: no stat per revision (as ``glob`` and
            # ``is_file`` made, twice per file of a 500-revision history).
            found = [directory / name for name in _python_files(directory)]
        for path in found:
            if path.name.startswith(("__init__", ".#")) or "__pycache__" in path.parts:
                continue
            paths.append(path)
    return paths


def _python_files(directory: Path) -> list[str]:
    """The names of the regular files (or links to one) ending in ``.py`` in ``directory``,
    sorted."""
    try:
        with os.scandir(directory) as entries:
            return sorted(e.name for e in entries if e.name.endswith(".py") and _is_file(e))
    except OSError:
        return []


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def env_settings(project: Project) -> tuple[dict[str, object], list[AlembicNote]]:
    """Settings read statically from ``env.py``: ``transaction_per_migration`` is True
    only when a ``*.configure(...)`` call passes it as the literal ``True``."""
    settings: dict[str, object] = {"transaction_per_migration": False}
    notes: list[AlembicNote] = []
    env = project.env_path
    if env is None:
        return settings, notes
    shown = display_path(env)
    try:
        text = read_tree_bytes(env).decode("utf-8", errors="replace")
        tree = ast.parse(text, filename=shown)
    except (SyntaxError, ValueError, OSError) as exc:
        notes.append(AlembicNote(shown, 1, 1, f"cannot read env.py ({exc}); assuming defaults"))
        return settings, notes
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "configure"
        ):
            continue
        for keyword in node.keywords:
            if keyword.arg != "transaction_per_migration":
                continue
            try:
                value = ast.literal_eval(keyword.value)
            except ValueError:
                notes.append(
                    AlembicNote(
                        shown,
                        keyword.value.lineno,
                        keyword.value.col_offset + 1,
                        "transaction_per_migration is not a literal; assuming False "
                        "(all revisions in one transaction)",
                    )
                )
                continue
            if value is True:
                settings["transaction_per_migration"] = True
    return settings, notes
