"""What the registry knows of a rule without importing its module: one entry of
``rules/_index.py``, which ``scripts/update_rule_index.py`` generates."""

from __future__ import annotations

from typing import NamedTuple

from migcheck.model import Category, Severity


class RuleInfo(NamedTuple):
    """What the registry knows of a rule without importing it (see ``rules/_index.py``)."""

    id: str
    category: Category
    severity: Severity
    default_enabled: bool
    kinds: frozenset[str]
    min_pg: int | None
    max_pg: int | None
    slow_work: bool  # overrides ``Rule.slow_work``
    help_covers: frozenset[str] = frozenset()  # ``Rule.help_covers``

    def applies_to_version(self, pg_version: int) -> bool:
        if self.min_pg is not None and pg_version < self.min_pg:
            return False
        return not (self.max_pg is not None and pg_version > self.max_pg)
