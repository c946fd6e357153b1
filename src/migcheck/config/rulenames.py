"""Rule ids and category names in a config file: checking them, and expanding them."""

from __future__ import annotations

from collections.abc import Iterable

from migcheck.vocabulary import CATEGORIES


def _unknown_rule(name: str, *, categories: bool) -> str | None:
    """Why ``name`` is not a rule id (or category), with a suggestion; None if it is one."""
    from migcheck.rules import rule_index

    ids = list(rule_index())
    if name in ids or (categories and (name in CATEGORIES or name.upper() == "ALL")):
        return None
    if not categories:
        if name in CATEGORIES:
            return (
                f'"{name}" is a category, but severity takes rule ids; `migcheck rules` lists them'
            )
        close = _close(name, ids)
        hint = f' (did you mean "{close}"?)' if close else ""
        return f'unknown rule "{name}"{hint}; `migcheck rules` lists the rule ids'
    close = _close(name, [*ids, *CATEGORIES])
    hint = f' (did you mean "{close}"?)' if close else ""
    return (
        f'unknown rule or category "{name}"{hint}; `migcheck rules` lists the rule ids, '
        f"the categories are: {', '.join(CATEGORIES)}"
    )


def _close(word: str, choices: Iterable[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return match[0] if match else None


def expand_rules(names: Iterable[str]) -> list[str]:
    """Rule ids named by ids, categories and ``ALL`` (names are assumed valid)."""
    from migcheck.rules import rule_index

    rules = rule_index()
    out: list[str] = []
    for name in names:
        if name in rules:
            ids = [name]
        elif name.upper() == "ALL":
            ids = list(rules)
        else:
            ids = [rid for rid, r in rules.items() if r.category == name]
        out.extend(rid for rid in ids if rid not in out)
    return out
