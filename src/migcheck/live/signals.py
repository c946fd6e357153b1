"""Turn SIGINT and SIGTERM into an exception for the length of a live check.

The check owns a server process and scratch databases; both must go away however the
check ends. Raising from the handler unwinds through every ``finally`` and context
manager, which is where the cleanup lives. ``LiveInterrupted`` derives from
``KeyboardInterrupt`` because psycopg cancels the running query on the server when a
``KeyboardInterrupt`` arrives while it waits, so a long statement stops at once.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class LiveInterrupted(KeyboardInterrupt):
    """The live check was stopped by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise LiveInterrupted(signum)


def _in_main_thread() -> bool:
    # signal.signal only works there; elsewhere the caller's own handling stays.
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Raise ``LiveInterrupted`` on SIGINT/SIGTERM inside the block; restore the previous
    handlers on the way out."""
    if not _in_main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in _SIGNALS}
    for sig in _SIGNALS:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while cleaning up, so a second Ctrl-C cannot leave a
    half-stopped server; they are delivered when the block ends."""
    if not _in_main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
