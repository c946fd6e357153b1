"""The Action's pull-request comment (action/pr_comment.py) against a stand-in GitHub API.

A local HTTP server plays the REST endpoints the script calls (list, create and edit issue
comments) and records every request, so each test checks what GitHub would have been asked
to do: post once, then edit the same comment on later pushes, never edit a stranger's
comment, post nothing for a clean pull request, and fall back to the job summary when the
token is read-only (a fork's pull request).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "action" / "pr_comment.py"
REPORT = "<!-- migcheck-report findings=2 errors=0 -->\n### migcheck: 2 errors\n"
CLEAN = "<!-- migcheck-report findings=0 errors=0 -->\n### migcheck: clean\n"


@dataclass
class FakeGitHub:
    comments: list[dict[str, object]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, object] | None]] = field(default_factory=list)
    status: int = 200  # what a write answers (403: a fork's read-only token)


@pytest.fixture
def github() -> Iterator[tuple[FakeGitHub, str]]:
    state = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, code: int, body: object) -> None:
            raw = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, None))
            query = parse_qs(urlsplit(self.path).query)
            page = int(query.get("page", ["1"])[0])
            self._reply(200, state.comments[(page - 1) * 100 : page * 100])

        def _write(self, method: str) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            state.requests.append((method, self.path, body))
            assert self.headers["Authorization"] == "Bearer t0ken"
            self._reply(state.status, {"id": 99, "html_url": "https://example/c/99"})

        def do_POST(self) -> None:
            self._write("POST")

        def do_PATCH(self) -> None:
            self._write("PATCH")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def post(
    api: str, tmp_path: Path, report: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = tmp_path / "migcheck.md"
    path.write_text(report, encoding="utf-8")
    summary = tmp_path / "summary.md"
    proc = subprocess.run(
        [sys.executable, str(SCRIPT)],
        env={
            "MIGCHECK_REPORT": str(path),
            "GITHUB_API_URL": api,
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_TOKEN": "t0ken",
            "PR_NUMBER": "42",
            "GITHUB_STEP_SUMMARY": str(summary),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return proc, summary


def writes(state: FakeGitHub) -> list[tuple[str, str, dict[str, object] | None]]:
    return [r for r in state.requests if r[0] != "GET"]


def test_first_push_posts_one_comment(github: tuple[FakeGitHub, str], tmp_path: Path) -> None:
    state, api = github
    post(api, tmp_path, REPORT)
    assert writes(state) == [("POST", "/repos/acme/shop/issues/42/comments", {"body": REPORT})]


def test_later_pushes_edit_the_bots_comment_not_a_strangers(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    state, api = github
    state.comments = [
        {"id": 7, "body": "looks good", "user": {"login": "alice"}},
        {"id": 8, "body": REPORT, "user": {"login": "mallory"}},  # a copied marker
        *({"id": 100 + i, "body": "chatter", "user": {"login": "bob"}} for i in range(120)),
        {"id": 555, "body": REPORT, "user": {"login": "github-actions[bot]"}},
    ]
    post(api, tmp_path, CLEAN)
    # The bot's comment is on the second page; a now-clean report still replaces it.
    assert writes(state) == [("PATCH", "/repos/acme/shop/issues/comments/555", {"body": CLEAN})]


def test_a_clean_pull_request_gets_no_comment(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    state, api = github
    proc, _ = post(api, tmp_path, CLEAN)
    assert writes(state) == []
    assert "nothing to report" in proc.stdout


def test_a_read_only_token_falls_back_to_the_job_summary(
    github: tuple[FakeGitHub, str], tmp_path: Path
) -> None:
    state, api = github
    state.status = 403
    proc, summary = post(api, tmp_path, REPORT)
    assert "::notice title=migcheck::the token cannot comment" in proc.stdout
    assert summary.read_text(encoding="utf-8") == REPORT + "\n"


def test_no_api_at_all_still_exits_zero_with_the_report_in_the_summary(tmp_path: Path) -> None:
    proc, summary = post("http://127.0.0.1:9", tmp_path, REPORT)
    assert "cannot reach the GitHub API" in proc.stdout
    assert summary.read_text(encoding="utf-8").startswith("<!-- migcheck-report")
