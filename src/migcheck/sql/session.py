"""Readers of transaction control and session settings: BEGIN, COMMIT, ROLLBACK,
SAVEPOINT, RELEASE, SET and RESET, on the token level.

Each returns the statement's ops, or None when the statement is not one it knows.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from migcheck.model import Op
from migcheck.sql.ddl import ParseResult, Recogniser
from migcheck.sql.tokens import Cursor, string_value, text_of


def read_begin(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("begin", source="tokens")], None


def read_start(rec: Recogniser, cur: Cursor) -> ParseResult | None:
    if cur.accept("TRANSACTION"):
        return [Op("begin", source="tokens")], None
    return None


def read_commit(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("commit", source="tokens")], None


def read_rollback(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("WORK") or cur.accept("TRANSACTION")
    if cur.accept("TO"):
        cur.accept("SAVEPOINT")
        return [Op("rollback_to", name=cur.name(), source="tokens")], None
    if cur.accept("PREPARED"):
        return [Op("other", source="tokens")], None
    return [Op("rollback", source="tokens")], None


def read_savepoint(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("savepoint", name=cur.name(), source="tokens")], None


def read_release(rec: Recogniser, cur: Cursor) -> ParseResult:
    cur.accept("SAVEPOINT")
    return [Op("release", name=cur.name(), source="tokens")], None


def read_set(rec: Recogniser, cur: Cursor) -> ParseResult:
    mode = "session"
    if cur.accept("LOCAL"):
        mode = "local"
    else:
        cur.accept("SESSION")
    if cur.at("TRANSACTION") or cur.at("CONSTRAINTS") or cur.at("ROLE"):
        return [Op("set", name=cur.kw().lower(), mode=mode, source="tokens")], None
    name = cur.name()
    if not (cur.accept("TO") or cur.accept_type(TokenType.EQ)):
        cur.accept("TIME", "ZONE")
    value_toks = cur.rest()
    value = text_of(rec.source, value_toks)
    sval = string_value(value_toks[0]) if len(value_toks) == 1 else None
    return [
        Op(
            "set",
            name=name,
            mode=mode,
            values=(sval if sval is not None else value,),
            source="tokens",
        )
    ], None


def read_reset(rec: Recogniser, cur: Cursor) -> ParseResult:
    return [Op("reset", name=cur.name(), source="tokens")], None
