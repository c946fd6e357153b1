"""``ConfigError``, and how its messages show paths, keys and values."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path


class ConfigError(ValueError):
    """A config file that cannot be used. ``str()`` is the whole message for the user.

    A ``ValueError`` so that a caller which only knows about usage errors still exits 2
    without a traceback.
    """

    def __init__(
        self,
        path: Path | str,
        key: str | None,
        message: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.key = key  # dotted: "fail-on", "alembic.import", "severity.drop-column"
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = _shown(self.path)
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        return f"{where}: {self.message}"


def _key(key: str) -> str:
    """A key as it would be written in TOML (bare when it can be)."""
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml(key)


def _toml(value: object, limit: int = 60, depth: int = 0) -> str:
    """A value as TOML would write it, for messages (long values are cut)."""
    if depth > 8 and isinstance(value, (list, dict)):
        # A message needs no more, and a hostile file nests thousands deep.
        return "[...]" if isinstance(value, list) else "{...}"
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        import json

        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    elif isinstance(value, list):
        text = "[" + ", ".join(_toml(v, limit, depth + 1) for v in value[:limit]) + "]"
    elif isinstance(value, dict):
        items = list(value.items())[:limit]
        inner = ", ".join(f"{_key(k)} = {_toml(v, limit, depth + 1)}" for k, v in items)
        text = "{ " + inner + " }" if inner else "{}"
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shown(path: Path) -> str:
    """A path as shown to users: relative to the working directory when under it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.getcwd())
    except (ValueError, OSError):
        return absolute.replace(os.sep, "/")
    under = relative != os.pardir and not relative.startswith(os.pardir + os.sep)
    return (relative if under else absolute).replace(os.sep, "/")
