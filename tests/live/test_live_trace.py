"""Live check: locks, rewrites and catalog changes of each changeset statement."""

from __future__ import annotations

from migcheck.live import render_markdown, render_text, run_live, to_findings
from migcheck.live.results import StatementTrace

ITEMS = (
    "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, label varchar(50));\n"
    "INSERT INTO items SELECT g, g, 'x' FROM generate_series(1, 2000) g;"
)


def _locks(trace: StatementTrace) -> dict[str, str]:
    return {lock.relation: lock.mode for lock in trace.locks}


def test_lock_modes_alter_table_index_and_concurrently(make_history, dsn):
    hist = make_history(
        [ITEMS],
        [
            "ALTER TABLE items ADD COLUMN note text;",
            "CREATE INDEX items_qty ON items (qty);",
            "CREATE INDEX CONCURRENTLY items_label ON items (label);",
        ],
    )
    result = run_live([hist], dsn=dsn)
    assert result.histories[0].failure is None
    alter, index, concurrent = result.histories[0].statements

    assert _locks(alter)["public.items"] == "ACCESS EXCLUSIVE"
    assert alter.locks[0].blocks == "reads and writes" and alter.locks[0].existing
    assert _locks(index)["public.items"] == "SHARE"
    assert index.locks[0].blocks == "writes"
    # The new index itself is locked too, but it is new: it blocks nobody.
    assert any(not lock.existing for lock in index.locks if lock.relation == "public.items_qty")
    assert concurrent.in_transaction is False
    assert _locks(concurrent)["public.items"] == "SHARE UPDATE EXCLUSIVE"
    assert concurrent.locks[0].blocks == "neither reads nor writes"

    by_line = {(f.path.rsplit("/", 2)[-2], f.rule): f for f in to_findings(result)}
    assert by_line[("0002_step", "live-lock")].severity == "info"
    assert by_line[("0003_step", "live-lock")].severity == "warning"  # builds an index
    assert ("0004_step", "live-lock") not in by_line  # SHARE UPDATE EXCLUSIVE blocks nothing


def test_rewrite_for_int_to_bigint_but_not_for_varchar_widening(make_history, dsn):
    hist = make_history(
        [ITEMS],
        [
            "ALTER TABLE items ALTER COLUMN label TYPE varchar(200);\n"
            "ALTER TABLE items ALTER COLUMN qty TYPE bigint;"
        ],
    )
    result = run_live([hist], dsn=dsn)
    widen, bigint = result.histories[0].statements

    assert widen.rewrites == []
    assert [c.kind for c in widen.changes] == ["column_type_changed"]
    # The table and, rebuilt with it, its index.
    assert bigint.rewrites == ["public.items", "public.items_pkey"]
    [change] = bigint.changes
    assert (change.before, change.after) == ("integer", "bigint")
    # Prisma runs the file as one transaction: the second statement works under the
    # ACCESS EXCLUSIVE lock the first took.
    table_lock = next(lock for lock in bigint.locks if lock.relation == "public.items")
    assert table_lock.mode == "ACCESS EXCLUSIVE"
    assert table_lock.since == f"{widen.path}:1"
    rules = [(f.rule, f.severity) for f in to_findings(result)]
    assert ("live-rewrite", "warning") in rules
    assert sum(rule == "live-rewrite" for rule, _ in rules) == 1


def test_drop_column_hidden_in_do_block(make_history, dsn):
    hist = make_history(
        [ITEMS],
        [
            "DO $$ BEGIN EXECUTE 'ALTER TABLE items DROP COLUMN ' || 'label'; END $$;\n"
            "CREATE FUNCTION widen() RETURNS void LANGUAGE plpgsql AS $f$\n"
            "BEGIN ALTER TABLE items ALTER COLUMN qty DROP NOT NULL; END $f$;\n"
            "SELECT widen();"
        ],
    )
    result = run_live([hist], dsn=dsn)
    do_block, create_fn, call = result.histories[0].statements

    [dropped] = do_block.changes
    assert (dropped.kind, dropped.object, dropped.hidden) == (
        "column_dropped",
        "public.items.label",
        True,
    )
    assert create_fn.changes == []
    [nullable] = call.changes
    assert nullable.kind == "column_nullability_changed" and nullable.hidden
    hidden = [f for f in to_findings(result) if f.rule == "live-schema-change"]
    assert len(hidden) == 2 and all(f.severity == "info" for f in hidden)


def test_explicit_transactions_in_autocommit_file(make_history, dsn):
    hist = make_history(
        [ITEMS],
        [
            "BEGIN;\nALTER TABLE items ADD COLUMN a int;\nALTER TABLE items ADD COLUMN b int;\n"
            "COMMIT;\nALTER TABLE items ADD COLUMN c int;"
        ],
        tool="sql",
    )
    result = run_live([hist], dsn=dsn)
    traces = result.histories[0].statements
    assert [t.control for t in traces] == ["begin", None, None, "commit", None]
    assert [t.in_transaction for t in traces if not t.control] == [True, True, False]
    # ``a`` keeps ACCESS EXCLUSIVE while ``b`` runs: that is what makes it a warning.
    severities = [f.severity for f in to_findings(result) if f.rule == "live-lock"]
    assert severities == ["warning", "info"]


def test_reports_render(make_history, write_queries, dsn):
    hist = make_history([ITEMS], ["ALTER TABLE items DROP COLUMN label;"])
    old = write_queries("old.sql", "SELECT id, label FROM items;")
    result = run_live([hist], old_queries=[old], dsn=dsn)

    markdown = render_markdown(result)
    assert "## migcheck live check" in markdown
    assert "| Relation | Lock | Blocks | Held |" in markdown
    assert (
        "| public.items (table) | ACCESS EXCLUSIVE | reads and writes | until commit |" in markdown
    )
    assert "### Broken queries" in markdown
    text = render_text(result)
    assert "lock ACCESS EXCLUSIVE on public.items" in text
    assert "BROKEN" in text and "old.sql:1" in text
