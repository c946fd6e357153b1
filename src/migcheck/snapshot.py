"""A replayed schema state as plain data, so the result cache can store it.

A pre-commit run in a long history needs the schema the history builds before the new
file; an audit comparing the app's schema needs the one it builds in the end. Replaying
the history for that means decoding every earlier file's statements and applying them.
The per-history cache (``histcache``) stores instead the state after a migration under
that migration's chain key, and the engine goes on from there.

The state is read back by the strict ``datacodec`` like every cache entry: it is data
(dataclasses of strings, numbers and tuples), never code. ``Schema``'s maps keyed by
tuples are stored as ordered lists of pairs, so the order rules see is the order the
replay built. The transaction count is part of it: objects remember the transaction
that created them by number, and a resumed walk must number the next ones the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from migcheck.schema import (
    ColumnInfo,
    ConstraintInfo,
    ConstraintMap,
    EnumInfo,
    IndexInfo,
    Origin,
    Schema,
    TableInfo,
)


@dataclass
class State:
    """A ``Schema`` and the number of transactions the walk had opened."""

    transactions: int
    tables: list[tuple[str, TableInfo]]
    indexes: list[tuple[str, IndexInfo]]
    constraints: list[tuple[str, str, ConstraintInfo]]
    enums: list[tuple[str, EnumInfo]]
    types: list[tuple[str, Origin | None]]
    domains: list[str]
    schemas: list[tuple[str, Origin | None]]
    dropped_tables: list[tuple[str, TableInfo, Origin]]
    dropped_columns: list[tuple[str, str, ColumnInfo, Origin]]
    changes: list[tuple[str, str, list[tuple[str, Origin, str | None]]]]


def capture(schema: Schema, transactions: int) -> State:
    """The state, sharing the schema's objects: encode it before the walk goes on."""
    return State(
        transactions=transactions,
        tables=list(schema.tables.items()),
        indexes=list(schema.indexes.items()),
        constraints=[(t, n, c) for (t, n), c in schema.constraints.items()],
        enums=list(schema.enums.items()),
        types=list(schema.types.items()),
        # A set's order is the process's own (string hashing is randomized): no result
        # can depend on it, and a sorted list stores it the same way every time.
        domains=sorted(schema.domains),
        schemas=list(schema.schemas.items()),
        dropped_tables=[(k, t, o) for k, (t, o) in schema.dropped_tables.items()],
        dropped_columns=[(t, c, i, o) for (t, c), (i, o) in schema.dropped_columns.items()],
        changes=[(t, c, v) for (t, c), v in schema.changes.items()],
    )


def restore(state: State) -> Schema:
    """The ``Schema`` the state was captured from (a fresh one: the state is consumed)."""
    schema = Schema()
    schema.tables = dict(state.tables)
    schema.indexes = dict(state.indexes)
    schema.constraints = ConstraintMap(((t, n), c) for t, n, c in state.constraints)
    schema.enums = dict(state.enums)
    schema.types = dict(state.types)
    schema.domains = set(state.domains)
    schema.schemas = dict(state.schemas)
    schema.dropped_tables = {k: (t, o) for k, t, o in state.dropped_tables}
    schema.dropped_columns = {(t, c): (i, o) for t, c, i, o in state.dropped_columns}
    schema.changes = {(t, c): v for t, c, v in state.changes}
    return schema
