"""Application queries: reading them from files, and checking one against a database.

Sources read here: SQL files (one query per statement, ``$1`` parameters) and
``pg_stat_statements`` exports (CSV or JSON with a ``query`` column). Queries derived
from a Prisma schema or SQLAlchemy models come from ``prisma_schema.py`` and
``sqlalchemy_models.py``.

A check is ``PREPARE`` (which catches missing tables and columns and type errors), then
one ``EXECUTE`` with sample parameter values made from the types PREPARE inferred,
inside a transaction (or savepoint) that is rolled back. Execution catches what PREPARE
cannot: an INSERT that does not supply a new NOT NULL column. Execution errors that
depend on the sample data (a foreign key, a CHECK, a unique violation) say nothing about
the schema; they are kept apart as inconclusive.
"""

from __future__ import annotations

import csv
import json
import os
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from migcheck.live.plan import strip_comments
from migcheck.live.results import Query, QueryError
from migcheck.model import InputError

if TYPE_CHECKING:
    import psycopg

_DML = re.compile(r"^\(*\s*(select|insert|update|delete|with|values|table|merge)\b", re.IGNORECASE)
_NAME = "migcheck_q"
# Retries of one query with other sample values (one enum parameter fixed per retry).
_REPAIRS = 8
_BAD_ENUM = re.compile(r'invalid input value for enum (.+?): "(.*)"$', re.S)
# Statements EXPLAIN (GENERIC_PLAN) checks without values; an INSERT's NOT NULL columns
# are only checked by running it.
_NO_VALUES = re.compile(r"^\(*\s*(select|update|delete|table)\b", re.IGNORECASE)
_PARAM = re.compile(r"\$(\d+)")

# Sample input literals by type name, then by type category (pg_type.typcategory).
_BY_TYPE = {
    "bool": "true",
    "uuid": "00000000-0000-4000-8000-000000000001",
    "json": "{}",
    "jsonb": "{}",
    "bytea": "\\x00",
    "date": "2000-01-01",
    "timestamp": "2000-01-01 00:00:00",
    "timestamptz": "2000-01-01 00:00:00+00",
    "time": "00:00:00",
    "timetz": "00:00:00+00",
    "interval": "1 day",
    "inet": "127.0.0.1",
    "cidr": "127.0.0.0/8",
    "macaddr": "08:00:2b:01:02:03",
    "macaddr8": "08:00:2b:01:02:03:04:05",
    "point": "(0,0)",
    "tsvector": "x",
    "tsquery": "x",
    "xml": "<x/>",
    "bit": "1",
    "varbit": "1",
    "money": "1",
    "oid": "1",
    "regclass": "pg_class",
    "vector": "[1]",
}
_BY_CATEGORY = {"N": "1", "S": "x", "B": "true", "A": "{}", "R": "empty", "D": "2000-01-01"}


def sample_literal(type_name: str, category: str) -> str | None:
    """A valid input literal for a type (``pg_type.typname`` and ``typcategory``), or
    None when there is no generic one; the rehearsal's traffic uses it too."""
    return _BY_TYPE.get(type_name, _BY_CATEGORY.get(category))


def is_checkable(text: str) -> bool:
    """True for statements PREPARE accepts (SELECT, INSERT, UPDATE, DELETE, ...)."""
    return bool(_DML.match(strip_comments(text)))


