"""The language server's saved walks (``engine.Replay``, ``Schema.copy``) give exactly
what one full walk gives, and a copy shares nothing the replay changes."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from migcheck.engine import Replay, walk
from migcheck.model import Finding, Options
from migcheck.runner import RunRequest, collect
from migcheck.schema import Origin, Schema
from migcheck.sources import Migration
from migcheck.statements import parse

ROOT = Path(__file__).resolve().parent.parent


def _key(f: Finding) -> tuple[str, str, int, int, str]:
    return (f.path, f.rule, f.line, f.column, f.message)


@pytest.mark.parametrize("fixture", ["prisma", "sql/migrations", "alembic"])
def test_judging_each_migration_from_a_fork_equals_one_full_walk(fixture: str) -> None:
    (history,) = [
        h
        for h in collect(RunRequest(paths=[str(ROOT / "fixtures" / fixture)])).histories
        if len(h.migrations) > 1
    ]
    options = Options(pg_version=14, changeset=False)
    expected = sorted(map(_key, walk([history], options).findings))
    assert expected, "the fixture has findings"
    for m in history.migrations:
        m.selected = False
    got: list[Finding] = []
    saved = Replay(history, options)
    for m in history.migrations:
        # Judge this migration on a copy, then move the saved walk on without judging:
        # what the server does for each open file. Judging twice (two keystrokes) gives
        # the same findings: the first judge changed nothing the second one sees.
        m.selected = True
        twice = []
        for _ in range(2):
            judge = saved.fork()
            judge.step()
            twice.append(sorted(map(_key, judge.walked.findings)))
        m.selected = False
        assert twice[0] == twice[1], m.path
        got.extend(judge.walked.findings)
        saved.step()
        assert saved.walked.findings == []
    assert sorted(map(_key, got)) == expected


SETUP = """
CREATE SCHEMA app;
CREATE TYPE mood AS ENUM ('a', 'b');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE users (id bigint PRIMARY KEY, email text, mood mood, n posint, gone text);
ALTER TABLE users DROP COLUMN gone;
CREATE TABLE old (id int);
CREATE UNIQUE INDEX users_email ON users (email);
ALTER TABLE users ADD CONSTRAINT users_n CHECK (n < 10) NOT VALID;
DROP TABLE old;
"""

CHANGES = """
ALTER TABLE users RENAME COLUMN email TO mail;
ALTER TABLE users ALTER COLUMN mail SET NOT NULL;
ALTER TABLE users ALTER COLUMN n TYPE bigint;
ALTER TABLE users VALIDATE CONSTRAINT users_n;
ALTER INDEX users_email RENAME TO users_mail;
ALTER TYPE mood RENAME VALUE 'a' TO 'z';
ALTER TABLE users RENAME TO people;
ALTER TABLE people DROP COLUMN mood;
CREATE TABLE more (id int);
DROP TABLE more;
DROP TYPE posint;
CREATE SCHEMA other;
CREATE TYPE mood2 AS ENUM ('x');
CREATE DOMAIN d2 AS text;
ALTER TYPE mood ADD VALUE 'c';
CREATE INDEX people_n ON people (n);
ALTER TABLE people ADD CONSTRAINT people_m CHECK (n > 1);
"""


def _apply(schema: Schema, sql: str) -> None:
    for stmt in parse(Migration("m.sql", "1", "sql", text=sql)).statements:
        for op in stmt.ops:
            schema.apply(op, Origin(1, 0, 1))


def test_a_schema_copy_holds_everything_and_shares_nothing_the_replay_changes() -> None:
    schema = Schema()
    _apply(schema, SETUP)
    state = vars(schema)
    assert all(state.values()), f"the setup leaves an attribute empty: {state}"
    before = copy.deepcopy(schema)
    twin = schema.copy()
    assert vars(twin) == vars(schema)
    _apply(twin, CHANGES)
    assert vars(twin) != vars(schema)
    assert vars(schema) == vars(before), "changing the copy changed the original"
