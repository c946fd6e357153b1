"""The per-history result cache gives exactly the uncached result (issue 16, point 1).

Every run here goes through the real CLI twice: with a cache that earlier runs (of other
variants) have filled, and with ``MIGCHECK_NO_CACHE=1``. Each test changes one input a
file's findings depend on (its text, an earlier file, the target version, the settings,
the deploy grouping, what decides the runner, the app schema and table sizes); a cache key
missing that input would replay a stale result and the two reports would differ.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(cwd: Path, cache: Path | None, *args: str) -> tuple[int, str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MIGCHECK_CACHE_DIR", "MIGCHECK_NO_CACHE")
    }
    if cache is None:
        env["MIGCHECK_NO_CACHE"] = "1"
    else:
        env["MIGCHECK_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "--format", "json", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stdout, proc.stderr


def same(cwd: Path, cache: Path, *args: str) -> dict[str, object]:
    """Run cached and uncached; assert they agree; the report."""
    warm = run(cwd, cache, *args)
    cold = run(cwd, None, *args)
    assert warm == cold, (args, warm[2], cold[2])
    report: dict[str, object] = json.loads(cold[1])
    return report


def rules(report: dict[str, object]) -> list[object]:
    """The findings, messages and severities included."""
    return list(report["findings"])  # type: ignore[call-overload]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(ROOT / "fixtures", root / "fixtures")
    return root


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1))


PRISMA = Path("fixtures/prisma/prisma/migrations")


def _middle_file(root: Path) -> None:
    # "Order"."total" becomes a bigint early: its later type change starts from another type.
    init = root / PRISMA / "20240108093512_init/migration.sql"
    init.write_text(
        init.read_text() + '\nALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE BIGINT;\n'
    )


def _later_file(root: Path) -> None:
    last = sorted((root / PRISMA).glob("*/migration.sql"))[-1]
    last.write_text(last.read_text() + '\nALTER TABLE "User" DROP COLUMN "email";\n')


def _prisma_version(root: Path) -> None:
    # Prisma 7.4+ runs a migration using CONCURRENTLY outside a transaction.
    edit(root / "fixtures/prisma/package.json", '"prisma": "^5.22.0"', '"prisma": "^7.5.0"')


def _alembic_transactions(root: Path) -> None:
    edit(
        root / "fixtures/alembic/migrations/env.py",
        "transaction_per_migration=True",
        "transaction_per_migration=False",
    )


def _sql_text(root: Path) -> None:
    f = sorted((root / "fixtures/sql").rglob("*.sql"))[-1]
    f.write_text(f.read_text() + "\nCREATE INDEX late_idx ON users (id);\n")


CHANGES: dict[str, Callable[[Path], None]] = {
    "an earlier migration": _middle_file,
    "the last migration": _later_file,
    "the Prisma version in package.json": _prisma_version,
    "Alembic's transaction_per_migration in env.py": _alembic_transactions,
    "a plain SQL file": _sql_text,
}


def test_each_changed_input_gives_the_uncached_result(project: Path, tmp_path: Path) -> None:
    """The inputs change one after another, the cache keeping what every earlier run
    stored: a key missing any of them would replay a stale result."""
    cache = tmp_path / "cache"
    before = same(project, cache, "fixtures")
    for change, apply in CHANGES.items():
        apply(project)
        after = same(project, cache, "fixtures")
        assert rules(after) != rules(before), f"{change} should change the findings"
        before = after


def test_settings_are_part_of_the_key(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = same(project, cache, "fixtures")
    for args in [
        ("--pg-version", "11"),
        ("--select", "ALL"),
        ("--ignore", "drop-column"),
        ("--changeset",),
        ("--include-downgrade",),
    ]:
        varied = same(project, cache, *args, "fixtures")
        assert rules(varied) != rules(plain), args
    assert rules(same(project, cache, "fixtures")) == rules(plain)


def test_a_config_file_is_part_of_the_key(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = same(project, cache, "fixtures")
    (project / "migcheck.toml").write_text('lock-timeout-role-level = true\nselect = ["ALL"]\n')
    configured = same(project, cache, "fixtures")
    assert rules(configured) != rules(plain)


def test_naming_one_file_and_auditing_the_directory_keep_their_own_results(
    project: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    last = sorted((project / PRISMA).glob("*/migration.sql"))[-1].relative_to(project)
    audit = same(project, cache, str(PRISMA))
    one = same(project, cache, str(last))
    assert rules(one) != rules(audit)
    assert same(project, cache, str(PRISMA)) == audit
    assert same(project, cache, str(last)) == one


def test_table_sizes_apply_to_cached_results(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = same(project, cache, "fixtures")
    stats = project / "stats.json"
    tables = [
        {"schema": "public", "name": n, "rows": 10, "bytes": 8192} for n in ("orders", "Order")
    ]
    stats.write_text(json.dumps({"version": 1, "tables": tables}))
    sized = same(project, cache, "--table-stats", "stats.json", "fixtures")
    severities = lambda r: [f["severity"] for f in r["findings"]]  # noqa: E731
    assert severities(sized) != severities(plain)


def test_a_long_history_cold_warm_and_after_an_edit_in_the_middle(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_warm import prisma_history
    finally:
        sys.path.pop(0)
    mig = prisma_history(tmp_path / "h", 800)
    cache = tmp_path / "cache"
    cwd = tmp_path / "h"
    cold = run(cwd, cache, "prisma/migrations")
    assert run(cwd, cache, "prisma/migrations") == cold
    assert run(cwd, None, "prisma/migrations") == cold
    middle = sorted(mig.glob("*/migration.sql"))[400]
    middle.write_text(middle.read_text() + "ALTER TABLE t0 DROP COLUMN c0;\n")
    edited = run(cwd, cache, "prisma/migrations")
    assert edited == run(cwd, None, "prisma/migrations")
    assert edited != cold
