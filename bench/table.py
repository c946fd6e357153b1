"""Issue 16's table in one command: every row, migcheck beside squawk, goal and verdict.

    python bench/table.py [--repeat 5] [--src DIR] [--history 820] [--big 2242]
                          [--revisions 500] [--migrations 800] [--edits 30]

Rows (the generated histories are those of ``bench_warm``, ``bench_alembic`` and
``bench_lsp``, whose builders this script calls):

* pre-commit: one new migration named in an 820-migration Prisma history whose other
  migrations the cache knows (each sample starts from the same cache state);
* one new file, nothing cached (``MIGCHECK_NO_CACHE=1``);
* the audit of a 2,242-migration Prisma history, all cached, then nothing cached;
* one new revision in a 500-revision Alembic project, the rest cached
  (``python -m migcheck <project>``, as ``bench_alembic`` runs it), and the same with
  the new revision named, as a pre-commit hook passes it;
* ``migcheck server``: didChange to publishDiagnostics for an edit in the middle of an
  800-migration history (median of ``--edits`` edits after a warm-up).

Each process row is a median of ``--repeat`` paired samples: every sample runs migcheck
and squawk back to back on the same files (their order alternating), so a burst of load
on this shared machine hits both sides of a pair. squawk lints files one by one and
knows no history, so it gets the same file set: the new file, or every migration of the
audited history. It runs when ``squawk`` is on PATH (``pip install squawk-cli``);
otherwise its column says why it is empty. The load average before and after is printed:
wall time is only comparable between runs at a similar load, CPU time (user + system of
the process, beside each migcheck figure) less so. ``--src DIR`` measures another source
tree with the same interpreter (``git archive <commit> src | tar -x -C DIR``, then
``--src DIR/src``): the before column of a change. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_alembic  # noqa: E402
from bench_warm import last_migration, prisma_history, timed  # noqa: E402

Sample = tuple[float, float]  # (wall, cpu) seconds


@dataclass
class Row:
    case: str
    goal: str
    # The goal as a test of (migcheck's median wall, squawk's median wall or None).
    met: Callable[[float, float | None], bool | None]
    migcheck: list[Sample]
    squawk: list[Sample] | None = None
    squawk_note: str = ""
    unit: str = "s"


def _at_most(limit: float) -> Callable[[float, float | None], bool | None]:
    return lambda ours, _theirs: ours <= limit


def _faster_than_squawk(ours: float, theirs: float | None) -> bool | None:
    return None if theirs is None else ours < theirs


def paired(
    repeat: int, ours: Callable[[], Sample], theirs: Callable[[], Sample] | None
) -> tuple[list[Sample], list[Sample] | None]:
    """``repeat`` pairs of samples, the order inside each pair alternating."""
    mine: list[Sample] = []
    other: list[Sample] = []
    for i in range(repeat):
        if theirs is not None and i % 2:
            other.append(theirs())
        mine.append(ours())
        if theirs is not None and not i % 2:
            other.append(theirs())
    return mine, (other if theirs is not None else None)


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGCHECK_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        if args.src:
            env["PYTHONPATH"] = os.path.abspath(args.src)
        self.env = env
        self.cmd = [sys.executable, "-m", "migcheck", "--exit-zero"]
        self.squawk = shutil.which("squawk")
        self.no_squawk = "" if self.squawk else "squawk not on PATH (pip install squawk-cli)"

    def once(self, cmd: list[str], env: dict[str, str], cwd: Path) -> Sample:
        return timed(cmd, env, 1, cwd)

    def squawk_on(self, files: list[str], cwd: Path) -> Callable[[], Sample] | None:
        if self.squawk is None:
            return None
        cmd = [self.squawk, *files]
        return lambda: self.once(cmd, self.env, cwd)

    def prisma_rows(self) -> list[Row]:
        args, env = self.args, self.env
        small = self.work / "small"
        mig = prisma_history(small, args.history)
        new = last_migration(mig)
        text = new.read_text()
        new.unlink()
        new.parent.rmdir()
        cache = self.work / "cache-small"
        cache.mkdir(mode=0o700)
        cache_env = dict(env, MIGCHECK_CACHE_DIR=str(cache))
        # Bytecode, untimed; then the previous pre-commit run, naming the then-newest file.
        subprocess.run(
            [*self.cmd, str(last_migration(mig))], env=cache_env, cwd=small, capture_output=True
        )
        new.parent.mkdir()
        new.write_text(text)
        snap = self.work / "cache-small-snap"
        shutil.copytree(cache, snap)

        def precommit() -> Sample:
            # Each sample is the first sight of the new file: the cache as before it.
            shutil.rmtree(cache)
            shutil.copytree(snap, cache)
            os.chmod(cache, 0o700)
            return self.once([*self.cmd, str(new.relative_to(small))], cache_env, small)

        rows = [
            Row(
                f"one new migration in a Prisma history of {args.history}, rest cached "
                "(pre-commit)",
                "<= 0.12 s",
                _at_most(0.12),
                *paired(args.repeat, precommit, self.squawk_on([str(new)], small)),
                squawk_note=self.no_squawk,
            )
        ]
        lone = self.work / "lone"
        lone.mkdir()
        (lone / "new.sql").write_text(text)
        uncached = dict(env, MIGCHECK_NO_CACHE="1")
        rows.append(
            Row(
                "one new file, nothing cached",
                "<= 0.15 s",
                _at_most(0.15),
                *paired(
                    args.repeat,
                    lambda: self.once([*self.cmd, "new.sql"], uncached, lone),
                    self.squawk_on(["new.sql"], lone),
                ),
                squawk_note=self.no_squawk,
            )
        )
        big = self.work / "big"
        prisma_history(big, args.big)
        files = [
            str(p.relative_to(big)) for p in sorted(big.glob("prisma/migrations/*/migration.sql"))
        ]
        big_cache = self.work / "cache-big"
        big_cache.mkdir(mode=0o700)
        big_env = dict(env, MIGCHECK_CACHE_DIR=str(big_cache))
        audit = [*self.cmd, "prisma/migrations"]
        subprocess.run(audit, env=big_env, cwd=big, capture_output=True)  # fills the cache
        theirs = self.squawk_on(files, big)
        rows.append(
            Row(
                f"{args.big} Prisma migrations, all cached (re-run of an audit)",
                "faster than squawk on the same files",
                _faster_than_squawk,
                *paired(args.repeat, lambda: self.once(audit, big_env, big), theirs),
                squawk_note=self.no_squawk,
            )
        )
        rows.append(
            Row(
                "the same, nothing cached",
                "<= 0.6 s",
                _at_most(0.6),
                *paired(args.repeat, lambda: self.once(audit, uncached, big), theirs),
                squawk_note=self.no_squawk,
            )
        )
        return rows

    def alembic_rows(self) -> list[Row]:
        args = self.args
        scratch = self.work / "alembic"
        scratch.mkdir()
        project = bench_alembic.write_history(scratch / "project", args.revisions)
        versions = project / "migrations" / "versions"
        runner = bench_alembic.Runner(
            project, scratch, Path(args.src).resolve() if args.src else None
        )
        cache = scratch / "warm-cache"
        runner.run(cache)  # bytecode and the cache of the whole history; not timed
        last = bench_alembic._rev_id(args.revisions - 1)
        count = iter(range(1_000_000))

        def one_new(named: bool) -> Sample:
            # A revision never seen before on each sample, as a developer adds one.
            k = f"{next(count)}_{os.getpid()}"
            rev = f"new{k}"
            path = versions / f"{rev}_new.py"
            body = bench_alembic.NEW_BODY.format(k=k)
            path.write_text(bench_alembic._revision_text(rev, last, "new", body))
            try:
                wall, cpu, _ = runner.run(cache, path if named else None)
            finally:
                path.unlink()
            return wall, cpu

        note = "cannot read Alembic (Python revisions)"
        runner.run(cache, versions / f"{last}_revision_{args.revisions - 1}.py")  # that mode's
        return [
            Row(
                f"one new revision in an Alembic project of {args.revisions}, rest cached",
                "<= 0.3 s",
                _at_most(0.3),
                paired(args.repeat, lambda: one_new(False), None)[0],
                squawk_note=note,
            ),
            Row(
                "the same, the new revision named (as a pre-commit hook runs it)",
                "<= 0.3 s",
                _at_most(0.3),
                paired(args.repeat, lambda: one_new(True), None)[0],
                squawk_note=note,
            ),
        ]

    def server_row(self) -> Row:
        import bench_lsp

        args = self.args
        saved = os.environ.get("PYTHONPATH")
        if args.src:  # the server is a subprocess inheriting this environment
            os.environ["PYTHONPATH"] = os.path.abspath(args.src)
        try:
            rows = asyncio.run(bench_lsp.bench(args.migrations, args.edits, with_later=False))
        finally:
            if saved is None:
                os.environ.pop("PYTHONPATH", None)
            else:
                os.environ["PYTHONPATH"] = saved
        _, edits = rows[1]  # didChange -> publishDiagnostics of the edited file
        return Row(
            f"`migcheck server`: an edit in a history of {args.migrations}, "
            "didChange to publishDiagnostics",
            "<= 30 ms",
            _at_most(0.030),
            [(s, float("nan")) for s in edits],
            squawk_note="no language server",
            unit="ms",
        )


def _figure(samples: list[Sample], unit: str, cpu: bool) -> str:
    wall = statistics.median(s[0] for s in samples)
    if unit == "ms":
        return f"{wall * 1000:.1f} ms"
    text = f"{wall:.3f} s"
    if cpu:
        text += f" (CPU {statistics.median(s[1] for s in samples):.3f})"
    return text


def render(rows: list[Row]) -> str:
    lines = [
        "| case | migcheck | squawk | goal | met? |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ours = statistics.median(s[0] for s in row.migcheck)
        theirs = statistics.median(s[0] for s in row.squawk) if row.squawk else None
        met = row.met(ours, theirs)
        verdict = "?" if met is None else ("yes" if met else "no")
        squawk = _figure(row.squawk, row.unit, False) if row.squawk else row.squawk_note
        mine = _figure(row.migcheck, row.unit, row.unit == "s")
        lines.append(f"| {row.case} | {mine} | {squawk} | {row.goal} | {verdict} |")
    return "\n".join(lines)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} (5 min {five:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--src", default=None, help="a source tree to put first on PYTHONPATH")
    ap.add_argument("--history", type=int, default=820)
    ap.add_argument("--big", type=int, default=2242)
    ap.add_argument("--revisions", type=int, default=500)
    ap.add_argument("--migrations", type=int, default=800)
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--skip", action="append", default=[], choices=["prisma", "alembic", "server"])
    args = ap.parse_args()
    before = _load()
    work = Path(tempfile.mkdtemp(prefix="migcheck-bench-table-"))
    try:
        bench = Bench(args, work)
        rows: list[Row] = []
        if "prisma" not in args.skip:
            rows += bench.prisma_rows()
        if "alembic" not in args.skip:
            rows += bench.alembic_rows()
        if "server" not in args.skip:
            rows.append(bench.server_row())
    finally:
        shutil.rmtree(work, ignore_errors=True)
    version = ""
    if bench.squawk:
        out = subprocess.run([bench.squawk, "--version"], capture_output=True, text=True)
        version = out.stdout.strip()
    print(
        f"median of {args.repeat} paired samples (server: of {args.edits} edits), wall clock of "
        f"whole processes; {os.cpu_count()} CPUs, load average {before} before, {_load()} "
        f"after; {version or 'no squawk'}; source: {args.src or 'this checkout'}"
    )
    print(render(rows))


if __name__ == "__main__":
    main()
