"""Safe reading of every file migcheck takes from the linted tree, and the paths it shows.

Every problem with a file (missing, unreadable, too large, binary, not UTF-8, a FIFO or
device, a symbolic link leading out of the tree) comes back as an ``InputError`` value
instead of an exception, so one bad file never stops the others from being linted.

The tree is bounded: a file is read only when its fully resolved path stays inside the
*boundary*, the repository's top level (the nearest directory holding ``.git``), or outside
a git checkout the directory the user named. ``open_in_tree`` is the one way to open such a
file; it never blocks (``O_NONBLOCK``) and reads only regular files. Standard library only:
this runs on the CLI's start-up path.
"""

from __future__ import annotations

import errno
import functools
import os
import stat

from migcheck.model import InputError

DEFAULT_MAX_BYTES = 10_000_000
# Like git and grep, a NUL byte near the start means "binary"; SQL text never contains one.
BINARY_SNIFF_BYTES = 8192
UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def display_path(path: str) -> str:
    """The path as shown to users: relative to the working directory when under it, else
    absolute; always with forward slashes."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.getcwd())
    except (ValueError, OSError):  # another drive on Windows, or the cwd was deleted
        relative = os.pardir
    under_cwd = relative != os.pardir and not relative.startswith(os.pardir + os.sep)
    shown = relative if under_cwd else absolute
    return shown.replace(os.sep, "/")


def format_size(size: int) -> str:
    """``52400000`` → ``52.4 MB``, ``10000000`` → ``10 MB`` (decimal units, as ``ls -h --si``)."""
    for unit, scale in (("GB", 1_000_000_000), ("MB", 1_000_000), ("kB", 1_000)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} B"


def size_message(size: int | None, max_bytes: int) -> str:
    limit = format_size(max_bytes)
    if size is None:  # a pipe or device: the size is only known to be above the limit
        shown = f"more than {limit}"
    else:
        shown = format_size(size)
        if shown == limit:  # rounding hid the difference (10.00004 MB vs 10 MB)
            shown = f"{size} bytes"
    return f"file is {shown}, above the {limit} limit; raise it with --max-file-size"


def describe_os_error(path: str, err: OSError) -> str:
    """A one-line, lower-case description of why ``path`` could not be opened."""
    if err.errno == errno.ENOENT:
        if os.path.islink(path):
            return f"broken symbolic link (its target {os.readlink(path)} does not exist)"
        return "No such file or directory"
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.ELOOP:
        return "symbolic link loop (too many levels of symbolic links)"
    if err.errno == errno.EISDIR:
        return "is a directory"
    return (err.strerror or str(err)).lower()


def find_repository_root(directory: str) -> str | None:
    """The nearest directory at or above ``directory`` holding ``.git`` (a directory, or a
    file in a worktree or submodule), resolved; or ``None``. No git process: this is on
    the start-up path.

    The search goes up the path as written, not its link target, and a symbolic link on
    the way is never taken for the root: ``repo/db/link -> /elsewhere`` is in ``repo``,
    even if ``/elsewhere`` is another checkout.
    """
    directory = os.path.abspath(directory)
    while True:
        if not os.path.islink(directory) and os.path.lexists(os.path.join(directory, ".git")):
            return os.path.realpath(directory)
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def boundary_for(directory: str) -> str:
    """The boundary of files found in ``directory``: the repository root, or outside a git
    checkout ``directory`` itself (resolved)."""
    return find_repository_root(directory) or os.path.realpath(directory)


def named_boundary(path: str) -> str:
    """The boundary for a path given on the command line: the repository holding the name
    (not its link target), else the named directory, or a named file's directory."""
    located = os.path.dirname(os.path.abspath(path))
    repository = find_repository_root(located)
    if repository is not None:
        return repository
    if os.path.isdir(path) and not os.path.islink(path.rstrip("/\\") or path):
        return boundary_for(path)
    return os.path.realpath(located)


@functools.lru_cache(maxsize=4096)
def _real_directory(directory: str) -> str:
    return os.path.realpath(directory)


def resolve(path: str) -> str:
    """``os.path.realpath(path)``, resolving each directory once per process: a history
    holds hundreds of files in a few directories, and resolving every component of every
    file's path was a visible part of a cached run. Only the last component is checked
    each time (a link there is resolved in full)."""
    absolute = os.path.abspath(path)
    if os.path.islink(absolute):
        return os.path.realpath(absolute)
    directory, name = os.path.split(absolute)
    return os.path.join(_real_directory(directory), name) if name else _real_directory(directory)


def new_run() -> None:
    """Forget resolved directories: a run sees the tree as it is when the run starts."""
    _real_directory.cache_clear()


def is_inside(path: str, boundary: str) -> bool:
    """True when ``path`` (resolved, symbolic links followed) is ``boundary`` or below it."""
    real = resolve(path)
    return real == boundary or real.startswith(boundary.rstrip(os.sep) + os.sep)


