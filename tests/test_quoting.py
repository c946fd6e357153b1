"""quoting: the one place identifiers become SQL text, in messages and in pasted help."""

from __future__ import annotations

from helpers import lint_sql
from migcheck.model import DOT_IN_NAME
from migcheck.quoting import ident, literal, qcol, qname, qualified, quote


def test_message_form_quotes_every_part_and_doubles_quotes() -> None:
    assert qname("billing.Invoice") == '"billing"."Invoice"'
    assert qname('we"ird') == '"we""ird"'
    assert qcol("app.users", 'e"mail') == '"app"."users"."e""mail"'
    assert qname(None) == '""' and quote(None) == '""'


def test_paste_form_is_bare_only_when_postgres_folds_to_the_same_name() -> None:
    assert ident("app.users") == "app.users"
    assert ident("User") == '"User"'
    assert ident("user") == '"user"'  # a reserved word
    assert ident('we"ird') == '"we""ird"'
    assert ident(None) == '""'


def test_a_quoted_dot_stays_inside_its_part() -> None:
    stored = f"Team{DOT_IN_NAME}slug_unique"
    assert qname(stored) == '"Team.slug_unique"'
    assert quote(stored) == '"Team.slug_unique"'
    assert ident(f"app.{stored}") == 'app."Team.slug_unique"'


def test_qualified_takes_two_raw_identifiers() -> None:
    assert qualified("users", "app") == "app.users"
    assert qualified("a.b", None) == '"a.b"'
    assert qualified("old", None, frozenset({"old"})) == '"old"'


def test_literal_doubles_single_quotes() -> None:
    assert literal("o'brien_id_seq") == "'o''brien_id_seq'"


WEIRD = 'create table "we""ird" (id bigint primary key, a int);'


def test_locking_rule_text_for_a_name_with_a_double_quote_is_valid_sql() -> None:
    # The locking rules' own quoting left the inner quote single: "we"ird".
    findings = lint_sql(
        'create index weird_a_idx on "we""ird" (a);',
        history=[WEIRD],
        rules=["non-concurrent-index"],
    )
    assert len(findings) == 1
    f = findings[0]
    assert 'on existing table "we""ird" without CONCURRENTLY' in f.message
    assert 'create index concurrently weird_a_idx on "we""ird" (a);' in f.help
    assert '"we"ird"' not in f.message + f.help


def test_pending_check_named_with_a_double_quote_in_help() -> None:
    history = [
        WEIRD,
        'alter table "we""ird" add constraint "a""nn" check (a is not null) not valid;',
    ]
    findings = lint_sql(
        'alter table "we""ird" alter column a set not null;',
        history=history,
        rules=["set-not-null-scan"],
    )
    assert len(findings) == 1
    h = findings[0].help
    assert 'Validate the pending CHECK "a""nn" first' in h
    assert 'ALTER TABLE "we""ird" VALIDATE CONSTRAINT "a""nn";' in h
