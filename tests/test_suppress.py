"""``migcheck: ignore`` comments, as a user writes them in SQL files and Alembic revisions.

Every test lints real migration text through the engine and looks at what the user would
see: which findings are reported, which are listed as suppressed (with the reason), and
which comments are themselves reported (missing reason, suppressing nothing).
"""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Sequence
from pathlib import Path

import pytest

from helpers import cli, lint_history, make_history
from migcheck.engine import Result
from migcheck.model import Finding
from migcheck.report.text import render_suppressed
from migcheck.rules import all_rules
from migcheck.sources import History
from migcheck.statements import load
from migcheck.suppress import (
    Directive,
    SuppressedFinding,
    apply_suppressions,
    collect_directives,
    parse_directive,
)

USERS = "CREATE TABLE users (id bigint PRIMARY KEY, bio text, fax text, phone text, name text);"
WIRED = hasattr(Result(), "suppressed")


class Run:
    def __init__(self, findings: list[Finding], suppressed: list[SuppressedFinding]) -> None:
        self.findings = findings
        self.suppressed = suppressed

    def where(self, rule: str) -> list[int]:
        return [f.line for f in self.findings if f.rule == rule]

    def messages(self, rule: str) -> list[str]:
        return [f.message for f in self.findings if f.rule == rule]

    def suppressed_lines(self, rule: str) -> list[int]:
        return [s.finding.line for s in self.suppressed if s.finding.rule == rule]


def lint_histories(history: History, rules: Sequence[str] | None) -> Run:
    ids = list(rules) if rules is not None else list(all_rules())
    result = lint_history(history, rules=ids, changeset=False)
    if WIRED:
        return Run(result.findings, result.suppressed)
    # Until engine.lint calls apply_suppressions itself, do exactly what it will do.
    directives: dict[str, list[Directive]] = {}
    for m in history.migrations:
        if m.selected:
            loaded = load(m)
            found = collect_directives(m, loaded.statements, loaded.directives)
            directives.setdefault(m.path, []).extend(found)
    kept, suppressed, meta = apply_suppressions(result.findings, directives, set(ids))
    return Run(kept + meta, suppressed)


def lint(sql: str, *, history: Sequence[str] = (USERS,), rules: Sequence[str] | None = None) -> Run:
    sql = textwrap.dedent(sql).lstrip("\n")
    h = make_history([*history, sql], selected=[False] * len(history) + [True])
    return lint_histories(h, rules)


# -- where a suppression applies ----------------------------------------------------------


def test_comment_above_covers_a_whole_multiline_statement() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] fax and phone unused since release 4.2 (#812)
        ALTER TABLE users
          ADD COLUMN mobile text,
          DROP COLUMN fax,
          DROP COLUMN phone;
        """
    )
    # The findings point at the DROP COLUMN actions, lines below the comment's statement start.
    assert run.suppressed_lines("drop-column") == [4, 5]
    assert run.where("drop-column") == []
    assert run.where("unused-suppression") == []
    assert [s.reason for s in run.suppressed] == [
        "fax and phone unused since release 4.2 (#812)"
    ] * 2


def test_trailing_comment_on_the_first_line_covers_the_whole_statement() -> None:
    run = lint(
        """
        ALTER TABLE users  -- migcheck: ignore[drop-column] moved to the profiles table in 4.1
          DROP COLUMN bio,
          DROP COLUMN fax;
        ALTER TABLE users DROP COLUMN phone;
        """
    )
    assert run.suppressed_lines("drop-column") == [2, 3]
    # The next statement is not covered.
    assert run.where("drop-column") == [4]


def test_comment_after_the_semicolon_on_the_last_line_covers_the_statement() -> None:
    run = lint(
        """
        ALTER TABLE users
          DROP COLUMN bio;  -- migcheck: ignore[drop-column] moved to profiles in 4.1
        ALTER TABLE users DROP COLUMN fax;
        """
    )
    assert run.suppressed_lines("drop-column") == [2]
    assert run.where("drop-column") == [3]


def test_comment_covers_only_the_statement_below_it() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] bio moved to profiles in 4.1
        ALTER TABLE users DROP COLUMN bio;
        ALTER TABLE users DROP COLUMN fax;
        """
    )
    assert run.suppressed_lines("drop-column") == [2]
    assert run.where("drop-column") == [3]


