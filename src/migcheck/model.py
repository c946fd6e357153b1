"""The data every stage shares: spans, statements, normalised operations, findings.

Rules read only these types. Whether an ``Op`` came from sqlglot's tree or from the
token-level fallback is recorded in ``Op.source`` for debugging and nothing else:
a rule must never branch on it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from migcheck.vocabulary import Category, Severity

SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


# Names are stored folded and joined with "." (``billing.Invoice``). A quoted identifier
# may itself contain a dot (old Prisma index names such as "Team.slug_unique"); inside a
# name part it is stored as this character so the joined form stays unambiguous, and
# ``name_parts`` gives the real parts back.
DOT_IN_NAME = "\u2024"


def name_parts(name: str) -> list[str]:
    """The identifiers of a stored (possibly qualified) name, dots restored."""
    return [part.replace(DOT_IN_NAME, ".") for part in name.split(".")] if name else [name]


# A line break as PostgreSQL and editors count lines: \r\n, a lone \r, or \n.
LINE_BREAK = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based, inclusive line/column range plus 0-based character offsets into the file."""

    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0


@dataclass(frozen=True)
class ColumnType:
    """A column type as written, normalised: ``name`` is the canonical lower-case base name
    (``varchar``, ``numeric``, ``int4`` is reported as ``integer``...), ``params`` the
    modifiers (``(255)`` → ``(255,)``), ``array`` the number of ``[]``."""

    name: str
    params: tuple[int, ...] = ()
    array: int = 0
    text: str = ""

    def __str__(self) -> str:
        return self.text or self.name


@dataclass(frozen=True)
class Expression:
    """A SQL value expression reduced to what rules ask about it."""

    text: str
    functions: tuple[str, ...] = ()
    # "immutable" | "stable" | "volatile" | "unknown" (a function we have no catalog entry for)
    volatility: str = "immutable"
    is_null: bool = False


@dataclass(frozen=True)
class Constraint:
    """A table or column constraint. ``kind`` is one of ``primary_key``, ``unique``,
    ``foreign_key``, ``check``, ``exclude``, ``not_null``."""

    kind: str
    name: str | None = None
    columns: tuple[str, ...] = ()
    ref_table: str | None = None
    ref_columns: tuple[str, ...] = ()
    not_valid: bool = False
    using_index: str | None = None
    # For CHECK: the column proven NOT NULL by ``CHECK (col IS NOT NULL)``, if that is all it says.
    not_null_column: str | None = None
    text: str = ""


@dataclass(frozen=True)
class ColumnDef:
    """A column as declared in CREATE TABLE or ADD COLUMN."""

    name: str
    type: ColumnType | None
    not_null: bool = False
    default: Expression | None = None
    # "stored" for GENERATED ... STORED, "identity" for GENERATED ... AS IDENTITY, else None
    generated: str | None = None
    constraints: tuple[Constraint, ...] = ()


# Joins the keys of a CREATE INDEX in ``Op.options["keys"]`` (cached ops hold scalars).
INDEX_KEY_SEP = "\x1f"


@dataclass(slots=True)
class Op:
    """One normalised operation. A statement holds one or more (one per ALTER TABLE action).

    ``kind`` is a short verb phrase, see ``OP_KINDS``. Names are folded the way
    Postgres folds them: unquoted identifiers lower-cased, quoted kept. ``table`` is the
    relation the operation acts on, with its schema prefix when one was written.
    """

    kind: str
    table: str | None = None
    column: str | None = None
    name: str | None = None
    new_name: str | None = None
    names: tuple[str, ...] = ()
    type: ColumnType | None = None
    column_def: ColumnDef | None = None
    columns: tuple[ColumnDef, ...] = ()
    constraint: Constraint | None = None
    constraints: tuple[Constraint, ...] = ()
    default: Expression | None = None
    using: Expression | None = None
    values: tuple[str, ...] = ()
    concurrently: bool = False
    if_exists: bool = False
    unique: bool = False
    has_where: bool = False
    only: bool = False
    mode: str | None = None
    body: str | None = None
    text: str = ""
    source: str = "sqlglot"
    # Offset of the op's first character in the file, so a finding on one action of a
    # multi-action ALTER TABLE points at that action; -1 means "the statement start".
    offset: int = -1
    options: dict[str, object] = field(default_factory=dict)


