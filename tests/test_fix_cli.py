"""``migcheck check --fix`` / ``--show-fixes`` and the SARIF ``fixes``, run as a user runs
them: the real command in temporary git repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.test_report_formats import validate_sarif

INIT = 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" TEXT, "orgId" INT);\n'
INDEX = 'CREATE INDEX "User_email_idx" ON "User"("email");\n'
PRISMA_NEW = (
    "-- AlterTable\n"
    'ALTER TABLE "User" ADD COLUMN "name" TEXT;\n'
    "\n"
    "-- CreateIndex\n"
    'CREATE INDEX "User_email_idx" ON "User"("email");\n'
    "\n"
    "-- AddForeignKey\n"
    'ALTER TABLE "User" ADD CONSTRAINT "User_orgId_fkey" FOREIGN KEY ("orgId") '
    'REFERENCES "User"("id");\n'
)


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path_factory.mktemp("gitconfig") / "config"
    cfg.write_text(
        "[user]\n\tname = Test\n\temail = test@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(var, raising=False)


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def migcheck(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
        timeout=120,
    )
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    return proc


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def sql_repo(tmp_path: Path) -> Path:
    """A plain SQL history whose first migration is committed."""
    repo = tmp_path / "repo"
    write(repo / "migrations" / "001_init.sql", INIT)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def test_show_fixes_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    new = write(repo / "migrations" / "002_idx.sql", INDEX)
    proc = migcheck("check", "migrations", "--show-fixes", "--format", "concise", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.startswith(
        "--- a/migrations/002_idx.sql\n"
        "+++ b/migrations/002_idx.sql\n"
        "@@ -1 +1 @@\n"
        '-CREATE INDEX "User_email_idx" ON "User"("email");\n'
        '+CREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");\n'
    )
    assert "migrations/002_idx.sql:1:1: error[non-concurrent-index]" in proc.stdout
    assert new.read_text() == INDEX


def test_fix_edits_only_the_uncommitted_migration_and_names_the_committed_one(
    tmp_path: Path,
) -> None:
    repo = sql_repo(tmp_path)
    write(repo / "migrations" / "002_idx.sql", INDEX)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "shipped")
    shipped = INDEX
    new = write(repo / "migrations" / "003_idx.sql", INDEX.replace("User_email", "User_org"))
    proc = migcheck("check", "migrations", "--fix", "--format", "concise", cwd=repo)
    assert new.read_text() == 'CREATE INDEX CONCURRENTLY "User_org_idx" ON "User"("email");\n'
    assert (repo / "migrations" / "002_idx.sql").read_text() == shipped
    assert (
        "migcheck: fix left alone: migrations/002_idx.sql: committed already; "
        "--fix edits only uncommitted migrations"
    ) in proc.stderr
    assert "fixed 1 finding in 1 file (migrations/003_idx.sql); linting again" in proc.stderr
    # The report is of the fixed tree: the committed file's finding remains, exit 1.
    assert "migrations/002_idx.sql:1:1: error[non-concurrent-index]" in proc.stdout
    assert "003_idx.sql" not in proc.stdout
    assert proc.returncode == 1


def test_fix_then_nothing_left_exits_0_and_a_second_fix_changes_nothing(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    new = write(repo / "migrations" / "002_idx.sql", INDEX)
    first = migcheck("check", "migrations", "--fix", cwd=repo)
    assert first.returncode == 0, first.stdout
    fixed = new.read_text()
    second = migcheck("check", "migrations", "--fix", "--show-fixes", cwd=repo)
    assert second.returncode == 0
    assert new.read_text() == fixed
    assert "fixed" not in second.stderr and "---" not in second.stdout


def test_fix_with_diff_never_edits_a_migration_that_exists_on_the_base(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    write(repo / "migrations" / "002_idx.sql", INDEX)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "on main")
    git(repo, "checkout", "-qb", "feature")
    # The branch edits the shipped file and adds a new one, both committed.
    edited = write(repo / "migrations" / "002_idx.sql", "-- note\n" + INDEX)
    added = write(repo / "migrations" / "003_idx.sql", INDEX.replace("User_email", "User_org"))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "feature")
    proc = migcheck("check", "--diff", "main", "--fix", "--format", "concise", cwd=repo)
    assert added.read_text().startswith("CREATE INDEX CONCURRENTLY")
    assert edited.read_text() == "-- note\n" + INDEX
    assert "fix left alone: migrations/002_idx.sql: it exists on the --diff base main" in (
        proc.stderr
    )


def test_outside_a_git_repository_nothing_is_written(tmp_path: Path) -> None:
    write(tmp_path / "plain" / "migrations" / "001.sql", INIT)
    new = write(tmp_path / "plain" / "migrations" / "002.sql", INDEX)
    proc = migcheck("check", "migrations", "--fix", cwd=tmp_path / "plain")
    assert new.read_text() == INDEX
    assert "not in a git repository, so nothing was written" in proc.stderr
    assert proc.returncode == 1


def test_a_symlinked_migration_is_not_written_through(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    target = write(repo / "elsewhere" / "idx.sql", INDEX)
    link = repo / "migrations" / "002_idx.sql"
    link.symlink_to(target)
    proc = migcheck("check", "migrations", "--fix", cwd=repo)
    assert target.read_text() == INDEX
    assert link.is_symlink()
    assert "migrations/002_idx.sql: a symbolic link; not written" in proc.stderr


def test_crlf_and_byte_order_mark_are_kept(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    new = repo / "migrations" / "002_idx.sql"
    text = 'ALTER TABLE "User" ADD COLUMN "x" int;\r\nALTER TABLE "User" ALTER "email" SET NOT NULL;\r\n'
    new.write_bytes(b"\xef\xbb\xbf" + text.encode())
    migcheck("check", "migrations", "--fix", cwd=repo)
    data = new.read_bytes()
    assert data.startswith(b'\xef\xbb\xbfALTER TABLE "User" ADD COLUMN "x" int;\r\nALTER TABLE')
    assert b'"User_email_not_null_check" CHECK ("email" IS NOT NULL) NOT VALID;\r\n' in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_concurrently_in_a_file_the_runner_wraps_is_shown_not_applied(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    text = 'ALTER TABLE "User" ADD COLUMN "x" int;\n' + INDEX
    new = write(repo / "migrations" / "002_idx.sql", text)
    proc = migcheck("check", "migrations", "--fix", "--assume-in-transaction", cwd=repo)
    # The lock_timeout is safe and written; CONCURRENTLY would fail in the transaction.
    assert new.read_text() == "SET lock_timeout = '5s';\n" + text
    assert (
        "fix left alone: migrations/002_idx.sql: non-concurrent-index: Add CONCURRENTLY (it "
        "cannot run in a transaction: give it a migration of its own): not applied, shown only"
    ) in proc.stderr


def test_concurrently_among_other_statements_says_to_keep_the_file_out_of_a_transaction(
    tmp_path: Path,
) -> None:
    repo = sql_repo(tmp_path)
    text = 'ALTER TABLE "User" ADD COLUMN "x" int;\n' + INDEX
    write(repo / "migrations" / "002_idx.sql", text)
    proc = migcheck("check", "migrations", "--format", "sarif", cwd=repo)
    titles = [
        fix["description"]["text"]
        for r in json.loads(proc.stdout)["runs"][0]["results"]
        for fix in r.get("fixes", [])
    ]
    assert "Add CONCURRENTLY (it cannot run in a transaction block: run this file without one)" in (
        titles
    )
    # No lock_timeout next to a statement that must stay out of a transaction block.
    assert not [t for t in titles if "lock_timeout" in t]


def prisma_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    migrations = repo / "prisma" / "migrations"
    write(migrations / "20240101000000_init" / "migration.sql", INIT)
    write(migrations / "migration_lock.toml", 'provider = "postgresql"\n')
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    return repo


def test_prisma_concurrently_and_validate_move_to_new_folders_sorting_right_after(
    tmp_path: Path,
) -> None:
    repo = prisma_repo(tmp_path)
    migrations = repo / "prisma" / "migrations"
    current = write(migrations / "20240201000000_idx" / "migration.sql", PRISMA_NEW)
    proc = migcheck("check", "prisma", "--fix", "--format", "concise", cwd=repo)
    assert current.read_text() == (
        "-- AlterTable\n"
        "SET lock_timeout = '5s';\n"
        'ALTER TABLE "User" ADD COLUMN "name" TEXT;\n'
        "\n"
        "-- AddForeignKey\n"
        'ALTER TABLE "User" ADD CONSTRAINT "User_orgId_fkey" FOREIGN KEY ("orgId") '
        'REFERENCES "User"("id") NOT VALID;\n'
    )
    assert (migrations / "20240201000000_idx_concurrently" / "migration.sql").read_text() == (
        '-- CreateIndex\nCREATE INDEX CONCURRENTLY "User_email_idx" ON "User"("email");\n'
    )
    assert (migrations / "20240201000000_idx_validate" / "migration.sql").read_text() == (
        '-- ValidateConstraint\nALTER TABLE "User" VALIDATE CONSTRAINT "User_orgId_fkey";\n'
    )
    assert proc.returncode == 0, proc.stdout
    assert "Checked 4 files" in proc.stdout


def test_prisma_move_is_refused_when_a_folder_would_sort_between(tmp_path: Path) -> None:
    repo = prisma_repo(tmp_path)
    migrations = repo / "prisma" / "migrations"
    write(migrations / "20240201000000_idx" / "migration.sql", PRISMA_NEW)
    write(migrations / "20240201000000_idx_a" / "migration.sql", "SELECT 1;\n")
    proc = migcheck("check", "prisma", "--show-fixes", cwd=repo)
    assert "_concurrently" not in proc.stdout
    assert "non-concurrent-index: Add CONCURRENTLY (it cannot run in a transaction" in proc.stderr


def test_sarif_carries_each_safe_fix_and_validates(tmp_path: Path) -> None:
    repo = prisma_repo(tmp_path)
    migrations = repo / "prisma" / "migrations"
    write(migrations / "20240201000000_idx" / "migration.sql", PRISMA_NEW)
    proc = migcheck("check", "prisma", "--format", "sarif", cwd=repo)
    doc = json.loads(proc.stdout)
    validate_sarif(doc)
    results = {r["ruleId"]: r for r in doc["runs"][0]["results"]}
    (fix,) = results["non-concurrent-index"]["fixes"]
    moved_from, created = fix["artifactChanges"]
    assert moved_from["artifactLocation"]["uri"] == (
        "prisma/migrations/20240201000000_idx/migration.sql"
    )
    (cut,) = moved_from["replacements"]
    assert cut["deletedRegion"] == {
        "startLine": 4,
        "startColumn": 1,
        "endLine": 7,
        "endColumn": 1,
        "charOffset": 58,
        "charLength": 66,
    }
    assert cut["insertedContent"] == {"text": ""}
    assert created["artifactLocation"]["uri"].endswith(
        "20240201000000_idx_concurrently/migration.sql"
    )
    assert "CREATE INDEX CONCURRENTLY" in created["replacements"][0]["insertedContent"]["text"]
    # One lock_timeout for the file, on its first finding only.
    lock_fixes = [
        f
        for r in doc["runs"][0]["results"]
        for f in r.get("fixes", [])
        if "lock_timeout" in f["description"]["text"]
    ]
    assert len(lock_fixes) == 1


def test_json_gives_the_fixes_with_show_fixes(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    write(repo / "migrations" / "002_idx.sql", INDEX)
    plain = json.loads(migcheck("check", "migrations", "--format", "json", cwd=repo).stdout)
    assert "fixes" not in plain["findings"][0]
    proc = migcheck("check", "migrations", "--format", "json", "--show-fixes", cwd=repo)
    doc = json.loads(proc.stdout)  # the diff went to stderr
    assert proc.stderr.startswith("--- a/migrations/002_idx.sql")
    (finding,) = doc["findings"]
    assert finding["fixes"] == [
        {
            "title": "Add CONCURRENTLY",
            "applicability": "safe",
            "edits": [
                {
                    "content": " CONCURRENTLY",
                    "line": 1,
                    "column": 13,
                    "end_line": 1,
                    "end_column": 13,
                }
            ],
            "new_files": [],
        }
    ]


def test_fix_of_standard_input_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "migcheck", "check", "-", "--fix"],
        cwd=tmp_path,
        input=INDEX,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "--fix writes files; it cannot fix standard input" in proc.stderr


def test_a_refused_write_creates_no_new_prisma_folder(tmp_path: Path) -> None:
    repo = prisma_repo(tmp_path)
    migrations = repo / "prisma" / "migrations"
    target = write(repo / "sql" / "idx.sql", PRISMA_NEW)
    (migrations / "20240201000000_idx").mkdir()
    (migrations / "20240201000000_idx" / "migration.sql").symlink_to(target)
    proc = migcheck("check", "prisma", "--fix", cwd=repo)
    assert "20240201000000_idx/migration.sql: a symbolic link; not written" in proc.stderr
    assert sorted(p.name for p in migrations.iterdir()) == [
        "20240101000000_init",
        "20240201000000_idx",
        "migration_lock.toml",
    ]
    assert target.read_text() == PRISMA_NEW


def test_the_diff_never_prints_control_characters_from_names_or_text(tmp_path: Path) -> None:
    repo = sql_repo(tmp_path)
    write(repo / "migrations" / "002_\x1b[31mred.sql", "-- \x1b]0;owned\x07\n" + INDEX)
    proc = migcheck("check", "migrations", "--show-fixes", cwd=repo)
    assert "--- a/migrations/002_\\x1b[31mred.sql\n" in proc.stdout
    assert " -- \\x1b]0;owned\\x07\n" in proc.stdout
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout


def test_a_split_that_would_validate_in_the_same_transaction_is_shown_not_applied(
    tmp_path: Path,
) -> None:
    # golang-migrate sends a file of several statements as one implicit transaction: the
    # VALIDATE written beside the NOT VALID add would scan under its ACCESS EXCLUSIVE lock.
    repo = sql_repo(tmp_path)
    text = 'ALTER TABLE "User" ADD CONSTRAINT "User_email_check" CHECK ("email" <> \'\');\n'
    new = write(repo / "migrations" / "002_check.up.sql", text)
    write(repo / "migrations" / "002_check.down.sql", 'ALTER TABLE "User" DROP CONSTRAINT x;\n')
    proc = migcheck("check", "migrations", "--fix", "--format", "concise", cwd=repo)
    assert "SET lock_timeout = '5s';\n" + text == new.read_text()
    assert (
        "constraint-without-not-valid: Split into ADD CONSTRAINT ... NOT VALID + VALIDATE "
        "CONSTRAINT (run the VALIDATE in a later migration, outside this one's transaction): "
        "not applied, shown only"
    ) in proc.stderr
    assert "validate-in-same-transaction" not in proc.stdout


def test_prisma_set_not_null_keeps_the_check_here_and_validates_in_a_new_folder(
    tmp_path: Path,
) -> None:
    repo = prisma_repo(tmp_path)
    migrations = repo / "prisma" / "migrations"
    current = write(
        migrations / "20240201000000_nn" / "migration.sql",
        '-- AlterTable\nALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n',
    )
    proc = migcheck("check", "prisma", "--fix", "--format", "concise", cwd=repo)
    assert current.read_text() == (
        "-- AlterTable\n"
        'ALTER TABLE "User" ADD CONSTRAINT "User_email_not_null_check" CHECK ("email" IS NOT '
        "NULL) NOT VALID;\n"
    )
    assert (migrations / "20240201000000_nn_validate" / "migration.sql").read_text() == (
        "-- AlterTable\n"
        'ALTER TABLE "User" VALIDATE CONSTRAINT "User_email_not_null_check";\n'
        'ALTER TABLE "User" ALTER COLUMN "email" SET NOT NULL;\n'
        'ALTER TABLE "User" DROP CONSTRAINT "User_email_not_null_check";\n'
    )
    # Re-linted: nothing left, in particular no VALIDATE under the ADD's lock.
    assert proc.returncode == 0, proc.stdout
