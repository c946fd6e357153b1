"""The ``--format gitlab`` report: a GitLab Code Quality artifact (a JSON array of issues).

GitLab shows these in the merge request widget and on the diff. Lines are 1-based, paths
relative to the repository root, and ``fingerprint`` (the one SARIF uses) is stable when
lines move and unique per issue, as GitLab requires: it drops an issue whose fingerprint
it has already seen. Severities map error → major, warning → minor, info → info; an
input error (a file migcheck could not read) is a ``major`` issue of its own, so the
widget does not look clean when a migration was never checked.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from migcheck.model import Result
from migcheck.report._common import fingerprints, repo_path
from migcheck.report.escape import json_text

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}
INPUT_ERROR = "input-error"


def as_list(result: Result, *, root: str | None = None) -> list[dict[str, Any]]:
    issues: list[dict[str, Any]] = []
    for e in result.errors:
        path = repo_path(e.path, root)[0]
        raw = "\0".join((INPUT_ERROR, path, e.message))
        line = max(e.line or 1, 1)
        issues.append(
            {
                "description": e.message,
                "check_name": INPUT_ERROR,
                "fingerprint": hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest(),
                "severity": "major",
                "location": {"path": path, "lines": {"begin": line, "end": line}},
            }
        )
    for f, fingerprint in zip(result.findings, fingerprints(result.findings, root), strict=True):
        begin = max(f.span.line, 1)
        issues.append(
            {
                "description": f.message,
                "check_name": f.rule,
                "fingerprint": fingerprint,
                "severity": SEVERITIES.get(f.severity, "minor"),
                "location": {
                    "path": repo_path(f.path, root)[0],
                    "lines": {"begin": begin, "end": max(f.span.end_line, begin)},
                },
            }
        )
    return issues


def render(result: Result, *, root: str | None = None) -> str:
    return json_text(json.dumps(as_list(result, root=root), indent=2, ensure_ascii=False)) + "\n"
