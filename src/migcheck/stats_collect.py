"""``migcheck stats``: read production's table sizes, write rates and top queries.

The user runs it against production or a replica with their own credentials; the file
it writes is the one ``check --table-stats`` and ``rehearse --table-stats`` read (its
format is defined in ``migcheck.tablestats``). What it runs is the SQL below and
nothing else, so a DBA can read it (``migcheck stats --show-sql``) or run it by hand:

- it reads only catalogs and statistics views (``pg_class``, ``pg_inherits``,
  ``pg_index``, ``pg_stat_user_tables``, ``pg_stat_statements``), in a ``READ ONLY``
  transaction with a ``statement_timeout``;
- sizes come from ``relpages`` (as of the last VACUUM or ANALYZE), not from
  ``pg_table_size()``: that function takes a lock on every table, and a lock request
  queued behind a running migration is exactly what migcheck warns about;
- a partitioned (or inheritance) parent counts the rows and pages of its whole tree,
  because ``ALTER TABLE`` on the parent works on every partition (a partitioned
  parent's own ``reltuples`` and ``relpages`` are -1 or an estimate: left out);
- only the query statements of ``pg_stat_statements`` are kept (SELECT, INSERT, UPDATE,
  DELETE, MERGE, WITH, VALUES, TABLE): a utility statement's text can carry a literal
  such as a password, and the file is meant to be committed.

Every error is one line, and the password of the DSN never appears in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from migcheck.quoting import ident_part
from migcheck.tablestats import FORMAT_VERSION

if TYPE_CHECKING:
    import psycopg

DEFAULT_TOP = 50
STATEMENT_TIMEOUT_S = 30
# A query text longer than this is not app traffic worth replaying (and bounds the file).
MAX_QUERY_CHARS = 20_000

TABLES_SQL = """\
WITH RECURSIVE tree (root, rel) AS (
    SELECT c.oid, c.oid
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND n.nspname NOT LIKE 'pg\\_temp\\_%'
    UNION ALL
    SELECT tree.root, i.inhrelid
    FROM tree JOIN pg_catalog.pg_inherits i ON i.inhparent = tree.rel
),
heap AS (
    SELECT tree.root,
           sum(CASE WHEN c.relkind = 'p' THEN 0
                    WHEN c.reltuples >= 0 THEN c.reltuples
                    ELSE coalesce(s.n_live_tup, 0) END) AS rows,
           sum(CASE WHEN c.relkind = 'p' THEN 0 ELSE greatest(c.relpages, 0) END
               + greatest(coalesce(t.relpages, 0), 0)) AS pages,
           sum(coalesce(s.n_tup_ins, 0)) AS n_tup_ins,
           sum(coalesce(s.n_tup_upd, 0)) AS n_tup_upd,
           sum(coalesce(s.n_tup_del, 0)) AS n_tup_del
    FROM tree
    JOIN pg_catalog.pg_class c ON c.oid = tree.rel
    LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid
    LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid
    GROUP BY tree.root
),
idx AS (
    SELECT tree.root, sum(greatest(ic.relpages, 0)::bigint) AS pages
    FROM tree
    JOIN pg_catalog.pg_index x ON x.indrelid = tree.rel
    JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid
    GROUP BY tree.root
)
SELECT n.nspname AS schema,
       c.relname AS name,
       heap.rows::bigint AS rows,
       (heap.pages * current_setting('block_size')::bigint) AS bytes,
       (coalesce(idx.pages, 0) * current_setting('block_size')::bigint) AS index_bytes,
       heap.n_tup_ins::bigint AS n_tup_ins,
       heap.n_tup_upd::bigint AS n_tup_upd,
       heap.n_tup_del::bigint AS n_tup_del
