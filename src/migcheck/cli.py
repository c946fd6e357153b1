"""The ``migcheck`` command line: ``check`` (the default), ``rules`` and ``explain``.

Start-up time matters (this runs as a pre-commit hook), so everything beyond click is
imported inside the command that needs it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

import click

from migcheck.report import FORMATS
from migcheck.report.escape import visible
from migcheck.vocabulary import FAIL_ON

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from migcheck.config import Config
    from migcheck.model import InputError
    from migcheck.runner import RunResult
    from migcheck.vocabulary import FailOn

EXIT_CLEAN, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
# The environment variable that asks for --alembic-import (CI jobs set it per job).
ALEMBIC_IMPORT_ENV = "MIGCHECK_ALEMBIC_IMPORT"
# Formats with no place in the report for the config line: it goes to stderr instead.
_CONFIG_ON_STDERR = ("gitlab",)


_DEBUG = "migcheck.debug"


def _live_command() -> click.Command:
    from migcheck.live_cli import live_command

    return live_command


def _stats_command() -> click.Command:
    from migcheck.stats_cli import stats_command

    return stats_command


def _server_command() -> click.Command:
    from migcheck.lsp.command import server_command  # pygls: imported when the server starts

    return server_command


def _rehearse_command() -> click.Command:
    from migcheck.rehearse_cli import rehearse_command

    return rehearse_command


# Commands whose modules are imported only when the command is named (or for --help):
# a pre-commit run of ``check`` pays for none of their option tables.
_LAZY_COMMANDS: dict[str, Callable[[], click.Command]] = {
    "live": _live_command,
    "rehearse": _rehearse_command,
    "server": _server_command,
    "stats": _stats_command,
}


def _set_debug(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value:
        ctx.meta[_DEBUG] = True  # ``meta`` is shared by the whole context chain
        import warnings

        warnings.resetwarnings()  # --debug shows library warnings too


_debug_option = click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    callback=_set_debug,
    help="Show the traceback of an internal error (also MIGCHECK_DEBUG=1).",
)


class _DefaultGroup(click.Group):
    """A group where ``migcheck PATH`` means ``migcheck check PATH``, and where a bug ends
    the run with one line and exit 2, not a traceback (``--debug`` shows it)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _LAZY_COMMANDS:
            self.add_command(_LAZY_COMMANDS[cmd_name](), cmd_name)
        return super().get_command(ctx, cmd_name)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        named = args and (args[0] in self.commands or args[0] in _LAZY_COMMANDS)
        if args and not named and args[0] not in ("--help", "-h", "--version"):
            args = ["check", *args]
        elif not args:
            args = ["check"]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # The subcommand's --debug is parsed after this and turns them back on.
        if not (ctx.meta.get(_DEBUG) or os.environ.get("MIGCHECK_DEBUG") == "1"):
            import warnings

            # A library's warning about a stranger's migration (SQLAlchemy's SAWarning) is
            # not a finding, and printed by Python it would carry that input unescaped.
            warnings.simplefilter("ignore")
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as err:
            if ctx.meta.get(_DEBUG) or os.environ.get("MIGCHECK_DEBUG") == "1":
                raise
            # Exit 1 means "findings": an internal error must not look like one.
            name = type(err).__name__
            detail = visible(str(err))[:300]
            click.echo(
                f"migcheck: internal error: {name}{': ' + detail if detail else ''} "
                "(run with --debug for the traceback)",
                err=True,
            )
            ctx.exit(EXIT_USAGE)


def _version() -> str:
    from migcheck import __version__

    return __version__


@click.group(cls=_DefaultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), prog_name="migcheck")
@_debug_option
def main() -> None:
    """migcheck: a migration safety linter for PostgreSQL.

    Run `migcheck PATH...` (same as `migcheck check PATH...`) on migration files or
    directories (Prisma Migrate, Alembic, Flyway, golang-migrate, dbmate, plain SQL).
    """