def outside_message(path: str) -> str:
    """Why a file is not read: its link leads out of the tree. The target is named so the
    user can see the link, but nothing of the target's content is ever shown."""
    return f"symbolic link to {os.path.realpath(path)}, outside the linted tree; not read"


NON_REGULAR = "not a regular file (a FIFO, socket or device); not read"


def _open_nonblocking(path: str) -> int:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    return os.open(path, flags | getattr(os, "O_CLOEXEC", 0))


def open_in_tree(path: str, boundary: str | None = None) -> int | InputError:
    """A file descriptor for the regular file ``path``, or why it is not read.

    ``boundary`` defaults to that of the directory holding ``path``. The check is on the
    resolved path, and the opened file is ``fstat``-ed: a FIFO or device is refused rather
    than waited on, whatever the checks before opening saw.
    """
    # Shown only when refused: the path's display form costs a getcwd and a relpath, once
    # per file of a history read whole on every run.
    if boundary is None:
        boundary = boundary_for(os.path.dirname(os.path.abspath(path)))
    if not is_inside(path, boundary):
        return InputError(display_path(path), outside_message(path))
    try:
        fd = _open_nonblocking(path)
    except OSError as err:
        return InputError(display_path(path), describe_os_error(path, err))
    try:
        info = os.fstat(fd)
    except OSError as err:
        os.close(fd)
        return InputError(display_path(path), describe_os_error(path, err))
    if stat.S_ISDIR(info.st_mode):
        os.close(fd)
        return InputError(display_path(path), "is a directory")
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        return InputError(display_path(path), NON_REGULAR)
    return fd


def read_bytes_in_tree(
    path: str, *, max_bytes: int, boundary: str | None = None
) -> bytes | InputError:
    """The bytes of a regular file inside the boundary, at most ``max_bytes`` of them."""
    opened = open_in_tree(path, boundary)
    if isinstance(opened, InputError):
        return opened
    try:
        with os.fdopen(opened, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                return InputError(display_path(path), size_message(size, max_bytes))
            # Bounded even so: a file can grow between fstat() and read().
            data = handle.read(max_bytes + 1)
    except OSError as err:
        return InputError(display_path(path), describe_os_error(path, err))
    if len(data) > max_bytes:
        return InputError(display_path(path), size_message(None, max_bytes))
    return data


def read_tree_bytes(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """``read_bytes_in_tree`` for callers that handle ``OSError`` (the Alembic reader):
    the refusal is raised as an ``OSError`` whose ``strerror`` is the one-line reason."""
    data = read_bytes_in_tree(os.fspath(path), max_bytes=max_bytes)
    if isinstance(data, InputError):
        raise OSError(errno.EPERM, data.message, os.fspath(path))
    return data


# Configuration-like files next to migrations (package.json, migration_lock.toml, Flyway
# .conf, Diesel metadata.toml, alembic.ini) are small; anything larger is not one.
AUXILIARY_MAX_BYTES = 1_000_000


def read_text_in_tree(path: str, boundary: str | None = None) -> str | None:
    """The UTF-8 text of a small auxiliary file inside the boundary, or ``None`` when it is
    missing, unreadable, outside the tree, not a regular file or not UTF-8."""
    data = read_bytes_in_tree(path, max_bytes=AUXILIARY_MAX_BYTES, boundary=boundary)
    if isinstance(data, InputError):
        return None
    try:
        return data.removeprefix(UTF8_BOM).decode("utf-8")
    except UnicodeDecodeError:
        return None


def decode_source(data: bytes, shown: str) -> str | InputError:
    """Bytes of a migration file → text, or why they are not UTF-8 SQL.

    A UTF-8 byte-order mark is dropped (it is not part of the first statement).
    """
    if data.startswith(UTF16_BOMS):
        return InputError(
            shown, "file is UTF-16 encoded; migcheck reads UTF-8 (convert it, e.g. with iconv)"
        )
    if b"\0" in data[:BINARY_SNIFF_BYTES]:
        return InputError(shown, "binary file, not SQL")
    data = data.removeprefix(UTF8_BOM)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _line_column(data, err.start)
        return InputError(
            shown,
            f"not valid UTF-8 at line {line}, column {column} (byte 0x{data[err.start]:02x})",
            line,
        )


def _line_column(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and character column of byte ``offset`` (all bytes before it decode)."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", errors="replace")) + 1
    return line, column


def read_source(path: str, *, max_bytes: int, boundary: str | None = None) -> str | InputError:
    """Read one migration file as text, or return the ``InputError`` explaining why not."""
    shown = display_path(path)
    try:
        info = os.stat(path)
    except OSError as err:
        return InputError(shown, describe_os_error(path, err))
    if stat.S_ISDIR(info.st_mode):
        return InputError(shown, "is a directory")
    # Reject large files from their size alone: reading 2 GB to say "too big" is no help.
    if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
        return InputError(shown, size_message(info.st_size, max_bytes))
    data = read_bytes_in_tree(path, max_bytes=max_bytes, boundary=boundary)
    if isinstance(data, InputError):
        return data
    return decode_source(data, shown)
