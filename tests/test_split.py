"""Splitting SQL files into statements and comments, with exact positions.

Every assertion is on exact values (text, 1-based line/column, offsets) so that an
off-by-one anywhere in the position arithmetic fails a test.
"""

from __future__ import annotations

import random
import re

import pytest
from sqlglot.tokens import TokenType

from migcheck.model import Span
from migcheck.sql.split import (
    Comment,
    LineIndex,
    RawStatement,
    SplitError,
    SplitResult,
    line_col,
    split_sql,
)


def stmts(sql: str) -> list[tuple[str, int, int, int, int]]:
    """(text, line, column, end_line, end_column) of each statement; no errors allowed."""
    result = split_sql(sql)
    assert result.errors == []
    return [
        (s.text, s.span.line, s.span.column, s.span.end_line, s.span.end_column)
        for s in result.statements
    ]


def comments(sql: str) -> list[tuple[str, int, int, int, bool]]:
    return [(c.text, c.line, c.column, c.end_line, c.own_line) for c in split_sql(sql).comments]


# --- statements --------------------------------------------------------------------------


def test_simple_statements_have_exact_spans_offsets_and_ordinals() -> None:
    sql = "CREATE TABLE a (id int);\nDROP TABLE b;\n"
    result = split_sql(sql)
    assert isinstance(result, SplitResult)
    assert result.errors == []
    assert result.comments == []
    first, second = result.statements
    assert isinstance(first, RawStatement)
    assert first.text == "CREATE TABLE a (id int)"
    assert first.span == Span(1, 1, 1, 23, 0, 23)
    assert first.index == 0
    assert second.text == "DROP TABLE b"
    assert second.span == Span(2, 1, 2, 12, 25, 37)
    assert second.index == 1
    for statement in result.statements:
        assert sql[statement.span.start : statement.span.end] == statement.text


def test_tokens_belong_to_their_statement_and_exclude_the_semicolon() -> None:
    sql = "SELECT 1;\nSELECT 'x', 2;"
    first, second = split_sql(sql).statements
    assert [t.text for t in first.tokens] == ["SELECT", "1"]
    assert [t.token_type for t in second.tokens] == [
        TokenType.SELECT,
        TokenType.STRING,
        TokenType.COMMA,
        TokenType.NUMBER,
    ]
    assert all(t.token_type != TokenType.SEMICOLON for t in first.tokens + second.tokens)
    assert second.tokens[0].start == second.span.start == 10
    assert second.tokens[-1].end + 1 == second.span.end == 23


def test_multiline_statement_ends_on_its_last_token() -> None:
    sql = "ALTER TABLE users\n    ADD COLUMN age int,\n    ADD COLUMN bio text;\n"
    assert stmts(sql) == [
        (
            "ALTER TABLE users\n    ADD COLUMN age int,\n    ADD COLUMN bio text",
            1,
            1,
            3,
            23,
        )
    ]


def test_multiline_string_token_positions() -> None:
    sql = "SELECT 'a\nbc'\n  ;  SELECT 'x\ny\nz' AS q"
    assert stmts(sql) == [
        ("SELECT 'a\nbc'", 1, 1, 2, 3),
        ("SELECT 'x\ny\nz' AS q", 3, 6, 5, 7),
    ]


def test_last_statement_without_semicolon() -> None:
    assert stmts("SELECT 1;\nSELECT 2") == [("SELECT 1", 1, 1, 1, 8), ("SELECT 2", 2, 1, 2, 8)]


def test_empty_statements_are_skipped_and_ordinals_stay_dense() -> None:
    result = split_sql(";;SELECT 1;;\n;  ;SELECT 2;;")
    assert [(s.text, s.index, s.span.line, s.span.column) for s in result.statements] == [
        ("SELECT 1", 0, 1, 3),
        ("SELECT 2", 1, 2, 5),
    ]


def test_empty_text_and_whitespace_only() -> None:
    assert split_sql("") == SplitResult([], [], [])
    assert split_sql(" \n\t\r\n ") == SplitResult([], [], [])


def test_semicolons_inside_strings_identifiers_comments_and_bodies() -> None:
    sql = (
        "SELECT 'a;b', \"c;d\" -- e;f\n"
        ";/* g; /* h; */ i; */ SELECT $$j;k$$;\n"
        "SELECT $fn$ l; $$ m; $fn$; SELECT 'it''s;' AS \"q\"\"; \""
    )
    assert stmts(sql) == [
        ("SELECT 'a;b', \"c;d\"", 1, 1, 1, 19),
        ("SELECT $$j;k$$", 2, 23, 2, 36),
        ("SELECT $fn$ l; $$ m; $fn$", 3, 1, 3, 25),
        ("SELECT 'it''s;' AS \"q\"\"; \"", 3, 28, 3, 53),
    ]


