"""Fuzz the reporters: findings and input errors carrying hostile strings (control
characters, newlines, quotes, markup, workflow-command syntax) render in every format,
and each format stays valid: JSON parses, SARIF validates against the 2.1.0 schema,
JUnit parses as XML, every GitHub line is a workflow command (or the final summary),
and the job summary keeps one table row per finding."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from fuzz_strategies import hostile_text
from hypothesis import given
from hypothesis import strategies as st

from migcheck.engine import Result
from migcheck.model import LINE_BREAK, Finding, InputError, Span
from migcheck.report import FORMATS, render
from migcheck.report.github import step_summary
from migcheck.rules import all_rules

SCHEMA = Path(__file__).resolve().parent.parent / "data" / "sarif-schema-2.1.0.json"
# Strings GitHub's runner, terminals and XML parsers treat specially.
INJECTIONS = [
    "\n::error file=x.sql,line=1::fake",
    "\n::stop-commands::token",
    "\x1b[31mred\x1b[0m",
    "\x1b]8;;http://evil\x07link\x1b]8;;\x07",
    "\r::warning::x",
    "\x9b2J",
    "]]><x>&amp;</x><![CDATA[",
    "| cell | <br> `code`",
    "%0A%25",
    "\x00\x01\x0b\x0c\x7f\ufffe",
]
strings = hostile_text | st.sampled_from(INJECTIONS) | st.text(max_size=30)
paths = st.tuples(strings, st.sampled_from(["", ".sql", "/001.sql"])).map(
    "".join
) | st.sampled_from(["db/001.sql", "../outside.sql", "/abs/path.sql", "a b/ü.sql"])


@st.composite
def spans(draw: st.DrawFn) -> Span:
    line = draw(st.integers(1, 10_000))
    end_line = draw(st.integers(line, line + 3))
    return Span(line, draw(st.integers(1, 500)), end_line, draw(st.integers(1, 500)))


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    rule = draw(st.sampled_from(sorted(all_rules())))
    r = all_rules()[rule]
    return Finding(
        rule=rule,
        severity=draw(st.sampled_from(["error", "warning", "info", r.severity])),
        category=r.category,
        path=draw(paths),
        span=draw(spans()),
        message=draw(strings),
        help=draw(strings),
        statement=draw(strings),
    )


@st.composite
def results(draw: st.DrawFn) -> Result:
    found = draw(st.lists(findings(), max_size=5))
    errors = [
        InputError(path, message, line)
        for path, message, line in draw(
            st.lists(st.tuples(paths, strings, st.none() | st.integers(1, 100)), max_size=3)
        )
    ]
    return Result(
        findings=found, errors=errors, files=draw(st.integers(0, 5)), statements=len(found)
    )


@cache
def _sarif_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(schema)


def _render(result: Result, fmt: str) -> str:
    return render(result, fmt, colour=False, statistics=True, root="/repo", files=None)


@given(results())
def test_every_format_renders_and_the_machine_formats_stay_valid(result: Result) -> None:
    for fmt in FORMATS:
        assert isinstance(_render(result, fmt), str)
    assert isinstance(json.loads(_render(result, "json")), dict)
    assert isinstance(json.loads(_render(result, "gitlab")), list)
    errors = sorted(_sarif_validator().iter_errors(json.loads(_render(result, "sarif"))), key=str)
    assert not errors, errors[0].message


# A workflow command: ::name key=value,key=value::message, with no ':' or ',' left raw in
# a property value, and the message on one line.
_COMMAND = re.compile(
    r"::(error|warning|notice)( [A-Za-z]+=[^:,\r\n]*(,[A-Za-z]+=[^:,\r\n]*)*)?::.*"
)


@given(results())
def test_every_github_line_is_a_workflow_command_or_the_summary(result: Result) -> None:
    lines = _render(result, "github").split("\n")
    assert lines[-1] == ""
    *commands, summary = lines[:-1]
    assert len(commands) == len(result.errors) + len(result.findings)
    for line in commands:
        assert _COMMAND.fullmatch(line), line
    assert summary.startswith("Checked ")


_SUMMARY_LINE = re.compile(
    r"|## migcheck|\| .* \||\|---\|---\|---\|---\||- `.*|\*\*.*\*\*|… and .*"
)


@given(results())
def test_job_summary_keeps_one_line_per_finding_and_error(result: Result) -> None:
    summary = step_summary(result, root="/repo")
    # Markdown ends a line at \r\n, \r or \n: a line break in a cell would split its row.
    lines = LINE_BREAK.split(summary)
    for line in lines:
        assert _SUMMARY_LINE.fullmatch(line), line
    rows = [line for line in lines if line.startswith("| ")]
    assert len(rows) == (len(result.findings) + 1 if result.findings else 0)
    assert len([line for line in lines if line.startswith("- ")]) == len(result.errors)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@given(results())
def test_junit_parses_as_xml(result: Result) -> None:
    ET.fromstring(_render(result, "junit"))


@given(results())
def test_text_report_prints_no_control_character_raw(result: Result) -> None:
    text = _render(result, "text")
    assert not _CONTROL.search(text), repr(_CONTROL.search(text))


@given(results(), st.binary(min_size=1, max_size=6), st.sampled_from(FORMATS))
def test_a_file_name_that_is_not_utf8_is_shown_escaped(
    result: Result, name: bytes, fmt: str
) -> None:
    # os.listdir gives such a name back with surrogate escapes ("\udcff"): printing it
    # must not fail to encode.
    path = (name + b".sql").decode("utf-8", "surrogateescape")
    result.errors.append(InputError(path, "not UTF-8"))
    _render(result, fmt).encode("utf-8")