def _csv(values: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for v in values:
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "--output-format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="Output format (concise: one line per finding, without help or excerpt).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the --format report to FILE; the text report still goes to the terminal.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON),
    default=None,
    help="Lowest severity that makes the exit code 1 (default: warning).",
)
@click.option(
    "--pg-version",
    type=click.IntRange(11, 18),
    default=None,
    help="Target PostgreSQL major version (default 14).",
)
@click.option(
    "--select", multiple=True, help="Run only these rule ids or categories (comma-separated)."
)
@click.option(
    "--extend-select", multiple=True, help="Add rule ids or categories to the default set."
)
@click.option("--ignore", multiple=True, help="Skip these rule ids or categories.")
@click.option(
    "--config",
    "config_file",
    default=None,
    metavar="FILE",
    help="Read settings from FILE instead of the nearest pyproject.toml "
    "[tool.migcheck] / migcheck.toml / .migcheck.toml.",
)
@click.option(
    "--config-from-base",
    is_flag=True,
    help="With --diff BASE: read the config file as it is on BASE, so the pull request "
    "being checked cannot change the policy that judges it.",
)
@click.option("--stdin-filename", default=None, help="Name to show for input read from `-`.")
@click.option(
    "--diff",
    "diff_base",
    metavar="BASE",
    default=None,
    help="Lint only the migrations added or modified since the merge base of BASE and HEAD "
    "(committed changes), as one deploy; PATHS narrow the search (default: the repository).",
)
@click.option(
    "--assume-in-transaction/--no-assume-in-transaction",
    default=None,
    help="The runner wraps each migration file in a transaction.",
)
@click.option(
    "--changeset", is_flag=True, default=None, help="Judge all named migrations as one deploy."
)
@click.option("--prisma-version", default=None, help="Prisma version to assume, e.g. 5.22.")
@click.option(
    "--max-file-size",
    type=float,
    default=None,
    help="Skip files larger than this many MB (default 10).",
)
@click.option(
    "--max-total-size",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Read at most this many MB of SQL in one run; more is an input error (default 64).",
)
@click.option(
    "--alembic-import/--no-alembic-import",
    default=None,
    help="Import Alembic revisions (runs their code) for full fidelity. Also "
    f"{ALEMBIC_IMPORT_ENV}=1; a config file cannot turn this on.",
)
@click.option(
    "--include-downgrade/--no-include-downgrade",
    default=None,
    help="Also lint Alembic downgrade() functions, as migrations of their own.",
)
@click.option(
    "--app-schema",
    "--prisma-schema",
    "app_schema",
    multiple=True,
    metavar="PATH",
    help="The app's schema file (schema.prisma, a prisma/schema/ folder, or SQLAlchemy "
    "models; globs allowed). Repeatable. Default: a Prisma history's schema.prisma. "
    "--prisma-schema is an alias, as in `migcheck live`.",
)
@click.option(
    "--app-ref",
    "--old-ref",
    "app_ref",
    default=None,
    metavar="REF",
    help="Git ref of the deployed app (default: the --diff merge base): a drop of what it "
    "no longer maps is the contract step of expand/contract, reported as info. "
    "--old-ref is an alias, as in `migcheck live`.",
)
@click.option(
    "--table-stats",
    default=None,
    metavar="FILE",
    help="JSON file of production table sizes: lock findings on small tables become info, "
    "on big ones they give the size and an estimated duration. With --diff, read on BASE.",
)
@click.option("--statistics", is_flag=True, help="Print finding counts per rule.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings reach the fail level.")
@click.option(
    "--baseline",
    default=None,
    metavar="FILE",
    help="Report only findings not recorded in this baseline file.",
)
@click.option(
    "--write-baseline",
    default=None,
    metavar="FILE",
    help="Record the current findings in FILE (then exit 0).",
)
@click.option(
    "--show-suppressed",
    is_flag=True,
    help="Also list the findings `migcheck: ignore` comments suppressed, with their reasons.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Apply the safe fixes to migrations git reports as uncommitted (with --diff: "
    "added since BASE), then report what remains.",
)
@click.option(
    "--show-fixes",
    is_flag=True,
    help="Print the fixes as a unified diff (on stderr for machine formats), without writing.",
)
@_debug_option
def check(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    fail_on: str | None,
    pg_version: int | None,
    select: tuple[str, ...],
    extend_select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    config_from_base: bool,
    stdin_filename: str | None,
    diff_base: str | None,
    assume_in_transaction: bool | None,
    changeset: bool | None,
    prisma_version: str | None,
    max_file_size: float | None,
    max_total_size: float | None,
    alembic_import: bool | None,
    include_downgrade: bool | None,
    app_schema: tuple[str, ...],
    app_ref: str | None,
    table_stats: str | None,
    statistics: bool,
    exit_zero: bool,
    baseline: str | None,
    write_baseline: str | None,
    show_suppressed: bool,
    fix: bool = False,
    show_fixes: bool = False,
) -> None:
    """Lint migrations under PATHS (files, directories, or - for stdin)."""
    from migcheck.config import ConfigError, merge
    from migcheck.configreport import describe
    from migcheck.errors import UserError
    from migcheck.runner import RunRequest, run

    paths = _checked_paths(paths, diff_base, config_from_base)
    import_reason = _alembic_import_reason(alembic_import)
    shown = [stdin_filename if p == "-" and stdin_filename else p for p in paths]
    try:
        config, source = _load_run_config(
            shown, config_file, diff_base if config_from_base else None
        )
    except (ConfigError, UserError) as err:
        click.echo(f"migcheck: {visible(str(err))}", err=True)
        sys.exit(EXIT_USAGE)
    _note_ignored_import(config)
    cli_settings: dict[str, object] = {
        "select": _csv(select),
        "extend_select": _csv(extend_select),
        "ignore": _csv(ignore),
        "fail_on": fail_on,
        "pg_version": pg_version,
        "assume_in_transaction": assume_in_transaction,
        "max_file_size": max_file_size,
        "max_total_size": max_total_size,
        "prisma_version": prisma_version,
        "alembic_import": import_reason is not None,
        "include_downgrade": include_downgrade,
        "table_stats": table_stats,
        "app_schema": tuple(app_schema),
        "app_ref": app_ref,
    }
    settings = merge(config, cli_settings)
    try:
        config_report = describe(config, source, cli_settings)
    except ValueError as err:  # an unknown rule on the command line
        raise click.UsageError(str(err)) from None
    stdin_text = _read_stdin() if "-" in paths else None
    try:
        req = RunRequest(
            paths=list(paths),
            stdin_text=stdin_text,
            settings=settings,
            stdin_filename=stdin_filename,
            changeset=changeset,
            config=config,
            baseline=baseline,
            write_baseline=write_baseline,
            diff_base=diff_base,
            config_report=config_report,
            alembic_import_reason=import_reason or "",
            announce=lambda line: click.echo(f"migcheck: {visible(line)}", err=True),
        )
        result = run(req)
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    except UserError as err:  # a bad baseline file, a git history --diff cannot use
        click.echo(f"migcheck: {visible(str(err))}", err=True)
        sys.exit(EXIT_USAGE)
    if fix or show_fixes or fmt == "sarif":
        result = _fix_stage(req, result, fmt, output, write=fix, show=show_fixes)
    _say_notes(result, write_baseline, fmt, output)
    _emit(result, fmt, statistics, output, show_suppressed)
    code = _exit_code(result, settings.fail_on)
    sys.exit(EXIT_CLEAN if exit_zero and code == EXIT_FINDINGS else code)


