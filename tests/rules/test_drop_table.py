"""drop-table: DROP TABLE of an existing table."""

from __future__ import annotations

from pathlib import Path

from alembic_help import upgrade_code
from helpers import lint_alembic, lint_sql, where

R = "drop-table"
USERS_APP = (
    'op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True), '
    'sa.Column("email", sa.String(100), nullable=False), sa.Column("bio", sa.Text()), '
    'schema="app")'
)
INVITE = 'CREATE TABLE "Invite" ("id" TEXT NOT NULL, "token" TEXT NOT NULL);'


def run(sql: str, history: tuple[str, ...] = (INVITE,), **kw: object) -> list:
    return lint_sql(sql, history=list(history), rules=[R], **kw)


def test_prisma_drop_table() -> None:
    sql = (
        "/*\n  Warnings:\n\n  - You are about to drop the `Invite` table.\n*/\n"
        "-- DropForeignKey\n"
        'ALTER TABLE "Invite" DROP CONSTRAINT "Invite_organizationId_fkey";\n\n'
        "-- DropTable\n"
        'DROP TABLE "Invite";\n'
    )
    findings = run(sql, tool="prisma")
    assert where(findings, R) == [(10, 1)]
    f = findings[0]
    assert f.severity == "error"
    assert 'relation "Invite" does not exist' in f.message
    assert "every row" in f.message
    # Issue 14, point 3: the first step is @@ignore in the schema, the drop comes later.
    assert f.help.splitlines()[1].startswith(
        '1. Mark the model of "Invite" `@@ignore` in schema.prisma and deploy'
    )
    assert f.help.endswith('\n    DROP TABLE "Invite";')
    (plain,) = [g for g in run('DROP TABLE "Invite";') if g.rule == R]
    assert not any(w in plain.help for w in ("@@ignore", "Prisma", "SQLAlchemy", "op."))
    assert 'DROP TABLE "Invite";' in f.help


def test_each_table_of_a_list_is_judged_separately() -> None:
    sql = "CREATE TABLE scratch (id int);\nDROP TABLE IF EXISTS scratch, legacy_tokens CASCADE;"
    findings = run(sql, history=())
    assert where(findings, R) == [(2, 31)]
    assert '"legacy_tokens"' in findings[0].message
    assert "scratch" not in findings[0].message
    assert "CASCADE" in findings[0].message


def test_two_existing_tables_give_two_findings() -> None:
    findings = run("drop table a, public.b;", history=("create table a (id int);",))
    assert where(findings, R) == [(1, 12), (1, 15)]
    assert ['"a"' in findings[0].message, '"b"' in findings[1].message] == [True, True]


def test_silent_on_table_created_in_same_deploy() -> None:
    sql = "CREATE TABLE import_staging (id bigint);\nDROP TABLE import_staging;"
    assert run(sql, history=()) == []


def test_table_created_in_earlier_deploy_is_flagged() -> None:
    assert where(run('DROP TABLE "Invite";'), R) == [(1, 1)]


def test_silent_when_name_is_a_view() -> None:
    history = ("CREATE TABLE t (id int);", "CREATE VIEW v AS SELECT * FROM t;")
    assert run("DROP TABLE v;", history=history) == []


def test_alembic_help_drops_with_op_drop_table(tmp_path: Path) -> None:
    body = 'op.drop_table("users", schema="app")'
    (f,) = [f for f in lint_alembic(tmp_path, USERS_APP, body) if f.rule == R]
    assert (f.line, f.column) == (9, 5)
    code = upgrade_code(f.help)
    assert 'op.drop_table("users", schema="app")' in code
    (sql,) = lint_sql("drop table t;", history=["create table t (c int);"], rules=[R])
    assert 'DROP TABLE "t";' in sql.help and "op." not in sql.help


