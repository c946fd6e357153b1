"""The composite GitHub Action (action.yml), its shell steps run locally with bash.

A small stand-in for the Actions runner reads action.yml, replaces the ``${{ }}``
expressions of each step's ``env:`` with test values (inputs with their defaults,
``github.*``, ``runner.temp``, earlier steps' outputs), runs the ``run:`` script the way
GitHub does (``bash --noprofile --norc -eo pipefail``) in a temporary git repository and
collects ``$GITHUB_OUTPUT``. ``uses:`` steps (setup-python, upload-sarif) are GitHub's
and are not run here.

The first tests replace migcheck by a recorder to check the command line each event
produces; the end-to-end tests install migcheck from the action's path, as the action
does, and wait for the CLI's --diff/--format github/sarif wiring.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from package_index import missing_index_reason

CHECKOUT = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((CHECKOUT / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
MIG = "db/migrations"
INIT = "CREATE TABLE users (id bigint PRIMARY KEY, email text, bio text);\n"


@dataclass
class Run:
    """What the runner knows about one job: contexts, and outputs as steps set them."""

    workspace: Path
    temp: Path
    inputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)  # GITHUB_* variables of the event
    event_before: str = ""
    action_path: Path = CHECKOUT
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)

    def value(self, expr: str) -> str:
        if expr.startswith("inputs."):
            name = expr.removeprefix("inputs.")
            assert name in ACTION["inputs"], f"action.yml uses undeclared input {name}"
            return self.inputs.get(name, str(ACTION["inputs"][name].get("default", "")))
        m = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr)
        if m:
            return self.outputs.get(m.group(1), {}).get(m.group(2), "")
        known = {
            "github.action_path": str(self.action_path),
            "github.event.before": self.event_before,
            "github.base_ref": self.env.get("GITHUB_BASE_REF", ""),
            "runner.temp": str(self.temp),
            "github.token": self.env.get("TEST_TOKEN", ""),
            "github.event.pull_request.number": self.env.get("TEST_PR_NUMBER", ""),
        }
        assert expr in known, f"the test runner does not know ${{{{ {expr} }}}}"
        return known[expr]

    def substitute(self, text: str) -> str:
        return EXPR.sub(lambda m: self.value(m.group(1)), text)

    def step(self, step_id: str) -> subprocess.CompletedProcess[str]:
        step = next(s for s in STEPS if s.get("id") == step_id)
        out_file = self.temp / f"output-{step_id}"
        out_file.write_text("")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_"))},
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_ACTION_PATH": str(self.action_path),
            "GITHUB_OUTPUT": str(out_file),
            "RUNNER_TEMP": str(self.temp),
            **self.env,
            **{k: self.substitute(str(v)) for k, v in (step.get("env") or {}).items()},
        }
        script = self.temp / f"step-{step_id}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        self.outputs[step_id] = dict(
            line.split("=", 1) for line in out_file.read_text().splitlines() if "=" in line
        )
        return proc


# --- the action's shape -----------------------------------------------------------------


def test_action_is_composite_with_the_documented_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) >= {"paths", "base", "fail-on", "pg-version", "sarif"}
    assert ACTION["inputs"]["sarif"]["default"] == "false"
    assert ACTION["inputs"]["fail-on"]["default"] == "warning"
    uses = [s["uses"].split("@")[0] for s in STEPS if "uses" in s]
    assert uses == ["actions/setup-python", "github/codeql-action/upload-sarif"]


def test_run_scripts_never_interpolate_expressions() -> None:
    # ${{ }} pasted into a script is shell injection (a branch named `$(curl …)`);
    # every value reaches the scripts through env.
    for step in STEPS:
        if "run" in step:
            assert step["shell"] == "bash"
            assert "${{" not in step["run"], step["name"]


def test_sarif_upload_runs_after_a_failing_lint_and_only_when_asked() -> None:
    upload = next(s for s in STEPS if "upload-sarif" in s.get("uses", ""))
    assert upload["if"].startswith("always()")
    assert "inputs.sarif == 'true'" in upload["if"]
    assert upload["with"]["sarif_file"] == "${{ steps.lint.outputs.sarif-file }}"


# --- the command line each event produces (migcheck replaced by a recorder) -------------


@pytest.fixture
def recorded(tmp_path: Path) -> tuple[Run, Path]:
    """A Run whose ``migcheck`` records its arguments and exits with $FAKE_EXIT."""
    log = tmp_path / "calls"
    fake = tmp_path / "fake-migcheck"
    fake.write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$*" >> "$FAKE_LOG"\n'
        'for a in "$@"; do [ "$prev" = --output ] && echo sarif > "$a"; prev="$a"; done\n'
        'exit "${FAKE_EXIT:-0}"\n'
    )
    fake.chmod(0o755)
    workspace, temp = tmp_path / "ws", tmp_path / "tmp"
    workspace.mkdir()
    temp.mkdir()
    run = Run(workspace=workspace, temp=temp, env={"FAKE_LOG": str(log)})
    run.outputs["install"] = {"migcheck": str(fake)}
    return run, log


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_pull_request_compares_with_the_base_branch(recorded: tuple[Run, Path]) -> None:
    run, log = recorded
    run.env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="main")
    proc = run.step("lint")
    assert proc.returncode == 0, proc.stderr
    md = f"{run.temp}/migcheck.md"
    assert calls(log) == [
        "check --fail-on warning --diff origin/main --config-from-base --exit-zero "
        f"--format markdown --output {md} .",
        "check --fail-on warning --diff origin/main --config-from-base --format github .",
    ]
    assert run.outputs["lint"] == {"markdown-file": md, "exit-code": "0"}


def test_no_comment_report_when_turned_off_or_not_a_pull_request(
    recorded: tuple[Run, Path],
) -> None:
    run, log = recorded
    run.env.update(GITHUB_EVENT_NAME="pull_request", GITHUB_BASE_REF="main")
    run.inputs.update(comment="false")
    run.step("lint")
    assert [c for c in calls(log) if "markdown" in c] == []
    run.inputs.update(comment="true")
    run.env.update(GITHUB_EVENT_NAME="push")
    run.step("lint")
    assert [c for c in calls(log) if "markdown" in c] == []


def test_comment_step_runs_after_a_failing_lint_and_never_fails_the_job() -> None:
    step = next(s for s in STEPS if s.get("name") == "Comment on the pull request")
    assert step["if"].startswith("always()") and "inputs.comment == 'true'" in step["if"]
    assert step["env"]["GITHUB_TOKEN"] == "${{ github.token }}"
    assert step["run"].rstrip().endswith("|| true")
    names = [s.get("name") for s in STEPS]
    assert names.index("Lint migrations") < names.index("Comment on the pull request")


def test_findings_fail_the_step_with_migchecks_exit_code(recorded: tuple[Run, Path]) -> None:
    run, _ = recorded
    run.env.update(GITHUB_BASE_REF="main", FAKE_EXIT="1")
    assert run.step("lint").returncode == 1
    assert run.outputs["lint"]["exit-code"] == "1"


def test_sarif_is_written_first_and_never_decides(recorded: tuple[Run, Path]) -> None:
    run, log = recorded
    run.env.update(GITHUB_BASE_REF="develop")
    run.inputs.update(sarif="true")
    assert run.step("lint").returncode == 0
    sarif = run.temp / "migcheck.sarif"
    assert calls(log) == [
        f"check --fail-on warning --diff origin/develop --config-from-base --exit-zero --format sarif --output {sarif} .",
        "check --fail-on warning --diff origin/develop --config-from-base --format github .",
    ]
    assert run.outputs["lint"]["sarif-file"] == str(sarif)


def test_push_compares_with_the_commit_before(recorded: tuple[Run, Path]) -> None:
    run, log = recorded
    run.env.update(GITHUB_EVENT_NAME="push")
    run.event_before = "3f1c2b9d8e7a6f5b4c3d2e1f0a9b8c7d6e5f4a3b"
    run.step("lint")
    assert calls(log)[-1] == (
        "check --fail-on warning --diff 3f1c2b9d8e7a6f5b4c3d2e1f0a9b8c7d6e5f4a3b "
        "--config-from-base --format github ."
    )


def test_new_branch_push_or_base_none_is_an_audit(recorded: tuple[Run, Path]) -> None:
    run, log = recorded
    run.event_before = "0" * 40
    run.step("lint")
    run.event_before = ""
    run.env.update(GITHUB_BASE_REF="main")
    run.inputs.update(base="none")
    run.step("lint")
    assert calls(log) == ["check --fail-on warning --format github ."] * 2


def test_config_from_base_is_the_default_and_can_be_turned_off(
    recorded: tuple[Run, Path],
) -> None:
    run, log = recorded
    run.env.update(GITHUB_BASE_REF="main")
    run.step("lint")
    run.inputs.update({"config-from-base": "false"})
    run.step("lint")
    assert calls(log) == [
        "check --fail-on warning --diff origin/main --config-from-base --format github .",
        "check --fail-on warning --diff origin/main --format github .",
    ]


def test_inputs_reach_the_command_line(recorded: tuple[Run, Path]) -> None:
    run, log = recorded
    run.env.update(GITHUB_BASE_REF="main")
    run.inputs.update(
        base="origin/release",
        paths="db/migrations  prisma/migrations",
        **{"fail-on": "error", "pg-version": "16"},
        args="--baseline migcheck-baseline.json --ignore style",
    )
    run.step("lint")
    assert calls(log) == [
        "check --fail-on error --pg-version 16 --diff origin/release --config-from-base --baseline "
        "migcheck-baseline.json --ignore style --format github db/migrations prisma/migrations"
    ]


def test_a_hostile_input_stays_one_argument(recorded: tuple[Run, Path], tmp_path: Path) -> None:
    run, log = recorded
    run.inputs.update(base=f"$(touch {tmp_path}/pwned)")
    run.step("lint")
    assert not (tmp_path / "pwned").exists()
    assert f"--diff $(touch {tmp_path}/pwned)" in calls(log)[0]


# --- end to end: install from the action's path, lint a pull request ------------------


def _cli_is_wired() -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    return all(word in out for word in ("--diff", "--output", "sarif", "github"))


needs_cli = pytest.mark.skipif(not _cli_is_wired(), reason="waiting for CLI wiring")


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The install step, run once: migcheck installed from a copy of this checkout (pip
    needs the package index for the dependencies)."""
    if (reason := missing_index_reason()) is not None:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("action")
    source = root / "action-src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "action.yml"):
        shutil.copy2(CHECKOUT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("src", "rules"):
        shutil.copytree(CHECKOUT / name, source / name, ignore=ignore)
    temp = root / "runner-temp"
    temp.mkdir()
    run = Run(workspace=root, temp=temp, action_path=source)
    # setup-python's output: a Python >= 3.10, as the step would provide.
    run.outputs["python"] = {"python-path": sys.executable}
    proc = run.step("install")
    assert proc.returncode == 0, proc.stderr
    migcheck = Path(run.outputs["install"]["migcheck"])
    assert migcheck.is_file()
    cfg = root / "gitconfig"
    cfg.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL=str(cfg), GIT_CONFIG_NOSYSTEM="1")
    return migcheck, env


