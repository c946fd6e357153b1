"""`--diff BASE`: which migrations a branch adds or edits, on the checkouts CI really has.

Every test builds real git repositories under tmp_path: an "origin" with a
golang-migrate history, and clones of it that look like CI checkouts (full, shallow,
detached at a GitHub-style pull-request merge commit). ``changed_migration_paths`` is
tested directly; the command-line tests at the end run ``migcheck --diff`` once the flag
is wired into the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import cli
from migcheck.gitdiff import DiffError, DiffResult, changed_migration_paths, edited_findings

MIG = "db/migrations"
INIT = "CREATE TABLE users (\n  id bigint PRIMARY KEY,\n  email text,\n  bio text\n);\n"
NICK = "ALTER TABLE users ADD COLUMN nick text;\n"
UNSAFE = "ALTER TABLE users DROP COLUMN bio;\n"
SAFE = "ALTER TABLE users ADD COLUMN avatar_url text;\n"


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same git configuration for the tests and for migcheck's own git calls,
    whatever the machine's global config says (signing, default branch, identity)."""
    cfg = tmp_path_factory.mktemp("gitconfig") / "config"
    cfg.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n"
        "[commit]\n\tgpgsign = false\n"
        "[advice]\n\tdetachedHead = false\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str | None]) -> str:
    """Write (or delete, for None) files and commit them; the new commit's sha."""
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def make_origin(root: Path, *, main_commits_after_branch: int = 3) -> tuple[Path, str]:
    """An origin whose ``feature`` branch adds an unsafe migration and whose ``main`` moved
    on after the branch point (with another migration and many small commits). Returns
    the origin and the branch point's sha."""
    origin = root / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    commit(
        origin,
        "init",
        {f"{MIG}/1_init.up.sql": INIT, f"{MIG}/1_init.down.sql": "DROP TABLE users;\n"},
    )
    commit(origin, "nick", {f"{MIG}/2_nick.up.sql": NICK, "README.md": "app\n"})
    fork = git(origin, "rev-parse", "HEAD")
    commit(origin, "main moves on", {f"{MIG}/3_main.up.sql": "CREATE TABLE teams (id bigint);\n"})
    for i in range(main_commits_after_branch):
        commit(origin, f"docs {i}", {"README.md": f"app {i}\n"})
    git(origin, "checkout", "-q", "-b", "feature", fork)
    commit(origin, "feature: drop bio", {f"{MIG}/4_drop_bio.up.sql": UNSAFE, "app.py": "x = 1\n"})
    commit(origin, "feature: docs", {"docs/feature.md": "feature\n"})
    git(origin, "checkout", "-q", "main")
    return origin, fork


def clone(origin: Path, dest: Path, *args: str) -> Path:
    git(origin.parent, "clone", "-q", *args, f"file://{origin}", str(dest))
    return dest


def pr_merge_checkout(origin: Path, dest: Path) -> Path:
    """What actions/checkout does for a pull request with the default fetch-depth 1: a
    fresh repository holding only the merge commit of the PR into main, detached."""
    git(origin, "checkout", "-q", "--detach", "main")
    git(origin, "merge", "-q", "--no-ff", "-m", "Merge feature into main", "feature")
    git(origin, "update-ref", "refs/pull/1/merge", "HEAD")
    git(origin, "checkout", "-q", "main")
    dest.mkdir()
    git(dest, "init", "-q")
    git(dest, "remote", "add", "origin", f"file://{origin}")
    git(
        dest,
        "fetch",
        "-q",
        "--no-tags",
        "--depth=1",
        "origin",
        "+refs/pull/1/merge:refs/remotes/pull/1/merge",
    )
    git(dest, "checkout", "-q", "--detach", "refs/remotes/pull/1/merge")
    assert git(dest, "rev-parse", "--is-shallow-repository") == "true"
    return dest


# --- which files ----------------------------------------------------------------------


