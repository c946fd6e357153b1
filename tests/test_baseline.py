"""Baselines: record the findings of an existing repository, then report only new ones.

The files are real migration histories on disk, linted through the engine the way the
CLI does; the baseline is written, edited the way people edit migrations (a comment or a
statement added above, reformatting), and read back.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import cli, lint_history
from migcheck.baseline import (
    Baseline,
    BaselineError,
    fingerprint,
    load_baseline,
    normalise_sql,
    render_stale,
    write_baseline,
)
from migcheck.model import Finding, Span
from migcheck.sources import History, Migration

INIT = """CREATE TABLE users (id bigint PRIMARY KEY, bio text, fax text, email text);
CREATE TABLE sessions (id bigint PRIMARY KEY, user_id bigint);
"""
OLD = """-- clean up the profile
ALTER TABLE users
  DROP COLUMN bio;
ALTER TABLE users ALTER COLUMN email SET NOT NULL;
"""
RULES = ["drop-column", "set-not-null", "delete-without-where", "rename-column"]


def project(root: Path, files: dict[str, str]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(text, encoding="utf-8")


def findings_of(root: Path) -> list[Finding]:
    """Lint every file of ``root`` (a numbered-files history) as the CLI would, with paths
    relative to the working directory."""
    names = sorted(p.name for p in root.glob("*.sql"))
    migs = [
        Migration(
            path=os.path.relpath(root / n),
            key=n,
            tool="sql",
            text=(root / n).read_text(encoding="utf-8"),
        )
        for n in names
    ]
    history = History(root=str(root), tool="sql", migrations=migs)
    return lint_history(history, rules=RULES, changeset=False).findings


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "db"
    project(root, {"001_init.sql": INIT, "002_old.sql": OLD})
    return root


def test_round_trip_hides_every_recorded_finding(repo: Path, tmp_path: Path) -> None:
    before = findings_of(repo)
    assert sorted(f.rule for f in before) == ["drop-column", "set-not-null"]
    written = write_baseline("migcheck-baseline.json", before)
    assert written == 2

    doc = json.loads((tmp_path / "migcheck-baseline.json").read_text())
    assert doc["version"] == 1
    assert {tuple(sorted(e)) for e in doc["entries"]} == {
        ("count", "fingerprint", "message", "path", "rule")
    }
    assert {e["path"] for e in doc["entries"]} == {"db/002_old.sql"}
    assert "line" not in json.dumps(doc)

    new, matched, stale = load_baseline("migcheck-baseline.json").filter(findings_of(repo))
    assert new == []
    assert len(matched) == 2
    assert stale == []


def test_edits_above_a_finding_keep_it_baselined(repo: Path) -> None:
    write_baseline("baseline.json", findings_of(repo))
    # A comment and a new statement above, the statement itself reformatted and re-cased.
    (repo / "002_old.sql").write_text(
        "-- reviewed in 2024\nCREATE INDEX CONCURRENTLY sessions_user ON sessions (user_id);\n\n"
        "-- clean up the profile\nalter table USERS drop column BIO /* gone */;\n"
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"
    )
    new, matched, stale = load_baseline("baseline.json").filter(findings_of(repo))
    assert new == []
    assert [f.line for f in matched] == [5, 6]
    assert stale == []


def test_a_new_finding_is_reported_and_a_fixed_one_is_stale(repo: Path) -> None:
    write_baseline("baseline.json", findings_of(repo))
    (repo / "002_old.sql").write_text(
        "ALTER TABLE users DROP COLUMN bio;\nALTER TABLE users DROP COLUMN fax;\n"
    )
    (repo / "003_new.sql").write_text("DELETE FROM sessions;\n")
    baseline = load_baseline("baseline.json")
    new, matched, stale = baseline.filter(findings_of(repo))
    assert [(f.rule, f.path, f.line) for f in new] == [
        ("drop-column", os.path.join("db", "002_old.sql"), 2),
        ("delete-without-where", os.path.join("db", "003_new.sql"), 1),
    ]
    assert [f.line for f in matched] == [1]
    assert [(e.rule, e.path, e.count) for e in stale] == [("set-not-null", "db/002_old.sql", 1)]
    text = render_stale(stale, "baseline.json")
    assert text.startswith("baseline baseline.json: 1 recorded finding no longer found")
    assert "db/002_old.sql: set-not-null" in text
    assert render_stale([], "baseline.json") == ""


def test_duplicate_statements_are_matched_by_count(repo: Path, tmp_path: Path) -> None:
    project(repo, {"003_purge.sql": "DELETE FROM sessions;\nDELETE FROM sessions;\n"})
    write_baseline("baseline.json", findings_of(repo))
    (entry,) = [
        e
        for e in json.loads((tmp_path / "baseline.json").read_text())["entries"]
        if e["rule"] == "delete-without-where"
    ]
    assert entry["count"] == 2

    (repo / "003_purge.sql").write_text("DELETE FROM sessions;\n" * 3)
    new, matched, stale = load_baseline("baseline.json").filter(findings_of(repo))
    assert [(f.rule, f.line) for f in new] == [("delete-without-where", 3)]
    assert [(f.rule, f.line) for f in matched if f.rule == "delete-without-where"] == [
        ("delete-without-where", 1),
        ("delete-without-where", 2),
    ]
    assert stale == []

    (repo / "003_purge.sql").write_text("DELETE FROM sessions;\n")
    new, _, stale = load_baseline("baseline.json").filter(findings_of(repo))
    assert new == []
    assert [(e.rule, e.count) for e in stale] == [("delete-without-where", 1)]


def test_only_entries_of_linted_files_can_be_stale(repo: Path) -> None:
    write_baseline("baseline.json", findings_of(repo))
    baseline = load_baseline("baseline.json")
    # A pre-commit run on another file: the entries of 002_old.sql are not stale.
    _, _, stale = baseline.filter([], linted_paths=[os.path.join("db", "003_new.sql")])
    assert stale == []
    _, _, stale = baseline.filter([], linted_paths=[os.path.join("db", "002_old.sql")])
    assert len(stale) == 2


def test_baseline_paths_do_not_depend_on_the_working_directory(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_baseline("baseline.json", findings_of(repo))
    monkeypatch.chdir(repo)  # run from db/, findings now say "002_old.sql"
    found = findings_of(Path("."))
    assert {f.path for f in found} == {"002_old.sql"}
    new, matched, _ = load_baseline(str(tmp_path / "baseline.json")).filter(found)
    assert new == []
    assert len(matched) == 2


def test_fingerprint_ignores_lines_and_formatting_but_not_rule_path_or_statement() -> None:
    def f(
        rule: str = "drop-column", path: str = "db/1.sql", stmt: str = "", line: int = 1
    ) -> Finding:
        stmt = stmt or "ALTER TABLE users DROP COLUMN bio"
        return Finding(rule, "error", "compatibility", path, Span(line, 1, line, 9), "m", "", stmt)

    base = fingerprint(f())
    assert fingerprint(f(line=40)) == base
    assert fingerprint(f(stmt="alter  table USERS\n  -- why\n  DROP COLUMN bio;")) == base
    assert fingerprint(f(path="./db/1.sql")) == base
    assert fingerprint(f(rule="rename-column")) != base
    assert fingerprint(f(path="db/2.sql")) != base
    assert fingerprint(f(stmt="ALTER TABLE users DROP COLUMN fax")) != base
    # Quoted identifiers keep their case: "Users" is not users.
    assert fingerprint(f(stmt='ALTER TABLE "Users" DROP COLUMN bio')) != base


def test_normalise_sql() -> None:
    assert normalise_sql('ALTER TABLE  "User"\n\tDROP COLUMN bio -- x\n;') == (
        'alter table "User" drop column bio'
    )
    assert normalise_sql("SELECT 'A  b' /* c /* nested */ d */ FROM t") == "select 'A  b' from t"
    assert normalise_sql("DO $$ BEGIN  NULL; END $$") == "do $$ BEGIN  NULL; END $$"
    assert normalise_sql("SELECT E'it\\'s  X'") == "select e'it\\'s  X'"


# -- errors -------------------------------------------------------------------------------


def test_missing_baseline_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.json")
    with pytest.raises(BaselineError, match=r"nope\.json does not exist.*--write-baseline"):
        load_baseline(path)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", r"bad\.json is not valid JSON \(line 1, column 2"),
        ("[]", r"bad\.json is not a migcheck baseline"),
        ('{"version": 7, "entries": []}', r"bad\.json has version 7"),
        ('{"version": 1, "entries": {}}', r"bad\.json: \"entries\" must be a list"),
        ('{"version": 1, "entries": [{"rule": "x", "path": "p"}]}', r"entries\[0\]\.fingerprint"),
        (
            '{"version": 1, "entries": [{"rule": "x", "path": "p", "fingerprint": "f", '
            '"count": 0}]}',
            r"entries\[0\]\.count must be a positive integer",
        ),
    ],
)
def test_corrupt_baseline_is_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(BaselineError, match=expected):
        load_baseline(str(path))


def test_unwritable_baseline_is_a_clear_error(tmp_path: Path) -> None:
    path = str(tmp_path / "missing-dir" / "baseline.json")
    with pytest.raises(BaselineError, match=r"cannot write baseline .*baseline\.json"):
        write_baseline(path, [])


def test_hand_merged_duplicate_entries_add_up(tmp_path: Path) -> None:
    entry = {"rule": "r", "path": "p.sql", "fingerprint": "f", "message": "m", "count": 1}
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "entries": [entry, entry]}))
    baseline = load_baseline(str(path))
    assert isinstance(baseline, Baseline)
    assert [e.count for e in baseline.entries] == [2]


# -- end to end (once the CLI has the flags) ----------------------------------------------


def _migcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = cli(*args, cwd=cwd, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


def _cli_has_baseline() -> bool:
    return "--write-baseline" in _migcheck("check", "--help", cwd=Path.cwd()).stdout


needs_cli = pytest.mark.skipif(not _cli_has_baseline(), reason="waiting for CLI wiring")


@needs_cli
def test_cli_baseline_adoption(tmp_path: Path) -> None:
    project(tmp_path / "db", {"001_init.sql": INIT, "002_old.sql": OLD})
    assert _migcheck("db", cwd=tmp_path).returncode == 1
    wrote = _migcheck("db", "--write-baseline", "baseline.json", cwd=tmp_path)
    assert wrote.returncode == 0, wrote.stdout + wrote.stderr
    assert (tmp_path / "baseline.json").is_file()

    clean = _migcheck("db", "--baseline", "baseline.json", cwd=tmp_path)
    assert clean.returncode == 0, clean.stdout

    (tmp_path / "db" / "003_new.sql").write_text("ALTER TABLE users DROP COLUMN fax;\n")
    (tmp_path / "db" / "002_old.sql").write_text("-- edited\n\n" + OLD)
    dirty = _migcheck("db", "--baseline", "baseline.json", cwd=tmp_path)
    assert dirty.returncode == 1
    assert "003_new.sql:1:19: error[drop-column]" in dirty.stdout
    assert "002_old.sql" not in dirty.stdout


@needs_cli
def test_cli_missing_baseline_exits_2_naming_the_file(tmp_path: Path) -> None:
    project(tmp_path / "db", {"001_init.sql": INIT})
    proc = _migcheck("db", "--baseline", "nope.json", cwd=tmp_path)
    assert proc.returncode == 2
    assert "nope.json" in proc.stderr + proc.stdout
