"""``migcheck server``: a language server (LSP over stdio) for migration files.

``command`` registers the click command and imports nothing else; ``server`` (pygls) is
imported only when the command runs. ``histories`` keeps each open file's history and
schema states in memory, ``diagnostics`` turns findings into LSP diagnostics and hover
text, ``fixes`` builds the code actions' text edits. Only ``server`` and ``diagnostics``
know pygls/lsprotocol.
"""
