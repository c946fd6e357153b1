"""The server's rewrites (``lsp.fixes``) on the statement forms they meet, applied to the
text: each gives the safe form, and none is offered where it could be wrong."""

from __future__ import annotations

from migcheck.lsp.fixes import LOCK_TIMEOUT, Fix, fixes_for
from migcheck.model import Finding, Span
from migcheck.sources import Migration
from migcheck.statements import parse


def _fixes(text: str, rule: str, line: int, category: str = "locking") -> list[Fix]:
    statements = parse(Migration("m.sql", "1", "prisma", text=text)).statements
    finding = Finding(rule, "error", category, "m.sql", Span(line, 1, line, 1), "msg")  # type: ignore[arg-type]
    return fixes_for(finding, statements, text, "prisma")


def _apply(text: str, fix: Fix) -> str:
    for start, end, new in sorted(fix.edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _only(fixes: list[Fix], prefix: str) -> Fix:
    (fix,) = [f for f in fixes if f.title.startswith(prefix)]
    return fix


def test_concurrently_goes_after_unique_index_and_before_if_not_exists() -> None:
    text = 'create unique index if not exists "a" on "T" ("x");\n'
    fix = _only(_fixes(text, "non-concurrent-index", 1), "Add CONCURRENTLY")
    assert fix.title == "Add CONCURRENTLY"  # alone in the file: runs outside a transaction
    assert _apply(text, fix) == 'create unique index CONCURRENTLY if not exists "a" on "T" ("x");\n'


def test_concurrently_is_not_added_twice_nor_to_other_statements() -> None:
    text = 'CREATE INDEX CONCURRENTLY "a" ON "T" ("x");\n'
    assert not [f for f in _fixes(text, "non-concurrent-index", 1) if "CONCURRENTLY" in f.title]
    text = 'ALTER TABLE "T" ADD COLUMN "x" int;\n'
    assert not [f for f in _fixes(text, "non-concurrent-index", 1) if "CONCURRENTLY" in f.title]


def test_drop_index_of_several_indexes_gets_no_concurrently() -> None:
    text = 'DROP INDEX "a", "b";\n'
    assert not [
        f for f in _fixes(text, "non-concurrent-drop-index", 1) if "CONCURRENTLY" in f.title
    ]


def test_an_unnamed_foreign_key_is_validated_by_the_name_postgresql_gives_it() -> None:
    text = "ALTER TABLE ONLY public.orders ADD FOREIGN KEY (user_id) REFERENCES users (id);\n"
    fix = _only(_fixes(text, "constraint-without-not-valid", 1), "Split")
    assert _apply(text, fix) == (
        "ALTER TABLE ONLY public.orders ADD FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;\n"
        "ALTER TABLE public.orders VALIDATE CONSTRAINT orders_user_id_fkey;\n"
    )


def test_no_split_for_several_actions_or_a_unique_constraint_or_one_already_not_valid() -> None:
    for text in (
        'ALTER TABLE "T" ADD COLUMN "y" int, ADD CONSTRAINT "c" CHECK ("y" > 0);\n',
        'ALTER TABLE "T" ADD CONSTRAINT "u" UNIQUE ("x");\n',
        'ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("x" > 0) NOT VALID;\n',
        # Unnamed: PostgreSQL's name for it depends on the expression.
        'ALTER TABLE "T" ADD CHECK ("x" > 0);\n',
    ):
        assert not [
            f
            for f in _fixes(text, "constraint-without-not-valid", 1)
            if f.title.startswith("Split")
        ]


def test_lock_timeout_goes_before_the_first_statement_unless_one_is_set_earlier() -> None:
    text = '-- Prisma\nALTER TABLE "T" ADD COLUMN "x" int;\nCREATE INDEX "a" ON "T" ("x");\n'
    fix = _only(_fixes(text, "non-concurrent-index", 3), "Prepend")
    assert _apply(text, fix) == text.replace("ALTER", LOCK_TIMEOUT + "ALTER")
    already = "SET lock_timeout = '2s';\n" + text
    assert not [
        f for f in _fixes(already, "non-concurrent-index", 4) if f.title.startswith("Prepend")
    ]
    # A finding that is not about locks gets no lock_timeout.
    assert not _fixes(text, "drop-column", 2, category="compatibility")


def test_no_fix_when_the_buffer_no_longer_holds_the_statement() -> None:
    text = 'CREATE INDEX "a" ON "T" ("x");\n'
    statements = parse(Migration("m.sql", "1", "prisma", text=text)).statements
    finding = Finding("non-concurrent-index", "error", "locking", "m.sql", Span(1, 1, 1, 1), "m")
    assert fixes_for(finding, statements, "-- moved\n" + text, "prisma") == []


def test_a_split_of_a_lone_statement_says_the_validate_belongs_in_a_later_migration() -> None:
    # Alone, the ADD runs on its own; with the VALIDATE beside it the file becomes one
    # implicit transaction and the scan would run under the ADD's ACCESS EXCLUSIVE lock.
    text = 'ALTER TABLE "T" ADD CONSTRAINT "c" CHECK ("x" > 0);\n'
    fix = _only(_fixes(text, "constraint-without-not-valid", 1), "Split")
    assert fix.title == (
        "Split into ADD CONSTRAINT ... NOT VALID + VALIDATE CONSTRAINT (run the VALIDATE in a "
        "later migration, outside this one's transaction)"
    )
