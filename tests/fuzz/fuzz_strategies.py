"""Hypothesis strategies for hostile migration input: SQL text built from fragments that
stress the splitter and the parsers (quotes of every kind, comments, DO blocks, deep
nesting, control characters), hostile names, and raw bytes."""

from __future__ import annotations

from hypothesis import strategies as st

# Characters that have broken scanners before: controls, quotes of every kind, BOM,
# separators, combining marks, a lone surrogate stand-in (U+FFFD), right-to-left marks.
HOSTILE_CHARS = (
    "\x00\x01\x07\x08\x0b\x0c\x1b\x7f\x85\x9b\u2028\u2029\u200f\u202e\ufeff\ufffd"
    "\r\n\t '\"`$;:()[]{}\\/*-#%&|<>=!?,.@^~+éß中\U0001f600"
)
# Text read from a file is decoded strictly, so it never holds a lone surrogate; only a
# file name can (os.listdir escapes undecodable bytes), tested on its own.
characters = st.characters(exclude_categories=("Cs",))
hostile_text = st.text(alphabet=st.sampled_from(HOSTILE_CHARS) | characters, max_size=40)

words = st.sampled_from(
    ["t", "users", '"User"', '"we""ird"', "s.t", "public.orders", "a", "b", "id", "x", "v"]
)


@st.composite
def identifiers(draw: st.DrawFn) -> str:
    """A table or column name: plain, quoted (with control characters), or qualified."""
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(words)
    if kind == 1:
        name = draw(
            st.text(alphabet=st.sampled_from(HOSTILE_CHARS + "abc"), min_size=1, max_size=12)
        )
        return '"' + name.replace('"', '""') + '"'
    if kind == 2:
        return draw(st.from_regex(r"[A-Za-z_][A-Za-z0-9_$]{0,70}", fullmatch=True))
    return f"{draw(words)}.{draw(words)}"


def _nested(open_: str, inner: str, close: str, depth: int) -> str:
    return open_ * depth + inner + close * depth


@st.composite
def expressions(draw: st.DrawFn) -> str:
    depth = draw(st.integers(0, 600) if draw(st.booleans()) else st.integers(0, 5))
    inner = draw(
        st.sampled_from(
            ["1", "'x'", "a", "now()", "random()", "$1", "E'\\''", "$$d$$", "NULL", "a::text"]
        )
    )
    shape = draw(st.sampled_from([("(", ")"), ("lower(", ")"), ("CAST(", " AS int)"), ("-", "")]))
    return _nested(shape[0], inner, shape[1], depth)


@st.composite
def do_blocks(draw: st.DrawFn) -> str:
    """DO blocks and PL/pgSQL bodies: EXECUTE of literals, concatenations, format(),
    variables, nested parentheses, control flow, and unterminated pieces."""
    t = draw(identifiers())
    parts = draw(
        st.lists(
            st.sampled_from(
                [
                    f"ALTER TABLE {t} ADD COLUMN c int;",
                    f"EXECUTE 'ALTER TABLE {t.replace(chr(39), chr(39) * 2)} DROP COLUMN c';",
                    "EXECUTE 'ALTER TABLE ' || quote_ident(tbl) || ' ADD x int';",
                    "EXECUTE format('DROP TABLE %I', tbl);",
                    "EXECUTE format('%s %L %I %%', 'a', 'b', 'c');",
                    "EXECUTE v;",
                    "IF NOT EXISTS (SELECT 1) THEN",
                    "END IF;",
                    "FOR r IN SELECT * FROM t LOOP",
                    "END LOOP;",
                    "<<lbl>>",
                    "EXCEPTION WHEN others THEN NULL;",
                    "CASE WHEN a THEN",
                    "END CASE;",
                    f"UPDATE {t} SET a = 1;",
                    "SET lock_timeout = '1s';",
                    "#variable_conflict use_column",
                    "EXECUTE 'unterminated",
                    "EXECUTE $q$ CREATE INDEX i ON t (a) $q$;",
                    "EXECUTE E'ALTER TABLE t\\' DROP c';",
                ]
            )
            | expressions().map(lambda e: f"EXECUTE {e};")
            | hostile_text,
            max_size=8,
        )
    )
    declare = draw(st.sampled_from(["", "DECLARE v text := 'DROP TABLE t'; tbl text; "]))
    body = declare + "BEGIN " + " ".join(parts) + " END"
    quote = draw(st.sampled_from(["$$", "$body$", "'"]))
    body = "'" + body.replace("'", "''") + "'" if quote == "'" else quote + body + quote
    lang = draw(st.sampled_from(["", " LANGUAGE plpgsql", " LANGUAGE plpython3u", " LANGUAGE sql"]))
    if draw(st.booleans()):
        return f"DO {body}{lang}"
    return f"CREATE OR REPLACE FUNCTION f() RETURNS void AS {body}{lang or ' LANGUAGE plpgsql'}"


