"""Hostile names in every report format: no control character from the input reaches the
terminal or a CI log raw, and no input can fake or stop a GitHub workflow command.

The migration files are named, and their columns quoted, the way an attacker's pull
request would: a newline followed by ``::error file=x::pwned`` or ``::stop-commands::``,
terminal escape sequences (a window-title OSC, a clear-screen CSI), a C1 CSI (U+009B),
DEL and a bidi override. Each format is produced by the real CLI and read back the way
its consumer reads it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from migcheck.live.report import render_markdown, render_text
from migcheck.live.results import (
    HistoryResult,
    LiveResult,
    LockInfo,
    MigrationFailure,
    SchemaChange,
    StatementTrace,
)
from migcheck.model import Span
from migcheck.report.escape import json_text, log_line, visible

SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

FILE_NAMES = [
    "001_a\n::error file=x::pwned.sql",
    "002_b\n::stop-commands::tok.sql",
    "003_\x1b]0;title\x07.sql",
    "004_\x1b[2J.sql",
    "005_\x9bc1\x7fdel\u202erev.sql",
    "::error::006_at_line_start.sql",
]
# A quoted identifier may hold a newline in PostgreSQL; the second holds ESC, BEL, CSI, DEL.
COLUMNS = ['"a\n::error::x"', '"\x1b]0;t\x07\x9b\x7f"']
HOSTILE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
COMMAND = re.compile(r"^\s*(::|##\[)", re.M)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    (root / "db").mkdir()
    for i, name in enumerate(FILE_NAMES):
        drops = "\n-- \x1b[2J a comment\n".join(
            f"ALTER TABLE t{i} DROP COLUMN {col};" for col in COLUMNS
        )
        (root / "db" / name).write_text(drops + "\n", encoding="utf-8")
    return root


def migcheck(project: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", *args, "db"],
        cwd=project,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr.decode("utf-8", "replace")
    assert proc.stderr == b""
    return proc.stdout.decode("utf-8")


FINDINGS = len(FILE_NAMES) * len(COLUMNS)


def assert_no_raw_control(out: str) -> None:
    found = HOSTILE.findall(out)
    assert not found, f"raw control characters in the output: {sorted(set(found))!r}"


def test_text_report_escapes_names_identifiers_and_excerpts(project: Path) -> None:
    out = migcheck(project)
    assert_no_raw_control(out)
    assert not COMMAND.search(out), COMMAND.search(out)
    assert "db/001_a\\n::error file=x::pwned.sql:1:16: error[drop-column]" in out
    assert 'Dropping column "t0"."a\\n::error::x"' in out
    assert "db/003_\\x1b]0;title\\x07.sql" in out
    assert '"\\x1b]0;t\\x07\\x9b\\x7f"' in out
    assert "005_\\x9bc1\\x7fdel\\u202erev.sql" in out
    assert out.count(": error[drop-column] ") == FINDINGS


def test_a_file_name_at_line_start_cannot_start_a_command(project: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", FILE_NAMES[-1]],
        cwd=project / "db",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert not COMMAND.search(proc.stdout)
    assert "\\x3a:error::006_at_line_start.sql:1:16: error[drop-column]" in proc.stdout


def test_github_commands_are_exactly_the_findings(project: Path) -> None:
    out = migcheck(project, "--format", "github")
    assert_no_raw_control(out)
    commands = COMMAND.findall(out)
    assert len(commands) == FINDINGS
    lines = out.splitlines()
    assert sum(line.startswith("::error ") for line in lines) == FINDINGS
    assert not any("::stop-commands::" in line.split("::", 2)[1] for line in lines[:-1])
    # The runner unescapes %0A back into a newline inside the message: the fake command
    # stays message text of the real annotation, and properties carry no ``::``.
    first = lines[0]
    assert first.startswith("::error file=db/001_a\\n%3A%3Aerror file=x%3A%3Apwned.sql,line=1,")
    assert '"a%0A::error::x"' in first


def test_json_report_keeps_the_values_exactly(project: Path) -> None:
    out = migcheck(project, "--format", "json")
    assert_no_raw_control(out)
    doc = json.loads(out)
    assert sorted({f["path"] for f in doc["findings"]}) == sorted(f"db/{n}" for n in FILE_NAMES)
    messages = " ".join(f["message"] for f in doc["findings"])
    assert '"a\n::error::x"' in messages
    assert '"\x1b]0;t\x07\x9b\x7f"' in messages


def test_sarif_report_is_valid_and_escaped(project: Path) -> None:
    import jsonschema

    out = migcheck(project, "--format", "sarif")
    assert_no_raw_control(out)
    doc = json.loads(out)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    if "Root" in schema.get("definitions", {}) and "properties" not in schema:
        schema = {**schema, "$ref": "#/definitions/Root"}
    jsonschema.Draft7Validator(schema).validate(doc)
    assert len(doc["runs"][0]["results"]) == FINDINGS


def test_gitlab_report_is_escaped(project: Path) -> None:
    out = migcheck(project, "--format", "gitlab")
    assert_no_raw_control(out)
    issues = json.loads(out)
    assert len(issues) == FINDINGS
    assert {i["location"]["path"] for i in issues} == {f"db/{n}" for n in FILE_NAMES}


def test_junit_report_is_xml_with_visible_escapes(project: Path) -> None:
    out = migcheck(project, "--format", "junit")
    assert_no_raw_control(out)
    assert not COMMAND.search(out)
    root = ET.fromstring(out.encode("utf-8"))
    cases = root.findall("./testsuite/testcase")
    names = {case.get("name") for case in cases}
    assert "db/001_a\\n::error file=x::pwned.sql" in names
    assert "db/004_\\x1b[2J.sql" in names
    assert len(root.findall(".//failure")) == FINDINGS


def test_sarif_output_file_keeps_the_terminal_report_escaped(project: Path, tmp_path: Path) -> None:
    """``--output`` writes the SARIF file and still prints the text report."""
    out = migcheck(project, "--format", "sarif", "--output", str(tmp_path / "r.sarif"))
    assert_no_raw_control(out)
    assert not COMMAND.search(out)
    assert_no_raw_control((tmp_path / "r.sarif").read_text(encoding="utf-8"))


def hostile_live_result() -> LiveResult:
    path = "db/" + FILE_NAMES[0]
    trace = StatementTrace(
        path=path,
        index=0,
        span=Span(1, 1, 1, 10),
        text='ALTER TABLE t DROP COLUMN "a\n::error::x" -- \x1b[2J',
        locks=[
            LockInfo('public."t\n::error::y"', "table", "ACCESS EXCLUSIVE", "reads", True, True)
        ],
        rewrites=['public."\x1b]0;t\x07"'],
        changes=[SchemaChange("drop_column", 'public.t."a\n::error::x"', hidden=True)],
        error='column "\x9b\x7f" does not exist\n::error::z',
    )
    failure = MigrationFailure(
        path, Span(2, 1, 2, 1), "SELECT 1", "syntax error\n::stop-commands::tok", None, False
    )
    history = HistoryResult(
        root="db\n::error::root", tool="sql", statements=[trace], failure=failure
    )
    return LiveResult(histories=[history], notes=["a note \x1b[2J\n::error::n"])


@pytest.mark.parametrize("render", [render_markdown, render_text])
def test_live_reports_escape_names_and_server_messages(render: object) -> None:
    assert callable(render)
    out = render(hostile_live_result())
    assert_no_raw_control(out)
    assert not COMMAND.search(out), COMMAND.search(out)
    assert "001_a\\n::error file=x::pwned.sql" in out
    assert "\\x1b]0;t\\x07" in out


def test_visible_escapes_each_kind_of_control_character() -> None:
    assert visible("a\nb\tc\rd\x1b\x07\x9b\x7f\u202e\u2066\udcff") == (
        "a\\nb\\tc\\rd\\x1b\\x07\\x9b\\x7f\\u202e\\u2066\\udcff"
    )
    assert visible("line 1\r\n\tline 2\x1b[2J\n", multiline=True) == "line 1\n\tline 2\\x1b[2J\n"
    assert visible("plain café ü €") == "plain café ü €"


def test_log_line_defuses_command_starts_only() -> None:
    assert log_line("::error::x") == "\\x3a:error::x"
    assert log_line("   ::warning::x") == "   \\x3a:warning::x"
    assert log_line("##[error]x") == "\\x23#[error]x"
    assert log_line("db/x.sql:1:1: ::error::x") == "db/x.sql:1:1: ::error::x"


def test_json_text_keeps_the_decoded_value() -> None:
    value = {"k": "\x9b\x7f\u202e\udcff é"}
    dumped = json_text(json.dumps(value, ensure_ascii=False))
    assert not HOSTILE.search(dumped)
    assert json.loads(dumped) == value


def test_action_sarif_step_prints_no_second_report(tmp_path: Path) -> None:
    """With ``sarif: true`` the Action runs migcheck twice; only the ``github`` run may
    write to the log (the SARIF run's terminal text report would repeat every name)."""
    from test_action import Run

    fake = tmp_path / "fake-migcheck"
    fake.write_text(
        '#!/usr/bin/env bash\necho "report of: $*"\n'
        'for a in "$@"; do [ "$prev" = --output ] && echo sarif > "$a"; prev="$a"; done\n'
    )
    fake.chmod(0o755)
    workspace, temp = tmp_path / "ws", tmp_path / "tmp"
    workspace.mkdir()
    temp.mkdir()
    run = Run(workspace=workspace, temp=temp, env={"GITHUB_BASE_REF": "main"})
    run.outputs["install"] = {"migcheck": str(fake)}
    run.inputs.update(sarif="true")
    proc = run.step("lint")
    assert proc.returncode == 0, proc.stderr
    printed = [line for line in proc.stdout.splitlines() if line.startswith("report of:")]
    assert len(printed) == 1 and "--format github" in printed[0], proc.stdout
    assert (temp / "migcheck.sarif").read_text() == "sarif\n"


def test_every_code_point_is_printable_after_escaping() -> None:
    """No code point survives ``visible`` as a control character, in either mode; JSON
    escaping keeps every value intact."""
    import unicodedata

    # Every control, surrogate and separator code point lies in the BMP.
    everything = "".join(map(chr, range(0x10000)))
    unsafe = {"Cc", "Cs", "Zl", "Zp"}
    for text, allowed in ((visible(everything), ""), (visible(everything, multiline=True), "\t\n")):
        left = {c for c in set(text) - set(allowed) if unicodedata.category(c) in unsafe}
        assert not left
        assert not HOSTILE.search(text.replace("\t", "").replace("\n", ""))
    # JSON reads an escaped high surrogate followed by a low one as one character; file
    # names only ever carry low ones (Python's surrogateescape).
    no_high = "".join(c for c in everything if not "\ud800" <= c <= "\udbff")
    dumped = json_text(json.dumps(no_high, ensure_ascii=False))
    assert not {c for c in dumped if unicodedata.category(c) in unsafe}
    assert json.loads(dumped) == no_high
