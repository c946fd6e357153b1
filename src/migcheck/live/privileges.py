"""Who runs the untrusted SQL in the live check, and what it may touch.

Migrations and app queries come from the pull request under review, so they run on a
connection that logs in as a role without superuser rights: the "runner" role. It is
NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS, a member of no role,
and owns only the scratch databases it works in (and, through them, their ``public``
schema). Anything needing more (``COPY ... TO PROGRAM``, ``pg_read_file``, writing
server files, ``ALTER SYSTEM``, other databases, untrusted extensions) fails inside the
migration with SQLSTATE 42501, which the report names ``live-needs-superuser``.

``SET ROLE``/``SET SESSION AUTHORIZATION`` on a superuser session would not do: the
migration could ``RESET`` them. migcheck keeps superuser connections for its own work
only (creating and dropping databases, sealing templates, sampling locks, creating the
extensions the person running it allowed with ``--allow-extension``).

This module holds the role's definition, the extension allow-list, and the fingerprint
of the cluster-wide state that must not change from one run to the next.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

# The role of our own cluster. Fixed (not per run) because cached templates hold objects
# it owns; its password is replaced at the start of every run.
RUNNER_ROLE = "migcheck_owner"
RUNNER_ATTRIBUTES = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
# insufficient_privilege: what the runner gets for anything beyond its own database.
NEEDS_SUPERUSER = "42501"

_EXTENSION = re.compile(
    r"^create\s+extension\s+(?P<ine>if\s+not\s+exists\s+)?"
    r'(?P<name>"[^"]+"|[a-z_][a-z0-9_$]*)'
    r"(?P<rest>(?:\s+(?:with|schema\s+(?:\"[^\"]+\"|[a-z_][a-z0-9_$]*)|cascade))*)\s*;?\s*$",
    re.IGNORECASE,
)
_SCHEMA = re.compile(r'\bschema\s+("[^"]+"|[a-z_][a-z0-9_$]*)', re.IGNORECASE)


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith('"') else name.lower()


@dataclass(frozen=True)
class ExtensionRequest:
    """A plain ``CREATE EXTENSION`` statement of an extension the user allowed."""

    name: str
    schema: str | None
    if_not_exists: bool


def parse_allowed_extensions(values: Sequence[str]) -> frozenset[str]:
    """``--allow-extension`` values (repeatable, comma-separated) as extension names."""
    names = set()
    for value in values:
        for part in value.split(","):
            name = part.strip()
            if name:
                names.add(name)
    return frozenset(names)


def allowed_extension(bare: str, allowed: frozenset[str]) -> ExtensionRequest | None:
    """The request when ``bare`` (a comment-free statement) creates an allowed extension.

    Only the plain form is recognised (optionally IF NOT EXISTS, WITH, SCHEMA, CASCADE);
    VERSION clauses and CREATE EXTENSION inside DO blocks or functions run as the runner
    role and fail like any other superuser-only statement.
    """
    match = _EXTENSION.match(bare)
    if match is None:
        return None
    name = _unquote(match["name"])
    if name not in allowed:
        return None
    schema = _SCHEMA.search(match["rest"] or "")
    return ExtensionRequest(
        name=name,
        schema=_unquote(schema.group(1)) if schema else None,
        if_not_exists=bool(match["ine"]),
    )


# -- cluster state -------------------------------------------------------------------
# Files whose content a superuser could change from SQL and the server reads at start.
_STATE_FILES = ("postgresql.auto.conf", "postgresql.conf", "pg_hba.conf", "pg_ident.conf")
_STATE_QUERIES = (
    # Roles and their attributes (not passwords: the runner's changes every run).
    "SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,"
    " rolreplication, rolbypassrls, rolconnlimit, rolvaliduntil::text"
    " FROM pg_catalog.pg_authid ORDER BY 1",
    "SELECT roleid::regrole::text, member::regrole::text, admin_option"
    " FROM pg_catalog.pg_auth_members ORDER BY 1, 2",
    # ALTER DATABASE / ALTER ROLE ... SET
    "SELECT setdatabase, setrole, setconfig::text FROM pg_catalog.pg_db_role_setting ORDER BY 1, 2",
    # Every database that is not a migcheck cache: owner, privileges, connectability.
    "SELECT datname, datdba::regrole::text, datacl::text, datallowconn, datistemplate,"
    " datconnlimit FROM pg_catalog.pg_database"
    " WHERE left(datname, 9) <> 'migcheck_' ORDER BY 1",
    "SELECT spcname, spcacl::text, spcoptions::text FROM pg_catalog.pg_tablespace ORDER BY 1",
    "SELECT count(*) FROM pg_catalog.pg_shdescription",
    "SELECT count(*) FROM pg_catalog.pg_shseclabel",
    "SELECT count(*) FROM pg_catalog.pg_replication_origin",
    "SELECT count(*) FROM pg_catalog.pg_subscription",
)


def grant_replication_role(admin: psycopg.Connection, role: str) -> None:
    """Let ``role`` set ``session_replication_role`` (PostgreSQL 15+), the one privilege
    beyond its scratch database it gets: the query checks turn foreign keys and triggers
    off inside their rolled-back transaction, so a sample value that references no row
    does not make a check inconclusive. It only affects that role's own sessions; a
    migration that sets it skips its own foreign-key checks, in its own scratch database."""
    from psycopg import sql

    if int(admin.info.server_version) >= 150000:
        admin.execute(
            sql.SQL("GRANT SET ON PARAMETER session_replication_role TO {}").format(
                sql.Identifier(role)
            )
        )


def revoke_replication_role(admin: psycopg.Connection, role: str) -> None:
    """Undo ``grant_replication_role``: a role holding a parameter privilege cannot be dropped."""
    from psycopg import sql

    if int(admin.info.server_version) >= 150000:
        admin.execute(
            sql.SQL(
                "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN "
                "EXECUTE format('REVOKE SET ON PARAMETER session_replication_role FROM %I', "
                "{name}); END IF; END $$"
            ).format(name=sql.Literal(role))
        )


def cluster_fingerprint(admin: psycopg.Connection, data_dir: Path) -> str:
    """A digest of everything cluster-wide a migration could try to leave behind."""
    digest = hashlib.sha256()
    for name in _STATE_FILES:
        try:
            content = (data_dir / name).read_bytes()
        except OSError:
            content = b"<missing>"
        digest.update(f"{name}\0".encode() + content + b"\0")
    for query in _STATE_QUERIES:
        rows = admin.execute(query).fetchall()
        digest.update(repr(rows).encode())
    return digest.hexdigest()
