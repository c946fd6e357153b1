"""The rule base class and the registry that finds every rule module in this package.

A rule is one module here defining one ``Rule`` subclass, plus its doc in
``rules/<id>.md``. The registry imports the modules of this package; nothing else needs
to change to add a rule. Modules whose name starts with ``_`` hold what several rules
share and are not rules; no module imports from a rule module.
"""

from __future__ import annotations

import importlib
import pkgutil
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from types import ModuleType
from typing import ClassVar

from migcheck.context import Context
from migcheck.model import LINE_BREAK, Category, Finding, Op, Severity, Span, Statement
from migcheck.rules._info import RuleInfo


class Rule(ABC):
    """Subclass, set the class attributes, and implement ``check``."""

    id: ClassVar[str]
    category: ClassVar[Category]
    severity: ClassVar[Severity]
    summary: ClassVar[str]  # one line, for ``migcheck rules``
    # Op kinds this rule looks at; empty means "every statement" (check gets op=None once).
    kinds: ClassVar[frozenset[str]] = frozenset()
    min_pg: ClassVar[int | None] = None
    max_pg: ClassVar[int | None] = None
    # Opt-in rules (style, timeouts) only run when selected.
    default_enabled: ClassVar[bool] = True
    # Rules whose problem this rule's safe steps avoid too, when both are on one statement:
    # the report then gives this rule's help as the statement's one sequence (report/combine).
    help_covers: ClassVar[frozenset[str]] = frozenset()

    @abstractmethod
    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterable[Finding]:
        """Findings for ``op`` (one op of ``stmt``), given the context before it runs."""

    def slow_work(self, op: Op, stmt: Statement, ctx: Context) -> str | None:
        """What slow work (a scan, a rewrite, an index build, a backfill) ``op`` does on a
        table that serves traffic, as a verb phrase (``rewrites "users"``), or None when
        it is quick.

        A rule that owns a slow operation overrides this next to its ``check``, so the
        trigger is written once. hold-exclusive-lock asks every rule whose ``kinds``
        include the op's kind (enabled or not) and names the first answer in registry
        order: work done while an ACCESS EXCLUSIVE lock is held keeps the lock held.
        """
        return None

    def applies_to_version(self, pg_version: int) -> bool:
        if self.min_pg is not None and pg_version < self.min_pg:
            return False
        return not (self.max_pg is not None and pg_version > self.max_pg)

    def finding(
        self, stmt: Statement, message: str, help: str = "", op: Op | None = None
    ) -> Finding:
        span = stmt.span
        if op is not None and op.offset >= 0 and stmt.origin is None:
            span = _offset_span(stmt, op.offset)
        return Finding(
            rule=self.id,
            severity=self.severity,
            category=self.category,
            path=stmt.path,
            span=span,
            message=message,
            help=help,
            statement=stmt.text,
            lock=statement_lock(stmt),
            subject=(op.table, op.column) if op is not None and op.table else None,
        )


def statement_lock(stmt: Statement) -> tuple[str, str] | None:
    """The strongest table lock any op of ``stmt`` takes, with its table."""
    from migcheck.locks import LOCK_MODES, lock_for

    best: tuple[str, str] | None = None
    for op in stmt.ops:
        lock = lock_for(op)
        if lock is not None and (
            best is None or LOCK_MODES.index(lock[0]) > LOCK_MODES.index(best[0])
        ):
            best = (lock[0], lock[1] or "")
    return best


def _offset_span(stmt: Statement, offset: int) -> Span:
    """The span starting at ``offset`` inside the statement (same end)."""
    rel = offset - stmt.span.start
    if rel <= 0 or rel > len(stmt.text):
        return stmt.span
    # Lines end as the splitter counts them (a lone \r too), or the line is off.
    breaks = list(LINE_BREAK.finditer(stmt.text, 0, rel))
    col = rel - breaks[-1].end() + 1 if breaks else stmt.span.column + rel
    return Span(
        stmt.span.line + len(breaks),
        col,
        stmt.span.end_line,
        stmt.span.end_column,
        offset,
        stmt.span.end,
    )


