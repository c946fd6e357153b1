"""The parse and render caches treat their directory as input (issue 10, point 6).

Whoever can write the cache directory (a restored CI cache, a shared runner) must not get
code execution, and a damaged entry must not change a result or stop a run. Each test
runs the real CLI: a cold run fills a private cache, the entries it wrote (the exact
files a later run reads) are replaced, and the next run must give the cold run's report.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from migcheck.datacodec import Codec, Invalid, Unencodable
from migcheck.live.cache import CACHE_FORMAT, TemplateCache, template_name
from migcheck.model import ColumnType, Finding, Op, Span, Statement
from migcheck.schema import ColumnInfo, ConstraintInfo, IndexInfo, Origin, TableInfo
from migcheck.snapshot import State
from migcheck.sources.alembic.rendercache import _NOT_CACHED, CachedRevision
from migcheck.sources.alembic.revfile import RevisionFile
from migcheck.statements import Loaded

ROOT = Path(__file__).resolve().parents[1]
DROP = "ALTER TABLE users DROP COLUMN bio;\nCREATE INDEX users_email ON users (email);\n"


@dataclass
class Run:
    code: int
    out: str
    err: str


def migcheck(cwd: Path, cache: Path | None, *args: str) -> Run:
    env = {
        k: v for k, v in os.environ.items() if k not in ("MIGCHECK_CACHE_DIR", "MIGCHECK_NO_CACHE")
    }
    if cache is None:
        env["MIGCHECK_NO_CACHE"] = "1"
    else:
        env["MIGCHECK_CACHE_DIR"] = str(cache)
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.rglob("*") if p.is_file())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A SQL migration and an Alembic history: both caches get entries."""
    root = tmp_path / "project"
    (root / "db").mkdir(parents=True)
    (root / "db" / "001_drop.sql").write_text(DROP)
    shutil.copytree(ROOT / "fixtures" / "alembic", root / "alembic")
    return root


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_pickle_payload_is_never_run(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = migcheck(project, cache, "--format", "json", ".")
    planted = entries(cache)
    # Each history's packed results and parses, and the Alembic project's renderings.
    assert sorted(p.parent.name for p in planted) == ["alembic", "histories", "histories"]
    marker = tmp_path / "PWNED"
    for path in planted:
        path.write_bytes(pickle.dumps(Payload(marker)))
    warm = migcheck(project, cache, "--format", "json", ".")
    assert not marker.exists()
    assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)
    assert cold.code == 1 and '"rule": "drop-column"' in cold.out
    # The payload was a miss: every entry has been written again, as data.
    for path in planted:
        assert path.read_bytes()[:1] == b"{"


CORRUPTIONS: dict[str, Callable[[bytes], bytes]] = {
    "truncated": lambda data: data[: len(data) // 2],
    "garbage": lambda data: b"\x80\x81\x00 not json at all",
    "empty": lambda data: b"",
    "wrong top-level type": lambda data: b"[1, 2, 3]",
    "unknown field": lambda data: data[:-1] + b', "evil": 1}',
    "string for a list": lambda data: b'{"statements": "x", "findings": []}',
    "missing required field": lambda data: b'{"findings": []}',
    "bool for an int": lambda data: data.replace(b'"index":0,', b'"index":true,', 1),
    "short span": lambda data: data.replace(b'"span":[1,1,', b'"span":[1,', 1),
    "deep nesting": lambda data: b"[" * 100_000 + b"]" * 100_000,
}


def test_corrupt_entries_are_misses(project: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cold = migcheck(project, cache, "db")
    (entry,) = entries(cache)
    good = entry.read_bytes()
    for name, corrupt in CORRUPTIONS.items():
        damaged = corrupt(good)
        assert damaged != good, name
        entry.write_bytes(damaged)
        warm = migcheck(project, cache, "db")
        assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err), name
        if entry.read_bytes() != good:
            # Damage in the parses' section, which a warm run never reads: a run that
            # must read it (the migration was edited) still gives the uncached result.
            assert entry.read_bytes() == damaged, name
            edited = project / "db" / "001_drop.sql"
            edited.write_text(DROP + "ALTER TABLE users DROP COLUMN age;\n")
            fresh = migcheck(project, None, "db")
            again = migcheck(project, cache, "db")
            assert (again.code, again.out, again.err) == (fresh.code, fresh.out, fresh.err), name
            assert entry.read_bytes().startswith(b'{"migcheck-cache": '), name  # written again
            edited.write_text(DROP)
            back = migcheck(project, cache, "db")
            assert (back.code, back.out, back.err) == (cold.code, cold.out, cold.err), name
            entry.write_bytes(good)


def test_cold_warm_and_after_corruption_are_identical_on_the_fixtures(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    uncached = migcheck(ROOT, None, "--format", "json", "fixtures")
    cold = migcheck(ROOT, cache, "--format", "json", "fixtures")
    warm = migcheck(ROOT, cache, "--format", "json", "fixtures")
    written = entries(cache)
    for i, path in enumerate(written):
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2] if i % 2 else b"\xff" + data)
    damaged = migcheck(ROOT, cache, "--format", "json", "fixtures")
    rewarm = migcheck(ROOT, cache, "--format", "json", "fixtures")
    reports = {(r.code, r.out, r.err) for r in (uncached, cold, warm, damaged, rewarm)}
    assert len(reports) == 1
    assert json.loads(cold.out)["findings"]


