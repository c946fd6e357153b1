"""One lint run from request to result: discovery, rule selection, engine.

The CLI builds a ``RunRequest`` and prints what ``run`` returns; tests call ``run``
directly. Nothing here formats output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from migcheck.engine import Options, Result, default_rule_ids, lint
from migcheck.rules import all_rules

DEFAULT_PG_VERSION = 14
CATEGORIES = ("compatibility", "locking", "data", "style", "meta")


@dataclass
class RunRequest:
    paths: list[str]
    stdin_text: str | None = None
    stdin_filename: str | None = None
    pg_version: int | None = None
    select: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    assume_in_transaction: bool = False
    changeset: bool | None = None
    prisma_version: str | None = None
    max_bytes: int = 10_000_000
    exclude: list[str] = field(default_factory=list)


@dataclass
class RunResult(Result):
    # True when nothing could be read at all: the run is an input error (exit 2).
    fatal: bool = False


def select_rules(select: Sequence[str], extend: Sequence[str], ignore: Sequence[str]) -> list[str]:
    """Resolve ids and category names to rule ids. Unknown names raise ValueError."""
    rules = all_rules()

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


def parse_prisma_version(value: str | None) -> tuple[int, int] | None:
    if not value:
        return None
    parts = value.strip().lstrip("^~=v").split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        raise ValueError(f"--prisma-version {value!r} is not a version like 5.22") from None


def run(req: RunRequest) -> RunResult:
    from migcheck.sources.discover import discover

    rule_ids = select_rules(req.select, req.extend_select, req.ignore)
    found = discover(
        req.paths,
        stdin_text=req.stdin_text,
        stdin_filename=req.stdin_filename,
        exclude=req.exclude,
        max_bytes=req.max_bytes,
    )
    options = Options(
        pg_version=req.pg_version or DEFAULT_PG_VERSION,
        rules=rule_ids,
        assume_in_transaction=req.assume_in_transaction,
        changeset=req.changeset,
        prisma_version=parse_prisma_version(req.prisma_version),
    )
    linted = lint(found.histories, options)
    result = RunResult(
        findings=linted.findings,
        errors=found.errors + linted.errors,
        files=linted.files,
        statements=linted.statements,
        unrecognized=linted.unrecognized,
    )
    result.fatal = bool(result.errors) and not found.histories
    return result
