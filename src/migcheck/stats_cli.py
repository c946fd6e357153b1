"""``migcheck stats``: its options, and writing the statistics file.

The CLI registers the command from here; importing this module costs only click option
definitions. psycopg is imported when the command runs (``stats_collect``).
"""

from __future__ import annotations

import sys

import click

EXIT_CLEAN, EXIT_USAGE = 0, 2


def run_stats(dsn: str | None, output: str, top: int) -> int:
    import json
    import os

    from migcheck.report.escape import json_text, visible
    from migcheck.stats_collect import StatsCollectError, collect

    out = None
    tmp = f"{output}.tmp-{os.getpid()}"
    if output != "-":
        try:
            # Opened before connecting: a typo in -o costs no query on production. Written
            # beside the target and renamed, so a reader never sees half a file.
            out = open(tmp, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
        except OSError as err:
            print(
                f"migcheck stats: cannot write {visible(output)}: {err.strerror or err}",
                file=sys.stderr,
            )
            return EXIT_USAGE
    try:
        try:
            collected = collect(dsn or "", top)
        except StatsCollectError as err:
            print(f"migcheck stats: {visible(str(err))}", file=sys.stderr)
            return EXIT_USAGE
        for note in collected.notes:
            print(f"migcheck stats: note: {visible(note)}", file=sys.stderr)
        text = json_text(json.dumps(collected.doc, indent=1, ensure_ascii=False)) + "\n"
        if out is None:
            sys.stdout.write(text)
        else:
            try:
                out.write(text)
                out.close()
                os.replace(tmp, output)
            except OSError as err:
                print(
                    f"migcheck stats: cannot write {visible(output)}: {err.strerror or err}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
    finally:
        if out is not None:
            out.close()
            if os.path.exists(tmp):
                os.unlink(tmp)
    tables, queries = len(collected.doc["tables"]), len(collected.doc["queries"])
    where = "stdout" if out is None else visible(output)
    print(
        f"migcheck stats: wrote {tables} tables and {queries} queries to {where}", file=sys.stderr
    )
    return EXIT_CLEAN


@click.command("stats")
@click.option(
    "--dsn",
    default=None,
    help="Server to read (production or a replica), as a libpq URL or key=value string. "
    "Without it, libpq's environment (PGHOST, PGUSER, PGPASSWORD, ~/.pgpass...) is used, "
    "which keeps the password off the command line.",
)
@click.option(
    "-o",
    "--output",
    default="migcheck-stats.json",
    show_default=True,
    help="File to write ('-' for stdout).",
)
@click.option(
    "--top",
    type=click.IntRange(0, 10_000),
    default=50,
    show_default=True,
    help="How many pg_stat_statements queries to keep, by calls.",
)
@click.option(
    "--show-sql",
    is_flag=True,
    help="Print the SQL this command runs (to run by hand instead) and exit.",
)
def stats_command(dsn: str | None, output: str, top: int, show_sql: bool) -> None:
    """Write table sizes, write rates and top queries of a live database to a file that
    `check --table-stats` and `rehearse --table-stats` read. Read-only catalog queries."""
    if show_sql:
        from migcheck.stats_collect import show_sql as sql

        click.echo(sql(top), nl=False)
        sys.exit(EXIT_CLEAN)
    sys.exit(run_stats(dsn, output, top))