@st.composite
def statements(draw: st.DrawFn) -> str:
    """One statement (without its semicolon), well formed or not."""
    t, c, u = draw(identifiers()), draw(identifiers()), draw(identifiers())
    e = draw(expressions())
    return draw(
        st.sampled_from(
            [
                f"CREATE TABLE {t} (id bigint PRIMARY KEY, {c} text DEFAULT {e})",
                f"ALTER TABLE {t} ADD COLUMN {c} int DEFAULT {e}",
                f"ALTER TABLE {t} ADD COLUMN {c} int NOT NULL",
                f"ALTER TABLE {t} DROP COLUMN {c}",
                f"ALTER TABLE {t} RENAME COLUMN {c} TO {u}",
                f"ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint USING {e}",
                f"ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL",
                f"ALTER TABLE {t} ADD CONSTRAINT k CHECK ({e}) NOT VALID",
                f"ALTER TABLE {t} ADD CONSTRAINT fk FOREIGN KEY ({c}) REFERENCES {u} (id)",
                f"ALTER TABLE {t} VALIDATE CONSTRAINT k",
                f"CREATE INDEX ON {t} ({c})",
                f"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON {t} ({e}) WHERE {e}",
                f"DROP TABLE IF EXISTS {t}, {u} CASCADE",
                f"DROP INDEX CONCURRENTLY {t}",
                f"UPDATE {t} SET {c} = {e}",
                f"DELETE FROM {t} WHERE {c} IN (SELECT {e})",
                f"INSERT INTO {t} SELECT * FROM {u}",
                f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE",
                f"TRUNCATE {t}",
                f"CREATE TYPE {t} AS ENUM ('a', 'b')",
                f"ALTER TYPE {t} ADD VALUE 'c'",
                f"ALTER TYPE {t} RENAME VALUE 'a' TO 'b'",
                f"CREATE VIEW {t} AS SELECT {e}",
                f"REFRESH MATERIALIZED VIEW {t}",
                f"REINDEX TABLE {t}",
                f"VACUUM FULL {t}",
                f"COMMENT ON TABLE {t} IS '{c.replace(chr(39), chr(39) * 2)}'",
                f"SET lock_timeout = '{draw(st.sampled_from(['1s', '0', 'x']))}'",
                f"SELECT {e}",
                "BEGIN",
                "COMMIT",
                "ROLLBACK",
                "SAVEPOINT s",
                draw(do_blocks()),
                f"CREATE TABLE {t} (a int" + "[]" * draw(st.integers(0, 300)) + ")",
                f"ALTER TABLE {t} ALTER COLUMN {c} TYPE bigint USING "
                + "CAST(" * draw(st.integers(0, 100))
                + c
                + " AS int)" * draw(st.integers(0, 100)),
            ]
        )
    )


# Pieces glued between statements and inside them: separators, comments (nested,
# unterminated), quotes (unterminated), meta-commands, suppression comments.
FRAGMENTS = [
    ";",
    ";\n",
    "\n",
    "\r\n",
    " ",
    "-- comment; $$ '\n",
    "/* c; */",
    "/* /* nested */ still */",
    "/* unterminated",
    "'unterminated",
    '"unterminated',
    "$$ unterminated",
    "$tag$ x $tag$",
    "$a$",
    "E'\\''",
    "U&'\\0041'",
    "\\set x 1\n",
    "\\",
    "-- migcheck: ignore[drop-column] reason\n",
    "-- migcheck: ignore\n",
    "\ufeff",
    "(",
    ")",
    "$1",
    "::",
]


@st.composite
def sql_files(draw: st.DrawFn) -> str:
    """A migration file: statements, fragments and hostile text in any order."""
    pieces = draw(
        st.lists(
            statements() | st.sampled_from(FRAGMENTS) | hostile_text,
            max_size=12,
        )
    )
    return "".join(pieces)


raw_bytes = (
    st.binary(max_size=300)
    | sql_files().map(lambda s: s.encode("utf-8", "surrogatepass"))
    | st.tuples(sql_files(), st.binary(min_size=1, max_size=8)).map(
        lambda p: p[0].encode("utf-8", "surrogatepass") + p[1]
    )
)