def test_lists_only_what_the_branch_adds_since_the_merge_base(tmp_path: Path) -> None:
    origin, fork = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    result = changed_migration_paths("origin/main", work)
    # 3_main.up.sql arrived on main after the branch point: not this branch's change.
    # app.py, README.md and the down file are not migrations.
    assert result == DiffResult(
        added=[f"{MIG}/4_drop_bio.up.sql"],
        modified=[],
        base_commit=fork,
        base="origin/main",
        first_changed_line={},
        fetched=[],
    )
    assert result.paths == [f"{MIG}/4_drop_bio.up.sql"]


def test_an_edited_old_migration_is_modified_with_its_first_changed_line(tmp_path: Path) -> None:
    origin, fork = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    edited = INIT.replace("  email text,\n", "  email text NOT NULL,\n")
    commit(work, "edit init", {f"{MIG}/1_init.up.sql": edited, f"{MIG}/5_safe.up.sql": SAFE})
    result = changed_migration_paths("origin/main", work)
    assert result.added == [f"{MIG}/4_drop_bio.up.sql", f"{MIG}/5_safe.up.sql"]
    assert result.modified == [f"{MIG}/1_init.up.sql"]
    assert result.first_changed_line == {f"{MIG}/1_init.up.sql": 3}
    assert result.base_commit == fork


