"""How volatile a function is: immutable, stable, volatile, or unknown (a user function).

The built-in functions come from the real ``pg_catalog`` (``scripts/gen_volatility.py``
writes ``migcheck._volatility``); the SQL-standard keyword functions the catalog spells
differently (``current_timestamp``...) are listed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from migcheck import _volatility
from migcheck.pgcatalog.typenames import split_identifier

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


def function_volatility(name: str) -> str:
    """How volatile the function ``name`` is: "immutable", "stable", "volatile", or
    "unknown" for a function that is not built in (a user function).

    ``name`` may be schema-qualified: ``pg_catalog.now`` is the builtin; any other schema
    holds user functions, except extension functions (``public.uuid_generate_v4``), which
    live wherever the extension was installed.
    """
    parts = split_identifier(re.sub(r"\(.*$", "", name.strip(), flags=re.S))
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
