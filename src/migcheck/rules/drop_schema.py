"""drop-schema: dropping a schema, and with CASCADE everything in it."""

from __future__ import annotations

from collections.abc import Iterator

from migcheck.context import Context
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import quote
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste


class DropSchema(Rule):
    id = "drop-schema"
    category = "compatibility"
    severity = "error"
    summary = "Dropping a schema breaks every query on the objects in it"
    kinds = frozenset({"drop_schema"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        # The parser makes one op per schema named, so the name is always there.
        name = op.name or ""
        # The schema model does not track schemas; one created earlier in this same
        # migration is certainly unused by the running app.
        if any(o.kind == "create_schema" and o.name == name for o in ctx.ops_before()):
            return
        s = quote(name)
        prefix = name + "."
        known = sorted(t for t in ctx.schema.tables if t.startswith(prefix))
        shown = ", ".join(quote(t[len(prefix) :]) for t in known[:3])
        if len(known) > 3:
            shown += f" and {len(known) - 3} more"
        if op.options.get("cascade"):
            effect = "CASCADE drops every table, view, type and function in it with all their data"
            if shown:
                effect += f" ({shown})"
            effect += ", and the app version still running fails on every query that uses them"
        else:
            effect = "the app version still running fails on every query of an object in it"
            if shown:
                effect = (
                    f"it still holds {shown}, so the DROP fails without CASCADE; once empty, "
                    + effect
                )
        yield self.finding(
            stmt,
            f"Dropping schema {s}: {effect}.",
            "Retire the schema in steps:\n"
            f"1. Ship app code that no longer uses any object in {s}.\n"
            "2. In later deploys, drop its tables one by one (each checked by drop-table), "
            f"keeping a backup (pg_dump --schema='{s}').\n"
            "3. Then drop the empty schema without CASCADE, so Postgres refuses if "
            "anything is left:\n" + paste(ctx, f"DROP SCHEMA {s};"),
            op,
        )
