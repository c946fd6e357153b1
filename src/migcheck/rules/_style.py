"""Shared by the column-style rules (prefer-bigint, prefer-identity, prefer-text,
prefer-timestamptz, ban-char): the columns a statement creates, and where each is written.

Style rules judge new columns only: an existing column's type is a decision already made,
and changing it is a migration of its own (with its own rules).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import ColumnDef, Op, Statement
from migcheck.rules._opcalls import string
from migcheck.sql.scanner import blank, scan


@dataclass
class NewColumn:
    table: str
    column: ColumnDef
    primary_key: bool
    # An Op to hand to ``Rule.finding`` so the finding points at the column definition.
    at: Op


def new_columns(op: Op, stmt: Statement, ctx: Context) -> Iterator[NewColumn]:
    """The columns ``op`` creates: every column of a CREATE TABLE, the column of an
    ADD COLUMN. A ``CREATE TABLE IF NOT EXISTS`` of a table that already exists and an
    ``ADD COLUMN IF NOT EXISTS`` of an existing column create nothing."""
    table = op.table or ""
    if op.kind == "create_table":
        if op.options.get("if_not_exists") and ctx.table(table) is not None:
            return
        pk_cols = {c for con in op.constraints if con.kind == "primary_key" for c in con.columns}
        for col in op.columns:
            pk = col.name in pk_cols or any(c.kind == "primary_key" for c in col.constraints)
            yield NewColumn(table, col, pk, _column_op(op, stmt, col))
    elif op.kind == "add_column" and op.column_def is not None:
        col = op.column_def
        if op.options.get("if_not_exists") and ctx.column(table, col.name) is not None:
            return
        pk = any(c.kind == "primary_key" for c in col.constraints)
        yield NewColumn(table, col, pk, op)


def _column_op(op: Op, stmt: Statement, col: ColumnDef) -> Op:
    """A stand-in Op whose offset is where ``col`` is defined inside CREATE TABLE, so the
    finding points at that line rather than at the statement's first line."""
    offset = _find_column(stmt.text, col) if verbatim(stmt) else -1
    if offset < 0:
        return op
    return Op(op.kind, op.table, column=col.name, offset=stmt.span.start + offset)


def in_tool(ctx: Context, *, prisma: str, alembic: str) -> str:
    """The sentence of advice for the user's own tool ("" for plain SQL: the SQL above is
    all they need), so a Flyway user never reads about SQLAlchemy models."""
    return {"prisma": prisma, "alembic": alembic}.get(ctx.tool, "")


def declaration(ctx: Context, sql: str, column: str, sa_type: str, *extra: str) -> str:
    """The column as the user declares it, indented: ``sql`` for SQL and Prisma's
    migration.sql; in a revision ``sa.Column(...)`` (for ``op.create_table`` or
    ``op.add_column``), ``extra`` being its further arguments."""
    if ctx.tool != "alembic":
        return f"    {sql}"
    args = ", ".join((string(column), sa_type, *extra))
    return f"    sa.Column({args})"


def verbatim(stmt: Statement) -> bool:
    """Whether ``stmt.text`` is the file's text at ``stmt.span`` (so offsets found in it are
    file offsets). Not for SQL extracted from a DO block, which carries the block's span."""
    return stmt.origin is None and stmt.span.end - stmt.span.start == len(stmt.text)


def _find_column(text: str, col: ColumnDef) -> int:
    # A comment may name the column ("-- user_id is the buyer") or sit between the name and
    # its type, or inside the type: blank comments out of both (offsets unchanged), so
    # neither misplaces the finding.
    text = _uncommented(text)
    type_text = _uncommented(col.type.text) if col.type is not None else ""
    quoted = '"' + col.name.replace('"', '""') + '"'
    names = [re.escape(quoted)]
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", col.name):
        names.append(re.escape(col.name))
    pattern = r"(?:(?<=[(,\s])|^)(?:" + "|".join(names) + r")\s+" + re.escape(type_text)
    # Unquoted names were folded to lower case; the file may spell them in any case.
    m = re.search(pattern, text, re.I if len(names) > 1 else 0)
    return m.start() if m else -1


def _uncommented(sql: str) -> str:
    return blank(sql, scan(sql, 0, len(sql)).comments, " ")
