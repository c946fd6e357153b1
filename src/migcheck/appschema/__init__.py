"""What the application maps: its tables and columns, read statically from its schema files.

Two readers, never importing anything of the project: ``prisma`` (``schema.prisma``, or
the ``.prisma`` files of a ``prisma/schema/`` folder) and ``sqlalchemy_ast`` (declarative
models and ``Table(...)`` objects, read with ``ast``). Both give an ``AppSchema``.

Used to tell the second step of expand/contract from a mistake: a column the *deployed*
app no longer maps can be dropped (``gating``). The same Prisma parser serves the live
check's derived queries.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MappedColumn:
    name: str
    line: int
    # Why the app does not use it although it is declared (``@ignore``), else "".
    ignored: str = ""


@dataclass
class MappedTable:
    name: str  # the database name (after @@map / __tablename__)
    schema: str | None
    path: str  # the schema file, as shown in messages
    line: int
    columns: dict[str, MappedColumn] = field(default_factory=dict)
    ignored: str = ""  # "@@ignore" when the model is declared but not used


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
    """The tables a Prisma schema maps (models and views; ``@ignore``/``@@ignore`` kept as
    declared-but-unused, relation fields skipped: they have no column)."""
    from migcheck.appschema.prisma import parse_prisma_schema

    parsed = parse_prisma_schema(text)
    out = AppSchema(source, errors=[f"{path}: {e}" for e in parsed.errors])
    models = {m.name for m in parsed.models}
    for model in parsed.models:
        table = MappedTable(
            model.table,
            model.schema,
            path,
            model.line,
            ignored="@@ignore" if model.attribute("ignore") is not None else "",
        )
        for f in model.fields:
            if f.type in models or f.type in parsed.composite_types:
                continue  # a relation: no column of its own
            ignored = "@ignore" if f.attribute("ignore") is not None else ""
            table.columns[f.column] = MappedColumn(f.column, f.line, ignored)
        out.add(table)
    return out


def merged(schemas: list[AppSchema], source: str) -> AppSchema:
    out = AppSchema(source)
    for schema in schemas:
        for name, table in schema.tables.items():
            out.tables.setdefault(name, table)
        out.errors.extend(schema.errors)
    return out
