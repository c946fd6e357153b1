"""The app-schema readers' facts per column, as the live check's derived queries show them:
which columns an INSERT must send (NOT NULL with nothing filling it)."""

from __future__ import annotations

from migcheck.appschema.sqlalchemy_ast import from_sqlalchemy
from migcheck.live.sqlalchemy_models import schema_to_queries


def inserts(models: str) -> dict[str, str]:
    schema = from_sqlalchemy(models, "m.py", "HEAD")
    return {q.table: q.sql for q in schema_to_queries(schema) if q.operation.startswith("insert")}


def test_a_single_integer_key_is_filled_by_the_database() -> None:
    found = inserts(
        'class B(Base):\n    __tablename__ = "b"\n    x = Column(Integer, primary_key=True)\n'
        "    n = Column(Text, nullable=False)\n"
    )
    assert found == {"public.b": 'INSERT INTO "public"."b" ("n") VALUES ($1)'}


def test_a_composite_key_is_sent_by_the_app() -> None:
    keys = inserts(
        'class A(Base):\n    __tablename__ = "a"\n    x = Column(Integer, primary_key=True)\n'
        "    y = Column(Integer, primary_key=True)\n"
    )
    constraint = inserts(
        'class C(Base):\n    __tablename__ = "c"\n'
        '    __table_args__ = (PrimaryKeyConstraint("x", "y"), {"schema": "s"})\n'
        "    x = Column(Integer)\n    y = Column(Integer)\n"
    )
    assert keys == {"public.a": 'INSERT INTO "public"."a" ("x", "y") VALUES ($1, $2)'}
    assert constraint == {"s.c": 'INSERT INTO "s"."c" ("x", "y") VALUES ($1, $2)'}


def test_defaults_decide_what_an_insert_sends() -> None:
    found = inserts(
        'class D(Base):\n    __tablename__ = "d"\n'
        "    id = Column(String(36), primary_key=True, default=new_id)\n"
        "    at = Column(DateTime, nullable=False, server_default=func.now())\n"
        "    n: Mapped[int] = mapped_column(Identity())\n"
        "    note: Mapped[str | None]\n"
    )
    # A Python default= is sent by the app; the server default and identity are not.
    assert found == {"public.d": 'INSERT INTO "public"."d" ("id") VALUES ($1)'}