def test_dollar_tags_are_case_sensitive_and_dollars_inside_names_are_no_quote() -> None:
    sql = "SELECT $a$ ; $A$ ; $a$; SELECT foo$bar$, $1;"
    assert stmts(sql) == [
        ("SELECT $a$ ; $A$ ; $a$", 1, 1, 1, 22),
        ("SELECT foo$bar$, $1", 1, 25, 1, 43),
    ]


def test_escape_strings_with_backslashes() -> None:
    sql = "SELECT E'it\\'s;', e'\\\\';\nSELECT 'plain\\';"
    assert stmts(sql) == [
        ("SELECT E'it\\'s;', e'\\\\'", 1, 1, 1, 23),
        # A backslash does not escape in a standard string: the quote after it closes it.
        ("SELECT 'plain\\'", 2, 1, 2, 15),
    ]
    first = split_sql(sql).statements[0]
    assert [t.text for t in first.tokens if t.token_type == TokenType.BYTE_STRING] == [
        "it's;",
        "\\",
    ]


def test_unicode_strings_and_identifiers() -> None:
    sql = "SELECT U&'d\\0061t;' UESCAPE '!';\nSELECT U&\"d;\" FROM t;"
    assert stmts(sql) == [
        ("SELECT U&'d\\0061t;' UESCAPE '!'", 1, 1, 1, 31),
        ('SELECT U&"d;" FROM t', 2, 1, 2, 20),
    ]


def test_nested_block_comments() -> None:
    sql = "/* a /* b; */ c; */ SELECT 1 /* x /* y */ z */;\nSELECT 2;"
    assert stmts(sql) == [("SELECT 1", 1, 21, 1, 28), ("SELECT 2", 2, 1, 2, 8)]
    assert comments(sql) == [("a /* b; */ c;", 1, 1, 1, True), ("x /* y */ z", 1, 30, 1, False)]


def test_comment_opener_right_after_an_opener_nests_like_postgres() -> None:
    # sqlglot does not count the second "/*" here; Postgres does, so the comment ends at
    # the second "*/" and "SELECT 1" is the only statement.
    sql = "/*/* a */ */ SELECT 1;\nSELECT 2 /*/**/*/;"
    assert stmts(sql) == [("SELECT 1", 1, 14, 1, 21), ("SELECT 2", 2, 1, 2, 8)]
    assert comments(sql) == [("/* a */", 1, 1, 1, True), ("/**/", 2, 10, 2, False)]


def test_comments_only_file() -> None:
    sql = "-- just a note\n/* and\n   a block */\n"
    result = split_sql(sql)
    assert result.statements == []
    assert result.errors == []
    assert result.comments == [
        Comment("just a note", 1, 1, 1, True),
        Comment("and\n   a block", 2, 1, 3, True),
    ]


def test_bom_is_not_a_column() -> None:
    sql = "\ufeffSELECT 1; -- hi\nSELECT 2;"
    result = split_sql(sql)
    first, second = result.statements
    assert first.text == "SELECT 1"
    assert first.span == Span(1, 1, 1, 8, 1, 9)
    assert [t.text for t in first.tokens] == ["SELECT", "1"]
    assert second.span == Span(2, 1, 2, 8, 17, 25)
    assert result.comments == [Comment("hi", 1, 11, 1, False)]


def test_bom_then_comment_is_on_its_own_line() -> None:
    assert comments("\ufeff-- top\nSELECT 1;") == [("top", 1, 1, 1, True)]


def test_crlf_line_endings() -> None:
    sql = "SELECT 1;\r\n-- note\r\nSELECT\r\n  2;\r\n"
    assert stmts(sql) == [("SELECT 1", 1, 1, 1, 8), ("SELECT\r\n  2", 3, 1, 4, 3)]
    assert comments(sql) == [("note", 2, 1, 2, True)]


def test_tabs_count_as_one_column_and_non_ascii_counts_characters() -> None:
    sql = "\tSELECT 'été', \"naïve\";\t\tSELECT 'ü'"
    assert stmts(sql) == [
        ("SELECT 'été', \"naïve\"", 1, 2, 1, 22),
        ("SELECT 'ü'", 1, 26, 1, 35),
    ]


