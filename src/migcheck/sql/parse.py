"""Turn one statement's tokens into normalised ``Op`` values.

Two readers sit behind one function, which dispatches on the leading keyword:

* DDL, locks and maintenance (``commands.py``) and transactions and session settings
  (``session.py``) are read on the token level with the recogniser (``ddl.py``).
  sqlglot's tree for DDL is lossy in exactly the places a safety linter looks (see that
  module), and its grammar is keyword-driven, so reading sqlglot's own tokens is exact.
* DML (``UPDATE``, ``DELETE``, ``INSERT``, ``MERGE``, ``WITH``...) and anything the
  token readers do not know is handed to sqlglot's parser (``dml.py``), reusing the
  tokens the splitter already produced. A statement neither reader understands comes
  back with ``unrecognized`` set, which the engine reports as an ``info`` finding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import Op, name_parts
from migcheck.sql import commands, session
from migcheck.sql.ddl import ParseResult, Recogniser
from migcheck.sql.dml import with_sqlglot
from migcheck.sql.tokens import Cursor, expand_multiword

# sqlglot logs "contains unsupported syntax. Falling back to parsing as a 'Command'" for
# every statement it leaves opaque; migcheck reports those itself, precisely.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


def parse_statement(source: str, tokens: Sequence[Token]) -> ParseResult:
    """Ops for one statement (``tokens`` index into ``source``) and, when not understood,
    the reason."""
    if not tokens:
        return [], None
    # sqlglot's parser needs its own multi-word keyword tokens (``ORDER BY``, ``GROUP BY``
    # in a subquery): the word-per-token form is only for the recogniser.
    raw = _expand_command(source, tokens)
    placeholder = _template_placeholder(raw)
    if placeholder is not None:
        return [], placeholder
    tokens = expand_multiword(raw)
    cur = Cursor(tokens)
    rec = Recogniser(source, tokens)
    first = cur.kw()
    handler = _HANDLERS.get(first)
    if handler is not None:
        cur.pos = 1
        result = handler(rec, cur)
        if result is not None:
            unreadable = _unreadable_name(result[0])
            return ([], unreadable) if unreadable else result
    return with_sqlglot(source, raw)


def _template_placeholder(tokens: Sequence[Token]) -> str | None:
    """Why a statement is not understood when it holds a template placeholder
    (``{{ .Schema }}``, ``${schema}``): braces are no PostgreSQL syntax outside a string or
    a dollar-quoted body, so the name they stand for is unknown until the template is
    rendered. Guessing it would print a table as ``""``; saying so is honest."""
    if any(t.token_type in (TokenType.L_BRACE, TokenType.R_BRACE) for t in tokens):
        return (
            "it holds a template placeholder ({{ ... }} or ${...}), which PostgreSQL does "
            "not accept: lint the rendered SQL to check this statement"
        )
    return None


def _unreadable_name(ops: list[Op]) -> str | None:
    """Why the ops cannot be trusted when a table name came out empty (a placeholder the
    recogniser skipped, such as psql's ``:schema.users``): a rule would name it ``""``."""
    for op in ops:
        # CREATE INDEX always names its table (ON t): None means the name was not read.
        missing = op.table is None and op.kind == "create_index"
        if missing or (op.table is not None and any(not part for part in name_parts(op.table))):
            return (
                "a table name could not be read (a placeholder such as :name or %(name)s?): "
                "lint the rendered SQL to check this statement"
            )
    return None


_COMMAND_TYPES = frozenset(
    {
        TokenType.COMMAND,
        TokenType.LOCK,
        TokenType.RENAME,
        TokenType.EXECUTE,
        TokenType.FETCH,
        TokenType.SHOW,
    }
)


def _expand_command(source: str, tokens: Sequence[Token]) -> Sequence[Token]:
    """sqlglot's tokenizer swallows everything after a "command" keyword (VACUUM, LOCK,
    REINDEX, REFRESH...) into one string token. Tokenize that text again, keeping file
    offsets, so the recogniser sees real tokens. DO keeps its body string."""
    if (
        len(tokens) != 2
        or tokens[0].token_type not in _COMMAND_TYPES
        or tokens[1].token_type != TokenType.STRING
        or tokens[0].text.upper() == "DO"
    ):
        return tokens
    from sqlglot.dialects.postgres import Postgres
    from sqlglot.errors import TokenError

    base = tokens[1].start
    text = source[base : tokens[1].end + 1]
    try:
        inner = Postgres().tokenizer().tokenize(text)
    except TokenError:
        return tokens
    shifted = [
        Token(t.token_type, t.text, t.line, t.col, t.start + base, t.end + base, t.comments)
        for t in inner
    ]
    return [tokens[0], *shifted]


Handler = Callable[[Recogniser, Cursor], ParseResult | None]


def _simple(kind: str) -> Handler:
    def handler(rec: Recogniser, cur: Cursor) -> ParseResult:
        return [Op(kind, source="tokens")], None

    return handler


_HANDLERS: dict[str, Handler] = {
    "BEGIN": session.read_begin,
    "START": session.read_start,
    "COMMIT": session.read_commit,
    "END": session.read_commit,
    "ROLLBACK": session.read_rollback,
    "ABORT": session.read_rollback,
    "SAVEPOINT": session.read_savepoint,
    "RELEASE": session.read_release,
    "SET": session.read_set,
    "RESET": session.read_reset,
    "ALTER": commands.read_alter,
    "CREATE": commands.read_create,
    "DROP": commands.read_drop,
    "TRUNCATE": commands.read_truncate,
    "REINDEX": commands.read_reindex,
    "REFRESH": commands.read_refresh,
    "LOCK": commands.read_lock,
    "VACUUM": commands.read_vacuum,
    "CLUSTER": commands.read_cluster,
    "DO": commands.read_do,
    "ANALYZE": _simple("analyze"),
    "ANALYSE": _simple("analyze"),
    "COMMENT": _simple("comment"),
    "GRANT": _simple("grant"),
    "REVOKE": _simple("revoke"),
    "CALL": _simple("call"),
    "NOTIFY": _simple("other"),
    "LISTEN": _simple("other"),
    "DISCARD": _simple("other"),
    "CHECKPOINT": _simple("other"),
}
