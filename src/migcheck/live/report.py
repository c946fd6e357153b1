"""Turn a ``LiveResult`` into findings, a Markdown PR comment, or plain text.

Rule ids:

* ``live-lock`` (locking): a lock that blocks reads or writes (ACCESS EXCLUSIVE,
  EXCLUSIVE, SHARE ROW EXCLUSIVE, SHARE) on a table that existed before the changeset.
  A warning when the lock is held while the table is rewritten, scanned or indexed, or
  while later statements of the same transaction run; info when it is only taken briefly.
* ``live-rewrite`` (locking, warning): an existing table or index was rewritten.
* ``live-schema-change`` (compatibility, info): a change the statement's text does not
  name (DO block, function, trigger), so a reader or the static linter missed it.
* ``live-query-broken`` (compatibility, error): an app query fails on the migrated schema.
* ``live-query-needs-migration`` (compatibility, info; a warning when old queries break
  too, since then no deploy order is safe): a new app query fails on the base schema,
  so the new app must not run before the migration.
* ``live-query-invalid`` (meta, warning): an old query already fails on the base schema:
  the query file is wrong, not the changeset.
* ``live-migration-failed`` (meta, error): PostgreSQL rejected a migration statement.
* ``live-needs-superuser`` (meta, error): a migration statement needs more than owning
  its database (SQLSTATE 42501), which the live check never grants.
"""

from __future__ import annotations

from migcheck.live.locks import is_blocking
from migcheck.live.privileges import NEEDS_SUPERUSER
from migcheck.live.results import (
    HistoryResult,
    LiveResult,
    LockInfo,
    QueryProblem,
    StatementTrace,
)
from migcheck.model import Category, Finding, Severity, Span
from migcheck.report.escape import log_line, visible

_NO_SPAN = Span(1, 1, 1, 1)
_HELP = {
    "live-lock": (
        "Sessions queue behind this lock and new queries queue behind them. Set "
        "lock_timeout, keep the transaction short, or use a non-blocking form "
        "(CREATE INDEX CONCURRENTLY, ADD CONSTRAINT ... NOT VALID then VALIDATE)."
    ),
    "live-rewrite": (
        "The table is copied while ACCESS EXCLUSIVE is held, for a time that grows with "
        "its size. Prefer a change PostgreSQL can make in place, or a new column backfilled "
        "in batches."
    ),
    "live-schema-change": (
        "This change is made by code the migration calls, not written in the statement: "
        "review it like any other schema change."
    ),
    "live-query-broken": (
        "Ship the change in expand/contract steps: keep what the running app version uses "
        "until no deployed version needs it."
    ),
    "live-query-needs-migration": (
        "Deploy the new app only after the migration ran. When the old app also breaks "
        "after it, split the change: add the new shape first, switch the app, remove the old."
    ),
    "live-query-invalid": "Fix the query file: the query fails before the changeset runs.",
    "live-migration-failed": "PostgreSQL rejected this statement; the migration would fail.",
    "live-needs-superuser": (
        "The live check runs migrations as a role that owns only its scratch database. "
        "Cluster-wide or server-side actions (files, programs, ALTER SYSTEM, other "
        "databases, roles) are not run; an untrusted extension can be allowed with "
        "--allow-extension NAME."
    ),
}


# -- findings ------------------------------------------------------------------------
def to_findings(result: LiveResult) -> list[Finding]:
    findings: list[Finding] = []
    for history in result.histories:
        findings += _history_findings(history)
    for problem in result.broken_queries:
        findings.append(_query_finding(problem, "live-query-broken", "error", "compatibility"))
    order: Severity = "warning" if result.no_safe_deploy_order else "info"
    for problem in result.needs_migration:
        findings.append(
            _query_finding(problem, "live-query-needs-migration", order, "compatibility")
        )
    for problem in result.invalid_queries:
        findings.append(_query_finding(problem, "live-query-invalid", "warning", "meta"))
    return findings