_REGISTRY: dict[str, Rule] | None = None
# Rules imported so far, by id: a run imports only the rules its statements need.
_LOADED: dict[str, Rule] = {}


def rule_index() -> dict[str, RuleInfo]:
    """Every rule's metadata, by id, in registry order, without importing any rule module:
    selecting rules, checking config and suppressions, and meta findings need no more, and a
    pre-commit run then imports only the rules its statements reach."""
    from migcheck.rules._index import INDEX

    return INDEX


def info_of(rule: Rule) -> RuleInfo:
    """The index entry of an imported rule, as ``scripts/update_rule_index.py`` writes it."""
    cls = type(rule)
    return RuleInfo(
        cls.id,
        cls.category,
        cls.severity,
        cls.default_enabled,
        frozenset(cls.kinds),
        cls.min_pg,
        cls.max_pg,
        cls.slow_work is not Rule.slow_work,
        frozenset(cls.help_covers),
    )


def load_rule(rule_id: str) -> Rule:
    """The rule with this id, importing its module on first use (KeyError if unknown)."""
    rule = _LOADED.get(rule_id)
    if rule is None:
        if _REGISTRY is not None:
            rule = _REGISTRY[rule_id]
        else:
            if rule_id not in rule_index():
                raise KeyError(rule_id)
            module = importlib.import_module(f"{__name__}.{rule_id.replace('-', '_')}")
            rule = _rule_of(module)[rule_id]
        _LOADED[rule_id] = rule
    return rule


def _rule_of(module: ModuleType) -> dict[str, Rule]:
    return {
        value.id: value()
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Rule)
        and value is not Rule
        and value.__module__ == module.__name__
        and "id" in vars(value)
    }


def all_rules() -> dict[str, Rule]:
    """Every rule, by id, in a stable order (the order of their module names).

    Imports every rule module: the source of truth that ``rules/_index.py`` is generated
    from and checked against."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, Rule] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for rid, rule in _rule_of(module).items():
                # One instance per rule, whichever way it was first imported.
                found[rid] = _LOADED.setdefault(rid, rule)
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


class RuleSet:
    """The rules a run uses, imported when a statement first needs them: those listening
    to an op kind when an op of that kind first appears, the every-statement ones at once."""

    def __init__(self, ids: Iterable[str]) -> None:
        index = rule_index()
        self.ids = [rid for rid in index if rid in set(ids)]
        self._kind_ids: dict[str, list[str]] = {}
        for rid in self.ids:
            for kind in sorted(index[rid].kinds):
                self._kind_ids.setdefault(kind, []).append(rid)
        self.every = [load_rule(rid) for rid in self.ids if not index[rid].kinds]
        self._by_kind: dict[str, list[Rule]] = {}

    def for_kind(self, kind: str) -> list[Rule]:
        rules = self._by_kind.get(kind)
        if rules is None:
            rules = self._by_kind[kind] = [load_rule(rid) for rid in self._kind_ids.get(kind, ())]
        return rules


class SlowWork(dict[str, list[Rule]]):
    """Op kind → the rules that say what slow work an op of that kind does, in registry
    order (the ones overriding ``Rule.slow_work``), imported on first ask."""

    def __init__(self) -> None:
        super().__init__()
        self._kind_ids: dict[str, list[str]] = {}
        for rid, info in rule_index().items():
            if info.slow_work:
                for kind in sorted(info.kinds):
                    self._kind_ids.setdefault(kind, []).append(rid)

    def get(self, kind: str, default: object = None) -> list[Rule]:
        rules = super().get(kind)
        if rules is None:
            rules = self[kind] = [load_rule(rid) for rid in self._kind_ids.get(kind, ())]
        return rules


def slow_work_rules() -> SlowWork:
    return SlowWork()


def iter_rules(ids: Iterable[str]) -> Iterator[Rule]:
    for rid in ids:
        yield load_rule(rid)


def meta_finding(rule_id: str, path: str, span: Span, message: str, help: str = "") -> Finding:
    """A finding of a rule that is not run on statements (syntax errors, suppression
    comments, the Alembic reader's notes), with the rule's registered severity."""
    rule = rule_index()[rule_id]
    return Finding(rule_id, rule.severity, rule.category, path, span, message, help)
