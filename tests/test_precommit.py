"""The pre-commit hook, run for real by pre-commit itself.

pre-commit builds the hook's virtualenv from a git repository (pip installs migcheck and
its dependencies from PyPI), so these tests need network access to the package index.
The repository is a snapshot of this checkout (its working tree: package, rule docs and
``.pre-commit-hooks.yaml``) committed into a temporary git repository, so the tests see
uncommitted changes too and work the same from a fresh clone in CI. ``try-repo`` always
builds a fresh environment; the configuration-based tests share one ``PRE_COMMIT_HOME``
so the environment is built once for all of them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from package_index import missing_index_reason

CHECKOUT = Path(__file__).resolve().parents[1]
MIG = "db/migrations"
INIT = "CREATE TABLE users (id bigint PRIMARY KEY, email text, bio text);\n"
UNSAFE = "ALTER TABLE users DROP COLUMN bio;\n"
SAFE = "ALTER TABLE users ADD COLUMN nick text;\n"
HOOK_TIMEOUT = 900  # building the hook environment downloads packages


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A git configuration of our own (identity, no signing) and one pre-commit cache."""
    root = tmp_path_factory.mktemp("precommit-home")
    cfg = root / "gitconfig"
    cfg.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    out = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    out.update(
        GIT_CONFIG_GLOBAL=str(cfg),
        GIT_CONFIG_NOSYSTEM="1",
        PRE_COMMIT_HOME=str(root / "cache"),
        PRE_COMMIT_COLOR="never",
        NO_COLOR="1",
        # Each hook environment runs migcheck a few times: compiling the bytecode of its
        # dependencies at install would cost more than it saves.
        PIP_NO_COMPILE="1",
    )
    return out