def _finding(
    rule: str, severity: Severity, category: Category, trace: StatementTrace, message: str
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        category=category,
        path=trace.path,
        span=trace.span or _NO_SPAN,
        message=message,
        help=_HELP[rule],
        statement=trace.text,
    )


def _history_findings(history: HistoryResult) -> list[Finding]:
    findings = []
    failure = history.failure
    if failure is not None:
        where = "replaying the base schema" if failure.in_base else "applying the changeset"
        state = f" [{failure.sqlstate}]" if failure.sqlstate else ""
        if failure.sqlstate == NEEDS_SUPERUSER:
            rule = "live-needs-superuser"
            message = f"not allowed in the live check: needs superuser ({failure.message})"
            if failure.in_base:
                message += " while replaying the base schema"
        else:
            rule = "live-migration-failed"
            message = f"PostgreSQL rejected this statement while {where}: {failure.message}{state}"
        findings.append(
            Finding(
                rule=rule,
                severity="error",
                category="meta",
                path=failure.path,
                span=failure.span or _NO_SPAN,
                message=message,
                help=_HELP[rule],
                statement=failure.text,
            )
        )
    held_on = _held_across(history.statements)
    for trace in history.statements:
        if trace.skipped or trace.control or trace.error:
            continue
        blocking = [lock for lock in trace.locks if lock.existing and is_blocking(lock.mode)]
        taken = [lock for lock in blocking if lock.since is None]
        heavy = bool(trace.rewrites or trace.scanned) or any(
            c.kind == "index_created" for c in trace.changes
        )
        held = id(trace) in held_on
        if taken:
            severity: Severity = "warning" if heavy or held else "info"
            message = _lock_message(trace, taken, held)
            findings.append(_finding("live-lock", severity, "locking", trace, message))
        elif blocking and heavy:
            # Works under a lock an earlier statement took: the cost lands here.
            message = _lock_message(trace, blocking, held)
            findings.append(_finding("live-lock", "warning", "locking", trace, message))
        if trace.rewrites:
            findings.append(
                _finding(
                    "live-rewrite",
                    "warning",
                    "locking",
                    trace,
                    f"rewrote {', '.join(trace.rewrites)} on the server (new storage files)",
                )
            )
        hidden = [c for c in trace.changes if c.hidden]
        if hidden:
            findings.append(
                _finding(
                    "live-schema-change",
                    "info",
                    "compatibility",
                    trace,
                    "changed the schema without naming it: "
                    + "; ".join(c.describe() for c in hidden),
                )
            )
    return findings


def _held_across(traces: list[StatementTrace]) -> set[int]:
    """ids of traces whose transaction goes on with more statements after them."""
    held: set[int] = set()
    group: list[StatementTrace] = []
    path = None
    for trace in traces:
        ends = (
            trace.control in ("commit", "rollback")
            or trace.path != path
            or not trace.in_transaction
        )
        if ends:
            held.update(id(t) for t in group[:-1])
            group = []
        path = trace.path
        if trace.in_transaction and not trace.control and not trace.skipped:
            group.append(trace)
    held.update(id(t) for t in group[:-1])
    return held


def _lock_message(trace: StatementTrace, blocking: list[LockInfo], held: bool) -> str:
    parts = []
    for lock in blocking:
        since = f", taken at {lock.since}" if lock.since else ""
        parts.append(f"{lock.mode} on {lock.relation} (blocks {lock.blocks}{since})")
    verb = "holds " if all(lock.since for lock in blocking) else "takes "
    message = verb + ", ".join(parts)
    if trace.rewrites:
        message += " while rewriting it"
    elif trace.scanned:
        message += f" while scanning {', '.join(trace.scanned)}"
    elif any(c.kind == "index_created" for c in trace.changes):
        message += " while building an index"
    if held:
        message += "; held until the transaction commits, while later statements run"
    return message


