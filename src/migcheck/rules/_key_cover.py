"""Whether the rest of a migration makes up for a dropped unique index or key (for
drop-key-constraint; not a rule).

Two different promises of a unique index can survive its drop, and PostgreSQL keeps
them apart (verified on 15 and 16, tests/live/test_live_key_cover.py):

* **duplicates stay rejected** when another unique index whose keys read only plain key
  columns of the dropped one, with no predicate or the same one, is in place when the
  transaction commits: two rows equal on the old keys are equal on the new ones (an
  index expression is immutable), so the new index rejects every pair the old one did.
  ``lower(email) WHERE state = 'active'`` covers ``(email, state) WHERE state = 'active'``.
* **``INSERT … ON CONFLICT (<keys>)`` still finds an arbiter** only when a unique index
  has exactly the same set of keys, and no predicate or the same one; the covering index
  above answers ``ON CONFLICT (lower(email)) WHERE …`` and nothing else.

A dropped index whose column the same migration drops (or whose table it drops) protects
nothing afterwards: the DROP COLUMN or DROP TABLE is the change the running app notices.
A replacement built after the drop counts too, as before this module: inside one
transaction the drop's ACCESS EXCLUSIVE lock keeps every writer out until commit; without
one, a duplicate written in between makes the CREATE UNIQUE INDEX fail loudly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from migcheck.context import Context
from migcheck.model import INDEX_KEY_SEP, Op, Statement
from migcheck.schema import IndexInfo


@dataclass(frozen=True)
class Key:
    """A unique index or key as the comparisons need it: normalised keys (``email``,
    ``lower ( email )``), the columns they read and the normalised predicate."""

    name: str
    table: str
    keys: tuple[str, ...]
    refs: tuple[str, ...]
    predicate: str | None = None
    line: int | None = None  # where this migration builds it, if it does

    @property
    def plain(self) -> frozenset[str]:
        """The keys that are bare columns."""
        return frozenset(k for k in self.keys if k in self.refs)


def of_index(index: IndexInfo, line: int | None = None) -> Key | None:
    if not index.unique or index.table is None or not index.keys:
        return None
    return Key(index.name, index.table, index.keys, index.refs, index.predicate, line)


def _of_op(op: Op, line: int) -> Key | None:
    if op.kind == "create_index" and op.unique and op.table and op.name:
        keys, refs, where = (op.options.get(k) for k in ("keys", "key_refs", "where"))
        if not isinstance(keys, str) or not isinstance(refs, str):
            return None
        pred = where if isinstance(where, str) else None
        return Key(op.name, op.table, tuple(keys.split(INDEX_KEY_SEP)), _split(refs), pred, line)
    con = op.constraint
    if op.kind != "add_constraint" or con is None or op.table is None:
        return None
    if con.kind not in ("primary_key", "unique"):
        return None
    # ``ADD CONSTRAINT … USING INDEX i`` names no columns: ``i`` itself, already built,
    # is one of the candidates (``candidates`` reads the schema).
    cols = con.columns
    if not cols:
        return None
    return Key(con.name or "", op.table, cols, cols, None, line)


def _split(refs: str) -> tuple[str, ...]:
    return tuple(r for r in refs.split(INDEX_KEY_SEP) if r)


def _after(ctx: Context) -> Iterator[tuple[Op, Statement]]:
    for s in ctx.later_statements():
        for o in s.ops:
            yield o, s


def _renames(table: str, ctx: Context) -> dict[str, str]:
    """Each column of ``table`` renamed in this migration → its final name."""
    out: dict[str, str] = {}
    for o in [*ctx.ops_before(), *ctx.statements[ctx.statement_index].ops, *ctx.ops_after()]:
        if o.kind == "rename_column" and o.table == table and o.column and o.new_name:
            for k, v in out.items():
                if v == o.column:
                    out[k] = o.new_name
            out.setdefault(o.column, o.new_name)
    return out


def candidates(old: Key, dropped: Op, stmt: Statement, ctx: Context) -> Iterator[Key]:
    """Unique indexes and keys of the table once the migration is done: those that exist
    now, the other actions of this statement, and those built later in the migration."""
    gone = {o.name for o in ctx.ops_after() if o.kind in ("drop_index", "drop_constraint")}
    for index in ctx.schema.indexes_on(old.table):
        key = of_index(index, _built_at(index.name, ctx))
        if key is not None and key.name != old.name and index.name not in gone:
            yield key
    for o in stmt.ops:
        if o is not dropped:
            key = _of_op(o, stmt.span.line)
            if key is not None:
                yield key
    for o, s in _after(ctx):
        key = _of_op(o, s.span.line)
        if key is not None:
            yield key


def _built_at(name: str, ctx: Context) -> int | None:
    bare = name.rsplit(".", 1)[-1]
    for s in ctx.earlier_statements():
        for o in s.ops:
            if o.kind == "create_index" and (o.name or "").rsplit(".", 1)[-1] == bare:
                return s.span.line
    return None


def _same_predicate(new: Key, old: Key) -> bool:
    return new.predicate is None or new.predicate == old.predicate


def answers(new: Key, old: Key, renames: dict[str, str]) -> bool:
    """Whether ``new`` is the arbiter of every ``ON CONFLICT`` that ``old`` answered and
    rejects the same duplicates: the same set of keys (after this migration's column
    renames), no predicate or the same one."""
    if new.table != old.table or not _same_predicate(new, old):
        return False
    moved = {renames.get(k, k) for k in old.keys}
    return set(new.keys) in (set(old.keys), moved)


def covers(new: Key, old: Key, renames: dict[str, str]) -> bool:
    """Whether ``new`` rejects every duplicate ``old`` rejected: its keys read only plain
    key columns of ``old``, and it has no predicate or the same one."""
    if new.table != old.table or not new.refs or not _same_predicate(new, old):
        return False
    plain = old.plain
    return set(new.refs) <= plain or set(new.refs) <= {renames.get(c, c) for c in plain}


def columns_dropped(old: Key, ctx: Context) -> bool:
    """Whether this migration drops a column the index reads, or its table, later on."""
    renames = _renames(old.table, ctx)
    refs = set(old.refs) | {renames.get(c, c) for c in old.refs}
    return any(
        (o.kind == "drop_column" and o.table == old.table and o.column in refs)
        or (o.kind == "drop_table" and o.table == old.table)
        for o in ctx.ops_after()
    )


@dataclass(frozen=True)
class Verdict:
    """``replaced``: nothing relying on the old index breaks. ``cover``: the index that
    still rejects the duplicates while ON CONFLICT loses its arbiter (None: neither)."""

    replaced: bool
    cover: Key | None = None


def judge(old: Key, dropped: Op, stmt: Statement, ctx: Context) -> Verdict:
    if columns_dropped(old, ctx):
        return Verdict(True)
    renames = _renames(old.table, ctx)
    cover = None
    for new in candidates(old, dropped, stmt, ctx):
        if answers(new, old, renames):
            return Verdict(True)
        if cover is None and covers(new, old, renames):
            cover = new
    return Verdict(False, cover)
