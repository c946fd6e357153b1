"""Contract gating: a removal the deployed app already stopped using is the second step of
expand/contract, not a mistake.

The deployed app is the base of the change (``--diff``'s merge base, or ``--app-ref``).
Its schema files are read from git at that commit, statically. A drop-column, drop-table,
rename-column, rename-table or change-column-type finding on an object that schema no
longer maps (the field removed, or marked ``@ignore``) becomes ``info`` and carries its
evidence; the JSON report keeps ``original_severity``. Without an app schema nothing changes.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from migcheck.appschema import AppSchema, from_prisma, merged
from migcheck.model import Finding
from migcheck.sources import History

GATED_TABLE = frozenset({"drop-table", "rename-table"})
GATED_COLUMN = frozenset({"drop-column", "rename-column", "change-column-type"})


def conventional_paths(histories: Iterable[History]) -> list[str]:
    """The app schema files found by convention: a Prisma history's ``schema.prisma``
    beside or above its ``migrations`` directory, or its ``prisma/schema/`` folder."""
    found: list[str] = []
    for history in histories:
        if history.tool != "prisma":
            continue
        here = Path(os.path.abspath(history.root))
        for directory in (here, *list(here.parents)[:2]):
            single = directory / "schema.prisma"
            folder = directory / "schema"
            if single.is_file():
                found.append(str(single))
                break
            if folder.is_dir() and any(folder.glob("*.prisma")):
                found.extend(sorted(str(p) for p in folder.glob("*.prisma")))
                break
    return sorted(set(found))


def expand(patterns: Sequence[str]) -> list[str]:
    """Files named by paths or globs (``app/models/**/*.py``)."""
    out: list[str] = []
    for pattern in patterns:
        hits = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
        out.extend(h for h in hits if os.path.isfile(h))
    return sorted(set(out))


def _parse(text: str, path: str, source: str) -> AppSchema:
    if path.endswith(".prisma"):
        return from_prisma(text, path, source)
    from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

    return from_sqlalchemy(text, path, source)


def read_at(paths: Sequence[str], tree: object) -> AppSchema | None:
    """The app schema as it is at ``tree``'s commit (a ``gitdiff.BaseTree``); None when
    none of ``paths`` existed there (the app had no schema file yet)."""
    from migcheck.gitdiff import BaseTree

    assert isinstance(tree, BaseTree)
    parts: list[AppSchema] = []
    names: list[str] = []
    for path in paths:
        rel = tree.relative(path)
        if rel is None:
            continue
        data = tree.read(rel)
        if data is None:
            continue
        names.append(rel)
        parts.append(_parse(data.decode("utf-8", "replace"), rel, f"{tree.ref}:{rel}"))
    if not parts:
        return None
    return merged(parts, f"{tree.ref}:{names[0]}" if len(names) == 1 else f"{tree.ref}")


def gate(findings: Iterable[Finding], deployed: AppSchema) -> int:
    """Lower, in place, the contract findings the deployed schema proves safe; how many."""
    cleared = 0
    for f in findings:
        if f.subject is None or f.severity == "info":
            continue
        table, column = f.subject
        if f.rule in GATED_TABLE:
            unused = not deployed.uses_table(table)
            why = deployed.why_unused(table, None)
        elif f.rule in GATED_COLUMN and column is not None:
            unused = not deployed.uses_column(table, column)
            why = deployed.why_unused(table, column)
        else:
            continue
        if not unused:
            continue
        f.original_severity = f.severity
        f.severity = "info"
        f.evidence = f"verified safe: {why}"
        f.message += f" Verified safe: {why}, so the deployed app does not use it."
        cleared += 1
    return cleared
