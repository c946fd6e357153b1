"""Parameters for the app's queries, drawn from the rows that were seeded.

Each ``$n`` of a query is matched to the column it is compared with or inserted into,
read from the query text: ``"User"."email" = $1``, ``"id" IN ($1,$2)``, ``SET "x" = $3``,
the column list of ``INSERT ... VALUES``. Its values are then a sample of that column's
seeded values, so a SELECT finds rows and an UPDATE or DELETE touches real ones; an
INSERT gets fresh values for its unique columns and seeded ones (valid references) for
the others. ``LIMIT $n`` gets 10, ``OFFSET $n`` 0, ``CAST($n::text AS "Enum")`` one of
the enum's labels, and any other parameter a sample literal of its type.

Queries that PostgreSQL does not accept on the base schema are left out of the traffic
(``migcheck live`` reports them as ``live-query-invalid``).
"""

from __future__ import annotations

import random
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.live.plan import strip_comments
from migcheck.live.queries import sample_literal
from migcheck.live.results import Query
from migcheck.rehearse.seed import quote_ident
from migcheck.rehearse.tables import Table

if TYPE_CHECKING:
    import psycopg

Value = Callable[[random.Random], "str | None"]

_IDENT = r'(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)'
_QUALIFIED = rf"{_IDENT}(?:\s*\.\s*{_IDENT})*"
_CAST = r"(?:\s*::\s*[\w\"]+(?:\s*\([^)]*\))?)*"
_COMPARE = re.compile(rf"({_QUALIFIED})\s*(?:=|<>|!=|<=|>=|<|>)\s*\$(\d+)\b")
_IN_LIST = re.compile(rf"({_QUALIFIED})\s+IN\s*\(([^()]*)\)", re.IGNORECASE)
_INSERT = re.compile(
    rf"^\s*INSERT\s+INTO\s+({_QUALIFIED})\s*\(([^)]*)\)\s*VALUES\s*\((.*)\)", re.I | re.S
)
_LIMIT = re.compile(r"\bLIMIT\s+\$(\d+)", re.IGNORECASE)
_OFFSET = re.compile(r"\bOFFSET\s+\$(\d+)", re.IGNORECASE)
_ENUM_CAST = re.compile(
    rf"CAST\s*\(\s*\$(\d+)\s*::\s*text\s+AS\s+({_QUALIFIED})\s*\)|\$(\d+)\s*::\s*text\s*::\s*({_QUALIFIED})",
    re.IGNORECASE,
)
_PARAM = re.compile(r"^\$(\d+)" + _CAST + r"$")
_READ = re.compile(r"^\(*\s*(select|table|values)\b", re.IGNORECASE)
_ROW_LOCK = re.compile(r"\bfor\s+(update|share|no\s+key\s+update|key\s+share)\b", re.IGNORECASE)
_POOL = 256
_NAME = "migcheck_bind"


@dataclass
class Workload:
    """One app query ready to run: its weight in the mix and a value maker per ``$n``."""

    query: Query
    weight: float
    write: bool  # runs in a transaction that is rolled back
    params: list[Value] = field(default_factory=list)

    def values(self, rng: random.Random) -> list[str | None]:
        return [make(rng) for make in self.params]


def is_write(text: str) -> bool:
    bare = strip_comments(text)
    return not _READ.match(bare) or bool(_ROW_LOCK.search(bare))


def _unquote(part: str) -> str:
    part = part.strip()
    if part.startswith('"'):
        return part[1:-1].replace('""', '"')
    return part.lower()


def _parts(qualified: str) -> list[str]:
    return [_unquote(p) for p in re.findall(_IDENT, qualified)]


def _split_top(text: str) -> list[str]:
    """Comma-separated items at parenthesis depth 0."""
    items, depth, start, quote = [], 0, 0, ""
    for at, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:at])
            start = at + 1
    items.append(text[start:])
    return [i.strip() for i in items]


