"""Schema drift (``app-schema-mismatch``): the app at HEAD against what the migrations build.

The engine replays each history into a ``Schema``; here every table and column the app's
schema files map (read from the working tree, statically) is looked up in it:

- a table or column the app maps that the migrations drop, rename or never create;
- a required field with no default of any kind on a nullable column (NULL rows break the
  app's reads), an optional field on a NOT NULL column without default, or a field whose
  database default the column lacks (an insert that leaves it out fails);
- an enum value the app writes that the database type lacks;
- a declared type the column does not have, compared as PostgreSQL names types
  (``pgcatalog.typenames``), modifiers only where the app wrote them.

Values the app supplies itself (``@default(uuid())``, ``@updatedAt``, SQLAlchemy's
``default=``) are not drift. A table no migration ever touched is reported only when the
history is complete (it alters no table it did not create): a history that starts from
``metadata.create_all()`` or a squashed base says nothing about tables it never shows.
Each finding is placed at the migration statement that made the database side (the last
migration of the history when nothing did) and names the schema file and line.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

from migcheck.appschema import AppSchema, AppType, MappedColumn, MappedTable, parse_files
from migcheck.model import ColumnType, Finding, InputError, Span
from migcheck.pgcatalog.typenames import KNOWN_TYPES, display_key, is_serial, type_key
from migcheck.schema import ColumnInfo, Origin, Schema, TableInfo
from migcheck.sources import History

RULE_ID = "app-schema-mismatch"

# Ops on an existing table: one on a table the history never created means the history
# does not start at the beginning (DROP ... IF EXISTS aside).
_ALTERS = frozenset(
    {
        "add_column", "drop_column", "rename_column", "alter_column_type", "set_not_null",
        "drop_not_null", "set_default", "drop_default", "add_constraint", "drop_constraint",
        "validate_constraint", "rename_constraint", "rename_table", "drop_table",
    }
)  # fmt: skip
_NULLABILITY = frozenset({"set_not_null", "drop_not_null", "add_constraint", "validate_constraint"})
_DEFAULTS = frozenset({"set_default", "drop_default"})
_TYPES = frozenset({"alter_column_type"})
_ENUM_CHANGES = frozenset({"add_enum_value", "rename_enum_value", "create_enum"})


@dataclass
class HeadSchemas:
    """The app schema at HEAD for each history (None: none known), and reading errors."""

    by_history: list[tuple[History, Schema, AppSchema | None]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    notes: list[InputError] = field(default_factory=list)


def read_head(
    schemas: Iterable[tuple[History, Schema]], explicit: Iterable[str], max_bytes: int
) -> HeadSchemas:
    """The app schema files as they are on disk: ``explicit`` (``--app-schema``, config),
    else per history the ``schema.prisma`` found by convention. A file that cannot be
    read is an input error naming it; the others are still compared."""
    from migcheck.appschema.gating import conventional_paths, schema_files
    from migcheck.sources.reading import boundary_for

    out = HeadSchemas()
    # A name that cannot be resolved is already an input error of the runner's
    # ``schema_groups``: saying it twice would not help.
    explicit = list(explicit)
    files, folders, _ = schema_files(explicit, boundary_for(os.getcwd()))
    shared = files + _prisma_files(folders)
    cache: dict[tuple[str, ...], AppSchema | None] = {}
    for history, schema in schemas:
        # Named schemas replace the convention, even when none of them could be read.
        paths = tuple(shared if explicit else _prisma_files(conventional_paths(history)))
        if paths not in cache:
            cache[paths] = _read(paths, max_bytes, out) if paths else None
        out.by_history.append((history, schema, cache[paths]))
    return out


def _prisma_files(paths: Iterable[str]) -> list[str]:
    """Files as given; a ``prisma/schema/`` folder as its ``.prisma`` files."""
    out: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            out.extend(sorted(glob.glob(os.path.join(glob.escape(path), "*.prisma"))))
        else:
            out.append(path)
    return out


def _read(paths: tuple[str, ...], max_bytes: int, out: HeadSchemas) -> AppSchema:
    from migcheck.sources.reading import decode_source, display_path, read_bytes_in_tree

    files: list[tuple[str, str]] = []
    for path in paths:
        shown = display_path(path)
        data = read_bytes_in_tree(path, max_bytes=max_bytes)
        if isinstance(data, InputError):
            out.errors.append(InputError(shown, f"cannot read the app schema: {data.message}"))
            continue
        text = decode_source(data, shown)
        if isinstance(text, InputError):
            out.errors.append(InputError(shown, f"cannot read the app schema: {text.message}"))
            continue
        files.append((text, shown))
    app = parse_files(files, "HEAD")
    for error in app.errors:
        where, _, message = error.partition(": ")
        out.notes.append(InputError(where, message))
    return app


def compare(
    history: History, schema: Schema, app: AppSchema, unread: frozenset[str] = frozenset()
) -> list[Finding]:
    """One finding per place where ``app`` and the replayed ``schema`` disagree.
    ``unread``: migrations with operations the reader could not evaluate (Alembic), whose
    tables and columns the replay may lack although the migration creates them."""
    if not history.migrations:
        return []
    seen = not any(m.path in unread for m in history.migrations)
    return _Comparison(history, schema, app, seen).run()


class _Comparison:
    def __init__(self, history: History, schema: Schema, app: AppSchema, seen: bool) -> None:
        self.history = history
        self.schema = schema
        self.app = app
        self.tool = history.tool
        # Whether every operation was read: else a missing column may be one it adds.
        self.seen = seen
        self.complete = seen and not _unknown_tables(schema)
        self.findings: list[Finding] = []

    def run(self) -> list[Finding]:
        for table in self.app.mapped():
            if table.ignored:
                continue
            key = self.table_key(table)
            if key is None:
                self.missing_table(table)
                continue
            info = self.schema.tables[key]
            if table.is_view or info.kind != "table":
                continue  # a view's columns are what its query says
            for column in table.columns.values():
                if not column.ignored:
                    self.check_column(table, info, column)
        return self.findings

    # -- tables ---------------------------------------------------------------------------

    def table_key(self, table: MappedTable) -> str | None:
        return next((k for k in _names(table) if k in self.schema.tables), None)

    def missing_table(self, table: MappedTable) -> None:
        where = self.schema_place(table.line, table.path)
        shown = _show(table.name, table.schema)
        mapped = f"{where} maps table {shown}{_model(table)}"
        for name in _names(table):
            dropped = self.schema.dropped_tables.get(name)
            if dropped is not None:
                self.add(
                    dropped[1],
                    f"{mapped}, but this migration drops it: every query the "
                    "app sends to it fails.",
                )
                return
            renamed = self.last_change(name, "", {"rename_table", "rename_view"})
            if renamed is not None:
                self.add(
                    renamed[1],
                    f'{mapped}, but this migration renames it to "{renamed[2]}": '
                    "every query the app sends to the old name fails.",
                )
                return
        if not self.complete:
            return  # the history does not show every table: it may be older than it
        self.add(
            None,
            f"{mapped}, but no migration creates it: the app's queries of it fail "
            "on a database built from the migrations.",
        )

    # -- columns --------------------------------------------------------------------------

    def check_column(self, table: MappedTable, info: TableInfo, column: MappedColumn) -> None:
        col = info.columns.get(column.name)
        where = self.schema_place(column.line, table.path)
        shown = f'{_show(info.name)}."{column.name}"'
        if col is None:
            self.missing_column(table, info, column, f"{where} maps {shown}{_field(column)}")
            return
        self.check_nullability(info, col, column, where, shown)
        self.check_type(info, col, column, where, shown)

    def missing_column(
        self, table: MappedTable, info: TableInfo, column: MappedColumn, mapped: str
    ) -> None:
        for name in self.aliases(info.name):
            change = self.last_change(name, column.name, {"drop_column", "rename_column"})
            if change is None:
                continue
            kind, origin, new = change
            if kind == "drop_column":
                text = f"{mapped}, but this migration drops the column: every query of it fails."
            else:
                text = (
                    f'{mapped}, but this migration renames the column to "{new}": every '
                    "query of the old name fails."
                )
            self.add(origin, text)
            return
        if not self.seen:
            return  # an operation the reader could not evaluate may add it
        self.add(
            None,
            f"{mapped}, but no migration adds the column: every query of it fails "
            "on a database built from the migrations.",
        )

    def check_nullability(
        self, info: TableInfo, col: ColumnInfo, column: MappedColumn, where: str, shown: str
    ) -> None:
        if column.required is None:
            return
        not_null = (
            col.not_null
            or col.generated == "identity"
            or self.schema.has_validated_not_null_check(info.name, col.name)
        )
        db_default = _has_default(col)
        origin = self.place(info.name, col, _NULLABILITY)
        if column.required and not not_null and not column.default and not db_default:
            self.add(
                origin,
                f"{where} declares {shown} required with no default, but the column "
                "is nullable here: a row holding NULL breaks the app's reads of it.",
            )
        elif not column.required and not_null and not db_default and not column.default:
            self.add(
                origin,
                f"{where} declares {shown} optional, but the column is NOT NULL "
                "without a default here: an insert that leaves it out fails.",
            )
        elif (
            column.db_default
            and not_null
            and not db_default
            and not column.default.startswith("an autoincrementing")
        ):
            place = self.place(info.name, col, _DEFAULTS)
            self.add(
                place,
                f"{where} expects the database to fill {shown} "
                f"({column.default}), but the column has no default here: an insert that "
                "leaves it out fails.",
            )

    def check_type(
        self, info: TableInfo, col: ColumnInfo, column: MappedColumn, where: str, shown: str
    ) -> None:
        declared = column.type
        if declared is None or col.type is None or col.type.name in self.schema.domains:
            return
        if col.type.name not in KNOWN_TYPES and col.type.name not in self.schema.types:
            return  # a type the migrations never show (a reader's placeholder, an extension)
        origin = self.place(info.name, col, _TYPES)
        if not _same_type(declared, col.type):
            have = display_key(*type_key(col.type))
            self.add(
                origin,
                f"{where} declares {shown} as {declared.shown or declared.name}, but "
                f"the column is {have} here: values the app writes or reads may not fit.",
            )
            return
        if column.enum_values:
            self.check_enum(declared, column, where, shown)

    def check_enum(self, declared: AppType, column: MappedColumn, where: str, shown: str) -> None:
        name = next((n for n in _bare_names(declared.name) if n in self.schema.enums), None)
        if name is None:
            return
        enum = self.schema.enums[name]
        lacking = [v for v in column.enum_values if v not in enum.values]
        if not lacking:
            return
        origin = enum.origin
        for kind, at, _ in self.schema.changes.get((name, ""), []):
            if kind in _ENUM_CHANGES:
                origin = at
        values = ", ".join(f'"{v}"' for v in lacking)
        self.add(
            origin,
            f"{where} writes {values} to {shown} but the database enum "
            f'"{enum.name}" lacks {"it" if len(lacking) == 1 else "them"}: an insert or '
            "update with that value fails (invalid input value for enum).",
        )

    # -- places -----------------------------------------------------------------------

    def aliases(self, table: str) -> list[str]:
        """``table`` and the names it had before RENAMEs, newest first."""
        names = [table]
        renamed = {
            new: old
            for (old, _), changes in self.schema.changes.items()
            for kind, _, new in changes
            if kind == "rename_table" and new
        }
        while names[-1] in renamed and renamed[names[-1]] not in names:
            names.append(renamed[names[-1]])
        return names

    def last_change(
        self, table: str, column: str, kinds: set[str] | frozenset[str]
    ) -> tuple[str, Origin, str | None] | None:
        found = [c for c in self.schema.changes.get((table, column), []) if c[0] in kinds]
        return found[-1] if found else None

    def place(self, table: str, col: ColumnInfo, kinds: frozenset[str]) -> Origin | None:
        """The last statement that set this aspect of the column, else where it was made."""
        for name in self.aliases(table):
            change = self.last_change(name, col.name, kinds)
            if change is not None:
                return change[1]
        return col.origin

    def schema_place(self, line: int, path: str) -> str:
        return f"{path}:{line}" if line else path

    def add(self, origin: Origin | None, message: str) -> None:
        from migcheck.rules import meta_finding

        migrations = self.history.migrations
        if origin is not None:
            path, line = migrations[origin.migration].path, origin.line
        else:
            path, line = migrations[-1].path, 1
        finding = meta_finding(RULE_ID, path, Span(line, 1, line, 1), message, _help(self.tool))
        self.findings.append(finding)


def _unknown_tables(schema: Schema) -> set[str]:
    """Tables the history alters although it never created them (nor renamed them in)."""
    known = set(schema.tables) | set(schema.dropped_tables)
    for (table, _), changes in schema.changes.items():
        renames = [new for kind, _, new in changes if kind == "rename_table" and new]
        if renames:
            known.update([table, *renames])
    return {
        table
        for (table, _), changes in schema.changes.items()
        if table not in known and any(kind in _ALTERS for kind, _, _ in changes)
    }


def _names(table: MappedTable) -> list[str]:
    """The keys the replayed schema may hold the table under (``public`` is the default)."""
    if table.schema and table.schema != "public":
        return [f"{table.schema}.{table.name}"]
    return [table.name, f"public.{table.name}"]


def _bare_names(name: str) -> list[str]:
    bare = name.removeprefix("public.")
    return [bare, f"public.{bare}"]


def _same_type(declared: AppType, actual: ColumnType) -> bool:
    name, params, array = type_key(actual)
    want = declared.name.removeprefix("public.")
    have = name.removeprefix("public.")
    if declared.array != array:
        return False
    if want != have:
        # An unbounded varchar (SQLAlchemy's String()) stores what text stores.
        return want == "varchar" and have == "text" and not declared.params
    # Modifiers only where both sides have them: an unbounded varchar or numeric holds
    # whatever the app's bounded one does.
    return not declared.params or not params or declared.params == params[: len(declared.params)]


def _has_default(col: ColumnInfo) -> bool:
    if col.generated is not None:
        return True
    if col.type is not None and is_serial(col.type.text or col.type.name):
        return True
    return col.default is not None and not col.default.is_null


def _show(name: str, schema: str | None = None) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    return f'"{schema}".{quoted}' if schema and schema != "public" else quoted


def _model(table: MappedTable) -> str:
    return f" (model {table.model})" if table.model else ""


def _field(column: MappedColumn) -> str:
    return f" (field {column.field})" if column.field else ""


def _help(tool: str) -> str:
    if tool == "prisma":
        return (
            "Make schema.prisma and the migrations agree: `prisma migrate dev` writes the "
            "migration the schema needs, or change the field to what the database has."
        )
    if tool == "alembic":
        return (
            "Make the models and the migrations agree: `alembic revision --autogenerate` "
            "writes the revision the models need, or change the model to what the "
            "database has."
        )
    return "Make the app's schema and the migrations agree: write the migration it needs."
