"""Seeding for the rehearsal: every table of the Prisma fixture (enums, foreign keys,
unique keys, json, timestamps) filled set-based with no constraint error, and a CHECK
that rejects the made-up values named, with what could be seeded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from migcheck.live.cache import TemplateCache
from migcheck.live.opening import open_server
from migcheck.live.plan import plan_migration
from migcheck.live.server import Server
from migcheck.rehearse.seed import seed
from migcheck.rehearse.tables import read_tables
from migcheck.runner import RunRequest, discover_histories

pytest.importorskip("psycopg", reason="the live extra is not installed")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(dsn: str) -> Iterator[Server]:
    with open_server(dsn=dsn) as opened:
        yield opened


def _base(server: Server, path: Path) -> str:
    histories, errors = discover_histories(RunRequest(paths=[str(path)]))
    assert not errors and len(histories) == 1
    history = histories[0]
    template = TemplateCache(server).obtain(
        [plan_migration(history, m) for m in history.migrations]
    )
    assert template.failure is None and template.db is not None
    work = server.new_name("work")
    server.create_database(work, template=template.db)
    return work


def test_every_table_of_the_prisma_fixture_seeds_without_a_constraint_error(
    server: Server,
) -> None:
    work = _base(server, ROOT / "fixtures/prisma/prisma/migrations")
    with server.connect_runner(work) as conn:
        tables = read_tables(conn)
        names = {t.qualname for t in tables.values()}
        assert {"public.User", "public.Membership", "public.Task", "public.Order"} <= names
        result = seed(conn, tables, {oid: 500 for oid in tables})
        assert result.problems == []
        assert result.rows == {name: 500 for name in names}
        for table in tables.values():
            row = conn.execute(f"SELECT count(*) FROM {table.sql}").fetchone()
            assert row is not None and row[0] == 500, table.qualname
        # Enums cycle through their labels; references point at seeded parents.
        statuses = conn.execute('SELECT count(DISTINCT status) FROM "Task"').fetchone()
        assert statuses is not None and statuses[0] == 3
        orphans = conn.execute(
            'SELECT count(*) FROM "Task" t LEFT JOIN "Project" p ON p.id = t."projectId"'
            " WHERE p.id IS NULL"
        ).fetchone()
        assert orphans is not None and orphans[0] == 0


def test_a_check_that_rejects_the_values_is_named_and_the_rest_seeded(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "001.sql").write_text(
        "CREATE TABLE parts (id int PRIMARY KEY, qty int NOT NULL,"
        " CONSTRAINT qty_even CHECK (qty % 2 = 0));\n"
        "CREATE TABLE kinds (code text PRIMARY KEY, part int NOT NULL REFERENCES parts,"
        " tags text[], doc jsonb, born timestamptz, ref uuid UNIQUE);\n"
    )
    work = _base(server, tmp_path)
    with server.connect_runner(work) as conn:
        tables = read_tables(conn)
        by_name = {t.name: oid for oid, t in tables.items()}
        result = seed(conn, tables, {by_name["parts"]: 100, by_name["kinds"]: 50})
        assert result.rows["public.parts"] == 50
        kinds = result.rows["public.kinds"]
        assert result.problems == [
            "public.parts: CHECK constraint qty_even rejected the seeded values; kept the 50 "
            "rows of 100 that every CHECK accepts",
            f"public.kinds: seeded {kinds} rows of 50: the others referenced rows a parent "
            "table could not seed",
        ]
        assert 0 < kinds < 50
        orphans = conn.execute(
            "SELECT count(*) FROM kinds LEFT JOIN parts ON parts.id = kinds.part"
            " WHERE parts.id IS NULL"
        ).fetchone()
        assert orphans is not None and orphans[0] == 0


def test_the_seeded_template_is_cached_by_base_and_volume(server: Server, tmp_path: Path) -> None:
    from migcheck.live.cache import TemplateCache
    from migcheck.rehearse.options import RehearseOptions
    from migcheck.rehearse.runner import RehearseResult, seeded_template

    (tmp_path / "001.sql").write_text("CREATE TABLE t (id int PRIMARY KEY, v text);\n")
    histories, _ = discover_histories(RunRequest(paths=[str(tmp_path)]))
    plans = [plan_migration(histories[0], m) for m in histories[0].migrations]
    cache = TemplateCache(server)
    base = cache.obtain(plans)
    assert base.db is not None
    change = [plan_migration(histories[0], histories[0].migrations[0])]

    def seeded(rows: int) -> tuple[str, RehearseResult]:
        result = RehearseResult()
        assert base.db is not None
        db = seeded_template(
            result,
            server,
            cache,
            base.db,
            base.info.key,
            1,
            change,
            [],
            RehearseOptions(rows=rows),
            None,
            None,
            None,
        )
        return db, result

    first, cold = seeded(300)
    again, warm = seeded(300)
    other, bigger = seeded(400)
    assert (cold.seed_cached, warm.seed_cached, bigger.seed_cached) == (False, True, False)
    assert first == again != other
    assert warm.seeded == cold.seeded == {"public.t": 300}
    with server.connect(other) as conn:
        row = conn.execute("SELECT count(*) FROM public.t").fetchone()
        assert row is not None and row[0] == 400
    # No build database is left behind by a cache hit.
    assert not [name for name in server.databases() if "_build_" in name]


def test_a_seeded_template_outlives_the_run_on_our_own_cluster(
    tmp_path: Path, cache_dir: str
) -> None:
    from migcheck.rehearse.options import RehearseOptions
    from migcheck.rehearse.runner import RehearseResult, seeded_template

    (tmp_path / "001.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    histories, _ = discover_histories(RunRequest(paths=[str(tmp_path)]))
    plans = [plan_migration(histories[0], m) for m in histories[0].migrations]
    results = []
    for _ in range(2):
        with open_server(cache_dir=cache_dir) as embedded:
            cache = TemplateCache(embedded)
            base = cache.obtain(plans)
            assert base.db is not None
            result = RehearseResult()
            seeded_template(
                result,
                embedded,
                cache,
                base.db,
                base.info.key,
                1,
                plans,
                [],
                RehearseOptions(rows=10),
                None,
                None,
                None,
            )
            results.append(result)
    assert [r.seed_cached for r in results] == [False, True]
    assert results[1].seeded == {"public.t": 10}
