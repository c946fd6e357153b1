"""What the app version still running reads back after ``ALTER COLUMN ... TYPE``, per
client, for the changes whose new type holds every value of the old one.

Such a change cannot fail on the data the old app wrote, so its risk is never "the ALTER
fails" but what the running code gets back. Every fact here was observed on PostgreSQL
18.4 with psycopg 3 and with Prisma 7.10.1 (``@prisma/adapter-pg``), reading a row
written before the ALTER and one written after it (``tests/live/test_type_readback.py``
pins the psycopg side).
"""

from __future__ import annotations

from dataclasses import dataclass

from migcheck.model import ColumnType
from migcheck.pgcatalog.typenames import TypeKey, canonical_type, type_key

# Types whose values read back identically (same Python and JavaScript values) when the
# column moves between them: psycopg returns int for int2, int4 and int8 alike, and
# Prisma 7 reads an Int field from a bigint column as the same number, even above 2^31.
_FAMILIES = (
    frozenset({"varchar", "text"}),
    frozenset({"int2", "int4", "int8"}),
    frozenset({"bit", "varbit"}),
    frozenset({"cidr", "inet"}),
)

# Decimal digits of the integer types: numeric(p, s) holds every value when p - s >= this.
_INT_DIGITS = {"int2": 5, "int4": 10, "int8": 19}
# Integer types a float type holds exactly (float4 has a 24-bit mantissa, float8 53).
_EXACT_FLOATS = {"float4": frozenset({"int2"}), "float8": frozenset({"int2", "int4"})}

# Prisma's client for the old schema keeps its Int field on the new column.
_PRISMA_TRUNCATES = (
    "Prisma's client for the old schema still maps the field to Int and reads a value "
    "with a fraction written by the new code as a whole number (1.5 reads as 1)"
)


@dataclass(frozen=True)
class Readback:
    """What changes for the running app: ``everyone`` sees it whatever the client (the
    stored value itself changes), ``psycopg`` and ``prisma`` are what that client returns
    differently. An empty string: nothing changes there."""

    everyone: str = ""
    psycopg: str = ""
    prisma: str = ""
    advice: str = ""

    def effects(self, prisma: bool) -> list[str]:
        """The sentences that apply to an app using Prisma (else a Python app)."""
        own = self.prisma if prisma else self.psycopg
        return [s for s in (self.everyone, own) if s]


def reads_back_unchanged(old: ColumnType, new: ColumnType) -> bool:
    """Whether values keep their text and their client type when they move from ``old``
    to ``new`` (when every value fits: the caller knows that from ``analyse_type_change``)."""
    a, b = canonical_type(old.name), canonical_type(new.name)
    if a == b == "numeric" and old.params and new.params:
        # A larger scale keeps every value but prints it differently (1.50 → 1.5000).
        return (old.params[1:] or (0,)) == (new.params[1:] or (0,))
    return a == b or any(a in f and b in f for f in _FAMILIES)


def _scale(params: tuple[int, ...]) -> int:
    return params[1] if len(params) > 1 else 0


def _holds_numeric(old: tuple[int, ...], new: tuple[int, ...]) -> bool:
    """numeric(new) holds every numeric(old) value: no fewer integer digits or decimals."""
    if not new:
        return True
    return bool(old) and (
        new[0] - _scale(new) >= old[0] - _scale(old) and _scale(new) >= _scale(old)
    )


def _integer(old: TypeKey, new: TypeKey) -> Readback | None:
    on, (nn, np_, _) = old[0], new
    if nn == "numeric" and (not np_ or np_[0] - _scale(np_) >= _INT_DIGITS[on]):
        return Readback(
            psycopg="psycopg returns Decimal instead of int (Decimal does not mix with float "
            "in arithmetic, and json.dumps rejects it)",
            prisma=_PRISMA_TRUNCATES,
        )
    if on in _EXACT_FLOATS.get(nn, ()):
        return Readback(
            psycopg="psycopg returns float instead of int (5.0, not 5)", prisma=_PRISMA_TRUNCATES
        )
    return None


def readback(old: ColumnType, new: ColumnType, zone_set: bool = False) -> Readback | None:
    """What the running app sees differently once a column of type ``old`` becomes ``new``
    (no USING), when ``new`` holds every ``old`` value; None when it does not, or when
    this module does not know the pair (the caller then treats it as a conversion).
    ``zone_set``: the migration chose the session's TimeZone before the ALTER, so the
    zone stored times are read in is its author's decision, not an accident."""
    o, n = type_key(old), type_key(new)
    if o[2] or n[2]:
        return None  # arrays: analyse_type_change judges them element by element
    (on, op_, _), (nn, np_, _) = o, n
    if on in _INT_DIGITS:
        return _integer(o, n)
    if on == nn == "numeric" and op_ and _holds_numeric(op_, np_):
        if not np_ or _scale(np_) == _scale(op_):
            return Readback()
        return Readback(
            psycopg="psycopg returns Decimal('1.5000') where it returned Decimal('1.50'): "
            "equal in comparisons, but printed and serialised with more decimals"
        )
    if (on, nn) == ("timestamp", "timestamptz") and (
        not np_ or (op_ and np_[0] >= op_[0]) or np_[0] >= 6
    ):
        aware = (
            "psycopg returns aware datetimes where the old code gets naive ones, and Python "
            "refuses to compare the two (TypeError)"
        )
        if zone_set:
            return Readback(psycopg=aware)
        return Readback(
            everyone="Postgres reads each stored value as a local time in the TimeZone of "
            "the session running the ALTER, so every value shifts unless that is the zone "
            "the app wrote them in",
            psycopg=aware,
            advice="If the app wrote its times in UTC, set that zone first so they keep their "
            "meaning (and, without a precision below 6, PostgreSQL 12+ skips the rewrite):\n"
            "    SET TimeZone = 'UTC';",
        )
    if on == "bpchar" and (nn == "text" or (nn == "varchar" and (not np_ or np_ >= op_[:1]))):
        return Readback(
            everyone="Postgres strips the trailing spaces char(n) pads values with ('ab   ' "
            "reads back as 'ab'), and comparisons stop ignoring trailing spaces"
        )
    return None
