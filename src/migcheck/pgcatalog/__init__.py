"""What PostgreSQL itself knows, so rules decide precisely instead of guessing.

Four kinds of knowledge; this package re-exports what rules use:

* ``volatility``: how volatile a function is (``function_volatility``), read from the
  real ``pg_catalog``.
* ``typenames``: every type alias mapped to its ``typname`` and back (``canonical_type``,
  ``display_type``, ``parse_type``).
* ``typechange``: what ``ALTER COLUMN ... TYPE`` does (``analyse_type_change``), from the
  single-cast rules in ``casts`` and the ``USING`` casts ``using`` reads.
* ``readback``: what the app still running reads back after a type change that keeps every
  value (``readback``, ``reads_back_unchanged``), per client.

This package is on the CLI's start-up path: it imports nothing heavier than the model.
"""

from __future__ import annotations

from migcheck.pgcatalog.readback import Readback, readback, reads_back_unchanged
from migcheck.pgcatalog.typechange import TypeChange, analyse_type_change
from migcheck.pgcatalog.typenames import canonical_type, display_type, is_serial, parse_type
from migcheck.pgcatalog.volatility import (
    IMMUTABLE,
    STABLE,
    UNKNOWN,
    VOLATILE,
    combine_volatility,
    function_volatility,
)

__all__ = [
    "IMMUTABLE",
    "STABLE",
    "UNKNOWN",
    "VOLATILE",
    "Readback",
    "TypeChange",
    "analyse_type_change",
    "canonical_type",
    "combine_volatility",
    "display_type",
    "function_volatility",
    "is_serial",
    "parse_type",
    "readback",
    "reads_back_unchanged",
]
