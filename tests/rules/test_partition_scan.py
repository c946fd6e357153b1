"""partition-scan: ATTACH PARTITION and CREATE TABLE … PARTITION OF beside a DEFAULT partition
scan a live table under ACCESS EXCLUSIVE unless a validated CHECK proves the bound
(measured on PostgreSQL 16 and 18: tests/live/test_partition_facts.py)."""

from __future__ import annotations

import pytest

from helpers import lint_sql, where

R = "partition-scan"
EVENTS = (
    "create table events (id bigint, created_at timestamptz not null) "
    "partition by range (created_at);\n"
    "create table events_2023 partition of events "
    "for values from ('2023-01-01') to ('2024-01-01');"
)
DEFAULT = "create table events_default partition of events default;"
ARCHIVE = "create table events_2024 (id bigint, created_at timestamptz not null);"
ATTACH = (
    "alter table events attach partition events_2024 "
    "for values from ('2024-01-01') to ('2025-01-01');"
)
BOUND_CHECK = (
    "alter table events_2024 add constraint events_2024_bound check "
    "(created_at >= '2024-01-01' and created_at < '2025-01-01')"
)
CREATE_2025 = (
    "create table events_2025 partition of events for values from ('2025-01-01') to ('2026-01-01');"
)
EXCLUDE_2025 = (
    "alter table events_default add constraint events_default_excl check "
    "(not (created_at >= '2025-01-01' and created_at < '2026-01-01'))"
)


