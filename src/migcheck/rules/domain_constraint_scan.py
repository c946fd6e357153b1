"""domain-constraint-scan: ALTER DOMAIN … ADD CONSTRAINT (without NOT VALID), SET NOT NULL
and VALIDATE CONSTRAINT check every column of the domain, scanning each table that uses it
under a SHARE lock that blocks its writes."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import SHARE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qcol, qname
from migcheck.rules import Rule
from migcheck.rules._locking import blocks, existing
from migcheck.rules._opcalls import paste

_ALL = "every table with a column of this domain"


def scans(op: Op) -> bool:
    """Whether the ALTER DOMAIN checks existing values (measured on PostgreSQL 16 and 18:
    one scan and a SHARE lock per table using the domain)."""
    if op.mode in ("set_not_null", "validate_constraint"):
        return True
    con = op.constraint
    return op.mode == "add_constraint" and con is not None and not con.not_valid


def _users(op: Op, ctx: Context) -> list[tuple[str, str]] | None:
    """(table, column) of the live tables using the domain; None when the history never
    created the domain (its users are unknown)."""
    name = op.name or ""
    if name not in ctx.schema.domains:
        return None
    return [(t, c) for t, c in ctx.schema.columns_of_type(name) if existing(ctx, t)]


def _where(users: list[tuple[str, str]] | None) -> str:
    if users is None:
        return _ALL
    return ", ".join(qcol(t, c) for t, c in users)


class DomainConstraintScan(Rule):
    id = "domain-constraint-scan"
    category = "locking"
    severity = "warning"
    summary = "ALTER DOMAIN ADD CONSTRAINT / SET NOT NULL scans every table using the domain, blocking writes"
    kinds = frozenset({"alter_domain"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not scans(op):
            return
        arrays = ctx.schema.columns_of_type(op.name or "", arrays=True)
        if arrays:
            yield self._fails(op, stmt, arrays[0])
            return
        users = _users(op, ctx)
        if users == []:
            return  # no table serving traffic uses the domain: nothing to scan
        d = qname(op.name)
        where = _where(users)
        lock = (
            f"a {SHARE} lock on each of those tables until the transaction ends, which "
            f"blocks {blocks(SHARE)}"
        )
        domain = ident(op.name)
        if op.mode == "validate_constraint":
            con_name = op.names[0] if op.names else "…"
            message = (
                f"ALTER DOMAIN {d} VALIDATE CONSTRAINT {qname(con_name)} scans {where} while holding "
                f"{lock}. Unlike a table's VALIDATE, a domain's takes the same lock as the "
                "check it defers."
            )
            help_ = (
                "A domain constraint added NOT VALID already checks every new value. Either "
                "leave it unvalidated, or validate it in a low-traffic window with a short "
                "lock_timeout:\n"
                + paste(
                    ctx,
                    "SET lock_timeout = '5s';",
                    f"ALTER DOMAIN {domain} VALIDATE CONSTRAINT {ident(con_name)};",
                )
            )
            yield self.finding(stmt, message, help_, op)
            return
        if op.mode == "set_not_null":
            what = "SET NOT NULL"
            fails = "contains null values"
            check = "CHECK (VALUE IS NOT NULL)"
        else:
            con = op.constraint
            assert con is not None
            what = "ADD " + " ".join(con.text.split())
            fails = "contains values that violate the new constraint"
            check = " ".join(con.text.split())
        message = (
            f"ALTER DOMAIN {d} {what} checks every existing value: it scans {where} while "
            f"holding {lock}; it fails with column … {fails} if one value does not pass."
        )
        help_ = (
            "Add the constraint NOT VALID instead: new values are checked from now on, "
            "without a scan or a table lock"
            + (
                " (a domain's NOT NULL has no NOT VALID form; a CHECK does the same)"
                if op.mode == "set_not_null"
                else ""
            )
            + ":\n"
            + paste(ctx, f"ALTER DOMAIN {domain} ADD {check} NOT VALID;")
            + "\nVALIDATE CONSTRAINT on a domain takes the same SHARE locks; run it, if at all, "
            "in a low-traffic window with a short lock_timeout."
        )
        yield self.finding(stmt, message, help_, op)

    def _fails(self, op: Op, stmt: Statement, array: tuple[str, str]) -> Finding:
        """Any array column of the domain makes the check impossible (measured on 16 and
        18, even on an empty table): the statement fails."""
        t, c = array
        where = f"{t.rsplit('.', 1)[-1]}.{c}"
        message = (
            f"ALTER DOMAIN {qname(op.name)} fails with cannot alter type {qname(op.name)} "
            f'because column "{where}" uses it: PostgreSQL cannot check the values stored in '
            f"an array of the domain ({qcol(t, c)}), so the migration stops here."
        )
        help_ = (
            "ADD CONSTRAINT … NOT VALID succeeds (it checks no stored value), but VALIDATE "
            "CONSTRAINT and SET NOT NULL fail the same way while the array column exists. "
            "Put the constraint on the array column's table instead, or change the column's "
            "type first."
        )
        return self.finding(stmt, message, help_, op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        if not scans(op) or _users(op, ctx) == []:
            return None
        return f"scans {_where(_users(op, ctx))} to check domain {qname(op.name)}"
