"""Read JSON files a pull request controls (a baseline, ``package.json``) with bounded work.

``json.loads`` recurses once per nesting level, so 100,000 nested ``[`` in a few hundred
kilobytes raise ``RecursionError``, which is not a ``ValueError`` and used to escape as a
traceback. Here every way a file can fail to be JSON (too large, not UTF-8, malformed, nested
too deeply) is one ``JsonFileError`` whose text completes "FILE is ...". Standard library
only: this runs on the CLI's start-up path.
"""

from __future__ import annotations

import json

from migcheck.sources.reading import DEFAULT_MAX_BYTES, format_size

__all__ = ["JsonFileError", "parse_json", "read_json"]


class JsonFileError(ValueError):
    """Why a file is not usable JSON, as a phrase: ``not valid JSON (nested too deeply)``."""


def parse_json(text: str) -> object:
    """``json.loads`` whose every failure is a ``JsonFileError``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise JsonFileError("not valid JSON (nested too deeply)") from None
    except json.JSONDecodeError as exc:
        raise JsonFileError(
            f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None


def read_json(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> object:
    """The JSON value in ``path``. ``OSError`` (missing, unreadable) propagates for the
    caller to word; everything else wrong with the content is a ``JsonFileError``."""
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise JsonFileError(f"larger than the {format_size(max_bytes)} limit")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise JsonFileError("not UTF-8 text") from None
    return parse_json(text)