def load_query_file(path: str, version: str) -> tuple[list[Query], list[InputError]]:
    """Queries of one file: ``.csv`` and ``.json``/``.jsonl`` are pg_stat_statements
    exports, anything else is SQL."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        return [], [InputError(path, f"cannot read query file: {err}")]
    lower = path.lower()
    if lower.endswith(".csv"):
        return _from_csv(path, text, version)
    if lower.endswith((".json", ".jsonl", ".ndjson")):
        return _from_json(path, text, version)
    return _from_sql(path, text, version), []


def split_queries(text: str) -> list[tuple[str, int]]:
    """(statement, line) for each statement of ``text``.

    sqlglot's tokenizer reads ``$1,$2`` as the start of a dollar-quoted string, so the
    parameters are masked (same length, so positions hold) before splitting and the
    statements are cut from the original text.
    """
    from migcheck.sql.split import split_sql

    masked = _PARAM.sub(lambda m: "?" + m.group(1), text)
    result = split_sql(masked)
    return [(text[s.span.start : s.span.end], s.span.line) for s in result.statements]


def is_single_statement(text: str) -> bool:
    return len(split_queries(text)) == 1


def _from_sql(path: str, text: str, version: str) -> list[Query]:
    return [
        Query(statement, f"{path}:{line}", version, "sql", path, line)
        for statement, line in split_queries(text)
    ]


def _from_csv(path: str, text: str, version: str) -> tuple[list[Query], list[InputError]]:
    # Exported query texts can be long; the default field limit is 128 KiB.
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.reader(text.splitlines(keepends=True))
    try:
        header = next(reader)
    except StopIteration:
        return [], [InputError(path, "empty pg_stat_statements export")]
    except csv.Error as err:
        return [], [InputError(path, f"not a CSV file: {err}")]
    columns = [h.strip().lower() for h in header]
    if "query" not in columns:
        return [], [InputError(path, "pg_stat_statements export has no 'query' column", 1)]
    at = columns.index("query")
    calls_at = columns.index("calls") if "calls" in columns else None
    queries: list[Query] = []
    line = reader.line_num + 1
    try:
        for row in reader:
            if len(row) > at and row[at].strip():
                calls = row[calls_at] if calls_at is not None and len(row) > calls_at else None
                queries.append(_stat_query(row[at], path, line, version, calls))
            line = reader.line_num + 1
    except csv.Error as err:
        return queries, [InputError(path, f"bad CSV: {err}", line)]
    return queries, []


def _from_json(path: str, text: str, version: str) -> tuple[list[Query], list[InputError]]:
    rows: list[tuple[int, object]] = []
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        # JSON lines: one object per line.
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError as err:
                return [], [InputError(path, f"not JSON: {err.msg}", number)]
    else:
        if isinstance(data, dict):
            data = next(
                (data[k] for k in ("rows", "data", "queries") if isinstance(data.get(k), list)),
                [data],
            )
        if not isinstance(data, list):
            return [], [InputError(path, "expected a JSON list of objects with a 'query' field")]
        rows = [(index + 1, row) for index, row in enumerate(data)]
    queries = []
    errors = []
    for number, row in rows:
        query = row.get("query") if isinstance(row, dict) else None
        if isinstance(row, dict) and isinstance(query, str) and query.strip():
            queries.append(_stat_query(query, path, number, version, row.get("calls")))
        elif not isinstance(row, dict) or "query" not in row:
            errors.append(InputError(path, f"entry {number} has no 'query' field"))
    return queries, errors[:1]


def _stat_query(text: str, path: str, line: int, version: str, calls: object = None) -> Query:
    return Query(
        text.strip().rstrip(";"),
        f"{path}:{line}",
        version,
        "pg_stat_statements",
        path,
        line,
        calls=_calls(calls),
    )


def _calls(value: object) -> int | None:
    """A ``calls`` value of an export (a number, or its text in CSV); None when absent
    or not a whole number ≥ 0."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    return value if isinstance(value, int) and value >= 0 else None


def breaks_schema(error: QueryError) -> bool:
    """True when the error is about the schema, not about the sample values."""
    if error.stage == "prepare":
        return True
    state = error.sqlstate
    # 42: undefined/ambiguous objects, type mismatches; 23502: a NOT NULL column the
    # query does not supply; 0A: an operation the schema no longer supports.
    return state.startswith(("42", "0A")) or state == "23502"


@dataclass
class Outcome:
    error: QueryError | None
    # A parameter got NULL for want of a sample of its type: a NOT NULL error may be ours.
    used_null: bool = False