def git(cwd: Path, env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, f"git {' '.join(args)}: {proc.stderr}"
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """This checkout's working tree, as a one-commit git repository: (path, sha)."""
    # Every test using it has pre-commit build the hook's environment from the index.
    if (reason := missing_index_reason()) is not None:
        pytest.skip(reason)
    snap = tmp_path_factory.mktemp("hook-repo")
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        shutil.copy2(CHECKOUT / name, snap / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("src", "rules"):
        shutil.copytree(CHECKOUT / name, snap / name, ignore=ignore)
    git(snap, env, "init", "-q")
    git(snap, env, "add", "-A")
    git(snap, env, "commit", "-q", "-m", "snapshot")
    return snap, git(snap, env, "rev-parse", "HEAD")


def project(tmp_path: Path, env: dict[str, str], files: dict[str, str]) -> Path:
    """A user's repository with ``files`` committed."""
    repo = tmp_path / "app"
    repo.mkdir()
    git(repo, env, "init", "-q")
    write(repo, files)
    git(repo, env, "add", "-A")
    git(repo, env, "commit", "-q", "-m", "history")
    return repo


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def stage(repo: Path, env: dict[str, str], files: dict[str, str]) -> None:
    write(repo, files)
    git(repo, env, "add", *files)


def pre_commit(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=HOOK_TIMEOUT,
        check=False,
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    return proc


def configure(repo: Path, env: dict[str, str], hook_repo: tuple[Path, str]) -> None:
    """The ``.pre-commit-config.yaml`` a user writes, pointing at the hook repository."""
    path, sha = hook_repo
    config = {"repos": [{"repo": str(path), "rev": sha, "hooks": [{"id": "migcheck"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    git(repo, env, "add", ".pre-commit-config.yaml")


# --- the manifest ---------------------------------------------------------------------


def test_manifest_declares_the_hook() -> None:
    hooks = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["migcheck"]
    hook = hooks[0]
    assert hook["entry"] == "migcheck"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    assert hook["require_serial"] is True


@pytest.mark.parametrize(
    ("path", "matched"),
    [
        ("prisma/migrations/20240219152210_drop_user_bio/migration.sql", True),
        ("alembic/versions/3f2a_add_nick.py", True),
        ("app/db/migrations/versions/3f2a_add_nick.py", True),
        ("db/migrations/20240101120000_add_nick.up.sql", True),
        ("src/main/resources/db/migration/V2__add_nick.sql", True),
        ("migrate/0003_add_nick.sql", True),
        ("sql/003_add_nick.sql", True),
        ("db/migrations/20240101120000_add_nick.down.sql", False),
        ("migrations/0003/down.sql", False),
        ("src/main/resources/db/migration/U2__add_nick.sql", False),
        ("db/0003_add_nick.rollback.sql", False),
        ("alembic/versions/__init__.py", False),
        ("app/models.py", False),
        ("queries/report.sql", False),
        ("prisma/schema.prisma", False),
    ],
)
def test_files_pattern(path: str, matched: bool) -> None:
    # pre-commit selects files with re.search on the repository-relative path.
    hook = yaml.safe_load((CHECKOUT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]
    selected = bool(re.search(hook["files"], path)) and not re.search(hook["exclude"], path)
    assert selected is matched


# --- pre-commit try-repo ------------------------------------------------------------


def test_try_repo(tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]) -> None:
    # try-repo builds a fresh hook environment every time (about 15 s), so only the
    # unsafe case runs here; a safe one passing the same hook is
    # test_staged_safe_migration_passes_and_others_are_not_passed.
    repo = project(tmp_path, env, {f"{MIG}/1_init.up.sql": INIT})
    stage(repo, env, {f"{MIG}/2_change.up.sql": UNSAFE})
    proc = pre_commit(
        repo, env, "try-repo", str(hook_repo[0]), "migcheck", "--files", f"{MIG}/2_change.up.sql"
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f'{MIG}/2_change.up.sql:1:19: error[drop-column] Dropping column "users"."bio"' in out


# --- a configured repository, as users run it -----------------------------------------


def test_commit_is_blocked_by_an_unsafe_prisma_migration(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    repo = project(
        tmp_path,
        env,
        {
            "prisma/migrations/migration_lock.toml": 'provider = "postgresql"\n',
            "prisma/migrations/20240101000000_init/migration.sql": (
                'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "bio" TEXT);\n'
            ),
        },
    )
    configure(repo, env, hook_repo)
    assert "pre-commit installed" in pre_commit(repo, env, "install").stdout
    drop = "prisma/migrations/20240219152210_drop_user_bio/migration.sql"
    stage(repo, env, {drop: 'ALTER TABLE "User" DROP COLUMN "bio";\n'})
    proc = subprocess.run(
        ["git", "commit", "-m", "drop bio"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=HOOK_TIMEOUT,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"{drop}:1:" in out and "error[drop-column]" in out
    # Nothing was committed.
    assert git(repo, env, "rev-list", "--count", "HEAD") == "1"


def test_staged_safe_migration_passes_and_others_are_not_passed(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    repo = project(tmp_path, env, {f"{MIG}/1_init.up.sql": INIT})
    configure(repo, env, hook_repo)
    stage(repo, env, {f"{MIG}/2_nick.up.sql": SAFE, f"{MIG}/2_nick.down.sql": UNSAFE})
    proc = pre_commit(repo, env, "run")  # the staged files, as on commit
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert re.search(r"migcheck \(PostgreSQL migration safety\)\.+Passed", proc.stdout)


def test_staged_files_are_one_deploy(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    # Adding a column and dropping it again in the same deploy is a contraction the old
    # app version never saw coming; only judging the staged files together can see it.
    repo = project(tmp_path, env, {f"{MIG}/1_init.up.sql": INIT})
    configure(repo, env, hook_repo)
    stage(
        repo,
        env,
        {
            f"{MIG}/2_add_tmp.up.sql": "ALTER TABLE users ADD COLUMN tmp text;\n",
            f"{MIG}/3_drop_tmp.up.sql": "ALTER TABLE users DROP COLUMN tmp;\n",
        },
    )
    proc = pre_commit(repo, env, "run")
    assert proc.returncode == 1, proc.stdout
    assert "contract-in-same-deploy" in proc.stdout


def test_no_migration_staged_skips_the_hook(
    tmp_path: Path, env: dict[str, str], hook_repo: tuple[Path, str]
) -> None:
    repo = project(tmp_path, env, {f"{MIG}/1_init.up.sql": INIT})
    configure(repo, env, hook_repo)
    stage(repo, env, {"app/models.py": "x = 1\n", "queries/report.sql": UNSAFE})
    proc = pre_commit(repo, env, "run")
    assert proc.returncode == 0, proc.stdout
    assert re.search(
        r"migcheck \(PostgreSQL migration safety\)\.+\(no files to check\)Skipped", proc.stdout
    )
