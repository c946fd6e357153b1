"""Which migrations a branch adds or edits, for ``migcheck --diff BASE``.

A pull request should be judged on what it adds, not on the hundreds of migrations that
shipped before it. ``changed_migration_paths`` asks git for the migration files added or
modified between the merge base of BASE and HEAD and HEAD itself (committed changes only:
that is what CI sees; staged or unstaged edits are not included). The runner then lints
them as one deploy while every earlier migration still builds the schema.

CI checkouts are shallow (GitHub's ``actions/checkout`` fetches one commit, GitLab 20 or
50), and a shallow clone usually lacks the merge base: ``git merge-base`` fails and other
linters leak ``git diff: exit status 128``. Here a missing base branch is fetched and the
history is deepened step by step (``git fetch --deepen``, finally ``--unshallow``) when a
remote exists and fetching is allowed; otherwise ``DiffError`` says which command to run.
Every git failure becomes a ``DiffError`` with a readable message, never a traceback.

A modified migration that exists at the merge base has already shipped: editing it does
not change the databases that ran it. ``edited_findings`` reports those as
``edited-applied-migration`` at the first changed line.

``base_tree`` reads files as they are on BASE, so ``--config-from-base`` can judge a pull
request by the base branch's config instead of the one the pull request may have edited.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from migcheck.errors import UserError
from migcheck.model import Finding, Span

RULE_ID = "edited-applied-migration"

# Commits fetched per deepening step before giving up and fetching the whole history.
_DEEPEN_STEPS = (50, 200, 1000)
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)
_FULL_SHA = re.compile(r"^[0-9a-f]{40}$")
# Revision syntax that cannot be a branch name (HEAD~2, main^, @{upstream}, a..b).
_NOT_A_BRANCH = re.compile(r"[~^:?*\[\\\s]|@\{|\.\.|^(?:HEAD|FETCH_HEAD|ORIG_HEAD)$|^refs/")
_UNSHALLOW_HINT = (
    "In GitHub Actions check out with `fetch-depth: 0` (actions/checkout); "
    "in GitLab CI set the variable `GIT_DEPTH: 0`."
)


class DiffError(UserError):
    """--diff cannot work out what changed; the message says why and what to run."""


@dataclass
class DiffResult:
    """Migration files changed between the merge base and HEAD.

    Paths are relative to the ``repo`` directory given to ``changed_migration_paths``
    (POSIX separators), sorted. ``added`` did not exist at the merge base; ``modified``
    did, and their content changed (a mode-only change is not an edit).
    """

    added: list[str]
    modified: list[str]
    base_commit: str
    # The ref actually compared with (``main`` may have become ``origin/main``).
    base: str = ""
    # First changed line (1-based, in the HEAD version) of each modified file.
    first_changed_line: dict[str, int] = field(default_factory=dict)
    # git commands that fetched history, for a note in verbose output.
    fetched: list[str] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        """Every changed migration, the list to lint as one changeset."""
        return sorted(self.added + self.modified)


def changed_migration_paths(
    base: str,
    repo: Path,
    *,
    allow_fetch: bool = True,
    pathspecs: Sequence[str] = (),
) -> DiffResult:
    """The migration files added or modified since the merge base of ``base`` and HEAD.

    ``repo`` is a directory inside the work tree (the CLI passes the current directory);
    ``pathspecs`` (relative to it) narrow the search, as ``migcheck --diff main db/`` does.
    Raises ``DiffError`` when git is missing, ``repo`` is not a repository, ``base`` does
    not exist, or the merge base cannot be found.
    """
    git = _Git(Path(repo))
    if not base or base.startswith("-"):
        raise DiffError(f"--diff {base!r}: give a branch, tag or commit, e.g. --diff origin/main")
    top = git.toplevel()
    if git.commit_of("HEAD") is None:
        raise DiffError("--diff: HEAD has no commit yet; commit the migrations first")
    resolved, base_sha = _resolve_base(git, base, allow_fetch)
    merge_base = _merge_base(git, base, base_sha, allow_fetch)
    status = git.run(
        ["diff", "--name-status", "--no-renames", "-z", merge_base, "HEAD", "--", *pathspecs],
        what=f"listing the files changed since {base}",
    )
    fields = status.split("\0")
    added: list[str] = []
    modified: list[str] = []
    first_line: dict[str, int] = {}
    # Entries are "STATUS\0path\0"; the output ends with a NUL, leaving one empty field.
    for code, name in zip(fields[0::2], fields[1::2], strict=False):
        if not _is_migration(top / name):
            continue
        shown = _display(top / name, git.cwd)
        if code.startswith("A"):
            added.append(shown)
        elif code[:1] in ("M", "T"):
            line = _first_changed_line(git, merge_base, name, top)
            if line is not None:
                modified.append(shown)
                first_line[shown] = line
    return DiffResult(
        added=sorted(added),
        modified=sorted(modified),
        base_commit=merge_base,
        base=resolved,
        first_changed_line=first_line,
        fetched=git.fetched,
    )


@dataclass
class BaseTree:
    """Files as they are on the ``--diff`` base (for ``--config-from-base``)."""

    ref: str  # as resolved: ``main`` may have become ``origin/main``
    commit: str
    top: Path  # the repository root in the work tree
    git: _Git

    def read(self, path: str) -> bytes | None:
        """The content of ``path`` (relative to the repository root, ``/``-separated) on
        the base, or None when the base has no such file."""
        return self.git.blob(f"{self.commit}:{path}")

    def files_under(self, directory: str) -> list[str]:
        """The files below ``directory`` (repository-relative) on the base."""
        out = self.git.ok(["ls-tree", "-r", "--name-only", self.commit, "--", directory])
        return [line for line in (out or "").splitlines() if line]

    def relative(self, path: str) -> str | None:
        """``path`` (of the work tree) relative to the repository root, or None outside."""
        rel = os.path.relpath(os.path.abspath(path), self.top).replace(os.sep, "/")
        return None if rel == ".." or rel.startswith("../") else rel


def tree_at(commit: str, label: str, repo: Path) -> BaseTree:
    """Files as they are at ``commit`` (already in the clone, e.g. ``--diff``'s merge base)."""
    git = _Git(Path(repo))
    return BaseTree(ref=label, commit=commit, top=git.toplevel(), git=git)


def base_tree(base: str, repo: Path, *, allow_fetch: bool = True) -> BaseTree:
    """The base ref's tree, fetched as ``changed_migration_paths`` would fetch it.

    This is the tip of BASE, not the merge base: policy pinned on the base branch is its
    current policy. Raises ``DiffError`` as ``changed_migration_paths`` does.
    """
    git = _Git(Path(repo))
    if not base or base.startswith("-"):
        raise DiffError(f"--diff {base!r}: give a branch, tag or commit, e.g. --diff origin/main")
    top = git.toplevel()
    resolved, sha = _resolve_base(git, base, allow_fetch)
    return BaseTree(ref=resolved, commit=sha, top=top, git=git)


def edited_findings(diff: DiffResult) -> list[Finding]:
    """One ``edited-applied-migration`` finding per modified migration (it shipped already),
    at its first changed line."""
    from migcheck.rules import meta_finding
    from migcheck.sources.sqldir import FLYWAY_REPEATABLE

    short = diff.base_commit[:10]
    out: list[Finding] = []
    for path in diff.modified:
        if FLYWAY_REPEATABLE.match(path.rsplit("/", 1)[-1]):
            continue  # Flyway reruns a repeatable migration whenever it changes: edit away
        line = diff.first_changed_line.get(path, 1)
        message = (
            f"This migration already shipped (it is on {diff.base or short}, merge base "
            f"{short}) and this change edits it: editing history does not change "
            "production, where the old version already ran, and new environments would "
            "get a different schema. Write a new migration."
        )
        help_text = (
            f"Restore the shipped file (git checkout {short} -- {path}) and put the change "
            "in a new migration after the latest one."
        )
        out.append(meta_finding(RULE_ID, path, Span(line, 1, line, 1), message, help_text))
    return out


# --- git plumbing ---------------------------------------------------------------------


class _Git:
    """Runs git in one directory; every failure becomes a DiffError."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd.resolve()
        self.fetched: list[str] = []

    def _call(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",  # a private remote must fail, not wait for a password
            "LC_ALL": "C",
        }
        try:
            return subprocess.run(
                # diff.relative=true in a user's config would make paths relative to the
                # directory and drop changes outside it; the code expects git's default.
                ["git", "-c", "diff.relative=false", *args],
                cwd=self.cwd,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                env=env,
                check=False,
            )
        except FileNotFoundError:
            raise DiffError("--diff needs git, and git is not installed or not on PATH") from None
        except NotADirectoryError:
            raise DiffError(f"--diff: {self.cwd} is not a directory") from None

    def run(self, args: list[str], *, what: str) -> str:
        proc = self._call(args)
        if proc.returncode != 0:
            detail = _last_line(proc.stderr) or f"exit status {proc.returncode}"
            raise DiffError(f"--diff: git failed while {what}: {detail}")
        return proc.stdout

    def blob(self, spec: str) -> bytes | None:
        """The content of the blob ``rev:path`` names, None when there is none."""
        try:
            proc = subprocess.run(
                ["git", "cat-file", "blob", spec],
                cwd=self.cwd,
                capture_output=True,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
                check=False,
            )
        except OSError:
            return None
        return proc.stdout if proc.returncode == 0 else None

    def ok(self, args: list[str]) -> str | None:
        proc = self._call(args)
        return proc.stdout.strip() if proc.returncode == 0 else None

    def toplevel(self) -> Path:
        if not self.cwd.is_dir():
            raise DiffError(f"--diff: {self.cwd} is not a directory")
        out = self.ok(["rev-parse", "--show-toplevel"])
        if not out:
            raise DiffError(
                f"--diff: {self.cwd} is not inside a git repository "
                "(--diff compares git commits; lint files or directories without it)"
            )
        return Path(out).resolve()

    def commit_of(self, rev: str) -> str | None:
        return self.ok(["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"]) or None

    def remotes(self) -> list[str]:
        return (self.ok(["remote"]) or "").split()

    def is_shallow(self) -> bool:
        return self.ok(["rev-parse", "--is-shallow-repository"]) == "true"

    def fetch(self, args: list[str]) -> str | None:
        """Run ``git fetch``; the error text when it fails."""
        cmd = ["fetch", "--no-tags", "--quiet", *args]
        self.fetched.append("git " + " ".join(cmd))
        proc = self._call(cmd)
        if proc.returncode != 0:
            return _last_line(proc.stderr) or f"exit status {proc.returncode}"
        return None


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def _remote_for(git: _Git, base: str) -> tuple[str | None, str | None]:
    """The remote to fetch from and the branch ``base`` names on it, if it can name one."""
    remotes = git.remotes()
    for name in sorted(remotes, key=len, reverse=True):
        if base.startswith(name + "/") and len(base) > len(name) + 1:
            branch = base[len(name) + 1 :]
            return name, (None if _NOT_A_BRANCH.search(branch) else branch)
    remote = "origin" if "origin" in remotes else (remotes[0] if len(remotes) == 1 else None)
    if remote is None or _FULL_SHA.match(base) or _NOT_A_BRANCH.search(base):
        return remote, None
    return remote, base


def _deepen(git: _Git, remote: str, refspec: list[str], found: Callable[[], str | None]) -> str:
    """Deepen a shallow clone step by step, then unshallow it, until ``found`` gives an
    answer. Returns it, or raises _FetchFailed / _NotFound."""
    # Deepening fetches only what lies below the current shallow boundary, far less than
    # --unshallow on a long history. An explicit refspec keeps git from fetching every
    # branch of the remote in full (new branches are not depth-limited).
    for step in _DEEPEN_STEPS:
        if not git.is_shallow():
            break
        err = git.fetch([f"--deepen={step}", remote, *refspec])
        if err:
            raise _FetchFailed(err)
        answer = found()
        if answer:
            return answer
    if git.is_shallow():
        err = git.fetch(["--unshallow", remote, *refspec])
        if err:
            raise _FetchFailed(err)
        answer = found()
        if answer:
            return answer
    raise _NotFound


class _FetchFailed(Exception):
    pass


class _NotFound(Exception):
    pass


def _resolve_base(git: _Git, base: str, allow_fetch: bool) -> tuple[str, str]:
    """``(ref, sha)`` for BASE: as written, then ``<remote>/BASE``, then fetched."""
    remote, branch = _remote_for(git, base)
    candidates = [base]
    if remote and branch and not base.startswith(remote + "/"):
        candidates.append(f"{remote}/{branch}")
    for ref in candidates:
        sha = git.commit_of(ref)
        if sha:
            return ref, sha
    fetch_error = None
    if allow_fetch and remote:
        found, fetch_error = _fetch_base(git, base, remote, branch)
        if found is not None:
            return found
    tried = " or ".join(repr(c) for c in candidates)
    lines = [f"--diff {base}: no branch, tag or commit named {tried} in this repository."]
    if fetch_error:
        lines.append(f"Fetching it from {remote!r} failed: {fetch_error}")
    if branch and remote:
        lines.append(
            f"Fetch it first: git fetch {remote} +refs/heads/{branch}:refs/remotes/{remote}/{branch}"
        )
    elif not remote:
        lines.append("This repository has no remote to fetch it from.")
    lines.append(_UNSHALLOW_HINT)
    raise DiffError("\n".join(lines))


def _fetch_base(
    git: _Git, base: str, remote: str, branch: str | None
) -> tuple[tuple[str, str] | None, str | None]:
    """Fetch BASE from ``remote``: ``((ref, sha), None)`` once it is here, else ``(None,
    the fetch error if one failed)``."""
    shallow = git.is_shallow()
    depth = ["--depth=50"] if shallow else []
    if branch:
        tracking = f"{remote}/{branch}"
        error = git.fetch([*depth, remote, f"+refs/heads/{branch}:refs/remotes/{tracking}"])
        sha = git.commit_of(tracking)
        return ((tracking, sha) if sha else None), error
    if _FULL_SHA.match(base):
        error = git.fetch([*depth, remote, base])
        sha = git.commit_of(base)
        return ((base, sha) if sha else None), error
    if not shallow:
        return None, None
    # HEAD~3, or a tag below the shallow boundary: look further back.
    head = git.commit_of("HEAD") or "HEAD"
    try:
        return (base, _deepen(git, remote, [head], lambda: git.commit_of(base))), None
    except _FetchFailed as err:
        return None, str(err)
    except _NotFound:
        return None, None


def _merge_base(git: _Git, base: str, base_sha: str, allow_fetch: bool) -> str:
    """The merge base of BASE and HEAD, deepening a shallow clone until it appears."""

    def merge_base() -> str | None:
        return git.ok(["merge-base", base_sha, "HEAD"])

    found = merge_base()
    if found:
        return found
    unrelated = (
        f"--diff {base}: {base} and HEAD have no common ancestor (unrelated histories); "
        "compare with a branch HEAD was created from"
    )
    if not git.is_shallow():
        raise DiffError(unrelated)
    remote, branch = _remote_for(git, base)
    why = "fetching is turned off" if not allow_fetch else "the repository has no remote"
    if allow_fetch and remote:
        # Deepening with any commit the remote has deepens every shallow commit it can
        # reach, so both sides grow. Prefer the base branch: it also updates it.
        tracking = f"refs/remotes/{remote}/{branch}"
        if branch and git.commit_of(tracking):
            refspec = [f"+refs/heads/{branch}:{tracking}"]
        else:
            refspec = [base_sha]
        try:
            return _deepen(git, remote, refspec, merge_base)
        except _FetchFailed as err:
            why = f"fetching failed: {err}"
        except _NotFound:
            raise DiffError(unrelated) from None
    raise DiffError(
        f"--diff {base}: this clone is shallow and does not hold the commit where HEAD "
        f"branched from {base}, so git cannot tell what changed ({why}). Fetch the "
        f"history and run again:\n    git fetch --unshallow {remote or 'origin'}\n"
        + _UNSHALLOW_HINT
    )


# --- which files, which lines ---------------------------------------------------------


def _is_migration(path: Path) -> bool:
    """A file the runner would lint as a migration: any forward ``.sql`` file, or a
    revision inside an Alembic ``versions/`` directory."""
    from migcheck.sources.sqldir import is_rollback, is_sql_name

    name = path.name
    if is_sql_name(name):
        return not is_rollback(name)
    if name.endswith(".py") and not name.startswith("__") and name != "env.py":
        from migcheck.sources.alembic.discover import is_alembic_path

        return is_alembic_path(str(path))
    return False


def _display(path: Path, cwd: Path) -> str:
    return Path(os.path.relpath(path, cwd)).as_posix()


def _first_changed_line(git: _Git, merge_base: str, name: str, top: Path) -> int | None:
    """The first line of HEAD's version that differs, from the first hunk header; None
    when only the file mode changed."""
    out = git.run(
        [
            "-C",
            str(top),
            "diff",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "-U0",
            merge_base,
            "HEAD",
            "--",
            f":(top,literal){name}",
        ],
        what=f"reading the changes to {name}",
    )
    m = _HUNK.search(out)
    if m is None:
        return None
    start, count = int(m.group(1)), m.group(2)
    if count != "0":
        return max(start, 1)
    # Lines were only removed: point at the line now standing where they were.
    return max(min(start + 1, _line_count(top / name)), 1)


def _line_count(path: Path) -> int:
    from migcheck.sources.reading import DEFAULT_MAX_BYTES, read_bytes_in_tree

    # Through the tree's reader: the file may be a FIFO or a link out of the checkout.
    data = read_bytes_in_tree(str(path), max_bytes=DEFAULT_MAX_BYTES)
    if isinstance(data, bytes):
        return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return 1


__all__ = [
    "BaseTree",
    "DiffError",
    "DiffResult",
    "base_tree",
    "changed_migration_paths",
    "edited_findings",
]
