"""What PostgreSQL itself knows, so rules decide precisely instead of guessing.

Three kinds of knowledge live here:

* **Function volatility** (``function_volatility``), read from the real ``pg_catalog``
  by ``scripts/gen_volatility.py`` into ``_volatility.py``, plus the SQL-standard keyword
  functions the catalog spells differently (``current_timestamp``...).
* **Type names** (``canonical_type``, ``display_type``, ``parse_type``): every alias
  Postgres accepts mapped to its internal ``typname``, and back to what a user writes.
* **ALTER COLUMN ... TYPE** (``analyse_type_change``): whether Postgres rewrites the table,
  and whether the change is a widening the old application survives. The rules follow
  ``ATColumnChangeRequiresRewrite`` in ``tablecmds.c``: no rewrite when the conversion is a
  binary-coercible relabel, an unconstrained domain, a typmod change a type's "support"
  function proves harmless (9.2+), or timestamp <-> timestamptz with TimeZone = UTC (12+).
  Every case was checked on real servers (PostgreSQL 15.18, 16.14 and 18.4) by comparing
  ``pg_relation_filenode`` before and after the ALTER; ``tests/test_pgcatalog.py`` holds
  the observed matrix.

This module is on the CLI's start-up path: it imports nothing heavier than the model.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from migcheck import _volatility
from migcheck.model import ColumnType, Expression

# ---------------------------------------------------------------------------------------
# Function volatility
# ---------------------------------------------------------------------------------------

IMMUTABLE = "immutable"
STABLE = "stable"
VOLATILE = "volatile"
UNKNOWN = "unknown"

# "unknown" ranks above "stable": a user function may well be volatile, so a rule that
# combines it with a stable call must not conclude "evaluated once".
_RANK = {IMMUTABLE: 0, STABLE: 1, UNKNOWN: 2, VOLATILE: 3}

# Functions the grammar spells as keywords, absent from pg_proc under these names. All are
# STABLE: the date/time ones are fixed for the transaction (like now()), the user/schema
# ones until SET ROLE or a search_path change, never per row.
_KEYWORD_FUNCTIONS: dict[str, str] = {
    "current_timestamp": STABLE,
    "current_date": STABLE,
    "current_time": STABLE,
    "localtimestamp": STABLE,
    "localtime": STABLE,
    "current_user": STABLE,
    "session_user": STABLE,
    "user": STABLE,
    "current_role": STABLE,
    "current_schema": STABLE,
    "current_catalog": STABLE,
    "system_user": STABLE,
    # Expression constructs: they add no volatility of their own (their arguments decide).
    "coalesce": IMMUTABLE,
    "nullif": IMMUTABLE,
    "greatest": IMMUTABLE,
    "least": IMMUTABLE,
    "trim": IMMUTABLE,
}


def _split_identifier(name: str) -> list[str]:
    """Split ``a.b."C"`` into folded parts: unquoted lower-cased, quoted kept as written."""
    parts: list[str] = []
    for match in re.finditer(r'"((?:[^"]|"")*)"|([^."\s]+)', name):
        quoted, bare = match.group(1), match.group(2)
        parts.append(quoted.replace('""', '"') if quoted is not None else bare.lower())
    return parts


def function_volatility(name: str) -> str:
    """How volatile the function ``name`` is: "immutable", "stable", "volatile", or
    "unknown" for a function that is not built in (a user function).

    ``name`` may be schema-qualified: ``pg_catalog.now`` is the builtin; any other schema
    holds user functions, except extension functions (``public.uuid_generate_v4``), which
    live wherever the extension was installed.
    """
    parts = _split_identifier(re.sub(r"\(.*$", "", name.strip(), flags=re.S))
    if not parts:
        return UNKNOWN
    fn = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    if schema is not None and schema != "pg_catalog" and fn not in _volatility.EXTENSION:
        return UNKNOWN
    if schema is None and fn in _KEYWORD_FUNCTIONS:
        return _KEYWORD_FUNCTIONS[fn]
    if fn in _volatility.VOLATILE:
        return VOLATILE
    if fn in _volatility.STABLE:
        return STABLE
    if fn in _volatility.IMMUTABLE:
        return IMMUTABLE
    return UNKNOWN


def combine_volatility(vols: Iterable[str]) -> str:
    """The volatility of an expression calling functions of these volatilities: the worst
    one, ranked volatile > unknown > stable > immutable (immutable when there are none)."""
    worst = IMMUTABLE
    for vol in vols:
        vol = vol if vol in _RANK else UNKNOWN
        if _RANK[vol] > _RANK[worst]:
            worst = vol
    return worst


# ---------------------------------------------------------------------------------------
# Type names
# ---------------------------------------------------------------------------------------

# Every spelling Postgres's grammar or catalog accepts → pg_type.typname. Multi-word
# names are stored with single spaces; lookups normalise whitespace and case first.
_ALIASES: dict[str, str] = {
    "int": "int4", "integer": "int4", "int4": "int4",
    "smallint": "int2", "int2": "int2",
    "bigint": "int8", "int8": "int8",
    "serial": "int4", "serial4": "int4",
    "smallserial": "int2", "serial2": "int2",
    "bigserial": "int8", "serial8": "int8",
    "real": "float4", "float4": "float4",
    "double precision": "float8", "float": "float8", "float8": "float8",
    "numeric": "numeric", "decimal": "numeric", "dec": "numeric",
    "varchar": "varchar", "character varying": "varchar", "char varying": "varchar",
    "char": "bpchar", "character": "bpchar", "bpchar": "bpchar",
    "national character": "bpchar", "national char": "bpchar", "nchar": "bpchar",
    "national character varying": "varchar", "national char varying": "varchar",
    "nchar varying": "varchar",
    "text": "text", "name": "name",
    "bool": "bool", "boolean": "bool",
    "timestamp": "timestamp", "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz", "timestamp with time zone": "timestamptz",
    "time": "time", "time without time zone": "time",
    "timetz": "timetz", "time with time zone": "timetz",
    "date": "date", "interval": "interval",
    "uuid": "uuid", "json": "json", "jsonb": "jsonb", "jsonpath": "jsonpath",
    "bytea": "bytea", "inet": "inet", "cidr": "cidr", "macaddr": "macaddr",
    "macaddr8": "macaddr8",
    "bit": "bit", "varbit": "varbit", "bit varying": "varbit",
    "citext": "citext", "money": "money", "xml": "xml",
    "tsvector": "tsvector", "tsquery": "tsquery",
    "oid": "oid", "regclass": "regclass", "regproc": "regproc", "regprocedure": "regprocedure",
    "regtype": "regtype", "regoper": "regoper", "regoperator": "regoperator",
    "regnamespace": "regnamespace", "regrole": "regrole", "regconfig": "regconfig",
    "regdictionary": "regdictionary", "regcollation": "regcollation",
    "xid": "xid", "xid8": "xid8", "cid": "cid", "tid": "tid", "pg_lsn": "pg_lsn",
    "txid_snapshot": "txid_snapshot", "pg_snapshot": "pg_snapshot",
    "point": "point", "line": "line", "lseg": "lseg", "box": "box", "path": "path",
    "polygon": "polygon", "circle": "circle",
    "int4range": "int4range", "int8range": "int8range", "numrange": "numrange",
    "tsrange": "tsrange", "tstzrange": "tstzrange", "daterange": "daterange",
    "int4multirange": "int4multirange", "int8multirange": "int8multirange",
    "nummultirange": "nummultirange", "tsmultirange": "tsmultirange",
    "tstzmultirange": "tstzmultirange", "datemultirange": "datemultirange",
}  # fmt: skip

_SERIALS = frozenset({"serial", "serial4", "bigserial", "serial8", "smallserial", "serial2"})

# Types whose behaviour below is known. citext is an extension type, but a common one
# whose casts were observed on a real server; "char" (quoted) is the internal one-byte type.
_KNOWN_TYPES = frozenset(_ALIASES.values()) | {"char"}

# pg_type.typname → what users write (``format_type`` style, shortened where usual).
_DISPLAY: dict[str, str] = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "bpchar": "char",
    "char": '"char"',
}

# Interval field qualifiers (``interval day to second``) restrict the value but not the
# type; they are dropped from the name.
_INTERVAL_FIELDS = re.compile(
    r"\s+(year|month|day|hour|minute|second)(\s+to\s+(month|hour|minute|second))?$"
)

# Spellings that mean length 1 when written without one (SQL: "char" is char(1)).
_LENGTH_ONE = frozenset({"char", "character", "nchar", "national character", "bit"})


def _parse(text: str) -> tuple[str, list[str], int, bool]:
    """Split ``timestamp(3) with time zone[]`` into the bare name (whitespace collapsed, case
    untouched), the raw modifier strings, the number of array dimensions, and whether the
    name was double-quoted."""
    s = text.strip()
    array = 0
    while True:
        stripped = re.sub(r"\s*\[\s*\d*\s*\]\s*$", "", s)
        if stripped == s:
            break
        s, array = stripped, array + 1
    stripped = re.sub(r"\s+array(\s*\[\s*\d*\s*\])?\s*$", "", s, flags=re.I)
    if stripped != s:
        s, array = stripped, max(array, 1)
    # pg_catalog.int4 is int4; other schemas hold user types and stay qualified.
    s = re.sub(r'^(pg_catalog|"pg_catalog")\s*\.\s*', "", s, flags=re.I)
    if len(s) >= 2 and s[0] == '"' and s[-1] == '"' and '"' not in s[1:-1]:
        return s[1:-1], [], array, True
    mods: list[str] = []
    match = re.search(r"\(([^()]*)\)", s)
    if match:
        mods = [m.strip() for m in match.group(1).split(",") if m.strip()]
        s = s[: match.start()] + " " + s[match.end() :]
    return re.sub(r"\s+", " ", s).strip(), mods, array, False


def _alias_key(bare: str) -> str:
    key = bare.lower()
    return _INTERVAL_FIELDS.sub("", key) if key.startswith("interval") else key


def canonical_type(name: str) -> str:
    """The internal ``typname`` of a type as written: ``integer`` → ``int4``, ``character
    varying(20)`` → ``varchar``, ``timestamp(3) with time zone`` → ``timestamptz``,
    ``float(10)`` → ``float4``, ``serial`` → ``int4``; modifiers and ``[]`` are dropped.

    Built-in spellings match in any case. Other names (user enums, domains, extension
    types) come back as given: the caller has already folded them (unquoted lower-cased,
    quoted kept). Surrounding double quotes are dropped, and ``"char"`` with its quotes is
    the internal one-byte type ``char``, not ``bpchar``.
    """
    bare, mods, _, quoted = _parse(name)
    if quoted:
        return bare
    key = _alias_key(bare)
    canon = _ALIASES.get(key)
    if canon is None:
        return bare
    # float(p) is real up to 24 bits of mantissa, double precision above (SQL standard).
    if key == "float" and mods and mods[0].isdigit() and int(mods[0]) <= 24:
        return "float4"
    return canon


def is_serial(name: str) -> bool:
    """Whether ``name`` is one of the serial pseudo-types (a sequence-backed integer)."""
    bare, _, _, quoted = _parse(name)
    return not quoted and bare.lower() in _SERIALS


def parse_type(text: str) -> ColumnType | None:
    """Parse a type as written (``varchar(255)``, ``numeric(10, 2)[]``, ``timestamp(3) with
    time zone``, ``char``) into a ``ColumnType`` with its canonical name and explicit
    modifiers (``char`` → ``bpchar`` (1,)); None if the text is not a type name."""
    if not re.fullmatch(r'[\w\s."$\[\](),]+', text.strip() or "!"):
        return None
    bare, mods, array, quoted = _parse(text)
    if not bare or "(" in bare or ")" in bare or "[" in bare:
        return None
    params: tuple[int, ...] = ()
    if all(m.isdigit() for m in mods):
        params = tuple(int(m) for m in mods)
    # Raw SQL: fold the name the way Postgres does before looking it up.
    folded = ".".join(_split_identifier(bare))
    name = canonical_type(text if quoted or _alias_key(bare) in _ALIASES else folded)
    ct = ColumnType(name=name, params=params, array=array, text=text.strip())
    name, params, array = _effective(ct)
    return ColumnType(name=name, params=params, array=array, text=ct.text)


def _effective(ct: ColumnType) -> tuple[str, tuple[int, ...], int]:
    """(typname, typmod params, array dims) of a ColumnType, whatever spelling it carries."""
    name = canonical_type(ct.name)
    params = tuple(ct.params)
    # The name may already be canonical (char → bpchar, float → float8), so the spelling
    # as written decides what a missing or float modifier means.
    written, _, _, quoted = _parse(ct.text or ct.name)
    written = "" if quoted else written.lower()
    if name == "float8" and written == "float" and params and params[0] <= 24:
        name = "float4"  # float(p <= 24) is real
    if name in ("float4", "float8"):
        params = ()  # float(p) only picks real or double precision
    elif name in ("bpchar", "bit") and not params and written in _LENGTH_ONE:
        params = (1,)  # char and bit without a length mean length 1; bpchar does not
    return name, params, ct.array


def _display(name: str, params: tuple[int, ...], array: int) -> str:
    base = _DISPLAY.get(name, name)
    if name == "bpchar" and not params:
        base = "bpchar"  # plain "char" would mean char(1)
    mods = f"({','.join(str(p) for p in params)})" if params else ""
    return f"{base}{mods}{'[]' * array}"


def display_type(ct: ColumnType) -> str:
    """The SQL spelling a user would write: ``varchar(255)``, ``integer``, ``bigint``,
    ``timestamptz``, ``text[]``."""
    return _display(*_effective(ct))


# ---------------------------------------------------------------------------------------
# ALTER COLUMN ... TYPE
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TypeChange:
    """What ``ALTER COLUMN ... TYPE`` does, as far as the types alone tell.

    ``rewrite``: Postgres writes a new copy of the table and all its indexes (None: the old
    type is unknown). ``widening``: every old value fits and reads back the same, so the
    old application keeps working. ``scan_only``: no rewrite but a full-table check (never
    set from the types alone: a CHECK constraint on the column is re-validated with a full
    scan even when the type change needs no rewrite, which only the caller knows).
    ``rebuilds_indexes``: indexes on the column are rebuilt even without a rewrite (their
    operator class changes, e.g. text → citext). ``reason``: one sentence for the user.
    """

    rewrite: bool | None
    widening: bool
    scan_only: bool = False
    reason: str = ""
    rebuilds_indexes: bool | None = False


_TypeKey = tuple[str, tuple[int, ...], int]

# Built-in integer widths in decimal digits: numeric(p, s) holds them when p - s >= this.
_INT_DIGITS = {"int2": 5, "int4": 10, "int8": 19}
_INT_ORDER = {"int2": 0, "int4": 1, "int8": 2}

# Types whose typmod change a support function can prove needs no rewrite (9.2+:
# varchar_support, numeric_support, varbit_support, timestamp_support, time_support,
# interval_support). bpchar and bit have none: any length change rewrites (observed).
_LENGTH_TYPES = frozenset({"varchar", "varbit"})
_PRECISION_TYPES = frozenset({"timestamp", "timestamptz", "time", "timetz", "interval"})

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

_LOCK = "under an ACCESS EXCLUSIVE lock"


def _version_num(pg_version: int) -> int:
    """Accept a major version (16) or a server_version_num (160004, 90200)."""
    return pg_version * 10000 if pg_version < 100 else pg_version


def _rewrite(reason: str, widening: bool) -> TypeChange:
    return TypeChange(rewrite=True, widening=widening, reason=reason, rebuilds_indexes=True)


def _no_rewrite(reason: str, widening: bool, rebuilds_indexes: bool = False) -> TypeChange:
    return TypeChange(
        rewrite=False, widening=widening, reason=reason, rebuilds_indexes=rebuilds_indexes
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


def _typmod_change(name: str, old: _TypeKey, new: _TypeKey, vnum: int) -> TypeChange:
    """Same type, different modifiers."""
    o, n = _display(*old), _display(*new)
    op, np_ = old[1], new[1]
    support = vnum >= 90200  # typmod support functions arrived in 9.2
    if name in _LENGTH_TYPES:
        if _limit_raised(op, np_):
            if support:
                return _no_rewrite(
                    f"{o} → {n} only raises or removes the length limit; Postgres changes the catalog "
                    "without touching rows",
                    True,
                )
            return _rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        return _rewrite(
            f"{o} → {n} lowers or adds a length limit: Postgres rewrites every row {_LOCK} "
            "to check it, and the ALTER fails if a value is too long",
            False,
        )
    if name == "numeric":
        # numeric_support: no rewrite when the new typmod is unconstrained, or keeps the
        # scale and does not lower the precision.
        if not np_ or (op and _scale(op) == _scale(np_) and np_[0] >= op[0]):
            if support:
                return _no_rewrite(
                    f"{o} → {n} keeps the scale and does not lower the precision; Postgres "
                    "changes the catalog without touching rows",
                    True,
                )
            return _rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        if _numeric_widens(op, np_):
            return _rewrite(
                f"{o} → {n} raises the scale: every value fits but gains trailing zeros, "
                f"and Postgres rewrites every row {_LOCK}",
                True,
            )
        return _rewrite(
            f"{o} → {n} can round values or reject ones that no longer fit: Postgres "
            f"rewrites every row {_LOCK}",
            False,
        )
    if name in _PRECISION_TYPES:
        if _limit_raised(op, np_):
            if support:
                return _no_rewrite(
                    f"{o} → {n} does not lower the fractional-seconds precision; Postgres "
                    "changes the catalog without touching rows",
                    True,
                )
            return _rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.2", True)
        return _rewrite(
            f"{o} → {n} lowers the fractional-seconds precision: Postgres rounds every "
            f"value and rewrites the table {_LOCK}",
            False,
        )
    if name == "bit":
        return _rewrite(
            f"{o} → {n}: bit(n) values must have exactly n bits, so Postgres rewrites the "
            "table and the ALTER fails on any existing row unless a USING pads or truncates it",
            False,
        )
    if name == "bpchar":
        if not np_:
            return _no_rewrite(
                f"{o} → {n} only drops the length limit; Postgres changes the catalog "
                "without touching rows",
                True,
            )
        return _rewrite(
            f"{o} → {n}: char(n) pads values to its length, so Postgres re-pads every value "
            f"and rewrites the table {_LOCK}",
            False,
        )
    if name not in _KNOWN_TYPES:
        return _rewrite(
            f"{o} → {n} changes the modifiers of a type migcheck does not know; Postgres "
            "rewrites the table unless the type's own support function says otherwise",
            False,
        )
    return _rewrite(f"{o} → {n} changes the type modifier: Postgres rewrites the table", False)


def _cross_type(old: _TypeKey, new: _TypeKey, vnum: int) -> TypeChange:
    """Different base types (arrays already reduced to their elements)."""
    o, n = _display(*old), _display(*new)
    on, nn = old[0], new[0]
    np_ = new[1]
    binary = _BINARY.get((on, nn))
    if binary is not None:
        index_rebuild, widening, caveat = binary
        if vnum < 90100:
            return _rewrite(f"{o} → {n} rewrites the table before PostgreSQL 9.1", widening)
        if np_:
            # The relabel hides the old length, so the new length coercion cannot be proven
            # harmless: text → varchar(n), varchar(n) → char(n), bit(n) → varbit(m) rewrite.
            return _rewrite(
                f"{o} → {n} adds a length check on top of a binary-compatible change: "
                f"Postgres rewrites every row {_LOCK} to apply it",
                widening and _limit_raised(old[1], np_),
            )
        sentence = f"{o} and {n} share the same storage, so Postgres relabels the column"
        caveat = f" ({caveat})" if caveat else ""
        if index_rebuild:
            return _no_rewrite(
                f"{sentence} without touching rows, but rebuilds every index on it {_LOCK}"
                + caveat,
                widening,
                rebuilds_indexes=True,
            )
        return _no_rewrite(f"{sentence} without touching rows or indexes{caveat}", widening)

    if {on, nn} == {"timestamp", "timestamptz"}:
        if vnum < 120000:
            return _rewrite(
                f"{o} → {n} reinterprets every value in the session time zone, and before "
                f"PostgreSQL 12 always rewrites the table {_LOCK}",
                False,
            )
        if not _limit_raised(old[1], np_):
            return _rewrite(
                f"{o} → {n} lowers the fractional-seconds precision, so Postgres rewrites the "
                f"table {_LOCK} whatever the time zone",
                False,
            )
        return _rewrite(
            f"{o} → {n} reinterprets every value in the session time zone: Postgres rewrites "
            f"the table {_LOCK} unless the session's TimeZone is UTC (PostgreSQL 12+), and "
            "even then rebuilds the column's indexes",
            False,
        )

    if on not in _KNOWN_TYPES or nn not in _KNOWN_TYPES:
        return _rewrite(
            f"{o} → {n} involves a type migcheck does not know (an enum, domain or extension "
            f"type): Postgres converts and rewrites every row {_LOCK}, unless one is an "
            "unconstrained domain over the other",
            False,
        )

    if on in _INT_ORDER and nn in _INT_ORDER:
        widening = _INT_ORDER[nn] > _INT_ORDER[on]
        if widening:
            return _rewrite(
                f"{o} → {n} widens the column but changes its storage size: Postgres "
                f"rewrites every row and rebuilds the table's indexes {_LOCK}",
                True,
            )
        return _rewrite(
            f"{o} → {n} narrows the column: Postgres rewrites every row {_LOCK}, and the "
            "ALTER fails if any value does not fit",
            False,
        )
    if on in _INT_DIGITS and nn == "numeric":
        if _int_fits_numeric(on, np_):
            return _rewrite(
                f"{o} → {n} widens the column but changes its storage format: Postgres "
                f"rewrites every row and rebuilds the table's indexes {_LOCK}",
                True,
            )
        return _rewrite(
            f"{o} → {n} has fewer integer digits than {o} can hold: Postgres rewrites every "
            f"row {_LOCK}, and the ALTER fails if a value does not fit",
            False,
        )
    if (on, nn) == ("float4", "float8"):
        return _rewrite(
            f"{o} → {n} widens the column but changes its storage size: Postgres rewrites "
            f"every row and rebuilds the table's indexes {_LOCK}",
            True,
        )
    if (on, nn) == ("json", "jsonb"):
        return _rewrite(
            f"{o} → {n} parses every value (keys reordered and deduplicated, whitespace "
            f"dropped, so values do not read back the same): Postgres rewrites the table {_LOCK}",
            False,
        )
    return _rewrite(
        f"{o} → {n} converts every value to a different type: Postgres rewrites the table "
        f"and its indexes {_LOCK}",
        False,
    )


def _analyse(old: _TypeKey, new: _TypeKey, vnum: int) -> TypeChange:
    o, n = _display(*old), _display(*new)
    if old == new or (old[:2] == new[:2] and old[2] and new[2]):
        # Postgres does not enforce array dimensions: int[] and int[][] are one type.
        return _no_rewrite(
            f"{o} → {n} does not change the type; Postgres neither rewrites rows nor rebuilds "
            "indexes",
            True,
        )
    if bool(old[2]) != bool(new[2]):
        return _rewrite(
            f"{o} → {n} turns {'an array into a scalar' if old[2] else 'a scalar into an array'}"
            f": every value is converted and Postgres rewrites the table {_LOCK}",
            False,
        )
    if old[2]:
        # ATColumnChangeRequiresRewrite does not look inside an array coercion: any change
        # of element type or added length rewrites (observed: varchar[] → text[] and
        # varchar(50)[] → varchar(100)[] rewrite). Only dropping the element's typmod
        # needs no coercion at all.
        element = _analyse((old[0], old[1], 0), (new[0], new[1], 0), vnum)
        if old[0] == new[0] and not new[1]:
            return _no_rewrite(
                f"{o} → {n} only drops the element's limit; Postgres changes the catalog "
                "without touching rows",
                True,
            )
        return _rewrite(
            f"{o} → {n} converts every array element, and Postgres rewrites the table "
            f"{_LOCK} even where the same change on a plain column would not",
            element.widening,
        )
    if old[0] == new[0]:
        return _typmod_change(old[0], old, new, vnum)
    return _cross_type(old, new, vnum)


# A column reference, optionally qualified and quoted: t.c, "C", s.t."C".
_IDENT_RE = re.compile(
    r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*))*'
)


def _strip_parens(text: str) -> str:
    # One pass over the text: re-scanning it per parenthesis level is quadratic, and a
    # USING of 5,000 nested parentheses then takes seconds.
    closing: dict[int, int] = {}
    stack: list[int] = []
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            stack.append(i)
        elif ch == ")" and stack:
            closing[stack.pop()] = i
    start, end = 0, len(text) - 1
    while True:
        while start <= end and text[start].isspace():
            start += 1
        while end >= start and text[end].isspace():
            end -= 1
        if start < end and text[start] == "(" and closing.get(start) == end:
            start, end = start + 1, end - 1
        else:
            return text[start : end + 1]


def _closing(text: str, start: int) -> int:
    """Index of the parenthesis closing the one at ``start`` (quotes respected), or -1."""
    depth, quote = 0, ""
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside quotes and parentheses."""
    parts, depth, quote, last, i = [], 0, "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            parts.append(text[last:i])
            i += len(sep)
            last = i
            continue
        i += 1
    parts.append(text[last:])
    return parts


