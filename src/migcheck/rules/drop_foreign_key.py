"""drop-foreign-key: dropping a FOREIGN KEY stops PostgreSQL from enforcing the reference
(and its ON DELETE / ON UPDATE actions) for the app version still running."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._dropped_constraint import dropped, replaced
from migcheck.rules._locking import indent
from migcheck.rules._opcalls import name, string, table_args, word
from migcheck.schema import ConstraintInfo


class DropForeignKey(Rule):
    id = "drop-foreign-key"
    category = "data"
    # Often intended (a table leaves the schema, the reference moves): a reviewer's call.
    severity = "info"
    summary = "Dropping a FOREIGN KEY stops integrity enforcement (and ON DELETE actions)"
    kinds = frozenset({"drop_constraint"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        con = dropped(op, ctx, ("foreign_key",))
        if con is None or replaced(con, stmt, ctx, ("foreign_key",)):
            return
        t = qname(con.table)
        cols = ", ".join(ident(c) for c in con.columns) or "…"
        ref = qname(con.ref_table) if con.ref_table else "the referenced table"
        yield self.finding(
            stmt,
            f"Dropping foreign key {qname(con.name)} of {t} ({cols} → {ref}): PostgreSQL no "
            f"longer rejects rows of {t} that reference no row of {ref}, nor deletes of "
            f"{ref} rows still referenced, and its ON DELETE / ON UPDATE actions stop. Rows "
            "orphaned from now on make adding the key back fail until they are cleaned up. "
            f"The drop takes a brief ACCESS EXCLUSIVE lock on {t} and on {ref}.",
            "If the reference still holds, keep the key. To change it, add the new one NOT "
            f"VALID before dropping the old one, and validate it in the next {word(ctx)}:\n"
            + _replace(ctx, con, cols),
            op,
        )


def _replace(ctx: Context, con: ConstraintInfo, cols: str) -> str:
    """The new key added NOT VALID, then the old one dropped, in the user's tool."""
    if ctx.tool != "alembic":
        return indent(
            f"ALTER TABLE {ident(con.table)} ADD CONSTRAINT <new_fk> FOREIGN KEY ({cols}) "
            f"REFERENCES {ident(con.ref_table) if con.ref_table else '…'} (…) NOT VALID;",
            f"ALTER TABLE {ident(con.table)} DROP CONSTRAINT {ident(con.name)};",
        )
    t, schema = table_args(con.table)
    ref = table_args(con.ref_table)[0] if con.ref_table else '"<referenced table>"'
    local = ", ".join(string(c) for c in con.columns) or '"<column>"'
    # The history keeps the referenced table, not its columns.
    remote = '"<referenced column>"'
    return (
        f'    op.create_foreign_key("<new_fk>", {t}, {ref}, [{local}], [{remote}]{schema}, '
        "postgresql_not_valid=True)\n"
        f'    op.drop_constraint({name(con.name)}, {t}, type_="foreignkey"{schema})'
    )
