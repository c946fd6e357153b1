"""``migcheck server`` driven over stdio by pygls' client, as an editor drives it:
diagnostics on open/change/save, code actions, hover, and what gets none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from lsprotocol import types
from tests.lsp_client import Editor, RawServer, apply, prisma_history, run

from helpers import cli

INDEX = '-- CreateIndex\nCREATE INDEX "User_email_idx" ON "User"("email");\n'


def _prisma(root: Path) -> dict[str, Path]:
    migrations = root / "prisma" / "migrations"
    files = {
        "init": 'CREATE TABLE "User" (id bigint PRIMARY KEY, email text, "orgId" bigint);\n'
        'CREATE TABLE "Org" (id bigint PRIMARY KEY);\n',
        "idx": INDEX,
        "nn": 'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n',
    }
    out = {}
    for n, (name, body) in enumerate(files.items()):
        folder = migrations / f"2024010{n + 1}000000_{name}"
        folder.mkdir(parents=True)
        (folder / "migration.sql").write_text(body)
        out[name] = folder / "migration.sql"
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    return out


def _where(d: types.Diagnostic) -> tuple[object, int, int, int, int]:
    r = d.range
    return d.code, r.start.line, r.start.character, r.end.line, r.end.character


def test_open_publishes_rule_id_severity_exact_range_and_help(tmp_path: Path) -> None:
    files = _prisma(tmp_path)

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"])
        (d,) = await ed.diagnostics(uri)
        # Line 2 of the file, from CREATE to the closing parenthesis (48 characters).
        assert _where(d) == ("non-concurrent-index", 1, 0, 1, 48)
        assert d.severity == types.DiagnosticSeverity.Error
        assert d.source == "migcheck"
        assert "without CONCURRENTLY" in d.message
        assert "How to fix:" in d.message
        # Closing clears them; opening again (the history was let go) lints afresh.
        ed.close(uri)
        assert await ed.diagnostics(uri) == []
        ed.open(files["idx"], text='ALTER TABLE "User" DROP COLUMN "email";\n')
        assert [d.code for d in await ed.diagnostics(uri)] == ["drop-column"]
        await ed.stop()

    run(scenario)


def test_edits_to_the_safe_form_clear_the_diagnostic_full_and_incremental(tmp_path: Path) -> None:
    files = _prisma(tmp_path)

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"])
        assert [d.code for d in await ed.diagnostics(uri)] == ["non-concurrent-index"]
        # Incremental sync: type " CONCURRENTLY" after INDEX (a single-statement Prisma
        # migration runs outside a transaction, so this is the safe form).
        ed.edit(uri, (1, 12), (1, 12), " CONCURRENTLY")
        assert await ed.diagnostics(uri) == []
        # Full sync: back to the unsafe text, then a second unsafe statement.
        ed.replace(uri, INDEX + 'CREATE INDEX "User_org_idx" ON "User"("orgId");\n')
        found = await ed.diagnostics(uri)
        assert [(d.code, d.range.start.line) for d in found] == [
            ("non-concurrent-index", 1),
            ("non-concurrent-index", 2),
        ]
        # Saving publishes again, from the buffer (the file on disk is unchanged).
        ed.save(uri)
        assert len(await ed.diagnostics(uri)) == 2
        await ed.stop()

    run(scenario)


def test_the_open_buffer_is_linted_not_the_file_on_disk(tmp_path: Path) -> None:
    files = _prisma(tmp_path)

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"], text='ALTER TABLE "User" DROP COLUMN "email";\n')
        assert [_where(d) for d in await ed.diagnostics(uri)] == [("drop-column", 0, 19, 0, 38)]
        await ed.stop()

    run(scenario)


def test_an_edit_to_an_earlier_file_relints_the_open_files_after_it(tmp_path: Path) -> None:
    files = _prisma(tmp_path)

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        later = ed.open(files["nn"])
        assert [d.code for d in await ed.diagnostics(later)] == ["set-not-null"]
        first = ed.open(files["init"])
        assert await ed.diagnostics(first) == []
        # The column is now created NOT NULL: the later SET NOT NULL changes nothing.
        text = files["init"].read_text().replace("email text", "email text NOT NULL")
        ed.replace(first, text)
        assert await ed.diagnostics(first) == []
        assert await ed.diagnostics(later) == []
        # An edit that leaves the operations as they were (a comment) re-lints only
        # the edited file: the next publication for the later file is the one below.
        ed.replace(first, "-- a comment\n" + text)
        assert await ed.diagnostics(first) == []
        ed.replace(first, text.replace("email text NOT NULL", "email text"))
        assert await ed.diagnostics(first) == []
        assert [d.code for d in await ed.diagnostics(later)] == ["set-not-null"]
        await ed.stop()

    run(scenario)


def test_code_actions_give_the_rewritten_text(tmp_path: Path) -> None:
    files = _prisma(tmp_path)
    fk = 'ALTER TABLE "User" ADD CONSTRAINT "User_orgId_fkey" FOREIGN KEY ("orgId") REFERENCES "Org"("id");\n'

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"], text=INDEX + fk)
        found = await ed.diagnostics(uri)
        assert [d.code for d in found] == ["non-concurrent-index", "constraint-without-not-valid"]
        text = INDEX + fk
        by_title = {a.title: a for a in await ed.actions(uri, found[0].range)}
        concurrently = next(a for t, a in by_title.items() if t.startswith("Add CONCURRENTLY"))
        # Two statements in one Prisma migration: the title says it needs its own.
        assert "migration of its own" in concurrently.title
        assert concurrently.edit is not None and concurrently.edit.changes is not None
        assert apply(text, concurrently.edit.changes[uri]) == text.replace(
            "CREATE INDEX", "CREATE INDEX CONCURRENTLY"
        )
        timeout = by_title["Prepend SET lock_timeout = '5s'"]
        assert timeout.edit is not None and timeout.edit.changes is not None
        assert apply(text, timeout.edit.changes[uri]) == text.replace(
            "CREATE INDEX", "SET lock_timeout = '5s';\nCREATE INDEX"
        )
        split = [a for a in await ed.actions(uri, found[1].range) if a.title.startswith("Split")]
        assert len(split) == 1 and split[0].edit is not None and split[0].edit.changes
        fixed = apply(text, split[0].edit.changes[uri])
        assert fixed == INDEX + (
            'ALTER TABLE "User" ADD CONSTRAINT "User_orgId_fkey" FOREIGN KEY ("orgId") '
            'REFERENCES "Org"("id") NOT VALID;\n'
            'ALTER TABLE "User" VALIDATE CONSTRAINT "User_orgId_fkey";\n'
        )
        # The rewritten text no longer has the finding the action answered.
        ed.replace(uri, fixed)
        codes = [d.code for d in await ed.diagnostics(uri)]
        assert "constraint-without-not-valid" not in codes
        await ed.stop()

    run(scenario)


def test_drop_index_action_and_none_where_unsure(tmp_path: Path) -> None:
    files = _prisma(tmp_path)
    sql = 'CREATE INDEX CONCURRENTLY "i" ON "User"("email");\n'

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["nn"], text='DROP INDEX "User_email_idx";\n')
        (d,) = await ed.diagnostics(uri)
        assert d.code == "non-concurrent-drop-index"
        (action,) = [a for a in await ed.actions(uri, d.range) if "CONCURRENTLY" in a.title]
        # Alone in its migration: it runs outside a transaction, no warning needed.
        assert action.title == "Add CONCURRENTLY"
        assert action.edit is not None and action.edit.changes is not None
        fixed = apply('DROP INDEX "User_email_idx";\n', action.edit.changes[uri])
        assert fixed == 'DROP INDEX CONCURRENTLY "User_email_idx";\n'
        # CASCADE cannot go with CONCURRENTLY: no rewrite is offered.
        ed.replace(uri, sql + 'DROP INDEX "User_email_idx" CASCADE;\n')
        found = [d for d in await ed.diagnostics(uri) if d.code == "non-concurrent-drop-index"]
        assert found
        titles = [a.title for a in await ed.actions(uri, found[0].range)]
        assert not any("CONCURRENTLY" in t for t in titles)
        await ed.stop()

    run(scenario)


def test_hover_on_a_diagnostic_gives_the_rule_doc(tmp_path: Path) -> None:
    files = _prisma(tmp_path)

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"])
        await ed.diagnostics(uri)
        hover = await ed.hover(uri, 1, 5)
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert hover.contents.kind == types.MarkupKind.Markdown
        doc = (Path(__file__).parent.parent / "rules" / "non-concurrent-index.md").read_text()
        assert hover.contents.value == doc.strip()
        assert await ed.hover(uri, 0, 3) is None  # the comment line has no finding
        await ed.stop()

    run(scenario)


def test_files_that_are_not_migrations_get_no_diagnostics(tmp_path: Path) -> None:
    files = _prisma(tmp_path)
    (tmp_path / "queries").mkdir()
    query = tmp_path / "queries" / "report.sql"
    query.write_text('CREATE INDEX "x" ON "User"("email");\n')
    module = tmp_path / "app.py"
    module.write_text("print('hi')\n")
    outside = tmp_path.parent / f"{tmp_path.name}-outside" / "migrations"
    outside.mkdir(parents=True)
    (outside / "001.sql").write_text("DROP TABLE users;\n")

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        for path in (query, module, outside / "001.sql"):
            uri = ed.open(path)
            assert await ed.diagnostics(uri) == []
        # The server is still serving the migrations.
        uri = ed.open(files["idx"])
        assert [d.code for d in await ed.diagnostics(uri)] == ["non-concurrent-index"]
        await ed.stop()

    run(scenario)


def test_plain_sql_under_a_migrations_folder_is_linted(tmp_path: Path) -> None:
    folder = tmp_path / "db" / "migrations"
    folder.mkdir(parents=True)
    (folder / "001_users.sql").write_text("CREATE TABLE users (id bigint, email text);\n")
    second = folder / "002_drop.sql"
    second.write_text("ALTER TABLE users DROP COLUMN email;\n")

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(second)
        assert [_where(d) for d in await ed.diagnostics(uri)] == [("drop-column", 0, 18, 0, 35)]
        await ed.stop()

    run(scenario)


def test_an_alembic_revision_buffer_is_read_statically_and_gets_no_sql_rewrites(
    tmp_path: Path,
) -> None:
    import shutil

    shutil.copytree(
        Path(__file__).resolve().parent.parent / "fixtures" / "alembic", tmp_path / "app"
    )
    revision = next((tmp_path / "app").rglob("*8c4d2a6b9e31_add_nullable_profile_columns.py"))
    text = revision.read_text()
    drop = '    op.drop_column("users", "email")\n'
    edited = text.replace("def upgrade() -> None:\n", "def upgrade() -> None:\n" + drop)
    line = edited.splitlines().index(drop.rstrip("\n"))

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(revision)
        assert await ed.diagnostics(uri) == []
        ed.replace(uri, edited)
        (d,) = await ed.diagnostics(uri)
        assert (d.code, d.range.start.line, d.range.start.character) == ("drop-column", line, 4)
        assert await ed.actions(uri, d.range) == []  # a Python call: no SQL text edit
        ed.replace(uri, text)
        assert await ed.diagnostics(uri) == []
        await ed.stop()

    run(scenario)


def test_config_file_selects_rules_like_check_and_a_bad_one_is_one_diagnostic(
    tmp_path: Path,
) -> None:
    files = _prisma(tmp_path)
    (tmp_path / "migcheck.toml").write_text('ignore = ["non-concurrent-index"]\n')

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"])
        assert await ed.diagnostics(uri) == []
        await ed.stop()

    run(scenario)
    (tmp_path / "migcheck.toml").write_text('ignore = ["no-such-rule"\n')

    async def broken() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"])
        (d,) = await ed.diagnostics(uri)
        assert d.code == "input-error" and "config" in d.message
        assert d.severity == types.DiagnosticSeverity.Error
        await ed.stop()

    run(broken)


def test_hostile_buffers_never_crash_and_messages_carry_no_control_characters(
    tmp_path: Path,
) -> None:
    files = _prisma(tmp_path)
    # A sibling migration that is not UTF-8 on disk (read only as history).
    latin = tmp_path / "prisma" / "migrations" / "20240101500000_latin" / "migration.sql"
    latin.parent.mkdir()
    latin.write_bytes(b"COMMENT ON TABLE \"User\" IS 'caf\xe9';\n")
    hostile = (
        'ALTER TABLE "Us\x1b[31mer" DROP COLUMN "e\x07mail";\n'
        "\x00\x01\ufffd\ufffd binary \x7f\x9b garbage $$ unterminated\n"
    )

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(files["idx"], text=hostile)
        found = await ed.diagnostics(uri)
        assert found, "a drop and an unterminated dollar quote are findings"
        for d in found:
            assert not any(
                (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 for c in d.message
            )
        assert "\\x1b" in " ".join(d.message for d in found)
        ed.replace(uri, INDEX)
        assert [d.code for d in await ed.diagnostics(uri)] == ["non-concurrent-index"]
        await ed.stop()

    run(scenario)


def test_bytes_that_are_not_utf8_and_lone_surrogates_do_not_stop_the_server(
    tmp_path: Path,
) -> None:
    files = _prisma(tmp_path)
    uri = files["idx"].resolve().as_uri().encode()
    server = RawServer(tmp_path)
    opening = b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":'
    opening += b'{"uri":"%s","languageId":"sql","version":1,"text":"%s"}}}'
    # Not UTF-8: the message cannot be read; pygls says so (no input echoed), goes on.
    server.send_bytes(opening % (uri, b"DROP TABLE \xff\xfe;"))
    shown = server.read_until(lambda m: m.get("method") == "window/showMessage")
    assert "0xff" in str(shown)
    # A lone surrogate (what a non-UTF-8 file decodes to with surrogateescape).
    server.send_bytes(opening % (uri, b'-- \\udcff\\nCREATE INDEX a ON \\"User\\" (email);'))
    published = server.read_until(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    params = published["params"]
    assert isinstance(params, dict)
    assert [d["code"] for d in params["diagnostics"]] == ["non-concurrent-index"]
    assert server.close() == 0


def test_the_server_answers_like_check_on_every_fixture_migration(tmp_path: Path) -> None:
    """Same settings, rules and suppressions as `migcheck check` on the file."""
    root = Path(__file__).resolve().parent.parent
    paths = sorted((root / "fixtures" / "prisma").rglob("migration.sql"))[:8]
    paths += sorted((root / "fixtures" / "sql" / "migrations").glob("*.up.sql"))[:6]
    paths += sorted((root / "fixtures" / "alembic").rglob("versions/*.py"))[:6]

    def check(path: Path) -> set[tuple[str, int, int]]:
        # In this process: the server is the process under test, not `check`.
        data = json.loads(cli("check", "--format", "json", str(path), cwd=root).stdout)
        # Only the file's own: `check` also lists the Alembic reader's notes on the
        # other revisions it replays.
        return {
            (f["rule"], f["line"], f["column"])
            for f in data["findings"]
            if (root / f["path"]).resolve() == path.resolve()
        }

    expected = {p: check(p) for p in paths}
    assert any(expected.values())

    async def scenario() -> None:
        ed = Editor(root, cache=tmp_path / "cache")
        await ed.start()
        for path in paths:
            uri = ed.open(path)
            got = {
                (str(d.code), d.range.start.line + 1, d.range.start.character + 1)
                for d in await ed.diagnostics(uri)
            }
            assert got == expected[path], path
        await ed.stop()

    run(scenario)


def test_an_edit_in_an_800_migration_history_gets_new_diagnostics(tmp_path: Path) -> None:
    paths = prisma_history(tmp_path, 800)
    middle = paths[401]  # an ADD COLUMN on a table created 1 migration earlier

    async def scenario() -> None:
        ed = Editor(tmp_path)
        await ed.start()
        uri = ed.open(middle)
        assert await ed.diagnostics(uri) == []
        text = middle.read_text()
        ed.replace(uri, text + 'ALTER TABLE "T100" DROP COLUMN "name";\n')
        found = await ed.diagnostics(uri)
        assert [(d.code, d.range.start.line) for d in found] == [("drop-column", 2)]
        ed.replace(uri, text)
        assert await ed.diagnostics(uri) == []
        await ed.stop()

    run(scenario)


def test_help_does_not_import_pygls() -> None:
    code = (
        "import sys\n"
        "from migcheck.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "assert 'pygls' not in sys.modules and 'lsprotocol' not in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "server" in out.stdout