def run(sql: str, history: tuple[str, ...] = (EVENTS, ARCHIVE), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_attach_of_an_existing_table_without_check_scans_it() -> None:
    findings = run(ATTACH, pg=16)
    assert where(findings, R) == [(1, 20)]
    f = findings[0]
    assert f.severity == "warning" and f.category == "locking"
    assert f.message.startswith(
        'Attaching "events_2024" to "events" scans all of "events_2024" to check that every '
        'row fits the partition bound, holding an ACCESS EXCLUSIVE lock on "events_2024"'
    )
    assert 'no validated CHECK constraint on "events_2024" matches the bound' in f.message
    assert '"events" itself only gets SHARE UPDATE EXCLUSIVE' in f.message
    assert "DEFAULT" not in f.message
    assert (
        "    ALTER TABLE events_2024 ADD CONSTRAINT events_2024_bound CHECK (created_at IS NOT "
        "NULL AND created_at >= '2024-01-01' AND created_at < '2025-01-01') NOT VALID;\n"
        "    ALTER TABLE events_2024 VALIDATE CONSTRAINT events_2024_bound;"
    ) in f.help
    assert (
        "    ALTER TABLE events ATTACH PARTITION events_2024 FOR VALUES FROM ('2024-01-01') "
        "TO ('2025-01-01');"
    ) in f.help
    assert "Keep the new range out" not in f.help


def test_before_pg12_attach_also_locks_the_parent() -> None:
    f = run(ATTACH, pg=11)[0]
    assert (
        'Before PostgreSQL 12, ATTACH PARTITION also takes an ACCESS EXCLUSIVE lock on "events", '
        'so every query on "events" and all its partitions waits for the scan.'
    ) in f.message
    assert "SHARE UPDATE EXCLUSIVE" not in f.message


def test_validated_check_naming_the_key_skips_the_scan() -> None:
    history = (EVENTS, ARCHIVE, BOUND_CHECK + ";")
    assert run(ATTACH, history=history) == []


def test_not_valid_check_does_not_skip_the_scan() -> None:
    history = (EVENTS, ARCHIVE, BOUND_CHECK + " not valid;")
    assert where(run(ATTACH, history=history), R) == [(1, 20)]


def test_validating_it_earlier_in_the_same_migration_is_enough() -> None:
    sql = (
        BOUND_CHECK + " not valid;\n"
        "alter table events_2024 validate constraint events_2024_bound;\n" + ATTACH
    )
    assert run(sql) == []


def test_check_on_another_column_does_not_match_the_bound() -> None:
    history = (EVENTS, ARCHIVE, "alter table events_2024 add constraint pos check (id > 0);")
    assert where(run(ATTACH, history=history), R) == [(1, 20)]


def test_check_that_lets_null_keys_through_still_scans() -> None:
    # Measured: CHECK (k >= 0 AND k < 10) on a nullable k does not imply the range bound,
    # which excludes NULL; PostgreSQL scans ("verifying table").
    nullable = "create table events_2024 (id bigint, created_at timestamptz);"
    findings = run(ATTACH, history=(EVENTS, nullable, BOUND_CHECK + ";"))
    assert where(findings, R) == [(1, 20)]
    assert 'its CHECK does not rule out NULL in "created_at"' in findings[0].message
    with_not_null = BOUND_CHECK.replace(
        "(created_at >=", "(created_at is not null and created_at >="
    )
    assert run(ATTACH, history=(EVENTS, nullable, with_not_null + ";")) == []


def test_list_bound_with_a_matching_check() -> None:
    history = (
        "create table orders (id int, region text not null) partition by list (region);",
        "create table orders_eu (id int, region text not null);",
        "alter table orders_eu add constraint eu check (region in ('de', 'fr'));",
    )
    sql = "alter table orders attach partition orders_eu for values in ('de', 'fr');"
    assert run(sql, history=history) == []
    findings = run(sql, history=history[:2])
    assert where(findings, R) == [(1, 20)]
    assert "CHECK (region IS NOT NULL AND region IN ('de', 'fr')) NOT VALID;" in findings[0].help


def test_list_bound_with_null_needs_no_not_null() -> None:
    history = (
        "create table orders (id int, region text) partition by list (region);",
        "create table orders_x (id int, region text);",
        "alter table orders_x add constraint x check (region is null or region = 'x');",
    )
    sql = "alter table orders attach partition orders_x for values in (null, 'x');"
    assert run(sql, history=history) == []


def test_table_created_in_this_deploy_is_empty_and_quick_to_scan() -> None:
    sql = "create table events_2024 (like events including defaults);\n" + ATTACH
    assert run(sql, history=(EVENTS,)) == []


def test_unknown_table_is_treated_as_live() -> None:
    sql = "alter table logs attach partition logs_old for values in (1);"
    findings = run(sql, history=())
    assert where(findings, R) == [(1, 18)]
    assert "CHECK (<the partition bound, with each key column IS NOT NULL>)" in findings[0].help


def test_attach_beside_a_default_partition_scans_it_too() -> None:
    sql = "create table events_2024 (like events including defaults);\n" + ATTACH
    findings = run(sql, history=(EVENTS, DEFAULT), pg=18)
    assert where(findings, R) == [(2, 20)]
    f = findings[0]
    assert f.message.startswith(
        'Attaching "events_2024" to "events" scans the DEFAULT partition "events_default" for '
        'rows that belong in "events_2024", holding an ACCESS EXCLUSIVE lock on '
        '"events_default", so every query on "events" that reaches "events_default" waits: '
        "no CHECK constraint added and validated by this deploy keeps the new range out of it."
    )
    assert "Prove the bound" not in f.help
    assert (
        "    ALTER TABLE events_default ADD CONSTRAINT events_default_excl_events_2024 CHECK "
        "(NOT (created_at IS NOT NULL AND created_at >= '2024-01-01' AND created_at < "
        "'2025-01-01')) NOT VALID;"
    ) in f.help


def test_both_scans_are_one_finding() -> None:
    findings = run(ATTACH, history=(EVENTS, DEFAULT, ARCHIVE))
    assert where(findings, R) == [(1, 20)]
    assert "It also scans the DEFAULT partition" in findings[0].message


def test_create_partition_beside_a_default_partition() -> None:
    findings = run(CREATE_2025, history=(EVENTS, DEFAULT), pg=16)
    assert where(findings, R) == [(1, 1)]
    f = findings[0]
    assert f.message == (
        'Creating partition "events_2025" of "events" scans the DEFAULT partition '
        '"events_default" for rows that belong in "events_2025", holding ACCESS EXCLUSIVE '
        'locks on "events" and "events_default": every read and write on "events" and all its '
        "partitions waits until the transaction ends: no CHECK constraint added and validated "
        "by this deploy keeps the new range out of it."
    )
    assert (
        'Create the table on its own and ATTACH it, which takes only SHARE UPDATE EXCLUSIVE on "events":\n'
        "    CREATE TABLE events_2025 (LIKE events INCLUDING DEFAULTS INCLUDING CONSTRAINTS);"
    ) in f.help
    assert (
        "    ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') "
        "TO ('2026-01-01');"
    ) in f.help
    pg11 = run(CREATE_2025, history=(EVENTS, DEFAULT), pg=11)[0]
    assert 'ACCESS EXCLUSIVE on "events" before PostgreSQL 12' in pg11.help


def test_create_partition_without_default_partition_is_quiet() -> None:
    assert run(CREATE_2025, history=(EVENTS,)) == []


def test_exclusion_check_added_and_validated_in_this_deploy() -> None:
    sql = (
        EXCLUDE_2025 + " not valid;\n"
        "alter table events_default validate constraint events_default_excl;\n" + CREATE_2025
    )
    assert run(sql, history=(EVENTS, DEFAULT)) == []
    # Near misses: never validated; or validated long ago (for an older range).
    assert where(
        run(EXCLUDE_2025 + " not valid;\n" + CREATE_2025, history=(EVENTS, DEFAULT)), R
    ) == [(2, 1)]
    old = (EVENTS, DEFAULT, EXCLUDE_2025 + ";")
    assert where(run(CREATE_2025, history=old), R) == [(1, 1)]


def test_parent_created_in_this_deploy() -> None:
    assert run(EVENTS + "\n" + DEFAULT + "\n" + CREATE_2025, history=()) == []


def test_creating_the_default_partition_itself_scans_nothing() -> None:
    history = (EVENTS, DEFAULT, "alter table events detach partition events_default;")
    assert run("create table events_other partition of events default;", history=history) == []


def test_detached_default_partition_is_no_longer_scanned() -> None:
    history = (EVENTS, DEFAULT, "alter table events detach partition events_default;")
    assert run(CREATE_2025, history=history) == []


def test_attaching_a_default_partition_scans_the_table_attached() -> None:
    sql = "alter table events attach partition events_2024 default;"
    findings = run(sql)
    assert where(findings, R) == [(1, 20)]
    assert "ALTER TABLE events ATTACH PARTITION events_2024 DEFAULT;" in findings[0].help
    # and no other DEFAULT partition is scanned for it
    assert "It also scans" not in findings[0].message


def test_renamed_parent_keeps_its_default_partition() -> None:
    history = (EVENTS, DEFAULT, "alter table events rename to events_v2;")
    sql = CREATE_2025.replace("partition of events", "partition of events_v2")
    assert where(run(sql, history=history), R) == [(1, 1)]


def test_dropped_parent_drops_its_partitions() -> None:
    history = (EVENTS, DEFAULT, "drop table events;", EVENTS)
    assert run(CREATE_2025, history=history) == []


@pytest.mark.parametrize("tool", ["prisma", "sql"])
def test_quoted_camel_case_key(tool: str) -> None:
    history = (
        'CREATE TABLE "Event" ("id" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL) '
        'PARTITION BY RANGE ("createdAt");',
        'CREATE TABLE "Event_2024" ("id" TEXT NOT NULL, "createdAt" TIMESTAMP(3) NOT NULL);',
    )
    sql = (
        'ALTER TABLE "Event" ATTACH PARTITION "Event_2024" '
        "FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');"
    )
    findings = run(sql, history=history, tool=tool)
    assert where(findings, R) == [(1, 21)]
    assert 'CHECK ("createdAt" IS NOT NULL AND "createdAt" >= ' in findings[0].help
    check = (
        'ALTER TABLE "Event_2024" ADD CONSTRAINT "Event_2024_bound" CHECK '
        "(\"createdAt\" >= '2024-01-01' AND \"createdAt\" < '2025-01-01');"
    )
    assert run(sql, history=(*history, check), tool=tool) == []
    # A CHECK on "createdat" (folded) is another column.
    other = check.replace('"createdAt"', "createdAt")
    assert where(run(sql, history=(*history, other), tool=tool), R) == [(1, 21)]


def test_pg12_is_the_first_version_with_the_weaker_parent_lock() -> None:
    assert '"events" itself only gets SHARE UPDATE EXCLUSIVE' in run(ATTACH, pg=12)[0].message
    created = run(CREATE_2025, history=(EVENTS, DEFAULT), pg=12)[0]
    assert "which takes only SHARE UPDATE EXCLUSIVE" in created.help


def test_schema_qualified_tables_name_their_constraints_without_the_schema() -> None:
    history = (
        "create schema app;\n"
        "create table app.events (id bigint, k int not null) partition by range (k);\n"
        "create table app.events_default partition of app.events default;",
        "create table app.events_1 (id bigint, k int not null);",
    )
    sql = "alter table app.events attach partition app.events_1 for values from (0) to (10);"
    f = run(sql, history=history)[0]
    assert "ALTER TABLE app.events_1 ADD CONSTRAINT events_1_bound CHECK (" in f.help
    assert "ALTER TABLE app.events_default ADD CONSTRAINT events_default_excl_events_1" in f.help


def test_list_and_hash_bounds_are_repeated_in_the_help() -> None:
    history = (
        "create table orders (id int not null, region text not null) partition by list (region);",
        "create table orders_eu (id int not null, region text not null);",
        "create table jobs (id int not null) partition by hash (id);",
        "create table jobs_0 (id int not null);",
    )
    listed = run("alter table orders attach partition orders_eu for values in ('de');", history)
    assert "ALTER TABLE orders ATTACH PARTITION orders_eu FOR VALUES IN ('de');" in listed[0].help
    hashed = run(
        "alter table jobs attach partition jobs_0 for values with (modulus 4, remainder 0);",
        history,
    )
    f = hashed[0]
    assert "FOR VALUES WITH (modulus 4, remainder 0);" in f.help
    assert "CHECK (<the partition bound on id>) NOT VALID;" in f.help


def test_a_second_default_partition_is_not_reported_as_a_scan() -> None:
    # PostgreSQL rejects it (only one DEFAULT partition); migcheck claims no scan of the
    # existing one.
    history = (EVENTS, DEFAULT)
    assert run("create table events_other partition of events default;", history=history) == []
    findings = run(
        "alter table events attach partition events_2024 default;", history=(*history, ARCHIVE)
    )
    assert "It also scans" not in findings[0].message


def test_a_scan_while_another_lock_is_held_is_slow_work() -> None:
    sql = "BEGIN;\nalter table events_2023 add column note text;\n" + ATTACH + "\nCOMMIT;"
    findings = lint_sql(sql, history=[EVENTS, ARCHIVE], rules=["hold-exclusive-lock"])
    assert where(findings, "hold-exclusive-lock") == [(2, 25)]
    assert 'line 3 scans "events_2024" (partition bound)' in findings[0].message
    quick = sql.replace(ATTACH, CREATE_2025)
    assert lint_sql(quick, history=[EVENTS, ARCHIVE], rules=["hold-exclusive-lock"]) == []


def test_default_partition_check_need_not_exclude_null_keys() -> None:
    # Measured on PostgreSQL 18: CHECK (NOT (k >= 0 AND k < 10)) on the default partition of
    # a nullable key is enough ("... is implied by existing constraints"): NULL keys belong
    # in the default partition anyway.
    history = (
        "create table p (id int, k int) partition by range (k);\n"
        "create table p_default partition of p default;",
    )
    check = "alter table p_default add constraint p_excl check (not (k >= 0 and k < 10));\n"
    sql = check + "create table p_1 partition of p for values from (0) to (10);"
    assert run(sql, history=history) == []