# Casts deeper than this are not a real migration's USING: give up (None) rather than
# recurse until Python's stack runs out.
_MAX_CASTS = 32


def _peel_casts(text: str, depth: int = 0) -> tuple[str, list[str]] | None:
    """``CAST(c::text AS varchar(9))`` → ("c", ["text", "varchar(9)"]); None when the
    expression is anything but a column reference under casts."""
    if depth > _MAX_CASTS:
        return None
    text = _strip_parens(text)
    match = re.match(r"cast\s*\(", text, re.I)
    if match and _closing(text, match.end() - 1) == len(text) - 1:
        inner = text[match.end() : -1]
        pieces = re.split(r"\s+as\s+", inner, flags=re.I)
        if len(pieces) < 2:
            return None
        peeled = _peel_casts(" as ".join(pieces[:-1]), depth + 1)
        return None if peeled is None else (peeled[0], [*peeled[1], pieces[-1].strip()])
    parts = _split_top(text, "::")
    if len(parts) > 1:
        peeled = _peel_casts(parts[0], depth + 1)
        return None if peeled is None else (peeled[0], [*peeled[1], *map(str.strip, parts[1:])])
    return (text, []) if _IDENT_RE.fullmatch(text) else None


def _using_steps(using: Expression, column: str | None) -> list[ColumnType] | None:
    """The cast types a USING applies to the bare column, or None if it computes anything
    else. Without ``column``, any single column reference is taken to be the column."""
    peeled = _peel_casts(using.text)
    if peeled is None:
        return None
    ref, casts = peeled
    if column is not None:
        parts = _split_identifier(ref)
        if not parts or parts[-1] != column:
            return None
    steps: list[ColumnType] = []
    for cast in casts:
        parsed = parse_type(cast)
        if parsed is None:
            return None
        steps.append(parsed)
    return steps