def test_the_cache_directory_is_private(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "001.sql").write_text(DROP)
    cache = tmp_path / "home" / ".cache" / "migcheck"
    run = migcheck(tmp_path, cache, "db")
    assert run.err == ""
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    (entry,) = entries(cache)
    assert stat.S_IMODE(entry.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def forged_cache(project: Path, tmp_path: Path) -> tuple[Run, Path]:
    """The cold run's report, and a copy of its cache whose entry claims no findings."""
    trusted = tmp_path / "trusted"
    cold = migcheck(project, trusted, "db")
    forged = tmp_path / "forged"
    shutil.copytree(trusted, forged)
    (entry,) = entries(forged)
    # The history's packed cache: a header line, then "r <key> <json>" for what each
    # migration emitted and "p <key> <json>" for its parse. Forge every emission empty.
    lines = entry.read_bytes().split(b"\n")
    forged_lines = [
        line.split(b" ", 2)[0] + b" " + line.split(b" ", 2)[1] + b" {}"
        if line.startswith(b"r ")
        else line
        for line in lines
    ]
    assert forged_lines != lines, "the cold run stored what each migration emitted"
    forgery = b"\n".join(forged_lines)
    entry.write_bytes(forgery)
    # The forgery works on a directory that passes the checks.
    assert migcheck(project, forged, "db").code == 0
    entry.write_bytes(forgery)
    return cold, forged


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX permissions")
def test_a_directory_others_can_write_is_ignored(project: Path, tmp_path: Path) -> None:
    cold, forged = forged_cache(project, tmp_path)
    forged.chmod(0o777)
    before = entries(forged)
    run = migcheck(project, forged, "db")
    assert (run.code, run.out) == (cold.code, cold.out)
    assert run.err == (
        f"migcheck: not using the cache directory {forged}: "
        "group or others can write to it (mode 0777)\n"
    )
    assert entries(forged) == before  # nothing written either


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_directory_another_user_owns_is_ignored(project: Path, tmp_path: Path) -> None:
    cold, forged = forged_cache(project, tmp_path)
    os.chown(forged, 65534, 65534)
    run = migcheck(project, forged, "--format", "json", "db")
    assert run.code == cold.code == 1
    assert '"rule": "drop-column"' in run.out
    assert run.err == (
        f"migcheck: not using the cache directory {forged}: "
        "it is owned by another user (uid 65534)\n"
    )


# --- the codec itself ---------------------------------------------------------------


def statement() -> Loaded:
    span = Span(1, 1, 1, 33, 0, 33)
    op = Op("drop_column", table="users", column="bio", options={"cascade": False, "n": 2})
    stmt = Statement("db/1.sql", 0, "ALTER TABLE users DROP COLUMN bio", span, [op])
    finding = Finding("drop-column", "error", "compatibility", "db/1.sql", span, "msg\n\x1b")
    return Loaded([stmt], [finding])


def test_codec_round_trips_exactly() -> None:
    codec: Codec[Loaded] = Codec(Loaded)
    value = statement()
    assert codec.decode(codec.encode(value)) == value
    assert type(codec.decode(codec.encode(value)).statements[0].span) is Span


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["statements"][0].__setitem__("index", True),
        lambda d: d["statements"][0].__setitem__("index", "0"),
        lambda d: d["statements"][0]["span"].__setitem__(0, 1.0),
        lambda d: d["statements"][0]["span"].append(7),
        lambda d: d["statements"][0].__setitem__("ops", {"kind": "x"}),
        lambda d: d["statements"][0]["ops"][0]["options"].__setitem__("x", [1]),
        lambda d: d["statements"][0]["ops"][0].__setitem__("__class__", "os.system"),
        lambda d: d["findings"][0].pop("rule"),
        lambda d: d.__setitem__("directives", [{"path": "x"}]),
    ],
)
def test_codec_rejects_every_unexpected_shape(change: Callable[[dict[str, Any]], None]) -> None:
    codec: Codec[Loaded] = Codec(Loaded)
    data = json.loads(codec.encode(statement()))
    change(data)
    with pytest.raises(Invalid):
        codec.decode(json.dumps(data).encode())


