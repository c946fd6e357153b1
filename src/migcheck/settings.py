"""``Settings``: every setting of a lint run, typed, in the one shape it has from the
command line and config file (``config.merge``) to the runner and, as ``RuleOptions``,
to the rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migcheck.model import RuleOptions
from migcheck.vocabulary import FailOn, Severity

MEGABYTE = 1_000_000


@dataclass(frozen=True)
class Settings:
    """A run's settings; each default is what applies when neither the command line nor
    a config file sets it."""

    # Rule ids, categories or ALL, combined as ruff does (``selection.select_rules``).
    select: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: FailOn = "warning"
    pg_version: int | None = None  # None: the runner's DEFAULT_PG_VERSION
    assume_in_transaction: bool = False
    # ``--exclude`` patterns for discovery (the config file's globs already rewritten).
    exclude: tuple[str, ...] = ()
    max_file_size: float = 10.0  # megabytes one file may hold
    max_total_size: float = 64.0  # megabytes of SQL one run reads in total
    prisma_version: str | None = None  # None: read from package.json
    # Only the command line can set it: importing revisions runs the project's code.
    alembic_import: bool = False
    include_downgrade: bool = False
    transaction_per_migration: bool | None = None  # None: read from env.py
    lock_timeout_role_level: bool = False
    # The table statistics file (``tablestats``) and the size below which a lock is brief.
    # The app's schema files (paths or globs) and the ref of the deployed app version
    # (``appschema.gating``); by default the files are found by convention and the ref
    # is --diff's merge base.
    app_schema: tuple[str, ...] = ()
    app_ref: str | None = None
    table_stats: str | None = None
    small_table_rows: int = 10_000
    small_table_bytes: int = 50_000_000

    @property
    def max_bytes(self) -> int:
        return int(self.max_file_size * MEGABYTE)

    @property
    def max_total_bytes(self) -> int:
        return int(self.max_total_size * MEGABYTE)

    @property
    def rule_options(self) -> RuleOptions:
        """The part of the settings that rules read (``Context.options``)."""
        return RuleOptions(lock_timeout_role_level=self.lock_timeout_role_level)
