"""Fixes: the mechanical rewrites migcheck can apply to a migration it reports.

One engine for every front end: ``migcheck check --fix`` / ``--show-fixes``, the SARIF
``fixes`` and JSON ``fixes`` of each finding, and the language server's code actions.
``model`` is the data (a fix is a list of text edits by character offset, plus the new
files it creates), ``sql`` the SQL rewrites, ``alembic`` the same rewrites of an
Alembic revision's ``op.`` call, ``prisma`` the migration folder a CONCURRENTLY
statement (or a VALIDATE) moves to, ``plan`` which findings of a run get which fix,
``apply`` writing them (which files may be edited, atomically, never through a symlink)
and ``session`` the ``check`` command's fix stage.
"""