def test_codec_refuses_what_would_not_round_trip() -> None:
    """A list where a tuple is declared would come back as a tuple: not stored at all."""
    value = statement()
    value.statements[0].comment_lines = [1, 2]  # type: ignore[assignment]
    with pytest.raises(Unencodable):
        Codec(Loaded).encode(value)
    value = statement()
    value.statements[0].ops[0].options["t"] = (1, 2)
    with pytest.raises(Unencodable):
        Codec(Loaded).encode(value)


def schema_state() -> State:
    origin = Origin(1, 0, 1, 2)
    column = ColumnInfo("id", ColumnType("int8", text="bigint"), not_null=True, origin=origin)
    table = TableInfo("t", {"id": column}, origin=origin)
    index = IndexInfo("t_id", "t", unique=True, origin=Origin(1, 0, 1, 3), columns=("id",))
    check = ConstraintInfo("c", "check", "t", ("id",), origin=origin, text="CHECK (id > 0)")
    return State(
        transactions=2,
        tables=[("t", table)],
        indexes=[("t_id", index)],
        constraints=[("t", "c", check)],
        enums=[],
        types=[("mood", None)],
        domains=[],
        schemas=[],
        dropped_tables=[],
        dropped_columns=[],
        changes=[("t", "id", [("add", origin, None)])],
    )


def test_a_schema_state_round_trips_exactly() -> None:
    codec: Codec[State] = Codec(State)
    value = schema_state()
    assert codec.decode(codec.encode(value)) == value
    # Decoded twice (the second time sharing the first's origins), still equal.
    assert codec.decode(codec.encode(value)) == value
    value.tables[0][1].columns["id"].type = None  # ``ColumnType | None``: null is valid
    assert codec.decode(codec.encode(value)) == value


@pytest.mark.parametrize(
    "change",
    [
        # An origin equal to one already decoded, but with a bool for an int: True == 1,
        # so a value shared by equality alone would let it through.
        lambda d: d["tables"][0][1]["columns"]["id"]["origin"].__setitem__(0, True),
        lambda d: d["tables"][0][1]["origin"].__setitem__(3, 2.0),
        lambda d: d["tables"][0][1]["origin"].append(0),
        lambda d: d["tables"][0].append("extra"),
        lambda d: d["tables"][0].__setitem__(0, 1),
        lambda d: d["indexes"].__setitem__(0, ["t_id"]),
        lambda d: d["tables"][0][1]["columns"]["id"].__setitem__("not_null", 1),
        lambda d: d["tables"][0][1]["columns"]["id"].__setitem__("extra", 1),
        lambda d: d["tables"][0][1]["columns"]["id"].pop("name"),
        lambda d: d["constraints"][0].__setitem__(2, ["c"]),
        lambda d: d["tables"][0][1]["columns"]["id"].__setitem__("type", "int8"),
        lambda d: d["tables"][0][1]["columns"]["id"].__setitem__("type", False),
        lambda d: d["changes"][0][2][0].__setitem__(2, 3),
    ],
)
def test_a_schema_state_of_any_unexpected_shape_is_invalid(
    change: Callable[[dict[str, Any]], None],
) -> None:
    codec: Codec[State] = Codec(State)
    raw = codec.encode(schema_state())
    codec.decode(raw)  # its values are known (and shared) from now on
    data = json.loads(raw)
    change(data)
    with pytest.raises(Invalid):
        codec.decode(json.dumps(data).encode())


