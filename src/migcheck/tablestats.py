"""Production table sizes (``--table-stats FILE``) and the severity they give lock findings.

The file is the one definition of the format, here, so that whatever writes it (a
``pg_class`` export today, ``migcheck stats`` of the rehearsal work) and migcheck agree::

    {"version": 1, "tables": [{"schema": "public", "name": "orders",
                               "rows": 2000000, "bytes": 325000000}, ...],
     "queries": [{"query": "SELECT ... WHERE id = $1", "calls": 91234,
                  "mean_ms": 0.4}, ...]}

``queries`` is optional (the top queries by calls from ``pg_stat_statements``): the
rehearsal replays them as the production traffic mix, weighted by ``calls``. More keys
are allowed, anywhere (``migcheck stats`` also writes ``n_tup_ins``, ``index_bytes``...). The file comes from the repository, so it is untrusted:
it is read inside the linted tree with the same bounds as migrations, and anything
malformed is a one-line ``StatsError`` naming it (exit 2).

Only the rules whose cost grows with the table (``SCALING_RULES``) are scaled: on a table
below both thresholds their finding becomes ``info`` and says why; on a bigger one the
message gains the size and, for a rewrite, an index build or a validation scan, an
estimated duration from ``THROUGHPUT``. A table the file does not list keeps today's
severity. Every lowered finding keeps ``original_severity`` and states its ``evidence``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from migcheck.errors import UserError
from migcheck.model import Finding
from migcheck.settings import Settings

FORMAT_VERSION = 1
# Bounds on the untrusted file's query list: enough for any top-N export.
MAX_QUERIES = 10_000
MAX_QUERY_CHARS = 100_000

# Rules whose lock lasts as long as the work on the table: a small table makes them brief.
# Failures (a statement that cannot run in a transaction) and compatibility rules never scale.
SCALING_RULES = frozenset(
    {
        "non-concurrent-index",
        "non-concurrent-drop-index",
        "non-concurrent-reindex",
        "constraint-without-not-valid",
        "unique-without-index",
        "set-not-null-scan",
        "type-change-rewrite",
        "volatile-default",
        "table-rewrite",
        "unbatched-backfill",
        "hold-exclusive-lock",
        "lock-table",
    }
)

# Measured by bench/bench_throughput.py (PostgreSQL 18 embedded, 2 cores, a loaded
# machine): conservative on purpose, the estimate is an order of magnitude, not a promise.
THROUGHPUT = {"rewrite_bytes_s": 28e6, "index_rows_s": 550_000.0, "scan_rows_s": 2_700_000.0}
_WORK = {
    "type-change-rewrite": ("rewrite", "rewriting it"),
    "volatile-default": ("rewrite", "rewriting it"),
    "table-rewrite": ("rewrite", "rewriting it"),
    "unbatched-backfill": ("rewrite", "updating every row"),
    "non-concurrent-index": ("index", "building the index"),
    "unique-without-index": ("index", "building the unique index"),
    "non-concurrent-reindex": ("index", "rebuilding the index"),
    "constraint-without-not-valid": ("scan", "the validation scan"),
    "set-not-null-scan": ("scan", "the NOT NULL scan"),
}


class StatsError(UserError):
    """A table statistics file that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


@dataclass(frozen=True)
class TableSize:
    schema: str
    name: str
    rows: int
    bytes: int


@dataclass(frozen=True)
class QueryStat:
    """One production query and how often it ran (``pg_stat_statements.calls``)."""

    query: str
    calls: int
    mean_ms: float | None = None


@dataclass(frozen=True)
class TableStats:
    """The sizes of a file, looked up by the table names migrations use."""

    source: str  # the path as given, or "base:<ref>:<path>"
    tables: Mapping[tuple[str, str], TableSize]
    queries: tuple[QueryStat, ...] = ()

    def find(self, table: str) -> TableSize | None:
        """``orders``, ``public.orders`` or ``app.orders``; an unqualified name is looked
        up in ``public``, then in any schema when only one schema has it."""
        schema, _, name = table.rpartition(".")
        if schema:
            return self.tables.get((schema, name))
        found = self.tables.get(("public", name))
        if found is not None:
            return found
        others = [size for (_, n), size in self.tables.items() if n == name]
        return others[0] if len(others) == 1 else None