FROM heap
JOIN pg_catalog.pg_class c ON c.oid = heap.root
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN idx ON idx.root = heap.root
ORDER BY 1, 2"""

# Where pg_stat_statements is installed (any schema), and which column names its
# version has (total_exec_time since PostgreSQL 13, total_time before). Read from the
# catalogs, not through a ::regclass cast: that needs USAGE on the extension's schema
# and its error would end the transaction.
FIND_PGSS_SQL = """\
SELECT n.nspname,
       EXISTS (SELECT FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
               WHERE c.relnamespace = n.oid AND c.relname = 'pg_stat_statements'
                 AND a.attname = 'total_exec_time')
FROM pg_catalog.pg_extension e
JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
WHERE e.extname = 'pg_stat_statements'"""

# {schema}, {total} and {top} are filled in by ``queries_sql``; nothing else varies.
_QUERIES_TEMPLATE = """\
SELECT query,
       sum(calls)::bigint AS calls,
       (sum({total}) / nullif(sum(calls), 0))::float8 AS mean_ms
FROM {schema}.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND query ~* '^\\s*(/\\*.*?\\*/\\s*)*(select|insert|update|delete|merge|with|values|table)\\M'
  AND length(query) <= {max_chars}
GROUP BY query
ORDER BY calls DESC, query
LIMIT {top}"""

# Query texts of other roles that this role may not read (no pg_read_all_stats).
_HIDDEN_TEMPLATE = """\
SELECT count(*) FROM {schema}.pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND query = '<insufficient privilege>'"""


def queries_sql(top: int, schema: str = "public", new_columns: bool = True) -> str:
    """The top-queries SQL for pg_stat_statements installed in ``schema``."""
    return _QUERIES_TEMPLATE.format(
        schema=ident_part(schema),
        total="total_exec_time" if new_columns else "total_time",
        max_chars=MAX_QUERY_CHARS,
        top=int(top),
    )


def hidden_sql(schema: str = "public") -> str:
    return _HIDDEN_TEMPLATE.format(schema=ident_part(schema))


def session_sql() -> str:
    """How the transaction is opened: read-only, bounded, and named in pg_stat_activity."""
    return (
        "BEGIN TRANSACTION READ ONLY;\n"
        f"SET LOCAL statement_timeout = '{STATEMENT_TIMEOUT_S}s';\n"
        "SET LOCAL lock_timeout = '1s';\n"
        "SET LOCAL application_name = 'migcheck stats';"
    )


def show_sql(top: int = DEFAULT_TOP) -> str:
    """Everything ``migcheck stats`` runs, in order, as a DBA would paste it into psql."""
    return (
        f"{session_sql()}\n\n-- tables\n{TABLES_SQL};\n\n"
        f"-- is pg_stat_statements installed, and where?\n{FIND_PGSS_SQL};\n\n"
        "-- top queries (when it is; PostgreSQL 12 and older name the column total_time)\n"
        f"{queries_sql(top)};\n\n"
        "-- how many query texts this role may not read (counted in a note)\n"
        f"{hidden_sql()};\n\nCOMMIT;\n"
    )


class StatsCollectError(Exception):
    """A failure to collect; ``str()`` is one line without the DSN's password."""


@dataclass
class Collected:
    doc: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def collect(dsn: str, top: int = DEFAULT_TOP) -> Collected:
    """Connect with ``dsn`` (libpq's environment when empty) and read the statistics."""
    import psycopg

    try:
        conn = psycopg.connect(dsn, connect_timeout=15, application_name="migcheck stats")
    except psycopg.Error as err:
        raise StatsCollectError(f"cannot connect: {redact(str(err), dsn)}") from None
    except Exception as err:  # a malformed DSN surfaces as other exception types too
        raise StatsCollectError(f"invalid --dsn: {redact(str(err), dsn)}") from None
    try:
        with conn:
            return _collect(conn, top)
    except psycopg.Error as err:
        raise StatsCollectError(_pg_message(err, dsn)) from None
    finally:
        conn.close()


