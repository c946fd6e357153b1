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

This package is on the CLI's start-up path: it imports nothing heavier than the model,
and ``typechange`` (with the cast tables) and ``volatility`` (with the catalog's function
list) load on first use: a run that only names types (the app schema's drift check) does
not pay for them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

# Bound eagerly: "readback" names both a submodule and its function, and a lazy binding
# would lose to the submodule's attribute once anything imported the submodule first.
from migcheck.pgcatalog.readback import Readback, readback, reads_back_unchanged
from migcheck.pgcatalog.typenames import canonical_type, display_type, is_serial, parse_type

if TYPE_CHECKING:
    from migcheck.pgcatalog.typechange import TypeChange, analyse_type_change
    from migcheck.pgcatalog.volatility import (
        IMMUTABLE,
        STABLE,
        UNKNOWN,
        VOLATILE,
        combine_volatility,
        function_volatility,
    )

_LAZY = {
    "TypeChange": "typechange",
    "analyse_type_change": "typechange",
    "IMMUTABLE": "volatility",
    "STABLE": "volatility",
    "UNKNOWN": "volatility",
    "VOLATILE": "volatility",
    "combine_volatility": "volatility",
    "function_volatility": "volatility",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip this function
    return value


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
