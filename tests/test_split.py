"""Splitting SQL files into statements and comments, with exact positions.

Every assertion is on exact values (text, 1-based line/column, offsets) so that an
off-by-one anywhere in the position arithmetic fails a test.
"""

from __future__ import annotations

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
