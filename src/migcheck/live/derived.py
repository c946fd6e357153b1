"""Application queries derived from models at git refs: Prisma schemas, SQLAlchemy models.

The old app's queries come from the schema at the base ref, the new app's from the head
ref (an empty ref means the working tree). A Prisma schema is read with
``git show REF:path``; a schema split over a ``schema/`` folder (``prismaSchemaFolder``)
is read file by file. SQLAlchemy models are read the same way, statically, by the
static check's reader (``sqlalchemy_models``): ``--app-schema`` takes either kind, told
apart by the file name (``.py`` or a glob is SQLAlchemy).
"""

from __future__ import annotations

import os
import subprocess

from migcheck.appschema import prisma as prisma_schema
from migcheck.live import sqlalchemy_models
from migcheck.live.results import Query
from migcheck.model import InputError
from migcheck.sources import History

_GIT_TIMEOUT_S = 60


def git_toplevel(path: str) -> str | None:
    directory = path if os.path.isdir(path) else os.path.dirname(path) or "."
    out = _git(directory, "rev-parse", "--show-toplevel")
    return out.strip() if out is not None else None


def read_at_ref(path: str, ref: str) -> tuple[str | None, str | None]:
    """(text, error) of the file or ``.prisma`` folder ``path`` at ``ref`` ("" = disk)."""
    if not ref:
        return _read_disk(path)
    top = git_toplevel(path)
    if top is None:
        return None, f"{path} is not inside a git repository"
    rel = os.path.relpath(os.path.abspath(path), top).replace(os.sep, "/")
    kind = _git(top, "cat-file", "-t", f"{ref}:{rel}")
    if kind is None:
        return None, f"{rel} does not exist at {ref}"
    if kind.strip() == "tree":
        names = _git(top, "ls-tree", "--name-only", f"{ref}:{rel}") or ""
        parts = []
        for name in sorted(n for n in names.splitlines() if n.endswith(".prisma")):
            text = _git(top, "show", f"{ref}:{rel}/{name}")
            if text is not None:
                parts.append(text)
        return "\n".join(parts), None
    text = _git(top, "show", f"{ref}:{rel}")
    if text is None:
        return None, f"cannot read {rel} at {ref}"
    return text, None


def _read_disk(path: str) -> tuple[str | None, str | None]:
    try:
        if os.path.isdir(path):
            names = sorted(n for n in os.listdir(path) if n.endswith(".prisma"))
            texts = []
            for name in names:
                with open(os.path.join(path, name), encoding="utf-8") as handle:
                    texts.append(handle.read())
            return "\n".join(texts), None
        with open(path, encoding="utf-8") as handle:
            return handle.read(), None
    except (OSError, UnicodeDecodeError) as err:
        return None, f"cannot read {path}: {err}"


def find_prisma_schema(histories: list[History]) -> str | None:
    """``schema.prisma`` (or a ``schema/`` folder) beside or above a Prisma migrations
    folder: the same convention as the static check (``appschema.gating``)."""
    from migcheck.appschema.gating import conventional_paths

    for history in histories:
        found = conventional_paths(history)
        if found:
            return found[0]
    return None


def is_models_path(path: str) -> bool:
    """Whether ``--app-schema`` names SQLAlchemy model files rather than a Prisma schema."""
    import glob

    return path.endswith(".py") or glob.has_magic(path)


def prisma_queries(path: str, ref: str, version: str) -> tuple[list[Query], list[InputError]]:
    if is_models_path(path):
        return sqlalchemy_queries(".", ref, path, version)
    text, error = read_at_ref(path, ref)
    shown = f"{path}@{ref or 'worktree'}"
    if text is None:
        return [], [InputError(path, error or "cannot read the Prisma schema")]
    schema = prisma_schema.parse_prisma_schema(text)
    errors = [InputError(shown, message) for message in schema.errors]
    queries = [
        Query(
            text=q.sql,
            origin=f"prisma {q.model}.{q.operation} ({shown})",
            version=version,
            source="prisma",
            path=path,
            line=q.line,
            model=q.model,
        )
        for q in prisma_schema.derive_queries(schema)
    ]
    return queries, errors


def sqlalchemy_queries(
    repo_dir: str, ref: str, target: str, version: str
) -> tuple[list[Query], list[InputError]]:
    derived, error = sqlalchemy_models.derive(repo_dir, ref, target)
    if error is not None:
        return [], [InputError(f"{target}@{ref or 'worktree'}", error)]
    queries = [
        Query(
            text=q.sql,
            origin=f"sqlalchemy {q.table} {q.operation} ({target}@{ref or 'worktree'})",
            version=version,
            source="sqlalchemy",
            model=q.table,
        )
        for q in derived
    ]
    return queries, []


def _git(cwd: str, *args: str) -> str | None:
    try:
        proc = subprocess.run(
            ["git", "-C", cwd, *args], capture_output=True, text=True, timeout=_GIT_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout if proc.returncode == 0 else None
