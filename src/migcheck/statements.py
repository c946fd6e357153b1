"""Build the ``Statement`` list of one migration: split once, parse each statement.

SQL files are split with exact file positions. SQL rendered from another language
(Alembic ``SqlChunk``s) is split per chunk and positioned at the Python call that
produced it, or inside the string literal when the source maps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck import cache
from migcheck.model import Finding, Span, Statement
from migcheck.sources import Migration, SqlChunk
from migcheck.suppress import Directive, sql_directives

if TYPE_CHECKING:
    from migcheck.sql.split import RawStatement


# Serialising a file of a million statements costs several times the memory of the
# statements themselves, and parsing it again is no slower than reading such an entry.
CACHE_MAX_STATEMENTS = 20_000


@dataclass
class Loaded:
    """One migration, parsed: what the parse cache stores."""

    statements: list[Statement]
    findings: list[Finding]
    # The ``migcheck: ignore`` comments of a SQL file. An Alembic revision's ``#`` comments
    # are read by ``suppress.collect_directives``: the cache is keyed by the rendered SQL.
    directives: list[Directive] = field(default_factory=list)


def load(migration: Migration, *, use_cache: bool = True) -> Loaded:
    """One migration's statements, split findings and directives, from the parse cache
    when the file is unchanged (``use_cache=False``: parsed, for a caller that keeps the
    parse itself, as the per-history cache does)."""
    key = cache.key(migration) if use_cache else None
    hit = cache.load(key, Loaded)
    if hit is not None:
        return hit
    loaded = parse(migration)
    if len(loaded.statements) <= CACHE_MAX_STATEMENTS:
        cache.store(key, loaded, Loaded)
    return loaded


def parse(migration: Migration) -> Loaded:
    """One migration parsed, bypassing the parse cache (the language server's unsaved
    buffers: one entry per keystroke would fill the cache with text nobody saved)."""
    statements, findings, directives = _load(migration)
    return Loaded(_with_embedded(statements), findings, directives)


def load_statements(migration: Migration) -> tuple[list[Statement], list[Finding]]:
    """Statements of one migration, from the parse cache when the file is unchanged."""
    loaded = load(migration)
    return loaded.statements, loaded.findings


def _with_embedded(statements: list[Statement]) -> list[Statement]:
    """Add the statements a DO block or function body runs (literal EXECUTE strings and
    bare DDL), right after the statement that contains them, so rules check them too."""
    if not any(op.kind in ("do", "create_function") for s in statements for op in s.ops):
        return statements
    from migcheck.dynamic import embedded_statements

    out: list[Statement] = []
    for stmt in statements:
        out.append(stmt)
        for inner in embedded_statements(stmt):
            inner.embedded = True
            out.append(inner)
    for i, s in enumerate(out):
        s.index = i
    return out


def _load(migration: Migration) -> tuple[list[Statement], list[Finding], list[Directive]]:
    # sqlglot takes most of the start-up time; a run whose files are all cached never
    # imports it.
    from migcheck.sql.split import split_sql

    if migration.chunks is not None:
        return (*_from_chunks(migration, migration.chunks), [])
    text = migration.text or ""
    result = split_sql(text)
    # Each raw statement holds its sqlglot tokens; let them go as soon as it is parsed,
    # so a file's tokens and its parsed statements are not all alive at once.
    raws, result.statements = result.statements, []
    raws.reverse()
    statements = []
    while raws:
        statements.append(_statement(migration.path, text, raws.pop()))
    findings = [_syntax_error(migration.path, e.line, e.column, e.message) for e in result.errors]
    directives = sql_directives(migration.path, result.comments, statements)
    return statements, findings, directives


def _statement(path: str, source: str, raw: RawStatement) -> Statement:
    from migcheck.sql.parse import parse_statement

    ops, reason = parse_statement(source, raw.tokens)
    return Statement(
        path=path,
        index=raw.index,
        text=raw.text,
        span=raw.span,
        ops=ops,
        unrecognized=reason,
    )


def _syntax_error(path: str, line: int, column: int, message: str) -> Finding:
    from migcheck.rules import meta_finding

    return meta_finding(
        "syntax-error",
        path,
        Span(line, column, line, column),
        message,
        "PostgreSQL stops at this point too: close the quote, dollar-quote or comment.",
    )


def _from_chunks(
    migration: Migration, chunks: list[SqlChunk]
) -> tuple[list[Statement], list[Finding]]:
    from migcheck.sql.parse import parse_statement
    from migcheck.sql.split import split_sql

    statements: list[Statement] = []
    findings: list[Finding] = []
    for chunk in chunks:
        result = split_sql(chunk.sql)
        for raw in result.statements:
            ops, reason = parse_statement(chunk.sql, raw.tokens)
            span = _chunk_span(chunk, raw)
            statements.append(
                Statement(
                    path=migration.path,
                    index=len(statements),
                    text=raw.text,
                    span=span,
                    ops=ops,
                    unrecognized=reason,
                    comment_lines=chunk.comment_lines,
                    origin=chunk.origin or "op",
                    autocommit=chunk.autocommit,
                )
            )
        for err in result.errors:
            line, col = chunk.line, chunk.column
            if chunk.sql_line is not None and chunk.sql_column is not None:
                line = chunk.sql_line + err.line - 1
                col = err.column + (chunk.sql_column - 1 if err.line == 1 else 0)
            findings.append(_syntax_error(migration.path, line, col, err.message))
    return statements, findings


def _chunk_span(chunk: SqlChunk, raw: RawStatement) -> Span:
    if chunk.sql_line is None or chunk.sql_column is None:
        return Span(chunk.line, chunk.column, chunk.end_line, chunk.end_column)
    s = raw.span
    line = chunk.sql_line + s.line - 1
    col = s.column + (chunk.sql_column - 1 if s.line == 1 else 0)
    end_line = chunk.sql_line + s.end_line - 1
    end_col = s.end_column + (chunk.sql_column - 1 if s.end_line == 1 else 0)
    return Span(line, col, end_line, end_col)
