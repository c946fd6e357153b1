"""Rendering one revision's function (``upgrade``/``downgrade``) to SQL chunks.

Static reading is the default. With ``import_revisions`` the revision is imported and
run instead; if that fails, a note says what failed and the static reading is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migcheck.sources import SqlChunk

from .notes import AlembicNote
from .recorder import Recorder
from .revfile import RevisionFile
from .sink import Sink

Facts = dict[str, dict[str, dict[str, object]]]


@dataclass
class Rendered:
    """Chunks per function name (absent: the revision does not define it), and per
    function the columns' prior state its ``alter_column`` calls declare (``Sink.facts``)."""

    chunks: dict[str, list[SqlChunk]] = field(default_factory=dict)
    notes: list[AlembicNote] = field(default_factory=list)
    facts: dict[str, Facts] = field(default_factory=dict)


def render_static(rev: RevisionFile, functions: list[str], recorder: Recorder | None) -> Rendered:
    # Imported here: a run whose revisions all come from the render cache never needs the
    # evaluator, and importing it is a noticeable part of that run's start-up.
    from .evaluate import Evaluator

    out = Rendered()
    assert rev.source is not None
    for name in functions:
        sink = Sink(rev.display, rev.source)
        # A fresh evaluator per function: module-level values must not carry state
        # (appended lists, reassigned names) from upgrade() into downgrade().
        if Evaluator(rev, sink, recorder).run(name):
            out.chunks[name] = sink.chunks
            if sink.facts:
                out.facts[name] = sink.facts
        out.notes.extend(sink.notes)
    return out


def render_revision(
    rev: RevisionFile,
    functions: list[str],
    recorder: Recorder | None,
    *,
    import_revisions: bool = False,
    sys_path: list[Path] | None = None,
) -> Rendered:
    if import_revisions and recorder is not None:
        from .importmode import ImportFailed, render_imported

        try:
            sinks = render_imported(rev, functions, sys_path or [], recorder)
        except ImportFailed as exc:
            static = render_static(rev, functions, recorder)
            note = AlembicNote(
                rev.display,
                exc.line or 1,
                1,
                f"--alembic-import: {exc.message}; the revision is read statically instead",
            )
            static.notes.insert(0, note)
            return static
        out = Rendered()
        for name, sink in sinks.items():
            out.chunks[name] = sink.chunks
            out.notes.extend(sink.notes)
        return out
    return render_static(rev, functions, recorder)
