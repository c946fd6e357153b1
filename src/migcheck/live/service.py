"""Running PostgreSQL as an unprivileged user when we are root.

PostgreSQL refuses to run as root. The server then runs as ``migcheck``, a system user
without a shell or home that is created when missing; never as a distribution's
``postgres`` account, which may own other clusters that the server's OS user could
reach. It must reach the binaries and the data directory, which we check from the
permission bits rather than by switching users.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from migcheck.live.errors import LiveError

SERVICE_USER = "migcheck"


def service_user() -> tuple[int, int, str] | None:
    """(uid, gid, name) of the user to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    name = SERVICE_USER
    entry = _existing(name)
    if entry is not None:
        return entry
    try:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                name,
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError) as err:
        # Another run (a parallel CI job on a fresh machine) may have created it first.
        failure: Exception = err
    else:
        failure = KeyError(name)
    entry = _existing(name)
    if entry is None:
        raise LiveError(
            "PostgreSQL will not run as root and no unprivileged user could be created "
            f"({failure}); run migcheck as another user or pass --dsn"
        ) from failure
    return entry


def _existing(name: str) -> tuple[int, int, str] | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    if entry.pw_uid == 0:
        raise LiveError(f"the user {name} is root; PostgreSQL needs an unprivileged user")
    return entry.pw_uid, entry.pw_gid, name


def reachable(path: Path, uid: int, gid: int, leaf_mode: int | None = None) -> bool:
    """True when ``uid`` can traverse every directory down to ``path`` (and, with
    ``leaf_mode``, has that permission on ``path`` itself)."""
    chain = list(reversed(path.parents)) + ([path] if leaf_mode is None else [])
    try:
        for part in chain:
            if not _permits(part.stat(), uid, gid, stat.S_IXOTH):
                return False
        return leaf_mode is None or _permits(path.stat(), uid, gid, leaf_mode)
    except OSError:
        return False


def _permits(st: os.stat_result, uid: int, gid: int, other_bit: int) -> bool:
    # other_bit is an S_I?OTH bit; the owner and group bits sit 6 and 3 bits higher.
    if st.st_uid == uid:
        return bool(st.st_mode & (other_bit << 6))
    if st.st_gid == gid:
        return bool(st.st_mode & (other_bit << 3))
    return bool(st.st_mode & other_bit)


def mirror_tree(source: Path, target: Path) -> None:
    """Copy a directory tree, with hard links where the filesystem allows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.parent.chmod(0o755)
    try:
        shutil.copytree(source, target, copy_function=os.link)
    except OSError:
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(source, target)
