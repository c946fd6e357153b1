"""How migcheck writes an identifier: the one place names become SQL text.

Two forms, both valid SQL for the name PostgreSQL resolved:

- ``quote``/``qname``/``qcol``: every part double-quoted (``"billing"."Invoice"``), for
  messages, where a name must stand out from the prose around it;
- ``ident``: bare when PostgreSQL folds the bare word to the same name (``users``,
  ``"User"``, ``"user"``), for the SQL in help text that a user pastes.

Names in ops are stored folded (unquoted lower-cased, quoted kept) and joined with ``.``,
a dot inside one part stored as ``model.DOT_IN_NAME``; both forms give the real parts
back and double every ``"`` inside them, so a hostile name still yields valid SQL.
"""

from __future__ import annotations

import re

from migcheck.model import DOT_IN_NAME, name_parts

# Words that must be quoted when used as identifiers (PostgreSQL's reserved keywords that
# people actually name tables and columns after).
RESERVED = frozenset(
    """
all analyse analyze and any array as asc asymmetric both case cast check collate column
constraint create current_catalog current_date current_role current_time
current_timestamp current_user default deferrable desc distinct do else end except false
fetch for foreign from grant group having in initially intersect into lateral leading
limit localtime localtimestamp not null offset on only or order placing primary
references returning select session_user some symmetric system_user table then to
trailing true union unique user using variadic when where window with
""".split()  # noqa: SIM905
)
_SIMPLE = re.compile(r"[a-z_][a-z0-9_$]*")


def quote(part: str | None) -> str:
    """One identifier, always quoted: ``"User"``, ``"we""ird"``."""
    return '"' + (part or "").replace(DOT_IN_NAME, ".").replace('"', '""') + '"'


def qname(name: str | None) -> str:
    """A stored (possibly qualified) name, every part quoted: ``"billing"."Invoice"``."""
    return ".".join(quote(part) for part in name_parts(name or ""))


def qcol(table: str | None, column: str | None) -> str:
    """``"User"."email"``: how messages name a column."""
    return f"{qname(table)}.{quote(column)}"


def ident_part(part: str, reserved: frozenset[str] = RESERVED) -> str:
    """One identifier as written (no stored-name encoding), bare when PostgreSQL would
    fold the bare word to itself."""
    if _SIMPLE.fullmatch(part) and part not in reserved:
        return part
    return '"' + part.replace('"', '""') + '"'


def ident(name: str | None) -> str:
    """A stored (possibly qualified) name for SQL the user pastes: ``users``,
    ``app."User"``, ``"user"``."""
    return ".".join(ident_part(part) for part in name_parts(name or ""))


def literal(text: str) -> str:
    """A string literal: ``'app.users_id_seq'`` (for ``nextval('…')``), quotes doubled."""
    return "'" + text.replace("'", "''") + "'"


def qualified(name: str, schema: str | None, reserved: frozenset[str] = RESERVED) -> str:
    """``schema.name`` from two separate identifiers (not a stored name: a dot in either is
    part of the identifier), in the ``ident`` form."""
    if schema:
        return f"{ident_part(schema, reserved)}.{ident_part(name, reserved)}"
    return ident_part(name, reserved)
