"""``--alembic-import``: import a revision and run its functions for full fidelity.

Opt-in only, because importing runs the revision's module-level code and whatever the
application modules it imports do. ``alembic.op`` is pointed (through its ``_proxy``
global, the hook Alembic itself uses) at a proxy that renders each call with the
offline ``Recorder`` and finds the calling line by walking the stack to the revision
file's frame. Any failure is reported to the caller, which falls back to static reading.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from .positions import same_file
from .recorder import NON_EMITTING, BatchSpec, Recorder
from .revfile import RevisionFile
from .sink import Sink


class ImportFailed(Exception):
    """Importing the revision or running one of its functions raised."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().split("\n", 1)[0]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Calls:
    """Finds the ``ast.Call`` for a frame position in the revision file."""

    def __init__(self, tree: ast.Module) -> None:
        self.by_pos: dict[tuple[int, int], ast.Call] = {}
        self.by_line: dict[int, list[ast.Call]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self.by_pos[(node.lineno, node.col_offset)] = node
                self.by_line.setdefault(node.lineno, []).append(node)

    def find(self, frame: FrameType, method: str | None) -> ast.AST:
        code = frame.f_code
        positions = getattr(code, "co_positions", None)
        if positions is not None and frame.f_lasti >= 0:
            try:
                pos = list(positions())[frame.f_lasti // 2]
            except IndexError:
                pos = (None, None, None, None)
            if pos[0] is not None and pos[2] is not None:
                node = self.by_pos.get((pos[0], pos[2]))
                if node is not None:
                    return node
        line = frame.f_lineno
        candidates = self.by_line.get(line, [])
        for node in candidates:
            if method and isinstance(node.func, ast.Attribute) and node.func.attr == method:
                return node
        if candidates:
            return candidates[0]
        return ast.Pass(lineno=line, col_offset=0, end_lineno=line, end_col_offset=0)


class _Recording:
    """Shared state of one run: where chunks go and whether autocommit is on."""

    def __init__(self, rev: RevisionFile, recorder: Recorder, calls: _Calls) -> None:
        self.rev = rev
        self.recorder = recorder
        self.calls = calls
        self.sink: Sink | None = None
        self.autocommit = False

    def _frames(self) -> list[FrameType]:
        frames: list[FrameType] = []
        frame: FrameType | None = sys._getframe(2)
        filename = str(self.rev.path)
        cache: dict[str, bool] = {}
        while frame is not None:
            name = frame.f_code.co_filename
            if name not in cache:
                cache[name] = name == filename or same_file(name, filename)
            if cache[name]:
                frames.append(frame)
            frame = frame.f_back
        return frames

    def record(
        self,
        method: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        batch: BatchSpec | None,
        label: str,
    ) -> Any:
        frames = self._frames()
        sql, result = self.recorder.call(method, args, kwargs, batch)
        if sql and self.sink is not None:
            if frames:
                node = self.calls.find(frames[0], method)
                sites = [self.calls.find(f, None) for f in frames[1:]]
            else:
                node, sites = ast.Pass(lineno=1, col_offset=0, end_lineno=1, end_col_offset=0), []
            start = None
            executed = args[0] if args else None
            text = executed if isinstance(executed, str) else getattr(executed, "text", None)
            if method == "execute" and isinstance(node, ast.Call) and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Call) and arg.args:
                    arg = arg.args[0]
                if isinstance(arg, ast.Constant) and arg.value == text:
                    assert self.rev.source is not None
                    sql = str(arg.value)  # the string as written is what reaches the server
                    start = self.rev.source.string_content_start(arg)
            self.sink.chunk(
                node,
                sql,
                call_sites=sites,
                autocommit=self.autocommit,
                origin=f"{label}.{method}",
                sql_start=start,
            )
        return result


class _Batch:
    def __init__(self, recording: _Recording, spec: BatchSpec) -> None:
        self._recording = recording
        self._spec = spec

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_"):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._recording.record(name, args, kwargs, self._spec, "batch_op")

        return call


class _Context:
    def __init__(self, recording: _Recording) -> None:
        self._recording = recording

    @contextmanager
    def autocommit_block(self) -> Iterator[None]:
        saved = self._recording.autocommit
        self._recording.autocommit = True
        try:
            yield
        finally:
            self._recording.autocommit = saved

    @property
    def bind(self) -> _Connection:
        return _Connection(self._recording)

    connection = bind

    def __getattr__(self, name: str) -> Any:
        return getattr(self._recording.recorder.context, name)


class _Connection:
    def __init__(self, recording: _Recording) -> None:
        self._recording = recording

    def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> None:
        if parameters and hasattr(statement, "bindparams"):
            statement = statement.bindparams(**parameters)
        self._recording.record("execute", (statement,), {}, None, "connection")

    exec_driver_sql = execute

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"{name}: no database connection in offline rendering")


