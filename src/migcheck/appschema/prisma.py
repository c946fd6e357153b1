"""A small parser of the Prisma schema language, and the SQL Prisma Client sends for it.

Parsed: ``model``/``view`` blocks with their fields (scalar type, optional ``?``, list
``[]``, ``@id``, ``@unique``, ``@default(...)``, ``@map``, ``@updatedAt``, ``@relation``,
``@ignore``), block attributes (``@@map``, ``@@id``, ``@@unique``, ``@@schema``,
``@@ignore``), ``enum`` blocks with ``@map``/``@@map`` and the datasource's ``provider``
and ``schemas``. Anything else is skipped; a line we cannot read is reported in
``PrismaSchema.errors`` and parsing goes on.

Per model we derive what the client sends: ``findMany`` (a SELECT of every scalar
field), ``create`` with only the fields the client must send and with all fields
(INSERT ... RETURNING every scalar field), and an UPDATE per field, with table and
column names mapped and double-quoted and schema-qualified as Prisma does.

"Fields the client must send" are those without a database default that are not
optional or lists: Prisma fills ``@updatedAt`` and the client-side defaults (``uuid()``,
``cuid()``, ``nanoid()``, ``ulid()``) itself, and the database has no default for them,
so they are sent too. Leaving them out would make every such INSERT fail on the base.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from migcheck.appschema.model import AppType, MappedColumn

SCALAR_TYPES = frozenset(
    {"String", "Boolean", "Int", "BigInt", "Float", "Decimal", "DateTime", "Json", "Bytes"}
)
# @default functions evaluated by Prisma Client, not by the database.
CLIENT_DEFAULTS = frozenset({"uuid", "cuid", "nanoid", "ulid"})
# What Prisma Migrate creates for each scalar on PostgreSQL without a @db attribute
# (prisma.io/docs: String -> text, DateTime -> timestamp(3), Decimal -> decimal(65,30),
# Json -> jsonb, Float -> double precision, Bytes -> bytea), as ``typname``. The default
# precision of timestamp(3) and decimal(65,30) is not compared: only a @db attribute
# with modifiers the user wrote pins them.
SCALAR_COLUMN_TYPES = {
    "String": "text",
    "Boolean": "bool",
    "Int": "int4",
    "BigInt": "int8",
    "Float": "float8",
    "Decimal": "numeric",
    "DateTime": "timestamp",
    "Json": "jsonb",
    "Bytes": "bytea",
}
# PostgreSQL native type attributes (@db.X) -> typname.
NATIVE_TYPES = {
    "Text": "text", "Char": "bpchar", "VarChar": "varchar", "Bit": "bit", "VarBit": "varbit",
    "Uuid": "uuid", "Xml": "xml", "Inet": "inet", "Citext": "citext", "Boolean": "bool",
    "Integer": "int4", "SmallInt": "int2", "Oid": "oid", "BigInt": "int8",
    "DoublePrecision": "float8", "Real": "float4", "Decimal": "numeric", "Money": "money",
    "Timestamp": "timestamp", "Timestamptz": "timestamptz", "Date": "date", "Time": "time",
    "Timetz": "timetz", "Json": "json", "JsonB": "jsonb", "ByteA": "bytea",
}  # fmt: skip
# Types whose modifiers change what a value may be (a length, a precision); the others'
# (a timestamp's fractional digits) are not compared.
_SIZED = frozenset({"varchar", "bpchar", "numeric", "bit", "varbit"})

_BLOCK = re.compile(r"\b(model|view|enum|type|datasource|generator)\s+(\w+)\s*\{")
_FIELD = re.compile(
    r"^(?P<name>\w+)\s+(?P<type>\w+(?:\s*\([^)]*\))?)\s*(?P<list>\[\])?\s*(?P<opt>\?)?\s*(?P<rest>.*)$"
)
_ENUM_VALUE = re.compile(r"^(?P<name>\w+)\s*(?P<rest>.*)$")
_ASSIGN = re.compile(r"^(\w+)\s*=\s*(.*)$")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass
class Attribute:
    name: str  # without the leading @ or @@: "id", "map", "db.VarChar"
    args: str | None  # the text between the parentheses, None without parentheses

    def first_string(self) -> str | None:
        """The first string argument (``@map("x")``, ``@@map(name: "x")``)."""
        if self.args is None:
            return None
        match = _STRING.search(self.args)
        return _unescape(match.group(1)) if match else None

    def field_list(self) -> list[str]:
        """The field names of ``@@id([a, b])`` / ``@@unique(fields: [a, b])``."""
        if self.args is None:
            return []
        match = re.search(r"\[([^\]]*)\]", self.args)
        if not match:
            return []
        names = []
        for part in match.group(1).split(","):
            name = re.match(r"\s*(\w+)", part)
            if name:
                names.append(name.group(1))
        return names


@dataclass
class PrismaField:
    name: str
    type: str
    optional: bool = False
    is_list: bool = False
    attributes: list[Attribute] = field(default_factory=list)
    line: int = 0

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def column(self) -> str:
        mapped = self.attribute("map")
        return (mapped.first_string() if mapped else None) or self.name

    @property
    def is_id(self) -> bool:
        return self.attribute("id") is not None

    @property
    def updated_at(self) -> bool:
        return self.attribute("updatedAt") is not None

    @property
    def default_function(self) -> str | None:
        """The function name of ``@default(fn(...))``; "" for a literal default; None
        without ``@default``."""
        default = self.attribute("default")
        if default is None:
            return None
        match = re.match(r"\s*(\w+)\s*\(", default.args or "")
        return match.group(1) if match else ""


@dataclass
class PrismaModel:
    name: str
    fields: list[PrismaField] = field(default_factory=list)
    attributes: list[Attribute] = field(default_factory=list)
    is_view: bool = False
    line: int = 0

    def attribute(self, name: str) -> Attribute | None:
        return next((a for a in self.attributes if a.name == name), None)

    @property
    def table(self) -> str:
        mapped = self.attribute("map")
        return (mapped.first_string() if mapped else None) or self.name

    @property
    def schema(self) -> str | None:
        attr = self.attribute("schema")
        return attr.first_string() if attr else None


@dataclass
class PrismaEnum:
    name: str
    values: list[tuple[str, str]] = field(default_factory=list)  # (name, database value)
    attributes: list[Attribute] = field(default_factory=list)
    line: int = 0

    @property
    def db_name(self) -> str:
        mapped = next((a for a in self.attributes if a.name == "map"), None)
        return (mapped.first_string() if mapped else None) or self.name

    @property
    def schema(self) -> str | None:
        attr = next((a for a in self.attributes if a.name == "schema"), None)
        return attr.first_string() if attr else None


@dataclass
class PrismaSchema:
    models: list[PrismaModel] = field(default_factory=list)
    enums: list[PrismaEnum] = field(default_factory=list)
    provider: str | None = None
    schemas: list[str] = field(default_factory=list)
    composite_types: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def model(self, name: str) -> PrismaModel | None:
        return next((m for m in self.models if m.name == name), None)

    def scalar_fields(self, model: PrismaModel) -> list[PrismaField]:
        """The fields stored as columns that the client reads and writes."""
        models = {m.name for m in self.models}
        enums = {e.name for e in self.enums}
        found = []
        for f in model.fields:
            if f.attribute("ignore") is not None or f.attribute("relation") is not None:
                continue
            if f.type in models or f.type in self.composite_types:
                continue  # a relation field: no column of its own
            if f.type.startswith("Unsupported"):
                continue  # the client can neither read nor write it
            if f.type in SCALAR_TYPES or f.type in enums:
                found.append(f)
        return found


@dataclass(frozen=True)
class DerivedQuery:
    model: str
    operation: str  # "findMany", "create (required fields)", "update email"...
    sql: str
    line: int  # the model's line in the schema


def parse_prisma_schema(text: str) -> PrismaSchema:
    schema = PrismaSchema()
    clean = _strip_comments(text)
    pos = 0
    while True:
        match = _BLOCK.search(clean, pos)
        if match is None:
            break
        kind, name = match.group(1), match.group(2)
        end = _block_end(clean, match.end())
        if end < 0:
            schema.errors.append(
                f"line {_line_of(clean, match.start())}: block {name} is not closed"
            )
            break
        body_line = _line_of(clean, match.end())
        body = clean[match.end() : end]
        if kind in ("model", "view"):
            schema.models.append(_model(name, body, body_line, kind == "view", schema.errors))
            schema.models[-1].line = _line_of(clean, match.start())
        elif kind == "enum":
            schema.enums.append(_enum(name, body, body_line, schema.errors))
            schema.enums[-1].line = _line_of(clean, match.start())
        elif kind == "type":
            schema.composite_types.add(name)
        elif kind == "datasource":
            _datasource(schema, body)
        pos = end + 1
    return schema


def _logical_lines(body: str, first_line: int) -> list[tuple[int, str]]:
    """(line number, text) of each field or value; a line whose brackets are still open
    (a long ``@@index([...])`` split by hand) continues on the next."""
    found: list[tuple[int, str]] = []
    pending = ""
    start = first_line
    for offset, raw in enumerate(body.split("\n")):
        if not pending:
            start = first_line + offset
        pending = f"{pending} {raw.strip()}" if pending else raw.strip()
        if pending and _depth(pending) <= 0:
            found.append((start, pending))
            pending = ""
    if pending:
        found.append((start, pending))
    return found


def _depth(text: str) -> int:
    depth = 0
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string and char == "\\":
            i += 2
            continue
        if char == '"':
            in_string = not in_string
        elif not in_string and char in "([{":
            depth += 1
        elif not in_string and char in ")]}":
            depth -= 1
        i += 1
    return depth


def _model(name: str, body: str, first_line: int, is_view: bool, errors: list[str]) -> PrismaModel:
    model = PrismaModel(name, is_view=is_view)
    for number, line in _logical_lines(body, first_line):
        if line.startswith("@@"):
            model.attributes.extend(_attributes(line, errors, number, name))
            continue
        match = _FIELD.match(line)
        if match is None:
            errors.append(f"line {number}: cannot read field in {name}: {line}")
            continue
        model.fields.append(
            PrismaField(
                name=match.group("name"),
                type=re.sub(r"\s+", "", match.group("type")),
                optional=bool(match.group("opt")),
                is_list=bool(match.group("list")),
                attributes=_attributes(match.group("rest"), errors, number, name),
                line=number,
            )
        )
    return model


def _enum(name: str, body: str, first_line: int, errors: list[str]) -> PrismaEnum:
    enum = PrismaEnum(name)
    for number, line in _logical_lines(body, first_line):
        if line.startswith("@@"):
            enum.attributes.extend(_attributes(line, errors, number, name))
            continue
        match = _ENUM_VALUE.match(line)
        if match is None:
            errors.append(f"line {number}: cannot read value of enum {name}: {line}")
            continue
        attrs = _attributes(match.group("rest"), errors, number, name)
        mapped = next((a.first_string() for a in attrs if a.name == "map"), None)
        enum.values.append((match.group("name"), mapped or match.group("name")))
    return enum


def _datasource(schema: PrismaSchema, body: str) -> None:
    for raw in body.split("\n"):
        match = _ASSIGN.match(raw.strip())
        if match is None:
            continue
        key, value = match.groups()
        if key == "provider":
            strings = _STRING.findall(value)
            schema.provider = _unescape(strings[0]) if strings else None
        elif key == "schemas":
            schema.schemas = [_unescape(s) for s in _STRING.findall(value)]


def _attributes(text: str, errors: list[str], line: int, where: str) -> list[Attribute]:
    """The ``@name(args)`` / ``@@name(args)`` attributes in ``text`` (in block ``where``)."""
    found = []
    i = 0
    while i < len(text):
        if text[i] != "@":
            if not text[i].isspace():
                errors.append(f"line {line}: unexpected text in {where}: {text[i:].strip()}")
                break
            i += 1
            continue
        while i < len(text) and text[i] == "@":
            i += 1
        match = re.match(r"[\w.]+", text[i:])
        if match is None:
            errors.append(f"line {line}: attribute without a name in {where}")
            break
        name = match.group(0)
        i += len(name)
        j = i
        while j < len(text) and text[j] in " \t":
            j += 1
        args = None
        if j < len(text) and text[j] == "(":
            end = _balanced_end(text, j)
            if end < 0:
                errors.append(f"line {line}: unbalanced parentheses in @{name} in {where}")
                break
            args = text[j + 1 : end]
            i = end + 1
        found.append(Attribute(name, args))
    return found


def _balanced_end(text: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (strings respected), or -1."""
    depth = 0
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            if i < 0:
                return -1
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _block_end(text: str, start: int) -> int:
    """Index of the ``}`` closing a block whose body starts at ``start``, or -1."""
    depth = 1
    i = start
    while i < len(text):
        char = text[i]
        if char == '"':
            i = _string_end(text, i)
            if i < 0:
                return -1
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _string_end(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i
        if text[i] == "\n":
            return -1
        i += 1
    return -1


def _strip_comments(text: str) -> str:
    """Blank ``//`` comments (``///`` doc comments too) outside strings, keeping lines."""
    out = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        in_string = False
        cut = len(line)
        i = 0
        while i < len(line):
            char = line[i]
            if in_string and char == "\\":
                i += 2
                continue
            if char == '"':
                in_string = not in_string
            elif not in_string and line.startswith("//", i):
                cut = i
                break
            i += 1
        out.append(line[:cut])
    return "\n".join(out)


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def derive_queries(schema: PrismaSchema, *, default_schema: str = "public") -> list[DerivedQuery]:
    """The SQL Prisma Client sends for each model (see the module docstring)."""
    queries: list[DerivedQuery] = []
    for model in schema.models:
        if model.attribute("ignore") is not None:
            continue
        fields = schema.scalar_fields(model)
        if not fields:
            continue
        table = f"{quote(model.schema or default_schema)}.{quote(model.table)}"
        selected = ", ".join(f"{table}.{quote(f.column)}" for f in fields)

        def add(operation: str, sql: str, model: PrismaModel = model) -> None:
            queries.append(DerivedQuery(model.name, operation, sql, model.line))

        add("findMany", f"SELECT {selected} FROM {table} WHERE 1=1 OFFSET $1")
        if model.is_view:
            continue
        add(
            "create (required fields)",
            _insert(table, [f for f in fields if _required(f)], selected),
        )
        add("create (all fields)", _insert(table, fields, selected))
        keys = _key_fields(model, fields)
        for f in fields:
            if f in keys:
                continue
            where = " AND ".join(
                f"{table}.{quote(k.column)} = ${n}" for n, k in enumerate(keys, start=2)
            )
            add(
                f"update {f.name}",
                f"UPDATE {table} SET {quote(f.column)} = $1 WHERE ({where or '1=1'})",
            )
    return queries


def _required(f: PrismaField) -> bool:
    if f.optional or f.is_list:
        return False
    default = f.default_function
    return default is None or default in CLIENT_DEFAULTS or f.updated_at


def _insert(table: str, fields: list[PrismaField], returning: str) -> str:
    if not fields:
        return f"INSERT INTO {table} DEFAULT VALUES RETURNING {returning}"
    columns = ",".join(quote(f.column) for f in fields)
    values = ",".join(f"${n}" for n in range(1, len(fields) + 1))
    return f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {returning}"


def _key_fields(model: PrismaModel, fields: list[PrismaField]) -> list[PrismaField]:
    """The fields Prisma puts in an update's WHERE: the id, else the first unique."""
    by_name = {f.name: f for f in fields}
    ids = [f for f in fields if f.is_id]
    if ids:
        return ids
    for name in ("id", "unique"):
        for attr in model.attributes:
            if attr.name == name:
                picked = [by_name[n] for n in attr.field_list() if n in by_name]
                if picked:
                    return picked
    return [f for f in fields if f.attribute("unique") is not None][:1]


def column_facts(
    f: PrismaField, enums: dict[str, PrismaEnum], model_schema: str | None
) -> MappedColumn:
    """What a scalar or enum field says about its column: required or optional (a list's
    column is nullable whatever it says, so lists leave it open), who supplies a value an
    insert leaves out, the declared type and, for an enum, its database values."""
    from migcheck.appschema.model import MappedColumn

    default = ""
    db_default = False
    function = f.default_function
    if f.updated_at:
        default = "@updatedAt"
    elif function is not None:
        args = (f.attribute("default") or Attribute("default", "")).args or ""
        default = f"@default({args.strip()})"
        db_default = function not in CLIENT_DEFAULTS and function != "now"
    enum = enums.get(f.type)
    return MappedColumn(
        f.column,
        f.line,
        "@ignore" if f.attribute("ignore") is not None else "",
        required=None if f.is_list else (not f.optional or f.is_id),
        default=default,
        db_default=db_default,
        type=_field_type(f, enum, model_schema),
        enum_values=tuple(value for _, value in enum.values) if enum else (),
        enum_line=enum.line if enum else 0,
        field=f.name if f.name != f.column else "",
    )


def _field_type(
    f: PrismaField, enum: PrismaEnum | None, model_schema: str | None
) -> AppType | None:
    from migcheck.appschema.model import AppType

    array = 1 if f.is_list else 0
    shown = f"{f.type}{'[]' if f.is_list else ''}{'?' if f.optional else ''}"
    if enum is not None:
        schema = enum.schema or model_schema
        name = f"{schema}.{enum.db_name}" if schema else enum.db_name
        return AppType(name, (), array, shown)
    native = next((a for a in f.attributes if a.name.startswith("db.")), None)
    if native is not None:
        typname = NATIVE_TYPES.get(native.name[3:])
        if typname is None:
            return None
        params: tuple[int, ...] = ()
        if typname in _SIZED and native.args:
            numbers = re.findall(r"\d+", native.args)
            params = tuple(int(n) for n in numbers)
        args = f"({native.args})" if native.args is not None else ""
        return AppType(typname, params, array, f"{shown} @{native.name}{args}")
    typname = SCALAR_COLUMN_TYPES.get(f.type)
    return AppType(typname, (), array, shown) if typname else None
