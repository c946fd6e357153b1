"""partition-scan: ATTACH PARTITION, and CREATE TABLE … PARTITION OF a table with a DEFAULT
partition, scan a live partition under ACCESS EXCLUSIVE unless a validated CHECK proves the
bound.

Measured on PostgreSQL 16 and 18 (pg_locks, and the server's "verifying table" debug
message): ATTACH takes SHARE UPDATE EXCLUSIVE on the parent and ACCESS EXCLUSIVE on the
attached table and on the DEFAULT partition, and scans each unless a validated CHECK
implies its new partition constraint; CREATE TABLE … PARTITION OF takes ACCESS EXCLUSIVE
on the parent and on the DEFAULT partition, and scans the DEFAULT partition the same way.
Before PostgreSQL 12, ATTACH took ACCESS EXCLUSIVE on the parent (release notes of 12).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.locks import ACCESS_EXCLUSIVE, SHARE_UPDATE_EXCLUSIVE
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._locking import existing, own_transaction_note
from migcheck.rules._opcalls import paste


def _key(ctx: Context, parent: str | None) -> tuple[str, ...]:
    """The parent's partition-key columns, empty when the history does not show them (or
    the key is an expression)."""
    info = ctx.table(parent)
    return info.partition_key or () if info is not None else ()


def _ref(column: str) -> re.Pattern[str]:
    """A reference to ``column`` in SQL text: a name PostgreSQL folded to lower case may be
    written in any case, unquoted or quoted; any other only quoted, exactly."""
    if column != column.lower():
        return re.compile(re.escape(f'"{column}"'))
    return re.compile(rf"(?<![\w$]){re.escape(column)}(?![\w$])", re.IGNORECASE)


def _names(text: str, column: str) -> bool:
    """Whether a CHECK's text mentions ``column``."""
    return _ref(column).search(text) is not None


def _excludes_null(ctx: Context, table: str, column: str, texts: list[str]) -> bool:
    col = ctx.column(table, column)
    if (col is not None and col.not_null) or ctx.schema.has_validated_not_null_check(table, column):
        return True
    pattern = re.compile(_ref(column).pattern + r"\s+IS\s+NOT\s+NULL", re.IGNORECASE)
    return any(pattern.search(t) for t in texts)


def _unproven(
    ctx: Context, table: str, key: tuple[str, ...], *, not_null: bool, fresh: bool
) -> str | None:
    """Why PostgreSQL must scan ``table`` to prove its new partition constraint, or None
    when a validated CHECK there names every key column (and rules out NULL keys when the
    bound does). migcheck does not prove the CHECK implies the bound; PostgreSQL does, and
    scans when it does not. ``fresh``: only a CHECK added by this deploy counts (an older
    one on a DEFAULT partition was written for an older range)."""
    checks = [
        c.text
        for c in ctx.schema.constraints_on(table)
        if c.kind == "check" and c.validated and (not fresh or ctx.is_new(c.origin))
    ]
    matching = [t for t in checks if all(_names(t, k) for k in key)]
    if not matching:
        if fresh:
            return (
                "no CHECK constraint added and validated by this deploy keeps the new range "
                "out of it"
            )
        return f"no validated CHECK constraint on {qname(table)} matches the bound"
    if not_null:
        for k in key:
            if not _excludes_null(ctx, table, k, matching):
                return (
                    f"its CHECK does not rule out NULL in {qname(k)}, which the partition "
                    "bound does"
                )
    return None


def _needs_not_null(op: Op) -> bool:
    """Whether the bound excludes NULL keys: a range does, a list unless it lists NULL."""
    if "bound_from" in op.options:
        return True
    values = op.options.get("bound_in")
    return isinstance(values, str) and "NULL" not in values.upper().replace(",", " ").split()


class _Scan:
    """What one statement scans: the attached table and/or the DEFAULT partition, with
    why no CHECK spared each scan."""

    def __init__(self, op: Op, ctx: Context) -> None:
        self.attach = op.kind == "attach_partition"
        self.parent = op.table if self.attach else _str(op.options.get("partition_of"))
        self.child = op.name if self.attach else op.table
        self.key = _key(ctx, self.parent)
        self.child_reason: str | None = None
        self.default: str | None = None
        self.default_reason: str | None = None
        if self.attach and self.child and existing(ctx, self.child):
            self.child_reason = _unproven(
                ctx, self.child, self.key, not_null=_needs_not_null(op), fresh=False
            )
        # A new DEFAULT partition is checked against the others only if it has rows.
        new_default = op.options.get("default" if self.attach else "default_partition")
        d = ctx.schema.default_partition(self.parent)
        if d is not None and not new_default and existing(ctx, d.name):
            self.default = d.name
            self.default_reason = _unproven(ctx, d.name, self.key, not_null=False, fresh=True)

    @property
    def scans(self) -> list[str]:
        out = [self.child] if self.child_reason and self.child else []
        if self.default and self.default_reason:
            out.append(self.default)
        return out


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _scan(op: Op, ctx: Context) -> _Scan | None:
    if op.kind == "create_table" and not op.options.get("partition_of"):
        return None
    scan = _Scan(op, ctx)
    return scan if scan.scans else None


