"""Parsing a big history in worker processes gives what parsing it here gives."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from migcheck import parallel
from migcheck.sources import Migration
from migcheck.statements import load

ROOT = Path(__file__).resolve().parents[1]


def migrations(tmp_path: Path, count: int) -> list[Migration]:
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        from bench_warm import prisma_history
    finally:
        sys.path.pop(0)
    mig = prisma_history(tmp_path, count)
    files = sorted(mig.glob("*/migration.sql"))
    return [Migration(str(f), f.parent.name, "prisma", text=f.read_text()) for f in files]


def test_the_pool_parses_exactly_as_one_process_does(tmp_path: Path) -> None:
    ms = migrations(tmp_path, 120)
    pooled = parallel.parse_all(ms)
    assert pooled is not None
    assert pooled == [load(m, use_cache=False) for m in ms]


def test_small_histories_stay_in_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    ms = migrations(tmp_path, 600)
    assert parallel.worth_it(ms)
    assert not parallel.worth_it(ms[: parallel.MIN_FILES - 1])
    monkeypatch.setattr(parallel, "workers", lambda: 1)
    assert not parallel.worth_it(ms)


def test_a_pool_that_cannot_start_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import concurrent.futures

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("no semaphores here")

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", broken)
    assert parallel.parse_all(migrations(tmp_path, 10)) is None