def test_non_ascii_before_a_statement_on_later_lines() -> None:
    sql = "-- naïve café ☕\nSELECT '日本語'; SELECT 2"
    assert stmts(sql) == [("SELECT '日本語'", 2, 1, 2, 12), ("SELECT 2", 2, 15, 2, 22)]


def test_operators_and_casts_stay_inside_the_statement() -> None:
    sql = "SELECT a::int, b->>'k', c @> d, e || f FROM t WHERE g <> h;"
    (statement,) = split_sql(sql).statements
    assert statement.text == sql[:-1]
    assert [t.text for t in statement.tokens][:4] == ["SELECT", "a", "::", "int"]


def test_semicolons_inside_parentheses_do_not_split_like_psql() -> None:
    sql = "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY t);\nSELECT 1;"
    assert stmts(sql) == [
        (
            "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); NOTIFY t)",
            1,
            1,
            1,
            76,
        ),
        ("SELECT 1", 2, 1, 2, 8),
    ]


def test_begin_atomic_body_is_one_statement_like_psql() -> None:
    sql = (
        "SET x = 1;\n"
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql\n"
        "BEGIN ATOMIC\n"
        "  SELECT 1;\n"
        "  SELECT CASE WHEN true THEN 2 END;\n"
        "END;\n"
        "BEGIN;\n"
        "SELECT 3;\n"
        "END;\n"
        "CREATE PROCEDURE p() BEGIN ATOMIC SELECT 4; END"
    )
    assert stmts(sql) == [
        ("SET x = 1", 1, 1, 1, 9),
        (sql[11 : sql.index("END;\nBEGIN") + 3], 2, 1, 6, 3),
        ("BEGIN", 7, 1, 7, 5),
        ("SELECT 3", 8, 1, 8, 8),
        ("END", 9, 1, 9, 3),
        ("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 4; END", 10, 1, 10, 47),
    ]


def test_plpgsql_dollar_body_is_one_statement() -> None:
    sql = (
        "CREATE FUNCTION trg() RETURNS trigger AS $body$\n"
        "BEGIN\n"
        "  NEW.x := 1;\n"
        "  RETURN NEW;\n"
        "END;\n"
        "$body$ LANGUAGE plpgsql;\n"
        "DO $$ BEGIN PERFORM 1; END $$;"
    )
    assert stmts(sql) == [
        (sql[: sql.index(";\nDO")], 1, 1, 6, 23),
        ("DO $$ BEGIN PERFORM 1; END $$", 7, 1, 7, 29),
    ]


def test_command_string_tokens_get_true_offsets() -> None:
    # sqlglot swallows the rest of a LOCK/VACUUM/DO... statement into one STRING token
    # whose own start/end are wrong; the splitter fixes them.
    sql = "BEGIN;\nLOCK TABLE t\n  IN ACCESS EXCLUSIVE MODE ;\nVACUUM (ANALYZE) t"
    result = split_sql(sql)
    lock = result.statements[1]
    assert lock.text == "LOCK TABLE t\n  IN ACCESS EXCLUSIVE MODE"
    assert lock.span == Span(2, 1, 3, 26, 7, 46)
    assert [t.token_type for t in lock.tokens] == [TokenType.LOCK, TokenType.STRING]
    rest = lock.tokens[1]
    assert (rest.start, rest.end) == (12, 45)
    assert sql[rest.start : rest.end + 1] == rest.text
    vacuum = result.statements[2]
    assert vacuum.text == "VACUUM (ANALYZE) t"
    assert vacuum.span == Span(4, 1, 4, 18, 49, 67)
    assert sql[vacuum.tokens[1].start : vacuum.tokens[1].end + 1] == "(ANALYZE) t"


def test_comments_inside_command_strings_are_found() -> None:
    sql = "LOCK TABLE t -- why: backfill\n  IN SHARE MODE;\nSHOW x; -- after\nEXECUTE p('--no')"
    assert comments(sql) == [("why: backfill", 1, 14, 1, False), ("after", 3, 9, 3, False)]
    assert [s.text for s in split_sql(sql).statements] == [
        "LOCK TABLE t -- why: backfill\n  IN SHARE MODE",
        "SHOW x",
        "EXECUTE p('--no')",
    ]


# --- comments ----------------------------------------------------------------------------


def test_ignore_comment_on_the_line_before_a_statement() -> None:
    sql = "SELECT 1;\n  -- migcheck: ignore[add-column]\nALTER TABLE t ADD COLUMN c int;\n"
    result = split_sql(sql)
    assert result.comments == [Comment("migcheck: ignore[add-column]", 2, 3, 2, True)]
    assert result.statements[1].span.line == 3


