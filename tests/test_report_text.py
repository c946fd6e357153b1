"""The text and concise reports as a user reads them: one block per statement, excerpts
with the real line numbers and carets under each finding, long help once, colour only
where it belongs.

Most tests build findings the way ``Rule.finding`` does (the span of an action ends with
its statement) on statements split from real text, so they pin the layout without
depending on what any rule says.
"""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from helpers import cli
from migcheck.model import Finding, Result, Span
from migcheck.report import render
from migcheck.report.text import use_colour
from migcheck.sql.positions import LineIndex
from migcheck.sql.split import split_sql

LONG_HELP = "Do it in steps:\n1. first\n    SELECT 1;\n2. then\n    SELECT 2;"


def finding(
    text: str, at: str, rule: str = "drop-column", *, help: str = "", path: str = "db/001.sql"
) -> Finding:
    """A finding starting at the first ``at`` in ``text``, ending with its statement."""
    offset = text.index(at)
    (stmt,) = [s for s in split_sql(text).statements if s.span.start <= offset < s.span.end]
    span = LineIndex(text).span(offset, stmt.span.end)
    return Finding(rule, "error", "compatibility", path, span, f"{rule} here", help, stmt.text)


def report(*findings: Finding, fmt: str = "text") -> list[str]:
    result = Result(findings=list(findings), files=1, statements=1)
    return render(result, fmt).splitlines()


MULTI = (
    "CREATE TABLE t (id int);\n"
    "ALTER TABLE users\n"
    "    ADD COLUMN email text NOT NULL,\n"
    "    ALTER COLUMN name TYPE varchar(10);\n"
)


def test_multi_line_statement_shows_real_lines_and_underlines_each_action() -> None:
    lines = report(
        finding(MULTI, "ADD COLUMN", "add-required-column", help="Give it a default."),
        finding(MULTI, "ALTER COLUMN", "change-column-type"),
        finding(MULTI, "ALTER COLUMN", "type-change-rewrite"),
    )
    assert lines == [
        "db/001.sql:3:5: error[add-required-column] add-required-column here",
        "db/001.sql:4:5: error[change-column-type] change-column-type here",
        "db/001.sql:4:5: error[type-change-rewrite] type-change-rewrite here",
        "  help: Give it a default.",
        "  2 | ALTER TABLE users",
        "  3 |     ADD COLUMN email text NOT NULL,",
        "    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ add-required-column",
        "  4 |     ALTER COLUMN name TYPE varchar(10)",
        "    |     ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ change-column-type, type-change-rewrite",
        "",
        "Checked 1 file, 1 statement: 3 errors, 0 warnings.",
    ]


def test_one_finding_on_a_one_line_statement_has_no_label() -> None:
    text = "-- drop it\nALTER TABLE t DROP COLUMN x;\n"
    assert report(finding(text, "DROP COLUMN"))[1:4] == [
        "  2 | ALTER TABLE t DROP COLUMN x",
        "    |               ^^^^^^^^^^^^^",
        "",
    ]


def test_long_statement_is_elided_around_the_finding() -> None:
    columns = "".join(f"    c{i} int,\n" for i in range(1, 11))
    text = f"\n\nCREATE TABLE t (\n{columns}    bad json\n);\n"
    # The statement runs from line 3 to 15; the finding is on line 14.
    lines = report(finding(text, "bad json", "prefer-jsonb"))
    assert lines[1:9] == [
        "   3 | CREATE TABLE t (",
        "     | \u2026",
        "  13 |     c10 int,",
        "  14 |     bad json",
        "     |     ^^^^^^^^",
        "  15 | )",
        "",
        "Checked 1 file, 1 statement: 1 error, 0 warnings.",
    ]
    early = report(finding(text, "c2 int", "prefer-bigint"))
    assert early[1:8] == [
        "  3 | CREATE TABLE t (",
        "  4 |     c1 int,",
        "  5 |     c2 int,",
        "    |     ^^^^^^",
        "  6 |     c3 int,",
        "    | \u2026 (9 more lines)",
        "",
    ]


def test_tabs_wide_and_control_characters_keep_the_caret_under_the_span() -> None:
    text = 'ALTER TABLE "表表\x1b" DROP COLUMN x;\n\tALTER TABLE t\n\tDROP COLUMN y;\n'
    first = report(finding(text, "DROP COLUMN x"))
    # 表 takes two cells; ESC is shown as the four characters \x1b.
    assert first[1:3] == [
        '  1 | ALTER TABLE "表表\\x1b" DROP COLUMN x',
        "    | " + " " * 23 + "^" * len("DROP COLUMN x"),
    ]
    second = report(finding(text, "DROP COLUMN y"))
    # The excerpt starts where the statement does: its first line's indentation is not
    # part of the statement.
    assert second[1:4] == [
        "  2 | ALTER TABLE t",
        "  3 |     DROP COLUMN y",
        "    |     ^^^^^^^^^^^^^",
    ]
    assert "\x1b" not in "\n".join(first + second)


