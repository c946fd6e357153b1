"""Queries derived from SQLAlchemy models at a git ref (opt-in: it runs the project's code).

The ref is checked out in a temporary ``git worktree`` and the metadata (``module:attr``,
a ``MetaData``, a declarative base or anything with a ``.metadata``) is imported there
in a subprocess of the current interpreter, so the models of another commit never mix
with this process. The subprocess prints each table's columns as JSON; per table we
derive a SELECT of every column and an INSERT of the columns an application must supply
(NOT NULL, no default or server default, not an autoincrementing or computed key).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

from migcheck.appschema.prisma import quote

_TIMEOUT_S = 120

# Runs inside the worktree. Prints {"tables": [...]} or {"error": "..."}.
_SCRIPT = r"""
import importlib, json, sys
target = sys.argv[1]
module_name, _, attr = target.partition(":")
try:
    obj = importlib.import_module(module_name)
    for part in (attr or "metadata").split("."):
        obj = getattr(obj, part)
    metadata = getattr(obj, "metadata", obj)
    tables = metadata.sorted_tables
except Exception as err:
    print(json.dumps({"error": f"{type(err).__name__}: {err}"}))
    sys.exit(0)
out = []
for table in tables:
    columns = []
    for column in table.columns:
        auto = (
            column.primary_key
            and column.autoincrement in (True, "auto")
            and len(table.primary_key.columns) == 1
            and getattr(column.type, "_type_affinity", None) is not None
            and column.type._type_affinity.__name__ == "Integer"
        )
        columns.append({
            "name": column.name,
            "nullable": bool(column.nullable),
            "default": column.default is not None or column.server_default is not None,
            "generated": column.computed is not None or column.identity is not None or bool(auto),
        })
    out.append({"schema": table.schema, "name": table.name, "columns": columns})
print(json.dumps({"tables": out}))
"""


@dataclass(frozen=True)
class TableQuery:
    table: str
    operation: str  # "select" | "insert (required columns)"
    sql: str


def derive_at_ref(repo_dir: str, ref: str, target: str) -> tuple[list[TableQuery], str | None]:
    """(queries, error) for the metadata ``target`` at git ``ref`` of ``repo_dir``."""
    if ":" not in target:
        return [], f"--sqlalchemy expects module:attribute, got {target!r}"
    work = tempfile.mkdtemp(prefix="migcheck-wt-")
    tree = os.path.join(work, "tree")
    try:
        added = _git(repo_dir, "worktree", "add", "--detach", "--quiet", tree, ref)
        if added is not None:
            return [], f"cannot check out {ref}: {added}"
        try:
            return _import_tables(tree, target)
        finally:
            _git(repo_dir, "worktree", "remove", "--force", tree)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        _git(repo_dir, "worktree", "prune")


def derive_in_tree(tree: str, target: str) -> tuple[list[TableQuery], str | None]:
    """The same for the files on disk in ``tree``."""
    if ":" not in target:
        return [], f"--sqlalchemy expects module:attribute, got {target!r}"
    return _import_tables(tree, target)


def _import_tables(tree: str, target: str) -> tuple[list[TableQuery], str | None]:
    env = dict(os.environ)
    paths = [tree, os.path.join(tree, "src")]
    env["PYTHONPATH"] = os.pathsep.join(paths + [p for p in [env.get("PYTHONPATH")] if p])
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _SCRIPT, target],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return [], f"importing {target} failed: {err}"
    try:
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return [], f"importing {target} failed: {' '.join(tail) or 'no output'}"
    if "error" in data:
        return [], f"importing {target} failed: {data['error']}"
    return tables_to_queries(data.get("tables", [])), None


def tables_to_queries(tables: list[dict[str, Any]]) -> list[TableQuery]:
    queries = []
    for table in tables:
        schema = table.get("schema") or "public"
        name = str(table["name"])
        qualified = f"{quote(str(schema))}.{quote(name)}"
        columns = [c for c in table.get("columns") or [] if isinstance(c, dict)]
        names = [str(c["name"]) for c in columns]
        if not names:
            continue
        label = f"{schema}.{name}"
        listed = ", ".join(quote(n) for n in names)
        queries.append(TableQuery(label, "select", f"SELECT {listed} FROM {qualified}"))
        required = [
            str(c["name"])
            for c in columns
            if not c["nullable"] and not c["default"] and not c["generated"]
        ]
        if required:
            cols = ", ".join(quote(n) for n in required)
            values = ", ".join(f"${i}" for i in range(1, len(required) + 1))
            sql = f"INSERT INTO {qualified} ({cols}) VALUES ({values})"
        else:
            sql = f"INSERT INTO {qualified} DEFAULT VALUES"
        queries.append(TableQuery(label, "insert (required columns)", sql))
    return queries


def _git(repo_dir: str, *args: str) -> str | None:
    """Run git; None on success, else its error message."""
    try:
        proc = subprocess.run(
            ["git", "-C", repo_dir, *args], capture_output=True, text=True, timeout=_TIMEOUT_S
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if proc.returncode != 0:
        return proc.stderr.strip() or f"git exited with {proc.returncode}"
    return None
