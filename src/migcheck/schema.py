"""The schema model: what the database looks like, replayed statically from the history.

Every statement's ops are applied in order. Each object remembers the deploy, migration
and transaction that created it, which is how rules tell "an existing table that serves
traffic" from "a table this deploy just created and nobody uses yet". Objects the
history never showed (a history that starts mid-way) are simply absent: rules treat an
unknown table as existing, the conservative choice, and an unknown type as unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from migcheck.model import INDEX_KEY_SEP, ColumnDef, ColumnType, Constraint, Expression, Op


@dataclass(frozen=True)
class Origin:
    """Where an object was created: deploy number, migration index, transaction id, and
    the line of the statement in its migration (0 when unknown)."""

    deploy: int
    migration: int
    transaction: int
    line: int = 0


@dataclass
class ColumnInfo:
    name: str
    type: ColumnType | None
    not_null: bool = False
    default: Expression | None = None
    generated: str | None = None
    origin: Origin | None = None


@dataclass
class ConstraintInfo:
    name: str
    kind: str
    table: str
    columns: tuple[str, ...] = ()
    validated: bool = True
    not_null_column: str | None = None
    ref_table: str | None = None
    origin: Origin | None = None
    text: str = ""  # as written, e.g. ``CHECK (k >= 0 AND k < 10)``


@dataclass
class IndexInfo:
    name: str
    table: str | None
    unique: bool = False
    origin: Origin | None = None
    # The key columns in order (empty when unknown); an expression key is not a column.
    columns: tuple[str, ...] = ()
    partial: bool = False
    # Every key as normalised text (``email``, ``lower ( email )``), the columns they
    # read, and the normalised predicate: empty keys when unknown (sql/indexkeys.py).
    keys: tuple[str, ...] = ()
    refs: tuple[str, ...] = ()
    predicate: str | None = None


@dataclass
class TableInfo:
    name: str
    columns: dict[str, ColumnInfo] = field(default_factory=dict)
    origin: Origin | None = None
    kind: str = "table"  # "table" | "view" | "matview"
    # A partitioned table's key columns (empty when the key is an expression); None for a
    # table that is not partitioned.
    partition_key: tuple[str, ...] | None = None
    # The partitioned table this one is a partition of, and whether it is the DEFAULT one.
    partition_of: str | None = None
    default_partition: bool = False
    # A view's output columns in order, when its SELECT list names them all (else None).
    view_columns: tuple[str, ...] | None = None

    @property
    def partitioned(self) -> bool:
        """Declared PARTITION BY: PostgreSQL cannot index it CONCURRENTLY as a whole."""
        return self.partition_key is not None


_T = TypeVar("_T")


def _clone(obj: _T) -> _T:
    """A shallow copy of a plain dataclass instance (``copy.copy`` without its protocol
    lookups: a saved state copies thousands of them per keystroke)."""
    twin = object.__new__(type(obj))
    twin.__dict__.update(obj.__dict__)
    return twin


def _copy_table(table: TableInfo) -> TableInfo:
    twin = _clone(table)
    twin.columns = {k: _clone(c) for k, c in table.columns.items()}
    return twin


class ConstraintMap(dict[tuple[str, str], ConstraintInfo]):
    """``Schema.constraints`` by (table, name), also indexed by table: rules ask for one
    table's constraints at nearly every statement, and scanning every constraint of a
    long history each time made a cold audit quadratic. Each table's entries keep the
    order they have in the whole map."""

    def __init__(self, items: Iterable[tuple[tuple[str, str], ConstraintInfo]] = ()) -> None:
        super().__init__()
        self._by_table: dict[str, dict[str, ConstraintInfo]] = {}
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: tuple[str, str], value: ConstraintInfo) -> None:
        super().__setitem__(key, value)
        self._by_table.setdefault(key[0], {})[key[1]] = value

    def __delitem__(self, key: tuple[str, str]) -> None:
        super().__delitem__(key)
        names = self._by_table[key[0]]
        del names[key[1]]
        if not names:
            del self._by_table[key[0]]

    def pop(self, key: tuple[str, str], *default: Any) -> Any:
        if key in self:
            value = self[key]
            del self[key]
            return value
        if default:
            return default[0]
        raise KeyError(key)

    def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ConstraintMap keeps an index: set, delete or pop one key at a time")

    update = setdefault = popitem = clear = __ior__ = _unsupported

    def on(self, table: str | None) -> list[ConstraintInfo]:
        """The constraints of ``table``, in the map's order."""
        names = self._by_table.get(table) if table is not None else None
        return list(names.values()) if names else []

    def keys_on(self, table: str | None) -> list[tuple[str, str]]:
        names = self._by_table.get(table) if table is not None else None
        return [(table, n) for n in names] if names and table is not None else []


