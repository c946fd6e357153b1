"""set-not-null: making an existing column NOT NULL while the running app may write NULL."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import ColumnDef, Finding, Op, Statement
from migcheck.quoting import qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._alembic import prior_column
from migcheck.schema import ColumnInfo


class SetNotNull(Rule):
    id = "set-not-null"
    category = "compatibility"
    severity = "error"
    summary = "SET NOT NULL on an existing column breaks the app version that still writes NULL"
    kinds = frozenset({"set_not_null"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if ctx.is_new_table(op.table):
            return
        column = ctx.column(op.table, op.column)
        if ctx.is_new_column(op.table, op.column):
            # ADD COLUMN, backfill, SET NOT NULL in one migration of an existing table: the
            # old app's INSERTs leave the column out, exactly like ADD COLUMN ... NOT NULL
            # without a default (add-required-column). A column added by another migration
            # of the deploy is contract-in-same-deploy's.
            if column is not None and self._added_here_without_default(column, ctx):
                yield self._new_column_finding(op, stmt)
            return
        if column is None:
            # The history never showed the table, so the model did not record the column
            # an earlier statement of this migration added: the same case as above.
            added = _added_earlier(op, ctx)
            if added is not None:
                if _fills_itself(added):
                    return
                yield self._new_column_finding(op, stmt)
                return
        prior = prior_column(ctx, op.table, op.column)
        if prior is not None and prior.not_null:
            return  # already NOT NULL (or so the Alembic revision says): Postgres does nothing
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

    @staticmethod
    def _added_here_without_default(column: ColumnInfo, ctx: Context) -> bool:
        has_default = column.default is not None and not column.default.is_null
        return (
            ctx.created_in_this_migration(column.origin)
            and not has_default
            and column.generated is None
            and not column.not_null
        )

    def _new_column_finding(self, op: Op, stmt: Statement) -> Finding:
        col, t, c = qcol(op.table, op.column), qname(op.table), quote(op.column)
        return self.finding(
            stmt,
            f"Setting {col} NOT NULL, a column this migration adds to existing table {t}: "
            "the app version still running inserts rows without it and fails with null "
            f'value in column "{op.column}" violates not-null constraint until every '
            "instance is replaced.",
            "Either give the column a default, so the old app's INSERTs get a value:\n"
            f"    ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT <value>;\n"
            "or keep it nullable in this deploy, ship app code that always writes it, and "
            "set NOT NULL in a later deploy.",
            op,
        )


def _added_earlier(op: Op, ctx: Context) -> ColumnDef | None:
    """The ``ADD COLUMN`` of ``op``'s column by an earlier statement of this migration."""
    for earlier in ctx.earlier_statements():
        for o in earlier.ops:
            cd = o.column_def
            if o.kind == "add_column" and o.table == op.table and cd and cd.name == op.column:
                return cd
    return None


def _fills_itself(cd: ColumnDef) -> bool:
    """A column the old app's INSERTs can leave out: it has a default or is generated."""
    has_default = cd.default is not None and not cd.default.is_null
    return has_default or cd.generated is not None or cd.not_null
