"""Queries derived from SQLAlchemy models at a git ref, read statically (never imported).

The model files (a path or glob such as ``app/models/**/*.py``) are read with
``git show REF:path`` (the working tree when the ref is "") and parsed by
``appschema.sqlalchemy_ast``, the one SQLAlchemy reader the static check uses too; no
project code runs. The old ``module:attr`` spelling of ``--sqlalchemy-metadata`` names the
module's file (``app/models.py``, or every ``.py`` file of the package ``app/models/``);
the attribute is not needed: every table the files declare is taken. Per table we derive
a SELECT of every column and an INSERT of the columns an application must supply (NOT
NULL, no default or server default, not an autoincrementing key).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from migcheck.appschema import AppSchema, MappedColumn, merged
from migcheck.appschema.prisma import quote

_GIT_TIMEOUT_S = 60
# Model files larger than this are not models (a generated dump, a data file).
_MAX_BYTES = 5_000_000


@dataclass(frozen=True)
class TableQuery:
    table: str
    operation: str  # "select" | "insert (required columns)"
    sql: str


def derive(repo_dir: str, ref: str, target: str) -> tuple[list[TableQuery], str | None]:
    """(queries, error) for the models ``target`` (path, glob or ``module:attr``) at git
    ``ref`` of ``repo_dir`` ("" = the files on disk)."""
    patterns, error = model_patterns(repo_dir, ref, target)
    if error is not None:
        return [], error
    files, error = _read_files(repo_dir, ref, patterns)
    if error is not None:
        return [], error
    if not files:
        where = f"at {ref}" if ref else "in the working tree"
        return [], f"{target}: no model file matches {where}"
    from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

    schema = merged(
        [from_sqlalchemy(text, path, f"{ref or 'worktree'}:{path}") for path, text in files],
        ref or "worktree",
    )
    if schema.errors:
        return [], "; ".join(schema.errors)
    return schema_to_queries(schema), None


def model_patterns(repo_dir: str, ref: str, target: str) -> tuple[list[str], str | None]:
    """The repository-relative path patterns ``target`` names: itself, or for
    ``module:attr`` the module's file (``a/b.py``, ``src/a/b.py``) or package."""
    if ":" not in target or target.endswith(".py") or "/" in target:
        return [target], None
    module = target.split(":", 1)[0].strip()
    if not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", module):
        return [], f"--sqlalchemy-metadata {target!r} is neither a file, a glob nor module:attr"
    base = module.replace(".", "/")
    for root in ("", "src/"):
        if _exists(repo_dir, ref, f"{root}{base}.py"):
            return [f"{root}{base}.py"], None
        if _exists(repo_dir, ref, f"{root}{base}/__init__.py"):
            return [f"{root}{base}/**/*.py"], None
    where = f"at {ref}" if ref else "in the working tree"
    return [], (
        f"--sqlalchemy-metadata {target}: module {module} has no file {base}.py or "
        f"{base}/__init__.py (nor under src/) {where}; pass the model files' path or glob"
    )


def schema_to_queries(schema: AppSchema) -> list[TableQuery]:
    queries = []
    for table in schema.mapped():
        if table.ignored:
            continue
        names = list(table.columns)
        if not names:
            continue
        owner = table.schema or "public"
        qualified = f"{quote(owner)}.{quote(table.name)}"
        label = f"{owner}.{table.name}"
        listed = ", ".join(quote(n) for n in names)
        queries.append(TableQuery(label, "select", f"SELECT {listed} FROM {qualified}"))
        required = [c.name for c in table.columns.values() if _must_supply(c)]
        if required:
            cols = ", ".join(quote(n) for n in required)
            values = ", ".join(f"${i}" for i in range(1, len(required) + 1))
            sql = f"INSERT INTO {qualified} ({cols}) VALUES ({values})"
        else:
            sql = f"INSERT INTO {qualified} DEFAULT VALUES"
        queries.append(TableQuery(label, "insert (required columns)", sql))
    return queries


def _must_supply(column: MappedColumn) -> bool:
    """NOT NULL with nothing that fills it: a Python ``default=`` is sent by the app, so
    it is supplied too; a database default, identity or autoincrementing key is not."""
    if not column.required:
        return False
    return not column.db_default


def _read_files(
    repo_dir: str, ref: str, patterns: list[str]
) -> tuple[list[tuple[str, str]], str | None]:
    if not ref:
        return _read_disk(repo_dir, patterns)
    listing = _git(repo_dir, "ls-tree", "-r", "--name-only", ref)
    if listing is None:
        return [], f"cannot list the files at {ref}"
    top = _git(repo_dir, "rev-parse", "--show-prefix") or ""
    prefix = top.strip()
    wanted = [
        _pattern(os.path.normpath(os.path.join(prefix, p)).replace(os.sep, "/")) for p in patterns
    ]
    files = []
    for name in listing.splitlines():
        if any(w.fullmatch(name) for w in wanted):
            text = _git(repo_dir, "show", f"{ref}:{name}")
            if text is not None and len(text) <= _MAX_BYTES:
                files.append((name, text))
    return files, None


def _read_disk(repo_dir: str, patterns: list[str]) -> tuple[list[tuple[str, str]], str | None]:
    import glob

    from migcheck.sources.reading import read_text_in_tree

    files = []
    for pattern in patterns:
        full = os.path.join(repo_dir, pattern)
        for path in sorted(glob.glob(full, recursive=True)) if glob.has_magic(pattern) else [full]:
            if not os.path.isfile(path):
                continue
            text = read_text_in_tree(path)
            if text is None:
                return [], f"cannot read {os.path.relpath(path, repo_dir)}"
            files.append((os.path.relpath(path, repo_dir), text))
    return files, None


def _pattern(glob_pattern: str) -> re.Pattern[str]:
    """A glob (``**`` spans directories) as a regex over repository paths."""
    out = []
    i = 0
    while i < len(glob_pattern):
        if glob_pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif glob_pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob_pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob_pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob_pattern[i]))
            i += 1
    return re.compile("".join(out))


def _exists(repo_dir: str, ref: str, path: str) -> bool:
    if not ref:
        return os.path.isfile(os.path.join(repo_dir, path))
    prefix = (_git(repo_dir, "rev-parse", "--show-prefix") or "").strip()
    return _git(repo_dir, "cat-file", "-e", f"{ref}:{prefix}{path}") is not None


def _git(repo_dir: str, *args: str) -> str | None:
    """git's output, or None when it fails."""
    try:
        proc = subprocess.run(
            ["git", "-C", repo_dir, *args], capture_output=True, text=True, timeout=_GIT_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
