"""The ``--format sarif`` report: SARIF 2.1.0, for GitHub code scanning and other viewers.

One run. ``tool.driver.rules`` describes every rule the results use (GitHub's
recommendation), with the rule's documentation as help. Locations are URIs relative to
``%SRCROOT%`` (the repository root), lines and columns 1-based and counted in Unicode
code points as migcheck counts them; ``endColumn`` is exclusive, as SARIF defines it.
Each result carries a ``partialFingerprints`` entry that does not depend on line
numbers, so code scanning keeps an alert open (or dismissed) when lines move, and its
safe fixes (``migcheck.fixes``) as SARIF ``fixes``: replacements by region and character
offset, a created file as content inserted into an empty one. Input errors become tool
execution notifications.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from migcheck import __version__
from migcheck.model import Finding, Result
from migcheck.report._common import FINGERPRINT_KEY, fingerprints, repo_path
from migcheck.report.escape import json_text

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def project_urls() -> dict[str, str]:
    """The ``[project.urls]`` of the installed package, by lower-cased label.

    SARIF's links (``informationUri``, each rule's ``helpUri``) come from here, so they
    point where the package says it lives, and are left out rather than invented when it
    says nothing (each rule's doc is embedded as its ``help`` either way)."""
    from importlib import metadata

    from migcheck import DISTRIBUTION

    try:
        entries = metadata.metadata(DISTRIBUTION).get_all("Project-URL") or []
    except metadata.PackageNotFoundError:
        return {}
    urls: dict[str, str] = {}
    for entry in entries:
        label, _, url = entry.partition(",")
        if url.strip().startswith("https://"):
            urls[label.strip().lower()] = url.strip()
    return urls


def camel_case(rule_id: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]", rule_id))


def doc_section(doc: str, title: str) -> str:
    """The text under ``## <title>`` in a rule doc, up to the next heading."""
    match = re.search(rf"^## +{re.escape(title)}\s*$(.*?)(?=^## |\Z)", doc, flags=re.M | re.S)
    return match.group(1).strip() if match else ""


def rule_descriptor(rule_id: str, example: Finding) -> dict[str, Any]:
    """The reportingDescriptor of a rule; ``example`` supplies what a rule outside the
    registry (the live checks) cannot: its category and severity."""
    from migcheck.docs import rule_doc
    from migcheck.rules import all_rules

    rule = all_rules().get(rule_id)
    severity = rule.severity if rule is not None else example.severity
    category = rule.category if rule is not None else example.category
    out: dict[str, Any] = {
        "id": rule_id,
        "name": camel_case(rule_id),
        "shortDescription": {"text": rule.summary if rule is not None else rule_id},
    }
    doc = rule_doc(rule_id) if rule is not None else None
    if doc:
        flags = doc_section(doc, "What it flags")
        if flags:
            out["fullDescription"] = {"text": flags, "markdown": flags}
        out["help"] = {"text": doc.strip(), "markdown": doc.strip()}
        rules_url = project_urls().get("rules")
        if rules_url:
            out["helpUri"] = f"{rules_url.rstrip('/')}/{rule_id}.md"
    out["defaultConfiguration"] = {"level": LEVELS.get(severity, "warning")}
    out["properties"] = {"tags": [category]}
    return out


def artifact_location(path: str, root: str | None) -> dict[str, str]:
    rel, inside = repo_path(path, root)
    if inside:
        return {"uri": quote(rel, safe="/"), "uriBaseId": SRCROOT}
    # A file outside the repository can only be named by an absolute file: URI.
    return {"uri": Path(os.path.abspath(path)).as_uri()}


def _region(f: Finding) -> dict[str, int]:
    line = max(f.span.line, 1)
    col = max(f.span.column, 1)
    end_line = max(f.span.end_line, line)
    end_col = max(f.span.end_column, 1) + 1  # migcheck's end is inclusive, SARIF's is not
    if end_line == line:
        end_col = max(end_col, col + 1)
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def as_dict(result: Result, *, root: str | None = None) -> dict[str, Any]:
    rule_index: dict[str, int] = {}
    rules: list[dict[str, Any]] = []
    for f in result.findings:
        if f.rule not in rule_index:
            rule_index[f.rule] = len(rules)
            rules.append(rule_descriptor(f.rule, f))
    prints = fingerprints(result.findings, root)
    fixes: dict[tuple[str, int, int, str], list[Any]] = getattr(result, "fixes", {})
    results = []
    for f, fingerprint in zip(result.findings, prints, strict=True):
        text = f"{f.message}\n\nhelp: {f.help}" if f.help else f.message
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_index[f.rule],
                "level": LEVELS.get(f.severity, "warning"),
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": artifact_location(f.path, root),
                            "region": _region(f),
                        }
                    }
                ],
                "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
                **_fixes(fixes.get(f.sort_key, []), f.path, root),
            }
        )
    invocation: dict[str, Any] = {"executionSuccessful": not getattr(result, "fatal", False)}
    from migcheck.configreport import ConfigReport, config_lines

    config = getattr(result, "config", None) or ConfigReport()
    if config_lines(result):
        invocation["toolConfigurationNotifications"] = [
            {"level": "note", "message": {"text": line}, "descriptor": {"id": "config"}}
            for line in config_lines(result)
        ]
    if result.errors:
        invocation["toolExecutionNotifications"] = [
            _notification(e.path, e.line, e.message, root) for e in result.errors
        ]
    homepage = project_urls().get("homepage")
    home = {"informationUri": homepage} if homepage else {}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "migcheck",
                        **home,
                        "version": __version__,
                        "semanticVersion": __version__,
                        "rules": rules,
                    }
                },
                "invocations": [invocation],
                "columnKind": "unicodeCodePoints",
                "results": results,
                # The config file used and what it disables, as in the JSON report.
                "properties": {"migcheckConfig": config.as_json()},
            }
        ],
    }


def _fixes(fixes: list[Any], path: str, root: str | None) -> dict[str, Any]:
    """The result's ``fixes`` property: each fix ``--fix`` would apply (``fixes.model.Fix``)."""
    out = []
    for fix in fixes:
        if fix.applicability != "safe" or len(fix.regions) != len(fix.edits):
            continue
        replacements = [
            {
                "deletedRegion": {
                    "startLine": r.line,
                    "startColumn": r.column,
                    "endLine": r.end_line,
                    "endColumn": r.end_column,
                    "charOffset": e.start,
                    "charLength": e.end - e.start,
                },
                "insertedContent": {"text": e.new},
            }
            for e, r in zip(fix.edits, fix.regions, strict=True)
        ]
        changes = [
            {"artifactLocation": artifact_location(path, root), "replacements": replacements}
        ]
        empty = {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1, "charOffset": 0}
        for created in fix.new_files:
            changes.append(
                {
                    "artifactLocation": artifact_location(created.path, root),
                    "replacements": [
                        {
                            "deletedRegion": {**empty, "charLength": 0},
                            "insertedContent": {"text": created.text},
                        }
                    ],
                }
            )
        out.append({"description": {"text": fix.title}, "artifactChanges": changes})
    return {"fixes": out} if out else {}


def _notification(path: str, line: int | None, message: str, root: str | None) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": artifact_location(path, root)}
    if line:
        location["region"] = {"startLine": max(line, 1)}
    return {
        "level": "error",
        "message": {"text": f"{path}: {message}"},
        "locations": [{"physicalLocation": location}],
        "descriptor": {"id": "input-error"},
    }


def render(result: Result, *, root: str | None = None) -> str:
    return json_text(json.dumps(as_dict(result, root=root), indent=2, ensure_ascii=False)) + "\n"
