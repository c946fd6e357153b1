"""disable-trigger-all: DISABLE TRIGGER ALL also turns off foreign-key enforcement."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste

_ALL = lazy(r"\bDISABLE\s+TRIGGER\s+ALL\b", re.I)


class DisableTriggerAll(Rule):
    id = "disable-trigger-all"
    category = "data"
    severity = "warning"
    summary = "DISABLE TRIGGER ALL also stops foreign-key enforcement on the table"
    kinds = frozenset({"disable_trigger"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not _ALL.search(op.text) or ctx.is_new_table(op.table):
            return
        t = qname(op.table)
        yield self.finding(
            stmt,
            f"ALTER TABLE {t} DISABLE TRIGGER ALL also disables the internal triggers that "
            f"enforce foreign keys: rows written to {t} (and rows deleted from the tables it "
            "references) until the triggers are enabled again are never checked, and "
            "enabling them does not re-check those rows. It needs superuser rights.",
            "Disable only your own triggers, and enable them again in the same transaction:\n"
            + paste(
                ctx,
                f"ALTER TABLE {t} DISABLE TRIGGER USER;",
                "-- the work that must not fire them",
                f"ALTER TABLE {t} ENABLE TRIGGER USER;",
            )
            + "\nTo load data without foreign-key checks, add the constraint NOT VALID "
            "afterwards and VALIDATE it, so every row is checked.",
            op,
        )
