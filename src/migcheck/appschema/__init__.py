"""What the application maps: its tables and columns, read statically from its schema files.

Two readers, never importing anything of the project: ``prisma`` (``schema.prisma``, or
the ``.prisma`` files of a ``prisma/schema/`` folder) and ``sqlalchemy_ast`` (declarative
models and ``Table(...)`` objects, read with ``ast``). Both give an ``AppSchema``.

Used to tell the second step of expand/contract from a mistake: a column the *deployed*
app no longer maps can be dropped (``gating``), and to compare what the app at HEAD maps
with what the migrations build (``drift``: nullability, defaults, types, enum values).
The same readers give the live check its derived queries.
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


def from_prisma(text: str, path: str, source: str) -> AppSchema:
    """The tables a Prisma schema maps (see ``from_prisma_files``)."""
    return from_prisma_files([(text, path)], source)


def from_prisma_files(files: list[tuple[str, str]], source: str) -> AppSchema:
    """The tables the Prisma schema in ``files`` ((text, path) each: one ``schema.prisma``
    or the files of a ``prisma/schema/`` folder, which share their models and enums) maps:
    models and views, ``@ignore``/``@@ignore`` kept as declared-but-unused, relation
    fields skipped (they have no column), with each field's nullability, default, type and
    enum values."""
    from migcheck.appschema.prisma import column_facts, parse_prisma_schema

    parsed = [(parse_prisma_schema(text), path) for text, path in files]
    out = AppSchema(source)
    for schema, path in parsed:
        out.errors.extend(f"{path}: {e}" for e in schema.errors)
    models = {m.name for schema, _ in parsed for m in schema.models}
    composite = {t for schema, _ in parsed for t in schema.composite_types}
    enums = {e.name: e for schema, _ in parsed for e in schema.enums}
    for schema, path in parsed:
        for model in schema.models:
            table = MappedTable(
                model.table,
                model.schema,
                path,
                model.line,
                ignored="@@ignore" if model.attribute("ignore") is not None else "",
                model=model.name if model.name != model.table else "",
                is_view=model.is_view,
            )
            for f in model.fields:
                if f.type in models or f.type in composite or f.attribute("relation"):
                    continue  # a relation: no column of its own
                table.columns[f.column] = column_facts(f, enums, model.schema)
            out.add(table)
    return out


def parse_file(text: str, path: str, source: str) -> AppSchema:
    """One schema file by its kind: ``.prisma`` or Python models."""
    if path.endswith(".prisma"):
        return from_prisma(text, path, source)
    from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy

    return from_sqlalchemy(text, path, source)


def parse_files(files: list[tuple[str, str]], source: str) -> AppSchema:
    """Several schema files: the ``.prisma`` ones read as one schema, each Python one alone."""
    prisma = [(text, path) for text, path in files if path.endswith(".prisma")]
    parts = [from_prisma_files(prisma, source)] if prisma else []
    parts.extend(parse_file(t, p, source) for t, p in files if not p.endswith(".prisma"))
    return merged(parts, source)


def merged(schemas: list[AppSchema], source: str) -> AppSchema:
    out = AppSchema(source)
    for schema in schemas:
        for name, table in schema.tables.items():
            out.tables.setdefault(name, table)
        out.errors.extend(schema.errors)
    return out