def test_a_statement_not_on_file_lines_is_shown_as_what_runs() -> None:
    # An Alembic call renders SQL that is not the text of the file's lines.
    span = Span(21, 5, 21, 40)
    f = Finding("drop-column", "error", "compatibility", "versions/1_x.py", span, "m", "", "DROP x")
    assert report(f)[1:3] == ["  runs:", "    | DROP x"]


def test_long_help_once_per_rule_later_findings_point_back() -> None:
    a = "ALTER TABLE a DROP COLUMN x;\n"
    b = "ALTER TABLE b DROP COLUMN y;\n"
    other = LONG_HELP.replace("Do it in steps", "With Prisma, do it in steps")
    lines = report(
        finding(a, "DROP", help=LONG_HELP, path="db/001.sql"),
        finding(b, "DROP", help=LONG_HELP.replace("1;", "11;"), path="db/002.sql"),
        finding(b, "DROP", help=other, path="db/003.sql"),
    )
    text = "\n".join(lines)
    assert text.count("o it in steps:") == 2
    assert "  help: see the first drop-column finding above (db/001.sql:1)" in lines
    assert "  help: With Prisma, do it in steps:" in lines


def test_short_help_is_repeated() -> None:
    a = "ALTER TABLE a DROP COLUMN x;\nALTER TABLE b DROP COLUMN y;\n"
    lines = report(
        finding(a, "DROP COLUMN x", help="Short."), finding(a, "DROP COLUMN y", help="Short.")
    )
    assert lines.count("  help: Short.") == 2


def test_concise_is_one_line_per_finding_then_the_summary() -> None:
    lines = report(
        finding(MULTI, "ADD COLUMN", "add-required-column", help=LONG_HELP),
        finding(MULTI, "ALTER COLUMN", "change-column-type", help=LONG_HELP),
        fmt="concise",
    )
    assert lines == [
        "db/001.sql:3:5: error[add-required-column] add-required-column here",
        "db/001.sql:4:5: error[change-column-type] change-column-type here",
        "Checked 1 file, 1 statement: 2 errors, 0 warnings.",
    ]


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    ("env", "tty", "colour"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, True),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": ""}, False, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"TERM": "dumb", "FORCE_COLOR": "1"}, False, True),
    ],
)
def test_colour_follows_the_terminal_and_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool, colour: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_colour(_Stream(tty)) is colour


def test_a_coloured_line_still_cannot_start_a_ci_command() -> None:
    f = finding("ALTER TABLE t DROP COLUMN x;\n", "DROP", path="::error::x.sql")
    out = render(Result(findings=[f]), "text", colour=True)
    first = out.splitlines()[0]
    assert first.startswith("\x1b[1m\\x3a:error::x.sql:1:15\x1b[0m: ")


# -- the command line ------------------------------------------------------------------


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    unset = {"NO_COLOR": "", "FORCE_COLOR": ""}
    proc = cli(*args, cwd=cwd, env={**unset, "MIGCHECK_NO_CACHE": "1", **env})
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def test_cli_groups_a_statement_and_points_at_the_line(tmp_path: Path) -> None:
    (tmp_path / "001.sql").write_text(MULTI)
    proc = run("001.sql", cwd=tmp_path, NO_COLOR="1")
    assert proc.returncode == 1
    out = proc.stdout
    assert out.count("  2 | ALTER TABLE users\n") == 1
    assert "001.sql:3:5: error[add-required-column] " in out
    assert "  3 |     ADD COLUMN email text NOT NULL,\n    |     ^^^^^^" in out
    headers = [line for line in out.splitlines() if line.startswith("001.sql:")]
    assert len(headers) >= 2


def test_cli_concise(tmp_path: Path) -> None:
    (tmp_path / "001.sql").write_text("-- x\nALTER TABLE t DROP COLUMN a, DROP COLUMN b;\n")
    proc = run("--format", "concise", "001.sql", cwd=tmp_path, NO_COLOR="1")
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert [line.split(" ")[0:2] for line in lines[:-1]] == [
        ["001.sql:2:15:", "error[drop-column]"],
        ["001.sql:2:30:", "error[drop-column]"],
    ]
    assert lines[-1] == "Checked 1 file, 1 statement: 2 errors, 0 warnings."


def test_cli_never_colours_the_output_file(tmp_path: Path) -> None:
    (tmp_path / "001.sql").write_text("ALTER TABLE t DROP COLUMN a;\n")
    proc = run("--format", "concise", "-o", "r.txt", "001.sql", cwd=tmp_path, FORCE_COLOR="1")
    assert "\x1b[" in proc.stdout
    assert "\x1b[" not in (tmp_path / "r.txt").read_text()
    piped = run("001.sql", cwd=tmp_path)
    assert "\x1b[" not in piped.stdout