def test_comment_below_a_statement_does_not_cover_it() -> None:
    run = lint(
        """
        ALTER TABLE users
          DROP COLUMN bio;
        -- migcheck: ignore[drop-column] fax was never read
        ALTER TABLE users DROP COLUMN fax;
        -- migcheck: ignore[drop-column] nothing follows this one
        """
    )
    assert run.where("drop-column") == [2]
    assert run.suppressed_lines("drop-column") == [4]
    (message,) = run.messages("unused-suppression")
    assert run.where("unused-suppression") == [5]
    assert "not attached to any statement" in message


def test_other_comment_lines_may_sit_between_the_suppression_and_the_statement() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] bio moved to profiles in 4.1
        -- (see the runbook for the backfill)
        /* reviewed by the DBA */
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == []
    assert run.suppressed_lines("drop-column") == [4]


def test_a_blank_line_detaches_the_suppression() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] bio moved to profiles in 4.1

        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == [3]
    assert run.where("unused-suppression") == [1]
    assert "not attached to any statement" in run.messages("unused-suppression")[0]


def test_block_comment_suppression() -> None:
    run = lint(
        """
        /* migcheck: ignore[drop-column] bio moved to profiles
           in release 4.1 */
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == []
    assert [s.reason for s in run.suppressed] == ["bio moved to profiles in release 4.1"]


def test_ignore_file_covers_every_finding_of_that_rule_only() -> None:
    run = lint(
        """
        ALTER TABLE users DROP COLUMN bio;
        ALTER TABLE users RENAME COLUMN name TO full_name;
        -- migcheck: ignore-file[drop-column] the app never read these columns
        ALTER TABLE users DROP COLUMN fax;
        """
    )
    assert run.where("drop-column") == []
    assert run.suppressed_lines("drop-column") == [1, 4]
    assert run.where("rename-column") == [2]
    assert all(s.file_level for s in run.suppressed)


def test_several_rules_in_one_comment() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column, rename-column] profile columns moved in 4.1
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == []
    # rename-column ran and found nothing in the statement: that half is unused.
    assert run.messages("unused-suppression") == [
        "`ignore[drop-column, rename-column]` suppresses nothing: no rename-column finding "
        "in this statement."
    ]


# -- comments that are themselves reported ------------------------------------------------


def test_missing_reason_is_reported_and_still_suppresses() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column]
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == []
    assert run.where("suppression-without-reason") == [1]
    finding = next(f for f in run.findings if f.rule == "suppression-without-reason")
    assert finding.severity == "warning"
    assert "ignore[drop-column]" in finding.message
    assert [s.reason for s in run.suppressed] == [""]
    assert "(no reason given)" in render_suppressed(run.suppressed)


def test_punctuation_alone_is_not_a_reason() -> None:
    run = lint(
        """
        ALTER TABLE users DROP COLUMN bio;  -- migcheck: ignore[drop-column] --
        """
    )
    assert run.where("suppression-without-reason") == [1]


def test_suppression_that_suppresses_nothing() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] copied from the previous migration
        ALTER TABLE users ADD COLUMN nickname text;
        """
    )
    assert run.where("unused-suppression") == [1]
    assert run.messages("unused-suppression") == [
        "`ignore[drop-column]` suppresses nothing: no drop-column finding in this statement."
    ]


def test_unused_ignore_file() -> None:
    run = lint(
        "-- migcheck: ignore-file[drop-table] legacy\nALTER TABLE users ADD COLUMN x text;\n"
    )
    assert run.messages("unused-suppression") == [
        "`ignore-file[drop-table]` suppresses nothing: no drop-table finding in this file."
    ]


def test_unknown_rule_id_is_reported_with_a_suggestion() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-colum] bio moved to profiles in 4.1
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    assert run.where("drop-column") == [2]  # the typo suppresses nothing
    (message,) = run.messages("unused-suppression")
    assert "Unknown rule id `drop-colum`" in message
    assert "did you mean drop-column?" in message


@pytest.mark.parametrize(
    "comment",
    [
        "-- migcheck: ignore drop-column because",
        "-- migcheck: ignore[] because",
        "-- migcheck: ignore-next[drop-column] because",
        "-- migcheck: ignore[drop-column because",
    ],
)
def test_malformed_directive_is_reported(comment: str) -> None:
    run = lint(f"{comment}\nALTER TABLE users DROP COLUMN bio;\n")
    assert run.where("drop-column") == [2]
    (message,) = run.messages("unused-suppression")
    assert message.startswith("Malformed suppression comment")