def test_ignore_comment_at_end_of_a_statements_first_line() -> None:
    sql = "ALTER TABLE t -- migcheck: ignore[x]\n  ADD COLUMN c int NOT NULL;\n"
    result = split_sql(sql)
    assert result.comments == [Comment("migcheck: ignore[x]", 1, 15, 1, False)]
    (statement,) = result.statements
    assert statement.span == Span(1, 1, 2, 27, 0, 64)
    assert statement.text == "ALTER TABLE t -- migcheck: ignore[x]\n  ADD COLUMN c int NOT NULL"


def test_ignore_comment_after_the_semicolon() -> None:
    sql = "DROP TABLE t; -- migcheck: ignore[drop-table]\n"
    assert comments(sql) == [("migcheck: ignore[drop-table]", 1, 15, 1, False)]


def test_comment_markers_inside_literals_are_not_comments() -> None:
    sql = "SELECT '-- no', '/* no */', \"--no\", $$ -- no $$, E'\\' -- no' -- yes\n"
    assert comments(sql) == [("yes", 1, 62, 1, False)]


def test_comments_between_tokens_and_at_the_end() -> None:
    sql = "SELECT /* a */ 1 --b\n, /*c\nd*/ 2\n/**/-- last"
    assert comments(sql) == [
        ("a", 1, 8, 1, False),
        ("b", 1, 18, 1, False),
        ("c\nd", 2, 3, 3, False),
        ("", 4, 1, 4, True),
        ("last", 4, 5, 4, False),
    ]


def test_dash_comment_ends_at_a_lone_carriage_return() -> None:
    sql = "SELECT 1 -- a\rSELECT 2;"
    assert comments(sql) == [("a", 1, 10, 1, False)]
    assert stmts(sql) == [("SELECT 1 -- a\rSELECT 2", 1, 1, 2, 8)]


# --- psql meta-commands ------------------------------------------------------------------


def test_psql_meta_command_lines_are_skipped_and_end_a_statement() -> None:
    sql = (
        "\\set ON_ERROR_STOP on\n"
        "SELECT 1\n"
        "  \\gset\n"
        "\\connect other -- not a comment\n"
        "SELECT 2;\n"
        "\\echo 'unbalanced\n"
        "SELECT 3;"
    )
    result = split_sql(sql)
    assert result.errors == []
    assert [(s.text, s.span.line, s.span.column, s.index) for s in result.statements] == [
        ("SELECT 1", 2, 1, 0),
        ("SELECT 2", 5, 1, 1),
        ("SELECT 3", 7, 1, 2),
    ]
    assert result.comments == []


def test_backslash_lines_inside_literals_are_not_meta_commands() -> None:
    sql = "SELECT E'a\n\\n;b';\n\\set x 1\nSELECT $$\n\\d$$;"
    assert stmts(sql) == [("SELECT E'a\n\\n;b'", 1, 1, 2, 5), ("SELECT $$\n\\d$$", 4, 1, 5, 4)]


def test_backslash_in_the_middle_of_a_line_stays_in_the_statement() -> None:
    (statement,) = split_sql("SELECT 1 \\gset\n").statements
    assert statement.text == "SELECT 1 \\gset"
    # The same with a real meta-command in the file, which runs our own scanner.
    assert stmts("\\set x 1\nSELECT 2 \\gset\nSELECT 3;") == [
        ("SELECT 2 \\gset\nSELECT 3", 2, 1, 3, 8)
    ]


def test_scanner_knows_dollars_inside_names_are_no_quote() -> None:
    # A meta-command makes our scanner read the file; "$bar$" inside a name must not open
    # a dollar-quote there either.
    assert stmts("\\set x 1\nSELECT foo$bar$ FROM t; SELECT 1") == [
        ("SELECT foo$bar$ FROM t", 2, 1, 2, 22),
        ("SELECT 1", 2, 25, 2, 32),
    ]


