"""``open_server``: the server a live check runs on, chosen from the command line.

It knows every kind of server (``server.ExternalServer`` for a DSN, ``cluster.ClusterServer``
for binaries), so it sits above both: ``server`` defines the interface and must not
import the cluster that implements it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from migcheck.live.cluster import ClusterServer
from migcheck.live.errors import LiveError
from migcheck.live.server import ExternalServer, Server, choose_embedded


@contextlib.contextmanager
def open_server(
    *,
    pg_bin: str | None = None,
    dsn: str | None = None,
    pg_version: int | None = None,
    statement_timeout_s: float = 60.0,
    persistent: bool = True,
    cache_dir: str | None = None,
) -> Iterator[Server]:
    """The server to run on, closed (scratch databases dropped, process stopped) however
    the block ends."""
    if pg_bin and dsn:
        raise LiveError("--pg-bin and --dsn cannot be used together")
    server: Server
    if dsn:
        server = ExternalServer(dsn, statement_timeout_s)
    else:
        root = Path(cache_dir).expanduser().absolute() if cache_dir else None
        if pg_bin:
            bin_dir = Path(pg_bin).expanduser().absolute()
            kind = "pg_bin"
        else:
            bin_dir = choose_embedded(pg_version)
            kind = "embedded"
        server = ClusterServer(
            bin_dir,
            kind=kind,
            statement_timeout_s=statement_timeout_s,
            persistent=persistent,
            root=root,
        )
        if pg_bin and pg_version is not None and server.major != pg_version:
            server.close()
            raise LiveError(f"{bin_dir} holds PostgreSQL {server.major}, not {pg_version}")
    try:
        yield server
    finally:
        server.close()
