"""Errors whose message is meant for the user: the CLI prints it and exits 2.

Kept in a module of its own so the CLI can catch them without importing the modules
that raise them (git, baseline), which are not on the start-up path of a plain run.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the input or the environment, explained in one message."""