def test_cached_revision_keeps_every_header_field() -> None:
    """A field added to RevisionFile must be cached too (or listed as not cached)."""
    from dataclasses import fields

    kept = {f.name for f in fields(RevisionFile)} - _NOT_CACHED
    assert kept | {"error"} == {f.name for f in fields(CachedRevision)}


# --- the live check's template index ------------------------------------------------


@dataclass
class FakeServer:
    state_dir: Path
    present: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    name_prefix: str = "migcheck_"

    def databases(self) -> list[str]:
        return list(self.present)

    def drop_database(self, name: str) -> None:
        self.dropped.append(name)


def test_template_index_entries_of_the_wrong_shape_are_left_out(tmp_path: Path) -> None:
    good_key = "a" * 64
    good = template_name("migcheck_", good_key)
    other = template_name("migcheck_", "b" * 64)
    index = {
        "format": CACHE_FORMAT,
        "templates": {
            good_key: {"db": good, "migrations": 3, "created": 1.0, "last_used": 2},
            # A key pointed at another key's database, or at anything else.
            "c" * 64: {"db": other, "migrations": 3, "created": 1.0, "last_used": 2.0},
            "d" * 64: {
                "db": 'x"; DROP DATABASE y; --',
                "migrations": 1,
                "created": 1,
                "last_used": 1,
            },
            "not a key": {"db": good, "migrations": 1, "created": 1, "last_used": 1},
            "e" * 64: {"db": template_name("migcheck_", "e" * 64), "migrations": True},
            "f" * 64: [1, 2],
        },
    }
    (tmp_path / "templates.json").write_text(json.dumps(index))
    server = FakeServer(tmp_path, present=[good, other])
    cache = TemplateCache(server)  # type: ignore[arg-type]
    assert cache.entries == {
        good_key: {"db": good, "migrations": 3, "created": 1.0, "last_used": 2}
    }
    assert server.dropped == [other]


@pytest.mark.parametrize("text", ["[]", '{"format": 99, "templates": {}}', "{", '{"format": true}'])
def test_an_unusable_template_index_is_empty(tmp_path: Path, text: str) -> None:
    (tmp_path / "templates.json").write_text(text)
    cache = TemplateCache(FakeServer(tmp_path))  # type: ignore[arg-type]
    assert cache.entries == {}


def test_the_action_keeps_its_cache_in_the_jobs_temporary_directory(tmp_path: Path) -> None:
    """No cache survives the job: a fork's job cannot leave entries for a trusted one."""
    from test_action import Run as ActionRun

    fake = tmp_path / "fake-migcheck"
    fake.write_text('#!/usr/bin/env bash\necho "cache=$MIGCHECK_CACHE_DIR"\n')
    fake.chmod(0o755)
    workspace, temp = tmp_path / "ws", tmp_path / "tmp"
    workspace.mkdir()
    temp.mkdir()
    run = ActionRun(workspace=workspace, temp=temp, env={"GITHUB_BASE_REF": "main"})
    run.outputs["install"] = {"migcheck": str(fake)}
    proc = run.step("lint")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [f"cache={temp}/migcheck-cache"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_a_fifo_or_link_at_an_entry_path_is_a_miss(project: Path, tmp_path: Path) -> None:
    """A restored cache may hold anything: reading an entry never blocks or follows."""
    cache = tmp_path / "cache"
    cold = migcheck(project, cache, "db")
    (entry,) = entries(cache)
    for plant in (lambda p: os.mkfifo(p), lambda p: p.symlink_to("/dev/zero")):
        entry.unlink()
        plant(entry)
        warm = migcheck(project, cache, "db")
        assert (warm.code, warm.out, warm.err) == (cold.code, cold.out, cold.err)
        assert entry.is_file() and not entry.is_symlink()  # replaced by a real entry
