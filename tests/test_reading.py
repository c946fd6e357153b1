"""Tests for safe file reading: every bad input becomes an InputError with a clear message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migcheck.model import InputError
from migcheck.sources import reading
from migcheck.sources.reading import display_path, format_size, read_source

LIMIT = 10_000_000


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Display paths are relative to the working directory.
    monkeypatch.chdir(tmp_path)


def _error(result: str | InputError) -> InputError:
    assert isinstance(result, InputError), f"expected an InputError, got {result!r}"
    return result


def test_reads_utf8_text() -> None:
    Path("a.sql").write_text("CREATE TABLE café (id int);\n", encoding="utf-8")
    assert read_source("a.sql", max_bytes=LIMIT) == "CREATE TABLE café (id int);\n"


def test_utf8_bom_is_stripped() -> None:
    Path("bom.sql").write_bytes(b"\xef\xbb\xbfSELECT 1;\n")
    assert read_source("bom.sql", max_bytes=LIMIT) == "SELECT 1;\n"


def test_crlf_is_kept_so_offsets_match_the_file() -> None:
    Path("crlf.sql").write_bytes(b"SELECT 1;\r\nSELECT 2;\r\n")
    assert read_source("crlf.sql", max_bytes=LIMIT) == "SELECT 1;\r\nSELECT 2;\r\n"


def test_invalid_utf8_names_line_column_and_byte() -> None:
    Path("latin1.sql").write_bytes(b"SELECT 1;\nSELECT 2;\nSELECT\xff 3;\n")
    error = _error(read_source("latin1.sql", max_bytes=LIMIT))
    assert error == InputError("latin1.sql", "not valid UTF-8 at line 3, column 7 (byte 0xff)", 3)


def test_invalid_utf8_column_counts_characters_not_bytes() -> None:
    # "é" is two bytes; the bad byte is the 4th character of the line.
    Path("mixed.sql").write_bytes("-- é".encode() + b"\xe9\n")
    error = _error(read_source("mixed.sql", max_bytes=LIMIT))
    assert error.message == "not valid UTF-8 at line 1, column 5 (byte 0xe9)"
    assert error.line == 1


def test_invalid_utf8_after_bom_counts_from_first_character() -> None:
    Path("bom_bad.sql").write_bytes(b"\xef\xbb\xbfab\xc3(\n")
    error = _error(read_source("bom_bad.sql", max_bytes=LIMIT))
    assert error.message == "not valid UTF-8 at line 1, column 3 (byte 0xc3)"


def test_binary_file() -> None:
    Path("dump.sql").write_bytes(b"PGDMP\x00\x01\x02binary")
    assert read_source("dump.sql", max_bytes=LIMIT) == InputError(
        "dump.sql", "binary file, not SQL"
    )


def test_nul_after_the_sniffed_prefix_is_not_called_binary() -> None:
    # Only the first 8 KB are sniffed; a later NUL is still valid UTF-8.
    Path("late_nul.sql").write_bytes(b"-" * 9000 + b"\x00")
    result = read_source("late_nul.sql", max_bytes=LIMIT)
    assert isinstance(result, str)


def test_utf16_file_gets_its_own_message() -> None:
    Path("utf16.sql").write_bytes("SELECT 1;".encode("utf-16"))
    error = _error(read_source("utf16.sql", max_bytes=LIMIT))
    assert error.message.startswith("file is UTF-16 encoded; migcheck reads UTF-8")


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_or_blank_file_is_text_not_error(content: bytes) -> None:
    Path("empty.sql").write_bytes(content)
    assert read_source("empty.sql", max_bytes=LIMIT) == content.decode()


def test_too_large_is_rejected_from_stat_without_reading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open("huge.sql", "wb") as handle:
        handle.truncate(52_400_000)  # sparse: costs no disk space

    def no_open(*args: object, **kwargs: object) -> object:
        raise AssertionError("a file above the limit must not be opened")

    monkeypatch.setattr(reading, "_open_nonblocking", no_open)
    assert read_source("huge.sql", max_bytes=LIMIT) == InputError(
        "huge.sql",
        "file is 52.4 MB, above the 10 MB limit; raise it with --max-file-size",
    )


def test_file_exactly_at_the_limit_is_read() -> None:
    Path("edge.sql").write_bytes(b"x" * 100)
    assert read_source("edge.sql", max_bytes=100) == "x" * 100
    assert _error(read_source("edge.sql", max_bytes=99)).message == (
        "file is 100 B, above the 99 B limit; raise it with --max-file-size"
    )


def test_size_rounding_to_the_limit_shows_bytes() -> None:
    with open("just_over.sql", "wb") as handle:
        handle.truncate(LIMIT + 1)
    assert _error(read_source("just_over.sql", max_bytes=LIMIT)).message == (
        "file is 10000001 bytes, above the 10 MB limit; raise it with --max-file-size"
    )


def test_missing_file() -> None:
    assert read_source("nope.sql", max_bytes=LIMIT) == InputError(
        "nope.sql", "No such file or directory"
    )


def test_broken_symlink() -> None:
    os.symlink("gone.sql", "link.sql")
    error = _error(read_source("link.sql", max_bytes=LIMIT))
    assert error.message == "broken symbolic link (its target gone.sql does not exist)"


def test_symlink_loop() -> None:
    os.symlink("b.sql", "a.sql")
    os.symlink("a.sql", "b.sql")
    error = _error(read_source("a.sql", max_bytes=LIMIT))
    assert error.message == "symbolic link loop (too many levels of symbolic links)"


def test_directory_is_not_read() -> None:
    Path("dir.sql").mkdir()
    assert _error(read_source("dir.sql", max_bytes=LIMIT)).message == "is a directory"


def test_permission_denied_simulated(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests often run as root, where chmod 000 does not stop reads: simulate the error.
    Path("secret.sql").write_text("SELECT 1;")
    real_open = reading._open_nonblocking

    def deny(file: str) -> int:
        if str(file).endswith("secret.sql"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file)

    monkeypatch.setattr(reading, "_open_nonblocking", deny)
    assert read_source("secret.sql", max_bytes=LIMIT) == InputError(
        "secret.sql", "permission denied"
    )


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root ignores file permissions; covered by the simulated test",
)
def test_permission_denied_real() -> None:
    path = Path("locked.sql")
    path.write_text("SELECT 1;")
    path.chmod(0)
    try:
        assert _error(read_source("locked.sql", max_bytes=LIMIT)).message == "permission denied"
    finally:
        path.chmod(0o644)


def test_display_path_relative_under_cwd(tmp_path: Path) -> None:
    assert display_path(str(tmp_path / "db" / "001.sql")) == "db/001.sql"
    assert display_path("./db/../db/001.sql") == "db/001.sql"


def test_display_path_absolute_outside_cwd(tmp_path: Path) -> None:
    outside = tmp_path.parent / "elsewhere.sql"
    assert display_path(str(outside)) == outside.as_posix()
    assert display_path("../elsewhere.sql") == outside.as_posix()


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (1_500, "1.5 kB"),
        (10_000_000, "10 MB"),
        (52_400_000, "52.4 MB"),
        (2_000_000_000, "2 GB"),
    ],
)
def test_format_size(size: int, shown: str) -> None:
    assert format_size(size) == shown


@pytest.mark.parametrize(
    "path",
    ["db/001.sql", "db//001.sql", "./db/001.sql", "db/./001.sql", "db/x/../001.sql", ".",
     "..", "../x.sql", "..x/001.sql", "db/", "", "a/b/c/d.sql"],
)  # fmt: skip
def test_display_path_of_a_relative_name_is_the_long_way_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    """The shortcut for names already relative and normal gives what resolving does."""
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    absolute = os.path.abspath(path)
    relative = os.path.relpath(absolute)
    expected = absolute if relative == ".." or relative.startswith("../") else relative
    assert display_path(path) == expected


def test_a_file_that_grows_after_fstat_is_read_up_to_the_limit(tmp_path: Path) -> None:
    f = tmp_path / "grows.sql"
    f.write_bytes(b"x" * 100)
    fd = os.open(f, os.O_RDONLY)
    try:
        # fstat said 10 bytes: the read goes on to the end, never past the limit.
        assert reading._read_all(fd, 10, 60) == b"x" * 60
    finally:
        os.close(fd)
    fd = os.open(f, os.O_RDONLY)
    try:
        assert reading._read_all(fd, 10, 1000) == b"x" * 100
    finally:
        os.close(fd)


def test_resolve_is_realpath_through_linked_directories(tmp_path: Path) -> None:
    """Directories are resolved once each, from their parent's resolved form: a link at
    any depth still leads where ``realpath`` says."""
    (tmp_path / "real/deep").mkdir(parents=True)
    (tmp_path / "tree/a").mkdir(parents=True)
    (tmp_path / "tree/a/link").symlink_to(tmp_path / "real")
    (tmp_path / "tree/top").symlink_to(tmp_path / "tree/a")
    reading.new_run()
    for path in [
        "tree/a/link/deep/x.sql",
        "tree/top/link/deep/x.sql",
        "tree/a/x.sql",
        "tree/top/x.sql",
        "tree/a/link",
        str(tmp_path / "tree/top/link/deep/y.sql"),
    ]:
        assert reading.resolve(path) == os.path.realpath(path), path
    assert not reading.is_inside("tree/top/link/deep/x.sql", str(tmp_path / "tree"))
