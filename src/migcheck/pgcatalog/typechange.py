"""What ``ALTER COLUMN ... TYPE`` does: whether Postgres rewrites the table, and whether
the change is a widening the old application survives.

A change is a chain of casts (the old type, each cast of a ``USING``, the new type), each
judged by the single-cast rules in ``casts.py``; arrays, serials and an unknown old type
are decided here.
"""

from __future__ import annotations

import itertools

from migcheck.model import ColumnType, Expression
from migcheck.pgcatalog.casts import (
    TypeChange,
    cross_type,
    no_rewrite,
    rewrite,
    typmod_change,
    version_num,
)
from migcheck.pgcatalog.typenames import TypeKey, display_key, is_serial, type_key
from migcheck.pgcatalog.using import using_steps

__all__ = ["TypeChange", "analyse_type_change", "is_utc"]

# TimeZone names PostgreSQL resolves to a fixed offset of 0 (pg_get_timezone_offset), the
# condition under which timestamp <-> timestamptz needs no rewrite (12+).
_UTC_ZONES = frozenset(
    {
        "utc",
        "etc/utc",
        "uct",
        "etc/uct",
        "gmt",
        "etc/gmt",
        "universal",
        "etc/universal",
        "zulu",
        "etc/zulu",
        "greenwich",
        "etc/greenwich",
        "gmt0",
        "etc/gmt0",
    }
)


def is_utc(timezone: str | None) -> bool:
    """Whether a session TimeZone setting (as a migration wrote it) has offset 0 all year."""
    return timezone is not None and timezone.strip().strip("'").lower() in _UTC_ZONES


def _analyse(old: TypeKey, new: TypeKey, vnum: int, utc: bool = False) -> TypeChange:
    o, n = display_key(*old), display_key(*new)
    if old == new or (old[:2] == new[:2] and old[2] and new[2]):
        # Postgres does not enforce array dimensions: int[] and int[][] are one type.
        return no_rewrite(
            f"{o} → {n} does not change the type; Postgres neither rewrites rows nor rebuilds "
            "indexes",
            True,
        )
    if bool(old[2]) != bool(new[2]):
        return rewrite(
            f"{o} → {n} turns {'an array into a scalar' if old[2] else 'a scalar into an array'}"
            f": every value is converted and Postgres rewrites the table",
            False,
        )
    if old[2]:
        # ATColumnChangeRequiresRewrite does not look inside an array coercion: any change
        # of element type or added length rewrites (observed: varchar[] → text[] and
        # varchar(50)[] → varchar(100)[] rewrite). Only dropping the element's typmod
        # needs no coercion at all.
        element = _analyse((old[0], old[1], 0), (new[0], new[1], 0), vnum)
        if old[0] == new[0] and not new[1]:
            return no_rewrite(
                f"{o} → {n} only drops the element's limit; Postgres changes the catalog "
                "without touching rows",
                True,
            )
        return rewrite(
            f"{o} → {n} converts every array element, and Postgres rewrites the table "
            "even where the same change on a plain column would not",
            element.widening,
        )
    if old[0] == new[0]:
        return typmod_change(old[0], old, new, vnum)
    return cross_type(old, new, vnum, utc)


def analyse_type_change(
    old: ColumnType | None,
    new: ColumnType,
    pg_version: int,
    using: Expression | None = None,
    column: str | None = None,
    timezone: str | None = None,
) -> TypeChange:
    """What ``ALTER COLUMN column TYPE new [USING using]`` does to a column of type ``old``
    on PostgreSQL ``pg_version`` (a major version such as 16, or a server_version_num).

    timestamp <-> timestamptz is reported as a rewrite: Postgres skips it only when the
    session's TimeZone is UTC, which a migration file cannot promise unless it sets it
    (``timezone``: the TimeZone the migration set before the ALTER, if it did).
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
    vnum = version_num(pg_version)
    utc = is_utc(timezone)
    new_key = type_key(new)
    chain = [type_key(old)]
    if using is not None:
        steps = using_steps(using, column)
        if steps is None:
            return rewrite(
                f"the USING expression ({using.text.strip()}) computes new values, so "
                f"Postgres rewrites every row",
                False,
            )
        chain += [type_key(step) for step in steps]
    chain.append(new_key)
    # Casts chained in USING behave like successive ALTERs: no rewrite only if no link
    # needs one (ATColumnChangeRequiresRewrite walks through every relabel in the chain).
    links = [(a, b) for a, b in itertools.pairwise(chain) if a != b]
    if len(links) <= 1:
        return _analyse(chain[0], new_key, vnum, utc)
    results = [_analyse(a, b, vnum, utc) for a, b in links]
    # Values survive the chain unchanged when each type along it holds every old value
    # unchanged: varchar(50) USING c::text → varchar(200) widens, although text alone
    # would not fit varchar(200).
    widening = all(_analyse(chain[0], k, vnum).widening for k in chain[1:])
    rewriting = next((r for r in results if r.rewrite), None)
    if rewriting is not None:
        via = ", ".join(display_key(*k) for k in chain[1:-1] if k not in (chain[0], new_key))
        return rewrite(f"the USING casts through {via}: {rewriting.reason}", widening)
    return no_rewrite(
        _analyse(chain[0], new_key, vnum, utc).reason,
        widening,
        rebuilds_indexes=any(r.rebuilds_indexes for r in results),
    )
