"""A config file from a stranger's pull request: it cannot run code, switch the gate off
unseen, or be planted above the project. Every test runs the real command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DROP = 'ALTER TABLE "User" DROP COLUMN "bio";\n'  # drop-column, an error
VIEW = "DROP VIEW active_users;\n"  # drop-view, a warning
CREATE = 'CREATE TABLE "User" (id bigint PRIMARY KEY, bio text);\n'


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "MIGCHECK_ALEMBIC_IMPORT"}
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**clean, "NO_COLOR": "1", **(env or {})},
        timeout=120,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout (``.git``) with one unsafe migration: exit 1 without a config."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    write(root / "db" / "001_init.sql", CREATE)
    write(root / "db" / "002_drop.sql", DROP + VIEW)
    return root


# -- point 2: a config file cannot make migcheck import (run) revisions ---------------------

REVISION = '''"""drop bio"""
from alembic import op

open({marker!r}, "w").write("imported")

revision = "0001"
down_revision = None


def upgrade():
    op.drop_column("users", "bio")


def downgrade():
    pass
'''


def alembic_project(root: Path, marker: Path) -> None:
    write(root / "alembic.ini", "[alembic]\nscript_location = %(here)s/migrations\n")
    write(root / "migrations" / "env.py", "from alembic import context\n")
    write(root / "migrations" / "versions" / "0001_drop.py", REVISION.format(marker=str(marker)))


def test_config_cannot_turn_on_alembic_import(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    marker = tmp_path / "imported.txt"
    alembic_project(project, marker)
    write(project / ".migcheck.toml", "[alembic]\nimport = true\n")
    proc = cli(".", cwd=project)
    assert not marker.exists()
    assert (
        "migcheck: note: .migcheck.toml sets [alembic] import = true, which is ignored: "
        "a config file cannot make migcheck run code; pass --alembic-import "
        "(or set MIGCHECK_ALEMBIC_IMPORT=1) to import the revisions" in proc.stderr
    )
    assert "importing Alembic revisions" not in proc.stderr
    # An explicitly named config file cannot either.
    proc = cli("--config", ".migcheck.toml", ".", cwd=project)
    assert not marker.exists()
    assert "which is ignored" in proc.stderr


def test_import_asked_for_by_the_person_running_is_announced(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    marker = tmp_path / "imported.txt"
    alembic_project(project, marker)
    proc = cli("--alembic-import", ".", cwd=project)
    assert marker.exists()
    assert (
        "migcheck: importing Alembic revisions (runs their code) because --alembic-import "
        "was given" in proc.stderr
    )
    marker.unlink()
    proc = cli(".", cwd=project, env={"MIGCHECK_ALEMBIC_IMPORT": "1"})
    assert marker.exists()
    assert "because MIGCHECK_ALEMBIC_IMPORT=1 is set" in proc.stderr
    marker.unlink()
    # The flag wins over the environment.
    proc = cli("--no-alembic-import", ".", cwd=project, env={"MIGCHECK_ALEMBIC_IMPORT": "1"})
    assert not marker.exists()
    assert "importing" not in proc.stderr
    proc = cli(".", cwd=project, env={"MIGCHECK_ALEMBIC_IMPORT": "maybe"})
    assert proc.returncode == 2 and not marker.exists()
    assert "MIGCHECK_ALEMBIC_IMPORT='maybe' is not valid" in proc.stderr


# -- point 3: every silent opt-out is now visible ---------------------------------------------


@pytest.mark.parametrize(
    ("toml", "text_line", "disables"),
    [
        (
            'ignore = ["compatibility", "locking", "data", "style", "meta"]\n',
            "config: .migcheck.toml (discovered): turns off ",
            {"rules": "drop-column"},
        ),
        (
            '[per-file-ignores]\n"*" = ["ALL"]\n',
            "config: .migcheck.toml (discovered): per-file-ignores * = ALL",
            {"per_file_ignores": {"*": ["ALL"]}},
        ),
        (
            'exclude = ["*"]\n',
            "config: .migcheck.toml (discovered): excludes *",
            {"exclude": ["*"]},
        ),
        (
            '[severity]\ndrop-column = "info"\ndrop-view = "info"\n',
            "config: .migcheck.toml (discovered): lowers severities "
            "(drop-column error->info, drop-view warning->info)",
            {
                "severities": {
                    "drop-column": {"from": "error", "to": "info"},
                    "drop-view": {"from": "warning", "to": "info"},
                }
            },
        ),
        (
            'fail-on = "never"\n',
            "config: .migcheck.toml (discovered): lowers fail-on warning->never",
            {"fail_on": {"from": "warning", "to": "never"}},
        ),
        (
            "lock-timeout-role-level = true\nassume-in-transaction = true\n"
            "[alembic]\ntransaction-per-migration = true\n",
            "config: .migcheck.toml (discovered): assumes assume-in-transaction, "
            "lock-timeout-role-level, alembic.transaction-per-migration",
            {
                "assumes": [
                    "assume-in-transaction",
                    "lock-timeout-role-level",
                    "alembic.transaction-per-migration",
                ]
            },
        ),
    ],
    ids=[
        "ignore-all",
        "per-file-ignores-star",
        "exclude-star",
        "severity-down",
        "fail-on-never",
        "assumptions",
    ],
)
def test_each_opt_out_is_visible(
    repo: Path, toml: str, text_line: str, disables: dict[str, object]
) -> None:
    assert cli("db", cwd=repo).returncode == 1
    write(repo / ".migcheck.toml", toml)
    text = cli("db", cwd=repo)
    # The opt-out still works (the assumptions only silence other rules than drop-column) ...
    assert text.returncode == (1 if "assumes" in disables else 0)
    assert text_line in text.stdout  # ... but says so, just above the summary
    lines = text.stdout.splitlines()
    assert lines[-1].startswith("Checked ") and lines[-2].startswith("config: .migcheck.toml")

    config = json.loads(cli("--format", "json", "db", cwd=repo).stdout)["config"]
    assert (config["path"], config["source"]) == (".migcheck.toml", "discovered")
    for key, value in disables.items():
        if key == "rules":
            assert value in config["disables"]["rules"]
        else:
            assert config["disables"][key] == value

    github = cli("--format", "github", "db", cwd=repo).stdout
    assert "::notice title=migcheck config::config: .migcheck.toml (discovered)" in github

    sarif = json.loads(cli("--format", "sarif", "db", cwd=repo).stdout)["runs"][0]
    assert sarif["properties"]["migcheckConfig"] == config
    (note,) = sarif["invocations"][0]["toolConfigurationNotifications"]
    assert note["message"]["text"].startswith("config: .migcheck.toml (discovered)")


def test_json_config_key_shape(repo: Path) -> None:
    none = json.loads(cli("--format", "json", "db", cwd=repo).stdout)["config"]
    assert none == {
        "path": None,
        "source": None,
        "disables": {
            "rules": [],
            "severities": {},
            "exclude": [],
            "per_file_ignores": {},
            "fail_on": None,
            "assumes": [],
        },
        "excluded_changed": [],
    }
    write(repo / "ci.toml", 'fail-on = "error"\n')
    named = json.loads(cli("--format", "json", "--config", "ci.toml", "db", cwd=repo).stdout)
    assert (named["config"]["path"], named["config"]["source"]) == ("ci.toml", "--config")
    assert named["config"]["disables"]["fail_on"] == {"from": "warning", "to": "error"}


def test_a_config_that_disables_nothing_is_still_named(repo: Path) -> None:
    write(repo / "migcheck.toml", "pg-version = 16\n")
    proc = cli("db", cwd=repo)
    assert "config: migcheck.toml (discovered): disables nothing" in proc.stdout
    # Raising a severity or fail-on disables nothing.
    write(repo / "migcheck.toml", '[severity]\ndrop-view = "error"\n')
    assert "disables nothing" in cli("db", cwd=repo).stdout


def test_github_step_summary_names_the_config(repo: Path, tmp_path: Path) -> None:
    write(repo / ".migcheck.toml", 'exclude = ["db"]\n')
    summary = tmp_path / "summary.md"
    cli("--format", "github", "db", cwd=repo, env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "config: .migcheck.toml (discovered): excludes db" in summary.read_text()


def test_gitlab_report_names_the_config_on_stderr(repo: Path) -> None:
    write(repo / ".migcheck.toml", 'fail-on = "never"\n')
    proc = cli("--format", "gitlab", "db", cwd=repo)
    json.loads(proc.stdout)  # the artifact stays valid
    assert "migcheck: config: .migcheck.toml (discovered): lowers fail-on" in proc.stderr


def test_junit_report_carries_the_config_as_a_suite_property(repo: Path) -> None:
    import xml.etree.ElementTree as ET

    write(repo / ".migcheck.toml", 'fail-on = "never"\n')
    suite = ET.fromstring(cli("--format", "junit", "db", cwd=repo).stdout).find("testsuite")
    assert suite is not None
    prop = suite.find("properties/property")
    assert prop is not None and prop.get("name") == "migcheck.config"
    assert "lowers fail-on warning->never" in (prop.get("value") or "")


# -- point 3: --diff and --config-from-base --------------------------------------------------


@pytest.fixture
def git_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path_factory.mktemp("gitconfig") / "config"
    cfg.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(cwd: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture
def pr(tmp_path: Path, git_env: None) -> Path:
    """main: one migration and a strict config; branch ``pr``: an unsafe migration."""
    root = tmp_path / "checkout"
    root.mkdir()
    git(root, "init", "-q")
    write(root / "db" / "001_init.sql", CREATE)
    write(root / ".migcheck.toml", 'fail-on = "warning"\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "pr")
    write(root / "db" / "002_drop.sql", DROP)
    write(root / "db" / "003_view.sql", VIEW)
    return root


def commit_all(root: Path, message: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def test_diff_reports_changed_migrations_the_config_excludes(pr: Path) -> None:
    write(pr / ".migcheck.toml", 'exclude = ["db/002_*", "db/003_*"]\n')
    commit_all(pr, "drop bio, and hide it")
    proc = cli("--diff", "main", cwd=pr)
    assert (
        "2 changed migrations excluded by .migcheck.toml: db/002_drop.sql, db/003_view.sql"
        in proc.stdout
    )
    data = json.loads(cli("--diff", "main", "--format", "json", cwd=pr).stdout)
    assert data["config"]["excluded_changed"] == ["db/002_drop.sql", "db/003_view.sql"]


def test_config_from_base_ignores_the_pull_requests_config(pr: Path) -> None:
    write(pr / ".migcheck.toml", 'ignore = ["ALL"]\nfail-on = "never"\nexclude = ["*"]\n')
    commit_all(pr, "drop bio, and switch migcheck off")
    assert cli("--diff", "main", cwd=pr).returncode == 0  # the PR's own config wins ...
    proc = cli("--diff", "main", "--config-from-base", cwd=pr)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # ... unless pinned to the base
    assert "error[drop-column]" in proc.stdout
    assert "config: .migcheck.toml (base:main): disables nothing" in proc.stdout
    config = json.loads(
        cli("--diff", "main", "--config-from-base", "--format", "json", cwd=pr).stdout
    )["config"]
    assert (config["path"], config["source"]) == (".migcheck.toml", "base:main")


def test_config_from_base_when_the_pull_request_adds_the_only_config(pr: Path) -> None:
    git(pr, "rm", "-q", ".migcheck.toml")
    git(pr, "commit", "-qm", "no config on the branch")
    git(pr, "checkout", "-qb", "pr2")
    git(pr, "branch", "-qf", "main", "pr")  # main now has no config at all
    write(pr / "db" / "pyproject.toml", '[tool.migcheck]\nfail-on = "never"\n')
    commit_all(pr, "add a config that switches the gate off")
    proc = cli("--diff", "main", "--config-from-base", cwd=pr)
    assert "config: none found on main" in proc.stdout
    # The branch point already held 002/003: only the config changed, nothing to lint.
    write(pr / "db" / "004_drop.sql", 'ALTER TABLE "User" DROP COLUMN id;\n')
    commit_all(pr, "another drop")
    proc = cli("--diff", "main", "--config-from-base", cwd=pr)
    assert proc.returncode == 1, proc.stdout + proc.stderr


def test_config_from_base_with_a_named_file_reads_it_on_the_base(pr: Path) -> None:
    write(pr / "ci" / "strict.toml", 'ignore = ["ALL"]\n')
    commit_all(pr, "a named config that is not on main")
    proc = cli("--diff", "main", "--config-from-base", "--config", "ci/strict.toml", cwd=pr)
    assert proc.returncode == 2
    assert "ci/strict.toml: does not exist on main" in proc.stderr


def test_config_from_base_needs_diff(repo: Path) -> None:
    proc = cli("--config-from-base", "db", cwd=repo)
    assert proc.returncode == 2
    assert "--config-from-base reads the config file on the --diff base" in proc.stderr


# -- point 10: discovery outside a checkout stops below untrusted directories ---------------


def test_config_in_a_world_writable_parent_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    write(shared / ".migcheck.toml", 'ignore = ["ALL"]\nfail-on = "never"\n')
    project = shared / "project"  # not a git checkout
    write(project / "db" / "001_init.sql", CREATE)
    write(project / "db" / "002_drop.sql", DROP)
    proc = cli("db", cwd=project)
    assert proc.returncode == 1
    assert "error[drop-column]" in proc.stdout
    assert "config:" not in proc.stdout
    # A .git planted in the shared directory does not make it a repository root to search.
    (shared / ".git").mkdir()
    assert cli("db", cwd=project).returncode == 1
    # The project's own config is still used.
    write(project / "migcheck.toml", 'fail-on = "never"\n')
    assert cli("db", cwd=project).returncode == 0


def test_a_world_writable_start_directory_is_still_searched(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "002_drop.sql", DROP)
    write(project / "migcheck.toml", 'fail-on = "never"\n')
    project.chmod(0o1777)
    proc = cli(".", cwd=project)
    assert proc.returncode == 0
    assert "config: migcheck.toml (discovered)" in proc.stdout


def test_discovery_stops_at_home(tmp_path: Path) -> None:
    above = tmp_path / "above"
    home = above / "home"
    write(above / ".migcheck.toml", 'fail-on = "never"\n')
    write(home / "work" / "002_drop.sql", DROP)
    proc = cli("work", cwd=home, env={"HOME": str(home)})
    assert proc.returncode == 1, proc.stdout
    write(home / ".migcheck.toml", 'fail-on = "never"\n')  # $HOME itself is searched
    assert cli("work", cwd=home, env={"HOME": str(home)}).returncode == 0


# -- deeply nested TOML ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["[" * 100_000 + "]" * 100_000, "{a = " * 100_000 + "1" + "}" * 100_000]
)
def test_deeply_nested_toml_is_a_config_error(repo: Path, value: str) -> None:
    write(repo / ".migcheck.toml", f"select = {value}\n")
    proc = cli("db", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "migcheck: .migcheck.toml: invalid TOML: arrays or tables are nested too deeply to read"
    ]


def test_nested_value_in_a_message_is_cut(repo: Path) -> None:
    # Deep enough to recurse out of a naive printer, shallow enough for tomllib to read.
    write(repo / ".migcheck.toml", "select = " + "[" * 450 + "]" * 450 + "\n")
    proc = cli("db", cwd=repo)
    assert proc.returncode == 2
    assert proc.stderr.startswith("migcheck: .migcheck.toml: select = [[[[")
    assert len(proc.stderr.splitlines()) == 1
