"""Operators and formatting on plain values, with the bounds that keep them cheap.

``binop`` (``+``, ``*``, ``**``, ``%``...), ``plain_str``/``plain_format`` (``str()``,
f-strings) and ``str_format`` (``str.format`` without attribute or item lookups) work on
closed-world values (``world.py``); the calls built on them are in ``purecalls.py``.
Every result is bounded before it is computed where possible: strings and containers by
``MAX_SIZE``, integers by ``MAX_INT_BITS``, format widths by ``MAX_WIDTH``; a bigger
value is ``Unevaluable`` ("too large").
"""

from __future__ import annotations

import ast
import operator
import re
import string
from collections.abc import Callable
from typing import Any

from .values import Opaque, Unevaluable
from .world import CONTAINERS, MAX_NESTING, MAX_SIZE, SCALARS, LibObject, describe

MAX_INT_BITS = 100_000
MAX_WIDTH = 10_000


def too_large(node: ast.AST | None = None) -> Unevaluable:
    return Unevaluable("the value would be too large to evaluate", node)


def is_plain(value: object) -> bool:
    return type(value) in SCALARS or type(value) in CONTAINERS


def check_result(value: object, node: ast.AST | None) -> object:
    """Refuse a result bigger than migcheck evaluates."""
    kind = type(value)
    if kind is int and value.bit_length() > MAX_INT_BITS:  # type: ignore[attr-defined]
        raise too_large(node)
    if kind in (str, bytes, list, tuple, dict, set, frozenset) and len(value) > MAX_SIZE:  # type: ignore[arg-type]
        raise too_large(node)
    return value


# --- operators --------------------------------------------------------------------------

BINOPS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow, ast.BitAnd: operator.and_, ast.BitOr: operator.or_,
    ast.BitXor: operator.xor, ast.LShift: operator.lshift, ast.RShift: operator.rshift,
}  # fmt: skip


def _bits(value: object) -> int:
    if isinstance(value, bool):
        return 1
    if isinstance(value, int):
        return value.bit_length()
    return 64


def _length(value: object) -> int | None:
    if type(value) in (str, bytes, list, tuple):
        return len(value)  # type: ignore[arg-type]
    return None


_NUMBERS = re.compile(r"\d+")


def check_spec(spec: str, node: ast.AST | None) -> None:
    """A format spec (``{0:>999999999}``, ``%999999999d``) may ask for any width."""
    if "*" in spec and "%" in spec:
        raise Unevaluable("`*` widths in `%` formatting are not evaluated", node)
    for number in _NUMBERS.findall(spec):
        if len(number) > 5 or int(number) > MAX_WIDTH:
            raise too_large(node)


def binop(op: ast.operator, left: object, right: object, node: ast.AST) -> object:
    """``left op right`` on plain values, refusing results too large to evaluate."""
    if not (is_plain(left) and is_plain(right)):
        raise Unevaluable("the operands are not values migcheck evaluates", node)
    check_binop(op, left, right, node)
    if (
        isinstance(op, ast.Mod)
        and isinstance(left, (str, bytes))
        and not (isinstance(right, (dict, tuple)) or type(right) in SCALARS)
    ):
        raise Unevaluable("`%` formatting of a value migcheck does not model", node)
    try:
        result = BINOPS[type(op)](left, right)
    except Exception as exc:
        raise Unevaluable(f"operation failed: {describe(exc)}", node) from None
    return check_result(result, node)


def check_binop(op: ast.operator, left: object, right: object, node: ast.AST) -> None:
    """Refuse ``left op right`` when its result would be too large (before computing it)."""
    kind = type(op)
    if kind is ast.Mult:
        for seq, count in ((left, right), (right, left)):
            size = _length(seq)
            if size is not None and isinstance(count, int) and size * count > MAX_SIZE:
                raise too_large(node)
        if (
            isinstance(left, int)
            and isinstance(right, int)
            and _bits(left) + _bits(right) > MAX_INT_BITS
        ):
            raise too_large(node)
    elif kind is ast.Add:
        a, b = _length(left), _length(right)
        if a is not None and b is not None and a + b > MAX_SIZE:
            raise too_large(node)
    elif kind is ast.Pow and isinstance(right, int) and isinstance(left, int):
        if right > 0 and _bits(left) * right > MAX_INT_BITS and abs(left) > 1:
            raise too_large(node)
    elif kind is ast.LShift and isinstance(right, int) and right > MAX_INT_BITS:
        raise too_large(node)
    elif kind is ast.Mod and isinstance(left, (str, bytes)):
        check_spec(left if isinstance(left, str) else left.decode("latin-1"), node)


