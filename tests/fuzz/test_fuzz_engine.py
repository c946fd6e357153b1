"""Fuzz the whole lint pipeline: generated migration histories through the engine API,
and generated files (raw bytes included) through the runner the CLI uses. Nothing may
raise, and every finding points inside the file it names."""

from __future__ import annotations

import os
import tempfile

from fuzz_strategies import raw_bytes, sql_files
from hypothesis import given
from hypothesis import strategies as st
from test_fuzz_split import assert_inside

from migcheck.engine import Options, lint
from migcheck.rules import all_rules
from migcheck.runner import RunRequest, run
from migcheck.settings import Settings
from migcheck.sources import History, Migration

TOOLS = ["sql", "prisma", "alembic", "golang-migrate", "flyway", "dbmate"]


@given(
    files=st.lists(sql_files(), min_size=1, max_size=4),
    selected=st.lists(st.booleans(), min_size=4, max_size=4),
    tool=st.sampled_from(TOOLS),
    runner_transaction=st.booleans(),
    pg=st.sampled_from([11, 12, 14, 18]),
    changeset=st.sampled_from([None, True, False]),
    assume_in_transaction=st.booleans(),
)
def test_engine_lints_any_history(
    files: list[str],
    selected: list[bool],
    tool: str,
    runner_transaction: bool,
    pg: int,
    changeset: bool | None,
    assume_in_transaction: bool,
) -> None:
    migrations = [
        Migration(
            path=f"db/{i + 1:03d}.sql",
            key=f"{i + 1:03d}",
            tool=tool,
            runner_transaction=runner_transaction,
            selected=selected[i] or i == len(files) - 1,
            text=text,
        )
        for i, text in enumerate(files)
    ]
    history = History(root="db", tool=tool, migrations=migrations)
    options = Options(
        pg_version=pg,
        rules=list(all_rules()),
        changeset=changeset,
        assume_in_transaction=assume_in_transaction,
    )
    result = lint([history], options)
    texts = {m.path: m.text or "" for m in migrations}
    for finding in result.findings:
        assert finding.rule in all_rules()
        assert finding.path in texts, finding
        assert_inside(finding.span, texts[finding.path])


@given(st.lists(raw_bytes, min_size=1, max_size=3), st.sampled_from(["text", "dir"]))
def test_runner_lints_any_files(contents: list[bytes], how: str) -> None:
    with tempfile.TemporaryDirectory(prefix="migcheck-fuzz-") as root:
        db = os.path.join(root, "db")
        os.mkdir(db)
        names = []
        for i, data in enumerate(contents):
            name = os.path.join(db, f"{i + 1:03d}_m.sql")
            with open(name, "wb") as fh:
                fh.write(data)
            names.append(name)
        result = run(
            RunRequest(paths=[db] if how == "dir" else names, settings=Settings(max_file_size=0.1))
        )
        for error in result.errors:
            assert error.message and "\n" not in error.message
        for finding in result.findings:
            data = contents[int(os.path.basename(finding.path)[:3]) - 1]
            assert_inside(finding.span, data.decode("utf-8").removeprefix("\ufeff"))