def _collect(conn: psycopg.Connection, top: int) -> Collected:
    conn.read_only = True
    notes: list[str] = []
    with conn.transaction():
        for line in session_sql().splitlines()[1:]:  # BEGIN is the transaction() above
            conn.execute(line)
        tables = [
            {
                "schema": schema,
                "name": name,
                "rows": int(rows),
                "bytes": int(size),
                "index_bytes": int(index_bytes),
                "n_tup_ins": int(ins),
                "n_tup_upd": int(upd),
                "n_tup_del": int(dele),
            }
            for schema, name, rows, size, index_bytes, ins, upd, dele in conn.execute(TABLES_SQL)
        ]
        queries = _queries(conn, top, notes)
    return Collected({"version": FORMAT_VERSION, "tables": tables, "queries": queries}, notes)


def _queries(conn: psycopg.Connection, top: int, notes: list[str]) -> list[dict[str, Any]]:
    import psycopg

    found = conn.execute(FIND_PGSS_SQL).fetchone()
    if found is None:
        notes.append(
            'pg_stat_statements is not installed in this database: "queries" is empty '
            "(CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries)"
        )
        return []
    schema, new_columns = str(found[0]), bool(found[1])
    try:
        # A savepoint: the extension can exist while the library is not preloaded, and
        # that error must not end the transaction.
        with conn.transaction():
            rows = conn.execute(queries_sql(top, schema, new_columns)).fetchall()
            hidden_row = conn.execute(hidden_sql(schema))
            hidden = int(hidden_row.fetchone()[0])  # type: ignore[index]
    except psycopg.errors.ObjectNotInPrerequisiteState as err:
        notes.append(f'pg_stat_statements cannot be read: "queries" is empty ({_first(err)})')
        return []
    except psycopg.errors.InsufficientPrivilege as err:
        notes.append(f'pg_stat_statements cannot be read: "queries" is empty ({_first(err)})')
        return []
    if hidden:
        notes.append(
            f"{hidden} query texts of other roles are hidden from this role and left out "
            "(GRANT pg_read_all_stats TO it to include them)"
        )
    return [
        {"query": str(query), "calls": int(calls), "mean_ms": round(float(mean or 0.0), 3)}
        for query, calls, mean in rows
    ]


def _first(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _pg_message(err: psycopg.Error, dsn: str) -> str:
    import psycopg

    if isinstance(err, psycopg.errors.QueryCanceled):
        return (
            f"a catalog query took longer than {STATEMENT_TIMEOUT_S} s and was cancelled "
            f"({redact(_first(err), dsn)})"
        )
    if isinstance(err, psycopg.errors.LockNotAvailable):
        return f"a catalog lock was busy; run it again ({redact(_first(err), dsn)})"
    return f"query failed: {redact(_first(err), dsn)}"


_KV_PASSWORD = re.compile(r"""password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)""", re.IGNORECASE)


def secrets_of(dsn: str) -> list[str]:
    """The password in ``dsn`` in every spelling it can take, longest first."""
    found: set[str] = set()
    from urllib.parse import parse_qs, unquote, urlsplit

    if "://" in dsn:
        try:
            parts = urlsplit(dsn)
            netloc = parts.netloc.rpartition("@")[0]
            if ":" in netloc:
                raw = netloc.split(":", 1)[1]
                found.update({raw, unquote(raw)})
            for value in parse_qs(parts.query).get("password", []):
                found.add(value)
        except ValueError:
            pass
        # A URI too broken to split: everything between "://user:" and the last "@".
        match = re.search(r"://[^:/@]*:(.*)@", dsn)
        if match:
            found.update({match.group(1), unquote(match.group(1))})
    for match in _KV_PASSWORD.finditer(dsn):
        value = match.group(1)
        found.add(value)
        if value.startswith("'") and value.endswith("'") and len(value) >= 2:
            found.add(re.sub(r"\\(.)", r"\1", value[1:-1]))
    return sorted((s for s in found if s), key=len, reverse=True)


def redact(text: str, dsn: str) -> str:
    """``text`` with the DSN's password replaced, and on one line."""
    for secret in secrets_of(dsn):
        text = text.replace(secret, "***")
    if dsn and dsn in text:
        text = text.replace(dsn, "<the --dsn>")
    return " ".join(text.split())