def _fix_stage(
    req: Any, result: RunResult, fmt: str, output: str | None, *, write: bool, show: bool
) -> RunResult:
    """``--fix`` / ``--show-fixes`` (``migcheck.fixes.session``); the diff goes to stdout
    with the text report, to stderr when stdout carries a machine format."""
    from migcheck.fixes.session import fix_stage

    if write and "-" in req.paths:
        raise click.UsageError("--fix writes files; it cannot fix standard input")
    result, outcome = fix_stage(
        req,
        result,
        write=write,
        show=show,
        say=lambda line: click.echo(f"migcheck: {visible(line)}", err=True),
    )
    if show and outcome.diff:
        on_stdout = output is not None or fmt in ("text", "concise")
        from migcheck.report.escape import log_line

        lines = visible(outcome.diff, multiline=True).splitlines()
        click.echo("".join(log_line(line) + "\n" for line in lines), nl=False, err=not on_stdout)
    return result


def _checked_paths(
    paths: tuple[str, ...], diff_base: str | None, config_from_base: bool
) -> tuple[str, ...]:
    """The paths to lint (``.`` by default under ``--diff``); a usage error when the
    options do not go together."""
    if diff_base is not None:
        if "-" in paths:
            raise click.UsageError("--diff reads files from git; it cannot lint standard input")
        paths = paths or (".",)
    elif config_from_base:
        raise click.UsageError(
            "--config-from-base reads the config file on the --diff base; give --diff BASE"
        )
    if not paths:
        raise click.UsageError("give at least one PATH (a file, a directory, or - for stdin)")
    return paths