# --- tokenizer errors --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT 1;\nSELECT 'abc;\nSELECT 3;", SplitError("unterminated quoted string", 2, 8)),
        ("SELECT 1;\n  SELECT E'abc\\';", SplitError("unterminated quoted string", 2, 10)),
        ("SELECT 1;\nSELECT U&'x", SplitError("unterminated quoted string", 2, 8)),
        ("SELECT 1;\nSELECT N'x", SplitError("unterminated quoted string", 2, 9)),
        ("SELECT 1;\nSELECT B'1", SplitError("unterminated bit string literal", 2, 8)),
        ("SELECT 1;\nSELECT x'f", SplitError("unterminated hexadecimal string literal", 2, 8)),
        ('SELECT 1;\nSELECT "abc;', SplitError("unterminated quoted identifier", 2, 8)),
        (
            "SELECT 1;\nCREATE FUNCTION f() AS $$ SELECT 1;",
            SplitError("unterminated dollar-quoted string $$", 2, 24),
        ),
        (
            "SELECT 1;\n\tDO $body$ x $BODY$;",
            SplitError("unterminated dollar-quoted string $body$", 2, 5),
        ),
        ("SELECT 1;\nSELECT 2 /* a /* b */;", SplitError("unterminated /* comment", 2, 10)),
        ("SELECT 1;\n/*/* a */ SELECT 2;", SplitError("unterminated /* comment", 2, 1)),
    ],
)
def test_unterminated_openers_are_reported_where_they_start(sql: str, error: SplitError) -> None:
    result = split_sql(sql)
    assert result.errors == [error]
    assert [(s.text, s.span) for s in result.statements] == [("SELECT 1", Span(1, 1, 1, 8, 0, 8))]


def test_error_keeps_every_statement_before_the_broken_one() -> None:
    sql = "-- a\nSELECT 1;\nSELECT 2; -- b\nSELECT 3, 'oops\n;SELECT 4;"
    result = split_sql(sql)
    assert result.errors == [SplitError("unterminated quoted string", 4, 11)]
    assert [(s.text, s.index) for s in result.statements] == [("SELECT 1", 0), ("SELECT 2", 1)]
    assert [(c.text, c.line) for c in result.comments] == [("a", 1), ("b", 3)]


def test_error_in_the_first_statement_yields_no_statements() -> None:
    result = split_sql("\n  SELECT $$ never closed")
    assert result.statements == []
    assert result.errors == [SplitError("unterminated dollar-quoted string $$", 2, 10)]


def test_error_after_a_statement_without_semicolon_drops_the_broken_statement() -> None:
    # The quote opens inside the second statement; the first one ended with ';'.
    result = split_sql("SELECT 1;\nSELECT 2\n  , 'x")
    assert [s.text for s in result.statements] == ["SELECT 1"]
    assert result.errors == [SplitError("unterminated quoted string", 3, 5)]


def test_error_with_psql_meta_commands_present() -> None:
    result = split_sql("\\set x 1\nSELECT 1;\n\\echo hi\nSELECT 'x")
    assert [(s.text, s.span.line) for s in result.statements] == [("SELECT 1", 2)]
    assert result.errors == [SplitError("unterminated quoted string", 4, 8)]


def test_error_inside_parentheses_drops_the_unfinished_statement() -> None:
    result = split_sql("SELECT 1;\nCREATE RULE r AS ON INSERT TO t DO (SELECT 1; SELECT 'x);")
    assert [s.text for s in result.statements] == ["SELECT 1"]
    assert result.errors == [SplitError("unterminated quoted string", 2, 54)]


def test_what_only_sqlglot_rejects_is_reported_at_the_statement_start() -> None:
    # sqlglot fails on a lone "$" at the very end; our scanner sees nothing unterminated.
    result = split_sql("SELECT 1;\nSELECT 2;\n  -- c\n  SELECT $")
    assert [s.text for s in result.statements] == ["SELECT 1", "SELECT 2"]
    assert result.errors == [SplitError("could not tokenize statement", 4, 3)]


def test_never_raises_on_garbage() -> None:
    for sql in ["'", '"', "$$", "/*", "E'\\", "$a$", "\\", "\ufeff", "\r", "--", "/*/*", "$"]:
        result = split_sql(sql)
        assert isinstance(result, SplitResult)


# --- positions ---------------------------------------------------------------------------


def test_line_index_positions() -> None:
    text = "ab\ncd\r\nef\rg\t\u00e9h"
    index = LineIndex(text)
    assert index.position(0) == (1, 1)
    assert index.position(2) == (1, 3)  # the "\n" itself
    assert index.position(3) == (2, 1)
    assert index.position(7) == (3, 1)
    assert index.position(10) == (4, 1)  # after a lone "\r"
    assert index.position(12) == (4, 3)  # "é" after a tab
    assert line_col(index, 13) == (4, 4)
    assert index.position(len(text)) == (4, 5)
    assert index.line_start(3) == 7
    assert index.span(3, 9) == Span(2, 1, 3, 2, 3, 9)


def test_line_index_with_bom() -> None:
    index = LineIndex("\ufeffab\ncd")
    assert index.position(0) == (1, 1)
    assert index.position(1) == (1, 1)
    assert index.position(2) == (1, 2)
    assert index.position(4) == (2, 1)


