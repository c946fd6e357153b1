"""The CI report formats (github, sarif, gitlab, junit) as the CI service reads them.

Results are built from realistic findings (multi-line messages, commas, colons, ``%``,
non-ASCII paths) and the output is compared exactly, or parsed back the way the consumer
parses it: GitHub's runner unescaping, the official SARIF 2.1.0 schema, an XML parser.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from migcheck.docs import rule_doc
from migcheck.engine import Result
from migcheck.model import Finding, InputError, Span
from migcheck.report import FORMATS, render
from migcheck.report.github import escape_data, escape_property, step_summary, write_step_summary
from migcheck.report.sarif import as_dict as sarif_dict
from migcheck.runner import RunRequest, RunResult, run

# The official OASIS schema, vendored so the suite needs nothing outside the checkout.
SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"
NON_ASCII = "db/migrations/0002_cambio_de_año,v2:ü.sql"
DROP_HELP = (
    "Drop the column in two deploys:\n"
    '1. Ship app code that no longer reads or writes "User"."bio".\n'
    "2. In a later deploy, drop it:\n"
    '    ALTER TABLE "User" DROP COLUMN "bio";'
)


@pytest.fixture(autouse=True)
def _in_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test from a clean "repository root", whatever CI runs the suite."""
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("CI_PROJECT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def sample() -> Result:
    return Result(
        findings=[
            Finding(
                rule="drop-column",
                severity="error",
                category="compatibility",
                path="db/migrations/0001_init.sql",
                span=Span(8, 20, 8, 36),
                message='Dropping column "User"."bio": the running app fails.',
                help=DROP_HELP,
                statement='ALTER TABLE "User" DROP COLUMN "bio"',
            ),
            Finding(
                rule="change-column-type",
                severity="warning",
                category="compatibility",
                path=NON_ASCII,
                span=Span(3, 1, 5, 12),
                message='Changing "orders"."total" to numeric(12,2): 100% of rows are rewritten\n'
                "while ACCESS EXCLUSIVE is held.",
                help="Add a new column, backfill it, switch reads: 50%, then 100%.",
                statement="ALTER TABLE orders\n  ALTER COLUMN total\n  TYPE numeric(12,2)",
            ),
            Finding(
                rule="unrecognized-statement",
                severity="info",
                category="meta",
                path=NON_ASCII,
                span=Span(9, 1, 9, 14),
                message="migcheck does not understand this statement: CALL do_it()",
                statement="CALL do_it()",
            ),
        ],
        errors=[
            InputError("db/migrations/0003_bad.sql", "not valid UTF-8 (byte 0xff at line 4)", 4),
            InputError("missing.sql", "No such file or directory"),
        ],
        files=3,
        statements=12,
        unrecognized=1,
    )


def runner_unescape(value: str, *, prop: bool) -> str:
    """What GitHub's runner does to a workflow command value (ActionCommand.Unescape)."""
    pairs = [("%0D", "\r"), ("%0A", "\n")]
    if prop:
        pairs += [("%3A", ":"), ("%2C", ",")]
    for escaped, raw in [*pairs, ("%25", "%")]:
        value = value.replace(escaped, raw)
    return value


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    assert line.startswith("::")
    head, _, data = line[2:].partition("::")
    name, _, props = head.partition(" ")
    properties = {}
    for item in props.split(",") if props else []:
        key, _, value = item.partition("=")
        properties[key] = runner_unescape(value, prop=True)
    return name, properties, runner_unescape(data, prop=False)


# --- github ---------------------------------------------------------------------------


def test_github_annotations_exact() -> None:
    lines = render(sample(), "github").splitlines()
    assert lines == [
        "::error file=db/migrations/0003_bad.sql,line=4::not valid UTF-8 (byte 0xff at line 4)",
        "::error file=missing.sql::No such file or directory",
        "::error file=db/migrations/0001_init.sql,line=8,col=20,endLine=8,endColumn=36,"
        'title=drop-column::Dropping column "User"."bio": the running app fails.%0A%0Ahelp: '
        'Drop the column in two deploys:%0A1. Ship app code that no longer reads or writes "User".'
        '"bio".%0A2. In a later deploy, drop it:%0A    ALTER TABLE "User" DROP COLUMN "bio";',
        # Multi-line span: the runner rejects col/endColumn, so only lines are given.
        "::warning file=db/migrations/0002_cambio_de_año%2Cv2%3Aü.sql,line=3,endLine=5,"
        'title=change-column-type::Changing "orders"."total" to numeric(12,2): 100%25 of rows '
        "are rewritten%0Awhile ACCESS EXCLUSIVE is held.%0A%0Ahelp: Add a new column, backfill "
        "it, switch reads: 50%25, then 100%25.",
        "::notice file=db/migrations/0002_cambio_de_año%2Cv2%3Aü.sql,line=9,col=1,endLine=9,"
        "endColumn=14,title=unrecognized-statement::migcheck does not understand this "
        "statement: CALL do_it()",
        "Checked 3 files, 12 statements: 1 error, 1 warning, 1 info; 1 statement not "
        "understood; 2 input errors.",
    ]


def test_github_annotations_round_trip_through_the_runner() -> None:
    result = sample()
    commands = [ln for ln in render(result, "github").splitlines() if ln.startswith("::")]
    parsed = [parse_command(ln) for ln in commands[2:]]
    for f, (name, props, data) in zip(result.findings, parsed, strict=True):
        assert name == {"error": "error", "warning": "warning", "info": "notice"}[f.severity]
        assert props["file"] == f.path
        assert props["line"] == str(f.span.line)
        assert props["endLine"] == str(f.span.end_line)
        assert props["title"] == f.rule
        assert data.startswith(f.message)
        assert "\n" not in commands[0]  # one physical line per command


def test_github_escaping_matches_actions_toolkit() -> None:
    assert escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    # "%" first, so an escape sequence in the text is not decoded by the runner.
    assert runner_unescape(escape_data("literal %0A"), prop=False) == "literal %0A"


def test_github_paths_are_relative_to_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from a sub-directory of the checkout, annotations still name repo paths."""
    (tmp_path / "backend").mkdir()
    monkeypatch.chdir(tmp_path / "backend")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    result = Result(findings=[sample().findings[0]])
    first = render(result, "github").splitlines()[0]
    assert first.startswith("::error file=backend/db/migrations/0001_init.sql,line=8,")


def test_step_summary_table_and_totals(tmp_path: Path) -> None:
    result = sample()
    result.findings[0].message = "a | b <c> & d\nsecond line"
    summary_file = tmp_path / "summary.md"
    summary_file.write_text("# earlier step\n", encoding="utf-8")
    assert write_step_summary(result, str(summary_file))
    text = summary_file.read_text(encoding="utf-8")
    assert text.startswith("# earlier step\n## migcheck\n")  # appended, not replaced
    assert text.splitlines()[3:9] == [
        "| Location | Rule | Severity | Message |",
        "|---|---|---|---|",
        "| `db/migrations/0001_init.sql:8` | `drop-column` | error | a \\| b &lt;c&gt; &amp; d"
        "<br>second line |",
        "| `db/migrations/0002_cambio_de_año,v2:ü.sql:3` | `change-column-type` | warning | "
        'Changing "orders"."total" to numeric(12,2): 100% of rows are rewritten<br>while '
        "ACCESS EXCLUSIVE is held. |",
        "| `db/migrations/0002_cambio_de_año,v2:ü.sql:9` | `unrecognized-statement` | info | "
        "migcheck does not understand this statement: CALL do\\_it() |",
        "",
    ]
    assert "- `db/migrations/0003_bad.sql:4`: not valid UTF-8 (byte 0xff at line 4)" in text
    assert "- `missing.sql`: No such file or directory" in text
    assert text.rstrip().endswith(
        "**Checked 3 files, 12 statements: 1 error, 1 warning, 1 info; 1 statement not "
        "understood; 2 input errors.**"
    )


def test_step_summary_without_findings() -> None:
    text = step_summary(Result(files=2, statements=5))
    assert "|" not in text
    assert "**Checked 2 files, 5 statements: 0 errors, 0 warnings.**" in text


def test_step_summary_unwritable_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not write_step_summary(sample(), str(tmp_path))  # a directory
    err = capsys.readouterr().err
    assert err.startswith(f"migcheck: cannot write the GitHub step summary to {tmp_path}: ")
    assert err.count("\n") == 1


# --- sarif ----------------------------------------------------------------------------


def validate_sarif(doc: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    if not set(schema) & {"type", "properties", "$ref", "required"}:
        # This copy keeps the log-file schema in definitions.Root and leaves the top level
        # empty: validating against the top level would accept anything.
        assert "Root" in schema.get("definitions", {}), "SARIF schema without a root"
        schema = {**schema, "$ref": "#/definitions/Root"}
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    validator.validate(doc)


def test_sarif_validates_against_the_official_schema() -> None:
    doc = json.loads(render(sample(), "sarif"))
    validate_sarif(doc)
    assert doc["version"] == "2.1.0"
    assert len(doc["runs"]) == 1


def test_sarif_schema_rejects_a_broken_document() -> None:
    """The validation above can fail: a region starting on line 0 is refused."""
    doc = sarif_dict(sample())
    doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    import jsonschema

    with pytest.raises(jsonschema.ValidationError):
        validate_sarif(doc)


def test_sarif_results() -> None:
    run_ = sarif_dict(sample())["runs"][0]
    results = run_["results"]
    assert [r["ruleId"] for r in results] == [
        "drop-column",
        "change-column-type",
        "unrecognized-statement",
    ]
    assert [r["level"] for r in results] == ["error", "warning", "note"]
    rules = run_["tool"]["driver"]["rules"]
    assert [rules[r["ruleIndex"]]["id"] for r in results] == [r["ruleId"] for r in results]
    first = results[0]
    assert first["message"]["text"] == (
        'Dropping column "User"."bio": the running app fails.\n\nhelp: ' + DROP_HELP
    )
    assert first["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "db/migrations/0001_init.sql", "uriBaseId": "%SRCROOT%"},
        # SARIF's endColumn is the column after the region: migcheck's 36 is inclusive.
        "region": {"startLine": 8, "startColumn": 20, "endLine": 8, "endColumn": 37},
    }
    second = results[1]["locations"][0]["physicalLocation"]
    assert second["artifactLocation"]["uri"] == (
        "db/migrations/0002_cambio_de_a%C3%B1o%2Cv2%3A%C3%BC.sql"
    )
    assert second["region"] == {"startLine": 3, "startColumn": 1, "endLine": 5, "endColumn": 13}
    assert results[2]["message"]["text"] == (
        "migcheck does not understand this statement: CALL do_it()"
    )
    assert run_["columnKind"] == "unicodeCodePoints"
    assert all(len(r["partialFingerprints"]["migcheck/v1"]) == 64 for r in results)


def test_sarif_rules_describe_each_used_rule_once() -> None:
    result = sample()
    result.findings.append(result.findings[0])  # drop-column twice
    driver = sarif_dict(result)["runs"][0]["tool"]["driver"]
    assert driver["name"] == "migcheck"
    ids = [r["id"] for r in driver["rules"]]
    assert ids == ["drop-column", "change-column-type", "unrecognized-statement"]
    drop = driver["rules"][0]
    doc = rule_doc("drop-column")
    assert doc is not None
    assert drop["name"] == "DropColumn"
    assert drop["shortDescription"]["text"].startswith("Dropping a column breaks")
    assert drop["fullDescription"]["text"].startswith("`ALTER TABLE … DROP COLUMN`")
    assert "## Why it breaks" not in drop["fullDescription"]["text"]
    assert drop["fullDescription"]["text"] in doc
    assert drop["help"]["markdown"] == doc.strip()
    assert drop["defaultConfiguration"] == {"level": "error"}
    assert drop["properties"] == {"tags": ["compatibility"]}
    unrec = driver["rules"][2]
    assert unrec["name"] == "UnrecognizedStatement"
    assert unrec["defaultConfiguration"] == {"level": "note"}
    assert unrec["properties"] == {"tags": ["meta"]}


def test_sarif_rule_outside_the_registry_still_validates() -> None:
    finding = Finding("live-migration-failed", "error", "meta", "a.sql", Span(1, 1, 1, 1), "x")
    doc = sarif_dict(Result(findings=[finding]))
    rule = doc["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule == {
        "id": "live-migration-failed",
        "name": "LiveMigrationFailed",
        "shortDescription": {"text": "live-migration-failed"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["meta"]},
    }
    validate_sarif(doc)


def test_sarif_input_errors_are_notifications() -> None:
    invocation = sarif_dict(sample())["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True
    notes = invocation["toolExecutionNotifications"]
    assert notes[0] == {
        "level": "error",
        "message": {"text": "db/migrations/0003_bad.sql: not valid UTF-8 (byte 0xff at line 4)"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {
                        "uri": "db/migrations/0003_bad.sql",
                        "uriBaseId": "%SRCROOT%",
                    },
                    "region": {"startLine": 4},
                }
            }
        ],
        "descriptor": {"id": "input-error"},
    }
    assert "region" not in notes[1]["locations"][0]["physicalLocation"]
    fatal = RunResult(errors=[InputError("missing.sql", "No such file or directory")])
    fatal.fatal = True
    doc = sarif_dict(fatal)
    assert doc["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert doc["runs"][0]["results"] == []
    validate_sarif(doc)


def test_sarif_file_outside_the_repository_gets_an_absolute_uri(tmp_path: Path) -> None:
    outside = tmp_path.parent / "elsewhere dir" / "x.sql"
    finding = Finding("drop-column", "error", "compatibility", str(outside), Span(1, 1, 1, 5), "m")
    repo = tmp_path / "repo"
    repo.mkdir()
    loc = sarif_dict(Result(findings=[finding]), root=str(repo))["runs"][0]["results"][0]
    artifact = loc["locations"][0]["physicalLocation"]["artifactLocation"]
    assert artifact == {"uri": outside.as_uri()}
    assert "%20" in artifact["uri"]


# --- fingerprints ---------------------------------------------------------------------

UNSAFE = 'ALTER TABLE "User" DROP COLUMN "bio", DROP COLUMN "age";\n'


def lint_file(tmp_path: Path, text: str) -> RunResult:
    path = tmp_path / "db" / "0001_drop.sql"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return run(RunRequest(paths=["db/0001_drop.sql"]))


def prints(result: Result) -> list[tuple[str, int, str]]:
    doc = sarif_dict(result)
    return [
        (
            r["ruleId"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["partialFingerprints"]["migcheck/v1"],
        )
        for r in doc["runs"][0]["results"]
    ]


def test_fingerprint_survives_lines_added_above(tmp_path: Path) -> None:
    before = prints(lint_file(tmp_path, UNSAFE))
    above = "".join(f"-- note {i}\n" for i in range(9)) + "SELECT 1;\n"
    after = prints(lint_file(tmp_path, above + UNSAFE))
    assert [line for _, line, _ in before] == [1, 1]
    assert [line for _, line, _ in after] == [11, 11]
    assert [fp for *_, fp in after] == [fp for *_, fp in before]
    # The two DROP COLUMNs of one statement are two alerts, not one.
    assert before[0][2] != before[1][2]
    # Reflowing the statement keeps it; changing it does not.
    reflowed = prints(lint_file(tmp_path, UNSAFE.replace(", ", ",\n    ")))
    assert [fp for *_, fp in reflowed] == [fp for *_, fp in before]
    changed = prints(lint_file(tmp_path, UNSAFE.replace('"age"', '"born"')))
    assert {fp for *_, fp in changed}.isdisjoint(fp for *_, fp in before)


def test_gitlab_and_sarif_share_fingerprints(tmp_path: Path) -> None:
    result = lint_file(tmp_path, UNSAFE)
    gitlab = json.loads(render(result, "gitlab"))
    assert [i["fingerprint"] for i in gitlab] == [fp for *_, fp in prints(result)]


# --- gitlab ---------------------------------------------------------------------------


def test_gitlab_code_quality_exact() -> None:
    issues = json.loads(render(sample(), "gitlab"))
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
    stripped = [{k: v for k, v in i.items() if k != "fingerprint"} for i in issues]
    assert stripped == [
        {
            "description": "not valid UTF-8 (byte 0xff at line 4)",
            "check_name": "input-error",
            "severity": "major",
            "location": {"path": "db/migrations/0003_bad.sql", "lines": {"begin": 4, "end": 4}},
        },
        {
            "description": "No such file or directory",
            "check_name": "input-error",
            "severity": "major",
            "location": {"path": "missing.sql", "lines": {"begin": 1, "end": 1}},
        },
        {
            "description": 'Dropping column "User"."bio": the running app fails.',
            "check_name": "drop-column",
            "severity": "major",
            "location": {"path": "db/migrations/0001_init.sql", "lines": {"begin": 8, "end": 8}},
        },
        {
            "description": 'Changing "orders"."total" to numeric(12,2): 100% of rows are '
            "rewritten\nwhile ACCESS EXCLUSIVE is held.",
            "check_name": "change-column-type",
            "severity": "minor",
            "location": {"path": NON_ASCII, "lines": {"begin": 3, "end": 5}},
        },
        {
            "description": "migcheck does not understand this statement: CALL do_it()",
            "check_name": "unrecognized-statement",
            "severity": "info",
            "location": {"path": NON_ASCII, "lines": {"begin": 9, "end": 9}},
        },
    ]
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)
    # Written as UTF-8, not \u escapes, and parseable as one JSON array.
    assert "año" in render(sample(), "gitlab")


def test_gitlab_empty_report_is_an_empty_array() -> None:
    assert json.loads(render(Result(files=1, statements=1), "gitlab")) == []


# --- junit ----------------------------------------------------------------------------


def test_junit_one_testcase_per_file() -> None:
    result = sample()
    result.findings[0].message = "control \x1b[1m char & <tag> \"quoted\" 'single'"
    xml = render(result, "junit", files=["db/migrations/0001_init.sql", "db/clean.sql"])
    assert xml.startswith("<?xml version='1.0' encoding='utf-8'?>\n<testsuites ")
    root = ET.fromstring(xml)
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    assert suite.get("name") == "migcheck"
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "2")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert sorted(cases) == [
        "db/clean.sql",
        "db/migrations/0001_init.sql",
        NON_ASCII,
        "db/migrations/0003_bad.sql",
        "missing.sql",
    ]
    assert list(cases["db/clean.sql"]) == []
    failure = cases["db/migrations/0001_init.sql"].find("failure")
    assert failure is not None
    assert failure.get("type") == "drop-column"
    assert failure.get("message") == (
        "db/migrations/0001_init.sql:8:20 drop-column control \\x1b[1m char & <tag> "
        "\"quoted\" 'single'"
    )
    assert failure.text is not None and f"help: {DROP_HELP}" in failure.text
    two = cases[NON_ASCII].findall("failure")
    assert [f.get("message") for f in two] == [
        f'{NON_ASCII}:3:1 change-column-type Changing "orders"."total" to numeric(12,2): 100% '
        "of rows are rewritten\nwhile ACCESS EXCLUSIVE is held.",
        f"{NON_ASCII}:9:1 unrecognized-statement migcheck does not understand this statement: "
        "CALL do_it()",
    ]
    error = cases["db/migrations/0003_bad.sql"].find("error")
    assert error is not None
    assert error.get("message") == (
        "db/migrations/0003_bad.sql:4: not valid UTF-8 (byte 0xff at line 4)"
    )


def test_junit_without_file_list_uses_the_reported_files() -> None:
    root = ET.fromstring(render(sample(), "junit"))
    names = [c.get("name") for c in root.iter("testcase")]
    assert names == sorted(
        {"db/migrations/0001_init.sql", NON_ASCII, "db/migrations/0003_bad.sql", "missing.sql"}
    )


# --- dispatcher -----------------------------------------------------------------------


def test_formats_and_unknown_names() -> None:
    assert FORMATS == ("text", "concise", "json", "github", "sarif", "gitlab", "junit", "markdown")
    with pytest.raises(ValueError, match="unknown format 'xml'"):
        render(sample(), "xml")
    with pytest.raises(TypeError, match="colour_mode"):
        render(sample(), "text", colour_mode=True)


def test_text_and_json_are_dispatched_unchanged() -> None:
    from migcheck.report import json as json_report
    from migcheck.report import text as text_report

    result = sample()
    assert render(result, "json") == json_report.render(result)
    assert render(result, "text", statistics=True) == text_report.render(result, statistics=True)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("text", "concise")])
def test_statistics_do_not_change_machine_formats(fmt: str) -> None:
    result = sample()
    plain = render(result, fmt)
    assert render(result, fmt, statistics=True, colour=True) == plain
    assert "drop-column" in plain


def test_statistics_still_change_text() -> None:
    assert render(sample(), "text", statistics=True) != render(sample(), "text")


def test_lines_are_one_based_everywhere() -> None:
    """A finding on the first character of a file is line 1, column 1 in every format."""
    first = Finding("truncate-table", "error", "data", "a.sql", Span(1, 1, 1, 8), "m", "h", "x")
    result = Result(findings=[first], files=1, statements=1)
    assert render(result, "github").startswith("::error file=a.sql,line=1,col=1,endLine=1,")
    region = sarif_dict(result)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert region["region"]["startLine"] == 1 and region["region"]["startColumn"] == 1
    assert json.loads(render(result, "gitlab"))[0]["location"]["lines"] == {"begin": 1, "end": 1}
    assert "a.sql:1:1 truncate-table m" in render(result, "junit")


def test_importing_the_dispatcher_is_light() -> None:
    code = (
        "import sys\n"
        "from migcheck.report import render\n"
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('jsonschema', 'sqlglot')\n"
        "         or m.startswith(('migcheck.report.', 'migcheck.engine', 'migcheck.rules'))]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


# --- the command line (once the lead wires --format and --output) ----------------------


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
        timeout=120,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


@pytest.fixture
def cli_help(tmp_path: Path) -> str:
    return cli("check", "--help", cwd=tmp_path).stdout


def needs(help_text: str, *words: str) -> None:
    missing = [w for w in words if w not in help_text]
    if missing:
        pytest.skip(f"`migcheck check` has no {', '.join(missing)} yet")


def test_cli_sarif_to_stdout(tmp_path: Path, cli_help: str) -> None:
    needs(cli_help, "sarif")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "0001_drop.sql").write_text(UNSAFE, encoding="utf-8")
    proc = cli("--format", "sarif", "db", cwd=tmp_path)
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [r["ruleId"] for r in doc["runs"][0]["results"]] == ["drop-column", "drop-column"]
    validate_sarif(doc)


def test_cli_github_writes_step_summary(tmp_path: Path, cli_help: str) -> None:
    needs(cli_help, "github")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "0001_drop.sql").write_text(UNSAFE, encoding="utf-8")
    summary = tmp_path / "summary.md"
    env = {"GITHUB_STEP_SUMMARY": str(summary), "GITHUB_WORKSPACE": str(tmp_path)}
    proc = cli("--format", "github", "db", cwd=tmp_path, env=env)
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error file=db/0001_drop.sql,line=1,col=20,")
    assert "| `db/0001_drop.sql:1` | `drop-column` | error |" in summary.read_text("utf-8")


def test_cli_output_file_keeps_text_on_the_terminal(tmp_path: Path, cli_help: str) -> None:
    needs(cli_help, "--output", "gitlab")
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "0001_drop.sql").write_text(UNSAFE, encoding="utf-8")
    proc = cli("--format", "gitlab", "--output", "cq.json", "db", cwd=tmp_path)
    assert proc.returncode == 1
    assert "db/0001_drop.sql:1:20: error[drop-column]" in proc.stdout
    issues = json.loads((tmp_path / "cq.json").read_text(encoding="utf-8"))
    assert [i["check_name"] for i in issues] == ["drop-column", "drop-column"]


def test_sarif_links_come_from_the_package_urls_and_are_never_invented(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from migcheck.report import sarif

    monkeypatch.setattr(sarif, "project_urls", dict)
    driver = sarif_dict(sample())["runs"][0]["tool"]["driver"]
    assert "informationUri" not in driver
    assert all("helpUri" not in r for r in driver["rules"])
    assert all("help" in r for r in driver["rules"] if r["id"] != "unrecognized-statement")
    monkeypatch.setattr(
        sarif,
        "project_urls",
        lambda: {"homepage": "https://example.org/migcheck", "rules": "https://example.org/r/"},
    )
    driver = sarif_dict(sample())["runs"][0]["tool"]["driver"]
    assert driver["informationUri"] == "https://example.org/migcheck"
    drop = next(r for r in driver["rules"] if r["id"] == "drop-column")
    assert drop["helpUri"] == "https://example.org/r/drop-column.md"


def test_the_installed_package_names_no_placeholder_url() -> None:
    from migcheck.report.sarif import project_urls

    for url in project_urls().values():
        assert "OWNER" not in url and "example" not in url, url