# The vocabulary of Op.kind, by the statement that produces it. Rules and the schema
# model switch on these strings. Split strings keep the vocabulary readable at a glance.
# ruff: noqa: SIM905
ALTER_TABLE_KINDS = frozenset(
    """
    rename_table set_schema add_column drop_column rename_column alter_column_type
    set_not_null drop_not_null set_default drop_default add_identity drop_identity
    drop_expression set_generated add_constraint drop_constraint validate_constraint
    rename_constraint set_logged set_unlogged set_tablespace set_storage_param cluster_on
    attach_partition detach_partition enable_trigger disable_trigger set_statistics
    set_storage alter_table_other owner_to replica_identity enable_rls disable_rls
    """.split()
)
OP_KINDS = ALTER_TABLE_KINDS | frozenset(
    """
    create_table drop_table truncate
    create_index drop_index reindex rename_index alter_index
    create_enum create_type drop_type add_enum_value rename_enum_value rename_type
    alter_type_other alter_domain
    create_view drop_view rename_view refresh_matview
    create_schema drop_schema rename_schema create_sequence drop_sequence alter_sequence
    create_extension drop_extension create_function drop_function create_trigger
    drop_trigger comment grant revoke create_policy drop_policy alter_other create_other
    drop_other drop_database
    insert update delete select copy merge
    vacuum analyze cluster lock
    begin commit rollback savepoint release rollback_to set reset do call prepare other
    """.split()
)


@dataclass(slots=True)
class Statement:
    """One SQL statement as written in its source file, with its normalised operations."""

    path: str
    index: int
    text: str
    span: Span
    ops: list[Op] = field(default_factory=list)
    # Non-empty when migcheck could not understand the statement; the reason says why.
    unrecognized: str | None = None
    # For statements rendered from Python (Alembic): the source lines whose
    # ``# migcheck: ignore`` comments apply here (the op call's lines and the line above).
    # SQL files attach their comments by position instead (``suppress.sql_directives``).
    comment_lines: tuple[int, ...] = ()
    # Set for statements rendered from another language (Alembic): where they came from.
    origin: str | None = None
    # True when the runner executes this statement outside any transaction (Alembic's
    # ``autocommit_block``).
    autocommit: bool = False
    # True for a statement found inside a DO block or function body (it is run by the
    # statement before it, and positioned there).
    embedded: bool = False

    @property
    def first_op(self) -> Op | None:
        return self.ops[0] if self.ops else None


@dataclass
class Finding:
    rule: str
    severity: Severity
    category: Category
    path: str
    span: Span
    message: str
    help: str = ""
    statement: str = ""
    # The strongest table lock the statement takes, and on which table ("" when unknown),
    # for reports that show per statement what it blocks (``--format markdown``).
    lock: tuple[str, str] | None = None
    # Set when something other than the rule changed the severity (the table statistics
    # file): what the rule said, and the fact that changed it, for CI to audit.
    original_severity: Severity | None = None
    evidence: str = ""
    # The (table, column) the finding is about, when one op names it (contract gating).
    subject: tuple[str, str | None] | None = None

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        """The order of every report: by file, position, then rule id."""
        return (self.path, self.span.line, self.span.column, self.rule)


@dataclass
class SuppressedFinding:
    """A finding a ``migcheck: ignore`` comment suppressed, kept for ``--show-suppressed``."""

    finding: Finding
    reason: str  # "" when the comment gives none
    line: int  # the line of the suppressing comment
    file_level: bool = False

    def to_json(self) -> dict[str, object]:
        f = self.finding
        return {
            "rule": f.rule,
            "severity": f.severity,
            "path": f.path,
            "line": f.line,
            "column": f.column,
            "message": f.message,
            "reason": self.reason,
            "suppressed_at": self.line,
        }


@dataclass
class InputError:
    """A problem with the input (missing path, undecodable file...), reported, never raised."""

    path: str
    message: str
    line: int | None = None


@dataclass(frozen=True)
class RuleOptions:
    """The settings rules read from configuration, typed (``Context.options``)."""

    # The role's lock_timeout is set at the database level, so missing-lock-timeout is quiet.
    lock_timeout_role_level: bool = False


@dataclass
class Options:
    """What the engine needs to lint: the resolved rule set and the runner assumptions."""

    pg_version: int = 14
    rules: Sequence[str] | None = None  # ids to run; None = the default set
    severity: dict[str, Severity] = field(default_factory=dict)
    assume_in_transaction: bool = False
    changeset: bool | None = None  # None: files named inside a history form one changeset
    prisma_version: tuple[int, int] | None = None
    rule_options: RuleOptions = field(default_factory=RuleOptions)


@dataclass
class Result:
    """What one lint run found: findings in report order, input errors and counts."""

    findings: list[Finding] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    statements: int = 0
    unrecognized: int = 0
    # Findings a `migcheck: ignore` comment suppressed, with the comment's reason.
    suppressed: list[SuppressedFinding] = field(default_factory=list)
