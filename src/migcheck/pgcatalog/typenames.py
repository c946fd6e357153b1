"""Type names: every alias PostgreSQL accepts mapped to its internal ``typname``
(``canonical_type``, ``parse_type``), and back to what a user writes (``display_type``).
"""

from __future__ import annotations

import re

from migcheck.lazyre import lazy
from migcheck.model import ColumnType

# (typname, typmod params, array dimensions): a type as Postgres compares it.
TypeKey = tuple[str, tuple[int, ...], int]


def split_identifier(name: str) -> list[str]:
    """Split ``a.b."C"`` into folded parts: unquoted lower-cased, quoted kept as written."""
    parts: list[str] = []
    for match in re.finditer(r'"((?:[^"]|"")*)"|([^."\s]+)', name):
        quoted, bare = match.group(1), match.group(2)
        parts.append(quoted.replace('""', '"') if quoted is not None else bare.lower())
    return parts


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
KNOWN_TYPES = frozenset(_ALIASES.values()) | {"char"}

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
_INTERVAL_FIELDS = lazy(
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
    folded = ".".join(split_identifier(bare))
    name = canonical_type(text if quoted or _alias_key(bare) in _ALIASES else folded)
    ct = ColumnType(name=name, params=params, array=array, text=text.strip())
    name, params, array = type_key(ct)
    return ColumnType(name=name, params=params, array=array, text=ct.text)


def type_key(ct: ColumnType) -> TypeKey:
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


def display_key(name: str, params: tuple[int, ...], array: int) -> str:
    base = _DISPLAY.get(name, name)
    if name == "bpchar" and not params:
        base = "bpchar"  # plain "char" would mean char(1)
    mods = f"({','.join(str(p) for p in params)})" if params else ""
    return f"{base}{mods}{'[]' * array}"


def display_type(ct: ColumnType) -> str:
    """The SQL spelling a user would write: ``varchar(255)``, ``integer``, ``bigint``,
    ``timestamptz``, ``text[]``."""
    return display_key(*type_key(ct))
