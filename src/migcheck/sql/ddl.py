"""Token-level recogniser for the DDL a safety linter cares about.

sqlglot (30.x) returns an opaque ``exp.Command`` for much of ``ALTER TABLE`` and
``ALTER TYPE``, turns a whole multi-action ``ALTER TABLE`` opaque when one action is
unsupported (hiding a ``DROP COLUMN`` beside it), misreads ``RENAME a TO b`` as a table
rename, and renames functions inside defaults. The grammar of these statements is
keyword-driven, so reading them from sqlglot's own tokens is both exact and cheap.
Everything here returns ``Op`` values identical in shape to the tree converter's. The
actions of ``ALTER TABLE`` are read in ``alter_table.py`` with this recogniser.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot.tokens import Token, TokenType

from migcheck.model import ColumnDef, Constraint, Op
from migcheck.sql.exprs import analyse_expression, column_type
from migcheck.sql.tokens import Cursor, name_list, split_top, text_of

# What a statement reader returns: the ops, and why the statement was not understood
# (None when it was).
ParseResult = tuple[list[Op], str | None]

_COLUMN_CONSTRAINT_WORDS = (
    "NOT",
    "NULL",
    "CONSTRAINT",
    "CHECK",
    "DEFAULT",
    "GENERATED",
    "UNIQUE",
    "PRIMARY",
    "REFERENCES",
    "COLLATE",
    "DEFERRABLE",
    "INITIALLY",
    "COMPRESSION",
    "STORAGE",
)
TABLE_CONSTRAINT_START = ("CONSTRAINT", "CHECK", "UNIQUE", "PRIMARY", "FOREIGN", "EXCLUDE")


class Recogniser:
    """Reads DDL from one statement's tokens; ``source`` is the file text they index."""

    def __init__(self, source: str, tokens: Sequence[Token]) -> None:
        self.source = source
        self.tokens = tokens

    def text(self, toks: Sequence[Token]) -> str:
        return text_of(self.source, toks)

    # -- column definitions and constraints -------------------------------------------

    def column_def(self, toks: Sequence[Token]) -> ColumnDef | None:
        cur = Cursor(toks)
        name = cur.name()
        if name is None:
            return None
        type_toks = cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
        ctype = column_type(self.source, type_toks)
        not_null = False
        default = None
        generated = None
        constraints: list[Constraint] = []
        cname: str | None = None
        while not cur.at_end():
            if cur.accept("CONSTRAINT"):
                cname = cur.name()
                continue
            if cur.accept("NOT", "NULL"):
                not_null = True
                constraints.append(Constraint("not_null", cname, (name,)))
            elif cur.accept("NULL"):
                pass
            elif cur.accept("DEFAULT"):
                # The first token always belongs to the default, even when it is NULL,
                # which is also a constraint keyword.
                start = cur.pos
                head = cur.peek()
                if head is not None and head.token_type == TokenType.L_PAREN:
                    cur.group()
                else:
                    cur.next()
                cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
                expr = list(cur.tokens[start : cur.pos])
                default = analyse_expression(self.source, expr)
            elif cur.accept("GENERATED"):
                if cur.accept("ALWAYS", "AS", "IDENTITY") or cur.accept(
                    "BY", "DEFAULT", "AS", "IDENTITY"
                ):
                    generated = "identity"
                    cur.group()
                elif cur.accept("ALWAYS", "AS"):
                    body = cur.group()
                    generated = "virtual"
                    if cur.accept("STORED"):
                        generated = "stored"
                    elif cur.accept("VIRTUAL"):
                        generated = "virtual"
                    default = analyse_expression(self.source, body)
                else:
                    cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
            elif cur.accept("PRIMARY", "KEY"):
                constraints.append(Constraint("primary_key", cname, (name,)))
                not_null = True
                cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
            elif cur.accept("UNIQUE"):
                constraints.append(Constraint("unique", cname, (name,)))
                cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
            elif cur.accept("CHECK"):
                body = cur.group()
                constraints.append(self._check(cname, body))
                cur.accept("NO", "INHERIT")
            elif cur.accept("REFERENCES"):
                ref = cur.relation()
                ref_cols = name_list(cur.group())
                rest = cur.until_keyword(_COLUMN_CONSTRAINT_WORDS)
                constraints.append(
                    Constraint("foreign_key", cname, (name,), ref, ref_cols, text=self.text(rest))
                )
            else:
                cur.next()
                continue
            cname = None
        return ColumnDef(name, ctype, not_null, default, generated, tuple(constraints))

    def _check(self, name: str | None, body: Sequence[Token]) -> Constraint:
        col = None
        # CHECK (col IS NOT NULL) is what lets SET NOT NULL skip its scan on PG 12+.
        c = Cursor(body)
        n = c.name()
        if n and c.accept("IS", "NOT", "NULL") and c.at_end():
            col = n
        return Constraint(
            "check", name, (col,) if col else (), not_null_column=col, text=self.text(body)
        )

    def table_constraint(self, toks: Sequence[Token]) -> Constraint | None:
        cur = Cursor(toks)
        name = cur.name() if cur.accept("CONSTRAINT") else None
        not_valid = _ends_with_not_valid(toks)
        if cur.accept("CHECK"):
            c = self._check(name, cur.group())
            return Constraint(
                "check",
                name,
                c.columns,
                not_valid=not_valid,
                not_null_column=c.not_null_column,
                text=self.text(toks),
            )
        if cur.at("UNIQUE") or cur.at("PRIMARY", "KEY"):
            kind = "unique" if cur.accept("UNIQUE") else "primary_key"
            if kind == "primary_key":
                cur.accept("PRIMARY", "KEY")
            cur.accept("NULLS", "NOT", "DISTINCT") or cur.accept("NULLS", "DISTINCT")
            if cur.accept("USING", "INDEX"):
                return Constraint(kind, name, using_index=cur.relation(), text=self.text(toks))
            cols = name_list(cur.group())
            return Constraint(kind, name, cols, not_valid=not_valid, text=self.text(toks))
        if cur.accept("FOREIGN", "KEY"):
            cols = name_list(cur.group())
            ref = cur.relation() if cur.accept("REFERENCES") else None
            ref_cols = name_list(cur.group())
            return Constraint(
                "foreign_key", name, cols, ref, ref_cols, not_valid=not_valid, text=self.text(toks)
            )
        if cur.accept("EXCLUDE"):
            return Constraint("exclude", name, not_valid=not_valid, text=self.text(toks))
        if cur.accept("NOT", "NULL"):  # PG 18: CONSTRAINT n NOT NULL col
            col = cur.name()
            return Constraint(
                "not_null", name, (col,) if col else (), not_valid=not_valid, text=self.text(toks)
            )
        return None

    # -- ALTER TABLE ------------------------------------------------------------------

    # -- other DDL --------------------------------------------------------------------

    def alter_type(self, cur: Cursor) -> list[Op]:
        name = cur.relation()
        if cur.accept("ADD", "VALUE"):
            ine = cur.accept("IF", "NOT", "EXISTS")
            tok = cur.next()
            value = tok.text if tok is not None else ""
            pos = None
            if cur.at("BEFORE") or cur.at("AFTER"):
                pos = cur.kw()
            return [
                Op(
                    "add_enum_value",
                    name,
                    values=(value,),
                    mode=pos,
                    options={"if_not_exists": ine},
                )
            ]
        if cur.accept("RENAME", "VALUE"):
            old = cur.next()
            cur.accept("TO")
            new = cur.next()
            return [
                Op(
                    "rename_enum_value",
                    name,
                    values=(old.text if old else "",),
                    new_name=new.text if new else None,
                )
            ]
        if cur.accept("RENAME", "TO"):
            return [Op("rename_type", name, name=name, new_name=cur.relation())]
        if cur.accept("SET", "SCHEMA"):
            return [Op("alter_type_other", name, name=name)]
        return [Op("alter_type_other", name, name=name)]

    def drop(self, cur: Cursor) -> list[Op]:
        """``DROP <kind> [CONCURRENTLY] [IF EXISTS] a, b [CASCADE]`` after DROP."""
        kinds = {
            ("TABLE",): "drop_table",
            ("INDEX",): "drop_index",
            ("VIEW",): "drop_view",
            ("MATERIALIZED", "VIEW"): "drop_view",
            ("TYPE",): "drop_type",
            ("DOMAIN",): "drop_type",
            ("SCHEMA",): "drop_schema",
            ("SEQUENCE",): "drop_sequence",
            ("EXTENSION",): "drop_extension",
            ("FUNCTION",): "drop_function",
            ("PROCEDURE",): "drop_function",
            ("TRIGGER",): "drop_trigger",
            ("POLICY",): "drop_policy",
            ("DATABASE",): "drop_database",
        }
        kind = next((k for words, k in kinds.items() if cur.accept(*words)), "")
        if not kind:
            return [Op("drop_other")]
        conc = cur.accept("CONCURRENTLY")
        ie = cur.accept("IF", "EXISTS")
        rest = cur.rest()
        cascade = any(t.text.upper() == "CASCADE" for t in rest[-1:])
        if kind == "drop_database":
            c = Cursor(rest)
            return [Op(kind, name=c.name(), if_exists=ie)]
        if kind in ("drop_trigger", "drop_policy"):
            c = Cursor(rest)
            name = c.name()
            table = c.relation() if c.accept("ON") else None
            return [Op(kind, table, name=name, if_exists=ie)]
        names: list[tuple[str, int]] = []
        for part in split_top(rest):
            c = Cursor(part)
            n = c.relation() if kind != "drop_schema" else c.name()
            if n:
                names.append((n, part[0].start))
        ops = []
        for n, offset in names:
            op = Op(
                kind,
                n if kind in ("drop_table", "drop_view") else None,
                name=n,
                concurrently=conc,
                if_exists=ie,
                source="tokens",
                options={
                    "cascade": cascade,
                    "materialized": "MATERIALIZED" in self.text(self.tokens[:3]).upper(),
                },
            )
            # Point at the name only when several are dropped; one name means the statement.
            op.offset = offset if len(names) > 1 else -1
            ops.append(op)
        return ops


def _ends_with_not_valid(toks: Sequence[Token]) -> bool:
    words = [t.text.upper() for t in toks[-2:]]
    return words == ["NOT", "VALID"]
