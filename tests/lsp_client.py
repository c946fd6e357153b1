"""An editor in a test: pygls' LanguageClient driving ``python -m migcheck server`` over
stdio, as VS Code or Neovim would. Diagnostics arrive as notifications; ``diagnostics``
waits for the next publication for a document (a guard timeout, never a timing assert)."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

GUARD = 120.0  # seconds before a test gives up instead of hanging: not a timing assert


class Editor:
    def __init__(self, root: Path, cache: Path | None = None) -> None:
        self.root = root
        self.cache = cache or root / ".cache-migcheck"
        self.client = LanguageClient("migcheck-test", "1")
        self.queues: dict[str, asyncio.Queue[list[types.Diagnostic]]] = {}
        self.versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def _published(params: types.PublishDiagnosticsParams) -> None:
            self._queue(params.uri).put_nowait(list(params.diagnostics))

    def _queue(self, uri: str) -> asyncio.Queue[list[types.Diagnostic]]:
        return self.queues.setdefault(uri, asyncio.Queue())

    async def start(self) -> None:
        env = {**os.environ, "MIGCHECK_CACHE_DIR": str(self.cache)}
        await self.client.start_io(
            sys.executable, "-m", "migcheck", "server", cwd=str(self.root), env=env
        )
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=self.root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(self.root.as_uri(), "root")],
            )
        )
        self.client.initialized(types.InitializedParams())

    async def stop(self) -> None:
        await self.client.shutdown_async(None)
        self.client.exit(None)
        await self.client.stop()

    def uri(self, path: Path) -> str:
        return path.resolve().as_uri()

    def open(self, path: Path, text: str | None = None) -> str:
        uri = self.uri(path)
        self.versions[uri] = 1
        body = path.read_text(encoding="utf-8") if text is None else text
        item = types.TextDocumentItem(uri=uri, language_id="sql", version=1, text=body)
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(item))
        return uri

    def replace(self, uri: str, text: str) -> None:
        """A full-text change (what an editor with full sync sends)."""
        self._change(uri, [types.TextDocumentContentChangeWholeDocument(text=text)])

    def edit(self, uri: str, start: tuple[int, int], end: tuple[int, int], text: str) -> None:
        """An incremental change of one range (0-based line, UTF-16 character)."""
        rng = types.Range(types.Position(*start), types.Position(*end))
        self._change(uri, [types.TextDocumentContentChangePartial(range=rng, text=text)])

    def _change(self, uri: str, changes: list[types.TextDocumentContentChangeEvent]) -> None:
        self.versions[uri] += 1
        doc = types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri])
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(doc, changes))

    def save(self, uri: str) -> None:
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    def close(self, uri: str) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri))
        )

    async def diagnostics(self, uri: str) -> list[types.Diagnostic]:
        return await asyncio.wait_for(self._queue(uri).get(), GUARD)

    async def actions(self, uri: str, rng: types.Range) -> list[types.CodeAction]:
        result = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri),
                range=rng,
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        return [a for a in result or [] if isinstance(a, types.CodeAction)]

    async def hover(self, uri: str, line: int, character: int) -> types.Hover | None:
        return await self.client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(line, character))
        )


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII buffers: UTF-16 units are characters) as an editor does."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(pos: types.Position) -> int:
        return starts[pos.line] + pos.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end) :]
    return text


def run(scenario) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(scenario())


def prisma_history(root: Path, n: int) -> list[Path]:
    """A Prisma project of ``n`` migrations as Prisma writes them (tables, their indexes,
    foreign keys, added columns); every index is created with its table, so the history
    is quiet. Returns the migration.sql paths in order."""
    migrations = root / "prisma" / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "migration_lock.toml").write_text('provider = "postgresql"\n')
    paths = []
    for i in range(n):
        folder = migrations / f"{20240101000000 + i}_step_{i}"
        folder.mkdir()
        t = f"T{i // 4}"
        if i % 4 == 0:
            body = (
                f'-- CreateTable\nCREATE TABLE "{t}" (\n    "id" BIGSERIAL NOT NULL,\n'
                f'    "name" TEXT,\n    "ref" BIGINT,\n\n    CONSTRAINT "{t}_pkey" PRIMARY KEY ("id")\n);\n\n'
                f'-- CreateIndex\nCREATE INDEX "{t}_name_idx" ON "{t}"("name");\n'
            )
        elif i % 4 == 1:
            body = f'-- AlterTable\nALTER TABLE "{t}" ADD COLUMN "extra{i}" TEXT;\n'
        elif i % 4 == 2:
            body = (
                f'-- CreateTable\nCREATE TABLE "{t}_log" ("id" BIGINT NOT NULL, "at" TIMESTAMP(3));\n\n'
                f'-- CreateIndex\nCREATE INDEX "{t}_log_at_idx" ON "{t}_log"("at");\n'
            )
        else:
            body = f'-- AlterTable\nALTER TABLE "{t}" ADD COLUMN "flag{i}" BOOLEAN;\n'
        path = folder / "migration.sql"
        path.write_text(body)
        paths.append(path)
    return paths


class RawServer:
    """``migcheck server`` spoken to byte by byte, for what a well-behaved client
    library refuses to send (bytes that are not UTF-8, lone surrogates)."""

    def __init__(self, root: Path) -> None:
        import subprocess

        env = {**os.environ, "MIGCHECK_CACHE_DIR": str(root / ".cache-migcheck")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "migcheck", "server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=root,
            env=env,
        )
        self.send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"capabilities": {}, "rootUri": root.as_uri()},
            }
        )
        assert self.read_until(lambda m: m.get("id") == 1)
        self.send({"method": "initialized", "params": {}})

    def send_bytes(self, body: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def send(self, message: dict[str, object]) -> None:
        import json

        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def read(self) -> dict[str, object]:
        import json

        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("ascii").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        assert length, "the server closed its output"
        message: dict[str, object] = json.loads(self.proc.stdout.read(length))
        return message

    def read_until(self, wanted) -> dict[str, object]:  # type: ignore[no-untyped-def]
        """Messages until one ``wanted`` accepts (the others are dropped)."""
        while True:
            message = self.read()
            if wanted(message):
                return message

    def close(self) -> int:
        self.send({"id": 99, "method": "shutdown"})
        self.read_until(lambda m: m.get("id") == 99)
        self.send({"method": "exit"})
        return self.proc.wait(GUARD)
