"""Reports of a lint ``Result``: ``render(result, fmt, **opts)`` picks the renderer.

Each format lives in its own module, imported only when asked for, so importing this
package costs nothing on the CLI's start-up path.

Options: ``colour``, ``statistics`` and ``show_suppressed`` apply to ``text`` and
``concise`` only (the machine formats are the same with or without ``--statistics``);
``root`` (the repository root paths are made
relative to; default ``$GITHUB_WORKSPACE``, ``$CI_PROJECT_DIR`` or the working directory)
applies to ``github``, ``sarif``, ``gitlab`` and ``markdown``; ``files`` (every linted file, so clean
files are passing tests) to ``junit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from migcheck.model import Result

FORMATS = ("text", "concise", "json", "github", "sarif", "gitlab", "junit", "markdown")

# The options each format understands; the others are accepted and ignored, so the
# caller can pass its whole set (``statistics=...``) whatever the format.
_OPTIONS: dict[str, frozenset[str]] = {
    "text": frozenset({"colour", "statistics", "show_suppressed"}),
    "concise": frozenset({"colour", "statistics", "show_suppressed"}),
    "json": frozenset(),
    "github": frozenset({"root"}),
    "sarif": frozenset({"root"}),
    "gitlab": frozenset({"root"}),
    "junit": frozenset({"files"}),
    "markdown": frozenset({"root"}),
}
_KNOWN = frozenset().union(*_OPTIONS.values())


def render(result: Result, fmt: str, **opts: Any) -> str:
    """The report of ``result`` in format ``fmt`` (one of ``FORMATS``)."""
    if fmt not in _OPTIONS:
        raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    unknown = set(opts) - _KNOWN
    if unknown:
        raise TypeError(f"unknown report option(s): {', '.join(sorted(unknown))}")
    kwargs = {k: v for k, v in opts.items() if k in _OPTIONS[fmt]}
    if fmt in ("text", "concise"):
        from migcheck.report.text import render as text

        return text(result, concise=fmt == "concise", **kwargs)
    if fmt == "json":
        from migcheck.report.json import render as as_json

        return as_json(result)
    if fmt == "github":
        from migcheck.report.github import render as github

        return github(result, **kwargs)
    if fmt == "sarif":
        from migcheck.report.sarif import render as sarif

        return sarif(result, **kwargs)
    if fmt == "gitlab":
        from migcheck.report.gitlab import render as gitlab

        return gitlab(result, **kwargs)
    if fmt == "markdown":
        from migcheck.report.markdown import render as markdown

        return markdown(result, **kwargs)
    from migcheck.report.junit import render as junit

    return junit(result, **kwargs)


__all__ = ["FORMATS", "render"]
