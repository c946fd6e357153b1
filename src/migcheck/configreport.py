"""What the run's config file turned off, so that every report can say so.

The config file may come from the pull request being checked. It can ignore rules,
lower severities, exclude files, ignore rules per file and lower ``fail-on``; each of
these can turn a failing gate into a passing one. ``describe`` compares the run's
settings with and without the file (the command line's flags apply to both) and lists
what the file switched off; the reporters show it (text: one line before the summary;
JSON: the top-level ``config`` key; GitHub: a ``::notice``; SARIF: the run's properties
and a configuration notification; JUnit: a suite property).

The JSON shape (``as_json``), stable for machines::

    {"path": ".migcheck.toml" | null,          # the file used, as shown; null: none
     "source": "discovered" | "--config" | "base:<ref>" | null,
     "disables": {
        "rules": ["drop-column", ...],        # on without the file, off with it
        "severities": {"drop-view": {"from": "warning", "to": "info"}},   # lowered only
        "exclude": ["db/legacy/*"],           # the file's exclude globs
        "per_file_ignores": {"db/old/*": ["compatibility"]},
        "fail_on": {"from": "warning", "to": "never"} | null,              # if lowered
        "assumes": ["lock-timeout-role-level", ...]},  # facts about the runtime that
                                                       # silence rules, set true by the file
     "excluded_changed": ["db/002.sql", ...]}  # --diff: changed migrations it excluded
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migcheck.config import Config, merge
from migcheck.config.errors import _shown
from migcheck.report.escape import visible
from migcheck.settings import Settings

# How lenient a fail-on is: a higher value lets more findings pass.
_FAIL_ON_LENIENCY = {"warning": 0, "error": 1, "never": 2}
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}
_LISTED = 8  # rule ids named in the one-line text before "and N more"
# Settings that tell migcheck to trust a fact about how migrations run; set true, each
# silences findings (missing-lock-timeout, the transaction rules). Merged name -> key.
_ASSUMPTIONS = {
    "assume_in_transaction": "assume-in-transaction",
    "lock_timeout_role_level": "lock-timeout-role-level",
    "transaction_per_migration": "alembic.transaction-per-migration",
}


@dataclass
class ConfigReport:
    """The config file a run used and what it disabled."""

    path: str | None = None
    source: str | None = None
    rules: list[str] = field(default_factory=list)
    severities: dict[str, tuple[str, str]] = field(default_factory=dict)
    exclude: list[str] = field(default_factory=list)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    fail_on: tuple[str, str] | None = None
    assumes: list[str] = field(default_factory=list)
    excluded_changed: list[str] = field(default_factory=list)

    @property
    def disables_anything(self) -> bool:
        return bool(
            self.rules
            or self.severities
            or self.exclude
            or self.per_file_ignores
            or self.fail_on
            or self.assumes
            or self.excluded_changed
        )

    def as_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "source": self.source,
            "disables": {
                "rules": list(self.rules),
                "severities": {r: {"from": a, "to": b} for r, (a, b) in self.severities.items()},
                "exclude": list(self.exclude),
                "per_file_ignores": {k: list(v) for k, v in self.per_file_ignores.items()},
                "fail_on": (
                    None
                    if self.fail_on is None
                    else {"from": self.fail_on[0], "to": self.fail_on[1]}
                ),
                "assumes": list(self.assumes),
            },
            "excluded_changed": list(self.excluded_changed),
        }

    def lines(self) -> list[str]:
        """The report's lines about the config (none when no file was used)."""
        if self.path is None:
            if self.source is None:
                return []
            return [f"config: none found on {visible(self.source.removeprefix('base:'))}"]
        where = f"config: {visible(self.path)} ({visible(self.source or 'discovered')})"
        parts: list[str] = []
        if self.rules:
            named = ", ".join(self.rules[:_LISTED])
            more = len(self.rules) - _LISTED
            parts.append(
                f"turns off {len(self.rules)} rule{'s' if len(self.rules) != 1 else ''} "
                f"({named}{f' and {more} more' if more > 0 else ''})"
            )
        if self.severities:
            lowered = ", ".join(f"{r} {a}->{b}" for r, (a, b) in self.severities.items())
            parts.append(f"lowers severities ({visible(lowered)})")
        if self.exclude:
            parts.append(f"excludes {visible(', '.join(self.exclude))}")
        if self.per_file_ignores:
            ignores = "; ".join(f"{k} = {', '.join(v)}" for k, v in self.per_file_ignores.items())
            parts.append(f"per-file-ignores {visible(ignores)}")
        if self.fail_on:
            parts.append(f"lowers fail-on {self.fail_on[0]}->{self.fail_on[1]}")
        if self.assumes:
            parts.append(f"assumes {', '.join(self.assumes)}")
        out = [where + (": " + "; ".join(parts) if parts else ": disables nothing")]
        if self.excluded_changed:
            n = len(self.excluded_changed)
            out.append(
                f"{n} changed migration{'s' if n != 1 else ''} excluded by "
                f"{visible(self.path)}: {visible(', '.join(self.excluded_changed))}"
            )
        return out


def describe(config: Config | None, source: str | None, cli: Mapping[str, object]) -> ConfigReport:
    """What ``config`` disables in a run whose command-line settings are ``cli`` (the
    mapping ``merge`` takes)."""
    if config is None:
        return ConfigReport(source=source if source and source.startswith("base:") else None)
    from migcheck.rules import rule_index
    from migcheck.selection import select_rules

    without, with_file = merge(None, cli), merge(config, cli)

    def chosen(s: Settings) -> list[str]:
        return select_rules(s.select, s.extend_select, s.ignore)

    on = set(chosen(with_file))
    rules = [r for r in chosen(without) if r not in on]
    severities: dict[str, tuple[str, str]] = {}
    registry = rule_index()
    for rule, level in with_file.severity.items():
        default = registry[rule].severity if rule in registry else None
        if default and _SEVERITY_RANK[level] < _SEVERITY_RANK.get(default, 0):
            severities[rule] = (default, level)
    fail_on = None
    before, after = without.fail_on, with_file.fail_on
    if _FAIL_ON_LENIENCY.get(after, 0) > _FAIL_ON_LENIENCY.get(before, 0):
        fail_on = (before, after)
    assumes = [
        key
        for name, key in _ASSUMPTIONS.items()
        if getattr(with_file, name) is True and getattr(without, name) is not True
    ]
    return ConfigReport(
        path=_shown(config.path),
        source=source,
        rules=rules,
        severities=severities,
        exclude=list(config.exclude or ()),
        per_file_ignores={k: list(v) for k, v in (config.per_file_ignores or {}).items()},
        fail_on=fail_on,
        assumes=assumes,
    )


def config_lines(result: object) -> list[str]:
    """The config lines of a run's result (empty without a config report)."""
    report = getattr(result, "config", None)
    return report.lines() if isinstance(report, ConfigReport) else []