def analyse_type_change(
    old: ColumnType | None,
    new: ColumnType,
    pg_version: int,
    using: Expression | None = None,
    column: str | None = None,
) -> TypeChange:
    """What ``ALTER COLUMN column TYPE new [USING using]`` does to a column of type ``old``
    on PostgreSQL ``pg_version`` (a major version such as 16, or a server_version_num).

    timestamp <-> timestamptz is reported as a rewrite: Postgres skips it only when the
    session's TimeZone is UTC, which a migration file cannot promise.
    """
    col = f"column {column}" if column else "the column"
    if is_serial(new.name) or is_serial(new.text):
        written = new.name if is_serial(new.name) else new.text.strip()
        return TypeChange(
            rewrite=False,
            widening=False,
            reason=f"serial is not a real type: ALTER COLUMN ... TYPE {written} fails; use "
            "integer or bigint with a sequence default (or an identity column) instead",
            rebuilds_indexes=False,
        )
    if old is None:
        return TypeChange(
            rewrite=None,
            widening=False,
            reason=f"the old type of {col} is unknown (migcheck did not see it created), so "
            "whether Postgres rewrites the table cannot be told",
            rebuilds_indexes=None,
        )
    vnum = _version_num(pg_version)
    new_key = _effective(new)
    chain = [_effective(old)]
    if using is not None:
        steps = _using_steps(using, column)
        if steps is None:
            return _rewrite(
                f"the USING expression ({using.text.strip()}) computes new values, so "
                f"Postgres rewrites every row {_LOCK}",
                False,
            )
        chain += [_effective(step) for step in steps]
    chain.append(new_key)
    # Casts chained in USING behave like successive ALTERs: no rewrite only if no link
    # needs one (ATColumnChangeRequiresRewrite walks through every relabel in the chain).
    links = [(a, b) for a, b in itertools.pairwise(chain) if a != b]
    if len(links) <= 1:
        return _analyse(chain[0], new_key, vnum)
    results = [_analyse(a, b, vnum) for a, b in links]
    # Values survive the chain unchanged when each type along it holds every old value
    # unchanged: varchar(50) USING c::text → varchar(200) widens, although text alone
    # would not fit varchar(200).
    widening = all(_analyse(chain[0], k, vnum).widening for k in chain[1:])
    rewriting = next((r for r in results if r.rewrite), None)
    if rewriting is not None:
        via = ", ".join(_display(*k) for k in chain[1:-1] if k not in (chain[0], new_key))
        return _rewrite(f"the USING casts through {via}: {rewriting.reason}", widening)
    return _no_rewrite(
        _analyse(chain[0], new_key, vnum).reason,
        widening,
        rebuilds_indexes=any(r.rebuilds_indexes for r in results),
    )
