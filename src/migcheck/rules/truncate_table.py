"""truncate-table: TRUNCATE of a table that holds the running app's data."""

from __future__ import annotations

import re
from collections.abc import Iterator

from migcheck.context import Context
from migcheck.lazyre import lazy
from migcheck.locks import ACCESS_EXCLUSIVE, BLOCKS
from migcheck.model import Finding, Op, Statement
from migcheck.quoting import qname
from migcheck.rules import Rule
from migcheck.rules._opcalls import paste, suppression, word

_CASCADE = lazy(r"\bCASCADE\s*;?\s*$", re.I)


class TruncateTable(Rule):
    id = "truncate-table"
    category = "data"
    severity = "error"
    summary = "TRUNCATE in a migration deletes every row of an existing table"
    kinds = frozenset({"truncate"})

    def check(self, op: Op, stmt: Statement, ctx: Context) -> Iterator[Finding]:
        if not op.table or ctx.is_new_table(op.table):
            return  # a table created in this deploy holds no production data yet
        t = qname(op.table)
        cascade = (
            ", and CASCADE also empties every table with a foreign key to it"
            if _CASCADE.search(stmt.text)
            else ""
        )
        yield self.finding(
            stmt,
            f"Truncating {t} deletes every row in it for good (TRUNCATE is not "
            f"MVCC-safe and fires no DELETE triggers){cascade}; it also holds an "
            f"{ACCESS_EXCLUSIVE} lock, which blocks {BLOCKS[ACCESS_EXCLUSIVE]}.",
            "If the rows must go, delete only what you mean to, in batches, and keep a "
            "backup first:\n"
            + paste(ctx, f"DELETE FROM {t} WHERE <condition> AND <batch range>;")
            + "\nIf emptying the table is really intended (a cache or staging table), run it "
            f"as a one-off operation rather than a {word(ctx)}, or silence this finding with "
            f"a `{suppression(ctx, self.id)}` comment on the line before it.",
            op,
        )