class PartitionScan(Rule):
    id = "partition-scan"
    category = "locking"
    severity = "warning"
    summary = (
        "ATTACH PARTITION, or a new partition beside a DEFAULT one, scans a live table "
        "under ACCESS EXCLUSIVE"
    )
    kinds = frozenset({"attach_partition", "create_table"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        scan = _scan(op, ctx)
        if scan is None:
            return
        p, c, d = qname(scan.parent), qname(scan.child), qname(scan.default)
        if scan.attach:
            parts = []
            if scan.child_reason:
                parts.append(
                    f"Attaching {c} to {p} scans all of {c} to check that every row fits the "
                    f"partition bound, holding an {ACCESS_EXCLUSIVE} lock on {c} (every read "
                    f"and write of {c} waits) until the transaction ends: {scan.child_reason}."
                )
            if scan.default_reason:
                lead = "It also scans" if parts else f"Attaching {c} to {p} scans"
                parts.append(
                    f"{lead} the DEFAULT partition {d} for rows that belong in {c}, holding an "
                    f"{ACCESS_EXCLUSIVE} lock on {d}, so every query on {p} that reaches {d} "
                    f"waits: {scan.default_reason}."
                )
            if ctx.pg_version < 12:
                parts.append(
                    f"Before PostgreSQL 12, ATTACH PARTITION also takes an {ACCESS_EXCLUSIVE} "
                    f"lock on {p}, so every query on {p} and all its partitions waits for the "
                    "scan."
                )
            else:
                parts.append(
                    f"{p} itself only gets {SHARE_UPDATE_EXCLUSIVE}, so its other partitions "
                    "stay readable and writable."
                )
            message = " ".join(parts)
        else:
            message = (
                f"Creating partition {c} of {p} scans the DEFAULT partition {d} for rows that "
                f"belong in {c}, holding {ACCESS_EXCLUSIVE} locks on {p} and {d}: every read "
                f"and write on {p} and all its partitions waits until the transaction ends: "
                f"{scan.default_reason}."
            )
        yield self.finding(stmt, message, _help(op, scan, ctx), op)

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        scan = _scan(op, ctx)
        if scan is None:
            return None
        return "scans " + " and ".join(qname(t) for t in scan.scans) + " (partition bound)"


def _condition(op: Op, key: tuple[str, ...]) -> str:
    """The partition bound as a CHECK condition, for a one-column key; a placeholder
    otherwise."""
    if len(key) != 1:
        return "<the partition bound, with each key column IS NOT NULL>"
    k = ident(key[0])
    lo, hi, values = (_str(op.options.get(n)) for n in ("bound_from", "bound_to", "bound_in"))
    if values is not None and "NULL" not in values.upper().split():
        return f"{k} IS NOT NULL AND {k} IN ({values})"
    if lo is None or hi is None:
        return f"<the partition bound on {k}>"
    parts = [f"{k} IS NOT NULL"]
    if lo.upper() != "MINVALUE":
        parts.append(f"{k} >= {lo}")
    if hi.upper() != "MAXVALUE":
        parts.append(f"{k} < {hi}")
    return " AND ".join(parts)


def _for_values(op: Op) -> str:
    o = op.options
    if "bound_from" in o:
        return f"FOR VALUES FROM ({o['bound_from']}) TO ({o.get('bound_to', '…')})"
    if "bound_in" in o:
        return f"FOR VALUES IN ({o['bound_in']})"
    if "bound_hash" in o:
        return f"FOR VALUES WITH ({o['bound_hash']})"
    return "DEFAULT" if o.get("default") else "FOR VALUES …"


def _help(op: Op, scan: _Scan, ctx: Context) -> str:
    cond = _condition(op, scan.key)
    p, c = ident(scan.parent), ident(scan.child)
    base = (scan.child or "part").rsplit(".", 1)[-1]
    lines: list[str] = []
    if not scan.attach:
        parent_lock = (
            f"only {SHARE_UPDATE_EXCLUSIVE} on {qname(scan.parent)}"
            if ctx.pg_version >= 12
            else f"{ACCESS_EXCLUSIVE} on {qname(scan.parent)} before PostgreSQL 12, but only "
            "for a moment once nothing needs a scan"
        )
        lines += [
            f"Create the table on its own and ATTACH it, which takes {parent_lock}:",
            paste(
                ctx,
                f"CREATE TABLE {c} (LIKE {p} INCLUDING DEFAULTS INCLUDING CONSTRAINTS);",
            ),
        ]
    elif scan.child_reason:
        check = ident(f"{base}_bound")
        lines += [
            "Prove the bound with a CHECK first. VALIDATE scans under SHARE UPDATE EXCLUSIVE, "
            f"so reads and writes of {qname(scan.child)} continue, and ATTACH then skips the "
            "scan (run each statement in its own transaction):",
            paste(
                ctx,
                f"ALTER TABLE {c} ADD CONSTRAINT {check} CHECK ({cond}) NOT VALID;",
                f"ALTER TABLE {c} VALIDATE CONSTRAINT {check};",
            ),
        ]
    if scan.default_reason and scan.default:
        d = ident(scan.default)
        excl = ident(f"{scan.default.rsplit('.', 1)[-1]}_excl_{base}")
        lines += [
            f"Keep the new range out of the DEFAULT partition {qname(scan.default)} with a "
            "validated CHECK, so no scan of it is needed (rows of that range already in it "
            "make the ATTACH fail, and rows of it written in between are rejected: move "
            "them first):",
            paste(
                ctx,
                f"ALTER TABLE {d} ADD CONSTRAINT {excl} CHECK (NOT ({cond})) NOT VALID;",
                f"ALTER TABLE {d} VALIDATE CONSTRAINT {excl};",
            ),
        ]
    lines += [
        "Then attach it:",
        paste(ctx, f"ALTER TABLE {p} ATTACH PARTITION {c} {_for_values(op)};"),
    ]
    return "\n".join(lines) + own_transaction_note(ctx)
