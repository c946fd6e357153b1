"""What a rehearsal is asked to do: volumes, traffic, thresholds and bounds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from migcheck.live.errors import LiveError

DEFAULT_ROWS = 100_000
# Upper bounds that keep one rehearsal on a CI machine: every loop is bounded.
MAX_CLIENTS = 64
MAX_ROWS = 1_000_000_000
# The app's statement_timeout by default, in stalls: long enough that a query blocked
# past --max-stall is still seen waiting, short enough that a slow query frees its
# client. At 10 (5 s), the fixtures' unindexed Membership lookup held all 8 clients
# most of the time and no write was left to wait on the unsafe Task index.
APP_TIMEOUT_STALLS = 2


@dataclass(frozen=True)
class RehearseOptions:
    clients: int = 8
    rate: float | None = None  # queries per second over all clients; None: closed loop
    max_stall_s: float = 0.5
    # statement_timeout of each app query; None: ``APP_TIMEOUT_STALLS`` × max_stall_s.
    app_timeout_s: float | None = None
    rows: int = DEFAULT_ROWS
    # Per-table row counts from the config (``[tool.migcheck.rehearse] rows``), by
    # table name as written ("orders" or "public.orders").
    table_rows: Mapping[str, int] = field(default_factory=dict)
    scale: float = 1.0
    long_transaction_s: float | None = None
    warmup_s: float = 3.0
    cooldown_s: float = 1.0
    max_seconds: float = 300.0
    # How often the sampler polls pg_locks/pg_stat_activity.
    sample_interval_s: float = 0.015

    @property
    def app_timeout(self) -> float:
        """Seconds each app query may run before its statement_timeout cancels it."""
        if self.app_timeout_s is not None:
            return self.app_timeout_s
        return APP_TIMEOUT_STALLS * self.max_stall_s

    def validate(self) -> None:
        """Raise ``LiveError`` (exit 2) for values no rehearsal can use."""
        if not 1 <= self.clients <= MAX_CLIENTS:
            raise LiveError(f"--clients must be between 1 and {MAX_CLIENTS}")
        if self.rate is not None and not self.rate > 0:
            raise LiveError("--rate must be a positive number of queries per second")
        if not self.max_stall_s > 0:
            raise LiveError("--max-stall must be positive")
        if self.app_timeout_s is not None and not self.app_timeout_s > 0:
            raise LiveError("--app-timeout must be a positive number of seconds")
        if not 0 <= self.rows <= MAX_ROWS:
            raise LiveError(f"--rows must be between 0 and {MAX_ROWS:,}")
        if not 0 < self.scale <= 1:
            raise LiveError("--scale must be a fraction in (0, 1]")
        if self.long_transaction_s is not None and not self.long_transaction_s > 0:
            raise LiveError("--long-transaction must be a positive number of seconds")
        if not 0 <= self.warmup_s <= self.max_seconds:
            raise LiveError("--warmup-seconds must be between 0 and --max-seconds")
        if not self.max_seconds > 0:
            raise LiveError("--max-seconds must be positive")
        for name, rows in self.table_rows.items():
            if not 0 <= rows <= MAX_ROWS:
                raise LiveError(f"rehearse rows for {name} must be between 0 and {MAX_ROWS:,}")
