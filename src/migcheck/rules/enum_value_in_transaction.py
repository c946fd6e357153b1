"""enum-value-in-transaction: ALTER TYPE ... ADD VALUE inside a transaction block.

PostgreSQL 11 and older refuse the command inside a transaction block (unless the enum
was created in the same transaction). PostgreSQL 12 accepts it, but the new value cannot
be used until the transaction commits (again unless the enum itself is new in that
transaction): a later statement of the same transaction that uses it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._locking import TxScan, outside_tx_advice, why_in_transaction
from migcheck.rules._opcalls import word


def _enum_new_in_transaction(ctx: Context, name: str | None) -> bool:
    info = ctx.schema.enums.get(name or "")
    tx = ctx.transaction
    return (
        info is not None
        and info.origin is not None
        and tx is not None
        and info.origin.transaction == tx.id
    )


def _enum_additions(stmt: Statement) -> Iterator[tuple[Statement, Op]]:
    for op in stmt.ops:
        if op.kind == "add_enum_value":
            yield stmt, op


def _literal(value: str) -> re.Pattern[str]:
    return re.compile("'" + re.escape(value.replace("'", "''")) + "'")


def _mentions_type(stmt: Statement, ctx: Context, enum: str) -> bool:
    """Whether the statement can involve the enum: it names the type, or acts on a table
    with a column of that type."""
    if re.search(r'(?<![\w"])"?' + re.escape(enum) + r'"?(?![\w"])', stmt.text, re.I):
        return True
    for op in stmt.ops:
        table = ctx.table(op.table)
        if table is not None and any(
            c.type is not None and c.type.name == enum for c in table.columns.values()
        ):
            return True
    return False


class EnumValueInTransaction(Rule):
    id = "enum-value-in-transaction"
    category = "locking"
    severity = "error"
    summary = "ALTER TYPE ... ADD VALUE in a transaction fails (PG < 12) or its value is unusable"
    kinds = frozenset()  # every statement: PG 12+ judges the statements after the ADD VALUE

    def __init__(self) -> None:
        self._added = TxScan(_enum_additions)

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not ctx.in_transaction:
            return
        if ctx.pg_version < 12:
            yield from self._refused(stmt, ctx)
        else:
            yield from self._used_too_early(stmt, ctx)

    def _refused(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        for op in stmt.ops:
            if op.kind != "add_enum_value" or _enum_new_in_transaction(ctx, op.table):
                continue
            value = op.values[0] if op.values else "?"
            message = (
                f"ALTER TYPE {qname(op.table)} ADD VALUE '{value}' cannot run inside a transaction "
                f"block on PostgreSQL {ctx.pg_version}, and this one runs inside one "
                f'({why_in_transaction(ctx)}): PostgreSQL rejects it with "ERROR: ALTER TYPE '
                '... ADD cannot run inside a transaction block" and the migration fails.'
            )
            help_ = (
                outside_tx_advice(ctx)
                + f" Statements that use the new value go in a later {word(ctx)}. (PostgreSQL "
                "12+ allows ADD VALUE in a transaction.)"
            )
            yield self.finding(stmt, message, help_, op)

    def _used_too_early(self, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if any(o.kind in ("add_enum_value", "begin", "commit") for o in stmt.ops):
            return
        tx = ctx.transaction
        assert tx is not None
        for earlier, add in self._added.found(tx):
            if _enum_new_in_transaction(ctx, add.table):
                continue
            for value in add.values:
                if _literal(value).search(stmt.text) and _mentions_type(stmt, ctx, add.table or ""):
                    yield self._early(stmt, ctx, earlier, add.table or "", value)
                    return

    def _early(
        self, stmt: Statement, ctx: Context, added: Statement, enum: str, value: str
    ) -> Finding:
        message = (
            f"This statement uses the enum value '{value}' that ALTER TYPE {qname(enum)} ADD VALUE "
            f"added at line {added.span.line} in the same transaction "
            f"({why_in_transaction(ctx)}); PostgreSQL rejects it until that transaction "
            f'commits ("ERROR: unsafe use of new value "{value}" of enum type {enum}") and '
            "the migration fails."
        )
        help_ = (
            f"Commit the new value before using it: keep ALTER TYPE {qname(enum)} ADD VALUE "
            f"'{value}' in this {word(ctx)} and move the statements that use '{value}' to the "
            f"next {word(ctx)}."
        )
        return self.finding(stmt, message, help_)