def test_naming_one_file_sums_up_its_broken_siblings(tmp_path: Path) -> None:
    db = tmp_path / "db"
    db.mkdir()
    (db / "001.sql").write_text("CREATE TABLE a (id int);\n")
    (db / "002.sql").write_bytes("SELECT 1;\n".encode("utf-16"))
    (db / "003.sql").write_bytes(b"SELECT 1;\n\xc3\x28;\n")
    (db / "042.sql").write_text("ALTER TABLE a ADD COLUMN b text;\n")
    proc = run("db/042.sql", cwd=tmp_path, NO_COLOR="1")
    # Files the user did not name neither fill the output nor fail the hook.
    assert proc.returncode == 0, proc.stdout
    assert proc.stderr.splitlines() == [
        "migcheck: note: 2 other files of the history could not be read (the first: "
        "db/002.sql: file is UTF-16 encoded; migcheck reads UTF-8 (convert it, e.g. with "
        "iconv)); what they do to the schema is unknown to this run"
    ]
    assert "error" not in proc.stdout.replace("0 errors", "")
    whole = run("db", cwd=tmp_path, NO_COLOR="1")
    assert whole.returncode == 2
    assert "db/002.sql: error: file is UTF-16 encoded" in whole.stdout
    assert "db/003.sql:2: error: not valid UTF-8" in whole.stdout


def test_carets_take_the_colour_of_the_most_severe_finding() -> None:
    warn = finding(MULTI, "ALTER COLUMN", "type-change-rewrite")
    warn.severity = "warning"
    err = finding(MULTI, "ALTER COLUMN", "change-column-type")
    out = render(Result(findings=[warn, err]), "text", colour=True).splitlines()
    carets = [line for line in out if "^^^" in line]
    assert carets == [
        "\x1b[2m    | \x1b[0m    \x1b[1;31m"
        + "^" * 34
        + " type-change-rewrite, change-column-type\x1b[0m"
    ]


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_crlf_and_lone_cr_lines_are_numbered_like_the_editor(eol: str) -> None:
    text = f"SELECT 1;{eol}ALTER TABLE t{eol}  DROP COLUMN x;{eol}"
    assert report(finding(text, "DROP"))[:4] == [
        "db/001.sql:3:3: error[drop-column] drop-column here",
        "  2 | ALTER TABLE t",
        "  3 |   DROP COLUMN x",
        "    |   ^^^^^^^^^^^^^",
    ]


def test_a_finding_anywhere_in_a_hostile_statement_renders_safely() -> None:
    text = 'SELECT 1; ALTER TABLE "\u8868\x1b\u202e"\r\n\t\n  ADD\tCOLUMN a int ,\r\rDROP x\u0301;'
    (stmt,) = [s for s in split_sql(text).statements if "ALTER" in s.text]
    # Every offset but those of line breaks, where no action starts.
    for offset in range(stmt.span.start, stmt.span.end):
        if text[offset] in "\r\n":
            continue
        span = LineIndex(text).span(offset, stmt.span.end)
        f = Finding("r", "error", "compatibility", "x.sql", span, "m", "", stmt.text)
        out = render(Result(findings=[f]), "text")
        assert "\x1b" not in out and "\u202e" not in out and "\r" not in out
        carets = [line for line in out.splitlines() if line.startswith("    | ") and "^" in line]
        assert len(carets) == 1, out
    runs = Finding("r", "error", "compatibility", "x.py", Span(1, 1, 1, 1), "m", "", stmt.text)
    out = render(Result(findings=[runs]), "text")
    assert "  runs:\n" in out and "\r" not in out and "\x1b" not in out


@pytest.mark.parametrize(
    "line",
    ["ALTER TABLE t ADD COLUMN c int;", "ALTER TABLE t\tADD c int;", "ALTER TABLE é ADD c int;",
     "ALTER TABLE \x1b[31m ADD c;", "ALTER TABLE 表 ADD c int;"],
)  # fmt: skip
def test_an_excerpt_line_s_carets_match_its_characters_cells(line: str) -> None:
    """Plain ASCII lines take a shortcut; every line's carets land where counting each
    character's cells puts them."""
    from migcheck.report import excerpt

    marks = [(0, 5), (12, 13), (len(line) - 1, len(line)), (len(line), len(line) + 3)]
    printed, ranges = excerpt._show(line, marks)
    cells = [0]
    shown = []
    for ch in line:
        text, width = excerpt._char(ch, cells[-1])
        shown.append(text)
        cells.append(cells[-1] + width)
    assert printed == "".join(shown)
    for (a, b), got in zip(marks, ranges, strict=True):
        start = cells[min(a, len(line))]
        assert got == (start, max(cells[min(b, len(line))], start + 1))
