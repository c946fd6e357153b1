"""opaque-ddl: a DO block or PL/pgSQL function that builds DDL at run time.

The SQL a DO block runs as literal text (bare statements, ``EXECUTE 'literal'``) is
linted like the rest of the file (see ``migcheck.dynamic``). What is left is SQL assembled
at run time: ``EXECUTE 'ALTER TABLE ' || quote_ident(t) || ...``, ``EXECUTE format(...)``
with run-time arguments, ``EXECUTE r.cmd``. No static linter can see the table it locks or
the column it drops, so this rule says so instead of passing the migration silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste, suppression

if TYPE_CHECKING:
    from migcheck.dynamic import DynamicExecute


class OpaqueDdl(Rule):
    id = "opaque-ddl"
    category = "locking"
    severity = "warning"
    summary = "DDL the static view cannot see: EXECUTE of SQL built at run time"
    kinds = frozenset({"do", "create_function"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not op.body:
            return
        # Imported here: only migrations with DO blocks or functions need the analyser.
        from migcheck.dynamic import analyse_body

        analysis = analyse_body(op.body)
        # A DO block runs now: anything that may be DDL counts, including EXECUTE of a
        # value nobody can see (``EXECUTE r.cmd``). A function runs when called, often with
        # SQL handed in by its caller: only what visibly builds DDL (an ``ALTER TABLE``
        # prefix) counts.
        hidden = analysis.opaque_ddl if op.kind == "do" else [d for d in analysis.dynamic if d.ddl]
        hidden = [d for d in hidden if not _roles_only(d) and not _new_table_only(d, ctx)]
        if not hidden:
            return
        first = hidden[0]
        line = _file_line(stmt, op.body, analysis.code_offset, first)
        what = first.verb or "SQL"
        built = _shorten(first.text)
        if op.kind == "do":
            where = f"The DO block at line {stmt.span.line}"
            when = "runs"
        else:
            where = f'Function "{op.name}" (line {stmt.span.line})'
            when = "runs, when called,"
        more = f" (and {len(hidden) - 1} more)" if len(hidden) > 1 else ""
        kind = f"the {what} it runs" if first.ddl else "whether it changes the schema at all"
        message = (
            f"{where} {when} `EXECUTE {built}` at line {line}{more}: SQL built at run time, "
            f"so migcheck cannot check {kind}: which table it locks and for how long, or "
            f"whether it breaks the app version still running."
        )
        help = (
            "Write the statements out, one per table, as "
            + (
                "op calls (or op.execute of literal SQL) in the revision"
                if ctx.tool == "alembic"
                else "plain SQL in the migration"
            )
            + " (inside the DO block is fine: literal statements there are checked). "
            "If the block has "
            "to stay dynamic (it loops over tables), review what it generates: print each "
            "statement first (`RAISE NOTICE '%', sql;` instead of `EXECUTE`), check those "
            "by hand or with migcheck, and bound the locks it takes:\n"
            + paste(ctx, "SET lock_timeout = '2s';")
            + "\nOnce reviewed, silence this finding with a "
            f"`{suppression(ctx, self.id)}` comment on the line before the statement."
        )
        yield self.finding(stmt, message, help, op)


# The literal prefix of an EXECUTE argument: ``'CREATE ROLE ' || name``, ``E'...'``,
# ``format('GRANT %I ...', ...)``.
_LEADING_LITERAL = lazy(r"^\s*(?:format\s*\(\s*)?[Ee]?'((?:[^']|'')*)'", re.S)
# Statements that act on roles, privileges and defaults only: they lock no table and
# change nothing the running app reads, so building them at run time hides nothing a
# migration linter checks (Supabase and installer migrations create roles this way).
_ROLE_STATEMENTS = lazy(
    r"\s*(?:(?:CREATE|ALTER|DROP)\s+(?:ROLE|USER|GROUP)\b"
    r"|ALTER\s+DEFAULT\s+PRIVILEGES\b|GRANT\b|REVOKE\b"
    r"|CREATE\s+SCHEMA\b|ALTER\s+DATABASE\s+\S+\s+(?:SET|RESET)\b)",
    re.I,
)


def _roles_only(item: DynamicExecute) -> bool:
    """True for a dynamic ``EXECUTE 'CREATE ROLE ' || name`` and its kin."""
    m = _LEADING_LITERAL.match(item.text)
    return m is not None and _ROLE_STATEMENTS.match(m.group(1)) is not None


# What a run-time CREATE TABLE may lock besides the new table: the parent it becomes a
# partition of (ACCESS EXCLUSIVE), the tables it references or inherits from.
_CREATE_TABLE = lazy(r"\s*CREATE\s+(?:UNLOGGED\s+)?TABLE\b", re.I)
_PARTITION_OF = lazy(
    r"\bPARTITION\s+OF\s+((?:\"[^\"]+\"|[\w$]+)(?:\.(?:\"[^\"]+\"|[\w$]+))?)", re.I
)
_LOCKS_OTHERS = lazy(r"\b(?:REFERENCES|INHERITS|LIKE)\b", re.I)


def _new_table_only(item: DynamicExecute, ctx: Context) -> bool:
    """True for ``EXECUTE format('CREATE TABLE t_%s (...)', ...)``: a table nobody uses yet,
    built in a loop (one per tenant, one partition per workspace). It stays opaque when its
    text references or inherits other tables, or attaches to a parent the app already uses."""
    m = _LEADING_LITERAL.match(item.text)
    if m is None or not _CREATE_TABLE.match(m.group(1)) or _LOCKS_OTHERS.search(item.text):
        return False
    parents = _PARTITION_OF.findall(item.text)
    return all(ctx.is_new_table(_fold_name(p)) for p in parents)


def _fold_name(name: str) -> str:
    """A name as written in SQL text, folded the way ops hold it (``public.`` dropped)."""
    parts = [
        p[1:-1] if p.startswith('"') else p.lower() for p in re.findall(r'"[^"]+"|[^.]+', name)
    ]
    folded = ".".join(parts)
    return folded[len("public.") :] if folded.startswith("public.") else folded


def _file_line(stmt: Statement, body: str, code_offset: int, item: DynamicExecute) -> int:
    """The file line of the EXECUTE when the body is written verbatim in the statement
    (dollar-quoted); else the statement's first line."""
    at = stmt.text.find(body)
    if at < 0 or code_offset < 0:
        return stmt.span.line
    return stmt.span.line + stmt.text.count("\n", 0, at + code_offset) + item.line - 1


def _shorten(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
