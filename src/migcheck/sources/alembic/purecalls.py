"""The calls migcheck itself answers while reading a revision.

Builtins (``len``, ``sorted``, ``str``...), methods of plain values (``str.split``,
``list.append``, ``dict.get``...) and migcheck's models of standard-library modules
(``textwrap.dedent``, ``json.dumps``, ``functools.partial``, ``logging``) are implemented
here on closed-world values (``world.py``), with ``pureops.py``'s bounds. A callable
argument (``sorted(key=...)``, ``map(f, ...)``) is called back through the evaluator,
never handed to Python.
"""

from __future__ import annotations

import ast
import json
import math
import string
import textwrap
from collections.abc import Callable
from typing import Any

from .pureops import (
    binop,
    check_result,
    is_plain,
    plain_format,
    plain_str,
    str_format,
    too_large,
)
from .values import Opaque, Unevaluable
from .world import (
    MAX_SIZE,
    Builtin,
    DialectClass,
    DialectModel,
    LibObject,
    Partial,
    StdModule,
    describe,
)

Impl = Callable[[Any, list[object], dict[str, object], ast.AST], object]


# --- builtins ---------------------------------------------------------------------------


def _one(args: list[object], kwargs: dict[str, object], node: ast.AST, name: str) -> object:
    if len(args) != 1 or kwargs:
        raise Unevaluable(f"`{name}` takes one argument here", node)
    return args[0]


def _items(ev: Any, value: object, node: ast.AST) -> list[object]:
    items = list(ev.iterate(value, node))
    ev.charge(len(items))
    return items


