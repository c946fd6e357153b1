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

from migcheck.appschema.model import (
    AppSchema,
    AppType,
    MappedColumn,
    MappedTable,
    merged,
)

__all__ = [
    "AppSchema",
    "AppType",
    "MappedColumn",
    "MappedTable",
    "from_prisma",
    "from_prisma_files",
    "merged",
    "parse_file",
    "parse_files",
]


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