def test_a_migration_added_then_edited_on_the_branch_is_only_added(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    commit(work, "fix my own migration", {f"{MIG}/4_drop_bio.up.sql": SAFE})
    result = changed_migration_paths("origin/main", work)
    assert result.added == [f"{MIG}/4_drop_bio.up.sql"]
    assert result.modified == []
    assert edited_findings(result) == []


def test_mode_only_change_and_deletion_are_not_edits(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    os.chmod(work / MIG / "2_nick.up.sql", 0o755)
    commit(work, "chmod and delete", {f"{MIG}/1_init.down.sql": None})
    result = changed_migration_paths("origin/main", work)
    assert result.modified == []
    assert result.added == [f"{MIG}/4_drop_bio.up.sql"]


def test_alembic_revisions_count_and_env_py_does_not(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(
        repo,
        "alembic",
        {
            "alembic.ini": "[alembic]\nscript_location = alembic\n",
            "alembic/env.py": "# env\n",
            "alembic/versions/a1_init.py": "revision = 'a1'\n",
        },
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        "new revision",
        {
            "alembic/env.py": "# env changed\n",
            "alembic/versions/b2_drop.py": "revision = 'b2'\n",
            "alembic/versions/__init__.py": "",
            "scripts/tool.py": "print()\n",
        },
    )
    result = changed_migration_paths("main", repo)
    assert result.added == ["alembic/versions/b2_drop.py"]
    assert result.modified == []


def test_paths_are_relative_to_the_directory_given_and_pathspecs_narrow(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    commit(work, "other dir", {"other/migrations/1_x.sql": SAFE})
    assert changed_migration_paths("origin/main", work / "db").added == [
        "../other/migrations/1_x.sql",
        "migrations/4_drop_bio.up.sql",
    ]
    narrowed = changed_migration_paths("origin/main", work, pathspecs=["db"])
    assert narrowed.added == [f"{MIG}/4_drop_bio.up.sql"]
    # A user's diff.relative setting does not change what is found.
    git(work, "config", "diff.relative", "true")
    assert changed_migration_paths("origin/main", work / "db").added == [
        "../other/migrations/1_x.sql",
        "migrations/4_drop_bio.up.sql",
    ]


# --- which base ----------------------------------------------------------------------


def test_local_branch_name_and_detached_head(tmp_path: Path) -> None:
    origin, fork = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "--detach", "origin/feature")
    assert git(work, "branch", "--show-current") == ""
    result = changed_migration_paths("main", work)
    assert result.base == "main"
    assert result.base_commit == fork
    assert result.added == [f"{MIG}/4_drop_bio.up.sql"]


def test_a_branch_missing_locally_is_found_on_origin(tmp_path: Path) -> None:
    origin, fork = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work", "--branch", "feature")
    assert git(work, "branch", "--list", "main") == ""  # only origin/main exists
    result = changed_migration_paths("main", work, allow_fetch=False)
    assert result.base == "origin/main"
    assert result.base_commit == fork


def test_a_missing_base_is_named_with_what_to_run(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    with pytest.raises(DiffError) as err:
        changed_migration_paths("origin/nope", work)
    message = str(err.value)
    assert "--diff origin/nope: no branch, tag or commit named 'origin/nope'" in message
    assert "Fetching it from 'origin' failed" in message
    assert "git fetch origin +refs/heads/nope:refs/remotes/origin/nope" in message
    assert "128" not in message


def test_no_remote_and_no_base(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "init", {"db/1_init.sql": INIT})
    with pytest.raises(DiffError, match="no remote to fetch it from"):
        changed_migration_paths("develop", repo)


def test_base_that_looks_like_an_option_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "init", {"db/1_init.sql": INIT})
    with pytest.raises(DiffError, match="give a branch, tag or commit"):
        changed_migration_paths("--output=/tmp/x", repo)


def test_not_a_repository_and_no_commit(tmp_path: Path) -> None:
    with pytest.raises(DiffError, match="is not inside a git repository"):
        changed_migration_paths("main", tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    with pytest.raises(DiffError, match="HEAD has no commit yet"):
        changed_migration_paths("main", empty)


def test_unrelated_histories(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "one", {"db/1_init.sql": INIT})
    git(repo, "checkout", "-q", "--orphan", "other")
    commit(repo, "two", {"db/2_x.sql": SAFE})
    with pytest.raises(DiffError, match="no common ancestor"):
        changed_migration_paths("main", repo)


# --- shallow CI checkouts ------------------------------------------------------------


def test_shallow_clone_with_a_new_branch_needs_no_fetch(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work", "--depth", "1")
    main_tip = git(work, "rev-parse", "HEAD")
    git(work, "checkout", "-q", "-b", "pr")
    commit(work, "add", {f"{MIG}/5_safe.up.sql": SAFE})
    result = changed_migration_paths("origin/main", work, allow_fetch=False)
    assert result.added == [f"{MIG}/5_safe.up.sql"]
    assert result.base_commit == main_tip


def test_github_pull_request_checkout_is_deepened_until_the_merge_base(tmp_path: Path) -> None:
    # main is 60 commits past the branch point: the first --deepen=50 is not enough.
    origin, _ = make_origin(tmp_path, main_commits_after_branch=60)
    work = pr_merge_checkout(origin, tmp_path / "work")
    main_tip = git(origin, "rev-parse", "main")
    result = changed_migration_paths("origin/main", work)
    # The merge commit's first parent is main's tip: the diff is exactly the PR.
    assert result.added == [f"{MIG}/4_drop_bio.up.sql"]
    assert result.modified == []
    assert result.base_commit == main_tip
    assert any("--deepen=" in cmd for cmd in result.fetched)
    # origin/main was not in the checkout at all: it was fetched.
    assert git(work, "rev-parse", "--verify", "origin/main") == main_tip


def test_a_long_branch_needs_several_deepening_steps(tmp_path: Path) -> None:
    # 60 commits on each side of the branch point: --deepen=50 falls short on both.
    origin, fork = make_origin(tmp_path, main_commits_after_branch=60)
    git(origin, "checkout", "-q", "feature")
    for i in range(60):
        commit(origin, f"feature {i}", {"docs/feature.md": f"feature {i}\n"})
    git(origin, "checkout", "-q", "main")
    work = clone(origin, tmp_path / "work", "--depth", "1", "--branch", "feature")
    git(work, "fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")
    result = changed_migration_paths("origin/main", work)
    assert result.base_commit == fork
    assert result.added == [f"{MIG}/4_drop_bio.up.sql"]
    assert [c.split()[4] for c in result.fetched] == ["--deepen=50", "--deepen=200"]


def test_push_event_compares_with_the_sha_before_the_push(tmp_path: Path) -> None:
    # On a push, GitHub gives the sha the branch pointed at before; a depth-1 checkout
    # of the new tip does not hold it.
    origin, _ = make_origin(tmp_path)
    before = git(origin, "rev-parse", "main")
    commit(origin, "pushed", {f"{MIG}/5_safe.up.sql": SAFE})
    work = clone(origin, tmp_path / "work", "--depth", "1")
    result = changed_migration_paths(before, work)
    assert result.base_commit == before
    assert result.added == [f"{MIG}/5_safe.up.sql"]


def test_relative_revision_in_a_depth_1_clone_is_deepened(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    commit(origin, "last", {f"{MIG}/5_safe.up.sql": SAFE})
    work = clone(origin, tmp_path / "work", "--depth", "1")
    result = changed_migration_paths("HEAD~1", work)
    assert result.added == [f"{MIG}/5_safe.up.sql"]
    assert result.fetched and "--deepen=50" in result.fetched[0]


def test_pull_request_checkout_edit_of_a_shipped_migration(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    git(origin, "checkout", "-q", "feature")
    commit(origin, "edit nick", {f"{MIG}/2_nick.up.sql": "-- nick\n" + NICK})
    git(origin, "checkout", "-q", "main")
    work = pr_merge_checkout(origin, tmp_path / "work")
    result = changed_migration_paths("origin/main", work)
    assert result.modified == [f"{MIG}/2_nick.up.sql"]
    assert result.first_changed_line == {f"{MIG}/2_nick.up.sql": 1}


def test_shallow_without_fetching_says_which_command_to_run(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = pr_merge_checkout(origin, tmp_path / "work")
    git(work, "fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")
    with pytest.raises(DiffError) as err:
        changed_migration_paths("origin/main", work, allow_fetch=False)
    message = str(err.value)
    assert "this clone is shallow" in message
    assert "fetching is turned off" in message
    assert "git fetch --unshallow origin" in message
    assert "fetch-depth: 0" in message and "GIT_DEPTH: 0" in message


def test_shallow_with_an_unreachable_remote_reports_the_fetch_error(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path)
    work = pr_merge_checkout(origin, tmp_path / "work")
    git(work, "fetch", "-q", "--depth=1", "origin", "+refs/heads/main:refs/remotes/origin/main")
    git(work, "remote", "set-url", "origin", f"file://{tmp_path / 'gone'}")
    with pytest.raises(DiffError) as err:
        changed_migration_paths("origin/main", work)
    message = str(err.value)
    assert "fetching failed:" in message
    assert "git fetch --unshallow origin" in message


# --- the finding ----------------------------------------------------------------------


def test_edited_findings_point_at_the_first_changed_line(tmp_path: Path) -> None:
    origin, fork = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work")
    git(work, "checkout", "-q", "feature")
    commit(
        work,
        "edits",
        {
            f"{MIG}/1_init.up.sql": INIT.replace("  bio text\n", ""),  # a removed line
            f"{MIG}/2_nick.up.sql": NICK + "ALTER TABLE users ADD COLUMN x int;\n",
        },
    )
    findings = edited_findings(changed_migration_paths("origin/main", work))
    assert [(f.rule, f.severity, f.category, f.path, f.line) for f in findings] == [
        ("edited-applied-migration", "error", "compatibility", f"{MIG}/1_init.up.sql", 4),
        ("edited-applied-migration", "error", "compatibility", f"{MIG}/2_nick.up.sql", 2),
    ]
    assert "editing history does not change production" in findings[0].message
    assert "Write a new migration" in findings[0].message
    assert f"git checkout {fork[:10]} -- {MIG}/1_init.up.sql" in findings[0].help


def test_flyway_repeatable_migrations_may_be_edited(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(
        repo, "v1", {"db/migration/V1__init.sql": INIT, "db/migration/R__views.sql": "SELECT 1;\n"}
    )
    git(repo, "checkout", "-q", "-b", "feature")
    commit(
        repo,
        "edit both",
        {"db/migration/V1__init.sql": INIT + SAFE, "db/migration/R__views.sql": "SELECT 2;\n"},
    )
    result = changed_migration_paths("main", repo)
    assert result.modified == ["db/migration/R__views.sql", "db/migration/V1__init.sql"]
    assert [f.path for f in edited_findings(result)] == ["db/migration/V1__init.sql"]


# --- the command line, once --diff is wired ------------------------------------------


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = cli(*args, cwd=cwd, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def _cli_has_diff() -> bool:
    return "--diff" in _cli("check", "--help", cwd=Path.cwd()).stdout


needs_cli = pytest.mark.skipif(not _cli_has_diff(), reason="waiting for CLI wiring")


@pytest.fixture
def shallow_pr(tmp_path: Path) -> Path:
    """A shallow clone of main (several commits) with a branch checked out."""
    origin, _ = make_origin(tmp_path)
    work = clone(origin, tmp_path / "work", "--depth", "1")
    git(work, "checkout", "-q", "-b", "pr")
    return work


@needs_cli
def test_cli_reports_only_the_new_unsafe_migration(shallow_pr: Path) -> None:
    commit(
        shallow_pr, "drop", {f"{MIG}/5_drop_email.up.sql": "ALTER TABLE users DROP COLUMN email;\n"}
    )
    proc = _cli("--diff", "origin/main", cwd=shallow_pr)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (
        f'{MIG}/5_drop_email.up.sql:1:19: error[drop-column] Dropping column "users"."email"'
        in proc.stdout
    )
    # Older migrations build the schema but are not judged.
    assert "1_init" not in proc.stdout and "3_main" not in proc.stdout


@needs_cli
def test_cli_passes_a_safe_migration(shallow_pr: Path) -> None:
    commit(shallow_pr, "safe", {f"{MIG}/5_safe.up.sql": SAFE})
    proc = _cli("--diff", "origin/main", cwd=shallow_pr)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@needs_cli
def test_cli_judges_the_branch_as_one_deploy(shallow_pr: Path) -> None:
    commit(shallow_pr, "add", {f"{MIG}/5_add.up.sql": "ALTER TABLE users ADD COLUMN tmp text;\n"})
    commit(shallow_pr, "drop", {f"{MIG}/6_drop.up.sql": "ALTER TABLE users DROP COLUMN tmp;\n"})
    proc = _cli("--diff", "origin/main", "--format", "json", cwd=shallow_pr)
    import json

    rules = {f["rule"] for f in json.loads(proc.stdout)["findings"]}
    assert "contract-in-same-deploy" in rules


@needs_cli
def test_cli_reports_an_edited_shipped_migration(shallow_pr: Path) -> None:
    commit(
        shallow_pr, "edit", {f"{MIG}/2_nick.up.sql": NICK + "ALTER TABLE users ADD COLUMN y int;\n"}
    )
    proc = _cli("--diff", "origin/main", cwd=shallow_pr)
    assert proc.returncode == 1
    assert f"{MIG}/2_nick.up.sql:2:1: error[edited-applied-migration]" in proc.stdout


@needs_cli
def test_cli_missing_base_is_a_one_line_error_exit_2(shallow_pr: Path) -> None:
    proc = _cli("--diff", "origin/nope", cwd=shallow_pr)
    assert proc.returncode == 2
    assert "--diff origin/nope: no branch, tag or commit named" in proc.stderr


def test_the_cli_says_when_it_deepened_a_shallow_clone(tmp_path: Path) -> None:
    origin, _ = make_origin(tmp_path, main_commits_after_branch=60)
    work = pr_merge_checkout(origin, tmp_path / "work")
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "--diff", "origin/main", "--format", "json", "."],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MIGCHECK_NO_CACHE": "1"},
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["findings"][0]["rule"] == "drop-column"  # stdout stays JSON
    notes = [line for line in proc.stderr.splitlines() if "history was fetched" in line]
    assert len(notes) == 1 and "--deepen=" in notes[0] and "fetch-depth: 0" in notes[0]
