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
from migcheck.rules import Rule
from migcheck.rules._locking import (
    adds_column,
    blocks,
    existing,
    ident,
    indent,
    inline_fk_validates,
    own_transaction_note,
    q,
    qc,
)
from migcheck.schema import default_constraint_name


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
    locks = f"{SHARE_UPDATE_EXCLUSIVE} on {q(table)}" + (
        f" and ROW SHARE on {q(ref)}" if ref else ""
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
            if con is None or con.kind not in ("foreign_key", "check") or con.not_valid:
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
                f"Adding foreign key {q(name)} to existing table {q(t)} without NOT VALID "
                f"checks every row of {q(t)} while holding {SHARE_ROW_EXCLUSIVE} locks on "
                f"{q(t)} and on the referenced table {q(ref)} until the check ends; on both "
                f"tables that lock blocks {BLOCKS[SHARE_ROW_EXCLUSIVE]}."
            )
            return self.finding(stmt, message, _two_step(t, con, name, ref), op)
        message = (
            f"Adding CHECK constraint {q(name)} to existing table {q(t)} without NOT VALID "
            f"scans every row while holding an {ACCESS_EXCLUSIVE} lock on {q(t)}, which "
            f"blocks {blocks(ACCESS_EXCLUSIVE)} until the scan ends."
        )
        return self.finding(stmt, message, _two_step(t, con, name, None), op)

    def _column(self, op: Op, stmt: Statement, t: str) -> Iterator[Finding]:
        col = op.column_def
        assert col is not None
        for con in col.constraints:
            if con.kind == "foreign_key":
                # Without a default every new value is NULL and PostgreSQL skips the
                # validation scan: only a brief SHARE ROW EXCLUSIVE on the referenced table.
                if not inline_fk_validates(col, stmt.ops):
                    continue
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
                    f"Adding column {qc(t, col.name)} with a REFERENCES {q(ref)} constraint and "
                    f"a default to existing table {q(t)} validates the foreign key against every "
                    f"row while {q(t)} is locked ({ACCESS_EXCLUSIVE}: "
                    f"{blocks(ACCESS_EXCLUSIVE)}) and {q(ref)} holds a "
                    f"{SHARE_ROW_EXCLUSIVE} lock, which blocks {blocks(SHARE_ROW_EXCLUSIVE)}."
                )
                help_ = (
                    "Add the column without the foreign key first:\n"
                    + indent(_add_column_sql(t, col))
                    + "\n"
                    + _two_step(t, fk, name, ref)
                )
                yield self.finding(stmt, message, help_, op)
            elif con.kind == "check":
                name = con.name or default_constraint_name(
                    t, Constraint("check", None, (col.name,))
                )
                check = Constraint("check", con.name, (col.name,), text=f"CHECK ({con.text})")
                message = (
                    f"Adding column {qc(t, col.name)} with a CHECK constraint to existing table "
                    f"{q(t)} scans every row to check it while holding an {ACCESS_EXCLUSIVE} "
                    f"lock on {q(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)}."
                )
                help_ = (
                    "Add the column without the CHECK first:\n"
                    + indent(_add_column_sql(t, col))
                    + "\n"
                    + _two_step(t, check, name, None)
                )
                yield self.finding(stmt, message, help_, op)