def _note_ignored_import(config: Config | None) -> None:
    """Say on stderr that the config file's ``[alembic] import = true`` is not used."""
    if config is None or not config.alembic_import:
        return
    table = "tool.migcheck.alembic" if config.path.name == "pyproject.toml" else "alembic"
    click.echo(
        f"migcheck: note: {config.path.name} sets [{table}] import = true, which is "
        "ignored: a config file cannot make migcheck run code; pass --alembic-import "
        f"(or set {ALEMBIC_IMPORT_ENV}=1) to import the revisions",
        err=True,
    )


def _say_notes(result: RunResult, write_baseline: str | None, fmt: str, output: str | None) -> None:
    """The stderr lines before the report: skipped inputs, the baseline written (then
    exit 0), and the config line for formats with no place for it."""
    for skipped in result.notes:
        click.echo(f"migcheck: note: {visible(skipped.path)}: {visible(skipped.message)}", err=True)
    if result.history_errors:
        click.echo(f"migcheck: note: {history_errors_line(result.history_errors)}", err=True)
    if result.baseline_written is not None:
        n = result.baseline_written
        click.echo(
            f"migcheck: wrote {n} finding{'s' if n != 1 else ''} to {write_baseline}", err=True
        )
        sys.exit(EXIT_CLEAN)
    if output is None and fmt in _CONFIG_ON_STDERR:
        from migcheck.configreport import config_lines

        for line in config_lines(result):
            click.echo(f"migcheck: {visible(line)}", err=True)


def history_errors_line(errors: Sequence[InputError]) -> str:
    """One line for the unreadable files of the history that the user did not name.

    A pre-commit hook names the changed files only: an old broken file next to them is
    not what the hook was asked about, so it neither fills the output nor fails the run
    (its error shows, and fails, when its directory is linted)."""
    first = errors[0]
    line = f":{first.line}" if first.line else ""
    where = f"{visible(first.path)}{line}: {visible(first.message)}"
    n = len(errors)
    if n == 1:
        head = f"1 other file of the history could not be read ({where})"
    else:
        head = f"{n} other files of the history could not be read (the first: {where})"
    return f"{head}; what {'it does' if n == 1 else 'they do'} to the schema is unknown to this run"


