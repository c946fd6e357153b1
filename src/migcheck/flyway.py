"""Which statements Flyway runs outside a transaction on PostgreSQL, as Flyway decides it.

Flyway wraps each SQL migration in a transaction unless its parser marks a statement as
one that cannot run in one. The rule, from Flyway's source:

* ``flyway-core/.../internal/parser/Parser.java`` (``getNextStatement``): a *keyword* is
  a bare word of ASCII letters and ``_`` only, outside parentheses (quoted names, words
  with digits, ``schema.name`` and string literals are not keywords). After each of the
  statement's first 10 keywords (``getTransactionalDetectionCutoff``), the keywords so
  far, upper-cased and joined by single spaces, are matched whole; the first decision
  wins.
* ``flyway-database-postgresql/.../PostgreSQLParser.java``
  (``detectCanExecuteInTransaction``): non-transactional are ``(CREATE|DROP)
  (DATABASE|TABLESPACE|SUBSCRIPTION)``, ``ALTER SYSTEM``, ``(CREATE|DROP)( UNIQUE)? INDEX
  CONCURRENTLY``, ``REINDEX( VERBOSE)? (SCHEMA|DATABASE|SYSTEM)``, ``VACUUM``, ``DISCARD
  ALL``, and, only on a server older than PostgreSQL 12, ``ALTER TYPE … ADD VALUE``.
  ``REINDEX INDEX|TABLE … CONCURRENTLY`` and ``ALTER TABLE … DETACH PARTITION …
  CONCURRENTLY`` are not detected: Flyway runs them in its transaction, where they fail.
* ``flyway-core/.../internal/sqlscript/ParserSqlScript.java``: a script with at least one
  non-transactional statement runs without a transaction; one that also has a
  transactional statement is refused ("Detected both transactional and non-transactional
  statements within the same migration (even though mixed is false)") unless
  ``mixed=true`` is configured (then the whole script runs without a transaction) or the
  script's ``.sql.conf`` sets ``executeInTransaction``, which overrides the detection.
"""

from __future__ import annotations

import re

from migcheck.lazyre import lazy

# Flyway's PostgreSQL patterns, matched against the whole keyword prefix.
_ALWAYS = lazy(
    r"(?:CREATE|DROP) (?:DATABASE|TABLESPACE|SUBSCRIPTION)"
    r"|ALTER SYSTEM"
    r"|(?:CREATE|DROP)(?: UNIQUE)? INDEX CONCURRENTLY"
    r"|REINDEX(?: VERBOSE)? (?:SCHEMA|DATABASE|SYSTEM)"
    r"|VACUUM"
    r"|DISCARD ALL"
)
_ADD_VALUE = lazy(r"ALTER TYPE(?: .*)? ADD VALUE")
CUTOFF = 10
# One token of Flyway's PostgreSQL lexer that matters here: comments, string and
# dollar-quoted literals and quoted names are skipped, parentheses counted, and a word is
# read with its digits, ``$`` and any ``.name`` parts (so ``idx1`` or ``a.b`` is a name).
_TOKEN = lazy(
    r"""(?P<skip>--[^\n\r]*|/\*.*?(?:\*/|\Z)|'(?:[^']|'')*(?:'|\Z)|"(?:[^"]|"")*(?:"|\Z)"""
    r"""|(?P<dollar>\$[A-Za-z_]*\$))"""
    r"""|(?P<open>\()|(?P<close>\))"""
    r"""|(?P<word>[A-Za-z_][A-Za-z0-9_$]*(?:\.(?:"(?:[^"]|"")*"|[A-Za-z0-9_$]+))*)""",
    re.DOTALL,
)
_KEYWORD = lazy(r"[A-Za-z_]+")


def keywords(text: str, limit: int = CUTOFF) -> list[str]:
    """The first ``limit`` keywords of ``text`` as Flyway's parser reads them, upper-cased."""
    found: list[str] = []
    depth = 0
    pos = 0
    while len(found) < limit:
        match = _TOKEN.search(text, pos)
        if match is None:
            break
        pos = match.end()
        if match.group("dollar"):
            # $tag$ … $tag$: skip to the closing tag.
            end = text.find(match.group("dollar"), pos)
            pos = len(text) if end < 0 else end + len(match.group("dollar"))
        elif match.group("open"):
            depth += 1
        elif match.group("close"):
            depth = max(depth - 1, 0)
        elif (word := match.group("word")) and depth == 0 and _KEYWORD.fullmatch(word):
            found.append(word.upper())
    return found


def detected(text: str, pg_version: int) -> str | None:
    """The keywords by which Flyway marks this statement as one to run outside a
    transaction (``CREATE INDEX CONCURRENTLY``, ``VACUUM``, …), or None."""
    prefix = ""
    for word in keywords(text):
        prefix = f"{prefix} {word}" if prefix else word
        if _ALWAYS.fullmatch(prefix) or (pg_version < 12 and _ADD_VALUE.fullmatch(prefix)):
            return prefix
    return None


def non_transactional(text: str, pg_version: int) -> bool:
    """Whether Flyway marks this statement as one to run outside a transaction."""
    return detected(text, pg_version) is not None


def outside_statements(texts: list[str], pg_version: int) -> list[int]:
    """Positions in ``texts`` (one script's statements) that Flyway runs outside a
    transaction; when some are and others are not, Flyway refuses the script unless
    ``mixed=true`` (see the module docstring)."""
    return [i for i, text in enumerate(texts) if non_transactional(text, pg_version)]
