"""Writing fixes: which files ``--fix`` may edit, the unified diff ``--show-fixes``
prints, and the atomic write.

A migration that already ran somewhere must not change, so ``--fix`` edits only files
git says are new: with ``--diff BASE`` the migrations added since the merge base (never
one that exists on the base), otherwise those git reports as added, modified or
untracked and not committed. Outside a git repository nothing is edited. A write never
follows a symbolic link, never leaves the linted tree, goes through a temporary file
renamed over the original in the same directory, and keeps the file's byte-order mark
and line endings.
"""

from __future__ import annotations

import os
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migcheck.fixes.model import FileFixes, NewFile, TextEdit


@dataclass
class Editable:
    """The files ``--fix`` may edit (display paths), and why the others are left alone."""

    allowed: set[str] = field(default_factory=set)
    # Set when no file may be edited at all (not a git repository, git failed).
    refused: str = ""
    committed_reason: str = "committed already; --fix edits only uncommitted migrations"


def editable(diff_base: str | None) -> Editable:
    """What git allows ``--fix`` to edit, relative to the working directory."""
    from pathlib import Path

    from migcheck.sources.reading import display_path

    cwd = Path.cwd()
    if diff_base is not None:
        from migcheck.gitdiff import changed_migration_paths

        diff = changed_migration_paths(diff_base, cwd)
        return Editable(
            set(diff.added),
            committed_reason=f"it exists on the --diff base {diff.base or diff_base}; "
            "--fix edits only migrations the branch adds",
        )
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            capture_output=True,
            text=True,
            check=False,
        )
        if top.returncode != 0:
            return Editable(refused="not in a git repository, so nothing was written")
        status = subprocess.run(
            ["git", "status", "--porcelain=v1", "-z", "--untracked-files=all"],
            capture_output=True,
            check=False,
        )
    except OSError:
        return Editable(refused="git is not available, so nothing was written")
    if status.returncode != 0:
        return Editable(refused="git status failed, so nothing was written")
    root = top.stdout.strip()
    allowed: set[str] = set()
    fields = status.stdout.split(b"\0")
    i = 0
    while i < len(fields):
        entry = fields[i]
        i += 1
        if len(entry) < 4:
            continue
        code, name = entry[:2].decode(), os.fsdecode(entry[3:])
        if code[0] in "RC":
            i += 1  # a rename carries its old name next
        if code == "??" or (code[0] in "AM" and code[1] != "D") or code[1] == "M":
            allowed.add(display_path(os.path.join(root, name)))
    return Editable(allowed)


def apply_edits(text: str, edits: list[TextEdit]) -> str:
    """``text`` with ``edits`` (not overlapping) applied, their line breaks written as
    the file writes them (a CRLF file stays CRLF)."""
    crlf = "\r\n" in text
    for edit in sorted(edits, reverse=True):
        new = edit.new.replace("\r\n", "\n").replace("\n", "\r\n") if crlf else edit.new
        text = text[: edit.start] + new + text[edit.end :]
    return text


def unified_diff(planned: FileFixes) -> str:
    """The unified diff of one file's applicable fixes, plus the files they create."""
    import difflib

    from migcheck.report.escape import visible

    # A path is one line of the diff whatever its name holds (a newline, an escape).
    path = visible(planned.path)
    new = apply_edits(planned.text, planned.edits)
    out = "".join(
        difflib.unified_diff(
            planned.text.splitlines(keepends=True),
            new.splitlines(keepends=True),
            f"a/{path}",
            f"b/{path}",
        )
    )
    for fix in planned.applicable:
        for created in fix.new_files:
            out += "".join(
                difflib.unified_diff(
                    [],
                    created.text.splitlines(keepends=True),
                    "/dev/null",
                    f"b/{visible(created.path)}",
                )
            )
    return out


class WriteError(Exception):
    """A fix could not be written; the message says why (no file was changed)."""


def write_fixes(planned: FileFixes, boundary: str) -> None:
    """Write one file's applicable fixes and the files they create; the file is checked
    first, so a refused write creates nothing."""
    data = _checked_bytes(planned.path, planned.text, boundary)
    for fix in planned.applicable:
        for created in fix.new_files:
            _create(created, boundary)
    new = apply_edits(planned.text, planned.edits)
    _atomic_write(planned.path, data + new.encode("utf-8"), os.stat(planned.path).st_mode)


def _check_inside(path: str, boundary: str) -> None:
    real = os.path.realpath(os.path.dirname(os.path.abspath(path)))
    if real != boundary and not real.startswith(boundary.rstrip(os.sep) + os.sep):
        raise WriteError("outside the linted tree; not written")


def _checked_bytes(path: str, old: str, boundary: str) -> bytes:
    """The byte-order mark to keep, once ``path`` is known to be a regular file inside
    the tree that still holds ``old``."""
    if os.path.islink(path):
        raise WriteError("a symbolic link; not written")
    _check_inside(path, boundary)
    try:
        # Never a link (O_NOFOLLOW) nor a FIFO that would block the run (O_NONBLOCK).
        fd = os.open(
            path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
        )
    except OSError as err:
        raise WriteError(f"cannot be read again ({err.strerror}); not written") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise WriteError("not a regular file; not written")
        data = fh.read()
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    if data[len(bom) :].decode("utf-8", errors="replace") != old:
        raise WriteError("changed since it was read; not written")
    return bom


def _create(created: NewFile, boundary: str) -> None:
    directory = os.path.dirname(created.path)
    if os.path.lexists(directory):
        raise WriteError(f"{directory} exists already; not written")
    _check_inside(directory, boundary)
    os.mkdir(directory)
    _atomic_write(created.path, created.text.encode("utf-8"), 0o644)


def _atomic_write(path: str, data: bytes, mode: int) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".migcheck-fix-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(temp, mode & 0o7777)
        os.replace(temp, path)
    except BaseException:
        if os.path.lexists(temp):
            os.unlink(temp)
        raise