def test_rows_copied_out_first_are_not_all_lost() -> None:
    # ckan 106_12d64978ab44: the active extras are copied into "group".extras, then the
    # table is dropped; only what the copy left out is lost.
    history = (
        'create table "group" (id text primary key, extras jsonb);\n'
        "create table group_extra (id text primary key, group_id text, key text, value text, "
        "state text);",
    )
    sql = (
        'update "group" set extras = (\n'
        "    select json_object(array_agg(group_extra.key), array_agg(group_extra.value))\n"
        '    from group_extra where "group".id = group_extra.group_id\n'
        "    and group_extra.state = 'active');\n"
        "drop table group_extra;\n"
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(5, 1)]
    assert findings[0].message == (
        'Dropping table "group_extra": the app version still running queries it and fails '
        'with relation "group_extra" does not exist until every instance is replaced, and '
        'what line 1 did not copy from it into "group" first is lost with it.'
    )
    copied = "insert into archive select * from group_extra;\ndrop table group_extra;"
    history2 = (history[0] + "\ncreate table archive (like group_extra);",)
    assert "what line 1 did not copy" in run(copied, history=history2)[0].message
    # Near miss: a copy out of another table says nothing about this one's rows.
    other = 'insert into archive select id from "group";\ndrop table group_extra;'
    assert "every row in it is lost" in run(other, history=history2)[0].message


def test_table_rebuilt_and_renamed_into_place_keeps_its_name() -> None:
    # Langflow 1b8b740a6fa3: copy into a new table without the foreign key, drop the old
    # one, rename the copy to the old name; the old app still finds the relation.
    history = (
        "create table vertex_build (build_id uuid primary key, id text, flow_id uuid "
        "references flow (id));",
    )
    sql = (
        "create table temp_vertex_build (build_id uuid primary key, id text not null, "
        "flow_id uuid);\n"
        "insert into temp_vertex_build select build_id, id, flow_id from vertex_build\n"
        "    where id is not null;\n"
        "drop table vertex_build cascade;\n"
        "alter table temp_vertex_build rename to vertex_build;\n"
    )
    findings = run(sql, history=history)
    assert where(findings, R) == [(4, 1)]
    assert findings[0].message == (
        'Dropping table "vertex_build" and renaming "temp_vertex_build" into its place (line '
        "5) replaces the table under the app version still running: what line 2 did not copy "
        'from it into "temp_vertex_build" first is lost with it, along with every write the '
        'old app makes to "vertex_build" between the copy and this drop, and CASCADE also '
        "drops the views and foreign keys that depend on it."
    )
    assert findings[0].help.endswith('LOCK TABLE "vertex_build" IN SHARE MODE;')
    # Near misses: a rename to another name, or into another schema, leaves the drop a drop.
    for other in ("vertex_build_v2", "archive.vertex_build"):
        renamed = sql.replace("rename to vertex_build", f"rename to {other}")
        if "." in other:
            renamed = renamed.replace("create table temp_", "create table archive.temp_")
            renamed = renamed.replace(
                "temp_vertex_build rename", "archive.temp_vertex_build rename"
            )
        (f,) = [g for g in run(renamed, history=history) if g.rule == R]
        assert 'relation "vertex_build" does not exist' in f.message, other
    # Without a copy, every row is lost and no copy is mentioned.
    bare = "drop table vertex_build;\nalter table temp_vertex_build rename to vertex_build;"
    (f,) = [g for g in run(bare, history=(history[0] + sql.split(";")[0] + ";",)) if g.rule == R]
    assert f.message.endswith("running: every row in it is lost.")


def test_leftover_alembic_batch_table_is_quiet(tmp_path: Path) -> None:
    # Langflow 260dbcc8b680: "if _alembic_tmp_flow exists, drop it first" cleans up the
    # scratch table of a failed batch operation; no app queries it.
    body = (
        'if "_alembic_tmp_flow" in sa.inspect(op.get_bind()).get_table_names():\n'
        '    op.drop_table("_alembic_tmp_flow")\n'
        'op.drop_table("flowstyle")\n'
    )
    flowstyle = 'op.create_table("flowstyle", sa.Column("id", sa.Integer()))'
    findings = lint_alembic(tmp_path, flowstyle, body, rules=[R])
    assert [f.message.split(":")[0] for f in findings] == ['Dropping table "flowstyle"']
    # Near miss: a table of that name the history created is a table like any other.
    create = flowstyle + '\nop.create_table("_alembic_tmp_flow", sa.Column("id", sa.Integer()))'
    findings = lint_alembic(tmp_path / "b", create, body, rules=[R])
    assert len(findings) == 2
    # A schema-qualified rebuild inside its own schema is the same swap.
    qualified = (
        "create schema app;\ncreate table app.vertex_build (id text);\n"
        "create table app.temp_vertex_build (id text);",
    )
    swap = "drop table app.vertex_build;\nalter table app.temp_vertex_build rename to vertex_build;"
    (f,) = [g for g in run(swap, history=qualified) if g.rule == R]
    assert 'renaming "app"."temp_vertex_build" into its place' in f.message
