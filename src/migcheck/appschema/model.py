"""The data an app-schema reader gives: the tables, columns, types and enum values an app
version maps (``AppSchema``). Plain data, shared by the readers (``prisma``,
``sqlalchemy_ast``), contract gating, schema drift and the live check's derived queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class AppType:
    """A column type the app declares, as PostgreSQL names it (``pgcatalog.typenames``):
    ``name`` is the ``typname`` (``varchar``, ``int4``, an enum's database name), ``params``
    the modifiers the app wrote itself (empty: any), ``array`` the list dimensions."""

    name: str
    params: tuple[int, ...] = ()
    array: int = 0
    shown: str = ""  # as the app wrote it, for messages: ``String @db.VarChar(200)``


@dataclass(frozen=True)
class MappedColumn:
    name: str
    line: int
    # Why the app does not use it although it is declared (``@ignore``), else "".
    ignored: str = ""
    # None when the reader cannot tell (a dynamic ``nullable=``): nothing is compared then.
    required: bool | None = None
    # What fills the column when an insert leaves it out, in the app's words:
    # "@default(uuid())" (the client), "server_default=" (the database), "" for nothing.
    default: str = ""
    # Whether the app expects the database to hold that default (Prisma's
    # ``autoincrement()``, ``now()``, literals, ``dbgenerated()``; SQLAlchemy's
    # ``server_default=``, an autoincrementing key), as opposed to sending it itself.
    db_default: bool = False
    type: AppType | None = None
    # The values the app writes when the type is an enum (database spellings), else ().
    enum_values: tuple[str, ...] = ()
    enum_line: int = 0  # where the enum is declared
    field: str = ""  # the attribute or field name, when it differs from ``name``


@dataclass
class MappedTable:
    name: str  # the database name (after @@map / __tablename__)
    schema: str | None
    path: str  # the schema file, as shown in messages
    line: int
    columns: dict[str, MappedColumn] = field(default_factory=dict)
    ignored: str = ""  # "@@ignore" when the model is declared but not used
    model: str = ""  # the model or class name, when it differs from ``name``
    is_view: bool = False  # a Prisma ``view``: read only, created by hand
    # Whether the reader saw every column (False: a mixin or base class of another
    # module may add some, so a column missing in the database is not certain drift).
    complete: bool = True


@dataclass
class AppSchema:
    """The tables an app version maps; ``source`` says which version (``main:prisma/…``)."""

    source: str
    tables: dict[str, MappedTable] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, table: MappedTable) -> None:
        self.tables[table.name] = table
        if table.schema:
            self.tables[f"{table.schema}.{table.name}"] = table

    def mapped(self) -> list[MappedTable]:
        """Each table once, in the order the schema files declare them."""
        seen: dict[int, MappedTable] = {}
        for table in self.tables.values():
            seen.setdefault(id(table), table)
        return sorted(seen.values(), key=lambda t: (t.path, t.line))

    def table(self, name: str) -> MappedTable | None:
        found = self.tables.get(_bare(name))
        if found is None and "." in name:
            schema, _, rest = name.rpartition(".")
            found = self.tables.get(f"{_bare(schema)}.{_bare(rest)}") or (
                self.tables.get(_bare(rest)) if _bare(schema) == "public" else None
            )
        return found

    def uses_table(self, name: str) -> bool:
        t = self.table(name)
        return t is not None and not t.ignored

    def uses_column(self, table: str, column: str) -> bool:
        t = self.table(table)
        if t is None or t.ignored:
            return False
        c = t.columns.get(_bare(column))
        return c is not None and not c.ignored

    def why_unused(self, table: str, column: str | None) -> str:
        """Evidence, in words, that the app does not use ``table`` (or its ``column``)."""
        t = self.table(table)
        if t is None:
            return f'{self.source} no longer maps table "{_bare(table)}"'
        if t.ignored:
            return f'{self.source} marks table "{t.name}" {t.ignored} (line {t.line})'
        if column is None:
            return f'{self.source} maps table "{t.name}"'
        c = t.columns.get(_bare(column))
        if c is None:
            return f'{self.source} no longer maps "{t.name}"."{_bare(column)}"'
        return f'{self.source} marks "{t.name}"."{c.name}" {c.ignored} (line {c.line})'


def _bare(name: str) -> str:
    return name[1:-1].replace('""', '"') if len(name) > 1 and name[0] == name[-1] == '"' else name


def merged(schemas: list[AppSchema], source: str) -> AppSchema:
    out = AppSchema(source)
    for schema in schemas:
        for name, table in schema.tables.items():
            out.tables.setdefault(name, table)
        out.errors.extend(schema.errors)
    return out
