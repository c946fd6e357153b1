"""The ``--format junit`` report: JUnit XML for CI test-report views (GitLab, Jenkins...).

One ``testsuite`` named ``migcheck`` with one ``testcase`` per file: a file with findings
fails, with one ``<failure>`` per finding; a file migcheck could not read gets an
``<error>``; a clean file passes. Built with ``xml.etree`` so every value is escaped;
characters XML 1.0 cannot carry at all (control characters) become U+FFFD.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from migcheck.engine import Result
from migcheck.model import Finding, InputError

SUITE = "migcheck"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _failure_line(f: Finding) -> str:
    return f"{f.path}:{f.span.line}:{f.span.column} {f.rule} {f.message}"


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
            props, "property", {"name": "migcheck.config", "value": _xml("\n".join(lines))}
        )
    for path in paths:
        case = ET.SubElement(
            suite,
            "testcase",
            {"classname": SUITE, "name": _xml(path), "file": _xml(path), "time": "0"},
        )
        for e in errors.get(path, ()):
            where = f"{e.path}:{e.line}" if e.line else e.path
            node = ET.SubElement(
                case, "error", {"type": "input-error", "message": _xml(f"{where}: {e.message}")}
            )
            node.text = _xml(f"{where}: {e.message}")
        for f in findings.get(path, ()):
            node = ET.SubElement(
                case, "failure", {"type": f.rule, "message": _xml(_failure_line(f))}
            )
            body = [f"{_failure_line(f)}", f"severity: {f.severity}"]
            if f.help:
                body.append(f"help: {f.help}")
            if f.statement:
                body.append(f"statement:\n{f.statement}")
            node.text = _xml("\n".join(body))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
