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
from typing import ClassVar

from migcheck.context import Context
from migcheck.model import LINE_BREAK, Category, Finding, Op, Severity, Span, Statement


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
        )


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


def all_rules() -> dict[str, Rule]:
    """Every rule, by id, in a stable order (the order of their module names)."""
    global _REGISTRY
    if _REGISTRY is None:
        found: dict[str, Rule] = {}
        for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Rule)
                    and value is not Rule
                    and value.__module__ == module.__name__
                    and "id" in vars(value)
                ):
                    found[value.id] = value()
        _REGISTRY = dict(sorted(found.items()))
    return _REGISTRY


def slow_work_rules() -> dict[str, list[Rule]]:
    """Op kind → the rules that say what slow work an op of that kind does, in registry
    order (the ones overriding ``Rule.slow_work``)."""
    by_kind: dict[str, list[Rule]] = {}
    for rule in all_rules().values():
        if type(rule).slow_work is not Rule.slow_work:
            for kind in sorted(rule.kinds):
                by_kind.setdefault(kind, []).append(rule)
    return by_kind


def iter_rules(ids: Iterable[str]) -> Iterator[Rule]:
    rules = all_rules()
    for rid in ids:
        yield rules[rid]


def meta_finding(rule_id: str, path: str, span: Span, message: str, help: str = "") -> Finding:
    """A finding of a rule that is not run on statements (syntax errors, suppression
    comments, the Alembic reader's notes), with the rule's registered severity."""
    rule = all_rules()[rule_id]
    return Finding(rule_id, rule.severity, rule.category, path, span, message, help)
