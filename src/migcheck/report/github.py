"""The ``--format github`` report: GitHub Actions workflow commands, and the job summary.

Each finding becomes one ``::error``/``::warning``/``::notice`` line, which the runner
turns into an annotation on the pull request's diff. Values are escaped exactly as
``@actions/core`` does it, so a message with a newline, ``%``, ``:`` or ``,`` (or such a
path) arrives intact. ``write_step_summary`` appends a Markdown table to the file named by
``GITHUB_STEP_SUMMARY``: GitHub shows at most 10 annotations of each level per step, the
summary lists every finding.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from migcheck.model import Finding, Result
from migcheck.report._common import repo_path
from migcheck.report.escape import visible
from migcheck.report.mdtext import cell as _cell
from migcheck.report.mdtext import code as _code

_COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
# GitHub caps a step summary at 1 MiB; past this many rows the table says how many are left.
_SUMMARY_ROWS = 500


def escape_data(text: str) -> str:
    """Escape a command's message as ``@actions/core``'s ``escapeData``."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value as ``@actions/core``'s ``escapeProperty``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: Iterable[tuple[str, object]], message: str) -> str:
    """One workflow command. Control characters from the input are made visible first (a
    property is one line; the message keeps its newlines, which ``escape_data`` encodes)."""
    props = ",".join(
        f"{k}={escape_property(visible(str(v)))}" for k, v in properties if v is not None
    )
    return (
        f"::{name}{' ' + props if props else ''}::{escape_data(visible(message, multiline=True))}"
    )


def annotation(f: Finding, root: str | None = None) -> str:
    span = f.span
    line = max(span.line, 1)
    end_line = max(span.end_line, line)
    props: list[tuple[str, object]] = [("file", repo_path(f.path, root)[0]), ("line", line)]
    # The runner rejects columns on an annotation that spans several lines.
    if end_line == line:
        col = max(span.column, 1)
        props += [("col", col), ("endLine", end_line), ("endColumn", max(span.end_column, col))]
    else:
        props.append(("endLine", end_line))
    props.append(("title", f.rule))
    text = f"{f.message}\n\nhelp: {f.help}" if f.help else f.message
    return command(_COMMAND.get(f.severity, "warning"), props, text)


def render(result: Result, *, root: str | None = None) -> str:
    from migcheck.configreport import config_lines
    from migcheck.report.text import summary_line

    out = [
        command("error", [("file", repo_path(e.path, root)[0]), ("line", e.line)], e.message)
        for e in result.errors
    ]
    out += [annotation(f, root) for f in result.findings]
    out += [
        command("notice", [("title", "migcheck config")], line) for line in config_lines(result)
    ]
    out.append(summary_line(result))
    return "\n".join(out) + "\n"


def step_summary(result: Result, *, root: str | None = None) -> str:
    """The job summary as Markdown: a table of findings, input errors, and the totals."""
    from migcheck.report.text import summary_line

    out = ["## migcheck", ""]
    if result.findings:
        out += ["| Location | Rule | Severity | Message |", "|---|---|---|---|"]
        for f in result.findings[:_SUMMARY_ROWS]:
            where = f"{repo_path(f.path, root)[0]}:{f.span.line}"
            out.append(f"| {_code(where)} | {_code(f.rule)} | {f.severity} | {_cell(f.message)} |")
        rest = len(result.findings) - _SUMMARY_ROWS
        if rest > 0:
            out += ["", f"… and {rest} more finding{'s' if rest != 1 else ''} (see the log)."]
        out.append("")
    if result.errors:
        out += ["**Input errors:**", ""]
        for e in result.errors:
            where = repo_path(e.path, root)[0] + (f":{e.line}" if e.line else "")
            out.append(f"- {_code(where)}: {_cell(e.message)}")
        out.append("")
    from migcheck.configreport import config_lines

    out += [f"{_cell(line)}  " for line in config_lines(result)]
    out += [f"**{summary_line(result)}**", ""]
    return "\n".join(out)


def write_step_summary(result: Result, path: str, *, root: str | None = None) -> bool:
    """Append the job summary to ``path`` (``$GITHUB_STEP_SUMMARY``). Returns False, after a
    one-line message on stderr, when the file cannot be written: a summary is a nicety and
    must not fail the run."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(step_summary(result, root=root))
    except OSError as err:
        sys.stderr.write(
            f"migcheck: cannot write the GitHub step summary to {path}: {err.strerror or err}\n"
        )
        return False
    return True
