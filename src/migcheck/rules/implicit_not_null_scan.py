"""implicit-not-null-scan: a NOT NULL that PostgreSQL sets or re-checks on its own scans the
table under ACCESS EXCLUSIVE: PRIMARY KEY USING INDEX on a nullable column, and SET NOT
NULL in the ALTER TABLE that drops the CHECK which would have let it skip the scan."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname
from migcheck.rules import Rule
from migcheck.rules._locking import blocks, existing
from migcheck.rules._opcalls import paste, word


def _set_in_statement(stmt: Statement, table: str | None) -> set[str]:
    """Columns the same ALTER TABLE sets NOT NULL explicitly (set-not-null-scan's case)."""
    return {
        o.column for o in stmt.ops if o.kind == "set_not_null" and o.table == table and o.column
    }


def nullable_key_columns(op: Op, stmt: Statement, ctx: Context) -> list[str]:
    """The columns of a PRIMARY KEY USING INDEX that PostgreSQL must scan for NULLs: known
    nullable, not proven by a validated CHECK (col IS NOT NULL) on 12+, not set NOT NULL
    by the same statement. Columns the history never showed are left out: a claim about
    them could be false."""
    con = op.constraint
    if con is None or con.kind != "primary_key" or not con.using_index:
        return []
    index = ctx.schema.index(con.using_index, op.table)
    if index is None:
        return []
    explicit = _set_in_statement(stmt, op.table)
    out = []
    for c in index.columns:
        col = ctx.column(op.table, c)
        if col is None or col.not_null or c in explicit:
            continue
        if ctx.pg_version >= 12 and ctx.schema.has_validated_not_null_check(op.table, c):
            continue
        out.append(c)
    return out


def check_dropped_with(op: Op, stmt: Statement, ctx: Context) -> str | None:
    """The validated CHECK (col IS NOT NULL) that this SET NOT NULL would use to skip its
    scan, when the same ALTER TABLE drops it: PostgreSQL runs the drops first (pass
    AT_PASS_DROP), so the check is gone when NOT NULL is verified."""
    if ctx.pg_version < 12 or not existing(ctx, op.table):
        return None
    col = ctx.column(op.table, op.column)
    if col is not None and col.not_null:
        return None
    dropped = {o.name for o in stmt.ops if o.kind == "drop_constraint" and o.table == op.table}
    proving = [
        c.name
        for c in ctx.schema.constraints_on(op.table)
        if c.kind == "check" and c.validated and c.not_null_column == op.column
    ]
    # Another proving check that stays keeps the scan away.
    if not proving or any(name not in dropped for name in proving):
        return None
    return proving[0]


class ImplicitNotNullScan(Rule):
    id = "implicit-not-null-scan"
    category = "locking"
    severity = "warning"
    summary = "PRIMARY KEY USING INDEX on a nullable column, or SET NOT NULL with its CHECK dropped in the same ALTER, scans under ACCESS EXCLUSIVE"
    kinds = frozenset({"add_constraint", "set_not_null"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t = op.table
        if op.kind == "set_not_null":
            name = check_dropped_with(op, stmt, ctx)
            if name is not None:
                yield self._dropped_check(op, stmt, ctx, t, name)
            return
        if not existing(ctx, t):
            return
        cols = nullable_key_columns(op, stmt, ctx)
        if cols:
            yield self._primary_key(op, stmt, ctx, t, cols)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if op.kind == "set_not_null":
            if check_dropped_with(op, stmt, ctx) is None:
                return None
            return f"scans {qname(op.table)} for NULLs in {qcol(op.table, op.column)}"
        if not existing(ctx, op.table):
            return None
        cols = nullable_key_columns(op, stmt, ctx)
        if not cols:
            return None
        return f"scans {qname(op.table)} for NULLs in the new primary key's columns"

    def _primary_key(
        self, op: Op, stmt: Statement, ctx: Context, t: str | None, cols: list[str]
    ) -> Finding:
        con = op.constraint
        assert con is not None
        names = ", ".join(qcol(t, c) for c in cols)
        message = (
            f"ADD PRIMARY KEY USING INDEX {qname(con.using_index)} makes {names} NOT NULL, "
            f"which PostgreSQL checks by scanning the whole table while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)} (blocking {blocks(ACCESS_EXCLUSIVE)}); "
            "the ALTER fails if any row holds NULL there."
        )
        if ctx.pg_version < 12:
            help_ = (
                f"PostgreSQL {ctx.pg_version} cannot skip this scan. Backfill the NULLs, then "
                "run it in a low-traffic window with a short lock_timeout:\n"
                + paste(ctx, "SET lock_timeout = '5s';", f"{' '.join(stmt.text.split())}")
            )
            return self.finding(stmt, message, help_, op)
        base = (t or "").rsplit(".", 1)[-1]
        steps = []
        for c in cols:
            check = ident(f"{base}_{c}_not_null")
            steps.append(
                f"ALTER TABLE {ident(t)} ADD CONSTRAINT {check} CHECK ({ident(c)} IS NOT NULL) "
                "NOT VALID;"
            )
        steps.append(f"-- next {word(ctx)} (SHARE UPDATE EXCLUSIVE: reads and writes continue):")
        for c in cols:
            steps.append(
                f"ALTER TABLE {ident(t)} VALIDATE CONSTRAINT {ident(f'{base}_{c}_not_null')};"
            )
        steps.append(f"-- next {word(ctx)} (no scan: the validated CHECK proves it):")
        steps.append(" ".join(stmt.text.strip().rstrip(";").split()) + ";")
        steps += [
            f"ALTER TABLE {ident(t)} DROP CONSTRAINT {ident(f'{base}_{c}_not_null')};" for c in cols
        ]
        help_ = (
            "Backfill the NULLs, then prove there are none without blocking traffic, so the "
            "primary key skips its scan (PostgreSQL 12+):\n" + paste(ctx, *steps)
        )
        return self.finding(stmt, message, help_, op)

    def _dropped_check(
        self, op: Op, stmt: Statement, ctx: Context, t: str | None, check: str
    ) -> Finding:
        message = (
            f"SET NOT NULL on {qcol(t, op.column)} scans the whole table while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)} (blocking {blocks(ACCESS_EXCLUSIVE)}): the "
            f"same ALTER TABLE drops CHECK {qname(check)}, and PostgreSQL runs the drop first, "
            "so the check can no longer prove the column has no NULLs."
        )
        help_ = (
            "Set NOT NULL while the check still exists, and drop the check in a separate statement:\n"
            + paste(
                ctx,
                f"ALTER TABLE {ident(t)} ALTER COLUMN {ident(op.column)} SET NOT NULL;",
                f"ALTER TABLE {ident(t)} DROP CONSTRAINT {ident(check)};",
            )
        )
        return self.finding(stmt, message, help_, op)
