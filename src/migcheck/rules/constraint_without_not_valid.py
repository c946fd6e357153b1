"""constraint-without-not-valid: a FOREIGN KEY or CHECK added to a live table validates every
row while holding a lock that blocks writes (FK) or everything (CHECK)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
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
from migcheck.rules._opcalls import add_column, execute, string, table_args
from migcheck.schema import default_constraint_name

_WHAT = {
    "foreign_key": "foreign key",
    "check": "CHECK constraint",
    "not_null": "NOT NULL constraint",
}


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


def _checks_scanned(stmt: Statement, table: str, ctx: Context) -> list[Op]:
    """The ADD CONSTRAINT … CHECK ops of ``stmt`` on ``table`` that check existing rows."""
    return [
        o
        for o in stmt.ops
        if o.kind == "add_constraint"
        and o.table == table
        and o.constraint is not None
        and o.constraint.kind == "check"
        and _scans(o.constraint, table, ctx)
    ]


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


_CHECK = lazy(r"^(?:CONSTRAINT\s+(?:\"(?:[^\"]|\"\")+\"|\S+)\s+)?CHECK\s*\((.*)\)$", re.I | re.S)
# What follows REFERENCES t (cols) that create_foreign_key takes as keywords.
_ACTION = r"(CASCADE|RESTRICT|NO\s+ACTION|SET\s+NULL|SET\s+DEFAULT)"
_FK_TAIL = lazy(rf"^(?:\s*ON\s+(DELETE|UPDATE)\s+{_ACTION})*\s*$", re.I)
_FK_ACTION = lazy(rf"ON\s+(DELETE|UPDATE)\s+{_ACTION}", re.I)


def _add_not_valid(table: str, con: Constraint, name: str) -> str:
    """The op call that adds ``con`` NOT VALID to an Alembic revision: create_check_constraint
    or create_foreign_key with ``postgresql_not_valid=True`` (SQLAlchemy 1.4.32+), and
    ``op.execute`` of the SQL when the constraint says more than those calls take."""
    sql = f"ALTER TABLE {ident(table)} ADD {_constraint_sql(con, name)} NOT VALID"
    tname, schema = table_args(table)
    text = " ".join(con.text.split())
    if con.kind == "check":
        m = _CHECK.match(text)
        if m is None:
            return execute(sql)
        return (
            f"    op.create_check_constraint({string(name)}, {tname}, {string(m.group(1))}, "
            f"postgresql_not_valid=True{schema})"
        )
    # REFERENCES t (cols) <tail>: the referenced columns are the first parenthesis.
    _, closed, tail = text.partition("REFERENCES")[2].partition(")")
    if (
        con.kind != "foreign_key"
        or not con.ref_table
        or not con.ref_columns
        or not con.columns
        or not closed
        or not _FK_TAIL.match(tail)
    ):
        return execute(sql)
    rname, rschema = table_args(con.ref_table)
    actions = "".join(
        f", on{kind.lower()}={string(' '.join(action.upper().split()))}"
        for kind, action in _FK_ACTION.findall(tail)
    )
    schemas = (f", source_{schema[2:]}" if schema else "") + (
        f", referent_{rschema[2:]}" if rschema else ""
    )
    cols = ", ".join(string(c) for c in con.columns)
    refs = ", ".join(string(c) for c in con.ref_columns)
    return (
        f"    op.create_foreign_key({string(name)}, {tname}, {rname}, [{cols}], [{refs}]"
        f"{actions}, postgresql_not_valid=True{schemas})"
    )


def _add_column(table: str, col: ColumnDef, alembic: bool) -> str:
    """The column without its constraints, as SQL or as an op.add_column call."""
    if not alembic:
        return indent(_add_column_sql(table, col))
    default = col.default.text if col.default is not None else None
    return add_column(table, col.name, col.type, nullable=not col.not_null, server_default=default)


def _two_step(table: str, con: Constraint, name: str, ref: str | None, alembic: bool) -> str:
    locks = f"{SHARE_UPDATE_EXCLUSIVE} on {qname(table)}" + (
        f" and ROW SHARE on {qname(ref)}" if ref else ""
    )
    validate = f"ALTER TABLE {ident(table)} VALIDATE CONSTRAINT {ident(name)}"
    if alembic:
        steps = [
            _add_not_valid(table, con, name),
            "    # next revision (its own transaction):",
            execute(validate),
        ]
    else:
        steps = [
            indent(f"ALTER TABLE {ident(table)} ADD {_constraint_sql(con, name)} NOT VALID;"),
            "    -- next migration (its own transaction):",
            indent(f"{validate};"),
        ]
    return "\n".join(
        [
            "Add the constraint without checking existing rows (a brief lock; new rows are "
            "checked from now on), then validate it in a separate migration, which takes "
            f"only {locks} and lets reads and writes continue:",
            *steps,
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
            # PostgreSQL checks every CHECK one ALTER TABLE adds in a single pass over the
            # table, so they are one finding, on the first, naming the others (each foreign
            # key runs its own validation query, so each keeps its finding).
            checks = _checks_scanned(stmt, t, ctx) if con.kind == "check" else []
            if checks and checks[0] is not op:
                return
            finding = self._constraint(op, stmt, con, t, ctx.tool == "alembic")
            others = [
                qname(o.constraint.name or default_constraint_name(t, o.constraint))
                for o in checks[1:]
                if o.constraint is not None
            ]
            if others:
                finding.message += f" The same scan also checks {', '.join(others)}."
                finding.help += f"\nAdd {', '.join(others)} NOT VALID the same way."
            finding.help += own_transaction_note(ctx)
            yield finding
        elif adds_column(op, ctx):
            yield from self._column(op, stmt, t, ctx.tool == "alembic")

    def _constraint(
        self, op: Op, stmt: Statement, con: Constraint, t: str, alembic: bool
    ) -> Finding:
        name = con.name or default_constraint_name(t, con)
        if con.kind == "foreign_key":
            ref = con.ref_table or "?"
            message = (
                f"Adding foreign key {qname(name)} to existing table {qname(t)} without NOT VALID "
                f"checks every row of {qname(t)} while holding {SHARE_ROW_EXCLUSIVE} locks on "
                f"{qname(t)} and on the referenced table {qname(ref)} until the check ends; on both "
                f"tables that lock blocks {BLOCKS[SHARE_ROW_EXCLUSIVE]}."
            )
            return self.finding(stmt, message, _two_step(t, con, name, ref, alembic), op)
        what = f"CHECK constraint {qname(name)} to existing table {qname(t)}"
        if con.kind == "not_null":
            column = qcol(t, con.columns[0]) if con.columns else qname(t)
            what = f"NOT NULL constraint {qname(name)} on {column}"
        message = (
            f"Adding {what} without NOT VALID scans every row while holding an "
            f"{ACCESS_EXCLUSIVE} lock on {qname(t)}, which blocks {blocks(ACCESS_EXCLUSIVE)} "
            "until the scan ends."
        )
        return self.finding(stmt, message, _two_step(t, con, name, None, alembic), op)

    def _column(self, op: Op, stmt: Statement, t: str, alembic: bool) -> Iterator[Finding]:
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
                    + _add_column(t, col, alembic)
                    + "\n"
                    + _two_step(t, fk, name, ref, alembic)
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
                    + _add_column(t, col, alembic)
                    + "\n"
                    + _two_step(t, check, name, None, alembic)
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