class QueryChecker:
    """Checks queries on one connection (which may be inside a migration transaction).

    Sample values are only a means to run the query, so what they cannot satisfy is
    taken out of the way: foreign keys and triggers are off inside the rolled-back
    check (``session_replication_role = replica``, when the role may set it), a text
    parameter cast to an enum gets one of that enum's labels on a retry, and on
    PostgreSQL 16+ a SELECT, UPDATE or DELETE whose execution still fails on its
    values is planned without values (``EXPLAIN (GENERIC_PLAN)``)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._samples: dict[int, str | None] = {}
        self._replica: bool | None = None
        self._version = int(conn.info.server_version)

    def check(self, query: Query, *, in_tx: bool = False) -> Outcome:
        import psycopg

        conn = self.conn
        conn.execute("SAVEPOINT migcheck_check" if in_tx else "BEGIN")
        prepared = False
        try:
            if self._may_replicate():
                # SET LOCAL ends with the rollback below (to the savepoint, in a migration).
                conn.execute("SET LOCAL session_replication_role = replica")
            try:
                conn.execute(f"PREPARE {_NAME} AS {query.text}")
                prepared = True
            except psycopg.Error as err:
                return Outcome(_error("prepare", err))
            row = conn.execute(
                "SELECT parameter_types::oid[] FROM pg_prepared_statements WHERE name = %s",
                (_NAME,),
            ).fetchone()
            literals = self._literals(list(row[0]) if row and row[0] else [])
            return self._execute(query, literals)
        finally:
            conn.execute("ROLLBACK TO SAVEPOINT migcheck_check" if in_tx else "ROLLBACK")
            if in_tx:
                conn.execute("RELEASE SAVEPOINT migcheck_check")
            if prepared:
                conn.execute(f"DEALLOCATE {_NAME}")

    def _execute(self, query: Query, literals: list[str | None]) -> Outcome:
        import psycopg

        conn = self.conn
        tried: set[tuple[str, int]] = set()
        for _ in range(_REPAIRS):
            args = ", ".join("NULL" if v is None else _quote(conn, v) for v in literals)
            conn.execute("SAVEPOINT migcheck_exec")
            try:
                conn.execute(f"EXECUTE {_NAME}({args})" if literals else f"EXECUTE {_NAME}")
            except psycopg.Error as err:
                conn.execute("ROLLBACK TO SAVEPOINT migcheck_exec")
                repaired = self._enum_repair(err, literals, tried)
                if repaired is not None:
                    literals = repaired
                    continue
                error = _error("execute", err)
                if not breaks_schema(error) and self._plans_without_values(query):
                    return Outcome(None, used_null=None in literals)
                return Outcome(error, used_null=None in literals)
            conn.execute("RELEASE SAVEPOINT migcheck_exec")
            return Outcome(None, used_null=None in literals)
        return Outcome(
            QueryError("execute", "", "no sample values satisfied the query's enum casts"),
            used_null=None in literals,
        )

    def _may_replicate(self) -> bool:
        if self._replica is None:
            import psycopg

            try:
                row = self.conn.execute(
                    "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
                ).fetchone()
                allowed = bool(row and row[0])
                if not allowed and self._version >= 150000:
                    granted = self.conn.execute(
                        "SELECT has_parameter_privilege('session_replication_role', 'SET')"
                    ).fetchone()
                    allowed = bool(granted and granted[0])
            except psycopg.Error:
                allowed = False
            self._replica = allowed
        return self._replica

    def _enum_repair(
        self, err: Exception, literals: list[str | None], tried: set[tuple[str, int]]
    ) -> list[str | None] | None:
        """The literals with one parameter that fed a bad enum value given a label of
        that enum, or None when the error is not that or no parameter is left to try."""
        import psycopg

        diag = getattr(err, "diag", None)
        match = _BAD_ENUM.match(getattr(diag, "message_primary", "") or "")
        if getattr(err, "sqlstate", None) != "22P02" or match is None:
            return None
        enum, bad = match.group(1), match.group(2)
        candidates = [i for i, v in enumerate(literals) if v == bad and (enum, i) not in tried]
        if not candidates:
            return None
        try:
            row = self.conn.execute(
                "SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = %s::regtype"
                " ORDER BY e.enumsortorder LIMIT 1",
                (enum,),
            ).fetchone()
        except psycopg.Error:
            self.conn.execute("ROLLBACK TO SAVEPOINT migcheck_exec")
            return None
        if row is None:
            return None
        tried.add((enum, candidates[0]))
        fixed = list(literals)
        fixed[candidates[0]] = str(row[0])
        return fixed

    def _plans_without_values(self, query: Query) -> bool:
        """Whether PostgreSQL 16+ plans the query with no parameter values at all."""
        import psycopg

        if self._version < 160000 or not _NO_VALUES.match(strip_comments(query.text)):
            return False
        self.conn.execute("SAVEPOINT migcheck_exec")
        try:
            self.conn.execute(f"EXPLAIN (GENERIC_PLAN) {query.text}")
        except psycopg.Error:
            self.conn.execute("ROLLBACK TO SAVEPOINT migcheck_exec")
            return False
        self.conn.execute("RELEASE SAVEPOINT migcheck_exec")
        return True

    def _literals(self, type_oids: list[int]) -> list[str | None]:
        missing = [oid for oid in type_oids if oid not in self._samples]
        if missing:
            self._load_samples(missing)
        return [self._samples.get(oid) for oid in type_oids]

    def _load_samples(self, oids: list[int]) -> None:
        rows = self.conn.execute(
            """
            SELECT t.oid, t.typname, t.typcategory, t.typtype, b.typname, b.typcategory,
                   (SELECT e.enumlabel FROM pg_enum e WHERE e.enumtypid = t.oid
                    ORDER BY e.enumsortorder LIMIT 1)
            FROM pg_type t LEFT JOIN pg_type b ON b.oid = t.typbasetype
            WHERE t.oid = ANY(%s)
            """,
            (oids,),
        ).fetchall()
        for oid, name, category, kind, base_name, base_category, label in rows:
            if kind == "e":
                self._samples[oid] = label
            elif kind == "d" and base_name is not None:
                self._samples[oid] = sample_literal(base_name, base_category)
            else:
                self._samples[oid] = sample_literal(name, category)


def _quote(conn: psycopg.Connection, value: str) -> str:
    from psycopg import sql

    return sql.Literal(value).as_string(conn)


def _error(stage: str, err: Exception) -> QueryError:
    from migcheck.live.execute import describe_error

    message, sqlstate = describe_error(err)
    return QueryError(stage, sqlstate or "", message)


def display(path: str) -> str:
    """A path relative to the working directory when it is below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
