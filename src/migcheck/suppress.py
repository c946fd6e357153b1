"""``migcheck: ignore`` comments: read them, attach them to statements, apply them.

Syntax, in SQL (``--`` or ``/* */``) and in Alembic revisions (``#``)::

    -- migcheck: ignore[drop-column, rename-column] the app stopped reading it in 4.2
    -- migcheck: ignore-file[prefer-text] legacy schema, kept as is

A statement suppression covers the WHOLE statement it is attached to, however many lines
it spans: every finding of the named rules whose position starts inside it. In SQL it is
attached to the statement it sits in (a trailing comment on the first line, or any line
inside it), the statement whose semicolon it follows on the same line, or the statement
right below the block of comment lines it belongs to (no blank line in between). In an
Alembic revision it is attached to the ``op.`` call whose lines it sits on, or the call
right below the block of ``#`` comment lines it belongs to; the lines of a helper function's
call count as the op's lines, as they do for positions. ``ignore-file`` covers the file.

A suppression without a reason still suppresses, and is reported as
``suppression-without-reason``. A suppression that suppresses nothing is reported as
``unused-suppression``, and so is one that is malformed, attached to no statement, or
names a rule id that does not exist. Whether a rule's suppression is used can only be
known when that rule ran, so suppressions of rules turned off in this run are not judged.
The findings of these two rules cannot themselves be suppressed by a comment: fix or
delete the comment, or turn the rule off with ``--ignore``.

SQL comments are read once by the splitter and cached with the statements (see
``statements.load``); the Python comments of an Alembic revision are read here with
``tokenize`` on each run, because the parse cache is keyed by the rendered SQL, not by
the revision's text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, NamedTuple

from migcheck.lazyre import lazy
from migcheck.model import Finding, Span, Statement, SuppressedFinding

if TYPE_CHECKING:
    from migcheck.sources import Migration
    from migcheck.sql.split import Comment

__all__ = [
    "META_RULES",
    "Directive",
    "ParsedDirective",
    "SuppressedFinding",
    "Suppression",
    "apply_suppressions",
    "collect_directives",
    "parse_directive",
    "python_directives",
    "sql_directives",
]

MISSING_REASON = "suppression-without-reason"
UNUSED = "unused-suppression"
# Reported here, about the comments themselves: a comment cannot suppress them.
META_RULES = frozenset({MISSING_REASON, UNUSED})

# (line, column, end_line, end_column) of a statement a directive covers, 1-based inclusive.
Range = tuple[int, int, int, int]

_START = lazy(r"migcheck\s*:", re.I)
_BODY = lazy(
    r"migcheck\s*:\s*(?P<kind>[A-Za-z_-]*)\s*(?P<ids>\[[^\]]*\]?)?(?P<rest>.*)\Z", re.I | re.S
)
_REASON_LEAD = lazy(r"^[\s\-\u2013\u2014:;,.]+")
_PY_DIRECTIVE = lazy(r"#\s*(migcheck\s*:.*)\Z", re.I | re.S)
_USAGE = "write `migcheck: ignore[rule-id] reason` or `migcheck: ignore-file[rule-id] reason`"


@dataclass(frozen=True)
class Directive:
    """One ``migcheck:`` comment, parsed and attached. Picklable: SQL files' directives are
    stored in the parse cache."""

    path: str
    line: int
    column: int
    rules: tuple[str, ...] = ()
    reason: str = ""
    file_level: bool = False
    # The statements it is attached to; empty for ``ignore-file`` and unattached comments.
    covers: tuple[Range, ...] = ()
    # Set when the comment starts with ``migcheck:`` but is not a valid directive.
    error: str = ""

    @property
    def keyword(self) -> str:
        return "ignore-file" if self.file_level else "ignore"


class Suppression(NamedTuple):
    kept: list[Finding]
    suppressed: list[SuppressedFinding]
    meta: list[Finding]  # suppression-without-reason and unused-suppression findings


class ParsedDirective(NamedTuple):
    """What a ``migcheck:`` comment says, before it is attached to statements."""

    rules: tuple[str, ...]
    reason: str
    file_level: bool
    error: str = ""


def parse_directive(text: str) -> ParsedDirective | None:
    """Parse a comment body (without ``--``/``#``/``/* */``). None when it is not a
    ``migcheck:`` comment at all; ``error`` is set when it is one but malformed."""
    body = text.strip()
    if not _START.match(body):
        return None
    m = _BODY.match(body)
    if m is None:  # pragma: no cover - the pattern accepts anything after "migcheck:"
        return ParsedDirective((), "", False, f"not a suppression: {_USAGE}")
    kind = m.group("kind").lower()
    if kind not in ("ignore", "ignore-file"):
        shown = f"`{kind}`" if kind else "nothing"
        return ParsedDirective(
            (), "", False, f"unknown directive {shown} after `migcheck:`: {_USAGE}"
        )
    file_level = kind == "ignore-file"
    ids_text = m.group("ids")
    if not ids_text or not ids_text.endswith("]"):
        return ParsedDirective((), "", file_level, f"no rule ids in brackets: {_USAGE}")
    ids = tuple(dict.fromkeys(p.strip().lower() for p in ids_text[1:-1].split(",") if p.strip()))
    if not ids:
        return ParsedDirective((), "", file_level, f"empty rule list: {_USAGE}")
    reason = " ".join(_REASON_LEAD.sub("", m.group("rest")).split())
    if not any(ch.isalnum() for ch in reason):
        reason = ""
    return ParsedDirective(ids, reason, file_level)


def _directive(
    path: str, line: int, column: int, parsed: ParsedDirective, covers: Iterable[Range]
) -> Directive:
    return Directive(
        path=path,
        line=line,
        column=column,
        rules=parsed.rules,
        reason=parsed.reason,
        file_level=parsed.file_level,
        covers=() if parsed.file_level or parsed.error else tuple(dict.fromkeys(covers)),
        error=parsed.error,
    )


def _range(stmt: Statement) -> Range:
    s = stmt.span
    return (s.line, s.column, s.end_line, s.end_column)


# -- SQL ----------------------------------------------------------------------------------


def sql_directives(
    path: str, comments: Sequence[Comment], statements: Sequence[Statement]
) -> list[Directive]:
    """The directives among a SQL file's comments, attached to its statements (in file
    order, as the splitter gives them)."""
    found = [(c, p) for c in comments if (p := parse_directive(c.text)) is not None]
    if not found:
        return []
    comment_only: set[int] = set()
    for c in comments:
        if c.own_line:
            comment_only.update(range(c.line, c.end_line + 1))
    out: list[Directive] = []
    for c, parsed in found:
        target = _sql_target(c, statements, comment_only)
        covers = [_range(target)] if target is not None else []
        out.append(_directive(path, c.line, c.column, parsed, covers))
    return out


def _sql_target(
    c: Comment, statements: Sequence[Statement], comment_only: set[int]
) -> Statement | None:
    pos = (c.line, c.column)
    for s in statements:
        if (s.span.line, s.span.column) < pos <= (s.span.end_line, s.span.end_column):
            return s  # inside the statement, e.g. at the end of its first line
    if not c.own_line:
        # After a statement's semicolon on the line where it ends.
        before = [
            s for s in statements if s.span.end_line == c.line and s.span.end_column < c.column
        ]
        return before[-1] if before else None
    after = next((s for s in statements if (s.span.line, s.span.column) > pos), None)
    if after is None:
        return None
    # Only comment lines between the directive and the statement: a blank line or a
    # psql meta-command detaches it.
    if all(line in comment_only for line in range(c.end_line + 1, after.span.line)):
        return after
    return None


# -- Python (Alembic) ---------------------------------------------------------------------


class _PyComment(NamedTuple):
    line: int
    column: int
    parsed: ParsedDirective
    own_line: bool
    ends_logical_line: bool


def python_directives(path: str, statements: Sequence[Statement]) -> list[Directive]:
    """The ``# migcheck:`` directives of an Alembic revision file, attached to the
    statements its ``op.`` calls rendered (through ``Statement.comment_lines``, the Python
    lines of each call plus the line above it)."""
    comments, comment_only = _read_python_comments(path)
    out: list[Directive] = []
    for pc in comments:
        covers = [_range(s) for s in statements if _py_attached(pc, s, comment_only)]
        out.append(_directive(path, pc.line, pc.column, pc.parsed, covers))
    return out


def _read_python_comments(path: str) -> tuple[list[_PyComment], set[int]]:
    import io
    import tokenize

    from migcheck.sources.reading import read_tree_bytes

    try:
        data = read_tree_bytes(path)
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (OSError, SyntaxError, UnicodeDecodeError, LookupError):
        return [], set()  # the Alembic reader has already reported an unreadable file
    if "migcheck" not in text.lower():
        return [], set()
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return [], set()
    comment_only: set[int] = set()
    found: list[_PyComment] = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.COMMENT:
            continue
        line, col = tok.start
        own = not tok.line[:col].strip()
        if own:
            comment_only.add(line)
        m = _PY_DIRECTIVE.search(tok.string)
        parsed = parse_directive(m.group(1)) if m else None
        if parsed is None:
            continue
        nxt = tokens[i + 1].type if i + 1 < len(tokens) else tokenize.ENDMARKER
        found.append(_PyComment(line, col + 1, parsed, own, nxt == tokenize.NEWLINE))
    return found, comment_only


def _py_attached(pc: _PyComment, stmt: Statement, comment_only: set[int]) -> bool:
    lines = stmt.comment_lines
    if pc.own_line:
        last = pc.line
        while last + 1 in comment_only:
            last += 1
        return pc.line in lines or last in lines
    # A trailing comment on the line above a call ends the previous Python statement: it
    # belongs to that statement, not to the call below it.
    above_only = pc.ends_logical_line and pc.line + 1 in lines
    return pc.line in lines and not above_only


def collect_directives(
    migration: Migration, statements: Sequence[Statement], sql: Sequence[Directive] = ()
) -> list[Directive]:
    """The directives of one migration: ``sql`` (from ``statements.load``) for SQL files,
    the revision's Python comments for migrations rendered from Alembic."""
    if migration.chunks is not None:
        return python_directives(migration.path, statements)
    return list(sql)


