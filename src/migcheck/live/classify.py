"""Decide what each query's outcomes mean: broken, invalid, needing the migration first.

A query is checked on the base schema and on the migrated one of every history it
applies to. An old query that fails on the base is the query file's fault; one that
works there (or fails only for data reasons) and fails on the migrated schema with a
schema error is broken. A new query failing on every migrated schema is broken; one
that fails only on the base needs the migration first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from migcheck.live.queries import Outcome, breaks_schema
from migcheck.live.results import (
    HistoryResult,
    LiveResult,
    Query,
    QueryProblem,
    StatementTrace,
)


@dataclass
class Status:
    """One query on one history."""

    base: Outcome | None = None
    migrated: Outcome | None = None
    broken_by: StatementTrace | None = None


@dataclass
class HistoryRun:
    result: HistoryResult
    statuses: dict[Query, Status] = field(default_factory=dict)


def schema_error(outcome: Outcome | None) -> bool:
    if outcome is None or outcome.error is None:
        return False
    if outcome.error.sqlstate == "23502" and outcome.used_null:
        return False  # our NULL sample, not the schema
    return breaks_schema(outcome.error)


def breaks(outcome: Outcome | None, base: Outcome | None) -> bool:
    """The outcome is a schema error the base did not already give."""
    if not schema_error(outcome):
        return False
    assert outcome is not None and outcome.error is not None
    if base is not None and base.error is not None:
        return (base.error.stage, base.error.sqlstate) != (
            outcome.error.stage,
            outcome.error.sqlstate,
        )
    return True


def old_broken(status: Status) -> bool:
    return not schema_error(status.base) and breaks(status.migrated, status.base)


def classify(result: LiveResult, runs: list[HistoryRun], queries: list[Query]) -> None:
    for query in queries:
        seen = [(run, run.statuses[query]) for run in runs if query in run.statuses]
        if not seen:
            continue
        result.queries_checked += 1
        if query.version == "old":
            _classify_old(result, query, seen)
        else:
            _classify_new(result, query, seen)


def _classify_old(result: LiveResult, query: Query, seen: list[tuple[HistoryRun, Status]]) -> None:
    valid = [(run, s) for run, s in seen if not schema_error(s.base)]
    if not valid:
        run, status = seen[0]
        assert status.base is not None and status.base.error is not None
        result.invalid_queries.append(QueryProblem(query, status.base.error, None, run.result.root))
        return
    for run, status in valid:
        if old_broken(status):
            assert status.migrated is not None and status.migrated.error is not None
            result.broken_queries.append(
                QueryProblem(query, status.migrated.error, status.broken_by, run.result.root)
            )
            return
    _maybe_inconclusive(result, query, valid)


def _classify_new(result: LiveResult, query: Query, seen: list[tuple[HistoryRun, Status]]) -> None:
    checked = [(run, s) for run, s in seen if s.migrated is not None]
    if not checked:
        return
    if all(schema_error(s.migrated) for _, s in checked):
        run, status = checked[0]
        assert status.migrated is not None and status.migrated.error is not None
        result.broken_queries.append(
            QueryProblem(query, status.migrated.error, None, run.result.root)
        )
        return
    for run, status in checked:
        if not schema_error(status.migrated) and schema_error(status.base):
            assert status.base is not None and status.base.error is not None
            problem = QueryProblem(query, status.base.error, None, run.result.root, "base")
            result.needs_migration.append(problem)
            break
    _maybe_inconclusive(result, query, checked)


def _maybe_inconclusive(
    result: LiveResult, query: Query, seen: list[tuple[HistoryRun, Status]]
) -> None:
    for run, status in seen:
        outcome = status.migrated
        if outcome is not None and outcome.error is not None and not schema_error(outcome):
            result.inconclusive_queries.append(
                QueryProblem(query, outcome.error, None, run.result.root)
            )
            return
