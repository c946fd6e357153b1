"""How lint time grows with the statements of one transaction.

    python bench/bench_scaling.py [--sizes 1000,3000] [--repeat 3]

Lints, through the engine API (no process start-up), a history whose first migration
creates the tables and whose second is ``BEGIN;`` + N × ``ALTER TABLE tK ADD COLUMN cN
int;`` + ``COMMIT;``, on one table and on a table per statement: every statement takes an
ACCESS EXCLUSIVE lock and none does slow work. With a lock per table, hold-exclusive-lock
used to look at every held lock and every earlier statement at every statement (cubic:
16-22 s for 1,000 statements, over 100 s for 3,000). Prints the median
time per size and each size's time ratio to the first: about N2/N1 is linear, its square
quadratic. Not part of the test suite: performance is measured here, never asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

# The parse cache would hide the parsing share of the time: keep it out of the way.
os.environ.setdefault("MIGCHECK_CACHE_DIR", tempfile.mkdtemp(prefix="migcheck-bench-"))

from migcheck.engine import Options, lint
from migcheck.sources import History, Migration


def transaction_sql(n: int, tables: int) -> str:
    body = "".join(f"ALTER TABLE t{i % tables} ADD COLUMN c{i} int;\n" for i in range(n))
    return f"BEGIN;\n{body}COMMIT;\n"


def history(n: int, tables: int) -> History:
    create = "".join(f"CREATE TABLE t{i} (id bigint PRIMARY KEY);\n" for i in range(tables))
    texts = [create, transaction_sql(n, tables)]
    migrations = [
        Migration(
            path=f"db/{i + 1:03d}.sql",
            key=f"{i + 1:03d}",
            tool="sql",
            runner_transaction=False,
            selected=i == 1,
            text=text,
        )
        for i, text in enumerate(texts)
    ]
    return History(root="db", tool="sql", migrations=migrations)


def time_lint(n: int, tables: int, repeat: int, rules: list[str] | None) -> float:
    times = []
    for _ in range(repeat):
        h = history(n, tables)  # a fresh history: the engine fills in per-run state
        start = time.perf_counter()
        lint([h], Options(rules=rules, changeset=False))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,3000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--rule", default=None, help="time one rule only (e.g. hold-exclusive-lock)"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rules = [args.rule] if args.rule else None
    time_lint(10, 10, 1, rules)  # warm up: imports and first-use caches are not scaling
    for shape in ("one table", "one table per statement"):
        print(f"ALTER TABLE ... ADD COLUMN, {shape}:")
        first: float | None = None
        for n in sizes:
            seconds = time_lint(n, 1 if shape == "one table" else n, args.repeat, rules)
            first = first or seconds
            print(
                f"{n:>8} statements: {seconds:8.3f} s   ratio to {sizes[0]}: {seconds / first:5.2f}"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