class _Op:
    """Installed as ``alembic.op._proxy`` while a revision runs."""

    def __init__(self, recording: _Recording) -> None:
        self._recording = recording

    @contextmanager
    def batch_alter_table(self, table_name: str, **kwargs: Any) -> Iterator[_Batch]:
        yield _Batch(self._recording, BatchSpec(table=table_name, kwargs=kwargs))

    def get_context(self) -> _Context:
        return _Context(self._recording)

    def get_bind(self) -> _Connection:
        return _Connection(self._recording)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        operations = self._recording.recorder.operations
        if name in NON_EMITTING:
            return getattr(operations, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            return self._recording.record(name, args, kwargs, None, "op")

        return call


@contextmanager
def _environment(sys_path: list[Path], proxy: _Op) -> Iterator[None]:
    import alembic.op as op_module

    saved_path = list(sys.path)
    saved_proxy = op_module.__dict__.get("_proxy")
    # A lint must not leave __pycache__ directories in the user's migrations folder.
    saved_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = True
    for entry in reversed(sys_path):
        text = str(entry)
        if text not in sys.path:
            sys.path.insert(0, text)
    op_module.__dict__["_proxy"] = proxy
    try:
        yield
    finally:
        sys.path[:] = saved_path
        sys.dont_write_bytecode = saved_bytecode
        if saved_proxy is None:
            op_module.__dict__.pop("_proxy", None)
        else:
            op_module.__dict__["_proxy"] = saved_proxy


def _failure_line(exc: BaseException, path: Path) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if same_file(tb.tb_frame.f_code.co_filename, str(path)):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_imported(
    rev: RevisionFile, functions: list[str], sys_path: list[Path], recorder: Recorder
) -> dict[str, Sink]:
    """Import ``rev`` and run each of ``functions``; a Sink per function it defines."""
    assert rev.tree is not None and rev.source is not None
    digest = hashlib.sha1(str(rev.path).encode()).hexdigest()[:12]
    module_name = f"_migcheck_alembic_{digest}"
    spec = importlib.util.spec_from_file_location(module_name, rev.path)
    if spec is None or spec.loader is None:
        raise ImportFailed("cannot create an import spec for the file")
    recording = _Recording(rev, recorder, _Calls(rev.tree))
    sinks: dict[str, Sink] = {}
    with _environment(sys_path, _Op(recording)):
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            try:
                spec.loader.exec_module(module)
            except (Exception, SystemExit) as exc:
                raise ImportFailed(
                    f"importing failed: {_describe(exc)}", _failure_line(exc, rev.path)
                ) from None
            for name in functions:
                function = getattr(module, name, None)
                if not callable(function):
                    continue
                sink = Sink(rev.display, rev.source)
                recording.sink = sink
                recording.autocommit = False
                try:
                    function()
                except (Exception, SystemExit) as exc:
                    raise ImportFailed(
                        f"`{name}()` failed: {_describe(exc)}", _failure_line(exc, rev.path)
                    ) from None
                sinks[name] = sink
        finally:
            sys.modules.pop(module_name, None)
    return sinks