def test_two_thousand_statements() -> None:
    lines = [f"ALTER TABLE t{i} ADD COLUMN c int; -- n{i}" for i in range(2000)]
    result = split_sql("\n".join(lines))
    assert len(result.statements) == 2000
    assert len(result.comments) == 2000
    last = result.statements[-1]
    assert (last.index, last.text) == (1999, "ALTER TABLE t1999 ADD COLUMN c int")
    assert (last.span.line, last.span.column, last.span.end_column) == (2000, 1, 34)
    assert result.comments[-1] == Comment("n1999", 2000, 37, 2000, False)


# --- positional parameters ---------------------------------------------------------------
# sqlglot reads "$1,$" as a dollar-quote opener ($tag$); for Postgres a tag cannot start
# with a digit, so these are parameters. sqlglot makes "$1" a PARAMETER "$" and a NUMBER
# "1" (what its parser reads as one parameter), unspaced or not.


def kinds(statement: RawStatement) -> list[tuple[str, str, int, int]]:
    return [(t.token_type.name, t.text, t.start, t.end) for t in statement.tokens]


def test_unspaced_parameters_do_not_swallow_the_next_statement() -> None:
    sql = "SELECT * FROM t WHERE a IN ($1,$2);\nINSERT INTO t VALUES ($1,$2,$3);\nSELECT 1;"
    result = split_sql(sql)
    assert result.errors == []
    assert [(s.text, s.span, s.index) for s in result.statements] == [
        ("SELECT * FROM t WHERE a IN ($1,$2)", Span(1, 1, 1, 34, 0, 34), 0),
        ("INSERT INTO t VALUES ($1,$2,$3)", Span(2, 1, 2, 31, 36, 67), 1),
        ("SELECT 1", Span(3, 1, 3, 8, 69, 77), 2),
    ]
    assert kinds(result.statements[1]) == [
        ("INSERT", "INSERT", 36, 41),
        ("INTO", "INTO", 43, 46),
        ("VAR", "t", 48, 48),
        ("VALUES", "VALUES", 50, 55),
        ("L_PAREN", "(", 57, 57),
        ("PARAMETER", "$", 58, 58),
        ("NUMBER", "1", 59, 59),
        ("COMMA", ",", 60, 60),
        ("PARAMETER", "$", 61, 61),
        ("NUMBER", "2", 62, 62),
        ("COMMA", ",", 63, 63),
        ("PARAMETER", "$", 64, 64),
        ("NUMBER", "3", 65, 65),
        ("R_PAREN", ")", 66, 66),
    ]


def test_parameter_tokens_cover_exactly_their_text() -> None:
    sql = "UPDATE t SET a=$1,b=$2::int WHERE id=$10);"
    (statement,) = split_sql(sql).statements
    assert kinds(statement)[3:] == [
        ("VAR", "a", 13, 13),
        ("EQ", "=", 14, 14),
        ("PARAMETER", "$", 15, 15),
        ("NUMBER", "1", 16, 16),
        ("COMMA", ",", 17, 17),
        ("VAR", "b", 18, 18),
        ("EQ", "=", 19, 19),
        ("PARAMETER", "$", 20, 20),
        ("NUMBER", "2", 21, 21),
        ("DCOLON", "::", 22, 23),
        ("INT", "int", 24, 26),
        ("WHERE", "WHERE", 28, 32),
        ("VAR", "id", 34, 35),
        ("EQ", "=", 36, 36),
        ("PARAMETER", "$", 37, 37),
        ("NUMBER", "10", 38, 39),
        ("R_PAREN", ")", 40, 40),
    ]
    params = [
        sql[tok.start : statement.tokens[i + 1].end + 1]
        for i, tok in enumerate(statement.tokens)
        if tok.token_type == TokenType.PARAMETER
    ]
    assert params == ["$1", "$2", "$10"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM t WHERE a IN ($1,$2)",
        "SELECT $1::int,$2::text",
        "SELECT * FROM t WHERE a=$1)AND b=$2",
        "SELECT $1||$2, ARRAY[$1,$2], a<$1,@$2,^$1",
        "SELECT $1.f,$2.5,$3e1,$4",
        "SELECT $1$2,$3",
    ],
)
def test_unspaced_parameters_tokenize_like_spaced_ones(sql: str) -> None:
    # With a blank before every "$", sqlglot reads each parameter right on its own.
    spaced = sql.replace("$", " $")

    def shape(text: str) -> list[tuple[TokenType, str]]:
        result = split_sql(text)
        assert result.errors == []
        (statement,) = result.statements
        return [(t.token_type, t.text) for t in statement.tokens]

    assert shape(sql) == shape(spaced)
    # Every token's offsets still point at its own text.
    (statement,) = split_sql(sql).statements
    assert all(sql[t.start : t.end + 1] == t.text for t in statement.tokens)


