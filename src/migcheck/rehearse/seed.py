"""Fill the tables with realistic volume, set-based, respecting the schema's constraints.

One ``INSERT ... SELECT ... FROM generate_series(1, n) AS g(i)`` per table, parents
before children. Every value is a function of the row number, so a column's value in
row ``j`` is known without reading it back, and a foreign key is the parent's key
expression at a row ``j`` drawn from the parent's rows:

* primary key and unique columns: distinct per row (``'id_' || i``, ``i``, an md5 uuid);
* foreign keys: the parent's expression at ``j = (i - 1) * P % n_parent + 1`` (``P`` a
  prime: a spread over all parents); when only foreign-key columns make up a unique
  constraint, the references count in mixed radix so the combination stays unique;
* enums cycle through their labels, timestamps spread over a year, json/jsonb objects,
  arrays of one element, uuids; unknown types get NULL or their default;
* CHECK constraints: when one rejects the rows, the insert is repeated keeping only the
  rows every CHECK accepts, and the report names the table and constraint.

Serial and identity sequences are moved past the seeded keys, then the tables are
analysed. Seeding runs on the runner's connection, never as superuser. When the role
may, it sets ``session_replication_role = replica`` as a bulk load does: foreign keys
are then valid by construction instead of checked row by row (three times faster on
the Prisma fixture), and the migrations' own triggers do not fire while seeding.
A table referencing a parent that seeded fewer rows than planned keeps only the rows
whose references exist, so construction stays exact.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from migcheck.rehearse.tables import Column, ForeignKey, Table, parents_first

if TYPE_CHECKING:
    import psycopg

# Spreads references over all parent rows; (i - 1) * _SPREAD stays within bigint for
# any row count we accept.
_SPREAD = 2654435761
_EPOCH = "timestamp '2025-01-01 00:00:00'"
_CHECK_VIOLATION = "23514"
_FOREIGN_KEY_VIOLATION = "23503"


@dataclass
class SeedResult:
    rows: dict[str, int] = field(default_factory=dict)  # qualname → rows seeded
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def value_expr(table: Table, column: Column, j: str, unique: bool) -> str | None:
    """SQL for the column's value in row ``j`` (an SQL expression), or None when no
    value can be made up for its type."""
    tag = _literal(f"{table.name}.{column.name}:")
    category, name = column.category, column.type_name
    if category == "A":
        element = _scalar(
            tag,
            column.element_name or "",
            column.element_category or "",
            column.enum_type,
            j,
            unique,
        )
        return None if element is None else f"ARRAY[{element}]"
    return _scalar(tag, name, category, column.enum_type, j, unique)


def _scalar(
    tag: str, name: str, category: str, enum_type: str | None, j: str, unique: bool
) -> str | None:
    spread = j if unique else f"(({j}) % 1000)"
    if enum_type is not None:
        labels = f"pg_catalog.enum_range(NULL::{enum_type})"
        return f"({labels})[(({j}) % pg_catalog.array_length({labels}, 1)) + 1]"
    if name == "uuid":
        return f"pg_catalog.md5({tag} || ({j}))::uuid"
    if name in ("json", "jsonb"):
        return f"pg_catalog.jsonb_build_object('n', {j}, 'tag', 'seed')"
    if name == "bool":
        return f"(({j}) % 2 = 0)"
    if name in ("timestamp", "timestamptz", "date"):
        step = "second" if unique else "minute"
        return f"({_EPOCH} + (({spread}) % 525600) * interval '1 {step}')"
    if name in ("time", "timetz"):
        return f"(time '00:00' + (({j}) % 86400) * interval '1 second')"
    if name == "interval":
        return f"((({j}) % 1000) * interval '1 minute')"
    if name == "bytea":
        return f"pg_catalog.decode(pg_catalog.md5({tag} || ({j})), 'hex')"
    if name in ("inet", "cidr"):
        return f"(inet '10.0.0.0' + (({j}) % 16000000))"
    if name == "int2":
        return f"(({j}) % 32000)"
    if category == "N":
        if name in ("int4", "int8", "oid"):
            return f"({spread})"
        return f"(({spread}) + 0.25)"
    if category == "S":
        return f"({tag} || ({j}))" if unique else f"('value ' || (({j}) % 97))"
    return None


@dataclass
class _Plan:
    table: Table
    rows: int
    columns: list[str]
    exprs: list[str]
    overriding: bool
    problems: list[str]


def plan_table(table: Table, rows: int, seeded: dict[int, int], tables: dict[int, Table]) -> _Plan:
    """The column list and value expressions of ``table``'s seeding insert.

    ``seeded``: rows already seeded per parent table (parents come first)."""
    problems: list[str] = []
    refs: dict[str, tuple[ForeignKey, str]] = {}
    fk_only_unique = [
        set(u)
        for u in table.unique
        if all(any(c in fk.columns for fk in table.foreign_keys) for c in u)
    ]
    radix = 1
    for number, fk in enumerate(table.foreign_keys):
        parent_rows = rows if fk.parent == table.oid else seeded.get(fk.parent)
        if fk.parent == table.oid:
            j = "i"  # a row referencing itself is valid in the same statement
        elif not parent_rows:
            j = ""
        elif any(set(fk.columns) <= u for u in fk_only_unique):
            j = f"((((i - 1) / {radix}) % {parent_rows}) * {_SPREAD} % {parent_rows} + 1)"
            radix *= parent_rows
            rows = min(rows, radix)
        else:
            j = f"(((i - 1) * {_SPREAD} + {number}) % {parent_rows} + 1)"
        for col, parent_col in zip(fk.columns, fk.parent_columns, strict=False):
            refs.setdefault(col, (fk, j and _parent_value(tables[fk.parent], parent_col, j)))
    unique_cols = {c for u in table.unique for c in u}
    columns, exprs = [], []
    overriding = False
    for column in table.columns:
        if column.generated:
            continue
        ref = refs.get(column.name)
        expr: str | None
        if ref is not None:
            fk, expr = ref
            if not expr:
                if column.not_null:
                    problems.append(
                        f"{table.qualname}: {fk.name} references a table with no seeded rows"
                    )
                    return _Plan(table, 0, [], [], False, problems)
                expr = "NULL"
        else:
            expr = value_expr(table, column, "i", column.name in unique_cols)
        if expr is None:
            if column.not_null and not column.has_default:
                problems.append(
                    f"{table.qualname}.{column.name}: no seed value for type {column.type_sql}"
                )
                return _Plan(table, 0, [], [], False, problems)
            continue  # its default (or NULL) fills it
        overriding = overriding or column.identity == "a"
        columns.append(quote_ident(column.name))
        exprs.append(f"({expr})::{column.type_sql}")
    return _Plan(table, rows, columns, exprs, overriding, problems)


def _parent_value(parent: Table, column_name: str, j: str) -> str:
    column = parent.column(column_name)
    if column is None:
        return ""
    return value_expr(parent, column, j, True) or ""


def insert_sql(plan: _Plan, checks: bool = False, references: bool = False) -> str:
    """The seeding INSERT; with ``checks``, only the rows every CHECK accepts; with
    ``references``, only the rows whose references exist (a parent lost rows to a CHECK)."""
    select = ", ".join(f"{e} AS {c}" for e, c in zip(plan.exprs, plan.columns, strict=True))
    source = f"SELECT {select} FROM pg_catalog.generate_series(1::int8, {plan.rows}) AS g(i)"
    where = []
    if checks:
        where += [f"({expr}) IS NOT FALSE" for _, expr in plan.table.checks]
    if references:
        where += [_exists(plan, fk) for fk in plan.table.foreign_keys]
    if where:
        source = f"SELECT * FROM ({source}) AS s WHERE {' AND '.join(where)}"
    overriding = " OVERRIDING SYSTEM VALUE" if plan.overriding else ""
    return f"INSERT INTO {plan.table.sql} ({', '.join(plan.columns)}){overriding} {source}"


def _exists(plan: _Plan, fk: ForeignKey) -> str:
    pairs = [
        (quote_ident(c), quote_ident(p))
        for c, p in zip(fk.columns, fk.parent_columns, strict=False)
        if quote_ident(c) in plan.columns
    ]
    if not pairs or fk.parent == plan.table.oid:
        return "true"
    null = " OR ".join(f"s.{c} IS NULL" for c, _ in pairs)
    match = " AND ".join(f"r.{p} = s.{c}" for c, p in pairs)
    return f"({null} OR EXISTS (SELECT 1 FROM {fk.parent_sql} AS r WHERE {match}))"


def seed(
    conn: psycopg.Connection,
    tables: dict[int, Table],
    counts: dict[int, int],
    progress: Callable[[str, int, int], None] | None = None,
) -> SeedResult:
    """Seed ``counts[oid]`` rows into each table; returns what was seeded."""
    import psycopg

    result = SeedResult()
    started = time.perf_counter()
    seeded: dict[int, int] = {}
    short: set[int] = set()  # tables that seeded fewer rows than planned
    order = parents_first(tables, set(counts))
    bulk = _bulk_mode(conn)
    for done, oid in enumerate(order):
        table = tables[oid]
        if progress is not None:
            progress(table.qualname, done, len(order))
        plan = plan_table(table, counts[oid], seeded, tables)
        result.problems += plan.problems
        if not plan.columns or plan.rows <= 0:
            seeded[oid] = 0
            result.rows[table.qualname] = 0
            continue
        if plan.rows < counts[oid]:
            result.problems.append(
                f"{table.qualname}: seeded {plan.rows:,} rows, not {counts[oid]:,}: its unique "
                "references allow no more"
            )
        filtered = any(fk.parent in short for fk in table.foreign_keys)
        inserted = _insert(conn, plan, result, filtered)
        if inserted < plan.rows:
            short.add(oid)
        seeded[oid] = inserted
        result.rows[table.qualname] = inserted
        if inserted:
            _advance_sequences(conn, table)
    if bulk:
        conn.execute("RESET session_replication_role")
    if progress is not None:
        progress("analyze", len(order), len(order))
    for oid in order:
        try:
            conn.execute(f"ANALYZE {tables[oid].sql}")
        except psycopg.Error as err:
            result.problems.append(f"{tables[oid].qualname}: ANALYZE failed: {_first_line(err)}")
    result.seconds = time.perf_counter() - started
    return result


def _bulk_mode(conn: psycopg.Connection) -> bool:
    """Skip per-row foreign-key checks and triggers while seeding, when the role may."""
    import psycopg

    try:
        conn.execute("SET session_replication_role = replica")
    except psycopg.Error:
        return False
    return True


def _insert(conn: psycopg.Connection, plan: _Plan, result: SeedResult, filtered: bool) -> int:
    """Insert the planned rows; when a CHECK rejects some (or a parent lost rows to
    one), insert those that pass instead and say so."""
    import psycopg

    name = plan.table.qualname
    try:
        cur = conn.execute(insert_sql(plan, references=filtered))
        inserted = max(cur.rowcount, 0)
        if inserted < plan.rows:
            result.problems.append(
                f"{name}: seeded {inserted:,} rows of {plan.rows:,}: the others referenced "
                "rows a parent table could not seed"
            )
        return inserted
    except psycopg.Error as err:
        constraint = getattr(err.diag, "constraint_name", None)
        state = err.sqlstate
        message = _first_line(err)
    if state not in (_CHECK_VIOLATION, _FOREIGN_KEY_VIOLATION):
        result.problems.append(f"{name}: seeding failed: {message}")
        return 0
    try:
        cur = conn.execute(insert_sql(plan, checks=True, references=True))
    except psycopg.Error as err:
        result.problems.append(f"{name}: seeding failed: {_first_line(err)}")
        return 0
    inserted = max(cur.rowcount, 0)
    if state == _CHECK_VIOLATION:
        result.problems.append(
            f"{name}: CHECK constraint {constraint or '?'} rejected the seeded values; "
            f"kept the {inserted:,} rows of {plan.rows:,} that every CHECK accepts"
        )
    else:
        result.problems.append(
            f"{name}: seeded {inserted:,} rows of {plan.rows:,}: the others referenced rows "
            f"a parent table could not seed ({constraint or '?'})"
        )
    return inserted


def _advance_sequences(conn: psycopg.Connection, table: Table) -> None:
    """Move serial and identity sequences past the seeded keys, so the app's INSERTs
    with default keys do not collide with seeded rows."""
    for column in table.columns:
        if column.sequence is None or column.category != "N":
            continue
        conn.execute(
            f"SELECT pg_catalog.setval({_literal(column.sequence)}::regclass,"
            f" coalesce(max({quote_ident(column.name)})::int8, 0) + 1, false)"
            f" FROM {table.sql}"
        )


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
