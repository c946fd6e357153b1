"""Run the rules over histories: statements → schema replay → findings.

For each history the engine walks every migration in order. Earlier migrations are
replayed into the schema model only; the selected ones are also judged. A *deploy* is
the unit that ships at once: by default each migration is its own deploy, and the
migrations of a named changeset share one.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from migcheck import histcache, snapshot
from migcheck.context import Context, Transaction
from migcheck.model import Finding, Op, Options, Result, Statement
from migcheck.postlint import Walked, settle
from migcheck.rules import RuleSet, rule_index
from migcheck.schema import Origin, Schema
from migcheck.selection import default_rule_ids
from migcheck.sources import History, Migration
from migcheck.statements import Loaded, load
from migcheck.suppress import collect_directives
from migcheck.transactions import TransactionPlan


def lint(
    histories: Iterable[History], options: Options, source_findings: Iterable[Finding] = ()
) -> Result:
    """Lint ``histories`` and apply the post-lint steps the engine's options know of
    (suppressions, severity overrides); the runner adds the run-level ones."""
    walked = walk(histories, options)
    return settle(walked, options, source_findings)


def walk(
    histories: Iterable[History],
    options: Options,
    schemas: Callable[[History], bool] | None = None,
) -> Walked:
    """Run the selected rules over every statement of ``histories``, in order.

    ``schemas(history)`` says whether the schema the history builds is wanted (the
    comparison with the app's schema): a history the result cache answers whole is then
    still replayed, without rules. By default it is wanted only when replayed anyway."""
    ids = _rule_ids(options)
    rules = _Rules(ids)
    walked = Walked(enabled=frozenset(ids))
    for history in histories:
        _lint_history(history, options, rules, walked, schemas is not None and schemas(history))
    return walked


class _Rules:
    """The run's ``RuleSet``, built (its every-statement rules imported) on first use: a
    history answered from the cache needs no rule."""

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self._set: RuleSet | None = None

    def get(self) -> RuleSet:
        if self._set is None:
            self._set = RuleSet(self.ids)
        return self._set


def _rule_ids(options: Options) -> list[str]:
    ids = list(options.rules) if options.rules is not None else default_rule_ids()
    index = rule_index()
    return [
        rid for rid in ids if rid in index and index[rid].applies_to_version(options.pg_version)
    ]


class Replay:
    """One history's walk, stopped before migration ``position``, that can be copied and
    resumed: the language server keeps one stopped before each open file, so an edit
    re-lints that file against the schema before it without replaying (or parsing) the
    files before it. ``loader`` gives a migration's statements (the server keeps them in
    memory; the default is the parse cache). Only ``selected`` migrations are judged."""

    def __init__(
        self, history: History, options: Options, loader: Callable[[Migration], Loaded] = load
    ) -> None:
        ids = _rule_ids(options)
        self.walked = Walked(enabled=frozenset(ids))
        deploys = _deploys(history, options)
        plan = TransactionPlan(history, options, deploys)
        self._state = _HistoryState(
            history, options, Schema(), deploys, plan, _Rules(ids), self.walked.enabled
        )
        self._loader = loader
        self.position = 0

    def step(self) -> None:
        """Replay the next migration (judging it when it is ``selected``)."""
        history = self._state.history
        migration = history.migrations[self.position]
        _lint_migration(self._state, self.position, migration, self.walked, self._loader)
        self.position += 1

    def fork(self) -> Replay:
        """A copy to go on with (its own schema, transactions and findings); the history,
        its migrations, the options and the rules are shared, not copied."""
        state = self._state
        shared: list[object] = [state.history, state.options, state.rules, state.enabled]
        shared.append(state.deploys)
        shared += state.history.migrations
        memo: dict[int, object] = {id(x): x for x in shared}
        memo[id(self._loader)] = self._loader
        memo[id(state.schema)] = state.schema.copy()
        twin = copy.deepcopy(self, memo)
        twin.walked = Walked(enabled=state.enabled)
        return twin


def _deploys(history: History, options: Options) -> list[int]:
    """Deploy number per migration."""
    migs = history.migrations
    named_subset = any(m.selected for m in migs) and not all(m.selected for m in migs)
    as_changeset = options.changeset if options.changeset is not None else named_subset
    out = []
    deploy = 0
    changeset_deploy: int | None = None
    for m in migs:
        # A downgrade() is a rollback, never shipped with the upgrades it undoes.
        if as_changeset and m.selected and not _is_downgrade(m):
            # Every migration of the changeset ships in the same deploy, even when an
            # unselected (already live) migration sits between two of them.
            if changeset_deploy is None:
                deploy += 1
                changeset_deploy = deploy
            out.append(changeset_deploy)
        else:
            deploy += 1
            out.append(deploy)
    return out


def _lint_history(
    history: History,
    options: Options,
    rules: _Rules,
    result: Walked,
    want_schema: bool = False,
) -> None:
    deploys = _deploys(history, options)
    pack = histcache.open_pack(history)
    keys = histcache.chain(history, options, rules.ids, deploys, pack.key) if pack else []
    # What each migration emitted, while every key up to it is in the cache.
    warm = 0
    for k in keys:
        emitted = pack.emitted(k) if pack is not None else None
        if emitted is None:
            break
        _replay_emitted(emitted, result)
        pack.keep(k)  # type: ignore[union-attr]
        warm += 1
    if warm == len(history.migrations) and not want_schema:
        if pack is not None:
            pack.save(len(keys))
        return
    plan = TransactionPlan(history, options, deploys)
    start, schema = _resume(pack, keys, warm, plan)
    state = _HistoryState(history, options, schema, deploys, plan, rules, result.enabled, pack)
    state.parsed = _parse_ahead(history.migrations, start, pack)
    saves = _states_to_save(history.migrations) if pack is not None else set()
    for index in range(start, len(history.migrations)):
        migration = history.migrations[index]
        # One migration at a time: its statements are dropped once its rules have run
        # (unless a transaction spanning migrations still holds them), so a history of
        # large files never has every file's statements alive at once. The cached prefix
        # is replayed into the schema only: its findings are already in the result.
        if index < warm:
            _lint_migration(state, index, migration, None)
        else:
            before = _Mark(result, migration.path)
            _lint_migration(state, index, migration, result)
            if pack is not None:
                pack.record(keys[index], before.emitted(result))
        # A state costs about as much to store as replaying a few dozen files: one near
        # the last restored state is not worth storing (the next run replays those few).
        worth = start == 0 or index + 1 - start >= _STATE_STRIDE
        if index in saves and worth and pack is not None and plan.resumable():
            pack.record_state(keys[index], snapshot.capture(schema, plan.opened))
    if pack is not None:
        pack.save(len(keys))
    # What the whole history builds, for the comparison with the app's schema.
    result.schemas.append((history, schema))


# How many files a run may replay past a stored schema state before it stores a new one.
_STATE_STRIDE = 32


def _resume(
    pack: histcache.Pack | None, keys: list[str], warm: int, plan: TransactionPlan
) -> tuple[int, Schema]:
    """Where the walk starts, and the schema there: after the last migration of the warm
    prefix whose state the cache holds (its findings, and those before it, are known),
    else at the start."""
    if pack is not None:
        for index in range(warm - 1, -1, -1):
            if pack.has_state(keys[index]):
                saved = pack.state(keys[index])
                if saved is None:
                    break
                plan.resume(saved.transactions)
                return index + 1, snapshot.restore(saved)
    return 0, Schema()


def _states_to_save(migrations: list[Migration]) -> set[int]:
    """After which migrations the walk stores its schema state: the last (an audit that
    compares the app's schema needs it; a new file appended next goes on from it) and the
    one before the first judged file (the next pre-commit run naming a later file goes
    on from there)."""
    out = {len(migrations) - 1}
    first = next((i for i, m in enumerate(migrations) if m.selected), 0)
    if first > 0:
        out.add(first - 1)
    return out


class _Mark:
    """Where the walk's result stood before a migration, to tell what it added."""

    def __init__(self, result: Walked, path: str) -> None:
        self.path = path
        self.findings = len(result.findings)
        self.errors = len(result.errors)
        self.files, self.statements = result.files, result.statements
        self.unrecognized = result.unrecognized
        self.directives = len(result.directives.get(path, ()))

    def emitted(self, result: Walked) -> histcache.Emitted:
        return histcache.Emitted(
            findings=result.findings[self.findings :],
            errors=result.errors[self.errors :],
            files=result.files - self.files,
            statements=result.statements - self.statements,
            unrecognized=result.unrecognized - self.unrecognized,
            directives=list(result.directives.get(self.path, ())[self.directives :]),
        )


def _replay_emitted(emitted: histcache.Emitted, result: Walked) -> None:
    result.findings.extend(emitted.findings)
    result.errors.extend(emitted.errors)
    result.files += emitted.files
    result.statements += emitted.statements
    result.unrecognized += emitted.unrecognized
    for d in emitted.directives:
        result.directives.setdefault(d.path, []).append(d)


@dataclass
class _HistoryState:
    """What linting one history carries from one migration to the next."""

    history: History
    options: Options
    schema: Schema
    deploys: list[int]
    plan: TransactionPlan
    rules: _Rules
    enabled: frozenset[str]
    pack: histcache.Pack | None = None
    # Parses done ahead by a process pool (a cold run on a big history), by index.
    parsed: dict[int, Loaded] = field(default_factory=dict)


def _parse_ahead(
    migrations: list[Migration], start: int, pack: histcache.Pack | None
) -> dict[int, Loaded]:
    """Parse in parallel the migrations from ``start`` on that neither cache holds, when
    there are enough."""
    rest = migrations[start:]
    todo = pack.missing(rest) if pack is not None else rest
    from migcheck import parallel

    if not parallel.worth_it(todo):
        return {}
    done = parallel.parse_all(todo)
    if done is None:
        return {}
    ids = {id(m): i for i, m in enumerate(migrations)}
    out = {}
    for m, loaded in zip(todo, done, strict=True):
        out[ids[id(m)]] = loaded
        if pack is not None:
            pack.add_parsed(m, loaded)
    return out


def _lint_migration(
    state: _HistoryState,
    index: int,
    migration: Migration,
    result: Walked | None,
    loader: Callable[[Migration], Loaded] | None = None,
) -> None:
    """Replay ``migration`` into the schema and, when it is judged and ``result`` is
    given, run the rules on it (None: its findings are already known)."""
    options, plan, deploys = state.options, state.plan, state.deploys
    loaded = state.parsed.pop(index, None)
    if loaded is None and loader is not None:
        loaded = loader(migration)
    if loaded is None:
        loaded = state.pack.parsed(migration) if state.pack is not None else load(migration)
    statements, split_findings = loaded.statements, loaded.findings
    judged = migration.selected and result is not None
    if judged:
        assert result is not None
        result.directives.setdefault(migration.path, []).extend(
            collect_directives(migration, statements, loaded.directives)
        )
        result.files += 1
        result.statements += len(statements)
        result.findings.extend(split_findings)
    plan.start_migration(index, migration, statements)
    settings: dict[str, str] = {}
    for position, stmt in enumerate(statements):
        current = plan.transaction_for(stmt)
        if judged:
            assert result is not None
            ctx = Context(
                pg_version=options.pg_version,
                schema=state.schema,
                history=state.history,
                migration=migration,
                migration_index=index,
                deploy=deploys[index],
                transaction=current,
                settings=settings,
                runner_note=plan.note,
                statements=statements,
                statement_index=position,
                options=options.rule_options,
                enabled=state.enabled,
            )
            if stmt.unrecognized:
                result.unrecognized += 1
            found = _run_rules(stmt, ctx, state.rules.get())
            if _is_downgrade(migration):
                found = [_as_downgrade(f) for f in found]
            result.findings.extend(found)
        origin = Origin(deploys[index], index, current.id, stmt.span.line)
        for op in stmt.ops:
            state.schema.apply(op, origin)
            _track(op, stmt, current, settings)
        current.statements.append(stmt)
        plan.after(stmt)


def _run_rules(stmt: Statement, ctx: Context, rules: RuleSet) -> list[Finding]:
    out: list[Finding] = []
    placeholder = Op("other")
    for rule in rules.every:
        out.extend(rule.check(stmt.first_op or placeholder, stmt, ctx))
    for op in stmt.ops:
        for rule in rules.for_kind(op.kind):
            out.extend(rule.check(op, stmt, ctx))
    return out


def _is_downgrade(migration: Migration) -> bool:
    return migration.notes.get("direction") == "downgrade"


def _as_downgrade(finding: Finding) -> Finding:
    """Say in the message itself, so every report format carries it, that the finding is
    about a revision's downgrade(): a rollback, judged as its own deploy."""
    import dataclasses

    return dataclasses.replace(finding, message=f"In downgrade(): {finding.message}")


def _track(op: Op, stmt: Statement, tx: Transaction, settings: dict[str, str]) -> None:
    from migcheck.locks import ACCESS_EXCLUSIVE, lock_for

    if op.kind == "set" and op.name and op.values:
        settings[op.name] = str(op.values[0])
    lock = lock_for(op)
    if lock is not None and lock[0] == ACCESS_EXCLUSIVE and lock[1]:
        tx.exclusive_locks.setdefault(lock[1], stmt)
    if op.kind == "add_constraint" and op.constraint is not None and op.constraint.not_valid:
        from migcheck.schema import default_constraint_name

        name = op.name or default_constraint_name(op.table or "", op.constraint)
        tx.not_valid_added.add((op.table or "", name))
    if lock is not None and lock[1] and op.kind not in ("lock",):
        tx.ddl_tables.add(lock[1])


__all__ = ["Migration", "Options", "Replay", "Result", "Walked", "default_rule_ids", "lint", "walk"]