def parse_table_stats(data: bytes, source: str) -> TableStats:
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise StatsError(source, "not UTF-8 text; expected a JSON table statistics file") from None
    except json.JSONDecodeError as err:
        raise StatsError(source, f"invalid JSON at line {err.lineno}: {err.msg}") from None
    if not isinstance(doc, dict):
        raise StatsError(source, 'expected a JSON object {"version": 1, "tables": [...]}')
    if doc.get("version") != FORMAT_VERSION:
        raise StatsError(
            source, f"unsupported version {doc.get('version')!r}; this migcheck reads version 1"
        )
    entries = doc.get("tables")
    if not isinstance(entries, list):
        raise StatsError(source, '"tables" must be a list of {"schema", "name", "rows", "bytes"}')
    tables: dict[tuple[str, str], TableSize] = {}
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise StatsError(source, f"tables[{i}] is not an object")
        schema, name = entry.get("schema", "public"), entry.get("name")
        rows, size = entry.get("rows"), entry.get("bytes")
        if not isinstance(schema, str) or not isinstance(name, str) or not name:
            raise StatsError(source, f"tables[{i}]: schema and name must be strings")
        for key, value in (("rows", rows), ("bytes", size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise StatsError(source, f"tables[{i}] ({name}): {key} must be a whole number ≥ 0")
        assert isinstance(rows, int) and isinstance(size, int)
        tables[(schema, name)] = TableSize(schema, name, rows, size)
    return TableStats(source, tables, _parse_queries(doc.get("queries", []), source))


def _parse_queries(entries: object, source: str) -> tuple[QueryStat, ...]:
    if not isinstance(entries, list):
        raise StatsError(source, '"queries" must be a list of {"query", "calls"}')
    if len(entries) > MAX_QUERIES:
        raise StatsError(source, f'"queries" holds {len(entries)} entries; at most {MAX_QUERIES}')
    queries = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise StatsError(source, f"queries[{i}] is not an object")
        text, calls, mean = entry.get("query"), entry.get("calls"), entry.get("mean_ms")
        if not isinstance(text, str) or not text.strip():
            raise StatsError(source, f"queries[{i}]: query must be a non-empty string")
        if len(text) > MAX_QUERY_CHARS:
            raise StatsError(
                source, f"queries[{i}]: query longer than {MAX_QUERY_CHARS} characters"
            )
        if isinstance(calls, bool) or not isinstance(calls, int) or calls < 0:
            raise StatsError(source, f"queries[{i}]: calls must be a whole number ≥ 0")
        if mean is not None and (
            isinstance(mean, bool) or not isinstance(mean, int | float) or not mean >= 0
        ):
            raise StatsError(source, f"queries[{i}]: mean_ms must be a number ≥ 0")
        queries.append(QueryStat(text, calls, None if mean is None else float(mean)))
    return tuple(queries)


def load_table_stats(path: str, base: str | None = None) -> TableStats:
    """The file at ``path`` in the working tree, or as it is on git ref ``base`` (so a pull
    request cannot make its own tables look small)."""
    if base is not None:
        import os
        from pathlib import Path

        from migcheck.gitdiff import base_tree

        tree = base_tree(base, Path.cwd())  # DiffError: a UserError, exit 2
        rel = os.path.relpath(os.path.abspath(path), tree.top).replace(os.sep, "/")
        if rel.startswith("../"):
            raise StatsError(path, "outside the repository; --diff reads it from git")
        data = tree.read(rel)
        if data is None:  # added by this change: no sizes a pull request chose count
            return TableStats(f"{tree.ref}:{rel}", {})
        return parse_table_stats(data, f"{tree.ref}:{rel}")
    from migcheck.sources.reading import read_tree_bytes

    try:
        data = read_tree_bytes(path)
    except OSError as err:
        raise StatsError(path, err.strerror or str(err)) from None
    return parse_table_stats(data, path)


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:,.0f} {unit}" if n / scale >= 10 else f"{n / scale:,.1f} {unit}"
    return f"{n} bytes"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


def _estimate(rule: str, size: TableSize) -> str:
    work = _WORK.get(rule)
    if work is None:
        return ""
    kind, what = work
    if kind == "rewrite":
        seconds, rate = size.bytes / THROUGHPUT["rewrite_bytes_s"], "28 MB/s"
    elif kind == "index":
        seconds, rate = size.rows / THROUGHPUT["index_rows_s"], "550,000 rows/s"
    else:
        seconds, rate = size.rows / THROUGHPUT["scan_rows_s"], "2.7 million rows/s"
    return (
        f"; {what} takes {_duration(seconds)} at {rate} (bench/bench_throughput.py on a "
        "small machine; production hardware differs), all that time under the lock"
    )


def scale_by_size(
    findings: Iterable[Finding],
    stats: TableStats,
    small_rows: int = Settings.small_table_rows,
    small_bytes: int = Settings.small_table_bytes,
) -> None:
    """Rescale, in place, the findings of ``SCALING_RULES`` on tables the file lists."""
    for f in findings:
        if f.rule not in SCALING_RULES or f.lock is None or not f.lock[1]:
            continue
        size = stats.find(f.lock[1])
        if size is None:
            continue
        facts = f"{size.rows:,} rows, {_size(size.bytes)} in {stats.source}"
        if size.rows < small_rows and size.bytes < small_bytes:
            if f.severity != "info":
                f.original_severity = f.severity
                f.severity = "info"
            f.evidence = f"small table: {facts}"
            f.message += f" Small table ({facts}): the lock is brief."
        else:
            f.evidence = f"{facts}"
            f.message += f' "{f.lock[1]}" holds {facts}{_estimate(f.rule, size)}.'
