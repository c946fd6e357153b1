"""drop-key-constraint: dropping a PRIMARY KEY or UNIQUE constraint (or a unique index)
that the running app's INSERT … ON CONFLICT, its uniqueness assumptions and logical
replication rely on."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import ident, qname
from migcheck.rules import Rule
from migcheck.rules._dropped_constraint import adds_primary_key, dropped
from migcheck.rules._key_cover import Key, Verdict, judge, of_index
from migcheck.rules._locking import outside_tx
from migcheck.rules._opcalls import paste
from migcheck.rules._opcalls import word as unit

_KEYS = ("primary_key", "unique")


def _cols(columns: tuple[str, ...]) -> str:
    return ", ".join(ident(c) for c in columns) or "…"


class DropKeyConstraint(Rule):
    id = "drop-key-constraint"
    category = "compatibility"
    severity = "warning"
    summary = "Dropping a PRIMARY KEY / UNIQUE constraint breaks ON CONFLICT and allows duplicates"
    kinds = frozenset({"drop_constraint", "drop_index"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if op.kind == "drop_index":
            yield from self._index(op, stmt, ctx)
            return
        con = dropped(op, ctx, _KEYS)
        if con is None:
            return
        verdict = Verdict(False)
        if con.columns:
            old = Key(con.name, con.table, con.columns, con.columns)
            verdict = judge(old, op, stmt, ctx)
        if verdict.replaced:
            return
        t = qname(con.table)
        cols = _cols(con.columns)
        pk = con.kind == "primary_key"
        word = "primary key" if pk else "unique constraint"
        message = f"Dropping {word} {qname(con.name)} of {t} ({cols}): " + _consequence(
            f"({cols})", verdict.cover
        )
        if pk and not adds_primary_key(con.table, stmt, ctx):
            message += (
                f" If {t} is published for logical replication with the default replica "
                f"identity, every UPDATE and DELETE on it fails with cannot update table "
                f"{t} because it does not have a replica identity and publishes updates."
            )
        if op.options.get("cascade"):
            message += " CASCADE also drops every foreign key that references it."
        help_ = [
            "Drop it only once no running code relies on it (its ON CONFLICT clauses, its "
            "uniqueness assumptions). To replace it, build the new key first and swap them "
            "in one statement:",
            *outside_tx(
                ctx,
                f"CREATE UNIQUE INDEX CONCURRENTLY <new_index> ON {ident(con.table)} (<columns>);",
            ),
            f"then, in the next {unit(ctx)}:",
            paste(
                ctx,
                f"ALTER TABLE {ident(con.table)} DROP CONSTRAINT {ident(con.name)}, "
                f"ADD CONSTRAINT {ident(con.name)} {'PRIMARY KEY' if pk else 'UNIQUE'} "
                "USING INDEX <new_index>;",
            ),
        ]
        if pk:
            help_.append(
                "On a table published for logical replication, give it another replica "
                "identity first:\n"
                + paste(
                    ctx,
                    f"ALTER TABLE {ident(con.table)} REPLICA IDENTITY USING INDEX "
                    "<unique index on NOT NULL columns>;",
                )
            )
        yield self.finding(stmt, message, "\n".join(help_), op)

    def _index(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        index = ctx.schema.index(op.name)
        if index is None or not index.unique or index.table is None:
            return
        bare = (op.name or "").rsplit(".", 1)[-1]
        if ctx.is_new_table(index.table) or (index.table, bare) in ctx.schema.constraints:
            # An index behind a constraint cannot be dropped on its own: PostgreSQL refuses.
            return
        old = of_index(index)
        verdict = judge(old, op, stmt, ctx) if old is not None else Verdict(False)
        if verdict.replaced:
            return
        t = qname(index.table)
        target = f"({_cols(index.columns)})"
        if old is not None and old.predicate is not None:
            target += f" WHERE ({old.predicate})"
        yield self.finding(
            stmt,
            f"Dropping unique index {qname(op.name)} of {t}: "
            + _consequence(target, verdict.cover, " that this index answers"),
            "Drop it only once no running code relies on it; to replace it, build the new "
            "unique index (CREATE UNIQUE INDEX CONCURRENTLY) before dropping this one.",
            op,
        )


def _consequence(target: str, cover: Key | None, answered: str = "") -> str:
    """What the running app loses: the ON CONFLICT arbiter always, and the rejection of
    duplicates unless another unique index of the table still rejects them."""
    conflict = (
        "the app version still running gets there is no unique or exclusion constraint "
        f"matching the ON CONFLICT specification from INSERT … ON CONFLICT {target}"
        f"{answered}"
    )
    if cover is None:
        return conflict + ", and duplicate values can now be written."
    where = f" (line {cover.line})" if cover.line is not None else ""
    return (
        f"{conflict}. Duplicate values stay rejected by unique index {qname(cover.name)}"
        f"{where}, whose keys are computed from these columns; only upserts naming the "
        "dropped one's exact keys lose their arbiter."
    )
