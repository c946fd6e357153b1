"""How many rows each table gets, and which tables are seeded at all.

The tables seeded are those the changeset names or the app's queries name, and every
table they reference. Their row count comes from the statistics file when it lists
the table, else from the config's per-table ``rows``, else ``--rows``; ``--scale``
multiplies them all.
"""

from __future__ import annotations

import hashlib
import json
import re

from migcheck.rehearse.options import RehearseOptions
from migcheck.rehearse.tables import Table, with_parents
from migcheck.tablestats import TableStats

# Bump when what a seeded template holds changes (the seeding expressions).
SEED_FORMAT = 1
_WORD = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][\w$]*)')


def named_tables(tables: dict[int, Table], texts: list[str]) -> set[int]:
    """Tables whose name (quoted exactly, or unquoted in any case) occurs in ``texts``."""
    words: set[str] = set()
    for text in texts:
        for quoted, bare in _WORD.findall(text):
            words.add(quoted.replace('""', '"') if quoted else bare.lower())
    return {oid for oid, t in tables.items() if t.name in words}


def row_counts(
    tables: dict[int, Table],
    chosen: set[int],
    options: RehearseOptions,
    stats: TableStats | None,
) -> dict[int, int]:
    counts = {}
    for oid in with_parents(tables, chosen):
        table = tables[oid]
        size = stats.find(table.qualname) if stats is not None else None
        configured = options.table_rows.get(table.qualname, options.table_rows.get(table.name))
        if size is not None:
            rows = size.rows
        elif configured is not None:
            rows = configured
        else:
            rows = options.rows
        counts[oid] = max(1, round(rows * options.scale)) if rows else 0
    return counts


def seed_key(base_key: str, tables: dict[int, Table], counts: dict[int, int]) -> str:
    """The cache key of a seeded template: the base schema's key and the volume."""
    volume = sorted((tables[oid].qualname, rows) for oid, rows in counts.items())
    text = json.dumps([f"rehearse-seed:{SEED_FORMAT}", base_key, volume])
    return hashlib.sha256(text.encode()).hexdigest()