# -- applying -----------------------------------------------------------------------------


def apply_suppressions(
    findings: Iterable[Finding],
    directives: Mapping[str, Sequence[Directive]],
    enabled: Collection[str],
) -> Suppression:
    """Split ``findings`` into kept and suppressed, and judge the directives.

    ``directives`` maps a migration's path (as in ``Finding.path``) to its directives; pass
    only the migrations that were judged. One file read as several migrations (an Alembic
    revision's upgrade and downgrade) may list the same comment once per migration: the
    copies are merged. ``enabled`` is the ids of the rules that ran: only their
    suppressions can be found unused, and the two meta rules report only when enabled.
    Call it once per run (or once per migration, with that migration's findings).
    """
    directives = {path: _merged(dirs) for path, dirs in directives.items()}
    kept: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    used: set[tuple[int, str]] = set()
    for f in findings:
        covering = _covering(f, directives.get(f.path, ()))
        if not covering:
            kept.append(f)
            continue
        for d in covering:
            used.add((id(d), f.rule))
        first = covering[0]
        suppressed.append(SuppressedFinding(f, first.reason, first.line, first.file_level))
    meta: list[Finding] = []
    if MISSING_REASON in enabled or UNUSED in enabled:
        for dirs in directives.values():
            for d in dirs:
                meta.extend(_judge(d, used, enabled))
    return Suppression(kept, suppressed, meta)


