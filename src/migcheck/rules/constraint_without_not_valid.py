"""constraint-without-not-valid: a FOREIGN KEY or CHECK added to a live table validates every
row while holding a lock that blocks writes (FK) or everything (CHECK)."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import (
    ACCESS_EXCLUSIVE,
    BLOCKS,
    SHARE_ROW_EXCLUSIVE,
    SHARE_UPDATE_EXCLUSIVE,
)
from migcheck.model import ColumnDef, Constraint, Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname, quote
from migcheck.rules import Rule
from migcheck.rules._locking import (
    adds_column,
    blocks,
    existing,
    indent,
    own_transaction_note,
)
from migcheck.schema import default_constraint_name


_WHAT = {"foreign_key": "foreign key", "check": "CHECK constraint", "not_null": "NOT NULL constraint"}


def inline_fk_validates(col: ColumnDef, siblings: list[Op]) -> bool:
    """``ADD COLUMN … REFERENCES`` skips the validation scan unless the column has a
    default or the same ALTER TABLE also adds a FOREIGN KEY constraint
    (``transformAlterTableStmt`` in parse_utilcmd.c: "If the column has a non-null default,
    we can't skip validation of foreign keys")."""
    if col.default is not None or col.generated is not None:
        return True
    return any(
        o.kind == "add_constraint"
        and o.constraint is not None
        and o.constraint.kind == "foreign_key"
        for o in siblings
    )


def _scans(con: Constraint | None, table: str, ctx: Context) -> bool:
    """Whether ADD CONSTRAINT checks every existing row: a FOREIGN KEY or CHECK without
    NOT VALID, and on PostgreSQL 18 a NOT NULL constraint (``ADD CONSTRAINT n NOT NULL
    col``) unless the column already is NOT NULL or a validated CHECK proves it (measured:
    the same scan and skip as SET NOT NULL)."""
    if con is None or con.not_valid:
        return False
    if con.kind == "not_null":
        column = con.columns[0] if con.columns else None
        col = ctx.column(table, column)
        return (
            ctx.pg_version >= 18
            and not (col is not None and col.not_null)
            and not ctx.schema.has_validated_not_null_check(table, column)
        )
    return con.kind in ("foreign_key", "check")


def _column_scans(con: Constraint, col: ColumnDef, stmt: Statement) -> bool:
    """Whether a constraint of a new column checks every existing row: a CHECK always, a
    REFERENCES only when the column has a value to check (see ``inline_fk_validates``)."""
    return con.kind == "check" or (con.kind == "foreign_key" and inline_fk_validates(col, stmt.ops))


def _constraint_sql(con: Constraint, name: str) -> str:
    text = " ".join(con.text.split())
    if con.name is None:
        text = f"CONSTRAINT {ident(name)} {text}"
    return text


def _add_column_sql(table: str, col: ColumnDef) -> str:
    """ADD COLUMN with the column's type, default and NOT NULL but no other constraint."""
    sql = f"ALTER TABLE {ident(table)} ADD COLUMN {ident(col.name)} {col.type or '…'}"
    if col.default is not None:
        sql += f" DEFAULT {col.default.text}"
    if col.not_null:
        sql += " NOT NULL"
    return sql + ";"


def _two_step(table: str, con: Constraint, name: str, ref: str | None) -> str:
    locks = f"{SHARE_UPDATE_EXCLUSIVE} on {qname(table)}" + (
        f" and ROW SHARE on {qname(ref)}" if ref else ""
    )
    return "\n".join(
        [
            "Add the constraint without checking existing rows (a brief lock; new rows are "
            "checked from now on), then validate it in a separate migration, which takes "
            f"only {locks} and lets reads and writes continue:",
            indent(f"ALTER TABLE {ident(table)} ADD {_constraint_sql(con, name)} NOT VALID;"),
            "    -- next migration (its own transaction):",
            indent(f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)};"),
        ]
    )


