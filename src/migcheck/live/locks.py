"""The eight table-level lock modes as ``pg_locks`` names them, and what each blocks.

Application traffic takes ACCESS SHARE (SELECT) and ROW EXCLUSIVE (INSERT, UPDATE,
DELETE); a migration's lock blocks reads when it conflicts with the first and writes
when it conflicts with the second. Conflicts follow the PostgreSQL documentation,
"Explicit Locking: Table-Level Locks".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LockMode:
    name: str  # as written in SQL: "ACCESS EXCLUSIVE"
    strength: int  # 1 (weakest) .. 8
    conflicts: frozenset[str]
    taken_by: str  # typical statements

    @property
    def blocks_reads(self) -> bool:
        return "ACCESS SHARE" in self.conflicts

    @property
    def blocks_writes(self) -> bool:
        return "ROW EXCLUSIVE" in self.conflicts

    @property
    def blocks(self) -> str:
        if self.blocks_reads:
            return "reads and writes"
        if self.blocks_writes:
            return "writes"
        return "neither reads nor writes"


def _mode(name: str, strength: int, conflicts: str, taken_by: str) -> LockMode:
    return LockMode(name, strength, frozenset(c.strip() for c in conflicts.split(",")), taken_by)


MODES: dict[str, LockMode] = {
    "AccessShareLock": _mode("ACCESS SHARE", 1, "ACCESS EXCLUSIVE", "SELECT"),
    "RowShareLock": _mode(
        "ROW SHARE", 2, "EXCLUSIVE, ACCESS EXCLUSIVE", "SELECT ... FOR UPDATE/SHARE"
    ),
    "RowExclusiveLock": _mode(
        "ROW EXCLUSIVE",
        3,
        "SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE",
        "INSERT, UPDATE, DELETE",
    ),
    "ShareUpdateExclusiveLock": _mode(
        "SHARE UPDATE EXCLUSIVE",
        4,
        "SHARE UPDATE EXCLUSIVE, SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE",
        "VACUUM, CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT",
    ),
    "ShareLock": _mode(
        "SHARE",
        5,
        "ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE",
        "CREATE INDEX",
    ),
    "ShareRowExclusiveLock": _mode(
        "SHARE ROW EXCLUSIVE",
        6,
        "ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE, SHARE ROW EXCLUSIVE, EXCLUSIVE, "
        "ACCESS EXCLUSIVE",
        "CREATE TRIGGER, ADD FOREIGN KEY",
    ),
    "ExclusiveLock": _mode(
        "EXCLUSIVE",
        7,
        "ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE, SHARE ROW EXCLUSIVE, "
        "EXCLUSIVE, ACCESS EXCLUSIVE",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY",
    ),
    "AccessExclusiveLock": _mode(
        "ACCESS EXCLUSIVE",
        8,
        "ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE, SHARE UPDATE EXCLUSIVE, SHARE, "
        "SHARE ROW EXCLUSIVE, EXCLUSIVE, ACCESS EXCLUSIVE",
        "most ALTER TABLE forms, DROP, TRUNCATE, VACUUM FULL",
    ),
}

BY_NAME: dict[str, LockMode] = {mode.name: mode for mode in MODES.values()}


def mode(pg_name: str) -> LockMode:
    """The mode for a ``pg_locks.mode`` value; unknown names (none today) pass through."""
    found = MODES.get(pg_name)
    if found is None:
        return LockMode(pg_name, 0, frozenset(), "")
    return found


def is_blocking(name: str) -> bool:
    """True for the modes that stop application reads or writes."""
    found = BY_NAME.get(name)
    return found is not None and (found.blocks_reads or found.blocks_writes)
