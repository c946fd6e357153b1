"""The unprivileged user the embedded server runs as, when two runs create it at once
(parallel CI jobs on a fresh machine, or the test suite's xdist workers)."""

from __future__ import annotations

import pwd
import subprocess

import pytest

from migcheck.live import service
from migcheck.live.errors import LiveError

ENTRY = pwd.struct_passwd(("migcheck", "x", 999, 995, "", "/nonexistent", "/usr/sbin/nologin"))


def _as_root_without_the_user(monkeypatch: pytest.MonkeyPatch, *, created: bool) -> None:
    """``useradd`` fails as it does when the user appeared since our lookup; ``created``
    says whether another run really made it."""
    lookups = iter([KeyError("migcheck"), ENTRY if created else KeyError("migcheck")])

    def getpwnam(name: str) -> pwd.struct_passwd:
        assert name == "migcheck"
        found = next(lookups)
        if isinstance(found, KeyError):
            raise found
        return found

    def useradd(*args: object, **kwargs: object) -> None:
        raise subprocess.CalledProcessError(9, "useradd", stderr=b"user 'migcheck' already exists")

    monkeypatch.setattr(service.os, "geteuid", lambda: 0)
    monkeypatch.setattr(service.pwd, "getpwnam", getpwnam)
    monkeypatch.setattr(service.subprocess, "run", useradd)


def test_a_user_another_run_created_meanwhile_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_root_without_the_user(monkeypatch, created=True)
    assert service.service_user() == (999, 995, "migcheck")


def test_a_user_nobody_could_create_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _as_root_without_the_user(monkeypatch, created=False)
    with pytest.raises(LiveError, match="no unprivileged user could be created"):
        service.service_user()