class Binder:
    """Builds ``Workload``s on a connection to the seeded database."""

    def __init__(self, conn: psycopg.Connection, tables: dict[int, Table], seed: int = 1) -> None:
        self.conn = conn
        self.tables = tables
        self.notes: list[str] = []
        self._pools: dict[tuple[int, str], list[str]] = {}
        self._labels: dict[str, list[str]] = {}
        self._rng = random.Random(seed)

    def bind(self, query: Query, weight: float) -> Workload | None:
        """The workload of ``query``, or None (with a note) when it cannot run."""
        types = self._parameter_types(query)
        if types is None:
            return None
        bare = strip_comments(query.text)
        columns = self._columns(bare)
        workload = Workload(query, weight, is_write(bare))
        unique_insert = self._insert_unique(bare)
        limits = {int(n) for n in _LIMIT.findall(bare)}
        offsets = {int(n) for n in _OFFSET.findall(bare)}
        enums = self._enum_params(bare)
        for number, (type_name, category, labels) in enumerate(types, start=1):
            workload.params.append(
                self._value(
                    number,
                    type_name,
                    category,
                    labels,
                    columns,
                    unique_insert,
                    limits,
                    offsets,
                    enums,
                )
            )
        return workload

    # -- what each parameter is --------------------------------------------------------
    def _parameter_types(self, query: Query) -> list[tuple[str, str, list[str]]] | None:
        import psycopg

        conn = self.conn
        conn.execute("BEGIN")
        try:
            conn.execute(f"PREPARE {_NAME} AS {query.text}")
            rows = conn.execute(
                """
                SELECT t.typname, t.typcategory,
                       ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e
                             WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder)
                FROM pg_catalog.pg_prepared_statements p,
                     unnest(p.parameter_types::oid[]) WITH ORDINALITY AS a(oid, n)
                JOIN pg_catalog.pg_type t ON t.oid = a.oid
                WHERE p.name = %s ORDER BY a.n
                """,
                (_NAME,),
            ).fetchall()
        except psycopg.Error as err:
            message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            self.notes.append(f"{query.origin}: left out of the traffic: {message}")
            return None
        finally:
            conn.execute("ROLLBACK")
            conn.execute("DEALLOCATE ALL")  # PREPARE outlives the rollback
        return [(str(n), str(c), list(labels or [])) for n, c, labels in rows]

    def _table(self, parts: list[str]) -> Table | None:
        if not parts:
            return None
        name = parts[-1]
        schema = parts[-2] if len(parts) > 1 else None
        found = [
            t
            for t in self.tables.values()
            if t.name == name and (schema is None or t.schema == schema)
        ]
        if len(found) > 1:
            found = [t for t in found if t.schema == "public"] or found[:1]
        return found[0] if found else None

    def _named_tables(self, text: str) -> list[Table]:
        """Tables whose name the query mentions, for unqualified columns."""
        words = {_unquote(w) for w in re.findall(_IDENT, text)}
        return [t for t in self.tables.values() if t.name in words]

    def _columns(self, text: str) -> dict[int, tuple[Table, str]]:
        """Parameter number → (table, column) it is compared with or written to."""
        found: dict[int, tuple[Table, str]] = {}
        named = self._named_tables(text)

        def resolve(qualified: str) -> tuple[Table, str] | None:
            parts = _parts(qualified)
            if not parts:
                return None
            column = parts[-1]
            table = self._table(parts[:-1])
            if table is not None and table.column(column) is not None:
                return table, column
            for candidate in named:
                if candidate.column(column) is not None:
                    return candidate, column
            return None

        insert = _INSERT.match(text)
        if insert:
            table = self._table(_parts(insert.group(1)))
            names = [_unquote(c) for c in _split_top(insert.group(2))]
            values = _split_top(insert.group(3))
            for name, value in zip(names, values, strict=False):
                match = _PARAM.match(value)
                if match and table is not None and table.column(name) is not None:
                    found[int(match.group(1))] = (table, name)
        for match in _COMPARE.finditer(text):
            target = resolve(match.group(1))
            if target is not None:
                found.setdefault(int(match.group(2)), target)
        for match in _IN_LIST.finditer(text):
            target = resolve(match.group(1))
            if target is None:
                continue
            for item in _split_top(match.group(2)):
                param = _PARAM.match(item)
                if param:
                    found.setdefault(int(param.group(1)), target)
        return found

    def _insert_unique(self, text: str) -> set[int]:
        """Parameters an INSERT writes to a unique column that is not a reference."""
        insert = _INSERT.match(text)
        if not insert:
            return set()
        table = self._table(_parts(insert.group(1)))
        if table is None:
            return set()
        references = {c for fk in table.foreign_keys for c in fk.columns}
        unique = {c for u in table.unique for c in u if c not in references}
        numbers = set()
        names = [_unquote(c) for c in _split_top(insert.group(2))]
        for name, value in zip(names, _split_top(insert.group(3)), strict=False):
            match = _PARAM.match(value)
            if match and name in unique:
                numbers.add(int(match.group(1)))
        return numbers

    def _enum_params(self, text: str) -> dict[int, list[str]]:
        found = {}
        for match in _ENUM_CAST.finditer(text):
            number = match.group(1) or match.group(3)
            type_text = match.group(2) or match.group(4)
            labels = self._enum_labels(".".join(quote_ident(p) for p in _parts(type_text)))
            if labels:
                found[int(number)] = labels
        return found

    def _enum_labels(self, regtype: str) -> list[str]:
        if regtype not in self._labels:
            import psycopg

            try:
                row = self.conn.execute(
                    "SELECT ARRAY(SELECT e.enumlabel::text FROM pg_catalog.pg_enum e"
                    " WHERE e.enumtypid = pg_catalog.to_regtype(%s)"
                    " ORDER BY e.enumsortorder)",
                    (regtype,),
                ).fetchone()
            except psycopg.Error:
                row = None
            self._labels[regtype] = list(row[0]) if row and row[0] else []
        return self._labels[regtype]

    # -- values ------------------------------------------------------------------------
    def _value(
        self,
        number: int,
        type_name: str,
        category: str,
        labels: list[str],
        columns: dict[int, tuple[Table, str]],
        unique_insert: set[int],
        limits: set[int],
        offsets: set[int],
        enums: dict[int, list[str]],
    ) -> Value:
        if number in limits:
            return _constant("10")
        if number in offsets:
            return _constant("0")
        if number in enums:
            return _choice(enums[number])
        if labels:
            return _choice(labels)
        target = columns.get(number)
        if target is not None:
            table, name = target
            column = table.column(name)
            if number in unique_insert and column is not None:
                fresh = _fresh(column.type_name, column.category)
                if fresh is not None:
                    return fresh
            pool = self._pool(table, name)
            if pool:
                return _choice(pool)
        literal = sample_literal(type_name, category)
        return _constant(literal)

    def _pool(self, table: Table, column: str) -> list[str]:
        key = (table.oid, column)
        if key not in self._pools:
            col = quote_ident(column)
            sample = (
                f"SELECT {col}::text FROM {table.sql} TABLESAMPLE SYSTEM (%s)"
                f" WHERE {col} IS NOT NULL LIMIT {_POOL}"
            )
            plain = f"SELECT {col}::text FROM {table.sql} WHERE {col} IS NOT NULL LIMIT {_POOL}"
            row = self.conn.execute(
                "SELECT greatest(reltuples, 1) FROM pg_catalog.pg_class WHERE oid = %s",
                (table.oid,),
            ).fetchone()
            rows = float(row[0]) if row else 1.0
            percent = min(100.0, max(0.001, 100.0 * 20 * _POOL / rows))
            values = [str(r[0]) for r in self.conn.execute(sample, (percent,)).fetchall()]
            if len(values) < 8:
                values = [str(r[0]) for r in self.conn.execute(plain).fetchall()]
            self._pools[key] = values
        return self._pools[key]


def _constant(value: str | None) -> Value:
    return lambda rng: value


def _choice(values: list[str]) -> Value:
    frozen = list(values)
    return lambda rng: rng.choice(frozen)


def _fresh(type_name: str, category: str) -> Value | None:
    """New values for a unique column an INSERT writes (rolled back afterwards)."""
    if type_name == "uuid":
        return lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if type_name in ("int4", "int8", "numeric"):
        return lambda rng: str(rng.randint(1_500_000_000, 2_100_000_000))
    if category == "S":
        return lambda rng: f"rehearse-{rng.getrandbits(64):016x}"
    return None
