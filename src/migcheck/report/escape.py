"""Neutralise control characters from input before a report prints them.

File names, identifiers, comments and statement text come from a pull request. Printed
raw, an ESC sequence rewrites a terminal or a log viewer, and a newline followed by
``::error::`` or ``::stop-commands::`` becomes a GitHub workflow command. Every reporter
passes input through this module, so the set of dangerous characters is defined once:
C0 controls, DEL, C1 controls, the Unicode line and paragraph separators, the bidi
overrides and isolates ("Trojan Source"), lone surrogates (undecodable file-name bytes)
and the two non-characters XML 1.0 cannot carry.

* ``visible`` (text, Markdown, JUnit): each such character becomes a visible escape
  (``\\n``, ``\\x1b``, ``\\u202e``); with ``multiline=True`` the tab and newline a
  multi-line excerpt legitimately uses are kept, and CRLF becomes LF.
* ``log_line``: a report line that a CI runner could still take for a command (one whose
  start is ``::`` or ``##[`` after leading blanks or colour codes, e.g. from a file named
  ``::x.sql``) gets its first character escaped.
* ``json_text`` (JSON, SARIF, GitLab): the json module already escapes C0; this writes
  the rest as ``\\uXXXX`` escapes, which keeps the decoded value exactly as it was.
"""

from __future__ import annotations

import re

from migcheck.lazyre import lazy

_UNSAFE = "\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff"
_ANY = lazy(f"[{_UNSAFE}]")
# The same set less tab and newline, for multi-line text.
_MULTILINE = lazy(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]"
)
# What json.dumps leaves raw (it escapes C0 itself): only ever inside a JSON string.
_JSON_RAW = lazy("[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufffe\uffff]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The colour codes the text report puts before a line's path count as blanks: a log
# viewer drops them and would read the line as a command.
_COMMAND_START = lazy(r"^(?:[ \t]|\x1b\[[0-9;]*m)*(?:::|##\[)")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    short = _SHORT.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every unsafe character written as a visible escape.

    A name, path or message is one line: its newlines are escaped too. ``multiline``
    (statement excerpts, help) keeps tab and newline, so the text keeps its layout."""
    if multiline:
        text = text.replace("\r\n", "\n")
        return _MULTILINE.sub(_escape, text)
    return _ANY.sub(_escape, text)


def log_line(line: str) -> str:
    """``line`` (already ``visible``) unable to start a CI workflow command."""
    match = _COMMAND_START.match(line)
    if match is None:
        return line
    at = match.end() - (3 if line[match.end() - 1] == "[" else 2)
    return f"{line[:at]}\\x{ord(line[at]):02x}{line[at + 1 :]}"


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}"


def json_text(dumped: str) -> str:
    """The output of ``json.dumps(..., ensure_ascii=False)`` with no raw unsafe character
    left; the value it decodes to is unchanged."""
    return _JSON_RAW.sub(_json_escape, dumped)