def _query_finding(
    problem: QueryProblem, rule: str, severity: Severity, category: Category
) -> Finding:
    query = problem.query
    error = problem.error
    app = "old" if query.version == "old" else "new"
    if rule == "live-query-invalid":
        message = (
            f"{query.origin}: fails on the base schema already: {error.message} [{error.sqlstate}]"
        )
    elif rule == "live-query-needs-migration":
        message = (
            f"{query.origin} (new app) fails on the schema before the changeset: "
            f"{error.message} [{error.sqlstate}]; deploy the new app after the migration"
        )
    else:
        message = f"{query.origin} ({app} app) fails on the migrated schema: {error.message} [{error.sqlstate}]"
    trace = problem.broken_by
    if trace is not None:
        message += f"; broken by {trace.location}"
        return Finding(
            rule,
            severity,
            category,
            trace.path,
            trace.span or _NO_SPAN,
            message,
            _HELP[rule],
            trace.text,
        )
    line = query.line or 1
    span = Span(line, 1, line, 1)
    return Finding(
        rule, severity, category, query.path or query.origin, span, message, _HELP[rule], query.text
    )


# -- rendering -----------------------------------------------------------------------
def _lines(out: list[str]) -> str:
    """The report, one line per item. Names, statements and server messages come from the
    input: a newline or control character inside an item is escaped, never printed."""
    return "".join(log_line(visible(line)) + "\n" for line in out)


