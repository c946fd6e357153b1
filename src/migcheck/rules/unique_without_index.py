"""unique-without-index: ADD UNIQUE / PRIMARY KEY / EXCLUDE on a live table builds the index
while holding ACCESS EXCLUSIVE."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Constraint, Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import (
    adds_column,
    blocks,
    existing,
    indent,
    outside_tx_advice,
)
from migcheck.rules._opcalls import add_column, autocommit, create_index, execute, paste, word
from migcheck.schema import default_constraint_name

_WORDS = {"unique": "UNIQUE", "primary_key": "PRIMARY KEY", "exclude": "EXCLUDE"}


def _builds(con: Constraint | None) -> bool:
    """Whether ADD CONSTRAINT builds an index (not one attached with USING INDEX)."""
    return con is not None and con.kind in _WORDS and not con.using_index


def _column_keys(op: Op, ctx: Context) -> list[Constraint]:
    """The UNIQUE and PRIMARY KEY constraints of the column ADD COLUMN really adds."""
    if op.column_def is None or not adds_column(op, ctx):
        return []
    return [c for c in op.column_def.constraints if c.kind in ("unique", "primary_key")]


class UniqueWithoutIndex(Rule):
    id = "unique-without-index"
    category = "locking"
    severity = "error"
    summary = "ADD UNIQUE / PRIMARY KEY builds its index under ACCESS EXCLUSIVE"
    kinds = frozenset({"add_constraint", "add_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t = op.table
        if t is None or not existing(ctx, t):
            return
        if op.kind == "add_constraint":
            con = op.constraint
            if con is None or not _builds(con):
                return
            yield self._finding(op, stmt, ctx, t, con, con.columns)
        else:
            for con in _column_keys(op, ctx):
                assert op.column_def is not None
                yield self._finding(op, stmt, ctx, t, con, (op.column_def.name,))

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        t = op.table
        if not existing(ctx, t):
            return None
        if op.kind == "add_constraint":
            con = op.constraint
            if con is None or not _builds(con):
                return None
            return (
                f"builds the index of a new {con.kind.replace('_', ' ')} constraint on {qname(t)}"
            )
        if not _column_keys(op, ctx):
            return None
        assert op.column_def is not None
        return f"builds an index on the new column {quote(op.column_def.name)}"

    def _finding(
        self,
        op: Op,
        stmt: Statement,
        ctx: Context,
        t: str,
        con: Constraint,
        columns: tuple[str, ...],
    ) -> Finding:
        word = _WORDS[con.kind]
        what = f"{word} constraint {qname(con.name)}" if con.name else f"a {word} constraint"
        where = f" on column {qname(columns[0])}" if op.kind == "add_column" and columns else ""
        nullable = _nullable(ctx, t, columns) if con.kind == "primary_key" else []
        message = (
            f"Adding {what}{where} to existing table {qname(t)} builds its index while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)} "
            "for the whole build."
        )
        if nullable:
            message += (
                f" It also makes {', '.join(qcol(t, c) for c in nullable)} NOT NULL, which "
                "takes a second full scan under the same lock and fails if any row holds NULL."
            )
        if con.kind == "exclude":
            help_ = (
                "An exclusion constraint cannot be attached to an index built beforehand, so "
                "there is no non-blocking form. Add it while the table is small or in a "
                "low-traffic window, with a short lock_timeout so it gives up instead of "
                "queueing traffic:\n"
                + paste(ctx, "SET lock_timeout = '5s';", f"ALTER TABLE {ident(t)} ADD {con.text};")
            )
            return self.finding(stmt, message, help_, op)
        info = ctx.table(t)
        if info is not None and info.partitioned and op.kind == "add_constraint":
            # Measured on 16 and 18: USING INDEX is refused on a partitioned table, and the
            # ADD builds the index on every partition under the parent's lock.
            help_ = (
                "A partitioned table has no non-blocking form: CREATE INDEX CONCURRENTLY "
                "cannot build an index on it, and ADD CONSTRAINT … USING INDEX fails with "
                "ALTER TABLE / ADD CONSTRAINT USING INDEX is not supported on partitioned "
                "tables. The ADD builds the index on every partition; run it while the "
                "partitions are small or in a low-traffic window, with a short lock_timeout "
                "so it gives up instead of queueing traffic:\n"
                + paste(ctx, "SET lock_timeout = '5s';", f"ALTER TABLE {ident(t)} ADD {con.text};")
            )
            return self.finding(stmt, message, help_, op)
        base = t.rsplit(".", 1)[-1]
        cols = ", ".join(ident(c) for c in columns) or "…"
        name = con.name or default_constraint_name(t, Constraint(con.kind, None, tuple(columns)))
        index = name if con.name else f"{base}_{'_'.join(columns)}_idx"
        lines = []
        if nullable and ctx.pg_version >= 12:
            lines += _not_null_steps(ctx, t, base, nullable)
        elif nullable:
            lines.append(
                f"PostgreSQL {ctx.pg_version} cannot skip the NOT NULL scan (a validated CHECK "
                "only helps from 12): attach the key in a low-traffic window with a short "
                "lock_timeout."
            )
        if op.kind == "add_column":
            col = op.column_def
            assert col is not None
            default = f" DEFAULT {col.default.text}" if col.default is not None else ""
            if ctx.tool == "alembic":
                server_default = col.default.text if col.default is not None else None
                add = add_column(t, col.name, col.type, server_default=server_default)
            else:
                add = indent(
                    f"ALTER TABLE {ident(t)} ADD COLUMN {ident(col.name)} "
                    f"{col.type or '…'}{default};"
                )
            lines += [
                "Add the column first, without the constraint:",
                add,
                "then build the index concurrently and attach it:",
            ]
        else:
            lines.append(
                "Build the unique index without blocking writes, then attach it (a brief "
                "ACCESS EXCLUSIVE, no scan):"
            )
        attach = (
            f"ALTER TABLE {ident(t)} ADD CONSTRAINT {ident(name)} {word} USING INDEX "
            f"{ident(index)};"
        )
        if ctx.tool == "alembic":
            # After the autocommit block the revision is in a transaction again, so the
            # brief ADD CONSTRAINT can follow in the same revision.
            lines += [
                autocommit([create_index(index, t, columns, unique=True)]),
                execute(attach),
            ]
        else:
            lines += [
                indent(f"CREATE UNIQUE INDEX CONCURRENTLY {ident(index)} ON {ident(t)} ({cols});"),
                outside_tx_advice(ctx),
                "    -- then, in the next migration:",
                indent(attach),
            ]
        if con.kind == "primary_key" and not nullable:
            lines.append(
                "PRIMARY KEY USING INDEX also makes its columns NOT NULL, which scans the "
                "table unless each column already is NOT NULL or, on PostgreSQL 12+, a "
                "validated CHECK (col IS NOT NULL) proves it."
            )
        return self.finding(stmt, message, "\n".join(lines), op)


def _nullable(ctx: Context, t: str, columns: tuple[str, ...]) -> list[str]:
    """Key columns of a new primary key that the history shows nullable and that no
    validated CHECK (col IS NOT NULL) proves (PostgreSQL 12+ skips the scan for those). A
    column ADD COLUMN adds is not in the schema yet, so it is never listed."""
    out = []
    for c in columns:
        col = ctx.column(t, c)
        if col is None or col.not_null:
            continue
        if ctx.pg_version >= 12 and ctx.schema.has_validated_not_null_check(t, c):
            continue
        out.append(c)
    return out


def _not_null_steps(ctx: Context, t: str, base: str, cols: list[str]) -> list[str]:
    """Prove the key columns hold no NULL before the primary key needs it: a CHECK added
    NOT VALID and validated (SHARE UPDATE EXCLUSIVE), which PostgreSQL 12+ uses to skip
    the NOT NULL scan of ADD PRIMARY KEY USING INDEX."""
    checks = [ident(f"{base}_{c}_not_null") for c in cols]
    return [
        "First prove the key columns hold no NULL without blocking traffic (backfill any "
        "NULLs before), so the primary key does not scan for them (PostgreSQL 12+):",
        paste(
            ctx,
            *(
                f"ALTER TABLE {ident(t)} ADD CONSTRAINT {chk} CHECK ({ident(c)} IS NOT NULL) "
                "NOT VALID;"
                for chk, c in zip(checks, cols, strict=True)
            ),
            f"-- next {word(ctx)} (SHARE UPDATE EXCLUSIVE: reads and writes continue):",
            *(f"ALTER TABLE {ident(t)} VALIDATE CONSTRAINT {chk};" for chk in checks),
        ),
        f"Then, in the next {word(ctx)}:",
    ]
