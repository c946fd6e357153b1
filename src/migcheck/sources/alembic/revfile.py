"""Reading one Alembic revision file without importing it.

The header variables (``revision``, ``down_revision``, ``branch_labels``, ``depends_on``)
are read from module-level assignments with ``ast.literal_eval``, which is how Alembic's
own ``script.py.mako`` writes them. A file with a syntax error still yields its identity
(recovered line by line) so the revision graph stays whole and the error names the file.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from migcheck.model import InputError
from migcheck.sources.reading import read_tree_bytes

from .positions import SourceMap, display_path, normalise_newlines

HEADER_NAMES = ("revision", "down_revision", "branch_labels", "depends_on")

# Used only to recover identity from files that do not parse.
_HEADER_LINE = re.compile(
    r"^(revision|down_revision|branch_labels|depends_on)\s*(?::[^=]*)?=\s*(.+?)\s*(?:#.*)?$"
)


@dataclass
class RevisionFile:
    """One revision file as read from disk (never imported)."""

    path: Path
    display: str
    revision: str
    down_revision: str | tuple[str, ...] | None = None
    branch_labels: tuple[str, ...] = ()
    depends_on: tuple[str, ...] = ()
    message: str = ""
    # Line of each header assignment, for errors that name the file.
    header_lines: dict[str, int] = field(default_factory=dict)
    source: SourceMap | None = None
    tree: ast.Module | None = None
    # Set when the file could be identified but not parsed; it renders no SQL.
    error: InputError | None = None

    @property
    def down_revisions(self) -> tuple[str, ...]:
        if self.down_revision is None:
            return ()
        if isinstance(self.down_revision, str):
            return (self.down_revision,)
        return tuple(self.down_revision)


def _as_names(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, set, frozenset)) and all(isinstance(v, str) for v in value):
        return tuple(sorted(value)) if isinstance(value, (set, frozenset)) else tuple(value)
    raise ValueError(f"`{what}` must be a string, a tuple of strings or None")


def _decode(path: Path, data: bytes) -> str:
    encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    text = data.decode(encoding)
    return text[1:] if text.startswith("\ufeff") else text


def _header_values(
    tree: ast.Module,
) -> tuple[dict[str, tuple[object, int]], list[tuple[str, int]]]:
    """Literal header values by name (last assignment wins, like Python) and the names
    assigned something that is not a literal."""
    values: dict[str, tuple[object, int]] = {}
    dynamic: list[tuple[str, int]] = []
    for stmt in tree.body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        if not isinstance(target, ast.Name) or target.id not in HEADER_NAMES or value is None:
            continue
        try:
            values[target.id] = (ast.literal_eval(value), stmt.lineno)
        except ValueError:
            dynamic.append((target.id, stmt.lineno))
    return values, dynamic


def _recover_headers(text: str) -> dict[str, tuple[object, int]]:
    values: dict[str, tuple[object, int]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        match = _HEADER_LINE.match(line)
        if not match:
            continue
        try:
            values[match.group(1)] = (ast.literal_eval(match.group(2)), number)
        except (ValueError, SyntaxError):
            continue
    return values


def _message(tree: ast.Module | None, text: str) -> str:
    doc = ast.get_docstring(tree) if tree is not None else None
    if doc is None:
        match = re.match(r'\s*(?:"""|\'\'\')(.*)', text)
        doc = match.group(1) if match else ""
    return doc.strip().split("\n", 1)[0].strip() if doc else ""


def read_revision_file(
    path: Path, data: bytes | None = None
) -> tuple[RevisionFile | None, list[InputError]]:
    """Read ``path`` (whose bytes are ``data`` when the caller has read them already).
    Returns ``(None, [])`` for a Python file that is not a revision (no ``revision``
    variable), ``(None, [error])`` when it cannot be used at all."""
    shown = display_path(path)
    if data is None:
        try:
            data = read_tree_bytes(path)
        except OSError as exc:
            return None, [InputError(shown, f"cannot read revision file: {exc.strerror or exc}")]
    try:
        text = normalise_newlines(_decode(path, data))
    except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
        return None, [InputError(shown, f"cannot decode revision file: {exc}")]

    errors: list[InputError] = []
    tree: ast.Module | None = None
    parse_error: InputError | None = None
    try:
        # Invalid escape sequences in SQL strings warn at parse time; not our concern.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        where = f"line {exc.lineno}" if exc.lineno else "unknown line"
        parse_error = InputError(
            shown, f"syntax error in Alembic revision ({where}): {exc.msg}", exc.lineno
        )
    except ValueError as exc:  # e.g. NUL bytes in the source
        parse_error = InputError(shown, f"cannot parse Alembic revision: {exc}")
    except (RecursionError, MemoryError):
        # ``1 + 1 + ...`` twenty thousand times: Python's own parser gives up.
        parse_error = InputError(
            shown, "cannot parse Alembic revision: it nests too deeply for Python's parser"
        )

    if tree is not None:
        values, dynamic = _header_values(tree)
        for name, line in dynamic:
            if name not in values:
                errors.append(
                    InputError(
                        shown,
                        f"`{name}` is not a literal value; migcheck reads revision headers "
                        "without importing the file",
                        line,
                    )
                )
    else:
        values = _recover_headers(text)

    if "revision" not in values:
        if parse_error is not None:
            return None, [parse_error]
        return None, errors

    revision, revision_line = values["revision"]
    if not isinstance(revision, str) or not revision:
        errors.append(InputError(shown, "`revision` must be a non-empty string", revision_line))
        return None, errors

    rev = RevisionFile(path=path, display=shown, revision=revision)
    rev.header_lines = {name: line for name, (_, line) in values.items()}
    try:
        down = values.get("down_revision", (None, 0))[0]
        names = _as_names(down, "down_revision")
        rev.down_revision = down if isinstance(down, str) or down is None else names
        rev.branch_labels = _as_names(values.get("branch_labels", (None, 0))[0], "branch_labels")
        rev.depends_on = _as_names(values.get("depends_on", (None, 0))[0], "depends_on")
    except ValueError as exc:
        errors.append(InputError(shown, str(exc), revision_line))
        return None, errors
    rev.message = _message(tree, text)
    rev.source = SourceMap(text)
    rev.tree = tree
    if parse_error is not None:
        rev.error = parse_error
        errors.append(parse_error)
    return rev, errors
