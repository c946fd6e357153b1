"""Alembic's real ``Operations`` in offline (``as_sql``) mode, one call at a time.

Every call's output is captured separately (the buffer is reset before each call) so a
chunk of SQL maps to exactly one Python call. The context is configured the way a
standard ``env.py`` configures offline mode (``literal_binds``) but with
``transactional_ddl=False`` so Alembic adds no BEGIN/COMMIT (migcheck models
transactions itself), and with a ``named`` paramstyle so ``%`` in SQL is not doubled.

Batch operations run through Alembic's real batch context, one context per call: on
PostgreSQL ``recreate="auto"`` emits ordinary ALTER statements at the end of the block,
so a block per call yields the same SQL with per-call provenance.

Alembic and SQLAlchemy are imported when a ``Recorder`` is created, never at import time.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

# Operations methods that build values or contexts rather than emit SQL.
NON_EMITTING = frozenset({"f", "inline_literal", "get_context", "get_bind", "batch_alter_table"})
# Operations methods that exist but make no sense while reading a revision.
REFUSED = frozenset({"invoke", "implementation_for", "register_operation", "run_async", "context"})


@dataclass
class BatchSpec:
    """The arguments of one ``op.batch_alter_table(...)``."""

    table: object
    kwargs: dict[str, Any] = field(default_factory=dict)


class Recorder:
    """Renders single Alembic operations to PostgreSQL SQL text."""

    def __init__(self) -> None:
        from alembic.operations import Operations
        from alembic.runtime.migration import MigrationContext

        self._buffer = io.StringIO()
        self.context = MigrationContext.configure(
            dialect_name="postgresql",
            dialect_opts={"paramstyle": "named"},
            opts={
                "as_sql": True,
                "output_buffer": self._buffer,
                "transactional_ddl": False,
                "literal_binds": True,
            },
        )
        self.operations = Operations(self.context)

    def has_operation(self, name: str) -> bool:
        return (
            not name.startswith("_")
            and name not in REFUSED
            and callable(getattr(self.operations, name, None))
        )

    def call(
        self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], batch: BatchSpec | None
    ) -> tuple[str, Any]:
        """Run one operation; return the SQL it emitted and its return value."""
        self._buffer.seek(0)
        self._buffer.truncate()
        # Alembic and SQLAlchemy warn about arguments other dialects use (MySQL's
        # autoincrement, SQLite's batch options); they are not the user's problem here
        # and would clutter the linter's stderr.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if batch is None:
                result = getattr(self.operations, name)(*args, **kwargs)
            else:
                with self.operations.batch_alter_table(batch.table, **batch.kwargs) as batch_op:  # type: ignore[arg-type]
                    result = getattr(batch_op, name)(*args, **kwargs)
        return self._buffer.getvalue().strip(), result

    def compile(self, element: Any) -> str:
        """SQL for a SQLAlchemy construct, binds rendered inline when possible."""
        dialect = self.context.dialect
        # SQLAlchemy's warnings (an SAWarning about a construct in someone's revision) are
        # not the linter's output: printed raw, they would also carry input unescaped.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                compiled = element.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            except Exception:  # a bind without a literal renderer: keep the placeholder
                compiled = element.compile(dialect=dialect)
            return str(compiled).strip()

    def compile_type(self, type_: Any) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return str(type_.compile(dialect=self.context.dialect))

    def conv(self, name: object) -> Any:
        return self.operations.f(name)  # type: ignore[arg-type]

    def inline_literal(self, value: object) -> Any:
        return self.operations.inline_literal(value)  # type: ignore[arg-type]
