"""edited-applied-migration: a pull request edits a migration that already shipped."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule


class EditedAppliedMigration(Rule):
    id = "edited-applied-migration"
    category = "compatibility"
    severity = "error"
    summary = "--diff: a migration that exists on the base branch is edited; write a new one"
    # Reported by migcheck.gitdiff from `git diff`, not from SQL: there is no statement
    # to check, and only a run with --diff can see it.
    kinds = frozenset({"\0never"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        return iter(())
