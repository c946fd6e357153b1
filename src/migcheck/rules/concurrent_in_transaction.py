"""concurrent-in-transaction: a CONCURRENTLY command (or VACUUM) that PostgreSQL refuses
to run in a transaction block, inside one (explicit BEGIN, the runner's, or a
multi-statement file's implicit transaction), or inside a DO block or function; and a DO
block that COMMITs or ROLLBACKs while inside a transaction block."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck import flyway
from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.rules import Rule
from migcheck.rules._locking import outside_tx_advice, sql_of, why_in_transaction
from migcheck.rules._opcalls import autocommit, concurrent_call

# The command name PostgreSQL puts in its error, by op kind. REFRESH MATERIALIZED VIEW
# CONCURRENTLY is absent on purpose: ExecRefreshMatView never calls
# PreventInTransactionBlock, so it runs fine inside a transaction.
_COMMAND = {
    "create_index": "CREATE INDEX CONCURRENTLY",
    "drop_index": "DROP INDEX CONCURRENTLY",
    "reindex": "REINDEX CONCURRENTLY",
    "detach_partition": "ALTER TABLE … DETACH PARTITION … CONCURRENTLY",
    # Not a CONCURRENTLY command, but refused the same way (ExecVacuum calls
    # PreventInTransactionBlock), in a transaction block and in a DO block or function.
    "vacuum": "VACUUM",
}
_ERROR = {
    "detach_partition": "ALTER TABLE ... DETACH CONCURRENTLY",
}


class ConcurrentInTransaction(Rule):
    id = "concurrent-in-transaction"
    category = "locking"
    severity = "error"
    summary = (
        "CONCURRENTLY, VACUUM or a DO that COMMITs, in a transaction block: the migration fails"
    )
    kinds = frozenset(_COMMAND) | {"do"}

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.kind == "do":
            yield from self._do_commits(op, stmt, ctx)
            return
        # Applies to new tables too: PostgreSQL refuses the command whatever the table.
        if not (op.concurrently or op.kind == "vacuum"):
            return
        if stmt.embedded:
            yield self._in_function(op, stmt, ctx)
            return
        if not ctx.in_transaction:
            yield from self._flyway_mixed(op, stmt, ctx)
            return
        command = _COMMAND[op.kind]
        error = _ERROR.get(op.kind, command)
        message = (
            f"{command} cannot run inside a transaction block, and this one runs inside one "
            f'({why_in_transaction(ctx)}): PostgreSQL rejects it with "ERROR: {error} cannot '
            'run inside a transaction block" and the migration fails.'
        )
        if ctx.tool == "alembic":
            help_ = (
                "Run it in an autocommit block, outside the revision's transaction:\n"
                + autocommit([concurrent_call(op, sql_of(stmt))])
            )
        else:
            help_ = outside_tx_advice(ctx)
        yield self.finding(stmt, message, help_, op)

    def _do_commits(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        """A DO block may COMMIT or ROLLBACK only when it is not itself inside a
        transaction block (verified in tests/live/test_live_transaction_facts.py)."""
        if not ctx.in_transaction or stmt.embedded:
            return
        word = _transaction_end(op.body or "")
        if word is None:
            return
        message = (
            f"This DO block runs {word}, which PL/pgSQL allows only when the block is not "
            f"inside a transaction block, and this one is ({why_in_transaction(ctx)}): "
            'PostgreSQL rejects it with "ERROR: invalid transaction termination" and the '
            "migration fails."
        )
        help_ = (
            f"Take the {word} out of the DO block: split the work into separate statements "
            "(or separate migrations) instead of committing from PL/pgSQL. "
            + outside_tx_advice(ctx)
        )
        yield self.finding(stmt, message, help_, op)

    def _in_function(self, op: Op, stmt: Statement, ctx: Context) -> Finding:
        """PreventInTransactionBlock refuses any call that is not top level, in or out of
        a transaction block (verified in tests/live/test_live_transaction_facts.py)."""
        command = _COMMAND[op.kind]
        error = _ERROR.get(op.kind, command)
        parent = _parent(ctx)
        where = "this DO block" if parent == "do" else "this function, when it is called,"
        message = (
            f"{command} cannot run inside a DO block or a function, and {where} runs it: "
            f'PostgreSQL rejects it with "ERROR: {error} cannot be executed from a '
            'function", whether or not a transaction is open.'
        )
        help_ = (
            "Write the statement at the top level of the migration, outside the DO block or "
            "function (IF NOT EXISTS / IF EXISTS make it idempotent without PL/pgSQL), and "
            "run it outside any transaction block."
        )
        return self.finding(stmt, message, help_, op)

    def _flyway_mixed(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        """Flyway runs a script with this statement outside a transaction, and refuses it
        when other statements of the script could run in one (``migcheck.flyway``)."""
        migration = ctx.migration
        if (
            migration.tool != "flyway"
            or not migration.runner_transaction
            or "execute_in_transaction" in migration.notes
            or stmt.embedded
        ):
            return
        top = [s.text for s in ctx.statements if not s.embedded]
        outside = flyway.outside_statements(top, ctx.pg_version)
        if len(outside) == len(top) or not flyway.non_transactional(stmt.text, ctx.pg_version):
            return
        message = (
            f"Flyway runs {_COMMAND[op.kind]} outside a transaction, but this script also "
            'holds statements it runs in one: Flyway refuses the migration with "Detected '
            "both transactional and non-transactional statements within the same migration "
            '(even though mixed is false)" unless mixed=true is configured, and with '
            "mixed=true every statement of the script runs on its own, so a failure halfway "
            "leaves the earlier ones applied."
        )
        help_ = (
            "Put this statement alone in its own migration (V<n>__<name>.sql): Flyway then "
            "runs it outside a transaction by itself."
        )
        yield self.finding(stmt, message, help_, op)


_END_WORDS = frozenset({"COMMIT", "ROLLBACK"})
_CHAIN = frozenset({"AND", "NO", "CHAIN"})
# PL/pgSQL words after which a statement starts within the same ``;``-chunk.
_CONTROL = frozenset({"BEGIN", "THEN", "ELSE", "LOOP"})


def _transaction_end(body: str) -> str | None:
    """``COMMIT`` or ``ROLLBACK`` when the PL/pgSQL body runs one as a statement: a chunk
    whose words after its last control word (labels ``<<name>>`` left out) are
    ``COMMIT``/``ROLLBACK`` [``AND [NO] CHAIN``]."""
    # Only DO blocks reach here: a run of plain DDL never loads the PL/pgSQL reader.
    from migcheck.dynamic.lexer import lex, unwrap

    words: list[str] = []
    label = False
    for tok in [*lex(unwrap(body)[0]), None]:
        if tok is None or tok.kind == ";":
            starts = [i + 1 for i, w in enumerate(words) if w in _CONTROL]
            rest = words[starts[-1] if starts else 0 :]
            if rest and rest[0] in _END_WORDS and _CHAIN.issuperset(rest[1:]):
                return rest[0]
            words = []
        elif tok.text in ("<<", ">>"):
            label = tok.text == "<<"
        elif tok.kind == "word" and not label:
            words.append(tok.value.upper())
    return None


def _parent(ctx: Context) -> str | None:
    """The op kind of the statement whose body holds the embedded statement being checked
    (``do`` or ``create_function``): the nearest earlier statement that is not embedded."""
    for earlier in reversed(ctx.earlier_statements()):
        if not earlier.embedded:
            first = earlier.first_op
            return first.kind if first is not None else None
    return None