def test_prose_mentioning_migcheck_is_not_a_directive() -> None:
    run = lint("-- checked with migcheck: fine\nALTER TABLE users ADD COLUMN x text;\n")
    assert run.where("unused-suppression") == []


def test_meta_rules_cannot_be_suppressed_by_a_comment() -> None:
    run = lint(
        """
        -- migcheck: ignore[unused-suppression] silence
        ALTER TABLE users ADD COLUMN x text;
        """
    )
    assert ["cannot be suppressed" in m for m in run.messages("unused-suppression")] == [True]


def test_suppression_of_a_rule_that_did_not_run_is_not_judged() -> None:
    run = lint(
        """
        -- migcheck: ignore[rename-column] renamed with a view in front, see #77
        ALTER TABLE users DROP COLUMN bio;
        """,
        rules=["drop-column", "unused-suppression", "suppression-without-reason"],
    )
    assert run.where("unused-suppression") == []
    assert run.where("drop-column") == [2]


def test_meta_rules_turned_off_report_nothing_but_suppressions_still_work() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column]
        ALTER TABLE users DROP COLUMN bio;
        -- migcheck: ignore[drop-colum] typo
        ALTER TABLE users ADD COLUMN x text;
        """,
        rules=["drop-column"],
    )
    assert run.findings == []
    assert run.suppressed_lines("drop-column") == [2]


def test_comments_in_earlier_migrations_are_not_judged() -> None:
    old = "-- migcheck: ignore[drop-column]\nALTER TABLE users ADD COLUMN x text;"
    run = lint("ALTER TABLE users ADD COLUMN y text;", history=[USERS, old])
    assert [f for f in run.findings if f.category == "meta"] == []


def test_render_suppressed_lists_path_position_rule_and_reason() -> None:
    run = lint(
        """
        -- migcheck: ignore[drop-column] bio moved to profiles in 4.1
        ALTER TABLE users DROP COLUMN bio;
        """
    )
    path = run.suppressed[0].finding.path
    assert render_suppressed(run.suppressed) == (
        f"suppressed: {path}:2:19 drop-column \u2014 bio moved to profiles in 4.1\n"
    )
    assert run.suppressed[0].to_json()["reason"] == "bio moved to profiles in 4.1"
    assert render_suppressed([]) == ""


def test_directives_survive_the_parse_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    from migcheck import statements
    from migcheck.sources import Migration

    monkeypatch.delenv("MIGCHECK_NO_CACHE", raising=False)
    text = "-- migcheck: ignore[drop-column] cached reason\nALTER TABLE users DROP COLUMN bio;\n"
    m = Migration(path="db/007_cache_probe.sql", key="7", tool="sql", text=text)
    first = load(m)

    def boom(migration: object) -> object:
        raise AssertionError("parsed again instead of read from the cache")

    monkeypatch.setattr(statements, "_load", boom)
    again = load(m)
    assert again.directives == first.directives
    assert [d.reason for d in again.directives] == ["cached reason"]


def test_parse_directive() -> None:
    p = parse_directive("migcheck: ignore[Drop-Column , rename-column]: because  it is\tsafe")
    assert p is not None
    assert p.rules == ("drop-column", "rename-column")
    assert p.reason == "because it is safe"
    assert not p.file_level
    assert parse_directive("nothing to see") is None
    file_level = parse_directive("MIGCHECK: ignore-file[drop-table] legacy")
    assert file_level is not None and file_level.file_level


# -- Alembic revisions ---------------------------------------------------------------------


def _alembic_project(root: Path, body: str, downgrade: str = "pass") -> None:
    versions = root / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/migrations\n")
    (root / "migrations" / "env.py").write_text(
        "from alembic import context\n\n\ndef run_migrations_online():\n"
        "    context.configure(connection=None, target_metadata=None)\n"
    )
    head = 'from alembic import op\nimport sqlalchemy as sa\n\nrevision = "{rev}"\ndown_revision = {down}\n\n\ndef upgrade():\n'
    (versions / "aaa1_create.py").write_text(
        head.format(rev="aaa1", down="None")
        + '    op.create_table("users", sa.Column("id", sa.BigInteger(), primary_key=True),'
        ' sa.Column("a", sa.Text()), sa.Column("b", sa.Text()), sa.Column("c", sa.Text()),'
        ' sa.Column("d", sa.Text()), sa.Column("e", sa.Text()))\n'
    )
    (versions / "bbb2_drop.py").write_text(
        head.format(rev="bbb2", down='"aaa1"')
        + textwrap.indent(textwrap.dedent(body), "    ")
        + "\n\ndef downgrade():\n"
        + textwrap.indent(textwrap.dedent(downgrade), "    ")
    )


def lint_alembic(tmp_path: Path, body: str, downgrade: str = "pass") -> tuple[Run, Path]:
    from migcheck.sources.alembic import load_alembic

    _alembic_project(tmp_path, body, downgrade)
    histories, errors, _ = load_alembic(str(tmp_path), include_downgrade=downgrade != "pass")
    assert errors == []
    (history,) = histories
    for m in history.migrations:
        m.selected = m.key.startswith("bbb2") or "bbb2" in m.path
    return lint_histories(history, None), tmp_path / "migrations" / "versions" / "bbb2_drop.py"


def _line(path: Path, needle: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def test_alembic_comment_on_the_op_line_and_the_line_above(tmp_path: Path) -> None:
    run, path = lint_alembic(
        tmp_path,
        """
        op.drop_column("users", "a")  # migcheck: ignore[drop-column] a moved to profiles in 4.1
        op.drop_column("users", "b")
        # migcheck: ignore[drop-column] c was never read
        op.drop_column("users", "c")
        op.drop_column(
            "users",
            "d",
        )  # migcheck: ignore[drop-column] d was never read either
        """,
    )
    dropped = {
        "a": _line(path, '"a")'),
        "b": _line(path, '"b")'),
        "c": _line(path, '"c")'),
        "d": _line(path, '"d",') - 2,  # the call starts two lines above its argument
    }
    assert sorted(run.suppressed_lines("drop-column")) == [dropped["a"], dropped["c"], dropped["d"]]
    # The trailing comment of the line above belongs to that line's call, not to "b".
    assert run.where("drop-column") == [dropped["b"]]
    assert run.where("unused-suppression") == []
    reasons = sorted(s.reason for s in run.suppressed)
    assert reasons[0] == "a moved to profiles in 4.1"


def test_alembic_unused_missing_reason_and_ignore_file(tmp_path: Path) -> None:
    run, path = lint_alembic(
        tmp_path,
        """
        # migcheck: ignore-file[drop-column] this revision removes the profile columns
        op.drop_column("users", "a")
        # migcheck: ignore[rename-column] nothing is renamed here
        op.add_column("users", sa.Column("nickname", sa.Text()))
        op.drop_column("users", "e")  # migcheck: ignore[drop-column]
        """,
    )
    assert run.where("drop-column") == []
    assert run.where("unused-suppression") == [_line(path, "ignore[rename-column]")]
    assert run.where("suppression-without-reason") == [_line(path, '"e")')]
    assert all(f.path == run.findings[0].path for f in run.findings)


def test_alembic_upgrade_and_downgrade_of_one_file_share_its_comments(tmp_path: Path) -> None:
    run, path = lint_alembic(
        tmp_path,
        """
        # migcheck: ignore[drop-column] a moved to profiles in 4.1
        op.drop_column("users", "a")
        """,
        downgrade="""
        op.add_column("users", sa.Column("a", sa.Text()))
        """,
    )
    assert run.suppressed_lines("drop-column") == [_line(path, '"a")')]
    # Judged against the downgrade's statements alone the comment would look unattached.
    assert run.where("unused-suppression") == []


# -- end to end ---------------------------------------------------------------------------


def _migcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = cli(*args, cwd=cwd, env={"NO_COLOR": "1"})
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


def _help() -> str:
    return _migcheck("check", "--help", cwd=Path.cwd()).stdout


@pytest.mark.skipif(
    not WIRED, reason="waiting for engine wiring (engine.lint → apply_suppressions)"
)
def test_cli_suppressed_statement_passes_and_show_suppressed_lists_it(tmp_path: Path) -> None:
    (tmp_path / "001_init.sql").write_text(USERS + "\n")
    (tmp_path / "002_drop.sql").write_text(
        "-- migcheck: ignore[drop-column] bio moved to profiles in 4.1\n"
        "ALTER TABLE users\n  DROP COLUMN bio;\n"
    )
    proc = _migcheck(".", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout
    assert "drop-column" not in proc.stdout
    if "--show-suppressed" not in _help():
        pytest.skip("waiting for CLI wiring of --show-suppressed")
    proc = _migcheck(".", "--show-suppressed", cwd=tmp_path)
    assert proc.returncode == 0
    assert (
        "suppressed: 002_drop.sql:3:3 drop-column \u2014 bio moved to profiles in 4.1"
        in proc.stdout
    )
