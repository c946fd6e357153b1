"""``--long-transaction``: a session that holds ACCESS SHARE on a table for a while.

It stands for a slow report or a session left idle in transaction. Before a statement
that takes ACCESS EXCLUSIVE, it opens a transaction, locks the statement's table in
ACCESS SHARE mode and keeps it for the given time; the statement then waits for it,
and every app query on the table queues behind the statement's pending lock. The
holder has a short ``lock_timeout`` of its own: if the migration's transaction already
holds the table, there is nothing to hold and it says so instead of waiting.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg


class Holder:
    def __init__(self, connect: Callable[[], psycopg.Connection], seconds: float) -> None:
        self._connect = connect
        self.seconds = seconds
        self.conn: psycopg.Connection | None = None
        self._timer: threading.Timer | None = None
        self._released = threading.Event()

    @property
    def pid(self) -> int | None:
        return self.conn.info.backend_pid if self.conn is not None else None

    def hold(self, table_sql: str) -> bool:
        """Lock ``table_sql`` (a quoted name) in ACCESS SHARE mode until the time is up;
        False when it is already locked against us."""
        import psycopg

        self.release()
        if self.conn is None or self.conn.closed:
            self.conn = self._connect()
        conn = self.conn
        conn.execute("SET lock_timeout = '200ms'")
        conn.execute("BEGIN")
        try:
            conn.execute(f"LOCK TABLE {table_sql} IN ACCESS SHARE MODE")
        except psycopg.Error:
            conn.execute("ROLLBACK")
            return False
        self._released.clear()
        self._timer = threading.Timer(self.seconds, self._end)
        self._timer.daemon = True
        self._timer.start()
        return True

    def _end(self) -> None:
        if self.conn is not None and not self._released.is_set():
            with contextlib.suppress(Exception):
                self.conn.execute("ROLLBACK")
        self._released.set()

    def release(self) -> None:
        """End the held transaction now (when it is still open)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._end()

    def close(self) -> None:
        self.release()
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
