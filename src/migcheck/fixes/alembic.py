"""Alembic: the same rewrites in a revision, made to its ``op.`` call.

``op.create_index(...)`` / ``op.drop_index(...)`` gain ``postgresql_concurrently=True``;
an ``op.execute("CREATE INDEX ...")`` of one plain string literal gets CONCURRENTLY in
the string. Alembic runs a revision in a transaction, so the call also moves into
``with op.get_context().autocommit_block():`` unless it is in one already. The call is
found with ``ast`` at the finding's position and rewritten by exact source offsets; a
call of any other shape (an alias of ``op``, a triple-quoted or f-string, a call
sharing its line, tabs) gets no fix. The fixed revision is read back by migcheck's own
Alembic reader in the tests, which must render it to the CONCURRENTLY statement.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from migcheck.fixes.model import FileFixes, Fix, TextEdit
from migcheck.fixes.sql import statement_of

if TYPE_CHECKING:
    from migcheck.model import Finding
    from migcheck.sources import Migration

TITLE = (
    "Add CONCURRENTLY (postgresql_concurrently=True) in an autocommit_block: it cannot run "
    "in the revision's transaction"
)
_CALLS = {"non-concurrent-index": "create_index", "non-concurrent-drop-index": "drop_index"}
_SQL = {
    "non-concurrent-index": re.compile(r"\A\s*CREATE\s+(?:UNIQUE\s+)?INDEX\b", re.I),
    "non-concurrent-drop-index": re.compile(r"\A\s*DROP\s+INDEX\b", re.I),
    "non-concurrent-reindex": re.compile(r"\A\s*REINDEX\s+(?:INDEX|TABLE)\b", re.I),
}
_AUTOCOMMIT = "with op.get_context().autocommit_block():\n"


def alembic_fixes(migration: Migration, findings: list[Finding], pg: int = 14) -> FileFixes | None:
    """The fixes of one revision's findings (None when the file cannot be read)."""
    from migcheck.sources.reading import DEFAULT_MAX_BYTES, read_source
    from migcheck.statements import parse

    text = read_source(migration.path, max_bytes=DEFAULT_MAX_BYTES)
    if not isinstance(text, str) or "\r" in text or "\t" in text:
        return None  # positions and indentation are only sure in plain LF, space-indented text
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return None
    revision = _Revision(text, tree)
    statements = parse(migration).statements
    planned = FileFixes(migration.path, text, "alembic")
    for finding in sorted(findings, key=lambda f: f.sort_key):
        if finding.rule not in _SQL or (finding.rule == "non-concurrent-reindex" and pg < 12):
            continue
        stmt = statement_of(finding, statements)
        call = revision.call_at(finding.line, finding.column)
        if stmt is None or call is None:
            continue
        edit = revision.rewrite(call, finding.rule, wrap=not stmt.autocommit)
        if edit is not None:
            planned.fixes.append((finding, Fix(TITLE, finding.rule, [edit])))
    return planned


class _Revision:
    def __init__(self, text: str, tree: ast.Module) -> None:
        self.text = text
        self.starts = [0]
        for line in text.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        self.lines = text.splitlines(keepends=True)
        self.calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "op"
        ]
        self.statements = {
            id(node.value): node
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        }

    def offset(self, line: int, byte_col: int) -> int:
        """The character offset of an ``ast`` position (1-based line, UTF-8 byte column)."""
        row = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        chars = len(row.encode("utf-8")[:byte_col].decode("utf-8", errors="replace"))
        return self.starts[line - 1] + chars

    def start(self, node: ast.expr) -> int:
        return self.offset(node.lineno, node.col_offset)

    def end(self, node: ast.expr) -> int:
        return self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)

    def call_at(self, line: int, column: int) -> ast.Call | None:
        """The innermost ``op.`` call holding the 1-based character position."""
        at = self.starts[line - 1] + column - 1 if line - 1 < len(self.starts) else -1
        holding = [c for c in self.calls if self.start(c) <= at < self.end(c)]
        return min(holding, key=lambda c: self.end(c) - self.start(c), default=None)

    def rewrite(self, call: ast.Call, rule: str, *, wrap: bool) -> TextEdit | None:
        assert isinstance(call.func, ast.Attribute)
        inner = self._concurrently(call, rule)
        if inner is None:
            return None
        start, end = self.start(call), self.end(call)
        new = self.text[start : inner.start] + inner.new + self.text[inner.end : end]
        if not wrap:
            return TextEdit(start, end, new)
        stmt = self.statements.get(id(call))
        line_start = self.starts[call.lineno - 1]
        indent = self.text[line_start:start]
        rest = self.text[end : self.starts[(call.end_lineno or call.lineno)]]
        if stmt is None or indent.strip() or (rest.strip() and not rest.strip().startswith("#")):
            return None  # the call shares its line with other code
        if any(
            isinstance(n, ast.Constant) and isinstance(n.value, str) and n.lineno != n.end_lineno
            for n in ast.walk(call)
        ):
            return None  # indenting the call would change a multi-line string
        body = new.replace("\n", "\n    ")
        return TextEdit(line_start, end, f"{indent}{_AUTOCOMMIT}{indent}    {body}")

    def _concurrently(self, call: ast.Call, rule: str) -> TextEdit | None:
        """The edit inside the call that adds CONCURRENTLY."""
        assert isinstance(call.func, ast.Attribute)
        name = call.func.attr
        if name == _CALLS.get(rule):
            if any(k.arg in ("postgresql_concurrently", None) for k in call.keywords):
                return None
            last = [*call.args, *(k.value for k in call.keywords)]
            if not last:
                return None
            at = max(self.end(n) for n in last)
            return TextEdit(at, at, ", postgresql_concurrently=True")
        if name != "execute" or len(call.args) != 1 or call.keywords:
            return None
        literal = call.args[0]
        if not (isinstance(literal, ast.Constant) and isinstance(literal.value, str)):
            return None
        start, end = self.start(literal), self.end(literal)
        source = self.text[start:end]
        value = literal.value
        # One plain one-line literal whose source is its value: offsets inside it are sure.
        if source[:1] not in ("'", '"') or source[1:-1] != value or source[-1] != source[0]:
            return None
        if ";" in value.strip().rstrip(";") or (
            rule == "non-concurrent-drop-index" and re.search(r",|\bCASCADE\b", value, re.I)
        ):
            return None
        match = _SQL[rule].match(value)
        if match is None or re.match(r"\s+CONCURRENTLY\b", value[match.end() :], re.I):
            return None
        at = start + 1 + match.end()
        return TextEdit(at, at, " CONCURRENTLY")