def test_dollars_inside_literals_comments_and_names_are_left_alone() -> None:
    sql = (
        "SELECT '$1,$2', $$ $1,$ $$, \"$1,$2\", foo$1,$2, E'$1,$' -- $1,$2;\n"
        "  /* $1,$2; */ FROM t;\nSELECT $a$ $1,$ $a$, $1"
    )
    result = split_sql(sql)
    assert result.errors == []
    first, second = result.statements
    assert [(t.token_type.name, t.text) for t in first.tokens] == [
        ("SELECT", "SELECT"),
        ("STRING", "$1,$2"),
        ("COMMA", ","),
        ("HEREDOC_STRING", " $1,$ "),
        ("COMMA", ","),
        ("IDENTIFIER", "$1,$2"),
        ("COMMA", ","),
        ("VAR", "foo$1"),
        ("COMMA", ","),
        ("PARAMETER", "$"),
        ("NUMBER", "2"),
        ("COMMA", ","),
        ("BYTE_STRING", "$1,$"),
        ("FROM", "FROM"),
        ("VAR", "t"),
    ]
    assert second.text == "SELECT $a$ $1,$ $a$, $1"
    assert [t.text for t in second.tokens] == ["SELECT", " $1,$ ", ",", "$", "1"]
    assert [(c.text, c.line, c.column) for c in result.comments] == [
        ("$1,$2;", 1, 56),
        ("$1,$2;", 2, 3),
    ]


def test_command_string_with_parameters_keeps_its_text_and_offsets() -> None:
    sql = "CALL p($1,$2);\nEXECUTE q($1,$2)"
    result = split_sql(sql)
    assert result.errors == []
    assert [kinds(s) for s in result.statements] == [
        [("COMMAND", "CALL", 0, 3), ("STRING", "p($1,$2)", 5, 12)],
        [("EXECUTE", "EXECUTE", 15, 21), ("STRING", "q($1,$2)", 23, 30)],
    ]


def test_dollar_quote_right_after_a_parameter_or_a_number_is_a_quote() -> None:
    # "$1$$" is a parameter then a dollar-quote, as "1$$" is a number then one; only after
    # a name does "$" continue the name.
    assert stmts("SELECT $1$$;$$, ($2,$3); SELECT 1$$;$$,($2,$3); SELECT a$1$$,$2") == [
        ("SELECT $1$$;$$, ($2,$3)", 1, 1, 1, 23),
        ("SELECT 1$$;$$,($2,$3)", 1, 26, 1, 46),
        ("SELECT a$1$$,$2", 1, 49, 1, 63),
    ]


def test_literal_prefix_right_after_a_dollar_quote() -> None:
    # The E of E'' right after "$$" starts an escape string: "\'" does not close it.
    sql = "\\set x\nSELECT $$a$$E'x\\';';\nSELECT 2;"
    assert stmts(sql) == [("SELECT $$a$$E'x\\';'", 2, 1, 2, 19), ("SELECT 2", 3, 1, 3, 8)]


def test_parameters_with_meta_commands_and_nested_comment_openers() -> None:
    sql = "\\set x 1\nSELECT ($1,$2) /*/* c; */ */;\n\\echo $1,$2;\nCALL p($1,$2)"
    result = split_sql(sql)
    assert result.errors == []
    assert [(s.text, s.span.line) for s in result.statements] == [
        ("SELECT ($1,$2)", 2),
        ("CALL p($1,$2)", 4),
    ]
    first = [t.text for t in result.statements[0].tokens]
    assert first == ["SELECT", "(", "$", "1", ",", "$", "2", ")"]
    assert [(c.text, c.line) for c in result.comments] == [("/* c; */", 2)]


def test_error_after_unspaced_parameters() -> None:
    result = split_sql("SELECT $1,$2;\nSELECT 'x")
    assert [s.text for s in result.statements] == ["SELECT $1,$2"]
    assert result.errors == [SplitError("unterminated quoted string", 2, 8)]


def test_dollar_sqlglot_misreads_is_an_error_not_a_merged_statement() -> None:
    # "$a,$" is no dollar-quote for Postgres (a tag is followed by "$" at once), but sqlglot
    # would read one from here to the next "$a,$" and swallow the ";" between: the
    # statement is reported, and not glued to the next one.
    result = split_sql("SELECT 1;\nSELECT $a,$b;\nSELECT $a,$c;\nSELECT 2;")
    assert [s.text for s in result.statements] == ["SELECT 1"]
    assert result.errors == [SplitError("could not tokenize statement", 2, 1)]


