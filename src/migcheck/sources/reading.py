"""Safe reading of migration files, and the paths migcheck shows for them.

Every problem with a file (missing, unreadable, too large, binary, not UTF-8) comes back as
an ``InputError`` value instead of an exception, so one bad file never stops the others from
being linted. Standard library only: this runs on the CLI's start-up path.
"""

from __future__ import annotations

import errno
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


def read_source(path: str, *, max_bytes: int) -> str | InputError:
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
    try:
        with open(path, "rb") as handle:
            # Bounded even for regular files: a file can grow between stat() and read(),
            # and pipes (``<(git show ...)``) have no size at all.
            data = handle.read(max_bytes + 1)
    except OSError as err:
        return InputError(shown, describe_os_error(path, err))
    if len(data) > max_bytes:
        size = info.st_size if stat.S_ISREG(info.st_mode) else None
        return InputError(
            shown, size_message(size if size and size > max_bytes else None, max_bytes)
        )
    return decode_source(data, shown)
