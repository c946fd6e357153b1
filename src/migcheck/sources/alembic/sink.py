"""Where rendering puts its results for one revision: SQL chunks, notes, and what the
revision states about columns as they were before it (``existing_type=``...)."""

from __future__ import annotations

import ast
from collections.abc import Iterable

from migcheck.sources import SqlChunk

from .notes import AlembicNote
from .positions import SourceMap, make_chunk


class Sink:
    """Collects the chunks and notes of one function (``upgrade``/``downgrade``)."""

    def __init__(self, display: str, source: SourceMap) -> None:
        self.display = display
        self.source = source
        self.chunks: list[SqlChunk] = []
        self.notes: list[AlembicNote] = []
        # table -> column -> {"type": SQL type, "nullable": bool}: what ``alter_column``'s
        # ``existing_*`` arguments say about the column before this function changed it.
        self.facts: dict[str, dict[str, dict[str, object]]] = {}
        self._seen: set[tuple[int, str]] = set()

    def fact(self, table: str, column: str, info: dict[str, object]) -> None:
        """Record a column's state before the function; for each property the first
        statement that states it wins, since a later one may describe the column after
        an earlier change."""
        if not info:
            return
        known = self.facts.setdefault(table, {}).setdefault(column, {})
        for key, value in info.items():
            known.setdefault(key, value)

    def note(self, where: ast.AST | int, message: str) -> None:
        """Record a note once per (line, message), e.g. once for a call in a loop."""
        if isinstance(where, int):
            line, column = where, 1
        else:
            line, column = self.source.start(where)
        if (line, message) in self._seen:
            return
        self._seen.add((line, message))
        self.notes.append(AlembicNote(self.display, line, column, message))

    def chunk(
        self,
        node: ast.AST,
        sql: str,
        *,
        call_sites: Iterable[ast.AST] = (),
        autocommit: bool = False,
        origin: str = "",
        sql_start: tuple[int, int] | None = None,
    ) -> None:
        self.chunks.append(
            make_chunk(
                self.source,
                node,
                sql,
                call_sites=call_sites,
                autocommit=autocommit,
                origin=origin,
                sql_start=sql_start,
            )
        )
