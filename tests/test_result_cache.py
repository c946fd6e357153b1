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


# -- the stored schema state (a pre-commit run goes on from it) -------------------------

MIGS = Path("prisma/migrations")


def _prisma_project(root: Path, count: int) -> list[Path]:
    """``count`` Prisma migrations: ``users`` (``email`` NOT NULL) first, then one table
    each; the migration files in order."""
    mig = root / MIGS
    mig.mkdir(parents=True)
    (mig / "migration_lock.toml").write_text('provider = "postgresql"\n')
    files = []
    for n in range(count):
        folder = mig / f"{20240101000000 + n * 100:014d}_m{n:03d}"
        folder.mkdir()
        sql = (
            'CREATE TABLE "users" ("id" BIGINT PRIMARY KEY, "email" TEXT NOT NULL);\n'
            if n == 0
            else f'CREATE TABLE "t{n}" ("id" BIGINT PRIMARY KEY);\n'
        )
        (folder / "migration.sql").write_text(sql)
        files.append(folder / "migration.sql")
    return files


# Quiet while the schema knows "email" is already NOT NULL; an unknown column fires.
NEW = 'ALTER TABLE "users" ALTER COLUMN "email" SET NOT NULL;\n'


def _add_migration(root: Path, n: int, sql: str) -> Path:
    folder = root / MIGS / f"{20240101000000 + n * 100:014d}_m{n:03d}"
    folder.mkdir()
    (folder / "migration.sql").write_text(sql)
    return folder / "migration.sql"


def _forge_states(cache: Path) -> int:
    """Empty the tables of every stored schema state (a well-formed entry, as whoever can
    write the cache directory could plant); how many there were."""
    (pack,) = (cache / "histories").iterdir()
    lines = pack.read_bytes().split(b"\n")
    forged = 0
    for i, line in enumerate(lines):
        if line.startswith(b"s "):
            kind, key, raw = line.split(b" ", 2)
            state = json.loads(raw)
            state["tables"] = []
            lines[i] = b" ".join([kind, key, json.dumps(state).encode()])
            forged += 1
    pack.write_bytes(b"\n".join(lines))
    return forged


def _precommit_cache(tmp_path: Path) -> tuple[Path, list[Path], Path, Path]:
    """A project whose last run named its newest migration, then one more migration: the
    project, its files, the new file, and the cache that run left."""
    root = tmp_path / "p"
    files = _prisma_project(root, 40)
    cache = tmp_path / "cache"
    run(root, cache, str(files[-1].relative_to(root)))
    new = _add_migration(root, 40, NEW)
    return root, files, new, cache


def _copy(cache: Path, to: Path) -> Path:
    shutil.copytree(cache, to)
    return to


def test_a_pre_commit_run_goes_on_from_the_stored_schema_state(tmp_path: Path) -> None:
    root, _, new, cache = _precommit_cache(tmp_path)
    name = str(new.relative_to(root))
    forged = _copy(cache, tmp_path / "forged")
    assert _forge_states(forged) > 0
    cold = run(root, None, name)
    assert json.loads(cold[1])["findings"] == []
    # The state is what the run starts from: a forged one shows (the cache directory is
    # trusted input, SECURITY.md)...
    planted = json.loads(run(root, forged, name)[1])
    assert [f["rule"] for f in planted["findings"]] == ["set-not-null"]
    # ...and the honest one gives the uncached result.
    assert run(root, cache, name) == cold


@pytest.mark.parametrize(
    "change",
    ["the file before the state", "the target version", "the settings", "a config file"],
)
def test_a_stored_schema_state_is_not_reused_when_an_input_changed(
    tmp_path: Path, change: str
) -> None:
    """A forged state that a run would read shows in its report: after each change the
    run must not read it, and gives the uncached result."""
    root, files, new, cache = _precommit_cache(tmp_path)
    _forge_states(cache)
    args: tuple[str, ...] = ()
    if change == "the file before the state":
        # The state stored is the one before the newest file of the earlier run.
        files[-2].write_text(files[-2].read_text() + 'ALTER TABLE "users" ADD COLUMN "a" INT;\n')
    elif change == "the target version":
        args = ("--pg-version", "11")
    elif change == "the settings":
        args = ("--ignore", "drop-column")
    else:
        (root / "migcheck.toml").write_text('select = ["ALL"]\n')
    name = str(new.relative_to(root))
    assert run(root, cache, *args, name) == run(root, None, *args, name)


def test_editing_the_file_after_the_stored_state_replays_it(tmp_path: Path) -> None:
    root, files, new, cache = _precommit_cache(tmp_path)
    # The newest file of the earlier run drops the NOT NULL: the new file now fires.
    files[-1].write_text('ALTER TABLE "users" ALTER COLUMN "email" DROP NOT NULL;\n')
    name = str(new.relative_to(root))
    cold = run(root, None, name)
    assert [f["rule"] for f in json.loads(cold[1])["findings"]] == ["set-not-null"]
    assert run(root, cache, name) == cold


def test_an_audit_compares_the_app_schema_with_the_stored_final_state(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _prisma_project(root, 40)
    (root / "prisma/schema.prisma").write_text(
        "model users {\n  id BigInt @id\n  email String\n}\n"
        + "".join(f"model t{n} {{\n  id BigInt @id\n}}\n" for n in range(1, 40))
    )
    cache = tmp_path / "cache"
    cold = run(root, None, str(MIGS))
    assert run(root, cache, str(MIGS)) == cold
    forged = _copy(cache, tmp_path / "forged")
    assert _forge_states(forged) > 0
    # An audit the cache answers whole still needs what the history builds, for the
    # comparison with schema.prisma: it is the stored state (a forged one shows).
    assert run(root, forged, str(MIGS)) != cold
    assert run(root, cache, str(MIGS)) == cold
    # A migration appended goes on from the state the audit stored.
    _add_migration(root, 40, 'ALTER TABLE "users" ADD COLUMN "age" INT NOT NULL;\n')
    cold = run(root, None, str(MIGS))
    assert run(root, cache, str(MIGS)) == cold


def test_a_schema_state_holds_every_field_of_the_schema() -> None:
    """A field added to ``Schema`` and not to the stored state would be lost by a run
    that goes on from a state."""
    import dataclasses

    from migcheck import snapshot
    from migcheck.schema import Schema

    stored = {f.name for f in dataclasses.fields(snapshot.State)} - {"transactions"}
    assert stored == set(vars(Schema()))


@pytest.mark.parametrize(
    "damage",
    [
        b"{not json",
        b'{"transactions": "3"}',
        b'{"transactions": 3, "tables": [], "surprise": 1}',
        b"[]",
    ],
)
def test_a_damaged_schema_state_is_a_miss(tmp_path: Path, damage: bytes) -> None:
    root, _, new, cache = _precommit_cache(tmp_path)
    (pack,) = (cache / "histories").iterdir()
    lines = pack.read_bytes().split(b"\n")
    damaged = [b" ".join([*line.split(b" ", 2)[:2], damage]) for line in lines if line[:2] == b"s "]
    assert damaged
    pack.write_bytes(b"\n".join([line for line in lines if line[:2] != b"s "] + damaged))
    name = str(new.relative_to(root))
    warm = run(root, cache, name)
    assert warm == run(root, None, name)
    assert warm[2] == ""