@dataclass
class EnumInfo:
    name: str
    values: list[str]
    origin: Origin | None = None


class Schema:
    """Tables, views, indexes, constraints and enum types, keyed by folded name."""

    def __init__(self) -> None:
        self.tables: dict[str, TableInfo] = {}
        self.indexes: dict[str, IndexInfo] = {}
        self.constraints = ConstraintMap()
        self.enums: dict[str, EnumInfo] = {}
        self.types: dict[str, Origin | None] = {}
        # Domains (CREATE DOMAIN), a subset of ``types``.
        self.domains: set[str] = set()
        self.schemas: dict[str, Origin | None] = {}
        # Tables dropped so far, as they were, with where they were dropped: the app's
        # use of a type that only they had goes with them (drop-type).
        self.dropped_tables: dict[str, tuple[TableInfo, Origin]] = {}
        # The last column dropped under each (table, column) name, as it was, with where it
        # was dropped: a column swapped in under that name replaces it (set-not-null).
        self.dropped_columns: dict[tuple[str, str], tuple[ColumnInfo, Origin]] = {}
        # Every change to a table ((table, "")) or column ((table, column)) after it was
        # created, in order: (op kind, where, the new name of a rename). An enum's changes
        # are under its name. What app-schema-mismatch names as the migration that made
        # the database side (the DROP, the RENAME, the SET NOT NULL).
        self.changes: dict[tuple[str, str], list[tuple[str, Origin, str | None]]] = {}

    def copy(self) -> Schema:
        """An independent copy, for a walk that goes on from here while this state is
        kept (the language server's saved states, ``engine.Replay.fork``). Every object
        ``apply`` changes is copied; frozen values (types, origins, defaults) are shared,
        which makes this many times cheaper than ``copy.deepcopy``."""
        twin = Schema()
        twin.tables = {k: _copy_table(t) for k, t in self.tables.items()}
        twin.indexes = {k: _clone(i) for k, i in self.indexes.items()}
        twin.constraints = ConstraintMap((k, _clone(c)) for k, c in self.constraints.items())
        twin.enums = {k: EnumInfo(e.name, list(e.values), e.origin) for k, e in self.enums.items()}
        twin.types = dict(self.types)
        twin.domains = set(self.domains)
        twin.schemas = dict(self.schemas)
        twin.dropped_tables = {k: (_copy_table(t), o) for k, (t, o) in self.dropped_tables.items()}
        twin.changes = {k: list(v) for k, v in self.changes.items()}
        twin.dropped_columns = dict(self.dropped_columns)
        return twin

    # -- questions rules ask -----------------------------------------------------------

    def table(self, name: str | None) -> TableInfo | None:
        return self.tables.get(name) if name else None

    def column(self, table: str | None, column: str | None) -> ColumnInfo | None:
        t = self.table(table)
        return t.columns.get(column) if t and column else None

    def constraints_on(self, table: str | None) -> list[ConstraintInfo]:
        return self.constraints.on(table)

    def has_validated_not_null_check(self, table: str | None, column: str | None) -> bool:
        return any(
            c.kind == "check" and c.validated and c.not_null_column == column
            for c in self.constraints_on(table)
        )

    def indexes_on(self, table: str | None) -> list[IndexInfo]:
        return [i for i in self.indexes.values() if i.table == table]

    def columns_of_type(self, type_name: str, arrays: bool = False) -> list[tuple[str, str]]:
        """(table, column) of every table column declared with the type ``type_name`` (with
        ``arrays``, the columns of an array of it instead)."""
        return [
            (t.name, c.name)
            for t in self.tables.values()
            if t.kind == "table"
            for c in t.columns.values()
            if c.type is not None and c.type.name == type_name and bool(c.type.array) == arrays
        ]

    def default_partition(self, parent: str | None) -> TableInfo | None:
        """The DEFAULT partition of ``parent``, if the history attached or created one."""
        return next(
            (t for t in self.tables.values() if t.partition_of == parent and t.default_partition),
            None,
        )

    def table_of_index(self, name: str | None) -> str | None:
        idx = self.indexes.get(name) if name else None
        return idx.table if idx else None

    def index(self, name: str | None, table: str | None = None) -> IndexInfo | None:
        """The index ``name`` as a statement names it; ``table`` is the table it is on when
        the statement says (CREATE INDEX name ON table), which places a bare name in that
        table's schema."""
        return self.indexes.get(index_key(name, table)) if name else None

    # -- replay ------------------------------------------------------------------------

    def apply(self, op: Op, origin: Origin) -> None:
        handler = getattr(self, "_" + op.kind, None)
        if handler is not None:
            handler(op, origin)
            if op.table and op.kind != "create_table":
                column = op.column or (op.column_def.name if op.column_def else "")
                self.changes.setdefault((op.table, column), []).append(
                    (op.kind, origin, op.new_name)
                )

    def _create_table(self, op: Op, origin: Origin) -> None:
        if not op.table:
            return
        if op.table in self.tables and op.options.get("if_not_exists"):
            return
        info = TableInfo(op.table, origin=origin)
        for col in op.columns:
            info.columns[col.name] = _column(col, origin)
        if op.options.get("partitioned"):
            info.partition_key = () if op.options.get("key_expression") else op.names
        info.partition_of = _str(op.options.get("partition_of"))
        info.default_partition = bool(op.options.get("default_partition"))
        parent = self.table(info.partition_of)
        # A partition has its parent's columns (NOT NULL included).
        for name, pcol in parent.columns.items() if parent is not None else ():
            info.columns.setdefault(
                name,
                ColumnInfo(name, pcol.type, pcol.not_null, pcol.default, pcol.generated, origin),
            )
        self.tables[op.table] = info
        for col in op.columns:
            for con in col.constraints:
                self._add_constraint_info(op.table, con, origin)
        for con in op.constraints:
            self._add_constraint_info(op.table, con, origin)

    def _add_constraint_info(self, table: str, con: Constraint, origin: Origin) -> None:
        if con.kind == "not_null":
            column = con.columns[0] if con.columns else None
            col = self.column(table, column)
            if col is not None and not con.not_valid:
                col.not_null = True
            if con.not_valid and con.name and column:
                # PostgreSQL 18: VALIDATE CONSTRAINT makes the column NOT NULL (no SET NOT
                # NULL scan needed), so remember the pending constraint.
                self.constraints[(table, con.name)] = ConstraintInfo(
                    con.name, "not_null", table, (column,), False, column, origin=origin
                )
            return
        name = con.name or default_constraint_name(table, con)
        columns = con.columns
        if con.using_index and not columns:
            attached = self.indexes.get(index_key(con.using_index, table))
            columns = attached.columns if attached is not None else ()
        self.constraints[(table, name)] = ConstraintInfo(
            name,
            con.kind,
            table,
            columns,
            not con.not_valid,
            con.not_null_column,
            con.ref_table,
            origin,
            con.text,
        )
        if con.kind == "primary_key":
            for c in columns:
                col = self.column(table, c)
                if col is not None:
                    col.not_null = True
        if con.kind in ("primary_key", "unique"):
            # USING INDEX renames the index to the constraint's name; either way the index
            # lives in the table's schema.
            if con.using_index:
                self.indexes.pop(index_key(con.using_index, table), None)
            idx = index_key(name, table)
            self.indexes.setdefault(
                idx, IndexInfo(idx, table, True, origin, columns, keys=columns, refs=columns)
            )
            self.indexes[idx].table = table

    def _drop_table(self, op: Op, origin: Origin) -> None:
        for name in [op.table]:
            if name in self.tables:
                self.dropped_tables[name] = (self.tables.pop(name), origin)
            self._forget_table_objects(name)
            # Dropping a partitioned table drops its partitions.
            for part in [t for t in self.tables.values() if t.partition_of == name]:
                self._drop_table(Op("drop_table", part.name), origin)

    _drop_view = _drop_table

    def _forget_table_objects(self, table: str | None) -> None:
        for key in self.constraints.keys_on(table):
            del self.constraints[key]
        for name in [n for n, i in self.indexes.items() if i.table == table]:
            del self.indexes[name]

    def _rename_table(self, op: Op, origin: Origin) -> None:
        if op.table in self.tables and op.new_name:
            info = self.tables.pop(op.table)
            info.name = op.new_name
            self.tables[op.new_name] = info
            for key in self.constraints.keys_on(op.table):
                con = self.constraints.pop(key)
                con.table = op.new_name
                self.constraints[(op.new_name, key[1])] = con
            for idx in self.indexes.values():
                if idx.table == op.table:
                    idx.table = op.new_name
            for t in self.tables.values():
                if t.partition_of == op.table:
                    t.partition_of = op.new_name

    _rename_view = _rename_table

    def _attach_partition(self, op: Op, origin: Origin) -> None:
        part = self.table(op.name)
        if part is not None and op.table:
            part.partition_of = op.table
            part.default_partition = bool(op.options.get("default"))

    def _detach_partition(self, op: Op, origin: Origin) -> None:
        part = self.table(op.name)
        if part is not None and part.partition_of == op.table:
            part.partition_of = None
            part.default_partition = False

    def _create_schema(self, op: Op, origin: Origin) -> None:
        if op.name and op.name not in self.schemas:
            self.schemas[op.name] = origin

    def _drop_schema(self, op: Op, origin: Origin) -> None:
        self.schemas.pop(op.name or "", None)

    def _rename_schema(self, op: Op, origin: Origin) -> None:
        """Every table, view and index of the schema moves to the new name."""
        old, new = op.name, op.new_name
        if not old or not new:
            return
        if old in self.schemas:
            self.schemas[new] = self.schemas.pop(old)
        prefix = old + "."
        for name in [n for n in self.tables if n.startswith(prefix)]:
            self._rename_table(Op("rename_table", name, new_name=new + name[len(old) :]), origin)
        for name in [n for n in self.indexes if n.startswith(prefix)]:
            idx = self.indexes.pop(name)
            idx.name = new + name[len(old) :]
            self.indexes[idx.name] = idx

    def _create_view(self, op: Op, origin: Origin) -> None:
        if op.table:
            kind = "matview" if op.options.get("materialized") else "view"
            existing = self.tables.get(op.table)
            known = op.names if op.options.get("columns_known") else None
            if existing is None or not op.options.get("replace"):
                existing = self.tables[op.table] = TableInfo(op.table, origin=origin, kind=kind)
            # CREATE OR REPLACE keeps the old columns and may append new ones.
            existing.view_columns = known

    def _add_column(self, op: Op, origin: Origin) -> None:
        t = self.table(op.table)
        if t is None or op.column_def is None:
            return
        t.columns[op.column_def.name] = _column(op.column_def, origin)
        for con in op.column_def.constraints:
            self._add_constraint_info(t.name, con, origin)

    def _drop_column(self, op: Op, origin: Origin) -> None:
        t = self.table(op.table)
        if t is not None and op.column:
            col = t.columns.pop(op.column, None)
            if col is not None:
                self.dropped_columns[(t.name, op.column)] = (col, origin)

    def _rename_column(self, op: Op, origin: Origin) -> None:
        t = self.table(op.table)
        if t is not None and t.view_columns is not None and op.new_name:
            t.view_columns = tuple(op.new_name if c == op.column else c for c in t.view_columns)
        if t is not None and op.column in t.columns and op.new_name:
            col = t.columns.pop(op.column)
            col.name = op.new_name
            t.columns[op.new_name] = col

    def _alter_column_type(self, op: Op, origin: Origin) -> None:
        col = self.column(op.table, op.column)
        if col is not None:
            col.type = op.type

    def _set_not_null(self, op: Op, origin: Origin) -> None:
        col = self.column(op.table, op.column)
        if col is not None:
            col.not_null = True

    def _drop_not_null(self, op: Op, origin: Origin) -> None:
        col = self.column(op.table, op.column)
        if col is not None:
            col.not_null = False

    def _set_default(self, op: Op, origin: Origin) -> None:
        col = self.column(op.table, op.column)
        if col is not None:
            col.default = op.default

    def _drop_default(self, op: Op, origin: Origin) -> None:
        col = self.column(op.table, op.column)
        if col is not None:
            col.default = None

    def _add_constraint(self, op: Op, origin: Origin) -> None:
        if op.table and op.constraint is not None:
            self._add_constraint_info(op.table, op.constraint, origin)

    def _validate_constraint(self, op: Op, origin: Origin) -> None:
        con = self.constraints.get((op.table or "", op.name or ""))
        if con is not None:
            con.validated = True
            col = self.column(op.table, con.not_null_column) if con.kind == "not_null" else None
            if col is not None:
                col.not_null = True

    def _drop_constraint(self, op: Op, origin: Origin) -> None:
        con = self.constraints.pop((op.table or "", op.name or ""), None)
        # Dropping a primary key or unique constraint drops the index behind it, which
        # has the constraint's name.
        if con is None or con.kind in ("primary_key", "unique", "exclude"):
            idx = self.index(op.name, op.table)
            if idx is not None and idx.table == op.table:
                self.indexes.pop(index_key(op.name, op.table), None)

    def _rename_constraint(self, op: Op, origin: Origin) -> None:
        con = self.constraints.pop((op.table or "", op.name or ""), None)
        if con is not None and op.new_name:
            con.name = op.new_name
            self.constraints[(op.table or "", op.new_name)] = con

    def _create_index(self, op: Op, origin: Origin) -> None:
        if op.name:
            key = index_key(op.name, op.table)
            if key in self.indexes and op.options.get("if_not_exists"):
                return
            keys, refs = _index_keys(op)
            where = op.options.get("where")
            self.indexes[key] = IndexInfo(
                key,
                op.table,
                op.unique,
                origin,
                _key_columns(op),
                op.has_where,
                keys,
                refs,
                where if isinstance(where, str) else None,
            )

    def _drop_index(self, op: Op, origin: Origin) -> None:
        if op.name:
            self.indexes.pop(op.name, None)

    def _rename_index(self, op: Op, origin: Origin) -> None:
        if op.name in self.indexes and op.new_name:
            idx = self.indexes.pop(op.name)
            # ALTER INDEX app.i RENAME TO j keeps the index in its table's schema (app).
            new = index_key(op.new_name, idx.table)
            idx.name = new
            self.indexes[new] = idx

    def _create_enum(self, op: Op, origin: Origin) -> None:
        if op.name:
            self.enums[op.name] = EnumInfo(op.name, list(op.values), origin)
            self.types[op.name] = origin

    def _create_type(self, op: Op, origin: Origin) -> None:
        if op.name:
            self.types[op.name] = origin
            if op.options.get("domain"):
                self.domains.add(op.name)

    def _add_enum_value(self, op: Op, origin: Origin) -> None:
        e = self.enums.get(op.table or "")
        if e is not None:
            e.values.extend(v for v in op.values if v not in e.values)

    def _rename_enum_value(self, op: Op, origin: Origin) -> None:
        e = self.enums.get(op.table or "")
        if e is not None and op.values and op.new_name:
            e.values = [op.new_name if v == op.values[0] else v for v in e.values]

    def _rename_type(self, op: Op, origin: Origin) -> None:
        if op.name and op.new_name:
            if op.name in self.enums:
                e = self.enums.pop(op.name)
                e.name = op.new_name
                self.enums[op.new_name] = e
            if op.name in self.types:
                self.types[op.new_name] = self.types.pop(op.name)
            for t in self.tables.values():
                for col in t.columns.values():
                    if col.type is not None and col.type.name == op.name:
                        col.type = ColumnType(
                            op.new_name, col.type.params, col.type.array, col.type.text
                        )

    def _drop_type(self, op: Op, origin: Origin) -> None:
        if op.name:
            self.enums.pop(op.name, None)
            self.types.pop(op.name, None)
            self.domains.discard(op.name)


