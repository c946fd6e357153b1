"""Benchmark of the live check on a generated 800-migration Prisma history.

Prints three figures against their goals:

* server start: the embedded PostgreSQL up and accepting connections, in a new cache
  (initdb included) and in a warm one;
* full replay: the first run, which replays all base migrations and caches the result
  as a template;
* cached re-run: a second run of a one-migration changeset, the base cloned from the
  cached template (server start and stop included).

Usage: ``python bench/bench_live.py [--migrations 800] [--pg-version 18] [--keep]``.
The cache lives in a temporary directory (``--keep`` leaves it for inspection).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from migcheck.sources import History, Migration

GOALS = {"server start": 2.0, "full replay": 30.0, "cached re-run": 3.0}


def _create_table(n: int, owner_table: int | None) -> str:
    owner = '    "ownerId" INTEGER,\n' if owner_table is not None else ""
    sql = (
        f"-- CreateEnum\n"
        f"CREATE TYPE \"Status{n}\" AS ENUM ('DRAFT', 'LIVE');\n\n"
        f"-- CreateTable\n"
        f'CREATE TABLE "Model{n}" (\n'
        f'    "id" SERIAL NOT NULL,\n'
        f'    "name" TEXT NOT NULL,\n'
        f'    "slug" VARCHAR(50) NOT NULL,\n'
        f'    "status" "Status{n}" NOT NULL DEFAULT \'DRAFT\',\n'
        f"{owner}"
        f'    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,\n'
        f'    "updatedAt" TIMESTAMP(3) NOT NULL,\n'
        f'    CONSTRAINT "Model{n}_pkey" PRIMARY KEY ("id")\n'
        f");\n\n"
        f"-- CreateIndex\n"
        f'CREATE UNIQUE INDEX "Model{n}_slug_key" ON "Model{n}"("slug");\n'
    )
    if owner_table is not None:
        sql += (
            f"\n-- AddForeignKey\n"
            f'ALTER TABLE "Model{n}" ADD CONSTRAINT "Model{n}_ownerId_fkey" FOREIGN KEY '
            f'("ownerId") REFERENCES "Model{owner_table}"("id") '
            f"ON DELETE SET NULL ON UPDATE CASCADE;\n"
        )
    return sql


def _alter(n: int, table: int) -> str:
    kind = n % 4
    if kind == 1:
        return f'-- AlterTable\nALTER TABLE "Model{table}" ADD COLUMN "extra{n}" TEXT;\n'
    if kind == 2:
        return (
            f"-- CreateIndex\n"
            f'CREATE INDEX "Model{table}_createdAt_{n}_idx" ON "Model{table}"("createdAt");\n'
        )
    return f"-- AlterEnum\nALTER TYPE \"Status{table}\" ADD VALUE 'V{n}';\n"


def generate(root: Path, count: int) -> History:
    """A Prisma migrations folder of ``count`` migrations; the last is the changeset."""
    migrations = root / "prisma" / "migrations"
    history = History(root=str(migrations), tool="prisma")
    tables: list[int] = []
    for n in range(count - 1):
        if n % 4 == 0:
            text = _create_table(n, tables[len(tables) // 2] if tables else None)
            tables.append(n)
        else:
            text = _alter(n, tables[(n * 7) % len(tables)])
        history.migrations.append(_write(migrations, n, text, selected=False))
    change = 'ALTER TABLE "Model0" ADD COLUMN "flag" BOOLEAN NOT NULL DEFAULT false;\n'
    change += 'CREATE INDEX "Model0_flag_idx" ON "Model0"("flag");\n'
    history.migrations.append(_write(migrations, count - 1, change, selected=True))
    return history


def _write(migrations: Path, n: int, text: str, *, selected: bool) -> Migration:
    folder = migrations / f"2024{n:010d}_step_{n}"
    folder.mkdir(parents=True)
    path = folder / "migration.sql"
    path.write_text(text)
    return Migration(
        path=str(path),
        key=folder.name,
        tool="prisma",
        selected=selected,
        text=text,
        notes={"implicit_transaction": True},
    )


def _server_start(pg_version: int | None, cache: str) -> float:
    from migcheck.live.cluster import ClusterServer
    from migcheck.live.server import choose_embedded

    started = time.perf_counter()
    server = ClusterServer(
        choose_embedded(pg_version), kind="embedded", statement_timeout_s=60, root=Path(cache)
    )
    elapsed = time.perf_counter() - started
    server.close()
    return elapsed


def _compare_dump_restore(pg_version: int | None, cache: str) -> tuple[float, float, float]:
    """(clone, dump, restore) seconds for the cached template: the alternative to a
    persistent cluster is a dump kept on disk and restored into a fresh server."""
    import subprocess

    from migcheck.live.cluster import ClusterServer
    from migcheck.live.server import choose_embedded

    bin_dir = choose_embedded(pg_version)
    server = ClusterServer(bin_dir, kind="embedded", statement_timeout_s=300, root=Path(cache))
    try:
        template = next(name for name in server.databases() if "_tmpl_" in name)
        started = time.perf_counter()
        server.create_database("migcheck_bench_clone", template=template)
        clone = time.perf_counter() - started
        dump = Path(cache) / "base.dump"
        started = time.perf_counter()
        subprocess.run(
            [str(bin_dir / "pg_dump"), "-Fc", "-f", str(dump), server.conninfo(template)],
            check=True,
        )
        dumped = time.perf_counter() - started
        server.create_database("migcheck_bench_restore")
        started = time.perf_counter()
        subprocess.run(
            [
                str(bin_dir / "pg_restore"),
                "--single-transaction",
                "-d",
                server.conninfo("migcheck_bench_restore"),
                str(dump),
            ],
            check=True,
        )
        restored = time.perf_counter() - started
        return clone, dumped, restored
    finally:
        server.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=800)
    parser.add_argument("--pg-version", type=int, default=None)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    from migcheck.live import run_live

    work = Path(tempfile.mkdtemp(prefix="migcheck-bench-"))
    cache = work / "cache"
    cache.mkdir()
    os.chmod(work, 0o711)
    os.chmod(cache, 0o711)  # reachable by the server's user when we run as root
    try:
        history = generate(work, args.migrations)
        queries = work / "old.sql"
        queries.write_text('SELECT "id", "name", "slug" FROM "Model0" WHERE "id" = $1;\n')

        cold = _server_start(args.pg_version, str(cache))
        warm = _server_start(args.pg_version, str(cache))

        started = time.perf_counter()
        first = run_live(
            [history], old_queries=[str(queries)], cache_dir=str(cache), pg_version=args.pg_version
        )
        first_total = time.perf_counter() - started
        base = first.histories[0]
        if base.failure is not None:
            print(f"replay failed: {base.failure.path}:{base.failure.line}: {base.failure.message}")
            return 1
        replay = base.timings.get("base", 0.0)

        started = time.perf_counter()
        second = run_live(
            [history], old_queries=[str(queries)], cache_dir=str(cache), pg_version=args.pg_version
        )
        rerun = time.perf_counter() - started
        again = second.histories[0]
        assert again.template is not None and again.template.cached

        version = first.server.version if first.server else "?"
        print(f"PostgreSQL {version}, {args.migrations} Prisma migrations, 1-migration changeset")
        figures = {"server start": warm, "full replay": replay, "cached re-run": rerun}
        replayed = base.template.replayed if base.template else 0
        for name, value in figures.items():
            verdict = "ok" if value < GOALS[name] else "SLOW"
            print(f"  {name:<14} {value:7.2f} s   (goal < {GOALS[name]:.0f} s) {verdict}")
        print(
            f"  {'':<14} cold start with initdb {cold:.2f} s; first run in all "
            f"{first_total:.2f} s ({replayed} migrations replayed)"
        )
        print(
            "  cached re-run phases: "
            + ", ".join(f"{k} {v:.2f} s" for k, v in again.timings.items())
            + f"; server start {second.timings.get('server_start', 0):.2f} s"
        )
        clone, dumped, restored = _compare_dump_restore(args.pg_version, str(cache))
        print(
            f"  template clone {clone:.2f} s; the dump/restore alternative: "
            f"pg_dump {dumped:.2f} s, pg_restore {restored:.2f} s"
        )
        return 0
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
