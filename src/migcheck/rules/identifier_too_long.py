"""identifier-too-long: a name longer than 63 bytes, which PostgreSQL silently truncates."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import DOT_IN_NAME, Finding, Op, Statement, name_parts
from migcheck.rules import Rule
from migcheck.rules._style import in_tool, verbatim

# NAMEDATALEN is 64 bytes including the terminating zero byte.
MAX_BYTES = 63

# Op kind → what the created name is, in words.
_CREATES = {
    "create_table": "table",
    "create_view": "view",
    "create_index": "index",
    "create_enum": "type",
    "create_type": "type",
    "create_sequence": "sequence",
    "create_schema": "schema",
    "create_function": "function",
    "create_trigger": "trigger",
    "create_policy": "policy",
}
_RENAMES = {
    "rename_table": "table",
    "rename_view": "view",
    "rename_index": "index",
    "rename_type": "type",
    "rename_column": "column",
    "rename_constraint": "constraint",
    "rename_schema": "schema",
}


def truncate(name: str) -> str:
    """What PostgreSQL keeps of ``name``: its first 63 bytes, never splitting a character
    (``pg_mbcliplen``)."""
    return name.encode("utf-8")[:MAX_BYTES].decode("utf-8", errors="ignore")


def _too_long(name: str | None) -> bool:
    return name is not None and len(name.encode("utf-8")) > MAX_BYTES


class IdentifierTooLong(Rule):
    id = "identifier-too-long"
    category = "style"
    severity = "warning"
    summary = "Names longer than 63 bytes are silently truncated by PostgreSQL"
    kinds = frozenset({*_CREATES, *_RENAMES, "add_column", "add_constraint"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for what, name, at in _created_names(op):
            # A qualified name (schema.table) is checked part by part.
            parts = name_parts(name) if what not in ("column", "constraint") else [name]
            for part in (p.replace(DOT_IN_NAME, ".") for p in parts):
                if _too_long(part):
                    yield self._finding(stmt, ctx, what, part, _position(op, stmt, part, at))

    def _finding(self, stmt: Statement, ctx: Context, what: str, name: str, at: Op) -> Finding:
        short = truncate(name)
        size = len(name.encode("utf-8"))
        return self.finding(
            stmt,
            f'The {what} name "{name}" is {size} bytes long: PostgreSQL truncates '
            f"identifiers to {MAX_BYTES} bytes without an error, so the {what} is really "
            f'named "{short}"; tools that compare names (Prisma, Alembic autogenerate) then '
            f"see a difference on every run, and any other name sharing those first "
            f"{MAX_BYTES} bytes collides with it.",
            f"Choose a name of at most {MAX_BYTES} bytes: a shorter one of your own, or "
            f"the name PostgreSQL keeps, written out so the file says what the database "
            f"holds:\n"
            f'    "{short}"'
            + in_tool(
                ctx,
                prisma='\nWith Prisma, set it with `map:` (`@@index([...], map: "...")`, '
                '`@relation(..., map: "...")`) or `@@map`/`@map`.',
                alembic="\nWith SQLAlchemy, pass `name=` or a shorter naming convention.",
            ),
            at,
        )


def _created_names(op: Op) -> Iterator[tuple[str, str, Op | None]]:
    """(kind of object, name, op positioned at it or None) for every name ``op`` creates."""
    k = op.kind
    if k in _CREATES:
        # A CREATE TABLE's op carries the table as its name too.
        if op.name:
            yield _CREATES[k], op.name, None
        if k == "create_table":
            for col in op.columns:
                yield "column", col.name, None
                for con in col.constraints:
                    if con.name:
                        yield "constraint", con.name, None
            for con in op.constraints:
                if con.name:
                    yield "constraint", con.name, None
    elif k in _RENAMES and op.new_name:
        yield _RENAMES[k], op.new_name, op
    elif k == "add_column" and op.column_def is not None:
        yield "column", op.column_def.name, op
        for con in op.column_def.constraints:
            if con.name:
                yield "constraint", con.name, op
    elif k == "add_constraint" and op.constraint is not None and op.constraint.name:
        yield "constraint", op.constraint.name, op


def _position(op: Op, stmt: Statement, name: str, at: Op | None) -> Op:
    """An op pointing at where ``name`` is written (after ``at``'s start when given)."""
    if not verbatim(stmt):
        return at or op
    start = max(0, (at.offset if at is not None and at.offset >= 0 else 0) - stmt.span.start)
    quoted = '"' + name.replace('"', '""') + '"'
    m = re.compile(re.escape(quoted)).search(stmt.text, start)
    # Unquoted, as PostgreSQL reads it: non-ASCII letters are identifier characters too.
    if m is None and re.fullmatch(r"[a-z_\x80-\U0010ffff][a-z0-9_$\x80-\U0010ffff]*", name):
        m = re.compile(r"(?<![\w$\"])" + re.escape(name) + r"(?![\w$])", re.I).search(
            stmt.text, start
        )
    if m is None:
        return at or op
    return Op(op.kind, op.table, offset=stmt.span.start + m.start())