def _plain_call(
    fn: Callable[..., object], args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    for value in [*args, *kwargs.values()]:
        if isinstance(value, Opaque):
            raise value.fail(node)
        if not is_plain(value):
            raise Unevaluable(
                f"`{getattr(fn, '__name__', 'it')}` of a value migcheck does not model", node
            )
    try:
        result = fn(*args, **kwargs)
    except Unevaluable:
        raise
    except Exception as exc:
        raise Unevaluable(
            f"`{getattr(fn, '__name__', 'call')}(...)` failed: {describe(exc)}", node
        ) from None
    return check_result(result, node)


def _simple(fn: Callable[..., object]) -> Impl:
    def impl(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
        return _plain_call(fn, args, kwargs, node)

    return impl


def _b_len(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    value = _one(args, kwargs, node, "len")
    if isinstance(value, LibObject):
        return ev.membrane.apply("len(...)", lambda: len(value.real), node, "len", value)
    return _plain_call(len, [value], {}, node)


def _b_str(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if not args and not kwargs:
        return ""
    if len(args) > 1 or kwargs:
        return _plain_call(str, args, kwargs, node)
    return plain_str(args[0], node, charge=ev.charge)


def _b_repr(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    return plain_str(_one(args, kwargs, node, "repr"), node, as_repr=True, charge=ev.charge)


def _b_format(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if kwargs or not 1 <= len(args) <= 2:
        raise Unevaluable("`format` takes a value and a spec", node)
    spec = args[1] if len(args) == 2 else ""
    if not isinstance(spec, str):
        raise Unevaluable("`format` spec is not a string", node)
    return plain_format(args[0], spec, node, ev.charge)


def _b_range(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    result = _plain_call(range, args, kwargs, node)
    assert isinstance(result, range)
    if len(result) > MAX_SIZE:
        raise too_large(node)
    return result


def _collect(kind: type) -> Impl:
    def impl(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
        if kwargs and kind is dict:
            base = dict(_b_dict_args(ev, args, node))
            base.update(kwargs)
            return check_result(base, node)
        if kwargs or len(args) > 1:
            raise Unevaluable(f"`{kind.__name__}` takes one argument here", node)
        if not args:
            return kind()
        if kind is dict:
            return check_result(dict(_b_dict_args(ev, args, node)), node)
        items = _items(ev, args[0], node)
        ev.charge(len(items))
        if kind in (set, frozenset):
            ev.deep(items, node)
        try:
            return check_result(kind(items), node)
        except TypeError as exc:
            raise Unevaluable(str(exc), node) from None

    return impl


def _b_dict_args(ev: Any, args: list[object], node: ast.AST) -> list[tuple[object, object]]:
    if not args:
        return []
    source = args[0]
    if isinstance(source, dict):
        return list(source.items())
    pairs: list[tuple[object, object]] = []
    for item in _items(ev, source, node):
        if type(item) not in (tuple, list) or len(item) != 2:  # type: ignore[arg-type]
            raise Unevaluable("`dict` of something that is not pairs", node)
        key: object = item[0]  # type: ignore[index]
        value: object = item[1]  # type: ignore[index]
        ev.deep(key, node)
        if not is_plain(key) and not isinstance(key, LibObject):
            raise Unevaluable("a key migcheck does not model", node)
        pairs.append((key, value))
    return pairs


def _b_enumerate(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    start = kwargs.get("start", args[1] if len(args) > 1 else 0)
    if not isinstance(start, int) or not args:
        raise Unevaluable("`enumerate` arguments not evaluated", node)
    return [(start + i, v) for i, v in enumerate(_items(ev, args[0], node))]


def _b_zip(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if kwargs:
        raise Unevaluable("`zip` keyword arguments are not evaluated", node)
    return list(zip(*(_items(ev, a, node) for a in args), strict=False))


def _b_reversed(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    return list(reversed(_items(ev, _one(args, kwargs, node, "reversed"), node)))


def _b_map(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if len(args) < 2 or kwargs:
        raise Unevaluable("`map` takes a function and iterables", node)
    columns = [_items(ev, a, node) for a in args[1:]]
    return [ev.call_value(args[0], list(row), {}, node) for row in zip(*columns, strict=False)]


def _b_filter(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if len(args) != 2 or kwargs:
        raise Unevaluable("`filter` takes a function and an iterable", node)
    func, items = args[0], _items(ev, args[1], node)
    if func is None:
        return [v for v in items if ev.truth_value(v, node)]
    return [v for v in items if ev.truth_value(ev.call_value(func, [v], {}, node), node)]


def _keys(ev: Any, items: list[object], key: object, node: ast.AST) -> list[object]:
    keys = items if key is None else [ev.call_value(key, [v], {}, node) for v in items]
    for k in keys:
        if not is_plain(k):
            raise Unevaluable("ordering values migcheck does not model", node)
    ev.deep(keys, node)
    return keys


def _b_sorted(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if len(args) != 1 or set(kwargs) - {"key", "reverse"}:
        raise Unevaluable("`sorted` arguments not evaluated", node)
    items = _items(ev, args[0], node)
    keys = _keys(ev, items, kwargs.get("key"), node)
    ev.charge(len(items) * 4)
    try:
        plain_keys: list[Any] = keys
        order = sorted(
            range(len(items)), key=lambda i: plain_keys[i], reverse=bool(kwargs.get("reverse"))
        )
    except TypeError as exc:
        raise Unevaluable(f"`sorted` failed: {exc}", node) from None
    return [items[i] for i in order]


def _extreme(pick: Callable[..., Any], name: str) -> Impl:
    def impl(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
        if set(kwargs) - {"key", "default"} or not args:
            raise Unevaluable(f"`{name}` arguments not evaluated", node)
        items = _items(ev, args[0], node) if len(args) == 1 else list(args)
        if not items:
            if "default" in kwargs:
                return kwargs["default"]
            raise Unevaluable(f"`{name}` of nothing", node)
        keys = _keys(ev, items, kwargs.get("key"), node)
        try:
            index = pick(range(len(items)), key=lambda i: keys[i])
        except TypeError as exc:
            raise Unevaluable(f"`{name}` failed: {exc}", node) from None
        return items[index]

    return impl


def _b_sum(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if not 1 <= len(args) <= 2 or kwargs:
        raise Unevaluable("`sum` arguments not evaluated", node)
    total = args[1] if len(args) == 2 else 0
    for item in _items(ev, args[0], node):
        total = binop(ast.Add(), total, item, node)
    return total


def _b_truths(pick: Callable[[list[bool]], bool]) -> Impl:
    def impl(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
        value = _one(args, kwargs, node, "any/all")
        return pick([ev.truth_value(v, node) for v in _items(ev, value, node)])

    return impl


def _b_bool(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    return ev.truth_value(_one(args, kwargs, node, "bool"), node) if args else False


def _b_isinstance(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if len(args) != 2 or kwargs:
        raise Unevaluable("`isinstance` takes two arguments", node)
    value = args[0]
    classes: Any = args[1]
    options = list(classes) if type(classes) is tuple else [classes]
    for cls in options:
        if isinstance(cls, Builtin) and cls.pytype is not None:
            if isinstance(value, LibObject) or not is_plain(value):
                continue
            if isinstance(value, cls.pytype):
                return True
        elif isinstance(cls, LibObject) and isinstance(cls.real, type):
            if isinstance(value, LibObject) and isinstance(value.real, cls.real):
                return True
        elif isinstance(cls, DialectClass):
            if not isinstance(value, DialectModel):
                raise Unevaluable("`isinstance` of a dialect class on something else", node)
            if cls.dialect == "postgresql":
                return True
        elif isinstance(cls, Opaque):
            raise cls.fail(node)
        else:
            raise Unevaluable("`isinstance` of a class migcheck does not model", node)
    if isinstance(value, Opaque):
        raise value.fail(node)
    return False


def _b_noop(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    return None


def _b_partial(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if not args:
        raise Unevaluable("`partial` without a function", node)
    return Partial(args[0], list(args[1:]), dict(kwargs))


def _json_dumps(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    allowed = {"indent", "sort_keys", "separators", "ensure_ascii"}
    if len(args) != 1 or set(kwargs) - allowed:
        raise Unevaluable("`json.dumps` arguments not evaluated", node)
    indent = kwargs.get("indent")
    if isinstance(indent, int) and indent > 16:
        raise too_large(node)
    plain_str(args[0], node, charge=ev.charge)  # bounds the size, refuses what is not plain
    return _plain_call(json.dumps, args, kwargs, node)


def _json_loads(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    value = _one(args, kwargs, node, "json.loads")
    return _plain_call(json.loads, [value], {}, node)


def _dedent(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    return _plain_call(textwrap.dedent, args, kwargs, node)


def _indent(ev: Any, args: list[object], kwargs: dict[str, object], node: ast.AST) -> object:
    if len(args) != 2 or kwargs or not all(isinstance(a, str) for a in args):
        raise Unevaluable("`textwrap.indent` arguments not evaluated", node)
    text, prefix = args
    assert isinstance(text, str) and isinstance(prefix, str)
    if len(text) + len(prefix) * (text.count("\n") + 1) > MAX_SIZE:
        raise too_large(node)
    return textwrap.indent(text, prefix)


def _builtin(name: str, impl: Impl, pytype: type | None = None) -> Builtin:
    return Builtin(name, impl, pytype=pytype)


BUILTINS: dict[str, Builtin] = {
    "abs": _builtin("abs", _simple(abs)),
    "all": _builtin("all", _b_truths(all)),
    "any": _builtin("any", _b_truths(any)),
    "bool": _builtin("bool", _b_bool, bool),
    "dict": _builtin("dict", _collect(dict), dict),
    "enumerate": _builtin("enumerate", _b_enumerate),
    "filter": _builtin("filter", _b_filter),
    "float": _builtin("float", _simple(float), float),
    "format": _builtin("format", _b_format),
    "frozenset": _builtin("frozenset", _collect(frozenset), frozenset),
    "int": _builtin("int", _simple(int), int),
    "isinstance": _builtin("isinstance", _b_isinstance),
    "len": _builtin("len", _b_len),
    "list": _builtin("list", _collect(list), list),
    "map": _builtin("map", _b_map),
    "max": _builtin("max", _extreme(max, "max")),
    "min": _builtin("min", _extreme(min, "min")),
    "range": _builtin("range", _b_range),
    "repr": _builtin("repr", _b_repr),
    "reversed": _builtin("reversed", _b_reversed),
    "round": _builtin("round", _simple(round)),
    "set": _builtin("set", _collect(set), set),
    "sorted": _builtin("sorted", _b_sorted),
    "str": _builtin("str", _b_str, str),
    "sum": _builtin("sum", _b_sum),
    "tuple": _builtin("tuple", _collect(tuple), tuple),
    "zip": _builtin("zip", _b_zip),
    "print": Builtin("print", _b_noop, noop=True),
}


def _logging() -> StdModule:
    """``logging``: a revision's log lines change no SQL, and evaluating them is not worth
    a note (their arguments are often query results), so its calls are skipped."""
    calls = ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log")
    logger = StdModule(
        "logger",
        {
            name: Builtin(name, _b_noop, noop=True)
            for name in (*calls, "setLevel", "addHandler", "removeHandler", "addFilter")
        },
        "only the logging calls are modelled",
    )
    logger.members["isEnabledFor"] = Builtin("isEnabledFor", lambda ev, a, k, n: False)
    members: dict[str, object] = {
        name: Builtin(name, _b_noop, noop=True) for name in (*calls, "basicConfig")
    }
    members["getLogger"] = Builtin("getLogger", lambda ev, a, k, n: logger)
    members.update(
        DEBUG=10, INFO=20, WARNING=30, WARN=30, ERROR=40, CRITICAL=50, FATAL=50, NOTSET=0
    )
    return StdModule("logging", members, "only getLogger and the logging calls are modelled")


def std_module(name: str) -> StdModule:
    """migcheck's model of a standard-library module a revision imports."""
    members: dict[str, object] = {}
    if name == "textwrap":
        members = {
            "dedent": Builtin("textwrap.dedent", _dedent),
            "indent": Builtin("textwrap.indent", _indent),
        }
    elif name == "json":
        members = {
            "dumps": Builtin("json.dumps", _json_dumps),
            "loads": Builtin("json.loads", _json_loads),
        }
    elif name == "functools":
        members = {"partial": Builtin("functools.partial", _b_partial)}
    elif name == "logging":
        return _logging()
    elif name in ("typing", "typing_extensions"):
        members = {"TYPE_CHECKING": False}
    elif name == "math":
        members = {
            "ceil": Builtin("math.ceil", _simple(math.ceil)),
            "floor": Builtin("math.floor", _simple(math.floor)),
        }
    elif name == "string":
        members = {
            n: getattr(string, n)
            for n in ("ascii_letters", "ascii_lowercase", "ascii_uppercase", "digits")
        }
    return StdModule(name, members, _unmodelled(name, members))


def _unmodelled(name: str, members: dict[str, object]) -> str:
    """Why an attribute of module ``name`` outside ``members`` is unknown."""
    if not members:
        return f"migcheck does not model `{name}`"
    return f"migcheck models only {', '.join(f'`{n}`' for n in members)} of `{name}`"


# --- methods of plain values ------------------------------------------------------------

_STR_METHODS = frozenset(
    [
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "rfind",
        "rindex",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "encode",
        "decode",
        "hex",
    ]
)
_LIST_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "index", "count", "copy", "reverse", "clear"}
)
_DICT_METHODS = frozenset(
    {"get", "pop", "setdefault", "update", "copy", "clear", "keys", "values", "items"}
)
_SET_METHODS = frozenset(
    {
        "add",
        "discard",
        "remove",
        "union",
        "intersection",
        "difference",
        "issubset",
        "issuperset",
        "copy",
    }
)
_TUPLE_METHODS = frozenset({"index", "count"})


def has_method(value: object, name: str) -> bool:
    kind = type(value)
    if kind in (str, bytes):
        return name in _STR_METHODS or name in (
            "join",
            "replace",
            "format",
            "ljust",
            "rjust",
            "center",
            "zfill",
        )
    if kind is list:
        return name in _LIST_METHODS or name == "sort"
    if kind is dict:
        return name in _DICT_METHODS
    if kind in (set, frozenset):
        return name in _SET_METHODS
    if kind is tuple:
        return name in _TUPLE_METHODS
    return False


def _m_format(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    return str_format(ev, owner, args, kwargs, node)


def _m_join(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    kind = type(owner)
    parts = _items(ev, _one(args, kwargs, node, "join"), node)
    if any(type(p) is not kind for p in parts):
        raise Unevaluable("`join` of values that are not strings", node)
    total = sum(len(p) for p in parts) + len(owner) * max(len(parts) - 1, 0)  # type: ignore[arg-type, misc]
    if total > MAX_SIZE:
        raise too_large(node)
    return owner.join(parts)


def _m_replace(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    kind = type(owner)
    if len(args) >= 2 and type(args[0]) is kind and type(args[1]) is kind:
        old: Any = args[0]
        new: Any = args[1]
        count = owner.count(old) if old else len(owner) + 1
        if len(owner) + count * max(len(new) - len(old), 0) > MAX_SIZE:
            raise too_large(node)
    return _generic(ev, owner, name, args, kwargs, node)


def _m_pad(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    if args and isinstance(args[0], int) and args[0] > MAX_SIZE:
        raise too_large(node)
    return _generic(ev, owner, name, args, kwargs, node)


def _m_sort(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    owner[:] = _b_sorted(ev, [owner], kwargs, node)
    return None


def _m_list_add(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    added = args[-1] if args else None
    more = _items(ev, added, node) if name == "extend" else [added]
    if len(owner) + len(more) > MAX_SIZE:
        raise too_large(node)
    ev.charge(len(more))
    if name == "extend":
        owner.extend(more)
        return None
    getattr(owner, name)(*args[:-1], added)
    return None


def _m_dict_update(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    if args:
        owner.update(_b_dict_args(ev, args[:1], node))
    owner.update(kwargs)
    check_result(owner, node)
    return None


def _generic(
    ev: Any, owner: Any, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    """A method in migcheck's tables with no size or callable concern of its own."""
    kind = type(owner)
    method = getattr(kind, name)
    ev.deep(list(args), node)
    if name in ("index", "count", "remove"):
        ev.deep(owner, node)
    for value in [*args, *kwargs.values()]:
        if isinstance(value, Opaque):
            raise value.fail(node)
    try:
        result = method(owner, *args, **kwargs)
    except Exception as exc:
        raise Unevaluable(f"`.{name}(...)` failed: {describe(exc)}", node) from None
    if kind is dict and name in ("keys", "values", "items"):
        result = list(result)
    return check_result(result, node)


_Method = Callable[[Any, Any, str, list[object], dict[str, object], ast.AST], object]
# Methods that need a bound on the work they do, or that call back into the evaluator;
# every other allowed method goes through ``_generic``.
_SPECIAL: dict[tuple[type, str], _Method] = {
    (str, "format"): _m_format,
    **{(kind, "join"): _m_join for kind in (str, bytes)},
    **{(kind, "replace"): _m_replace for kind in (str, bytes)},
    **{
        (kind, pad): _m_pad
        for kind in (str, bytes)
        for pad in ("ljust", "rjust", "center", "zfill")
    },
    (list, "sort"): _m_sort,
    **{(list, add): _m_list_add for add in ("append", "insert", "extend")},
    (dict, "update"): _m_dict_update,
}


def call_method(
    ev: Any, owner: object, name: str, args: list[object], kwargs: dict[str, object], node: ast.AST
) -> object:
    """``owner.name(*args, **kwargs)`` for a plain value and a method ``has_method`` allows."""
    handler = _SPECIAL.get((type(owner), name), _generic)
    return handler(ev, owner, name, args, kwargs, node)


__all__ = ["BUILTINS", "call_method", "has_method", "std_module"]
