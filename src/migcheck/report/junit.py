"""The ``--format junit`` report: JUnit XML for CI test-report views (GitLab, Jenkins...).

One ``testsuite`` named ``migcheck`` with one ``testcase`` per file: a file with findings
fails, with one ``<failure>`` per finding; a file migcheck could not read gets an
``<error>``; a clean file passes. Built with ``xml.etree`` so every value is escaped;
control characters (which XML 1.0 mostly cannot carry at all) are written as visible
escapes, and only the body text keeps its newlines.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from migcheck.model import Finding, InputError, Result
from migcheck.report.escape import log_line, visible

SUITE = "migcheck"


def _failure_line(f: Finding) -> str:
    # XML carries a newline safely: only the path (a name) must stay on one line.
    where = visible(f"{f.path}:{f.span.line}:{f.span.column} {f.rule}")
    return f"{where} {visible(f.message, multiline=True)}"


def render(result: Result, *, files: Iterable[str] | None = None) -> str:
    """``files``: every file that was linted, so clean files appear as passing tests.
    Without it, the files with findings or errors are the test cases."""
    findings: dict[str, list[Finding]] = {}
    errors: dict[str, list[InputError]] = {}
    for f in result.findings:
        findings.setdefault(f.path, []).append(f)
    for e in result.errors:
        errors.setdefault(e.path, []).append(e)
    paths = sorted({*(files or ()), *findings, *errors})

    n_fail = sum(1 for p in paths if p in findings and p not in errors)
    n_err = sum(1 for p in paths if p in errors)
    counts = {"tests": str(len(paths)), "failures": str(n_fail), "errors": str(n_err)}
    root = ET.Element("testsuites", {"name": SUITE, **counts, "time": "0"})
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts, "skipped": "0", "time": "0"})
    from migcheck.configreport import config_lines

    lines = config_lines(result)
    if lines:
        # The config file used and what it disables: a suite property, before the cases.
        props = ET.SubElement(suite, "properties")
        ET.SubElement(
            props,
            "property",
            {"name": "migcheck.config", "value": visible("\n".join(lines), multiline=True)},
        )
    for path in paths:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": SUITE, "name": visible(path), "file": visible(path), "time": "0"},
        )
        for e in errors.get(path, ()):
            where = f"{e.path}:{e.line}" if e.line else e.path
            text = visible(f"{where}: {e.message}")
            node = ET.SubElement(case, "error", {"type": "input-error", "message": text})
            node.text = text
        for f in findings.get(path, ()):
            node = ET.SubElement(
                case, "failure", {"type": visible(f.rule), "message": _failure_line(f)}
            )
            body = [_failure_line(f), f"severity: {f.severity}"]
            if f.help:
                body.append(f"help: {visible(f.help, multiline=True)}")
            if f.statement:
                body.append(f"statement:\n{visible(f.statement, multiline=True)}")
            # The file may be printed to a CI log: no body line may read as a command.
            node.text = "\n".join(log_line(line) for line in "\n".join(body).split("\n"))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