def pull_request(tmp_path: Path, env: dict[str, str], new: dict[str, str]) -> Path:
    """A shallow (depth 1) checkout of main with a branch adding ``new`` committed."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, env, "init", "-q", "-b", "main")
    for i, (name, text) in enumerate(
        [("1_init.up.sql", INIT), ("2_nick.up.sql", "ALTER TABLE users ADD COLUMN nick text;\n")]
    ):
        (origin / MIG).mkdir(parents=True, exist_ok=True)
        (origin / MIG / name).write_text(text)
        (origin / "README.md").write_text(f"v{i}\n")
        git(origin, env, "add", "-A")
        git(origin, env, "commit", "-q", "-m", f"c{i}")
    ws = tmp_path / "ws"
    git(tmp_path, env, "clone", "-q", "--depth", "1", f"file://{origin}", str(ws))
    git(ws, env, "checkout", "-q", "-b", "pr")
    for name, text in new.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    git(ws, env, "add", "-A")
    git(ws, env, "commit", "-q", "-m", "pr")
    return ws


def lint_pr(
    tmp_path: Path, installed: tuple[Path, dict[str, str]], new: dict[str, str], **inputs: str
) -> tuple[Run, subprocess.CompletedProcess[str]]:
    migcheck, env = installed
    ws = pull_request(tmp_path, env, new)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    run = Run(workspace=ws, temp=temp, inputs=inputs)
    run.env.update(
        GIT_CONFIG_GLOBAL=env["GIT_CONFIG_GLOBAL"],
        GIT_CONFIG_NOSYSTEM="1",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_BASE_REF="main",
        NO_COLOR="1",
    )
    run.outputs["install"] = {"migcheck": str(migcheck)}
    return run, run.step("lint")


def test_install_step_gives_a_working_migcheck(
    tmp_path: Path, installed: tuple[Path, dict[str, str]]
) -> None:
    migcheck, _ = installed
    (tmp_path / "001_drop.sql").write_text("ALTER TABLE users DROP COLUMN bio;\n")
    proc = subprocess.run(
        [str(migcheck), "001_drop.sql"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1, proc.stderr
    assert "error[drop-column]" in proc.stdout
    # Its own virtualenv, not the job's Python.
    assert migcheck.parent.parent.name == "migcheck-venv"


@needs_cli
def test_unsafe_pull_request_is_annotated_and_fails(
    tmp_path: Path, installed: tuple[Path, dict[str, str]]
) -> None:
    drop = f"{MIG}/3_drop_bio.up.sql"
    run, proc = lint_pr(
        tmp_path, installed, {drop: "ALTER TABLE users DROP COLUMN bio;\n"}, sarif="true"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    annotations = [ln for ln in proc.stdout.splitlines() if ln.startswith("::error ")]
    assert len(annotations) == 1, proc.stdout
    assert f"file={drop}" in annotations[0] and "line=1" in annotations[0]
    assert "drop-column" in annotations[0]
    sarif = json.loads(Path(run.outputs["lint"]["sarif-file"]).read_text())
    results = sarif["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["drop-column"]
    assert run.outputs["lint"]["exit-code"] == "1"


@needs_cli
def test_safe_pull_request_passes(tmp_path: Path, installed: tuple[Path, dict[str, str]]) -> None:
    new = {f"{MIG}/3_avatar.up.sql": "ALTER TABLE users ADD COLUMN avatar text;\n"}
    run, proc = lint_pr(tmp_path, installed, new)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "::error" not in proc.stdout
    assert run.outputs["lint"]["exit-code"] == "0"
