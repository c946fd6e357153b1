"""Markdown and HTML escaping for reports a pull request shows (a comment, a job summary).

Everything these reports print from a pull request (file names, identifiers, statement
text, messages that quote them) must render as the text it is: no HTML, no Markdown link
or emphasis, no table cell broken by ``|``, no ``@mention`` that notifies a stranger's
chosen user and no auto-linked URL. Control characters are made visible first
(``escape.visible``). Statement text goes in fenced blocks, where GitHub renders nothing.
"""

from __future__ import annotations

import re

from migcheck.lazyre import lazy
from migcheck.report.escape import visible

# Characters Markdown gives a meaning inside a line; a backslash makes each literal.
_MARKDOWN = lazy(r"([\\`*_\[\]~|])")
# A word joiner after "@" and inside "://" / "www." stops GitHub's mention and autolink
# matching while the reader sees the same text.
_JOINER = "\u2060"
_MENTION = lazy(r"@(?=[\w-])")
_AUTOLINK = lazy(r"(?i)(?<=\w)(://)|\b(www)\.")


def cell(text: str) -> str:
    """``text`` as inline Markdown: one table cell or paragraph line, rendered literally."""
    text = visible(text, multiline=True)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _MENTION.sub("@" + _JOINER, text)
    text = _AUTOLINK.sub(lambda m: f":{_JOINER}//" if m.group(1) else f"www{_JOINER}.", text)
    return text.replace("\r\n", "<br>").replace("\n", "<br>")


def code(text: str) -> str:
    """``text`` as an inline code span (no Markdown, no mention, no link inside)."""
    text = visible(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    # A code span cannot hold "|" inside a table cell unescaped.
    body = text.replace("|", "\\|")
    return f"{fence}{pad}{body}{pad}{fence}"


def fenced(text: str, lang: str = "") -> str:
    """``text`` as a fenced code block, with a fence longer than any backtick run in it."""
    text = visible(text, multiline=True).rstrip("\n")
    longest = max((len(run) for run in re.findall(r"`{3,}", text)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"
