"""Baselines: record today's findings once, then report only new ones.

Adopting a linter on a repository with hundreds of old migrations should not mean
fixing (or suppressing one by one) findings in migrations that ran years ago.
``--write-baseline FILE`` records the current findings; ``--baseline FILE`` then reports
only findings that are not in it.

A finding is identified by its fingerprint: the rule, the file's path and the statement's
text normalised (comments dropped, whitespace collapsed, unquoted words lower-cased as
PostgreSQL folds them), never a line number, so editing a file above a finding does not
bring it back. A finding without a statement (a syntax error) uses its message instead.
Identical findings in one file (the same statement twice, or two actions of one
``ALTER TABLE``) are matched by count: a baseline entry with ``"count": 2`` absorbs two.

Paths in the file are relative to the baseline file's directory, so the baseline works
whichever directory migcheck is run from. Entries no longer matched (the finding was fixed
or its statement changed) are *stale*; they are reported as a note, not as findings,
and ``--write-baseline`` drops them. Only entries of files linted in this run can be
stale: a pre-commit run on one file says nothing about the others.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from migcheck.errors import UserError
from migcheck.jsonfile import JsonFileError, read_json
from migcheck.model import Finding
from migcheck.sources.reading import DEFAULT_MAX_BYTES

__all__ = [
    "VERSION",
    "Baseline",
    "BaselineEntry",
    "BaselineError",
    "BaselineMatch",
    "fingerprint",
    "load_baseline",
    "normalise_sql",
    "render_stale",
    "write_baseline",
]

VERSION = 1


class BaselineError(UserError):
    """A baseline file that cannot be read or written; the message names the file.
    The CLI reports it and exits with code 2."""


@dataclass(frozen=True)
class BaselineEntry:
    rule: str
    path: str  # relative to the baseline file's directory, with forward slashes
    fingerprint: str
    message: str  # of the first finding recorded, for people reading the file
    count: int = 1

    def to_json(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "path": self.path,
            "fingerprint": self.fingerprint,
            "message": self.message,
            "count": self.count,
        }


class BaselineMatch(NamedTuple):
    new: list[Finding]  # not in the baseline: report these
    matched: list[Finding]  # recorded in the baseline: hidden
    stale: list[BaselineEntry]  # recorded but no longer found (count = how many are gone)


# -- fingerprints -------------------------------------------------------------------------


def normalise_sql(text: str) -> str:
    """``text`` as a canonical token string: comments dropped, tokens separated by one
    space, unquoted words lower-cased; string literals, quoted identifiers and dollar-quoted
    bodies are kept exactly."""
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            i = _block_comment_end(text, i)
        elif ch in "'\"":
            end = _quoted_end(text, i, ch, backslash=False)
            tokens.append(text[i:end])
            i = end
        elif ch == "$" and (tag := _dollar_tag(text, i)) is not None:
            close = text.find(tag, i + len(tag))
            end = n if close < 0 else close + len(tag)
            tokens.append(text[i:end])
            i = end
        elif ch.isalnum() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] in "_$"):
                j += 1
            word = text[i:j].lower()
            # E'..' / B'..' / X'..' / U&'..' prefixes stay glued to their literal.
            if j < n and text[j] == "'" and word in ("e", "b", "x", "n"):
                end = _quoted_end(text, j, "'", backslash=word == "e")
                tokens.append(word + text[j:end])
                i = end
            else:
                tokens.append(word)
                i = j
        else:
            tokens.append(ch)
            i += 1
    while tokens and tokens[-1] == ";":
        tokens.pop()
    return " ".join(tokens)


def _block_comment_end(text: str, i: int) -> int:
    depth, i = 1, i + 2  # PostgreSQL block comments nest
    while i < len(text) and depth:
        if text.startswith("/*", i):
            depth, i = depth + 1, i + 2
        elif text.startswith("*/", i):
            depth, i = depth - 1, i + 2
        else:
            i += 1
    return i


def _quoted_end(text: str, i: int, quote: str, *, backslash: bool) -> int:
    j = i + 1
    while j < len(text):
        if backslash and text[j] == "\\":
            j += 2
            continue
        if text[j] == quote:
            if text.startswith(quote * 2, j):
                j += 2
                continue
            return j + 1
        j += 1
    return len(text)


def _dollar_tag(text: str, i: int) -> str | None:
    j = i + 1
    while j < len(text) and (text[j].isalnum() or text[j] == "_"):
        j += 1
    if j < len(text) and text[j] == "$" and not text[i + 1 : i + 2].isdigit():
        return text[i : j + 1]
    return None


def _norm_path(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith("./"):
        path = path[2:]
    return path


def fingerprint(finding: Finding, path: str | None = None) -> str:
    """A stable identity for ``finding``: rule, path (``path`` if given, else the finding's)
    and the normalised statement text, or the message for findings without a statement.
    Never a line number."""
    if finding.statement.strip():
        body = normalise_sql(finding.statement)
    else:  # a syntax error, a note: its message, with digits masked (they may be positions)
        body = re.sub(r"\d+", "0", " ".join(finding.message.split()))
    key = "\0".join((finding.rule, _norm_path(path or finding.path), body))
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


# -- the file -----------------------------------------------------------------------------


def _relative(path: str, base: str) -> str:
    """``path`` (as findings show it, relative to the working directory) relative to the
    baseline file's directory ``base``."""
    try:
        return _norm_path(os.path.relpath(os.path.abspath(path), base))
    except ValueError:  # another drive on Windows
        return _norm_path(path)


def _base_dir(baseline_path: str) -> str:
    return os.path.dirname(os.path.abspath(baseline_path))


def _entries(findings: Iterable[Finding], base: str) -> list[BaselineEntry]:
    grouped: dict[str, BaselineEntry] = {}
    for f in findings:
        rel = _relative(f.path, base)
        fp = fingerprint(f, rel)
        old = grouped.get(fp)
        if old is None:
            grouped[fp] = BaselineEntry(f.rule, rel, fp, f.message, 1)
        else:
            grouped[fp] = BaselineEntry(old.rule, old.path, fp, old.message, old.count + 1)
    return sorted(grouped.values(), key=lambda e: (e.path, e.rule, e.fingerprint))


def write_baseline(path: str, findings: Iterable[Finding]) -> int:
    """Record ``findings`` in ``path`` (replaced atomically). Returns the number of findings
    recorded. Raises ``BaselineError`` when the file cannot be written."""
    entries = _entries(findings, _base_dir(path))
    doc = {
        "version": VERSION,
        "tool": "migcheck",
        "entries": [e.to_json() for e in entries],
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".migcheck-baseline-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None
    return sum(e.count for e in entries)


@dataclass
class Baseline:
    path: str
    entries: list[BaselineEntry]

    @property
    def total(self) -> int:
        return sum(e.count for e in self.entries)

    def filter(
        self, findings: Iterable[Finding], linted_paths: Collection[str] | None = None
    ) -> BaselineMatch:
        """Split ``findings`` into new and baselined. ``linted_paths`` (paths as findings
        show them) limits which entries can be stale; None means every entry."""
        base = _base_dir(self.path)
        left = {e.fingerprint: e.count for e in self.entries}
        new: list[Finding] = []
        matched: list[Finding] = []
        for f in sorted(findings, key=lambda f: f.sort_key):
            fp = fingerprint(f, _relative(f.path, base))
            if left.get(fp, 0) > 0:
                left[fp] -= 1
                matched.append(f)
            else:
                new.append(f)
        linted = None if linted_paths is None else {_relative(p, base) for p in linted_paths}
        stale = [
            BaselineEntry(e.rule, e.path, e.fingerprint, e.message, left[e.fingerprint])
            for e in self.entries
            if left[e.fingerprint] > 0 and (linted is None or e.path in linted)
        ]
        return BaselineMatch(new, matched, stale)


def load_baseline(path: str, max_bytes: int = DEFAULT_MAX_BYTES) -> Baseline:
    """Read a baseline written by ``write_baseline``. Raises ``BaselineError`` naming the
    file (and the bad entry) when it is missing, too large, not JSON, or not a migcheck
    baseline."""
    try:
        doc = read_json(path, max_bytes)
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist; create it with --write-baseline {path}"
        ) from None
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except JsonFileError as exc:
        raise BaselineError(
            f"baseline {path} is {exc}; rewrite it with --write-baseline {path}"
        ) from None
    if not isinstance(doc, dict) or "entries" not in doc:
        raise BaselineError(f'baseline {path} is not a migcheck baseline (no "entries")')
    if doc.get("version") != VERSION:
        raise BaselineError(
            f"baseline {path} has version {doc.get('version')!r}; this migcheck reads "
            f"version {VERSION}: rewrite it with --write-baseline {path}"
        )
    items = doc["entries"]
    if not isinstance(items, list):
        raise BaselineError(f'baseline {path}: "entries" must be a list')
    entries: list[BaselineEntry] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        entry = _entry(path, i, item)
        if entry.fingerprint in seen:  # a hand-merged file: add the counts up
            k = seen[entry.fingerprint]
            prev = entries[k]
            entries[k] = BaselineEntry(
                prev.rule, prev.path, prev.fingerprint, prev.message, prev.count + entry.count
            )
        else:
            seen[entry.fingerprint] = len(entries)
            entries.append(entry)
    return Baseline(path, entries)


def _entry(path: str, i: int, item: object) -> BaselineEntry:
    where = f"baseline {path}: entries[{i}]"
    if not isinstance(item, dict):
        raise BaselineError(f"{where} must be an object")
    values: dict[str, str] = {}
    for key in ("rule", "path", "fingerprint"):
        value = item.get(key)
        if not isinstance(value, str) or not value:
            raise BaselineError(f"{where}.{key} must be a non-empty string")
        values[key] = value
    message = item.get("message", "")
    if not isinstance(message, str):
        raise BaselineError(f"{where}.message must be a string")
    count = item.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise BaselineError(f"{where}.count must be a positive integer")
    return BaselineEntry(values["rule"], values["path"], values["fingerprint"], message, count)


def render_stale(stale: Sequence[BaselineEntry], baseline_path: str) -> str:
    """The text report's note about stale entries (empty when none)."""
    if not stale:
        return ""
    n = sum(e.count for e in stale)
    lines = [
        f"baseline {baseline_path}: {n} recorded finding{'s' if n != 1 else ''} no longer "
        f"found (fixed or changed); run with --write-baseline {baseline_path} to drop "
        f"{'them' if n != 1 else 'it'}:"
    ]
    for e in stale:
        times = f" (x{e.count})" if e.count > 1 else ""
        message = e.message if len(e.message) <= 100 else e.message[:99].rstrip() + "\u2026"
        lines.append(f"  {e.path}: {e.rule}{times} {message}")
    return "\n".join(lines) + "\n"
