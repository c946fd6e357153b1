"""Benchmark: lint a generated 500-revision Alembic history the way a user runs migcheck.

Usage: python bench/bench_alembic.py [--revisions N] [--repeat R] [--src DIR]

Every figure is the wall-clock time of a whole ``python -m migcheck <project>`` process
(interpreter start, imports, loading, rendering, linting, printing), the median of R
runs. The scenarios are the ones issue 4 sets goals for:

* full history, empty cache: the first run (a fresh checkout, a new migcheck or Alembic
  version); goal under 3 s on 2 cores;
* full history, warm cache: nothing changed since the last run;
* one new revision on a warm cache: one revision was added to a 500-revision project
  (it alone is rendered, by migcheck's static model of Alembic: neither Alembic nor
  SQLAlchemy is imported); goal under 300 ms (issue 16's table);
* full history with ``MIGCHECK_NO_CACHE=1``, for reference.

The history is written to a temporary directory: a base revision creating tables, then
revisions cycling through the operations real projects use (add/alter/drop columns,
indexes inside autocommit blocks, foreign keys, batch ops, raw SQL, helper functions,
application type imports). Python bytecode goes to a temporary ``PYTHONPYCACHEPREFIX``
and one untimed run compiles it first, so the timed runs read ``.pyc`` files as an
installed migcheck does (even when ``PYTHONDONTWRITEBYTECODE`` is set). CPU time (user +
system of the process) is printed beside each figure: wall time is noisy on a shared
machine, and the load average is printed so a reader can tell. ``--src`` measures
another source tree (for example an export of the previous commit) with the same
interpreter and dependencies.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

HEADER = '''"""{message}

Revision ID: {rev}
Revises: {down}
Create Date: 2024-01-01 00:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from acme.db.types import GUID

revision: str = "{rev}"
down_revision: Union[str, None] = {down_repr}
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _audit_columns(table):
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
{body}


def downgrade() -> None:
    pass
