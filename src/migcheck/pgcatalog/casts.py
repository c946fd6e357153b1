"""What one change of a column's type does: the rules for a single cast, old type to new.

The rules follow ``ATColumnChangeRequiresRewrite`` in ``tablecmds.c``: no rewrite when the
conversion is a binary-coercible relabel, an unconstrained domain, a typmod change a type's
"support" function proves harmless (9.2+), or timestamp <-> timestamptz with TimeZone =
UTC (12+). Every case was checked on real servers (PostgreSQL 15.18, 16.14 and 18.4) by
comparing ``pg_relation_filenode`` before and after the ALTER; ``tests/test_pgcatalog.py``
holds the observed matrix. Arrays and USING chains are ``typechange.py``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

from migcheck.pgcatalog.typenames import KNOWN_TYPES, TypeKey, display_key


@dataclass(frozen=True)
class TypeChange:
    """What ``ALTER COLUMN ... TYPE`` does, as far as the types alone tell.

    ``rewrite``: Postgres writes a new copy of the table and all its indexes (None: the old
    type is unknown). ``widening``: every old value fits and reads back the same, so the
    old application keeps working. ``scan_only``: no rewrite but a full-table check (never
    set from the types alone: a CHECK constraint on the column is re-validated with a full
    scan even when the type change needs no rewrite, which only the caller knows).
    ``rebuilds_indexes``: indexes on the column are rebuilt even without a rewrite (their
    operator class changes, e.g. text → citext). ``reason``: one sentence for the user
    about what Postgres does (the lock it holds meanwhile is the caller's to name).
    ``caveat``: how values behave differently for the application after a change that
    needs no conversion (citext compares case-insensitively), empty when nothing does.
    """

    rewrite: bool | None
    widening: bool
    scan_only: bool = False
    reason: str = ""
    rebuilds_indexes: bool | None = False
    caveat: str = ""


# Built-in integer widths in decimal digits: numeric(p, s) holds them when p - s >= this.
_INT_DIGITS = {"int2": 5, "int4": 10, "int8": 19}
_INT_ORDER = {"int2": 0, "int4": 1, "int8": 2}

# Types whose typmod change a support function can prove needs no rewrite (9.2+:
# varchar_support, numeric_support, varbit_support, timestamp_support, time_support,
# interval_support). bpchar and bit have none: any length change rewrites (observed).
_LENGTH_TYPES = frozenset({"varchar", "varbit"})
_PRECISION_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})
_MAX_PRECISION = 6  # timestamp(6) is timestamp: a limit of 6 (or none) is never applied

# Binary-coercible casts (pg_cast.castmethod = 'b', or citext's WITHOUT FUNCTION casts):
# Postgres relabels the column without touching rows (9.1+). Per pair: whether indexes on
# the column are rebuilt anyway because the operator class differs (observed on 15/16/18),
# whether the old application keeps working (widening), and why not when it does not.
_BINARY: dict[tuple[str, str], tuple[bool, bool, str]] = {
    ("varchar", "text"): (False, True, ""),
    ("text", "varchar"): (False, True, ""),
    ("cidr", "inet"): (False, True, ""),
    ("bit", "varbit"): (True, True, ""),
    ("varchar", "bpchar"): (True, False, "bpchar ignores trailing spaces when comparing"),
    ("text", "bpchar"): (True, False, "bpchar ignores trailing spaces when comparing"),
    ("int4", "oid"): (True, False, "oid is unsigned, so negative integers change meaning"),
    ("oid", "int4"): (True, False, "oids above 2^31 read back as negative integers"),
    ("text", "citext"): (True, False, "citext compares case-insensitively"),
    ("varchar", "citext"): (True, False, "citext compares case-insensitively"),
    ("citext", "text"): (True, False, "text compares case-sensitively"),
    ("citext", "varchar"): (True, False, "varchar compares case-sensitively"),
    ("xml", "text"): (False, False, "the value loses its xml validation and operators"),
}


def version_num(pg_version: int) -> int:
    """Accept a major version (16) or a server_version_num (160004, 90200)."""
    return pg_version * 10000 if pg_version < 100 else pg_version


def rewrite(reason: str, widening: bool) -> TypeChange:
    return TypeChange(rewrite=True, widening=widening, reason=reason, rebuilds_indexes=True)


def no_rewrite(
    reason: str, widening: bool, rebuilds_indexes: bool = False, caveat: str = ""
) -> TypeChange:
    return TypeChange(
        rewrite=False,
        widening=widening,
        reason=reason,
        rebuilds_indexes=rebuilds_indexes,
        caveat=caveat,
    )


def _limit_raised(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """A length/precision typmod that accepts every old value: none, or at least as large."""
    return not new or (bool(old) and new[0] >= old[0])


def _scale(params: tuple[int, ...]) -> int:
    return params[1] if len(params) > 1 else 0  # numeric(p) means numeric(p, 0)


def _numeric_widens(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """Every numeric(old) value fits numeric(new) unchanged: no fewer integer digits, no
    fewer decimals."""
    if not new:
        return True
    if not old:
        return False
    return new[0] - _scale(new) >= old[0] - _scale(old) and _scale(new) >= _scale(old)


def _int_fits_numeric(int_type: str, params: tuple[int, ...]) -> bool:
    return not params or params[0] - _scale(params) >= _INT_DIGITS[int_type]


def typmod_change(name: str, old: TypeKey, new: TypeKey, vnum: int) -> TypeChange:
    """Same type, different modifiers."""
    o, n = display_key(*old), display_key(*new)
    op, np_ = old[1], new[1]
    support = vnum >= 90200  # typmod support functions arrived in 9.2
    if name in _LENGTH_TYPES:
        if _limit_raised(op, np_):
            if support:
                return no_rewrite(
                    f"{o} → {n} only raises or removes the length limit; Postgres changes the catalog "
                    "without touching rows",
                    True,
                )
            return rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        return rewrite(
            f"{o} → {n} lowers or adds a length limit: Postgres rewrites every row "
            "to check it, and the ALTER fails if a value is too long",
            False,
        )
    if name == "numeric":
        # numeric_support: no rewrite when the new typmod is unconstrained, or keeps the
        # scale and does not lower the precision.
        if not np_ or (op and _scale(op) == _scale(np_) and np_[0] >= op[0]):
            if support:
                return no_rewrite(
                    f"{o} → {n} keeps the scale and does not lower the precision; Postgres "
                    "changes the catalog without touching rows",
                    True,
                )
            return rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        if _numeric_widens(op, np_):
            return rewrite(
                f"{o} → {n} raises the scale: every value fits but gains trailing zeros, "
                f"and Postgres rewrites every row",
                True,
            )
        return rewrite(
            f"{o} → {n} can round values or reject ones that no longer fit: Postgres "
            f"rewrites every row",
            False,
        )
    if name in _PRECISION_TYPES:
        if _limit_raised(op, np_):
            if support:
                return no_rewrite(
                    f"{o} → {n} does not lower the fractional-seconds precision; Postgres "
                    "changes the catalog without touching rows",
                    True,
                )
            return rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        return rewrite(
            f"{o} → {n} lowers the fractional-seconds precision: Postgres rounds every "
            f"value and rewrites the table",
            False,
        )
    if name == "bit":
        return rewrite(
            f"{o} → {n}: bit(n) values must have exactly n bits, so Postgres rewrites the "
            "table and the ALTER fails on any existing row unless a USING pads or truncates it",
            False,
        )
    if name == "bpchar":
        if not np_:
            return no_rewrite(
                f"{o} → {n} only drops the length limit; Postgres changes the catalog "
                "without touching rows",
                True,
            )
        return rewrite(
            f"{o} → {n}: char(n) pads values to its length, so Postgres re-pads every value "
            f"and rewrites the table",
            False,
        )
    if name not in KNOWN_TYPES:
        return rewrite(
            f"{o} → {n} changes the modifiers of a type migcheck does not know; Postgres "
            "rewrites the table unless the type's own support function says otherwise",
            False,
        )
    return rewrite(f"{o} → {n} changes the type modifier: Postgres rewrites the table", False)


def cross_type(old: TypeKey, new: TypeKey, vnum: int, utc: bool = False) -> TypeChange:
    """Different base types (arrays already reduced to their elements). ``utc``: the
    migration set the session's TimeZone to a zone with offset 0 before the ALTER."""
    o, n = display_key(*old), display_key(*new)
    on, nn = old[0], new[0]
    np_ = new[1]
    binary = _BINARY.get((on, nn))
    if binary is not None:
        index_rebuild, widening, caveat = binary
        if vnum < 90100:
            return rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.1", widening)
        if np_:
            # The relabel hides the old length, so the new length coercion cannot be proven
            # harmless: text → varchar(n), varchar(n) → char(n), bit(n) → varbit(m) rewrite.
            return rewrite(
                f"{o} → {n} adds a length check on top of a binary-compatible change: "
                f"Postgres rewrites every row to apply it",
                widening and _limit_raised(old[1], np_),
            )
        sentence = f"{o} and {n} share the same storage, so Postgres relabels the column"
        if index_rebuild:
            return no_rewrite(
                f"{sentence} without touching rows, but rebuilds every index on it",
                widening,
                rebuilds_indexes=True,
                caveat=caveat,
            )
        return no_rewrite(f"{sentence} without touching rows or indexes", widening, caveat=caveat)

    if {on, nn} == {"timestamp", "timestamptz"}:
        if vnum < 120000:
            return rewrite(
                f"{o} → {n} reinterprets every value in the session time zone, and before "
                f"PostgreSQL 12 always rewrites the table",
                False,
            )
        if not _limit_raised(old[1], np_):
            return rewrite(
                f"{o} → {n} lowers the fractional-seconds precision, so Postgres rewrites the "
                f"table whatever the time zone",
                False,
            )
        if np_ and np_[0] < _MAX_PRECISION:
            # The precision coercion sits on top of the conversion, whose result has no
            # typmod, so timestamp_support cannot prove it a no-op: timestamp(3) →
            # timestamptz(3) (Prisma's DateTime) rewrote with TimeZone = UTC on 18.4.
            return rewrite(
                f"{o} → {n} converts every value and then applies the precision limit, so "
                "Postgres rewrites the table whatever the session's TimeZone",
                False,
            )
        if utc:
            return no_rewrite(
                f"{o} → {n} in a session whose TimeZone is UTC keeps every value's bits: "
                "Postgres changes the catalog without touching rows, but rebuilds the "
                "column's indexes",
                False,
                rebuilds_indexes=True,
            )
        return rewrite(
            f"{o} → {n} reinterprets every value in the session time zone: Postgres rewrites "
            f"the table unless the session's TimeZone is UTC (PostgreSQL 12+), and "
            "even then rebuilds the column's indexes",
            False,
        )

    if on not in KNOWN_TYPES or nn not in KNOWN_TYPES:
        return rewrite(
            f"{o} → {n} involves a type migcheck does not know (an enum, domain or extension "
            f"type): Postgres converts and rewrites every row, unless one is an "
            "unconstrained domain over the other",
            False,
        )

    if on in _INT_ORDER and nn in _INT_ORDER:
        widening = _INT_ORDER[nn] > _INT_ORDER[on]
        if widening:
            return rewrite(
                f"{o} → {n} widens the column but changes its storage size: Postgres "
                f"rewrites every row and rebuilds the table's indexes",
                True,
            )
        return rewrite(
            f"{o} → {n} narrows the column: Postgres rewrites every row, and the "
            "ALTER fails if any value does not fit",
            False,
        )
    if on in _INT_DIGITS and nn == "numeric":
        if _int_fits_numeric(on, np_):
            return rewrite(
                f"{o} → {n} widens the column but changes its storage format: Postgres "
                f"rewrites every row and rebuilds the table's indexes",
                True,
            )
        return rewrite(
            f"{o} → {n} has fewer integer digits than {o} can hold: Postgres rewrites every "
            f"row, and the ALTER fails if a value does not fit",
            False,
        )
    if (on, nn) == ("float4", "float8"):
        return rewrite(
            f"{o} → {n} widens the column but changes its storage size: Postgres rewrites "
            f"every row and rebuilds the table's indexes",
            True,
        )
    if (on, nn) == ("json", "jsonb"):
        return rewrite(
            f"{o} → {n} parses every value (keys reordered and deduplicated, whitespace "
            f"dropped, so values do not read back the same): Postgres rewrites the table",
            False,
        )
    return rewrite(
        f"{o} → {n} converts every value to a different type: Postgres rewrites the table "
        f"and its indexes",
        False,
    )
