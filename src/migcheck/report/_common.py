"""What the CI report formats share: repository-relative paths and stable fingerprints.

CI services show a finding on the file of the pull request, so paths must be relative to
the repository root (``GITHUB_WORKSPACE``, ``CI_PROJECT_DIR``, else the working
directory), with forward slashes. Fingerprints let GitHub code scanning and GitLab Code
Quality recognise the same finding across runs: they hash the rule, the path and the
statement's text, never its line, so an edit above the finding does not make it "new".
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence

from migcheck.model import Finding

FINGERPRINT_KEY = "migcheck/v1"
_ROOT_ENV = ("GITHUB_WORKSPACE", "CI_PROJECT_DIR")


def default_root() -> str:
    """The repository root the CI service resolves paths against."""
    for name in _ROOT_ENV:
        value = os.environ.get(name)
        if value and os.path.isdir(value):
            return os.path.abspath(value)
    return os.getcwd()


def repo_path(path: str, root: str | None = None) -> tuple[str, bool]:
    """``path`` relative to ``root`` with ``/`` separators, and whether it lies inside it.

    A path outside the root (``../other/x.sql``) is returned as given, with ``/``.
    """
    base = os.path.abspath(root if root is not None else default_root())
    full = os.path.abspath(path)
    try:
        inside = os.path.commonpath([base, full]) == base
    except ValueError:  # different drives on Windows
        inside = False
    if inside and full != base:
        return os.path.relpath(full, base).replace(os.sep, "/"), True
    return path.replace(os.sep, "/"), False


def normalise_statement(text: str) -> str:
    """The statement with whitespace collapsed and the closing ``;`` dropped, so reflowing
    a statement keeps its fingerprint."""
    return " ".join(text.split()).rstrip(";").rstrip()


def _fingerprint_text(f: Finding) -> str:
    if f.statement.strip():
        return normalise_statement(f.statement)
    # Findings without a statement (syntax errors, notes) are keyed on their message;
    # digits are masked because such messages may quote a line number.
    return re.sub(r"\d+", "0", " ".join(f.message.split()))


def fingerprints(findings: Sequence[Finding], root: str | None = None) -> list[str]:
    """One stable sha256 hex digest per finding, in the order given.

    Two findings of one rule on one statement (``DROP COLUMN a, DROP COLUMN b``) would
    hash alike, so the digest also takes the finding's rank among those twins, counted in
    file order: that rank does not change when lines are added above the statement.
    """
    order = sorted(
        range(len(findings)),
        key=lambda i: (findings[i].path, findings[i].span.line, findings[i].span.column),
    )
    seen: dict[tuple[str, str, str], int] = {}
    out = [""] * len(findings)
    for i in order:
        f = findings[i]
        key = (f.rule, repo_path(f.path, root)[0], _fingerprint_text(f))
        rank = seen.get(key, 0)
        seen[key] = rank + 1
        raw = "\0".join((*key, str(rank)))
        out[i] = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
    return out
