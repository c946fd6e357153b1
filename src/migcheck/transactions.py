"""How each migration runner wraps a file in a transaction, and how we say so.

Runners differ, and the difference decides whether ``CREATE INDEX CONCURRENTLY`` works.
Each fact cites the runner's source it was read from:

* Flyway opens a transaction around each migration, except a script holding a statement
  its PostgreSQL parser marks as non-transactional (``CREATE/DROP INDEX CONCURRENTLY``,
  ``VACUUM``, …; ``migcheck.flyway`` has the exact rule and its sources). Such a script
  runs without a transaction; mixed with transactional statements it is refused unless
  ``mixed=true``. A ``.sql.conf`` ``executeInTransaction`` overrides the detection.
* dbmate opens a transaction around each migration (pkg/dbmate/db.go, ``Migrate``:
  ``doTransaction``) unless ``-- migrate:up transaction:false``; then it still sends the
  up section as one ``Exec``: an implicit transaction when it holds several statements.
* Diesel runs ``up.sql`` in a transaction (diesel_migrations/src/migration_harness.rs,
  ``run_migration``) unless ``metadata.toml`` says ``run_in_transaction = false``; then
  ``batch_execute`` still sends the file as one query (an implicit transaction).
* Alembic opens ONE transaction around every revision of a run (``alembic upgrade``),
  unless ``env.py`` passes ``transaction_per_migration=True``, in which case each
  revision gets its own. ``op.get_context().autocommit_block()`` commits the transaction
  in progress, runs its body outside any transaction, then begins a new transaction that
  lasts to the end of the revision (per-migration) or of the run (the default).
* Prisma Migrate (before 7.4) and golang-migrate send a multi-statement file as one
  query string (prisma-engines sql-schema-connector, postgres ``apply_migration_script``:
  ``client.simple_query(script)``; golang-migrate database/postgres/postgres.go, ``Run``:
  one ``ExecContext`` unless ``x-multi-statement=true``, which migcheck cannot see);
  PostgreSQL runs such a string as one implicit transaction block, so ``CONCURRENTLY``
  fails unless it is the file's only statement.
* Prisma 7.4 reportedly runs a migration containing ``CONCURRENTLY`` outside a
  transaction (prisma-engines PR 5767, merged February 2026). The release notes could
  not be checked from here, so the version is configurable and every finding that
  depends on it says which behaviour was assumed.

``TransactionPlan`` turns this into the ``Transaction`` each statement of a history runs
in, for the engine; ``runner_transaction`` is the per-migration part of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migcheck import flyway
from migcheck.context import Transaction
from migcheck.model import Statement
from migcheck.sources import History, Migration

if TYPE_CHECKING:
    from migcheck.model import Options

PRISMA_CONCURRENTLY_SINCE = (7, 4)
DO_NOTE = "a DO block runs as one transaction, committed when the block ends"


def _per_migration(history: History) -> bool:
    return history.settings.get("transaction_per_migration") is True


def _direction(migration: Migration) -> str:
    return "downgrade" if migration.notes.get("direction") == "downgrade" else "upgrade"


def _alembic_note(history: History, migration: Migration) -> str:
    if _per_migration(history):
        return "Alembic runs each revision in its own transaction (transaction_per_migration=True)"
    return (
        f"Alembic runs all the revisions of one `alembic {_direction(migration)}` in a single "
        "transaction (env.py does not set transaction_per_migration=True)"
    )


def runner_transaction(
    history: History, migration: Migration, statements: list[Statement], options: Options
) -> tuple[str | None, str]:
    """("runner" | "implicit" | None, a sentence describing the assumption)."""
    tool = history.tool
    # Alembic's behaviour is known exactly (env.py is read), so it wins over the generic
    # --assume-in-transaction, which only says "each file in a transaction".
    if tool == "alembic" and migration.runner_transaction:
        return "runner", _alembic_note(history, migration)
    if tool == "flyway" and migration.runner_transaction:
        decided = _flyway(migration, statements, options)
        if decided is not None:
            return decided
    if options.assume_in_transaction:
        return "runner", "the runner wraps each file in a transaction (--assume-in-transaction)"
    if migration.runner_transaction:
        names = {"flyway": "Flyway", "dbmate": "dbmate", "alembic": "Alembic", "diesel": "Diesel"}
        return "runner", f"{names.get(tool, 'the runner')} runs each migration inside a transaction"
    if not migration.notes.get("implicit_transaction"):
        return None, ""
    # What the runner sends: a DO block's body is part of its one statement.
    real = [
        s
        for s in statements
        if s.ops and s.ops[0].kind not in ("begin", "commit") and not s.embedded
    ]
    if len(real) <= 1:
        return None, "a single-statement file runs outside any transaction"
    if tool == "prisma":
        version = options.prisma_version or _version(history.settings.get("prisma_version"))
        if version is not None and version >= PRISMA_CONCURRENTLY_SINCE:
            return None, (
                f"Prisma {version[0]}.{version[1]} runs migrations that use CONCURRENTLY "
                "outside a transaction"
            )
        which = (
            f"Prisma {version[0]}.{version[1]}"
            if version is not None
            else "Prisma (version unknown, assumed older than 7.4)"
        )
        return "implicit", (
            f"{which} sends migration.sql as one script, which PostgreSQL runs as one "
            "implicit transaction"
        )
    if history.tool == "supabase":
        return "implicit", (
            "the Supabase CLI sends the file's statements as one batch, which PostgreSQL "
            "runs as one implicit transaction"
        )
    if tool == "dbmate":
        return "implicit", (
            "dbmate with transaction:false still sends the up section as one query, which "
            "PostgreSQL runs as one implicit transaction"
        )
    if tool == "diesel":
        return "implicit", (
            "Diesel with run_in_transaction = false still sends up.sql as one query "
            "(batch_execute), which PostgreSQL runs as one implicit transaction"
        )
    runner = {"golang-migrate": "golang-migrate"}.get(history.tool, "the runner")
    return "implicit", (
        f"{runner} sends the file as one multi-statement query, which PostgreSQL runs "
        "as one implicit transaction"
    )


def _flyway(
    migration: Migration, statements: list[Statement], options: Options
) -> tuple[str | None, str] | None:
    """Flyway's own decision for one script, or None when it runs in its transaction."""
    if migration.notes.get("execute_in_transaction") is True:
        return "runner", (
            "Flyway runs this migration inside a transaction (executeInTransaction=true "
            "in its .sql.conf)"
        )
    top = [s for s in statements if not s.embedded]
    outside = flyway.outside_statements([s.text for s in top], options.pg_version)
    if not outside:
        return None
    first = top[outside[0]]
    what = f"{flyway.detected(first.text, options.pg_version)} at line {first.span.line}"
    if len(outside) == len(top):
        return None, f"Flyway detects {what} and runs this script outside a transaction"
    return None, (
        f"Flyway detects {what}, which cannot run in a transaction, next to statements "
        "that can: it refuses such a script unless mixed=true is configured, and then "
        "runs every statement of it outside a transaction"
    )


