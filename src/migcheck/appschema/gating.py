"""Contract gating: a removal the deployed app already stopped using is the second step of
expand/contract, not a mistake.

The deployed app is the base of the change (``--diff``'s merge base, or ``--app-ref``).
Its schema files are read from git at that commit, statically. A drop-column, drop-table,
rename-column, rename-table or change-column-type finding on an object that schema no
longer maps (the field removed, or marked ``@ignore``) becomes ``info`` and carries its
evidence, down to the commit since which the app has not mapped it; the JSON report keeps
``original_severity``. Without an app schema nothing changes.

The schema paths come from the command line, the config file (which may belong to the
pull request being checked) or convention; each is read only inside the repository, and
a file that cannot be read is one input error that leaves the findings as they are.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from migcheck.appschema import AppSchema, from_prisma, merged
from migcheck.model import Finding, InputError
from migcheck.sources import History
from migcheck.sources.reading import display_path, is_inside, outside_message, size_message

if TYPE_CHECKING:
    from migcheck.gitdiff import BaseTree

GATED_TABLE = frozenset({"drop-table", "rename-table"})
GATED_COLUMN = frozenset({"drop-column", "rename-column", "change-column-type"})
# How many commits that touched the schema files the search for "since when" reads, at
# most: the evidence stays cheap on a long history and says "at least" past the bound.
SINCE_COMMITS = 20
SHORT = 7  # as git abbreviates, and as the example shows a commit
_GIT_ENV = {"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


@dataclass(frozen=True)
class SchemaGroup:
    """Schema files and the migrations they speak for: a Prisma history's own
    ``schema.prisma`` judges only that history; files named with ``--app-schema`` /
    ``app-schema`` judge every migration linted (``scope`` None)."""

    files: tuple[str, ...]
    # Multi-file Prisma schemas: every ``.prisma`` file directly in these folders, on
    # each commit read (a file the deployed version has but the work tree lost counts).
    folders: tuple[str, ...] = ()
    scope: frozenset[str] | None = None


def schema_groups(
    patterns: Sequence[str], histories: Iterable[History], boundary: str
) -> tuple[list[SchemaGroup], list[InputError]]:
    """The app schema files of a run, from ``patterns`` when given, else by convention,
    and one input error per name that cannot be read."""
    if patterns:
        files, folders, errors = schema_files(patterns, boundary)
        # A schema read in part would make the objects of the missing part look unmapped.
        usable = (files or folders) and not errors
        return ([SchemaGroup(tuple(files), tuple(folders))] if usable else []), errors
    groups: list[SchemaGroup] = []
    errors = []
    for history in histories:
        found = conventional_paths(history)
        if not found:
            continue
        files, folders, problems = schema_files(found, boundary)
        errors += problems
        if (files or folders) and not problems:
            scope = frozenset(m.path for m in history.migrations)
            groups.append(SchemaGroup(tuple(files), tuple(folders), scope))
    return groups, errors


def conventional_paths(history: History) -> list[str]:
    """The app schema of a Prisma history found by convention: a ``schema.prisma`` beside
    or above its ``migrations`` directory, or a ``schema/`` folder of ``.prisma`` files."""
    if history.tool != "prisma":
        return []
    here = Path(os.path.abspath(history.root))
    for directory in (here, *list(here.parents)[:2]):
        single = directory / "schema.prisma"
        folder = directory / "schema"
        if os.path.lexists(single):
            return [str(single)]
        if folder.is_dir() and any(folder.glob("*.prisma")):
            return [str(folder)]
    return []


def schema_files(
    patterns: Sequence[str], boundary: str
) -> tuple[list[str], list[str], list[InputError]]:
    """The files and ``prisma/schema/`` folders ``--app-schema`` / ``app-schema`` name
    (paths, globs such as ``app/models/**/*.py``, or a folder), resolved, and one input
    error per name that cannot be read. Nothing outside ``boundary`` (the repository) is
    taken, whether named with ``..`` or reached through a symbolic link."""
    files: list[str] = []
    folders: list[str] = []
    errors: list[InputError] = []
    for pattern in patterns:
        shown = display_path(pattern)
        if glob.has_magic(pattern):
            hits = [h for h in sorted(glob.glob(pattern, recursive=True)) if os.path.isfile(h)]
            if not hits:
                errors.append(InputError(shown, "the app schema pattern matches no file"))
        elif os.path.isdir(pattern) and not os.path.islink(pattern.rstrip("/") or pattern):
            hits = sorted(glob.glob(os.path.join(glob.escape(pattern), "*.prisma")))
            if not hits:
                errors.append(InputError(shown, "app schema folder holds no .prisma file"))
            elif not is_inside(pattern, boundary):
                errors.append(InputError(shown, _outside(pattern)))
                continue
            else:
                folders.append(os.path.realpath(pattern))
        else:
            hits = [pattern]
        outside = [h for h in hits if not is_inside(h, boundary)]
        if outside:
            # One error per name: a glob through a linked directory can reach thousands.
            more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
            errors.append(InputError(display_path(outside[0]), _outside(outside[0]) + more))
        for hit in hits:
            if hit in outside:
                continue
            if not os.path.exists(hit):
                errors.append(InputError(shown, "cannot read the app schema: no such file"))
            elif not os.path.isfile(hit):
                errors.append(InputError(shown, "cannot read the app schema: not a regular file"))
            else:
                files.append(os.path.realpath(hit))
    return sorted(set(files)), sorted(set(folders)), errors


def _outside(path: str) -> str:
    if os.path.islink(path):
        return outside_message(path)
    return "outside the repository; the app schema is not read"


def _relative(tree: BaseTree, paths: Sequence[str]) -> list[str]:
    found = (tree.relative(os.path.realpath(p)) for p in paths)
    return sorted({rel for rel in found if rel is not None})


def _parse(text: str, path: str, source: str) -> AppSchema:
    if path.endswith(".prisma"):
        return from_prisma(text, path, source)
    from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

    return from_sqlalchemy(text, path, source)


@dataclass
class DeployedSchema:
    """The deployed app's schema, and where it was read: the commit and the files, so that
    the evidence can say since when the app has not mapped an object."""

    schema: AppSchema
    tree: BaseTree
    files: tuple[str, ...]  # read at the commit; repository-relative, ``/``-separated
    folders: tuple[str, ...]  # as ``SchemaGroup.folders``, repository-relative
    scope: frozenset[str] | None = None  # the migration paths it judges; None: all
    max_bytes: int = 10_000_000  # --max-file-size, for every version read
    # The evidence's "since <commit>" by object: found once, and only for cleared findings.
    since: dict[tuple[str, str | None], Since] = field(default_factory=dict, init=False, repr=False)

    @property
    def source(self) -> str:
        """Where the schema was read, as messages show it (``main:prisma/schema.prisma``)."""
        if len(self.files) == 1:
            return f"{self.tree.ref}:{self.files[0]}"
        common = os.path.commonpath(self.files) if self.files else ""
        return f"{self.tree.ref}:{common}/" if common else self.tree.ref


def load_all(
    groups: Sequence[SchemaGroup], tree: BaseTree, max_bytes: int
) -> tuple[list[DeployedSchema], list[InputError]]:
    """Each group's schema as it is at ``tree``'s commit, and the files that cannot be read."""
    out: list[DeployedSchema] = []
    errors: list[InputError] = []
    for group in groups:
        deployed, problems = load_deployed(group, tree, max_bytes)
        errors += problems
        if deployed is not None:
            out.append(deployed)
    return out, errors


def load_deployed(
    group: SchemaGroup, tree: BaseTree, max_bytes: int
) -> tuple[DeployedSchema | None, list[InputError]]:
    """The app schema as it is at ``tree``'s commit, and one input error per file that
    cannot be read there. None when none of the files existed at that commit (the app had
    no schema file yet) or when one of them cannot be read: a schema read in part would
    make the objects of the missing part look unmapped, and clear their drops."""
    rels = _relative(tree, group.files)
    folders = _relative(tree, group.folders)
    read, refused = _files_at(tree, tree.commit, rels, folders, max_bytes)
    errors = [InputError(f"{tree.ref}:{rel}", why) for rel, why in refused]
    parts: list[AppSchema] = []
    for rel, data in read.items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            errors.append(InputError(f"{tree.ref}:{rel}", "cannot read the app schema: not UTF-8"))
            continue
        part = _parse(text, rel, f"{tree.ref}:{rel}")
        if part.errors:
            first = part.errors[0].removeprefix(f"{rel}: ")
            more = f" (and {len(part.errors) - 1} more problems)" if len(part.errors) > 1 else ""
            errors.append(
                InputError(f"{tree.ref}:{rel}", f"cannot read the app schema: {first}{more}")
            )
        parts.append(part)
    if errors or not parts:
        return None, errors
    files = tuple(sorted(read))
    deployed = DeployedSchema(
        merged(parts, ""), tree, files, tuple(folders), group.scope, max_bytes
    )
    deployed.schema.source = deployed.source
    return deployed, []


def gate(findings: Iterable[Finding], schemas: Sequence[DeployedSchema]) -> int:
    """Lower, in place, the contract findings the deployed schemas prove safe; how many."""
    cleared = 0
    for f in findings:
        for deployed in schemas:
            if deployed.scope is None or f.path in deployed.scope:
                cleared += _gate_one(f, deployed)
                break
    return cleared


def _gate_one(f: Finding, deployed: DeployedSchema) -> int:
    if f.subject is None or f.severity == "info":
        return 0
    table, column = f.subject
    schema = deployed.schema
    if f.rule in GATED_TABLE:
        unused = not schema.uses_table(table)
        column = None
    elif f.rule in GATED_COLUMN and column is not None:
        unused = not schema.uses_column(table, column)
    else:
        return 0
    if not unused:
        return 0
    since = _since(deployed, table, column)
    if schema.table(table) is None and since.kind != "changed":
        # The schema does not know the table and no version read ever mapped it: it is
        # about other tables (another app, or a table the ORM never saw), which proves
        # nothing about who still uses this one.
        return 0
    why = _evidence(deployed, table, column, since)
    f.original_severity = f.severity
    f.severity = "info"
    f.evidence = f"verified safe: {why}"
    f.message += f" Verified safe: {why}, so the deployed app does not use it."
    return 1


def _evidence(deployed: DeployedSchema, table: str, column: str | None, since: Since) -> str:
    """``main:prisma/schema.prisma no longer maps "User"."bio" (the field is @ignore since
    3f2a1c9, line 9)``: what the deployed schema says of the object, and since when."""
    mapped = deployed.schema.table(table)
    name = mapped.name if mapped else _bare(table)
    what = f'table "{name}"' if column is None else f'"{name}"."{_bare(column)}"'
    found = mapped.columns.get(_bare(column)) if mapped and column is not None else None
    where = f"{deployed.tree.ref}:{mapped.path}" if mapped else deployed.source
    verb = "no longer maps"
    if mapped is not None and mapped.ignored:
        how = f"the model is {mapped.ignored}{since.text}, line {mapped.line}"
    elif found is not None and found.ignored:
        how = f"the field is {found.ignored}{since.text}, line {found.line}"
    elif since.kind == "created":
        # Absent from every version of the file: the app never mapped it at all.
        verb, how = "does not map", f"nor did any version{since.text}"
    else:
        how = since.text.strip()
    return f"{where} {verb} {what}" + (f" ({how})" if how else "")


def _bare(name: str) -> str:
    return name[1:-1].replace('""', '"') if len(name) > 1 and name[0] == name[-1] == '"' else name


# --- since when ----------------------------------------------------------------------


@dataclass(frozen=True)
class Since:
    """Since when the deployed app has not mapped an object: ``text`` as the evidence
    words it (`` since 3f2a1c9``), and ``kind``: ``changed`` (the commit that stopped
    mapping it), ``created`` (the commit that added the schema file, which never mapped
    it), ``bound`` (the history read ends first: the 20-commit bound, a shallow clone, a
    version that cannot be read), or ``unknown`` (git could not tell)."""

    text: str
    kind: str


def _since(deployed: DeployedSchema, table: str, column: str | None) -> Since:
    key = (table, column)
    if key not in deployed.since:
        deployed.since[key] = _search_since(deployed, table, column)
    return deployed.since[key]


def _search_since(deployed: DeployedSchema, table: str, column: str | None) -> Since:
    tree = deployed.tree
    paths = [*deployed.files, *deployed.folders]
    args = ["log", f"-n{SINCE_COMMITS + 1}", "--format=%H %P", tree.commit, "--", *paths]
    commits = [line.split() for line in (_git(tree, args) or "").splitlines() if line.strip()]
    for i, (commit, *parents) in enumerate(commits):
        short = commit[:SHORT]
        if i + 1 >= SINCE_COMMITS:
            return Since(f" since at least {short}", "bound")
        if i + 1 < len(commits):
            older = _schema_at(deployed, commits[i + 1][0])
            if older is None:
                return Since(f" since at least {short}", "bound")  # unreadable: no guess
            if _maps(older, table, column):
                return Since(f" since {short}", "changed")
            continue
        # The oldest commit that touched the files, which added them, unless the clone's
        # history stops there.
        if not parents and _is_shallow_boundary(tree, commit):
            return Since(
                f" since at least {short}, where this shallow clone's history stops", "bound"
            )
        return Since(f" since the file was added in {short}", "created")
    return Since("", "unknown")


def _maps(schema: AppSchema, table: str, column: str | None) -> bool:
    return schema.uses_table(table) if column is None else schema.uses_column(table, column)


def _schema_at(deployed: DeployedSchema, commit: str) -> AppSchema | None:
    """The schema at an older commit; an empty one where the files did not exist yet, and
    None where a file cannot be read (the search stops there rather than guess)."""
    read, refused = _files_at(
        deployed.tree, commit, deployed.files, deployed.folders, deployed.max_bytes
    )
    if refused:
        return None
    parts = []
    for rel, data in read.items():
        part = _parse(data.decode("utf-8", "replace"), rel, rel)
        if part.errors:
            return None
        parts.append(part)
    return merged(parts, commit)


def _is_shallow_boundary(tree: BaseTree, commit: str) -> bool:
    shallow = (_git(tree, ["rev-parse", "--git-path", "shallow"]) or "").strip()
    if not shallow:
        return False
    try:
        listed = (tree.top / shallow).read_text(encoding="ascii").split()
    except OSError:
        return False
    return commit in listed


# --- git ---------------------------------------------------------------------------


def _git(tree: BaseTree, args: list[str], stdin: bytes | None = None) -> str | None:
    out = _git_bytes(tree, args, stdin)
    return out.decode("utf-8", "replace") if out is not None else None


def _git_bytes(tree: BaseTree, args: list[str], stdin: bytes | None = None) -> bytes | None:
    import subprocess  # only a run that reads the deployed schema from git pays for it

    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=tree.top,
            input=stdin,
            capture_output=True,
            env={**os.environ, **_GIT_ENV},
            check=False,
        )
    except OSError:
        return None
    return proc.stdout if proc.returncode == 0 else None


def _files_at(
    tree: BaseTree, commit: str, rels: Sequence[str], folders: Sequence[str], max_bytes: int
) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """The regular files among ``rels``, and the ``.prisma`` files directly in
    ``folders``, at ``commit`` (absent ones left out), and why the others are refused: a
    symbolic link (git stores its target, not a schema), a file above ``max_bytes``. Two
    git processes whatever the number of files."""
    if not rels and not folders:
        return {}, []
    listing = _git_bytes(tree, ["ls-tree", "-r", "-z", "-l", commit, "--", *rels, *folders])
    entries: list[tuple[str, str]] = []
    refused: list[tuple[str, str]] = []
    for record in (listing or b"").split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, kind, sha, size = meta.decode("ascii", "replace").split()
        rel = name.decode("utf-8", "replace")
        in_folder = rel.endswith(".prisma") and os.path.dirname(rel) in folders
        if (rel not in rels and not in_folder) or kind != "blob":
            continue  # a folder named like a file, a submodule: no schema there
        if mode == "120000":
            refused.append((rel, "a symbolic link at this commit; the app schema is not read"))
        elif int(size) > max_bytes:
            refused.append((rel, size_message(int(size), max_bytes)))
        else:
            entries.append((rel, sha))
    if not entries:
        return {}, refused
    batch = _git_bytes(
        tree, ["cat-file", "--batch"], "".join(f"{sha}\n" for _, sha in entries).encode()
    )
    return _split_batch(batch or b"", entries), refused


def _split_batch(out: bytes, entries: Sequence[tuple[str, str]]) -> dict[str, bytes]:
    """``git cat-file --batch`` output (a header line, the content, a newline per object)
    split back into the files."""
    read: dict[str, bytes] = {}
    pos = 0
    for rel, _ in entries:
        end = out.find(b"\n", pos)
        if end < 0:
            break
        header = out[pos:end].split()
        if len(header) != 3:
            break
        size = int(header[2])
        read[rel] = out[end + 1 : end + 1 + size]
        pos = end + 1 + size + 1
    return read
