"""rename-table: renaming a table (or moving it, or renaming its whole schema) while the
running app still queries it by its old name."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname, quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import execute, one_transaction, paste, same_transaction, table_args

_CREATE_VIEW = frozenset({"create_view"})


class RenameTable(Rule):
    id = "rename-table"
    category = "compatibility"
    severity = "error"
    summary = "Renaming a table breaks the app version still running that uses the old name"
    # SET SCHEMA moves the table: its old qualified name is gone just the same. ALTER
    # SCHEMA … RENAME does that to every table of the schema at once.
    kinds = frozenset({"rename_table", "set_schema", "rename_schema"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.kind == "rename_schema":
            yield from self._schema(op, stmt, ctx)
            return
        info = ctx.table(op.table)
        if info is not None and info.kind != "table":
            return  # ALTER TABLE v RENAME TO w on a view: rename-view's finding
        if ctx.is_new_table(op.table):
            return
        # Renaming and leaving a view under the old name, in the same transaction, is the
        # safe form: the old app's queries go through the (auto-updatable) view.
        if ctx.recreated_in_transaction(op.table, _CREATE_VIEW):
            return
        new_name = op.new_name
        if op.kind == "set_schema":
            if not op.table or not op.new_name:
                return
            new_name = f"{op.new_name}.{op.table.rsplit('.', 1)[-1]}"
        old, new = qname(op.table), qname(new_name)
        keep = (
            f"With Prisma, rename only the model and keep the table: "
            f'`@@map("{op.table}")` needs no migration at all.\n'
            if ctx.is_prisma
            else ""
        )
        yield self.finding(
            stmt,
            f"{'Moving' if op.kind == 'set_schema' else 'Renaming'} table {old} to {new}: "
            f"the app version still running queries {old} "
            f'and fails with relation "{op.table}" does not exist until every instance is '
            "replaced.",
            f"{keep}"
            f"{'Move' if op.kind == 'set_schema' else 'Rename'} it and leave a view under the "
            f"old name {same_transaction(ctx)}; a simple view is updatable, so the old app's "
            "reads and writes keep working:\n"
            f"{_sequence(op, ctx, old, new)}\n"
            f"Then ship app code that uses {new}, and drop the view in a later deploy:\n"
            + paste(ctx, f"DROP VIEW {old};"),
            op,
        )

    def _schema(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        old, new = op.name, op.new_name
        if not old or not new or ctx.is_new(ctx.schema.schemas.get(old)):
            return
        prefix = old + "."
        tables = sorted(n for n, t in ctx.schema.tables.items() if n.startswith(prefix))
        # A schema the history created and left empty breaks no query.
        if old in ctx.schema.schemas and not tables:
            return
        example = tables[0] if tables else f"{old}.…"
        named = ""
        if tables:
            shown = ", ".join(qname(t) for t in tables[:3])
            more = f" and {len(tables) - 3} more" if len(tables) > 3 else ""
            named = f" ({shown}{more})"
        yield self.finding(
            stmt,
            f"Renaming schema {qname(old)} to {qname(new)}: every query of the app version "
            f"still running that names {quote(old)}.<object>{named} fails with "
            f'relation "{example}" does not exist until every instance is replaced.',
            "A schema has no alias. Rename it in two deploys: first ship app code that does "
            "not name the schema and finds its objects through a search_path listing both "
            "names (PostgreSQL skips the one that does not exist):\n"
            + _search_path(ctx, old, new)
            + "\nthen rename it, and drop the old name from search_path in a later deploy:\n"
            + paste(ctx, f"ALTER SCHEMA {ident(old)} RENAME TO {ident(new)};"),
            op,
        )


def _statement(op: Op, old: str, new: str) -> str:
    """The statement itself, as the safe sequence repeats it."""
    if op.kind == "set_schema":
        return f"ALTER TABLE {old} SET SCHEMA {qname(op.new_name)};"
    return f"ALTER TABLE {old} RENAME TO {new};"


def _sequence(op: Op, ctx: Context, old: str, new: str) -> str:
    """The rename and the view under the old name, in one transaction: an Alembic
    revision already runs in one, so it needs no BEGIN."""
    view = f"CREATE VIEW {old} AS SELECT * FROM {new};"
    if ctx.tool != "alembic":
        return one_transaction(ctx, _statement(op, old, new), view)
    if op.kind == "rename_table" and op.table and op.new_name:
        name, schema = table_args(op.table)
        bare, _ = table_args(op.new_name)
        move = f"    op.rename_table({name}, {bare}{schema})"
        # RENAME TO keeps the table in its schema: the view must name it there, not
        # wherever search_path finds the bare new name.
        prefix = op.table.rpartition(".")[0]
        if prefix:
            view = f"CREATE VIEW {old} AS SELECT * FROM {qname(f'{prefix}.{op.new_name}')};"
    else:
        move = execute(_statement(op, old, new))
    return f"{move}\n{execute(view)}"


def _search_path(ctx: Context, old: str, new: str) -> str:
    """Where the app sets its search_path: a database setting is not part of a revision,
    so Alembic users set it on the app's connection."""
    path = f"{ident(old)}, {ident(new)}, public"
    if ctx.tool == "alembic":
        return (
            "    # on the app's engine (not in the revision): create_engine(url, "
            f'connect_args={{"options": "-c search_path={path.replace(" ", "")}"}})'
        )
    return paste(ctx, f"SET search_path = {path};")