def plain_format(
    value: object, spec: str, node: ast.AST | None, charge: Callable[[int], None] | None = None
) -> str:
    check_spec(spec, node)
    if type(value) not in SCALARS:
        if spec:
            raise Unevaluable("a format spec on a value migcheck does not model", node)
        return plain_str(value, node, charge=charge)
    try:
        return check_result(format(value, spec), node)  # type: ignore[return-value]
    except Unevaluable:
        raise
    except Exception as exc:
        raise Unevaluable(f"formatting failed: {exc}", node) from None


def plain_str(
    value: object,
    node: ast.AST | None,
    as_repr: bool = False,
    charge: Callable[[int], None] | None = None,
) -> str:
    """``str``/``repr`` of plain data, refusing an output larger than ``MAX_SIZE``;
    ``charge`` counts the work (the output, the constructs compiled)."""
    parts: list[str] = []
    budget = [MAX_SIZE]

    def put(text: str) -> None:
        budget[0] -= len(text)
        if budget[0] < 0:
            raise too_large(node)
        parts.append(text)

    def walk(v: object, depth: int, top: bool) -> None:
        if depth > MAX_NESTING:
            raise Unevaluable("the value nests too deeply to evaluate", node)
        kind = type(v)
        if kind in SCALARS:
            if kind is int and v.bit_length() > 10_000:  # type: ignore[attr-defined]
                raise too_large(node)
            put(str(v) if top and not as_repr else repr(v))
            return
        if kind in (list, tuple, set, frozenset):
            items = list(v)  # type: ignore[call-overload]
            if kind in (set, frozenset) and not items:
                put(f"{kind.__name__}()")
                return
            brackets = {list: "[]", tuple: "()"}.get(kind, "{}")
            opening, closing = brackets[0], brackets[1]
            if kind is frozenset:
                put("frozenset(")
            put(opening)
            for i, item in enumerate(items):
                if i:
                    put(", ")
                walk(item, depth + 1, False)
            if kind is tuple and len(items) == 1:
                put(",")
            put(closing)
            if kind is frozenset:
                put(")")
            return
        if kind is dict:
            put("{")
            for i, (key, item) in enumerate(v.items()):  # type: ignore[attr-defined]
                if i:
                    put(", ")
                walk(key, depth + 1, False)
                put(": ")
                walk(item, depth + 1, False)
            put("}")
            return
        if kind is range:
            put(repr(v))
            return
        if isinstance(v, LibObject):
            if charge is not None:
                charge(v.weight)
            put(_lib_str(v, node, as_repr or not top))
            return
        if isinstance(v, Opaque):
            raise v.fail(node)
        raise Unevaluable(f"`str` of a {type(v).__name__} is not evaluated", node)

    walk(value, 0, True)
    if charge is not None:
        charge(MAX_SIZE - budget[0])
    return "".join(parts)


def _lib_str(value: LibObject, node: ast.AST | None, as_repr: bool) -> str:
    try:
        text = (repr if as_repr else str)(value.real)
    except Exception as exc:
        raise Unevaluable(f"`str({value.path})` failed: {describe(exc)}", node) from None
    if type(text) is not str:
        raise Unevaluable(f"`str({value.path})` is not a string", node)
    return check_result(text, node)  # type: ignore[return-value]


_FORMATTER = string.Formatter()


def str_format(
    ev: Any, template: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> str:
    """``template.format(...)`` without attribute or item lookups in field names."""
    out: list[str] = []
    auto = 0
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise Unevaluable(f"formatting failed: {exc}", node) from None
    size = 0
    for literal, field_name, spec, conversion in parsed:
        out.append(literal)
        if field_name is None:
            continue
        if field_name == "":
            key: int | str = auto
            auto += 1
        elif field_name.isdigit():
            key = int(field_name)
        elif field_name.isidentifier():
            key = field_name
        else:
            raise Unevaluable(
                "format fields that look up attributes or items are not evaluated", node
            )
        try:
            value = args[key] if isinstance(key, int) else kwargs[key]
        except (IndexError, KeyError):
            raise Unevaluable(f"format field `{field_name}` has no argument", node) from None
        if isinstance(value, Opaque):
            raise value.fail(node)
        spec = spec or ""
        if "{" in spec:
            raise Unevaluable("nested format fields are not evaluated", node)
        if conversion == "r":
            value = plain_str(value, node, as_repr=True, charge=ev.charge)
        elif conversion in ("s", "a"):
            value = plain_str(value, node, charge=ev.charge)
        part = plain_format(value, spec, node, ev.charge)
        size += len(part) + len(literal)
        if size > MAX_SIZE:
            raise too_large(node)
        out.append(part)
    return "".join(out)
