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
SPLIT_TITLE = (
    "Add the constraint NOT VALID (postgresql_not_valid=True), then VALIDATE CONSTRAINT in "
    "an autocommit_block, outside the revision's transaction"
)
_CONSTRAINTS = {"create_foreign_key": "source_table", "create_check_constraint": "table_name"}
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
    revision = _Revision(text, tree, _without_convention(migration.path))
    statements = parse(migration).statements
    planned = FileFixes(migration.path, text, "alembic")
    for finding in sorted(findings, key=lambda f: f.sort_key):
        stmt = statement_of(finding, statements)
        call = revision.call_at(finding.line, finding.column)
        if stmt is None or call is None:
            continue
        if finding.rule == "constraint-without-not-valid" and not stmt.autocommit:
            edit = revision.split_constraint(call)
            if edit is not None:
                planned.fixes.append((finding, Fix(SPLIT_TITLE, finding.rule, [edit])))
            continue
        if finding.rule not in _SQL or (finding.rule == "non-concurrent-reindex" and pg < 12):
            continue
        edit = revision.rewrite(call, finding.rule, wrap=not stmt.autocommit)
        if edit is not None:
            planned.fixes.append((finding, Fix(TITLE, finding.rule, [edit])))
    return planned


def _is_op_f(node: ast.expr | None) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (node.func.value.id, node.func.attr) == ("op", "f")
        and len(node.args) == 1
        and not node.keywords
    )


def _without_convention(revision_path: str) -> bool:
    """Whether the project's env.py (next to ``versions/``) sets ``target_metadata =
    None``, so Alembic applies no naming convention to the names a revision writes."""
    import os

    from migcheck.sources.reading import read_text_in_tree

    env = os.path.join(os.path.dirname(os.path.dirname(revision_path)), "env.py")
    text = read_text_in_tree(env)
    return (
        text is not None and re.search(r"^target_metadata\s*=\s*None\s*$", text, re.M) is not None
    )


class _Revision:
    def __init__(self, text: str, tree: ast.Module, no_convention: bool) -> None:
        self.text = text
        self.no_convention = no_convention
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

    def _own_lines(self, call: ast.Call) -> tuple[int, str] | None:
        """Where the call's first line starts and its indent, when the call is a whole
        statement on lines of its own (a trailing comment allowed)."""
        start, end = self.start(call), self.end(call)
        line_start = self.starts[call.lineno - 1]
        indent = self.text[line_start:start]
        rest = self.text[end : self.starts[(call.end_lineno or call.lineno)]]
        if id(call) not in self.statements or indent.strip():
            return None
        if rest.strip() and not rest.strip().startswith("#"):
            return None
        return line_start, indent

    def split_constraint(self, call: ast.Call) -> TextEdit | None:
        """``op.create_foreign_key``/``op.create_check_constraint`` NOT VALID, followed by
        the VALIDATE in an autocommit block (the ADD's lock is released before the scan)."""
        from migcheck.quoting import ident_part

        assert isinstance(call.func, ast.Attribute)
        table_key = _CONSTRAINTS.get(call.func.attr)
        keywords = {k.arg: k.value for k in call.keywords}
        if table_key is None or None in keywords or "postgresql_not_valid" in keywords:
            return None
        if keywords.keys() & {"schema", "source_schema"}:
            return None  # the VALIDATE would have to name the schema the same way
        name = call.args[0] if call.args else keywords.get("constraint_name")
        table = call.args[1] if len(call.args) > 1 else keywords.get(table_key)
        if _is_op_f(name):
            assert isinstance(name, ast.Call)
            name = name.args[0]  # op.f(): the name is final whatever the convention
        elif not self.no_convention:
            # A naming convention (``ck_%(table_name)s_%(constraint_name)s``) would make
            # the constraint's real name differ from the one written here.
            return None
        place = self._own_lines(call)
        if place is None or not (
            isinstance(name, ast.Constant) and isinstance(table, ast.Constant)
        ):
            return None
        if not (isinstance(name.value, str) and isinstance(table.value, str)):
            return None
        indent = place[1]
        at = max(self.end(n) for n in [*call.args, *(k.value for k in call.keywords)])
        line_end = self.starts[call.end_lineno or call.lineno]
        sql = f"ALTER TABLE {ident_part(table.value)} VALIDATE CONSTRAINT {ident_part(name.value)}"
        start = self.start(call)
        new = (
            self.text[start:at]
            + ", postgresql_not_valid=True"
            + self.text[at:line_end]
            + f"{indent}{_AUTOCOMMIT}{indent}    op.execute({sql!r})\n"
        )
        return TextEdit(start, line_end, new)

    def rewrite(self, call: ast.Call, rule: str, *, wrap: bool) -> TextEdit | None:
        assert isinstance(call.func, ast.Attribute)
        inner = self._concurrently(call, rule)
        if inner is None:
            return None
        start, end = self.start(call), self.end(call)
        new = self.text[start : inner.start] + inner.new + self.text[inner.end : end]
        if not wrap:
            return TextEdit(start, end, new)
        place = self._own_lines(call)
        if place is None:
            return None  # the call shares its line with other code
        line_start, indent = place
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
