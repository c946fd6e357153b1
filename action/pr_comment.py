"""Post migcheck's Markdown report on the pull request, updating the comment it posted before.

Run by the GitHub Action (action.yml) after the lint step, with the Python of migcheck's
own virtualenv (the marker is migcheck's) and otherwise only the standard library. It never decides the job's result: whatever
happens here, it exits 0 after saying what it did.

- The comment is found by the marker on the report's first line, among comments written
  by ``COMMENT_AUTHOR`` (``github-actions[bot]`` for the default token), so a comment a
  stranger writes with the same marker is never edited.
- A report with nothing to say (no finding, no input error) is posted only to update an
  earlier comment, so a clean pull request gets no comment at all.
- A pull request from a fork runs with a read-only token: the API answers 403, and the
  report goes to the job summary instead (``GITHUB_STEP_SUMMARY``).
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from typing import Any

from migcheck.report.markdown import MARKER

_PAGES = 20  # 2,000 comments: a pull request with more is not worth a longer search


def _api(method: str, url: str, token: str, body: dict[str, str] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/vnd.github+json")
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("X-GitHub-Api-Version", "2022-11-28")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def _has_news(report: str) -> bool:
    """Whether the report has findings or input errors (its marker line says so)."""
    match = re.match(re.escape(MARKER) + r" findings=(\d+) errors=(\d+) -->", report)
    return match is None or match.group(1) != "0" or match.group(2) != "0"


def _earlier_comment(base: str, token: str, author: str) -> int | None:
    for page in range(1, _PAGES + 1):
        comments = _api("GET", f"{base}/comments?per_page=100&page={page}", token)
        if not comments:
            return None
        for c in comments:
            body = c.get("body") or ""
            if body.startswith(MARKER) and (c.get("user") or {}).get("login") == author:
                return int(c["id"])
    return None


def _to_summary(report: str, why: str) -> None:
    print(f"::notice title=migcheck::{why}; the report is in the job summary.")
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(report + "\n")


def main() -> int:
    env = os.environ
    try:
        with open(env["MIGCHECK_REPORT"], encoding="utf-8") as fh:
            report = fh.read()
    except (KeyError, OSError) as err:
        print(f"::notice title=migcheck::no Markdown report to post ({err})")
        return 0
    number = env.get("PR_NUMBER", "")
    token = env.get("GITHUB_TOKEN", "")
    if not number.isdigit() or not token:
        _to_summary(report, "not a pull request, or no token to comment with")
        return 0
    api = env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    repo = env.get("GITHUB_REPOSITORY", "")
    base = f"{api}/repos/{repo}/issues/{number}"
    author = env.get("COMMENT_AUTHOR") or "github-actions[bot]"
    try:
        earlier = _earlier_comment(base, token, author)
        if earlier is not None:
            _api("PATCH", f"{api}/repos/{repo}/issues/comments/{earlier}", token, {"body": report})
            print(f"migcheck: updated the report comment ({base}#issuecomment-{earlier})")
        elif _has_news(report):
            made = _api("POST", f"{base}/comments", token, {"body": report})
            print(f"migcheck: posted the report comment ({(made or {}).get('html_url', '')})")
        else:
            print("migcheck: nothing to report and no earlier comment to update")
    except urllib.error.HTTPError as err:
        why = (
            "the token cannot comment (a pull request from a fork gets a read-only token)"
            if err.code in (401, 403, 404)
            else f"GitHub answered {err.code} to the comment request"
        )
        _to_summary(report, why)
    except (urllib.error.URLError, OSError, ValueError) as err:
        _to_summary(report, f"cannot reach the GitHub API ({err})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
