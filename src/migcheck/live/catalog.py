"""Read the schema from the catalogs, and diff two readings.

The snapshot covers what a migration can change under an application: relations (and
their storage file, to see rewrites), columns with type, nullability, default, identity
and generation, constraints with validity, indexes with validity, and enum values.
Objects are keyed by OID (columns by table OID and attribute number), so a rename is a
rename and not a drop plus an add, and a change made by a DO block or a function is
seen like any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.live.results import SchemaChange

if TYPE_CHECKING:
    import psycopg

KIND_WORDS = {
    "r": "table",
    "p": "table",
    "v": "view",
    "m": "materialized view",
    "S": "sequence",
    "f": "foreign table",
    "i": "index",
    "I": "index",
    "c": "composite type",
}
TABLE_KINDS = frozenset("rpmf")

_USER_NAMESPACES = r"""
SELECT n.oid FROM pg_namespace n
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%'
"""
_RELATIONS = f"""
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relfilenode
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relnamespace IN ({_USER_NAMESPACES})
"""
_COLUMNS = f"""
SELECT a.attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND a.attnum > 0 AND NOT a.attisdropped
"""
# PostgreSQL 18 records NOT NULL as constraints ('n'); nullability is read from columns.
_CONSTRAINTS = f"""
SELECT con.oid, con.conrelid, con.conname, con.contype, pg_get_constraintdef(con.oid),
       con.convalidated
FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
WHERE c.relnamespace IN ({_USER_NAMESPACES}) AND con.contype <> 'n'
"""
_INDEXES = f"""
SELECT i.indexrelid, i.indrelid, pg_get_indexdef(i.indexrelid), i.indisvalid
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relnamespace IN ({_USER_NAMESPACES})
"""
_ENUMS = f"""
SELECT t.oid, n.nspname, t.typname, e.oid, e.enumlabel
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typtype = 'e' AND t.typnamespace IN ({_USER_NAMESPACES})
ORDER BY t.oid, e.enumsortorder
"""
# Sequential scans this transaction made; ALTER TABLE's validation scans count too.
_SCANS = "SELECT relid, seq_scan FROM pg_stat_xact_user_tables"


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    kind: str  # pg_class.relkind
    filenode: int

    @property
    def qualname(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def word(self) -> str:
        return KIND_WORDS.get(self.kind, "relation")


@dataclass(frozen=True)
class Column:
    relid: int
    num: int
    name: str
    type: str
    not_null: bool
    default: str | None
    identity: str
    generated: str

    def describe(self) -> str:
        text = self.type
        if self.not_null:
            text += " NOT NULL"
        if self.default is not None:
            text += f" DEFAULT {self.default}"
        if self.identity:
            text += " GENERATED " + ("ALWAYS" if self.identity == "a" else "BY DEFAULT")
            text += " AS IDENTITY"
        if self.generated:
            text += " GENERATED ALWAYS AS STORED"
        return text


@dataclass(frozen=True)
class Constraint:
    oid: int
    relid: int
    name: str
    type: str
    definition: str
    validated: bool

    def describe(self) -> str:
        return self.definition + (
            "" if self.validated or "NOT VALID" in self.definition else " NOT VALID"
        )


@dataclass(frozen=True)
class Index:
    oid: int
    relid: int
    definition: str
    valid: bool


@dataclass(frozen=True)
class Enum:
    oid: int
    schema: str
    name: str
    labels: tuple[tuple[int, str], ...]  # (pg_enum oid, label) in sort order

    @property
    def qualname(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class Snapshot:
    relations: dict[int, Relation] = field(default_factory=dict)
    columns: dict[tuple[int, int], Column] = field(default_factory=dict)
    constraints: dict[int, Constraint] = field(default_factory=dict)
    indexes: dict[int, Index] = field(default_factory=dict)
    enums: dict[int, Enum] = field(default_factory=dict)
    scans: dict[int, int] = field(default_factory=dict)

    def name_of(self, oid: int) -> str | None:
        relation = self.relations.get(oid)
        return relation.qualname if relation else None


def take(conn: psycopg.Connection, *, scans: bool = False, light: bool = False) -> Snapshot:
    """Read the schema of the connected database. ``light``: relations (and scans)
    only, enough for locks and rewrites; the rehearsal takes these inside the
    migration's transaction, where every millisecond is lock time the app feels."""
    snap = Snapshot()
    for oid, schema, name, kind, filenode in conn.execute(_RELATIONS).fetchall():
        snap.relations[oid] = Relation(oid, schema, name, kind, filenode)
    if light:
        if scans:
            snap.scans = dict(conn.execute(_SCANS).fetchall())
        return snap
    for row in conn.execute(_COLUMNS).fetchall():
        relid, num, name, typ, not_null, default, identity, generated = row
        snap.columns[(relid, num)] = Column(
            relid, num, name, typ, not_null, default, identity or "", generated or ""
        )
    for oid, relid, name, typ, definition, validated in conn.execute(_CONSTRAINTS).fetchall():
        snap.constraints[oid] = Constraint(oid, relid, name, typ, definition, validated)
    for oid, relid, definition, valid in conn.execute(_INDEXES).fetchall():
        snap.indexes[oid] = Index(oid, relid, definition, valid)
    labels: dict[int, list[tuple[int, str]]] = {}
    names: dict[int, tuple[str, str]] = {}
    for typ, schema, name, label_oid, label in conn.execute(_ENUMS).fetchall():
        names[typ] = (schema, name)
        values = labels.setdefault(typ, [])
        if label_oid is not None:
            values.append((label_oid, label))
    for typ, (schema, name) in names.items():
        snap.enums[typ] = Enum(typ, schema, name, tuple(labels[typ]))
    if scans:
        snap.scans = dict(conn.execute(_SCANS).fetchall())
    return snap


