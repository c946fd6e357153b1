"""drop-table: dropping a table the running app still reads or writes."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import INDEX_KEY_SEP, Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste


class DropTable(Rule):
    id = "drop-table"
    category = "compatibility"
    severity = "error"
    summary = "Dropping a table breaks the app version still running and loses its rows"
    kinds = frozenset({"drop_table"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        # The parser gives one op per name of ``DROP TABLE a, b``, so each table is judged
        # on its own: a new scratch table next to an old one does not hide the old one.
        info = ctx.table(op.table)
        if info is not None and info.kind != "table":
            return  # DROP TABLE on a view fails in Postgres; nothing is dropped
        if ctx.is_new_table(op.table):
            return  # created in this deploy: no running code knows it
        if info is None and (op.table or "").rpartition(".")[2].startswith("_alembic_tmp_"):
            # The scratch copy Alembic's batch mode builds (and leaves behind when a batch
            # fails on SQLite); no app queries it, and no revision of the history made it.
            return
        t = qname(op.table)
        cascade = (
            ", and CASCADE also drops the views and foreign keys that depend on it"
            if op.options.get("cascade")
            else ""
        )
        first = {
            "prisma": f"1. Mark the model of {t} `@@ignore` in schema.prisma and deploy: Prisma "
            "Client stops reading and writing it, and no migration is needed",
            "alembic": f"1. Remove the model class (or Table) of {t} from the SQLAlchemy models "
            "first, and deploy that code",
        }.get(ctx.tool, f"1. Ship app code that no longer reads or writes {t}")
        later = {
            "prisma": "2. In a later migration, once no old instance is left, remove the model "
            "from schema.prisma and drop the table (`prisma migrate dev` writes it):",
            "alembic": "2. In a later deploy, once no old instance is left, drop it in a new "
            "revision:",
        }.get(ctx.tool, "2. In a later deploy, once no old instance is left, drop it:")
        copy = _copied_out(op.table, ctx)
        lost = "every row in it is lost"
        if copy is not None:
            line, into = copy
            lost = f"what line {line} did not copy from it into {qname(into)} first is lost with it"
        swap = _renamed_into_place(op.table, ctx)
        if swap is not None:
            # The name stays, so the old app does not get "does not exist"; what the copy
            # left out (and what was written after it) is still gone.
            line, source = swap
            yield self.finding(
                stmt,
                f"Dropping table {t} and renaming {qname(source)} into its place (line "
                f"{line}) replaces the table under the app version still running: "
                f"{lost}{_after_copy(t) if copy is not None else ''}{cascade}.",
                f"Change {t} in place with ALTER TABLE (drop or add the constraint, column or "
                "default) instead of rebuilding it.\n"
                "If it must be rebuilt, block writes before the copy so none is lost (reads "
                "continue; writes wait until the transaction commits):\n"
                + paste(ctx, f"LOCK TABLE {t} IN SHARE MODE;"),
                op,
            )
            return
        yield self.finding(
            stmt,
            f"Dropping table {t}: the app version still running queries it and fails with "
            f'relation "{op.table}" does not exist until every instance is replaced, and '
            f"{lost}{cascade}.",
            "Drop the table in two deploys:\n"
            f"{first}; keep a backup if the data may be needed "
            f"(pg_dump --table='{t}').\n"
            f"{later}\n" + paste(ctx, f"DROP TABLE {t};"),
            op,
        )


def _after_copy(t: str) -> str:
    return f", along with every write the old app makes to {t} between the copy and this drop"


def _renamed_into_place(table: str | None, ctx: Context) -> tuple[int, str] | None:
    """A later statement of this migration that renames another table to ``table``'s name
    (the rebuild: copy into a new table, drop the old one, rename the new one): its line
    and the table renamed."""
    if not table:
        return None
    schema, _, name = table.rpartition(".")
    for s in ctx.later_statements():
        for o in s.ops:
            if o.kind != "rename_table" or not o.table or not o.new_name:
                continue
            # RENAME TO takes a bare name: the table stays in its own schema.
            if o.new_name.rpartition(".")[2] == name and o.table.rpartition(".")[0] == schema:
                return s.span.line, o.table
    return None


def _copied_out(table: str | None, ctx: Context) -> tuple[int, str] | None:
    """The last statement of this migration before the drop that copies rows of ``table``
    into another table (``INSERT INTO b SELECT … FROM a``, ``UPDATE b SET x = (SELECT …
    FROM a)``): its line and target. A copy may be partial (a WHERE), so the message
    says what is lost, not that nothing is."""
    for s in reversed(ctx.earlier_statements()):
        for o in s.ops:
            reads = o.options.get("reads")
            if o.kind not in ("insert", "update") or not isinstance(reads, str) or not o.table:
                continue
            if table is not None and table in reads.split(INDEX_KEY_SEP):
                return s.span.line, o.table
    return None