class TransactionPlan:
    """The transaction each statement of one history runs in, as its runner runs it.

    The engine walks the history in order and, per migration, calls ``start_migration``;
    per statement, ``transaction_for`` (before judging it), then ``after`` (once it is
    applied). ``note`` is the sentence describing the assumption for the statement just
    placed (messages quote it).

    The model, per history:

    * A *run* is what one invocation of the runner applies: the migrations of one deploy
      (``engine._deploys``) in one direction. Only Alembic shares a transaction across
      migrations, and only within a run, and only without ``transaction_per_migration``;
      every other runner's transaction (and an implicit one) is per migration.
    * ``BEGIN`` in a file outside a transaction opens an explicit one; ``COMMIT`` or
      ``ROLLBACK`` ends the open one, and the runner's next statement starts a new one.
    * A statement flagged ``autocommit`` (Alembic's ``autocommit_block()``) commits the
      transaction in progress and runs on its own; the next ordinary statement runs in
      a new transaction of the runner's kind (Alembic begins one when the block ends).
    * The statements a ``DO`` block runs (``Statement.embedded``, placed right after it)
      run in the DO's transaction: one that runs outside any transaction block is one
      transaction of its own (PostgreSQL runs a top-level statement, DO included, in a
      transaction), so its body's statements share it (``DO_NOTE``).
    """

    def __init__(self, history: History, options: Options, deploys: list[int]) -> None:
        self.history = history
        self.options = options
        self.deploys = deploys
        self.note = ""
        self._counter = 0
        self._mode: str | None = None
        self._base_note = ""
        # The transaction open between statements, if any. None with a runner mode means
        # "committed by an autocommit block": the runner has begun a new one, which is
        # created when the next statement needs it.
        self._tx: Transaction | None = None
        # (deploy, direction) of the Alembic run whose transaction may continue into the
        # next migration; None when transactions do not cross migrations.
        self._run: tuple[int, str] | None = None
        # The last autocommit statement, and the transaction begun after it, so messages
        # can say where that transaction came from.
        self._block_end: Statement | None = None
        self._after_block: Transaction | None = None
        self._migration: Migration | None = None
        # The transaction of the last statement placed, which a DO's body shares.
        self._last: Transaction | None = None

    @property
    def opened(self) -> int:
        """How many transactions the walk has numbered so far."""
        return self._counter

    def resumable(self) -> bool:
        """Whether the next migration starts afresh: no transaction of the migrations
        before it can continue into it (only an Alembic run's can), so a walk that
        resumes there from a saved schema needs only ``opened`` (``resume``)."""
        return self._run is None

    def resume(self, opened: int) -> None:
        """Go on from a saved state in which ``opened`` transactions had been numbered."""
        self._counter = opened

    def _new(self, kind: str, explicit: bool = False) -> Transaction:
        self._counter += 1
        return Transaction(self._counter, explicit=explicit, kind=kind)

    def start_migration(self, index: int, migration: Migration, statements: list[Statement]) -> str:
        """Enter ``migration`` (``history.migrations[index]``); returns its runner note."""
        mode, note = runner_transaction(self.history, migration, statements, self.options)
        run: tuple[int, str] | None = None
        if (
            mode == "runner"
            and self.history.tool == "alembic"
            and migration.runner_transaction
            and not _per_migration(self.history)
        ):
            run = (self.deploys[index], _direction(migration))
        if run is None or run != self._run or self._mode != mode:
            # A new run (or a runner without cross-migration transactions): whatever the
            # previous migration left open was committed when it ended.
            self._tx = self._new(mode) if mode is not None else None
            self._block_end = self._after_block = None
        self._run = run
        self._mode = mode
        self._base_note = self.note = note
        self._migration = migration
        return note

    def transaction_for(self, stmt: Statement) -> Transaction:
        """The transaction ``stmt`` runs in (an ``autocommit`` one when it runs outside)."""
        last = self._last
        if stmt.embedded and last is not None and last.kind in ("autocommit", "do"):
            # Verified in tests/live/test_live_transaction_facts.py: a DO that adds an
            # enum value cannot use it ("unsafe use of new value").
            last.kind = "do"
            self.note = DO_NOTE
            return last
        self._last = self._place(stmt)
        return self._last

    def _place(self, stmt: Statement) -> Transaction:
        if stmt.autocommit:
            # The block commits whatever is open; its statements each commit on their own.
            self._tx = None
            self._block_end = stmt
            self.note = self._base_note
            return self._new("autocommit")
        if self._tx is None and self._mode is not None:
            self._tx = self._new(self._mode)
            if self._block_end is not None:
                self._after_block = self._tx
        first = stmt.first_op
        if first is not None and first.kind == "begin" and self._tx is None:
            self._tx = self._new("explicit", explicit=True)
        if self._tx is None:
            self.note = self._base_note
            return self._new("autocommit")
        after = self._after_block is not None and self._tx is self._after_block
        self.note = self._after_block_note() if after else self._base_note
        return self._tx

    def after(self, stmt: Statement) -> None:
        """``stmt`` has run: a COMMIT/ROLLBACK ends the open transaction."""
        first = stmt.first_op
        if first is not None and first.kind in ("commit", "rollback") and not stmt.autocommit:
            self._tx = self._new(self._mode) if self._mode is not None else None
            self._block_end = self._after_block = None

    def _after_block_note(self) -> str:
        block = self._block_end
        if block is None:
            return self._base_note
        here = self._migration is not None and block.path == self._migration.path
        where = f"line {block.span.line}" if here else f"{block.path}:{block.span.line}"
        scope = "revision" if _per_migration(self.history) else "run"
        return (
            "Alembic commits before an autocommit_block() and begins a new transaction "
            f"after it (the block ending at {where}), which lasts to the end of the {scope}"
        )


def _version(value: object) -> tuple[int, int] | None:
    if isinstance(value, (tuple, list)) and len(value) >= 2:
        try:
            return int(value[0]), int(value[1])
        except (TypeError, ValueError):
            return None
    return None
