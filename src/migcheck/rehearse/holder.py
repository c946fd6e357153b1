"""``--long-transaction``: a session that holds a lock on a table for a while.

It stands for a slow report (ACCESS SHARE) or a session left idle in transaction after
a write (ROW EXCLUSIVE). Before a statement whose lock makes app queries wait, it opens
a transaction, locks the statement's table in the weakest mode an app session holds
that the statement's lock conflicts with (``hold_mode``), and keeps it for the given
time; the statement then waits for it, and every app query that conflicts with the
statement queues behind its pending lock. The holder has a short ``lock_timeout`` of
its own: if the migration's transaction already holds the table, there is nothing to
hold and it says so instead of waiting.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from migcheck.locks import ACCESS_EXCLUSIVE, EXCLUSIVE, SHARE, SHARE_ROW_EXCLUSIVE

if TYPE_CHECKING:
    import psycopg

# Statement's lock → the app lock that makes it wait: a read blocks only ACCESS
# EXCLUSIVE; SHARE, SHARE ROW EXCLUSIVE and EXCLUSIVE leave reads alone and wait for
# the writers (PostgreSQL's conflict table). Weaker modes make no app query wait.
_HOLD_MODE = {
    ACCESS_EXCLUSIVE: "ACCESS SHARE",
    EXCLUSIVE: "ROW EXCLUSIVE",
    SHARE_ROW_EXCLUSIVE: "ROW EXCLUSIVE",
    SHARE: "ROW EXCLUSIVE",
}


def hold_mode(statement_mode: str) -> str | None:
    """The lock the long transaction holds before a statement taking ``statement_mode``,
    or None when no app query would queue behind that statement."""
    return _HOLD_MODE.get(statement_mode)


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

    def hold(self, table_sql: str, mode: str) -> bool:
        """Lock ``table_sql`` (a quoted name) in ``mode`` (one of ``hold_mode``'s) until
        the time is up; False when it is already locked against us."""
        import psycopg

        self.release()
        if self.conn is None or self.conn.closed:
            self.conn = self._connect()
        conn = self.conn
        conn.execute("SET lock_timeout = '200ms'")
        conn.execute("BEGIN")
        try:
            conn.execute(f"LOCK TABLE {table_sql} IN {mode} MODE")
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
