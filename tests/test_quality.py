"""The code standards as tests: ruff (lint and format) and mypy pass on the whole tree,
and the README's two commands are the ones CI runs.

These run the same tools a contributor runs, from the test environment, so a change
that breaks them fails CI instead of waiting for a reviewer to notice.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.skipif(
    shutil.which("ruff") is None and not (Path(sys.executable).parent / "ruff").exists(),
    reason="ruff is not installed (pip install -e '.[test]')",
)
def test_ruff_check_and_format() -> None:
    lint = _tool("ruff", "check", "src", "tests", "bench", "scripts", "action")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _tool("ruff", "format", "--check", "src", "tests", "bench", "scripts", "action")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy() -> None:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    result = _tool("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_starts_with_the_two_commands_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", readme, flags=re.S)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("migcheck fixtures/")
    assert "pip install" in lines[1] and "'.[test]'" in lines[1] and "pytest" in lines[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip\" install -q -e '.[test]'" in ci
    assert "-m pytest" in ci


def test_readme_lists_every_rule() -> None:
    from migcheck.rules import all_rules

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [rid for rid in all_rules() if f"[`{rid}`](rules/{rid}.md)" not in readme]
    assert missing == []


def test_the_distribution_name_is_one_fact_and_every_install_line_uses_it() -> None:
    # "migcheck" on PyPI is an unrelated project with its own `migcheck` command: an
    # install line naming it would run someone else's code in the user's CI.
    from migcheck import DISTRIBUTION

    root = Path(__file__).resolve().parents[1]
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    name = re.search(r'^name = "([^"]+)"', pyproject, flags=re.M)
    assert name is not None and name.group(1) == DISTRIBUTION != "migcheck"
    assert re.search(r'^migcheck = "migcheck', pyproject, flags=re.M)  # the command stays
    for doc in ("README.md", "docs/ci.md", "action.yml", ".pre-commit-hooks.yaml"):
        text = (root / doc).read_text(encoding="utf-8")
        bad = re.findall(r"pip install(?: -[-\w]+)* (?:\"|')?migcheck(?![-\w])", text)
        assert not bad, f"{doc}: {bad}"


def test_ruff_sees_the_rule_modules_and_their_tests() -> None:
    # An exclude pattern without a path ("rules") matches every directory of that name:
    # it once hid src/migcheck/rules and tests/rules from lint and format checks.
    root = Path(__file__).resolve().parents[1]
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -e '.[test]')")
    listed = subprocess.run(
        [ruff, "check", "--show-files", "."], cwd=root, capture_output=True, text=True
    ).stdout
    assert "src/migcheck/rules/drop_column.py" in listed
    assert "tests/rules/test_drop_column.py" in listed
    assert "fixtures/" not in listed