def _merged(dirs: Sequence[Directive]) -> list[Directive]:
    by_place: dict[tuple[int, int], Directive] = {}
    for d in dirs:
        seen = by_place.get((d.line, d.column))
        if seen is None:
            by_place[(d.line, d.column)] = d
        elif d.covers:
            covers = tuple(dict.fromkeys((*seen.covers, *d.covers)))
            by_place[(d.line, d.column)] = replace(seen, covers=covers)
    return list(by_place.values())


def _covering(f: Finding, dirs: Sequence[Directive]) -> list[Directive]:
    """The directives suppressing ``f``, statement ones (whose reason is shown) first."""
    if not dirs or f.rule in META_RULES:
        return []
    pos = (f.span.line, f.span.column)
    here = [
        d
        for d in dirs
        if f.rule in d.rules and any((r[0], r[1]) <= pos <= (r[2], r[3]) for r in d.covers)
    ]
    whole = [d for d in dirs if d.file_level and f.rule in d.rules and not d.error]
    return here + whole


def _judge(d: Directive, used: set[tuple[int, str]], enabled: Collection[str]) -> list[Finding]:
    out: list[Finding] = []

    def unused(message: str, help: str) -> None:
        if UNUSED in enabled:
            out.append(_meta(UNUSED, d, message, help))

    if d.error:
        unused(f"Malformed suppression comment: {d.error}.", _HELP_SYNTAX)
        return out
    shown = f"{d.keyword}[{', '.join(d.rules)}]"
    if not d.reason and MISSING_REASON in enabled:
        marker = "#" if d.path.endswith(".py") else "--"
        example = f"{marker} migcheck: {shown} <why this is safe>"
        out.append(
            _meta(
                MISSING_REASON,
                d,
                f"`{shown}` gives no reason: say why the finding is safe after the brackets.",
                f"Write the reason on the same comment, e.g.\n    {example}\n"
                "A reviewer and the next author need it to judge whether the suppression "
                "still holds.",
            )
        )
    if not d.file_level and not d.covers:
        unused(
            f"`{shown}` is not attached to any statement, so it suppresses nothing.",
            "Put it at the end of the statement's first line, or on the line directly above "
            "the statement (only comment lines may come between, no blank line).",
        )
        return out
    from migcheck.rules import rule_index

    known = rule_index()
    for rid in d.rules:
        if rid in META_RULES:
            unused(
                f"`{rid}` cannot be suppressed by a comment.",
                "Fix or delete the comment it is about, or turn the rule off with "
                f"`--ignore {rid}`.",
            )
        elif rid not in known:
            import difflib

            close = difflib.get_close_matches(rid, list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            unused(
                f"Unknown rule id `{rid}` in `{shown}`{hint}: it suppresses nothing.",
                "`migcheck rules` lists every rule id.",
            )
        elif rid in enabled and (id(d), rid) not in used:
            where = "this file" if d.file_level else "this statement"
            unused(
                f"`{shown}` suppresses nothing: no {rid} finding in {where}.",
                "Delete the suppression (the statement no longer needs it), or move it to the "
                "statement it was meant for.",
            )
    return out


_HELP_SYNTAX = (
    "A suppression reads `-- migcheck: ignore[rule-id, other-id] reason` (`#` in an "
    "Alembic revision), on the line directly above the statement or at the end of its "
    "first line; `ignore-file[...]` covers the whole file."
)


def _meta(rule_id: str, d: Directive, message: str, help: str) -> Finding:
    from migcheck.rules import meta_finding

    return meta_finding(rule_id, d.path, Span(d.line, d.column, d.line, d.column), message, help)