'''

BODIES = [
    """op.create_table(
    "t{n}",
    sa.Column("id", GUID(), primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("data", postgresql.JSONB(), nullable=True),
    *_audit_columns("t{n}"),
)
op.create_index(op.f("ix_t{n}_name"), "t{n}", ["name"])""",
    """op.add_column("t{p}", sa.Column("c{n}", sa.Integer(), nullable=True))
op.add_column("t{p}", sa.Column("d{n}", sa.String(20), server_default="x", nullable=False))""",
    """with op.get_context().autocommit_block():
    op.create_index("ix_t{p}_c{n}", "t{p}", ["name"], postgresql_concurrently=True)""",
    """op.alter_column("t{p}", "name", existing_type=sa.String(100), nullable=True)
op.alter_column("t{p}", "name", new_column_name="name_{n}")""",
    """with op.batch_alter_table("t{p}") as batch_op:
    batch_op.add_column(sa.Column("e{n}", sa.Boolean(), nullable=True))
    batch_op.create_foreign_key("fk_t{p}_{n}", "t0", ["id"], ["id"])""",
    """op.execute(\"\"\"
    UPDATE t{p} SET name = 'x' WHERE id IS NULL;
    CREATE VIEW v{n} AS SELECT * FROM t{p};
\"\"\")
for table in ["t{p}", "t0"]:
    op.execute(f"COMMENT ON TABLE {{table}} IS 'rev {n}'")""",
]

# The revision a developer adds on top (each timed run adds a different one, so it is
# never in the cache).
NEW_BODY = """op.add_column("t0", sa.Column("new_{k}", sa.String(40), nullable=True))
with op.get_context().autocommit_block():
    op.create_index("ix_t0_new_{k}", "t0", ["new_{k}"], postgresql_concurrently=True)"""


def _rev_id(n: int) -> str:
    return f"{n:04d}{'ab' * 4}"


def _revision_text(rev: str, down: str | None, message: str, body: str) -> str:
    return HEADER.format(
        message=message,
        rev=rev,
        down=down or "",
        down_repr=repr(down),
        body=textwrap.indent(body, "    "),
    )


def write_history(root: Path, count: int) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("from alembic import context\n")
    down = None
    for n in range(count):
        rev = _rev_id(n)
        template = BODIES[0] if n % 6 == 0 or n < 6 else BODIES[n % len(BODIES)]
        previous_table = (n // 6) * 6
        body = template.format(n=n, p=previous_table)
        text = _revision_text(rev, down, f"revision {n}", body)
        (root / "migrations" / "versions" / f"{rev}_revision_{n}.py").write_text(text)
        down = rev
    return root


class Runner:
    """Runs ``python -m migcheck`` on one project with a controlled environment."""

    def __init__(self, project: Path, scratch: Path, src: Path | None) -> None:
        self.project = project
        self.scratch = scratch
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGCHECK_")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
        if src is not None:
            env["PYTHONPATH"] = str(src)
        self.env = env

    def run(self, cache: Path | None, target: Path | None = None) -> tuple[float, float, str]:
        """(wall seconds, CPU seconds, stdout) of one process linting ``target`` (by
        default the project); ``cache`` None disables it."""
        env = dict(self.env)
        if cache is None:
            env["MIGCHECK_NO_CACHE"] = "1"
        else:
            env["MIGCHECK_CACHE_DIR"] = str(cache)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "migcheck", str(target or self.project)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if out.returncode not in (0, 1):  # 1: findings, as intended
            raise SystemExit(f"migcheck failed ({out.returncode}):\n{out.stderr}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        return wall, cpu, out.stdout


def measure(repeat: int, once: Callable[[int], tuple[float, float, str]]) -> dict[str, float]:
    runs = [once(i) for i in range(repeat)]
    walls = [r[0] for r in runs]
    return {
        "wall": statistics.median(walls),
        "cpu": statistics.median(r[1] for r in runs),
        "min": min(walls),
        "max": max(walls),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--src", type=Path, help="a source tree to put first on PYTHONPATH")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        project = write_history(scratch / "project", args.revisions)
        versions = project / "migrations" / "versions"
        runner = Runner(project, scratch, args.src.resolve() if args.src else None)
        runner.run(None)  # compiles bytecode; not timed

        def cold(i: int) -> tuple[float, float, str]:
            return runner.run(scratch / f"cold-cache-{i}")

        warm_cache = scratch / "warm-cache"
        reference = runner.run(warm_cache)[2]  # fills the cache; not timed

        def warm(i: int) -> tuple[float, float, str]:
            result = runner.run(warm_cache)
            if result[2] != reference:
                raise SystemExit("a warm-cache run printed something else than the cold run")
            return result

        def one_new(i: int) -> tuple[float, float, str]:
            rev = f"new{i:03d}{os.getpid()}"
            path = versions / f"{rev}_new.py"
            body = NEW_BODY.format(k=f"{i}_{os.getpid()}")
            path.write_text(_revision_text(rev, _rev_id(args.revisions - 1), "new", body))
            try:
                return runner.run(warm_cache)
            finally:
                path.unlink()

        def uncached(i: int) -> tuple[float, float, str]:
            return runner.run(None)

        rows = [
            ("full history, empty cache (first run)", measure(args.repeat, cold), "goal < 3 s"),
            ("full history, warm cache", measure(args.repeat, warm), ""),
            ("one new revision, warm cache", measure(args.repeat, one_new), "goal < 0.3 s"),
            ("full history, MIGCHECK_NO_CACHE=1", measure(args.repeat, uncached), ""),
        ]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"alembic: {args.revisions} revisions, `python -m migcheck <project>` wall clock, "
        f"median of {args.repeat} (CPU {os.cpu_count()}, load average {load:.1f})"
    )
    for label, m, goal in rows:
        print(
            f"  {label:<40} {m['wall']:6.2f} s wall  (CPU {m['cpu']:.2f} s; "
            f"wall min {m['min']:.2f}, max {m['max']:.2f})  {goal}".rstrip()
        )


if __name__ == "__main__":
    main()
