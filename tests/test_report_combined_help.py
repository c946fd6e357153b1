"""One safe sequence per statement: a statement with several findings gets one help in the
text and Markdown reports, built around the finding that breaks the running app, with the
findings those steps also answer named, and the others' advice following once."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers import cli

PRISMA_INIT = (
    'CREATE TABLE "Order" ("id" SERIAL NOT NULL, "total" INTEGER NOT NULL, '
    'CONSTRAINT "Order_pkey" PRIMARY KEY ("id"));\n'
)
# What `prisma migrate dev` writes when `total Int` becomes `total Decimal`.
PRISMA_DECIMAL = 'ALTER TABLE "Order" ALTER COLUMN "total" SET DATA TYPE DECIMAL(65,30);\n'


def migcheck(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"MIGCHECK_NO_CACHE": "1", "PATH": "/usr/bin:/bin", "NO_COLOR": "1"}
    return cli("check", *args, cwd=cwd, env=env, inherit_env=False)


def prisma_project(root: Path, *migrations: str) -> Path:
    mig = root / "prisma" / "migrations"
    for n, sql in enumerate(migrations, start=1):
        d = mig / f"2024010{n}000000_m{n}"
        d.mkdir(parents=True)
        (d / "migration.sql").write_text(sql, encoding="utf-8")
    (mig / "migration_lock.toml").write_text('provider = "postgresql"\n', encoding="utf-8")
    return mig


def block_of(out: str, needle: str) -> list[str]:
    """The lines of the text report's block (up to the blank line) holding ``needle``."""
    for block in out.split("\n\n"):
        if needle in block:
            return block.splitlines()
    raise AssertionError(f"no block with {needle!r} in:\n{out}")


def test_a_type_change_that_breaks_the_app_and_rewrites_gets_one_sequence(tmp_path: Path) -> None:
    prisma_project(tmp_path, PRISMA_INIT, PRISMA_DECIMAL)
    proc = migcheck(tmp_path, "prisma/migrations")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = block_of(proc.stdout, "SET DATA TYPE DECIMAL")
    headers = [line for line in lines if "migration.sql:1:" in line]
    assert [h.split()[1].split("[")[1].rstrip("]") for h in headers] == [
        "change-column-type",
        "type-change-rewrite",
    ]
    # One help: the new-column steps, and no second paragraph repeating them for the rewrite.
    assert sum(line.lstrip().startswith("help") for line in lines) == 1
    assert any('ADD COLUMN "total_new" numeric(65,30);' in line for line in lines)
    assert "        These steps also answer type-change-rewrite." in lines
    assert not any("help (type-change-rewrite)" in line for line in lines)


def test_findings_whose_fixes_differ_each_add_their_part_once(tmp_path: Path) -> None:
    """A column made NOT NULL while its type changes: the new-column steps first (the app
    breaks on the type), then making it required, labelled with its rule."""
    mig = tmp_path / "db"
    mig.mkdir()
    (mig / "001_init.sql").write_text(
        "CREATE TABLE accounts (id bigint PRIMARY KEY, code varchar(20));\n", encoding="utf-8"
    )
    (mig / "002_code.sql").write_text(
        "ALTER TABLE accounts ALTER COLUMN code TYPE integer USING code::integer,\n"
        "    ALTER COLUMN code SET NOT NULL;\n",
        encoding="utf-8",
    )
    proc = migcheck(tmp_path, "db")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = block_of(proc.stdout, "002_code.sql:1:")
    helps = [line.strip().split(":")[0] for line in lines if line.lstrip().startswith("help")]
    assert helps == ["help", "help (set-not-null)"]
    text = "\n".join(lines)
    assert text.index("code_new") < text.index("help (set-not-null)")
    assert "These steps also answer type-change-rewrite." in text


def test_markdown_folds_the_one_sequence_under_one_details(tmp_path: Path) -> None:
    prisma_project(tmp_path, PRISMA_INIT, PRISMA_DECIMAL)
    proc = migcheck(tmp_path, "--format", "markdown", "prisma/migrations")
    section = proc.stdout.split("SET DATA TYPE DECIMAL", 1)[1]
    assert section.count("<details>") == 1
    assert "<details><summary>How to fix (change-column-type)</summary>" in section
    assert "These steps also answer `type-change-rewrite`." in section


def test_json_keeps_each_findings_own_help(tmp_path: Path) -> None:
    import json

    prisma_project(tmp_path, PRISMA_INIT, PRISMA_DECIMAL)
    proc = migcheck(tmp_path, "--format", "json", "prisma/migrations")
    helps = {f["rule"]: f["help"] for f in json.loads(proc.stdout)["findings"]}
    assert set(helps) == {"change-column-type", "type-change-rewrite"}
    assert all(helps.values())


def test_building_the_index_concurrently_also_releases_the_held_lock(tmp_path: Path) -> None:
    mig = tmp_path / "db"
    mig.mkdir()
    (mig / "001.sql").write_text(
        "CREATE TABLE a (id int, x int);\nCREATE TABLE b (id int, y int);\n", encoding="utf-8"
    )
    (mig / "002.sql").write_text(
        "BEGIN;\nCREATE INDEX a_idx ON a (x);\nCREATE INDEX b_idx ON b (y);\nCOMMIT;\n",
        encoding="utf-8",
    )
    proc = migcheck(tmp_path, "db")
    lines = block_of(proc.stdout, "002.sql:2:1:")
    assert [line.split()[1] for line in lines if line.startswith("db/002.sql:2:1:")] == [
        "warning[hold-exclusive-lock]",
        "error[non-concurrent-index]",
    ]
    helps = [line for line in lines if line.lstrip().startswith("help")]
    assert helps == [
        "  help: Build the index without blocking writes (reads and writes continue; it takes "
        "longer and waits for running transactions):"
    ]
    assert "        These steps also answer hold-exclusive-lock." in lines