def rewrites(before: Snapshot, after: Snapshot) -> list[tuple[Relation, int]]:
    """(relation, its OID before) for the relations whose storage was rewritten (or
    truncated): their file changed. Partitioned tables and views have no storage
    (filenode 0)."""
    found = []
    for oid, old in before.relations.items():
        new = after.relations.get(oid)
        if new is not None and old.filenode and new.filenode and old.filenode != new.filenode:
            found.append((new, oid))
    # Some versions rebuild an index under a new OID (ALTER COLUMN TYPE on PostgreSQL 16):
    # the same definition on the same table, gone and back, is a rebuild too.
    gone = {
        (i.relid, i.definition): oid
        for oid, i in before.indexes.items()
        if oid not in after.indexes and i.relid in after.relations
    }
    for oid, index in after.indexes.items():
        relation = after.relations.get(oid)
        previous = gone.get((index.relid, index.definition))
        if oid not in before.indexes and previous is not None and relation is not None:
            found.append((relation, previous))
    return found


def diff(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    """The schema changes from ``before`` to ``after``."""
    changes: list[SchemaChange] = []
    changes += _relation_changes(before, after)
    changes += _column_changes(before, after)
    changes += _constraint_changes(before, after)
    changes += _index_changes(before, after)
    changes += _enum_changes(before, after)
    return changes


def _relation_changes(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    changes = []
    for oid, new in after.relations.items():
        old = before.relations.get(oid)
        word = new.word.replace(" ", "_")
        if old is None:
            if new.kind not in "iIc":  # indexes are reported with their definition below
                changes.append(SchemaChange(f"{word}_created", new.qualname))
        elif old.qualname != new.qualname:
            changes.append(
                SchemaChange(
                    f"{word}_renamed", new.qualname, before=old.qualname, after=new.qualname
                )
            )
    for oid, old in before.relations.items():
        if oid not in after.relations and old.kind not in "iIc":
            changes.append(SchemaChange(f"{old.word.replace(' ', '_')}_dropped", old.qualname))
    return changes


def _column_changes(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    changes = []
    for key, new in after.columns.items():
        table = after.name_of(new.relid) or str(new.relid)
        if new.relid not in before.relations:
            continue  # a new table: reported as created
        old = before.columns.get(key)
        obj = f"{table}.{new.name}"
        if old is None:
            changes.append(SchemaChange("column_added", obj, table, new.name, after=new.describe()))
            continue
        if old.name != new.name:
            changes.append(
                SchemaChange(
                    "column_renamed", obj, table, new.name, before=old.name, after=new.name
                )
            )
        if old.type != new.type:
            changes.append(
                SchemaChange("column_type_changed", obj, table, new.name, old.type, new.type)
            )
        if old.not_null != new.not_null:
            changes.append(
                SchemaChange(
                    "column_nullability_changed",
                    obj,
                    table,
                    new.name,
                    "NOT NULL" if old.not_null else "NULL",
                    "NOT NULL" if new.not_null else "NULL",
                )
            )
        if old.default != new.default:
            changes.append(
                SchemaChange(
                    "column_default_changed",
                    obj,
                    table,
                    new.name,
                    old.default or "none",
                    new.default or "none",
                )
            )
        if (old.identity, old.generated) != (new.identity, new.generated):
            changes.append(
                SchemaChange(
                    "column_generation_changed",
                    obj,
                    table,
                    new.name,
                    old.describe(),
                    new.describe(),
                )
            )
    for key, old in before.columns.items():
        if key not in after.columns and old.relid in after.relations:
            table = after.name_of(old.relid) or str(old.relid)
            changes.append(
                SchemaChange(
                    "column_dropped", f"{table}.{old.name}", table, old.name, before=old.describe()
                )
            )
    return changes


def _constraint_changes(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    # ALTER COLUMN TYPE drops and recreates the constraints on the column under new OIDs:
    # an identical constraint that reappears is no change.
    def same(c: Constraint) -> tuple[int, str, str, bool]:
        return (c.relid, c.name, c.definition, c.validated)

    added = {oid: c for oid, c in after.constraints.items() if oid not in before.constraints}
    dropped = {oid: c for oid, c in before.constraints.items() if oid not in after.constraints}
    recreated = {same(c) for c in added.values()} & {same(c) for c in dropped.values()}
    changes = []
    for c in added.values():
        if c.relid in before.relations and same(c) not in recreated:
            table = after.name_of(c.relid) or str(c.relid)
            changes.append(
                SchemaChange("constraint_added", f"{table}.{c.name}", table, after=c.describe())
            )
    for c in dropped.values():
        if c.relid in after.relations and same(c) not in recreated:
            table = after.name_of(c.relid) or str(c.relid)
            changes.append(
                SchemaChange("constraint_dropped", f"{table}.{c.name}", table, before=c.describe())
            )
    for oid, new in after.constraints.items():
        old = before.constraints.get(oid)
        if old is None:
            continue
        table = after.name_of(new.relid) or str(new.relid)
        if old.name != new.name:
            changes.append(
                SchemaChange(
                    "constraint_renamed",
                    f"{table}.{new.name}",
                    table,
                    before=old.name,
                    after=new.name,
                )
            )
        if not old.validated and new.validated:
            changes.append(SchemaChange("constraint_validated", f"{table}.{new.name}", table))
    return changes


def _index_changes(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    def same(i: Index) -> tuple[int, str, bool]:
        return (i.relid, i.definition, i.valid)

    added = {oid: i for oid, i in after.indexes.items() if oid not in before.indexes}
    dropped = {oid: i for oid, i in before.indexes.items() if oid not in after.indexes}
    recreated = {same(i) for i in added.values()} & {same(i) for i in dropped.values()}
    changes = []
    for i in added.values():
        if i.relid in before.relations and same(i) not in recreated:
            name = after.name_of(i.oid) or str(i.oid)
            table = after.name_of(i.relid)
            state = "" if i.valid else " (INVALID)"
            changes.append(SchemaChange("index_created", name, table, after=i.definition + state))
    for i in dropped.values():
        if i.relid in after.relations and same(i) not in recreated:
            name = before.name_of(i.oid) or str(i.oid)
            changes.append(
                SchemaChange("index_dropped", name, after.name_of(i.relid), before=i.definition)
            )
    for oid, new in after.indexes.items():
        old = before.indexes.get(oid)
        if old is not None and old.valid != new.valid:
            name = after.name_of(oid) or str(oid)
            kind = "index_became_valid" if new.valid else "index_became_invalid"
            changes.append(SchemaChange(kind, name, after.name_of(new.relid)))
    return changes


def _enum_changes(before: Snapshot, after: Snapshot) -> list[SchemaChange]:
    changes = []
    for oid, new in after.enums.items():
        old = before.enums.get(oid)
        values = ", ".join(label for _, label in new.labels)
        if old is None:
            changes.append(SchemaChange("enum_created", new.qualname, after=values))
            continue
        if old.qualname != new.qualname:
            changes.append(
                SchemaChange("enum_renamed", new.qualname, before=old.qualname, after=new.qualname)
            )
        old_labels = dict(old.labels)
        new_labels = dict(new.labels)
        for label_oid, label in new.labels:
            if label_oid not in old_labels:
                changes.append(SchemaChange("enum_value_added", new.qualname, after=label))
            elif old_labels[label_oid] != label:
                changes.append(
                    SchemaChange(
                        "enum_value_renamed",
                        new.qualname,
                        before=old_labels[label_oid],
                        after=label,
                    )
                )
        for label_oid, label in old.labels:
            if label_oid not in new_labels:
                changes.append(SchemaChange("enum_value_removed", new.qualname, before=label))
    for oid, old in before.enums.items():
        if oid not in after.enums:
            changes.append(
                SchemaChange(
                    "enum_dropped", old.qualname, before=", ".join(label for _, label in old.labels)
                )
            )
    return changes
