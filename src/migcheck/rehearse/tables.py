"""The base schema's tables as seeding needs them: columns, keys, references, checks.

Read from the catalogs of the scratch database after the base migrations, on the
runner's connection (the tables belong to it). Only ordinary and partitioned tables of
user schemas are read; partitions are filled through their parent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg


@dataclass
class Column:
    name: str
    type_sql: str  # format_type(): "character varying(50)", "public.\"Role\""
    type_name: str  # pg_type.typname of the type, or of a domain's base type
    category: str  # pg_type.typcategory of the same
    not_null: bool
    has_default: bool
    identity: str  # "", "a" (ALWAYS) or "d" (BY DEFAULT)
    generated: bool
    enum_type: str | None = None  # regtype text of an enum (of the element, for arrays)
    element_name: str | None = None  # for arrays: the element's typname
    element_category: str | None = None
    sequence: str | None = None  # the serial/identity sequence, as regclass text


@dataclass
class ForeignKey:
    name: str
    columns: list[str]
    parent: int  # oid of the referenced table
    parent_columns: list[str]
    parent_sql: str  # its quoted, schema-qualified name


@dataclass
class Table:
    oid: int
    schema: str
    name: str
    sql: str  # the quoted, schema-qualified name
    columns: list[Column] = field(default_factory=list)
    # Column sets that must be unique (primary key, unique constraints and indexes).
    unique: list[list[str]] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: list[tuple[str, str]] = field(default_factory=list)  # (name, expression)

    @property
    def qualname(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


_USER_SCHEMA = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
)
_TABLES = f"""
SELECT c.oid::int8, n.nspname, c.relname, c.oid::regclass::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND {_USER_SCHEMA}
ORDER BY 2, 3
"""
_COLUMNS = """
SELECT a.attrelid::int8, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       coalesce(b.typname, t.typname), coalesce(b.typcategory, t.typcategory),
       a.attnotnull, a.atthasdef, a.attidentity, a.attgenerated <> '',
       CASE WHEN coalesce(b.typtype, t.typtype) = 'e' THEN coalesce(b.oid, t.oid)::regtype::text
            WHEN e.typtype = 'e' THEN e.oid::regtype::text END,
       e.typname, e.typcategory,
       pg_catalog.pg_get_serial_sequence(a.attrelid::regclass::text, a.attname)
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type b ON t.typtype = 'd' AND b.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_type e ON e.oid = coalesce(b.typelem, t.typelem)
     AND coalesce(b.typcategory, t.typcategory) = 'A'
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""
_CONSTRAINTS = """
SELECT con.conrelid::int8, con.conname, con.contype,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, o)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n
             ORDER BY k.o)::text[],
       con.confrelid::int8,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, o)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n
             ORDER BY k.o)::text[],
       CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_expr(con.conbin, con.conrelid) END
FROM pg_catalog.pg_constraint con
WHERE con.conrelid = ANY(%s) AND con.contype IN ('p', 'u', 'f', 'c')
ORDER BY con.conrelid, con.conname
"""
# Unique indexes that are not constraints (CREATE UNIQUE INDEX), on plain columns.
_UNIQUE_INDEXES = """
SELECT i.indrelid::int8,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) k(n)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n)::text[]
FROM pg_catalog.pg_index i
WHERE i.indrelid = ANY(%s) AND i.indisunique AND i.indexprs IS NULL
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c WHERE c.conindid = i.indexrelid)
"""


def read_tables(conn: psycopg.Connection) -> dict[int, Table]:
    """Every user table of the database, by oid."""
    tables = {
        int(oid): Table(int(oid), str(schema), str(name), str(sql))
        for oid, schema, name, sql in conn.execute(_TABLES).fetchall()
    }
    oids = list(tables)
    if not oids:
        return tables
    for row in conn.execute(_COLUMNS, (oids,)).fetchall():
        (
            rel,
            name,
            type_sql,
            type_name,
            category,
            not_null,
            has_default,
            identity,
            generated,
            enum_type,
            element_name,
            element_category,
            sequence,
        ) = row
        tables[int(rel)].columns.append(
            Column(
                name=str(name),
                type_sql=str(type_sql),
                type_name=str(type_name),
                category=str(category),
                not_null=bool(not_null),
                has_default=bool(has_default),
                identity=str(identity or ""),
                generated=bool(generated),
                enum_type=enum_type,
                element_name=element_name,
                element_category=element_category,
                sequence=sequence,
            )
        )
    for rel, name, kind, columns, parent, parent_columns, check in conn.execute(
        _CONSTRAINTS, (oids,)
    ).fetchall():
        table = tables[int(rel)]
        if kind in ("p", "u"):
            table.unique.append(list(columns))
        elif kind == "f":
            if int(parent) in tables:
                table.foreign_keys.append(
                    ForeignKey(
                        str(name),
                        list(columns),
                        int(parent),
                        list(parent_columns),
                        tables[int(parent)].sql,
                    )
                )
        elif check is not None:
            table.checks.append((str(name), str(check)))
    for rel, columns in conn.execute(_UNIQUE_INDEXES, (oids,)).fetchall():
        if columns:
            tables[int(rel)].unique.append(list(columns))
    return tables


def with_parents(tables: dict[int, Table], chosen: set[int]) -> set[int]:
    """``chosen`` and every table they reference, directly or not."""
    found = set()
    todo = list(chosen)
    while todo:
        oid = todo.pop()
        if oid in found or oid not in tables:
            continue
        found.add(oid)
        todo += [fk.parent for fk in tables[oid].foreign_keys]
    return found


def parents_first(tables: dict[int, Table], chosen: set[int]) -> list[int]:
    """``chosen`` ordered so a table comes after the tables it references (cycles are
    broken where they are met: their references are left NULL when the column allows)."""
    order: list[int] = []
    state: dict[int, int] = {}  # 1: visiting, 2: done

    def visit(oid: int) -> None:
        if state.get(oid):
            return
        state[oid] = 1
        for fk in tables[oid].foreign_keys:
            if fk.parent in chosen and fk.parent != oid:
                visit(fk.parent)
        state[oid] = 2
        order.append(oid)

    for oid in sorted(chosen, key=lambda o: tables[o].qualname):
        visit(oid)
    return order
