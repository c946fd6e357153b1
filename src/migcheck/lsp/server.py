"""The pygls language server: document events in, diagnostics, code actions and hover out.

Every handler lints the editor's buffer (never the file on disk) through
``histories.Workspace``; an edit that changes what later files see re-publishes the
open files after it. A handler never lets an exception out to the editor: a buffer
migcheck cannot lint gets one diagnostic saying so (pygls would otherwise report the
traceback as a window message).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from migcheck import __version__
from migcheck.lsp.diagnostics import Lines, contains, diagnostics, hover_text
from migcheck.lsp.fixes import fixes_for
from migcheck.lsp.histories import Linted, Workspace
from migcheck.report.escape import visible

log = logging.getLogger(__name__)


@dataclass
class _Published:
    """The last result published for one document, for code actions and hover."""

    linted: Linted
    text: str
    diagnostics: list[types.Diagnostic] = field(default_factory=list)


class MigcheckServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("migcheck", __version__)
        self.ws = Workspace([])
        self.published: dict[str, _Published] = {}


server = MigcheckServer()


def _path(uri: str) -> str | None:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


def _text(ls: MigcheckServer, uri: str) -> str:
    return ls.workspace.get_text_document(uri).source


def _lint(ls: MigcheckServer, uri: str, text: str) -> str | None:
    """Lint and publish one document; returns its path when it is a migration."""
    path = _path(uri)
    linted: Linted | None = None
    if path is not None:
        try:
            linted = ls.ws.lint(path, text)
        except Exception as err:
            # A bug must not take the server (and every other file's diagnostics) down.
            log.exception("linting %s", visible(path))
            linted = Linted(path)
            from migcheck.model import InputError

            name = type(err).__name__
            linted.errors = [
                InputError(path, f"migcheck: internal error: {name}: {visible(str(err))[:300]}")
            ]
    if linted is None:
        ls.published.pop(uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
        return None
    found = diagnostics(linted.findings, linted.errors, text)
    ls.published[uri] = _Published(linted, text, found)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=found))
    return path


def _lint_with_later(ls: MigcheckServer, uri: str) -> None:
    path = _lint(ls, uri, _text(ls, uri))
    if path is None:
        return
    for later in ls.ws.later_open(path):
        later_uri = next((u for u in ls.published if _path(u) and _same(_path(u), later)), None)
        if later_uri is not None:
            _lint(ls, later_uri, _text(ls, later_uri))


def _same(a: str | None, b: str) -> bool:
    import os

    return a is not None and os.path.realpath(a) == b


@server.feature(types.INITIALIZE)
def _initialize(ls: MigcheckServer, params: types.InitializeParams) -> None:
    roots = [p for f in params.workspace_folders or [] if (p := _path(f.uri))]
    if not roots and params.root_uri and (p := _path(params.root_uri)):
        roots = [p]
    if not roots and params.root_path:
        roots = [params.root_path]
    ls.ws = Workspace(roots)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def _did_open(ls: MigcheckServer, params: types.DidOpenTextDocumentParams) -> None:
    _lint_with_later(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def _did_change(ls: MigcheckServer, params: types.DidChangeTextDocumentParams) -> None:
    _lint_with_later(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def _did_save(ls: MigcheckServer, params: types.DidSaveTextDocumentParams) -> None:
    shown = ls.published.get(params.text_document.uri)
    if shown is not None and shown.linted.tool == "alembic":
        # A saved revision may have a new down_revision: its history's order is read
        # again from disk.
        ls.ws.forget(shown.linted.path)
    _lint_with_later(ls, params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def _did_close(ls: MigcheckServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    path = _path(uri)
    if path is not None:
        ls.ws.close(path)
    ls.published.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def _code_action(ls: MigcheckServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    uri = params.text_document.uri
    shown = ls.published.get(uri)
    if shown is None or not shown.linted.sql:
        return []
    lines = Lines(shown.text)
    wanted = params.range
    out: list[types.CodeAction] = []
    seen: set[str] = set()
    for finding, diag in zip(
        shown.linted.findings, shown.diagnostics[len(shown.linted.errors) :], strict=True
    ):
        if not _overlaps(diag.range, wanted):
            continue
        for fix in fixes_for(finding, shown.linted.statements, shown.text, shown.linted.tool):
            if fix.title in seen:
                continue
            seen.add(fix.title)
            edits = [
                types.TextEdit(types.Range(lines.at_offset(a), lines.at_offset(b)), new)
                for a, b, new in fix.edits
            ]
            out.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diag],
                    edit=types.WorkspaceEdit(changes={uri: edits}),
                )
            )
    return out


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return contains(a, b.start) or contains(a, b.end) or contains(b, a.start)


@server.feature(types.TEXT_DOCUMENT_HOVER)
def _hover(ls: MigcheckServer, params: types.HoverParams) -> types.Hover | None:
    shown = ls.published.get(params.text_document.uri)
    if shown is None:
        return None
    hits = [d for d in shown.diagnostics if contains(d.range, params.position) and d.code]
    text = hover_text([str(d.code) for d in hits])
    if text is None:
        return None
    return types.Hover(
        contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
        range=hits[0].range,
    )


def serve() -> None:
    """Speak LSP on stdin/stdout until the editor says exit."""
    server.start_io()