# --- no statement is lost silently -------------------------------------------------------

_VALID = [
    "SELECT * FROM t WHERE a IN ($1,$2)",
    "INSERT INTO t VALUES ($1,$2,$3)",
    "UPDATE t SET a=$1,b=$2::int WHERE id=$3",
    "SELECT '$1,$2;', \"x;$1,$\", $$ $1,$2; $$, foo$1,$2, E'\\';$1,$', U&'a;$1,$'",
    "SELECT $tag$ ; $1,$ $tag$, $1 + $2",
    "SELECT 1 /* $1,$2; /* nested; */ */ + $1",
    "SELECT $1$$;$$, 1$$;$$, a$1$$,$2",
    "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES ($1,$2); NOTIFY t)",
    "CREATE FUNCTION f(int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT $1,$1; END",
    "CREATE FUNCTION g() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql",
    "DO $$ BEGIN PERFORM $1,$2; END $$",
    "CALL p($1,$2)",
    "LOCK TABLE t IN SHARE MODE",
    "ALTER TABLE t ADD COLUMN c int",
]
# Each runs to the end of the input (it is only ever the last statement).
_BROKEN = [
    "SELECT 'abc; $1,$2",
    "SELECT $1,$2, $$ never; closed",
    "SELECT $1 /* $1,$2;",
    'SELECT "x;$1,$2',
    "SELECT $a,$b",
    "SELECT ($1,$2), $",
]
_SEPARATORS = [";\n", ";", " ;\n-- c; $1,$2\n", ";\n/* x; $1,$ */\n", "\n\\echo $1,$2;\n", ";;\n"]
_HEADS = ["", "\ufeff", "-- head $1,$2;\n", "\\set x 1\n", "/*/* a; */ */\n"]
_TRIVIA = re.compile(
    r"(?:[\s;\ufeff]|--[^\r\n]*|/\*(?:/\*.*?\*/|.)*?\*/|(?<![^\r\n])\\[^\r\n]*)*", re.DOTALL
)


def _corpus() -> list[tuple[str, list[tuple[int, int]], int | None]]:
    """Inputs made of known statements: (sql, [start, end) of each, start of a broken one)."""
    rng = random.Random(20240607)
    cases = []
    for _ in range(400):
        sql = rng.choice(_HEADS)
        spans: list[tuple[int, int]] = []
        for _ in range(rng.randint(1, 5)):
            if spans:
                sql += rng.choice(_SEPARATORS)
            statement = rng.choice(_VALID)
            spans.append((len(sql), len(sql) + len(statement)))
            sql += statement
        broken = None
        if rng.random() < 0.5:
            sql += rng.choice(_SEPARATORS)
            broken = len(sql)
            sql += rng.choice(_BROKEN)
        elif rng.random() < 0.5:
            sql += rng.choice(_SEPARATORS)
        cases.append((sql, spans, broken))
    return cases


def _offset(sql: str, error: SplitError) -> int:
    offset = LineIndex(sql).line_start(error.line) + error.column - 1
    return offset + 1 if error.line == 1 and sql.startswith("\ufeff") else offset


@pytest.mark.parametrize(("sql", "spans", "broken"), _corpus())
def test_statements_and_the_error_cover_the_whole_input(
    sql: str, spans: list[tuple[int, int]], broken: int | None
) -> None:
    result = split_sql(sql)
    got = [(s.span.start, s.span.end) for s in result.statements]
    for statement in result.statements:
        assert sql[statement.span.start : statement.span.end] == statement.text
        assert all("\x00" not in t.text for t in statement.tokens)
    # Every character is inside a statement returned, or trivia (blanks, ';', comments,
    # meta-commands), or in the statement the error is in (the first one not returned) or
    # after it: no text with a statement in it is dropped silently.
    covered = 0
    for start, end in got:
        assert _TRIVIA.fullmatch(sql[covered:start]), (sql, covered)
        covered = end
    if result.errors:
        (error,) = result.errors
        at = _offset(sql, error)
        assert broken is not None
        assert covered <= broken <= at < len(sql)
        assert _TRIVIA.fullmatch(sql[covered:broken]), (sql, covered)
    else:
        assert _TRIVIA.fullmatch(sql[covered:]), (sql, covered)
    # ...and the statements are exactly those the input was made of.
    assert got == spans
