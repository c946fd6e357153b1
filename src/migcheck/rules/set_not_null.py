"""set-not-null: making an existing column NOT NULL while the running app may write NULL.

When the same SET NOT NULL also scans a table serving traffic, this finding says so too:
the steps that make the column required safely also remove the scan, so
set-not-null-scan leaves that statement to this rule (``rules/_not_null.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import blocks
from migcheck.rules._not_null import added_earlier, backfilled_at, breaks_writers, scan_reporter
from migcheck.rules._opcalls import add_column, execute, string, table_args


def _scan_sentence(stmt: Statement, op: Op, ctx: Context) -> str:
    """The scan this SET NOT NULL also does, as a closing sentence: on the first finding
    of the statement only, since PostgreSQL checks all its SET NOT NULLs in one scan."""
    if scan_reporter(stmt, op, ctx) is not op:
        return ""
    return (
        f" It also scans all of {qname(op.table)} for NULLs under an {ACCESS_EXCLUSIVE} lock, "
        f"which blocks {blocks(ACCESS_EXCLUSIVE)} until the scan ends."
    )


class SetNotNull(Rule):
    id = "set-not-null"
    category = "compatibility"
    severity = "error"
    summary = "SET NOT NULL on an existing column breaks the app version that still writes NULL"
    kinds = frozenset({"set_not_null"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        broken = breaks_writers(op, ctx)
        if broken == "added":
            yield self._new_column_finding(op, stmt, ctx)
        elif broken == "existing":
            yield self._existing_column_finding(op, stmt, ctx)

    def _existing_column_finding(self, op: Op, stmt: Statement, ctx: Context) -> Finding:
        col, t, c = qcol(op.table, op.column), qname(op.table), quote(op.column)
        name = f"{op.table}_{op.column}_not_null".replace(".", "_")
        check = quote(name)
        backfill = f"UPDATE {t} SET {c} = <value> WHERE {c} IS NULL AND <batch range>"
        add_check = f"ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID"
        validate = f"ALTER TABLE {t} VALIDATE CONSTRAINT {check}"
        set_nn = f"    ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;"
        drop = f"    ALTER TABLE {t} DROP CONSTRAINT {check};"
        if ctx.tool == "alembic":
            # SQL inside Python strings: quote identifiers only where PostgreSQL needs it.
            ts, cs, ks = ident(op.table), ident(op.column), ident(name)
            table, schema = table_args(op.table)
            column = string(op.column or "")
            backfill = (
                execute(f"UPDATE {ts} SET {cs} = <value> WHERE {cs} IS NULL AND <batch range>")
                + "  # in batches: see unbatched-backfill"
            )
            add_check = (
                f"    op.create_check_constraint({string(name)}, {table}, "
                f"{string(f'{cs} IS NOT NULL')}, postgresql_not_valid=True{schema})"
            )
            validate = execute(f"ALTER TABLE {ts} VALIDATE CONSTRAINT {ks}")
            set_nn = f"    op.alter_column({table}, {column}, nullable=False{schema})"
            drop = f"    op.drop_constraint({string(name)}, {table}{schema})"
        else:
            backfill, add_check, validate = (
                f"    {backfill};",
                f"    {add_check};",
                f"    {validate};",
            )
        steps = (
            "Make the column required in steps:\n"
            f"1. Ship app code that always writes {col}, and backfill the NULL rows:\n"
            f"{backfill}\n"
            "2. In a later deploy, add the constraint without scanning, then validate it "
            "(SHARE UPDATE EXCLUSIVE: reads and writes continue):\n"
            f"{add_check}\n"
            f"{validate}\n"
        )
        if ctx.pg_version >= 12:
            steps += (
                "3. Then set NOT NULL (PostgreSQL 12+ uses the validated check and skips the "
                "scan) and drop the redundant check:\n"
                f"{set_nn}\n"
                f"{drop}"
            )
        else:
            steps += (
                "3. Keep the check instead of SET NOT NULL: before PostgreSQL 12, SET NOT "
                "NULL scans the whole table under an ACCESS EXCLUSIVE lock even with the "
                "check in place."
            )
        backfill_line = backfilled_at(op, ctx)
        existing_nulls = (
            ", and this ALTER fails if any existing row holds NULL."
            if backfill_line is None
            else f"; the UPDATE at line {backfill_line} fills the NULLs already there, so this "
            "ALTER fails only if such a write lands between that UPDATE and this ALTER."
        )
        return self.finding(
            stmt,
            f"Setting {col} NOT NULL: the app version still running may insert or update it "
            f'with NULL and fails with null value in column "{op.column}" violates not-null '
            "constraint" + existing_nulls + _scan_sentence(stmt, op, ctx),
            steps,
            op,
        )

    def _new_column_finding(self, op: Op, stmt: Statement, ctx: Context) -> Finding:
        col, t, c = qcol(op.table, op.column), qname(op.table), quote(op.column)
        info = ctx.column(op.table, op.column) or added_earlier(op, ctx)
        typ = str(info.type) if info is not None and info.type is not None else "<type>"
        # SET DEFAULT before SET NOT NULL would still scan: ADD COLUMN ... NOT NULL DEFAULT
        # <constant> neither rewrites nor scans, while SET NOT NULL after it scans every
        # row (tests/live/test_live_locks.py), so the fix declares both at once.
        add = (
            add_column(
                op.table,
                op.column or "",
                info.type if info is not None else None,
                nullable=False,
                server_default="<value>",
            )
            if ctx.tool == "alembic"
            else f"    ALTER TABLE {t} ADD COLUMN {c} {typ} NOT NULL DEFAULT <value>;"
        )
        fix = (
            "Either declare the default and NOT NULL in the ADD COLUMN itself, so the old "
            "app's INSERTs get a value and PostgreSQL neither scans nor rewrites:\n"
            f"{add}\n"
        )
        return self.finding(
            stmt,
            f"Setting {col} NOT NULL, a column this migration adds to existing table {t}: "
            "the app version still running inserts rows without it and fails with null "
            f'value in column "{op.column}" violates not-null constraint until every '
            "instance is replaced." + _scan_sentence(stmt, op, ctx),
            fix + "or keep it nullable in this deploy, ship app code that always writes it, and "
            "set NOT NULL in a later deploy.",
            op,
        )