def _one_line(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    flat = _one_line(text)
    fence = "``" if "`" in flat else "`"
    return f"{fence}{flat}{fence}" if fence == "`" else f"{fence} {flat} {fence}"


def _summary(result: LiveResult) -> list[str]:
    lines = []
    server = result.server
    if server is not None:
        where = {"embedded": "embedded", "pg_bin": "installed binaries", "dsn": "existing server"}
        lines.append(f"PostgreSQL {server.version} ({where.get(server.kind, server.kind)})")
    for history in result.histories:
        template = history.template
        base = f"{history.base_migrations} base migrations"
        if template is not None:
            base += " (from cache)" if template.cached else f" ({template.replayed} replayed)"
        statements = sum(1 for t in history.statements if not t.control)
        lines.append(
            f"{history.root}: {base}, changeset of {len(history.changeset)} migrations, "
            f"{statements} statements"
        )
    lines.append(
        f"{result.queries_checked} queries checked: {len(result.broken_queries)} broken, "
        f"{len(result.needs_migration)} need the migration first, "
        f"{len(result.invalid_queries)} invalid on the base, "
        f"{len(result.inconclusive_queries)} inconclusive"
    )
    if result.no_safe_deploy_order:
        lines.append(
            "no deploy order is safe: the old app breaks after the migration and the new "
            "app needs it before it starts"
        )
    return lines


def render_markdown(result: LiveResult) -> str:
    out = ["## migcheck live check", ""]
    out += [f"- {line}" for line in _summary(result)]
    failures = [h.failure for h in result.histories if h.failure is not None]
    for failure in failures:
        what = "base replay" if failure.in_base else "changeset"
        out += [
            "",
            f"**The {what} failed** at `{failure.path}:{failure.line}`: {_cell(failure.message)}",
        ]
    if result.broken_queries:
        out += [
            "",
            "### Broken queries",
            "",
            "| Query | App | Error | Broken by |",
            "|---|---|---|---|",
        ]
        for problem in result.broken_queries:
            by = f"`{problem.broken_by.location}`" if problem.broken_by else "—"
            out.append(
                f"| {_cell(problem.query.origin)} | {problem.query.version} | "
                f"{_cell(problem.error.message)} ({problem.error.sqlstate}) | {by} |"
            )
    if result.needs_migration:
        out += ["", "### New queries that need the migration first", ""]
        for problem in result.needs_migration:
            out.append(f"- {_cell(problem.query.origin)}: {_cell(problem.error.message)}")
    if result.invalid_queries:
        out += ["", "### Queries already failing on the base schema", ""]
        for problem in result.invalid_queries:
            out.append(f"- {_cell(problem.query.origin)}: {_cell(problem.error.message)}")
    for history in result.histories:
        out += _markdown_statements(history)
    for note in result.notes:
        out += ["", f"_{note}_"]
    return _lines(out)


def _markdown_statements(history: HistoryResult) -> list[str]:
    out: list[str] = []
    path = None
    for trace in history.statements:
        if trace.path != path:
            path = trace.path
            out += ["", f"### `{path}`"]
            mode = history.run_modes.get(path)
            if mode:
                out += ["", f"_Run {mode}._"]
        if trace.control:
            out += ["", f"- line {trace.line}: `{trace.control.upper()}`"]
            continue
        head = f"**Line {trace.line}** {_code(trace.text)}"
        if trace.skipped:
            out += ["", f"{head}: skipped ({trace.skipped})"]
            continue
        context = "in a transaction" if trace.in_transaction else "autocommit"
        out += ["", f"{head} — {trace.duration_s * 1000:.1f} ms, {context}"]
        if trace.error:
            out.append(f"> failed: {_cell(trace.error)}")
        if trace.locks:
            out += ["", "| Relation | Lock | Blocks | Held |", "|---|---|---|---|"]
            for lock in trace.locks:
                held = _held_text(lock)
                name = lock.relation + ("" if lock.existing else " (new)")
                out.append(
                    f"| {_cell(name)} ({lock.kind}) | {lock.mode} | {lock.blocks} | {held} |"
                )
        extras = []
        if trace.rewrites:
            extras.append("rewrote " + ", ".join(trace.rewrites))
        if trace.scanned:
            extras.append("scanned " + ", ".join(trace.scanned))
        if extras:
            out += ["", "; ".join(extras)]
        if trace.changes:
            out.append("")
            for change in trace.changes:
                mark = " **(not named in the statement)**" if change.hidden else ""
                out.append(f"- {_cell(change.describe())}{mark}")
    return out


def _held_text(lock: LockInfo) -> str:
    if lock.since:
        return f"since {lock.since}, until commit"
    return "until commit" if lock.held_to_commit else "during the statement"


def render_text(result: LiveResult) -> str:
    out = ["migcheck live check"]
    out += [f"  {line}" for line in _summary(result)]
    for history in result.histories:
        if history.failure is not None:
            f = history.failure
            what = "base replay" if f.in_base else "changeset"
            out.append(f"{f.path}:{f.line}: {what} failed: {f.message}")
        for trace in history.statements:
            if trace.control:
                continue
            out.append(f"{trace.location}: {_one_line(trace.text, 80)}")
            if trace.skipped:
                out.append(f"    skipped: {trace.skipped}")
                continue
            out.append(
                f"    {trace.duration_s * 1000:.1f} ms{', in a transaction' if trace.in_transaction else ''}"
            )
            for lock in trace.locks:
                new = "" if lock.existing else ", new"
                held = _held_text(lock)
                out.append(
                    f"    lock {lock.mode} on {lock.relation} ({lock.kind}{new}): blocks {lock.blocks}, held {held}"
                )
            for name in trace.rewrites:
                out.append(f"    rewrote {name}")
            for name in trace.scanned:
                out.append(f"    scanned {name}")
            for change in trace.changes:
                out.append(
                    f"    {change.describe()}{' (not named in the statement)' if change.hidden else ''}"
                )
            if trace.error:
                out.append(f"    failed: {trace.error}")
    for problem in result.broken_queries:
        by = f" (broken by {problem.broken_by.location})" if problem.broken_by else ""
        out.append(
            f"BROKEN {problem.query.origin} [{problem.query.version} app]: {problem.error.message}{by}"
        )
    for problem in result.invalid_queries:
        out.append(
            f"INVALID {problem.query.origin}: fails on the base already: {problem.error.message}"
        )
    for problem in result.inconclusive_queries:
        out.append(f"INCONCLUSIVE {problem.query.origin}: {problem.error.message}")
    for error in result.input_errors:
        out.append(f"input: {error.path}: {error.message}")
    out += [f"note: {note}" for note in result.notes]
    return _lines(out)
