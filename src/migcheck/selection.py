"""Which rules a run uses: rule ids, categories and ``ALL`` resolved as ruff does."""

from __future__ import annotations

from collections.abc import Sequence

from migcheck.rules import rule_index
from migcheck.vocabulary import CATEGORIES


def default_rule_ids() -> list[str]:
    """The rules on when nothing is selected (opt-in rules are off)."""
    return [rid for rid, r in rule_index().items() if r.default_enabled]


def select_rules(select: Sequence[str], extend: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """Resolve ids and category names to rule ids. Unknown names raise ValueError."""
    rules = rule_index()

    def expand(names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if name in rules:
                out.append(name)
            elif name in CATEGORIES:
                out.extend(rid for rid, r in rules.items() if r.category == name)
            elif name.upper() == "ALL":
                out.extend(rules)
            else:
                raise ValueError(
                    f"unknown rule or category {name!r}; `migcheck rules` lists the rule ids, "
                    f"categories are {', '.join(CATEGORIES)}"
                )
        return out

    chosen = expand(select) if select else default_rule_ids()
    chosen += [r for r in expand(extend) if r not in chosen]
    dropped = set(expand(ignore))
    return [r for r in chosen if r not in dropped]
