"""Benchmark: render a generated 500-revision Alembic history and print the time.

Usage: python bench/bench_alembic.py [--revisions N] [--repeat R]

The history is written to a temporary directory: a base revision creating tables, then
revisions cycling through the operations real projects use (add/alter/drop columns,
indexes inside autocommit blocks, foreign keys, batch ops, raw SQL, helper functions,
application type imports). The figure includes importing Alembic and SQLAlchemy, which
happens once per process.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
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


def write_history(root: Path, count: int) -> Path:
    (root / "migrations" / "versions").mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text("from alembic import context\n")
    down = None
    for n in range(count):
        rev = f"{n:04d}{'ab' * 4}"
        template = BODIES[0] if n % 6 == 0 or n < 6 else BODIES[n % len(BODIES)]
        previous_table = (n // 6) * 6
        body = textwrap.indent(template.format(n=n, p=previous_table), "    ")
        text = HEADER.format(
            message=f"revision {n}", rev=rev, down=down or "", down_repr=repr(down), body=body
        )
        (root / "migrations" / "versions" / f"{rev}_revision_{n}.py").write_text(text)
        down = rev
    return root


def time_once(project: Path) -> tuple[float, float, int, int]:
    """Time one load in a fresh interpreter (so the Alembic import is counted)."""
    code = textwrap.dedent(
        f"""
        import time
        start, cpu_start = time.perf_counter(), time.process_time()
        from migcheck.sources.alembic import load_alembic
        histories, errors, notes = load_alembic({str(project)!r})
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        chunks = sum(len(m.chunks or []) for m in histories[0].migrations)
        print(elapsed, cpu, len(histories[0].migrations), chunks, len(errors))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed, cpu, migrations, chunks, errors = out.stdout.split()
    if int(errors):
        raise SystemExit(f"unexpected input errors: {errors}")
    return float(elapsed), float(cpu), int(migrations), int(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--revisions", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = write_history(Path(tmp), args.revisions)
        runs = [time_once(project) for _ in range(args.repeat)]
    times = [r[0] for r in runs]
    cpu = [r[1] for r in runs]
    _, _, migrations, chunks = runs[0]
    # CPU time is printed too: wall time is noisy on a shared machine.
    print(
        f"alembic: {migrations} revisions, {chunks} SQL chunks rendered in "
        f"{statistics.median(times):.2f} s wall, {statistics.median(cpu):.2f} s CPU "
        f"(median of {len(times)}; wall min {min(times):.2f} s, max {max(times):.2f} s)"
    )


if __name__ == "__main__":
    main()
