"""Run the rules over histories: statements → schema replay → findings.

For each history the engine walks every migration in order. Earlier migrations are
replayed into the schema model only; the selected ones are also judged. A *deploy* is
the unit that ships at once: by default each migration is its own deploy, and the
migrations of a named changeset share one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from migcheck.context import Context, Transaction
from migcheck.model import Finding, Op, Options, Result, Statement
from migcheck.postlint import Walked, settle
from migcheck.rules import RuleSet, rule_index
from migcheck.schema import Origin, Schema
from migcheck.selection import default_rule_ids
from migcheck.sources import History, Migration
from migcheck.statements import load
from migcheck.suppress import collect_directives
from migcheck.transactions import TransactionPlan


def lint(
    histories: Iterable[History], options: Options, source_findings: Iterable[Finding] = ()
) -> Result:
    """Lint ``histories`` and apply the post-lint steps the engine's options know of
    (suppressions, severity overrides); the runner adds the run-level ones."""
    walked = walk(histories, options)
    return settle(walked, options, source_findings)


def walk(histories: Iterable[History], options: Options) -> Walked:
    """Run the selected rules over every statement of ``histories``, in order."""
    ids = list(options.rules) if options.rules is not None else default_rule_ids()
    index = rule_index()
    ids = [rid for rid in ids if rid in index and index[rid].applies_to_version(options.pg_version)]
    rules = RuleSet(ids)
    walked = Walked(enabled=frozenset(ids))
    for history in histories:
        _lint_history(history, options, rules, walked)
    return walked


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
    rules: RuleSet,
    result: Walked,
) -> None:
    schema = Schema()
    deploys = _deploys(history, options)
    plan = TransactionPlan(history, options, deploys)
    state = _HistoryState(history, options, schema, deploys, plan, rules, result.enabled)
    for index, migration in enumerate(history.migrations):
        # One migration at a time: its statements are dropped once its rules have run
        # (unless a transaction spanning migrations still holds them), so a history of
        # large files never has every file's statements alive at once.
        _lint_migration(state, index, migration, result)
    # What the whole history builds, for the comparison with the app's schema.
    result.schemas.append((history, schema))


@dataclass
class _HistoryState:
    """What linting one history carries from one migration to the next."""

    history: History
    options: Options
    schema: Schema
    deploys: list[int]
    plan: TransactionPlan
    rules: RuleSet
    enabled: frozenset[str]


def _lint_migration(
    state: _HistoryState,
    index: int,
    migration: Migration,
    result: Walked,
) -> None:
    options, plan, deploys = state.options, state.plan, state.deploys
    loaded = load(migration)
    statements, split_findings = loaded.statements, loaded.findings
    if migration.selected:
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
        if migration.selected:
            if stmt.unrecognized:
                result.unrecognized += 1
            found = _run_rules(stmt, ctx, state.rules)
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


__all__ = ["Migration", "Options", "Result", "Walked", "default_rule_ids", "lint", "walk"]