class ConstraintWithoutNotValid(Rule):
    id = "constraint-without-not-valid"
    category = "locking"
    severity = "error"
    summary = "FOREIGN KEY / CHECK without NOT VALID scans the table under a blocking lock"
    kinds = frozenset({"add_constraint", "add_column"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        t = op.table
        # A table created by this deploy is empty: validating it is instant, whatever lock
        # the referenced (existing) table gets.
        if t is None or not existing(ctx, t):
            return
        if op.kind == "add_constraint":
            con = op.constraint
            if con is None or not _scans(con, t, ctx):
                return
            finding = self._constraint(op, stmt, con, t)
            finding.help += own_transaction_note(ctx)
            yield finding
        elif adds_column(op, ctx):
            yield from self._column(op, stmt, t)

    def _constraint(self, op: Op, stmt: Statement, con: Constraint, t: str) -> Finding:
        name = con.name or default_constraint_name(t, con)
        if con.kind == "foreign_key":
            ref = con.ref_table or "?"
            message = (
                f"Adding foreign key {qname(name)} to existing table {qname(t)} without NOT VALID "
                f"checks every row of {qname(t)} while holding {SHARE_ROW_EXCLUSIVE} locks on "
                f"{qname(t)} and on the referenced table {qname(ref)} until the check ends; on both "
                f"tables that lock blocks {BLOCKS[SHARE_ROW_EXCLUSIVE]}."
            )
            return self.finding(stmt, message, _two_step(t, con, name, ref), op)
        what = f"CHECK constraint {qname(name)} to existing table {qname(t)}"
        if con.kind == "not_null":
            column = qcol(t, con.columns[0]) if con.columns else qname(t)
            what = f"NOT NULL constraint {qname(name)} on {column}"
        message = (
            f"Adding {what} without NOT VALID scans every row while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)} "
            "until the scan ends."
        )
        return self.finding(stmt, message, _two_step(t, con, name, None), op)

    def _column(self, op: Op, stmt: Statement, t: str) -> Iterator[Finding]:
        col = op.column_def
        assert col is not None
        for con in col.constraints:
            # Without a default every new value is NULL and PostgreSQL skips the validation
            # scan of a REFERENCES: only a brief SHARE ROW EXCLUSIVE on the referenced table.
            if not _column_scans(con, col, stmt):
                continue
            if con.kind == "foreign_key":
                ref = con.ref_table or "?"
                fk = Constraint(
                    "foreign_key",
                    None,
                    (col.name,),
                    con.ref_table,
                    con.ref_columns,
                    text=(
                        f"FOREIGN KEY ({ident(col.name)}) REFERENCES {ident(ref)}"
                        + (
                            f" ({', '.join(ident(c) for c in con.ref_columns)})"
                            if con.ref_columns
                            else ""
                        )
                        + (f" {con.text}" if con.text else "")
                    ),
                )
                name = con.name or default_constraint_name(t, fk)
                message = (
                    f"Adding column {qcol(t, col.name)} with a REFERENCES {qname(ref)} constraint and "
                    f"a default to existing table {qname(t)} validates the foreign key against every "
                    f"row while {qname(t)} is locked ({ACCESS_EXCLUSIVE}: "
                    f"{blocks(ACCESS_EXCLUSIVE)}) and {qname(ref)} holds a "
                    f"{SHARE_ROW_EXCLUSIVE} lock, which blocks {blocks(SHARE_ROW_EXCLUSIVE)}."
                )
                help_ = (
                    "Add the column without the foreign key first:\n"
                    + indent(_add_column_sql(t, col))
                    + "\n"
                    + _two_step(t, fk, name, ref)
                )
                yield self.finding(stmt, message, help_, op)
            else:
                name = con.name or default_constraint_name(
                    t, Constraint("check", None, (col.name,))
                )
                check = Constraint("check", con.name, (col.name,), text=f"CHECK ({con.text})")
                message = (
                    f"Adding column {qcol(t, col.name)} with a CHECK constraint to existing table "
                    f"{qname(t)} scans every row to check it while holding an {ACCESS_EXCLUSIVE} "
                    f"lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)}."
                )
                help_ = (
                    "Add the column without the CHECK first:\n"
                    + indent(_add_column_sql(t, col))
                    + "\n"
                    + _two_step(t, check, name, None)
                )
                yield self.finding(stmt, message, help_, op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        t = op.table
        if t is None or not existing(ctx, t):
            return None
        if op.kind == "add_constraint":
            con = op.constraint
            if con is None or not _scans(con, t, ctx):
                return None
            what = _WHAT[con.kind]
            if op.name:
                return f"validates {what} {qname(op.name)} by scanning {qname(t)}"
            return f"validates a new {what} by scanning {qname(t)}"
        col = op.column_def
        if col is None or not adds_column(op, ctx):
            return None
        con = next((c for c in col.constraints if _column_scans(c, col, stmt)), None)
        if con is None:
            return None
        if con.kind == "check":
            return f"scans {qname(t)} to check the new column {quote(col.name)}"
        return f"validates the foreign key of {quote(col.name)} by scanning {qname(t)}"
