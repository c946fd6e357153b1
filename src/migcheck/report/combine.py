"""One safe sequence per statement: how the helps of one statement's findings combine.

A statement with several findings (Prisma's ``ALTER COLUMN ... TYPE`` that both breaks the
running app and rewrites the table) has one safe way to write it, not one per rule. The
lead finding is the one the other fixes must fit into: a compatibility problem before a
lock, then the most severe. Its help is the sequence. A finding whose rule a part already
given declares it answers (``Rule.help_covers``: those steps avoid that problem too) adds
only its name; any other finding's help follows as a further part, and twins (the same
advice on one statement) are given once.

The human reports use it (``text``, ``markdown``); machine formats keep each finding's own
help, since a tool reading them looks findings up one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from migcheck.model import Finding

# Which problem the safe sequence must be built around: the app breaking first.
_CATEGORY_RANK = {"compatibility": 0, "data": 1, "locking": 2}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}


@dataclass
class Part:
    """One paragraph of a statement's help: ``finding``'s help, which also answers
    the findings of ``covers`` (rules whose own help it makes unnecessary)."""

    finding: Finding
    covers: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.finding.help


def combine(group: Sequence[Finding]) -> list[Part]:
    """The parts of the help of one statement's findings, lead first."""
    helped = [f for f in group if f.help]
    if len(helped) < 2:
        return [Part(f) for f in helped]
    order = sorted(
        range(len(helped)),
        key=lambda i: (
            _CATEGORY_RANK.get(helped[i].category, 3),
            _SEVERITY_RANK.get(helped[i].severity, 3),
            i,
        ),
    )
    parts: list[Part] = []
    for f in (helped[i] for i in order):
        owner = _answered_by(f, parts)
        if owner is None:
            parts.append(Part(f))
        elif f.rule != owner.finding.rule and f.rule not in owner.covers:
            owner.covers.append(f.rule)
    return parts


def _answered_by(f: Finding, parts: Sequence[Part]) -> Part | None:
    """The part already given that makes ``f``'s help unnecessary: the same advice, or a
    sequence whose rule declares it covers ``f``'s rule."""
    for part in parts:
        if part.text == f.help or f.rule in _covers(part.finding.rule):
            return part
    return None


def _covers(rule: str) -> frozenset[str]:
    from migcheck.rules import rule_index

    info = rule_index().get(rule)
    return info.help_covers if info is not None else frozenset()
