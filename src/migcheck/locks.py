"""Which lock each operation takes, and what that lock blocks.

Follows the PostgreSQL documentation, "13.3.1 Table-Level Locks" and the lock level
each ALTER TABLE subcommand declares (``AlterTableGetLockLevel`` in tablecmds.c).
"""

from __future__ import annotations

from collections.abc import Callable

from migcheck.model import ALTER_TABLE_KINDS, Op

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE"
SHARE = "SHARE"
SHARE_ROW_EXCLUSIVE = "SHARE ROW EXCLUSIVE"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE"
EXCLUSIVE = "EXCLUSIVE"

# What other sessions can no longer do while the lock is held.
BLOCKS = {
    "ACCESS SHARE": "nothing but ACCESS EXCLUSIVE",
    "ROW SHARE": "EXCLUSIVE and ACCESS EXCLUSIVE locks",
    "ROW EXCLUSIVE": "SHARE locks and stronger (CREATE INDEX, VACUUM FULL...)",
    SHARE_UPDATE_EXCLUSIVE: "other schema changes and VACUUM, but not reads or writes",
    SHARE: "writes (INSERT, UPDATE, DELETE); reads continue",
    SHARE_ROW_EXCLUSIVE: "writes (INSERT, UPDATE, DELETE); reads continue",
    EXCLUSIVE: "writes and SELECT ... FOR UPDATE; plain reads continue",
    ACCESS_EXCLUSIVE: "every read and write on the table",
}

# Every table lock mode, weakest first.
LOCK_MODES = tuple(BLOCKS)

BLOCKING_MODES = frozenset({SHARE, SHARE_ROW_EXCLUSIVE, EXCLUSIVE, ACCESS_EXCLUSIVE})

_ALTER_TABLE_WEAKER = {
    "validate_constraint": SHARE_UPDATE_EXCLUSIVE,
    "set_statistics": SHARE_UPDATE_EXCLUSIVE,
    "set_storage_param": SHARE_UPDATE_EXCLUSIVE,
    "cluster_on": SHARE_UPDATE_EXCLUSIVE,
    "attach_partition": SHARE_UPDATE_EXCLUSIVE,
    "enable_trigger": SHARE_ROW_EXCLUSIVE,
    "disable_trigger": SHARE_ROW_EXCLUSIVE,
}


def lock_for(op: Op) -> tuple[str, str | None] | None:
    """(lock mode, relation) the op takes on the table it acts on, or None if it takes
    no lock worth a reader's attention. The relation is the table when known."""
    if op.kind in ALTER_TABLE_KINDS:
        return _alter_table_lock(op), op.table
    mode_of = _LOCKS.get(op.kind)
    return None if mode_of is None else (mode_of(op), op.table)


def _alter_table_lock(op: Op) -> str:
    k = op.kind
    if k == "add_constraint" and op.constraint and op.constraint.kind == "foreign_key":
        return SHARE_ROW_EXCLUSIVE
    if k == "detach_partition" and op.concurrently:
        return SHARE_UPDATE_EXCLUSIVE
    if k == "rename_column" and op.options.get("relkind") == "view":
        return ACCESS_EXCLUSIVE
    return _ALTER_TABLE_WEAKER.get(k, ACCESS_EXCLUSIVE)


def _always(mode: str) -> Callable[[Op], str]:
    return lambda op: mode


def _unless_concurrent(mode: str) -> Callable[[Op], str]:
    """``mode``, or SHARE UPDATE EXCLUSIVE for the CONCURRENTLY form."""
    return lambda op: SHARE_UPDATE_EXCLUSIVE if op.concurrently else mode


# The lock each kind of op outside ALTER TABLE takes on its table.
_LOCKS: dict[str, Callable[[Op], str]] = {
    "drop_table": _always(ACCESS_EXCLUSIVE),
    "drop_view": _always(ACCESS_EXCLUSIVE),
    "truncate": _always(ACCESS_EXCLUSIVE),
    "rename_view": _always(ACCESS_EXCLUSIVE),
    "cluster": _always(ACCESS_EXCLUSIVE),
    "refresh_matview": lambda op: EXCLUSIVE if op.concurrently else ACCESS_EXCLUSIVE,
    "vacuum": lambda op: ACCESS_EXCLUSIVE if op.mode == "full" else SHARE_UPDATE_EXCLUSIVE,
    "lock": lambda op: op.mode or ACCESS_EXCLUSIVE,
    "create_index": _unless_concurrent(SHARE),
    "drop_index": _unless_concurrent(ACCESS_EXCLUSIVE),
    "reindex": _unless_concurrent(SHARE),
    "create_trigger": _always(SHARE_ROW_EXCLUSIVE),
    # Measured on PostgreSQL 18: DROP TRIGGER holds ACCESS EXCLUSIVE on its table, unlike
    # CREATE TRIGGER and ENABLE/DISABLE TRIGGER (SHARE ROW EXCLUSIVE).
    "drop_trigger": _always(ACCESS_EXCLUSIVE),
    # Measured on PostgreSQL 16 and 18, on the index: SET TABLESPACE takes ACCESS
    # EXCLUSIVE (and every query on the table then waits), SET (fillfactor …) SHARE UPDATE
    # EXCLUSIVE. The relation is the index; callers find its table.
    "alter_index": lambda op: (
        ACCESS_EXCLUSIVE if op.mode == "tablespace" else SHARE_UPDATE_EXCLUSIVE
    ),
}


def is_blocking(mode: str | None) -> bool:
    return mode in BLOCKING_MODES
