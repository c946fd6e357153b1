"""set-not-null: making an existing column NOT NULL while the running app may write NULL."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules.drop_column import qcol, qname, quote


class SetNotNull(Rule):
    id = "set-not-null"
    category = "compatibility"
    severity = "error"
    summary = "SET NOT NULL on an existing column breaks the app version that still writes NULL"
    kinds = frozenset({"set_not_null"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.is_new_table(op.table) or ctx.is_new_column(op.table, op.column):
            return
        column = ctx.column(op.table, op.column)
        if column is not None and column.not_null:
            return  # already NOT NULL: Postgres does nothing
        # A validated CHECK (col IS NOT NULL) already rejects NULL writes and proves no row
        # holds one: this SET NOT NULL is the last step of the safe sequence.
        if ctx.schema.has_validated_not_null_check(op.table, op.column):
            return
        col, t, c = qcol(op.table, op.column), qname(op.table), quote(op.column)
        check = quote(f"{op.table}_{op.column}_not_null".replace(".", "_"))
        steps = (
            "Make the column required in steps:\n"
            f"1. Ship app code that always writes {col}, and backfill the NULL rows:\n"
            f"    UPDATE {t} SET {c} = <value> WHERE {c} IS NULL AND <batch range>;\n"
            "2. In a later deploy, add the constraint without scanning, then validate it "
            "(SHARE UPDATE EXCLUSIVE: reads and writes continue):\n"
            f"    ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n"
            f"    ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n"
        )
        if ctx.pg_version >= 12:
            steps += (
                "3. Then set NOT NULL (PostgreSQL 12+ uses the validated check and skips the "
                "scan) and drop the redundant check:\n"
                f"    ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
                f"    ALTER TABLE {t} DROP CONSTRAINT {check};"
            )
        else:
            steps += (
                "3. Keep the check instead of SET NOT NULL: before PostgreSQL 12, SET NOT "
                "NULL scans the whole table under an ACCESS EXCLUSIVE lock even with the "
                "check in place."
            )
        yield self.finding(
            stmt,
            f"Setting {col} NOT NULL: the app version still running may insert or update it "
            f'with NULL and fails with null value in column "{op.column}" violates not-null '
            "constraint, and this ALTER fails if any existing row holds NULL.",
            steps,
            op,
        )