_SUFFIX = {
    "primary_key": "pkey",
    "unique": "key",
    "foreign_key": "fkey",
    "check": "check",
    "exclude": "excl",
    "not_null": "not_null",
}


def index_key(name: str | None, table: str | None) -> str:
    """How the schema keys an index: the name as written, qualified with the schema of
    ``table`` (any dotted name whose prefix is the schema) when the name is bare. An index
    always lives in its table's schema, and DROP INDEX names it that way (``DROP INDEX
    storage.idx`` for ``CREATE INDEX idx ON storage.objects``)."""
    if not name or "." in name or not table or "." not in table:
        return name or ""
    return f"{table.rsplit('.', 1)[0]}.{name}"


def default_constraint_name(table: str, con: Constraint) -> str:
    """The name PostgreSQL gives an unnamed constraint (ChooseConstraintName): the table,
    the key columns (all of them for foreign keys, unique and exclusion constraints, the
    first for a check) and a kind suffix; ``<table>_pkey`` for a primary key; cut to 63
    bytes."""
    suffix = _SUFFIX.get(con.kind, con.kind)
    base = table.rsplit(".", 1)[-1]
    if con.kind == "primary_key":
        parts = [base]
    elif con.kind in ("foreign_key", "unique", "exclude"):
        parts = [base, *con.columns]
    else:
        parts = [base, *con.columns[:1]]
    name = "_".join([*parts, suffix])
    return name.encode()[:63].decode("utf-8", "ignore")


def _key_columns(op: Op) -> tuple[str, ...]:
    """The index's leading plain-column keys (the parser counts them)."""
    n = op.options.get("plain_keys")
    return op.names[:n] if isinstance(n, int) else ()


def _index_keys(op: Op) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The normalised keys and the columns they read; none when the parser did not say,
    or when NULL keys count as equal (NULLS NOT DISTINCT), which the comparisons that use
    them do not model."""
    keys, refs = op.options.get("keys"), op.options.get("key_refs")
    if not isinstance(keys, str) or not isinstance(refs, str) or not keys:
        return (), ()
    if op.options.get("nulls_not_distinct"):
        return (), ()
    return tuple(keys.split(INDEX_KEY_SEP)), tuple(r for r in refs.split(INDEX_KEY_SEP) if r)


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _column(col: ColumnDef, origin: Origin) -> ColumnInfo:
    return ColumnInfo(col.name, col.type, col.not_null, col.default, col.generated, origin)
