"""The pre-commit and re-run cases of issue 16's table, on generated Prisma histories.

    python bench/bench_warm.py [--history 820] [--big 2242] [--repeat 5] [--src DIR]

Rows (each the median wall time of a whole ``python -m migcheck`` process, with its CPU
time beside it; the load average is printed, as wall time is noisy on a shared machine):

* ``pre-commit``: one new migration named in an ``--history``-migration Prisma history
  whose other migrations the cache already knows (an earlier pre-commit run named the
  previous new one);
* ``one new file``: a single new migration with nothing cached (``MIGCHECK_NO_CACHE=1``);
* ``audit warm``: the whole ``--big``-migration history, every migration cached;
* ``audit cold``: the same with nothing cached;
* ``audit warm, schema.prisma``: the warm audit of a history with an app schema, which
  needs the schema the history builds (the cache's stored final state) to compare;
* with ``squawk`` on PATH (``pip install squawk-cli``), squawk on the same files.

``--src DIR`` runs another source tree (e.g. ``git worktree add /tmp/old main``, then
``--src /tmp/old/src``) with the same interpreter, for before/after ratios. Python
bytecode goes to a temporary ``PYTHONPYCACHEPREFIX`` and an untimed run compiles it
first. Not part of the test suite: performance is measured here, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench import _statement, _table  # noqa: E402


def prisma_history(root: Path, count: int, seed: int = 11) -> Path:
    """A Prisma layout: ``prisma/migrations/<timestamp>_mN/migration.sql``."""
    rng = random.Random(seed)
    mig = root / "prisma" / "migrations"
    if mig.exists():
        shutil.rmtree(mig)
    mig.mkdir(parents=True)
    (mig / "migration_lock.toml").write_text('provider = "postgresql"\n')
    tables = [0]
    first = mig / "20200101000000_init"
    first.mkdir()
    (first / "migration.sql").write_text("CREATE TYPE mood AS ENUM ('a', 'b');\n" + _table(rng, 0))
    for n in range(1, count):
        body = []
        if rng.random() < 0.25:
            tables.append(n)
            body.append(_table(rng, n))
        for _ in range(rng.randint(1, 4)):
            body.append(_statement(rng, tables, n).replace("CONCURRENTLY ", ""))
        d = mig / f"{20200101000000 + n * 100:014d}_m{n}"
        d.mkdir()
        (d / "migration.sql").write_text("".join(body))
    return mig


def last_migration(mig: Path) -> Path:
    return sorted(p for p in mig.iterdir() if p.is_dir())[-1] / "migration.sql"


def timed(cmd: list[str], env: dict[str, str], repeat: int, cwd: Path) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--history", type=int, default=820)
    ap.add_argument("--big", type=int, default=2242)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--src", default=None)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="migcheck-bench-warm-"))
    env = dict(os.environ)
    env.pop("MIGCHECK_NO_CACHE", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    if args.src:
        env["PYTHONPATH"] = os.path.abspath(args.src)
    cmd = [sys.executable, "-m", "migcheck", "--exit-zero"]
    rows: list[tuple[str, float, float]] = []

    small = work / "small"
    mig = prisma_history(small, args.history)
    new = last_migration(mig)
    text = new.read_text()
    new.unlink()
    new.parent.rmdir()
    cache_env = dict(env, MIGCHECK_CACHE_DIR=str(work / "cache-small"))
    os.makedirs(cache_env["MIGCHECK_CACHE_DIR"], mode=0o700)
    # The previous pre-commit run named the then-newest migration.
    subprocess.run([*cmd, str(last_migration(mig))], env=cache_env, cwd=small, capture_output=True)
    new.parent.mkdir()
    new.write_text(text)
    pre = [*cmd, str(new.relative_to(small))]

    def precommit() -> tuple[float, float]:
        # Each sample is a first sight of the new file: restore the cache state before it.
        snap = work / "cache-snap"
        if snap.exists():
            shutil.rmtree(snap)
        shutil.copytree(cache_env["MIGCHECK_CACHE_DIR"], snap)
        walls, cpus = [], []
        for _ in range(args.repeat):
            shutil.rmtree(cache_env["MIGCHECK_CACHE_DIR"])
            shutil.copytree(snap, cache_env["MIGCHECK_CACHE_DIR"])
            os.chmod(cache_env["MIGCHECK_CACHE_DIR"], 0o700)
            w, c = timed(pre, cache_env, 1, small)
            walls.append(w)
            cpus.append(c)
        return statistics.median(walls), statistics.median(cpus)

    rows.append((f"pre-commit: 1 new of {args.history}, rest cached", *precommit()))
    lone = work / "lone"
    lone.mkdir()
    (lone / "new.sql").write_text(text)
    rows.append(
        (
            "one new file, nothing cached",
            *timed([*cmd, "new.sql"], dict(env, MIGCHECK_NO_CACHE="1"), args.repeat, lone),
        )
    )
    big = work / "big"
    prisma_history(big, args.big)
    big_env = dict(env, MIGCHECK_CACHE_DIR=str(work / "cache-big"))
    os.makedirs(big_env["MIGCHECK_CACHE_DIR"], mode=0o700)
    audit = [*cmd, "prisma/migrations"]
    subprocess.run(audit, env=big_env, cwd=big, capture_output=True)
    rows.append((f"audit of {args.big}, all cached", *timed(audit, big_env, args.repeat, big)))
    rows.append(
        (
            f"audit of {args.big}, nothing cached",
            *timed(audit, dict(env, MIGCHECK_NO_CACHE="1"), args.repeat, big),
        )
    )
    (big / "prisma" / "schema.prisma").write_text("model t0 {\n  id BigInt @id\n}\n")
    subprocess.run(audit, env=big_env, cwd=big, capture_output=True)
    rows.append(
        (
            f"audit of {args.big}, all cached, schema.prisma",
            *timed(audit, big_env, args.repeat, big),
        )
    )
    squawk = shutil.which("squawk")
    if squawk:
        files = [str(p) for p in sorted((big / "prisma" / "migrations").glob("*/migration.sql"))]
        rows.append(
            (f"squawk on the {args.big} files", *timed([squawk, *files], env, args.repeat, big))
        )
        rows.append(("squawk on the new file", *timed([squawk, str(new)], env, args.repeat, small)))
    print(f"load average: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    width = max(len(r[0]) for r in rows)
    for name, wall, cpu in rows:
        print(f"{name:<{width}}  {wall * 1000:8.1f} ms wall  {cpu * 1000:8.1f} ms cpu")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
