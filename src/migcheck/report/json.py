"""The ``--format json`` report: exactly one object, version 1, 1-based positions."""

from __future__ import annotations

import json
from typing import Any

from migcheck.model import Result
from migcheck.report.escape import json_text


def as_dict(result: Result) -> dict[str, object]:
    from migcheck.configreport import ConfigReport

    config = getattr(result, "config", None) or ConfigReport()
    # Each finding's fixes, when the run planned them (``--fix``, ``--show-fixes``).
    fixes: dict[tuple[str, int, int, str], list[Any]] = getattr(result, "fixes", {})
    return {
        "version": 1,
        "findings": [
            {
                "rule": f.rule,
                "severity": f.severity,
                "category": f.category,
                "path": f.path,
                "line": f.span.line,
                "column": f.span.column,
                "end_line": f.span.end_line,
                "end_column": f.span.end_column,
                "message": f.message,
                "help": f.help,
                **({"original_severity": f.original_severity} if f.original_severity else {}),
                **({"evidence": f.evidence} if f.evidence else {}),
                **(
                    {"fixes": [fix.to_json() for fix in fixes[f.sort_key]]}
                    if fixes.get(f.sort_key)
                    else {}
                ),
            }
            for f in result.findings
        ],
        "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in result.errors],
        "summary": {
            "files": result.files,
            "statements": result.statements,
            "findings": len(result.findings),
            "unrecognized": result.unrecognized,
        },
        # The config file used and what it disables (shape: migcheck.configreport).
        "config": config.as_json(),
    }


def render(result: Result) -> str:
    return json_text(json.dumps(as_dict(result), indent=2, ensure_ascii=False)) + "\n"