def _alembic_import_reason(flag: bool | None) -> str | None:
    """Why Alembic revisions are imported (their code runs), None when they are not.

    Only the person running migcheck decides: the flag, else the environment variable.
    """
    import os

    if flag is not None:
        return "--alembic-import was given" if flag else None
    value = os.environ.get(ALEMBIC_IMPORT_ENV, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return None
    if value in ("1", "true", "yes"):
        return f"{ALEMBIC_IMPORT_ENV}={os.environ[ALEMBIC_IMPORT_ENV].strip()} is set"
    raise click.UsageError(
        f"{ALEMBIC_IMPORT_ENV}={os.environ[ALEMBIC_IMPORT_ENV]!r} is not valid; "
        "set it to 1 to import Alembic revisions (runs their code), or 0"
    )


def _load_run_config(
    paths: list[str], explicit: str | None, base: str | None
) -> tuple[Config | None, str | None]:
    """The run's config (or None) and where it came from: ``discovered``, ``--config``,
    or ``base:<ref>`` when ``base`` (``--config-from-base``) is given."""
    from pathlib import Path

    from migcheck.config import load_config, locate_config, locate_config_on_base

    if explicit is not None and explicit in (os.devnull, "/dev/null"):
        return None, None  # as ruff and git read it: no config at all, none discovered
    if base is not None:
        from migcheck.gitdiff import base_tree

        tree = base_tree(base, Path.cwd())
        found, raw = locate_config_on_base(tree.read, tree.top, tree.ref, paths, explicit)
        source = f"base:{tree.ref}"
        return (load_config(found, raw) if found is not None else None), source
    found, notes = locate_config(paths, explicit)
    for note in notes:
        click.echo(f"migcheck: note: {visible(str(note))}", err=True)
    if found is None:
        return None, None
    return load_config(found), ("--config" if explicit is not None else "discovered")


def _read_stdin() -> str:
    data = sys.stdin.buffer.read()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise click.UsageError(f"-: standard input is not valid UTF-8 ({err.reason})") from None


def _emit(
    result: RunResult, fmt: str, statistics: bool, output: str | None, show_suppressed: bool = False
) -> None:
    from migcheck.report import render
    from migcheck.report.text import use_colour

    if output is None:
        colour = fmt in ("text", "concise") and use_colour(sys.stdout)
        sys.stdout.write(
            render(
                result, fmt, colour=colour, statistics=statistics, show_suppressed=show_suppressed
            )
        )
    else:
        report = render(result, fmt, statistics=statistics)
        try:
            with open(output, "w", encoding="utf-8", newline="") as fh:
                fh.write(report)
        except OSError as err:
            click.echo(f"migcheck: cannot write {output}: {err.strerror or err}", err=True)
            sys.exit(EXIT_USAGE)
        colour = use_colour(sys.stdout)
        sys.stdout.write(render(result, "text", colour=colour, statistics=statistics))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if fmt == "github" and summary:
        from migcheck.report.github import write_step_summary

        write_step_summary(result, summary)


def _exit_code(result: RunResult, fail_on: FailOn) -> int:
    from migcheck.model import SEVERITY_RANK

    # A file migcheck was asked to judge and could not read fails the run whatever else
    # it found: a CI gate must never pass on a migration it did not read.
    if result.fatal or result.errors:
        return EXIT_USAGE
    if fail_on == "never":
        return EXIT_CLEAN
    threshold = SEVERITY_RANK[fail_on]
    if any(SEVERITY_RANK.get(f.severity, 0) >= threshold for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_CLEAN


@main.command("rules")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules_cmd(fmt: str) -> None:
    """List every rule with its category, default severity and whether it is on by default."""
    from migcheck.rules import all_rules

    rules = all_rules()
    if fmt == "json":
        import json

        data = [
            {
                "id": r.id,
                "category": r.category,
                "severity": r.severity,
                "default": r.default_enabled,
                "min_pg": r.min_pg,
                "max_pg": r.max_pg,
                "summary": r.summary,
            }
            for r in rules.values()
        ]
        click.echo(json.dumps(data, indent=2))
        return
    width = max(len(r) for r in rules)
    for r in rules.values():
        flag = "" if r.default_enabled else "  (opt-in)"
        click.echo(f"{r.id:<{width}}  {r.category:<13} {r.severity:<8} {r.summary}{flag}")


@main.command()
@click.argument("rule_id")
def explain(rule_id: str) -> None:
    """Print the documentation of RULE_ID."""
    import difflib

    from migcheck.docs import rule_doc
    from migcheck.rules import rule_index

    if rule_id not in rule_index():
        close = difflib.get_close_matches(rule_id, list(rule_index()), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise click.UsageError(f"unknown rule {rule_id!r}{hint}; `migcheck rules` lists them")
    doc = rule_doc(rule_id)
    if doc is None:
        raise click.ClickException(f"no documentation found for {rule_id}")
    click.echo(doc.rstrip())


if __name__ == "__main__":  # pragma: no cover
    main()
