"""A strict, data-only JSON codec for migcheck's own dataclasses (what the caches store).

A cache directory may be written by someone else (a restored CI cache, a shared runner),
so an entry is input: reading one must never run code, and a value of the wrong shape
must never reach the engine. Entries are therefore JSON, and a ``Codec`` built from a
type annotation rebuilds the value field by field, checking every type on the way: a
dataclass is a JSON object of its fields (fields equal to their default are left out;
one whose fields are all plain values, like ``Span``, is an array of them),
a tuple or list a JSON array, a ``dict[str, X]`` an object, ``object`` a JSON scalar.
Anything else (an unknown field, a missing one, a string where an int belongs, a bool
for an int) raises ``Invalid``.

Encoding is exact or refused: a value that would not decode to an equal value (a list
in a tuple field, a tuple inside ``object``) raises ``Unencodable``, so a cached result
can never differ from a fresh one. Decoders are compiled once per type, because the warm
path decodes every statement of every cached file.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")
Convert = Callable[[Any], Any]


class Invalid(ValueError):
    """The data does not have the shape the type describes."""


class Unencodable(TypeError):
    """The value cannot be stored so that it decodes to an equal value."""


_SCALARS = (str, int, float, bool, type(None))


def _check(expected: tuple[type, ...]) -> tuple[Convert, Convert]:
    def encode(value: Any) -> Any:
        if type(value) not in expected:
            raise Unencodable(f"{type(value).__name__} is not one of {expected}")
        return value

    def decode(value: Any) -> Any:
        if type(value) not in expected:
            raise Invalid(f"{type(value).__name__} is not one of {expected}")
        return value

    return encode, decode


def _sequence(item: tuple[Convert, Convert], kind: type) -> tuple[Convert, Convert]:
    enc_item, dec_item = item

    def encode(value: Any) -> Any:
        if type(value) is not kind:
            raise Unencodable(f"{type(value).__name__} is not a {kind.__name__}")
        items: Any = value  # a list or tuple, checked above
        return [enc_item(v) for v in items]

    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise Invalid("not an array")
        if kind is tuple:
            return tuple([dec_item(v) for v in value])
        return [dec_item(v) for v in value]

    return encode, decode


def _fixed_tuple(items: list[tuple[Convert, Convert]]) -> tuple[Convert, Convert]:
    n = len(items)

    def encode(value: Any) -> Any:
        if type(value) is not tuple or len(value) != n:
            raise Unencodable("not a tuple of the declared length")
        return [enc(v) for (enc, _), v in zip(items, value, strict=True)]

    decoders = [dec for _, dec in items]
    if n == 2:  # the pairs a schema state is made of: no loop, no generator
        dec0, dec1 = decoders

        def decode_pair(value: Any) -> Any:
            if type(value) is not list or len(value) != 2:
                raise Invalid("not an array of the declared length")
            return (dec0(value[0]), dec1(value[1]))

        return encode, decode_pair

    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != n:
            raise Invalid("not an array of the declared length")
        return tuple([dec(v) for dec, v in zip(decoders, value, strict=True)])

    return encode, decode


def _mapping(item: tuple[Convert, Convert]) -> tuple[Convert, Convert]:
    enc_item, dec_item = item

    def encode(value: Any) -> Any:
        if type(value) is not dict or any(type(k) is not str for k in value):
            raise Unencodable("not a dict with str keys")
        return {k: enc_item(v) for k, v in value.items()}

    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise Invalid("not an object")
        return {k: dec_item(v) for k, v in value.items()}

    return encode, decode


def _union(arms: list[tuple[Convert, Convert]]) -> tuple[Convert, Convert]:
    # The arms used here (``str | tuple[str, ...] | None``, ``X | None``) have disjoint
    # JSON shapes, so the first arm that accepts a value is the only one that can.
    def encode(value: Any) -> Any:
        for enc, _ in arms:
            try:
                return enc(value)
            except Unencodable:
                continue
        raise Unencodable(f"{type(value).__name__} matches no arm of the union")

    def decode(value: Any) -> Any:
        for _, dec in arms:
            try:
                return dec(value)
            except Invalid:
                continue
        raise Invalid(f"{type(value).__name__} matches no arm of the union")

    return encode, decode


def _simple_types(tp: Any) -> tuple[type, ...] | None:
    """The exact Python types a JSON value may have for ``tp``, when a type check is the
    whole of its decoding (``str``, ``int | None``...); None otherwise."""
    if tp in (str, int, float, bool, type(None)):
        return (tp,)
    origin = typing.get_origin(tp)
    if origin is typing.Literal and all(type(a) is str for a in typing.get_args(tp)):
        # Stored as the string, checked as a string, as before the vocabulary was typed.
        return (str,)
    if origin in (typing.Union, types.UnionType):
        out: list[type] = []
        for arm in typing.get_args(tp):
            simple = _simple_types(arm)
            if simple is None:
                return None
            out += simple
        return tuple(out)
    return None


def _dataclass(cls: type) -> tuple[Convert, Convert]:
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.init]
    defaults: dict[str, Any] = {}  # every default, to leave out of the encoding
    fixed: dict[str, Any] = {}  # plain default values
    factories: list[tuple[str, Callable[[], Any]]] = []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            defaults[f.name] = fixed[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
            factories.append((f.name, f.default_factory))
    required = frozenset(f.name for f in fields if f.name not in defaults)
    # Per field: the exact types a plain value may have, or the decoder of a nested one.
    spec: dict[str, tuple[type, ...] | tuple[Convert, Convert]] = {}
    plain: list[tuple[type, ...]] = []
    for f in fields:
        simple = _simple_types(hints[f.name])
        spec[f.name] = simple if simple is not None else _converters(hints[f.name])
        if simple is not None:
            plain.append(simple)
    names = [f.name for f in fields]
    _missing = object()
    # A plain dataclass is rebuilt as pickle would, without calling __init__ (a frozen
    # one's __init__ costs a setattr per field), which is the same object __init__ builds.
    slotted = "__slots__" in cls.__dict__
    plain_init = not hasattr(cls, "__post_init__") and len(fields) == len(dataclasses.fields(cls))
    if plain_init and len(plain) == len(fields):
        # Plain values only (a Span): an array of every field, smaller and faster.
        return _flat_dataclass(cls, names, plain, slotted=slotted)
    direct = plain_init and not slotted

    def encode(value: Any) -> Any:
        if type(value) is not cls:
            raise Unencodable(f"{type(value).__name__} is not {cls.__name__}")
        out: dict[str, Any] = {}
        for name in names:
            v = getattr(value, name)
            default = defaults.get(name, _missing)
            if default is not _missing and type(v) is type(default) and v == default:
                continue
            rule = spec[name]
            if isinstance(rule[0], type):
                if type(v) not in rule:
                    raise Unencodable(f"{cls.__name__}.{name}: {type(v).__name__}")
                out[name] = v
            else:
                out[name] = rule[0](v)
        return out

    # Per field: (the exact types of a plain value, None) or (None, the nested decoder).
    checks: dict[str, tuple[tuple[type, ...] | None, Convert | None]] = {
        name: (rule, None) if isinstance(rule[0], type) else (None, rule[1])  # type: ignore[misc]
        for name, rule in spec.items()
    }

    def decode(value: Any) -> Any:
        if type(value) is not dict:
            raise Invalid(f"{cls.__name__}: not an object")
        # The parsed JSON object becomes the keyword arguments: each plain value is
        # checked where it is, each nested one replaced by its decoded value.
        kwargs: dict[str, Any] = value
        for name, v in value.items():
            check = checks.get(name)
            if check is None:
                raise Invalid(f"{cls.__name__}: unknown field {name!r}")
            allowed, nested = check
            if nested is None:
                if type(v) not in allowed:  # type: ignore[operator]
                    raise Invalid(f"{cls.__name__}.{name}: {type(v).__name__}")
            else:
                kwargs[name] = nested(v)
        if not required <= kwargs.keys():
            raise Invalid(f"{cls.__name__}: missing {sorted(required - kwargs.keys())}")
        if not direct:
            return cls(**kwargs)
        obj: Any = object.__new__(cls)
        state = obj.__dict__
        state.update(fixed)
        for name, factory in factories:
            if name not in kwargs:
                state[name] = factory()
        state.update(kwargs)
        return obj

    return encode, decode


def _flat_dataclass(
    cls: type, names: list[str], types_: list[tuple[type, ...]], *, slotted: bool
) -> tuple[Convert, Convert]:
    n = len(names)
    checks = list(zip(names, types_, strict=True))

    def encode(value: Any) -> Any:
        if type(value) is not cls:
            raise Unencodable(f"{type(value).__name__} is not {cls.__name__}")
        out = [getattr(value, name) for name in names]
        for v, (name, allowed) in zip(out, checks, strict=True):
            if type(v) not in allowed:
                raise Unencodable(f"{cls.__name__}.{name}: {type(v).__name__}")
        return out

    # When every field has one allowed type (an Origin: four ints), the types of the
    # array's items are compared in one go; otherwise (and to name the field) one by one.
    single = tuple(allowed[0] for allowed in types_) if all(len(a) == 1 for a in types_) else None

    # A frozen value (an Origin) is shared by the objects that hold equal ones, as a
    # replay's objects share their statement's: a schema state repeats each many times.
    # Keyed only once the types are checked, as True == 1 would otherwise pass for an int.
    shared: dict[tuple[Any, ...], Any] | None = (
        {} if single is not None and cls.__dataclass_params__.frozen else None  # type: ignore[attr-defined]
    )

    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != n:
            raise Invalid(f"{cls.__name__}: not an array of {n}")
        if shared is not None and tuple(map(type, value)) == single:
            key = tuple(value)
            hit = shared.get(key)
            if hit is None:
                if len(shared) >= _SHARED_MAX:  # a long-lived server: bounded
                    shared.clear()
                hit = shared[key] = build(value)
            return hit
        if single is None or tuple(map(type, value)) != single:
            for v, (name, allowed) in zip(value, checks, strict=True):
                if type(v) not in allowed:
                    raise Invalid(f"{cls.__name__}.{name}: {type(v).__name__}")
        return build(value)

    def build(value: list[Any]) -> Any:
        obj: Any = object.__new__(cls)
        if slotted:  # no __dict__: set each slot (a frozen class refuses plain setattr)
            for name, v in zip(names, value, strict=True):
                object.__setattr__(obj, name, v)
        else:
            obj.__dict__.update(zip(names, value, strict=True))
        return obj

    return encode, decode


_BUILT: dict[Any, tuple[Convert, Convert]] = {}
# How many distinct values of one frozen flat dataclass are kept for sharing.
_SHARED_MAX = 1 << 14


def _converters(tp: Any) -> tuple[Convert, Convert]:
    """The (encode, decode) pair of a type annotation, built once."""
    try:
        return _BUILT[tp]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation: build it every time
        return _build(tp)
    pair = _build(tp)
    _BUILT[tp] = pair
    return pair


def _build(tp: Any) -> tuple[Convert, Convert]:
    simple = _simple_types(tp)
    if simple is not None:
        return _check(simple)
    if tp is object or tp is Any:
        return _check(_SCALARS)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        # Registered before its fields are built, so a recursive type terminates.
        slot: list[tuple[Convert, Convert]] = []
        _BUILT[tp] = (lambda v: slot[0][0](v), lambda v: slot[0][1](v))
        slot.append(_dataclass(tp))
        _BUILT[tp] = slot[0]
        return slot[0]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        pair = _union([_converters(arm) for arm in args])
        others = [arm for arm in args if arm is not type(None)]
        if len(others) == 1 and len(args) == 2:
            # ``X | None`` (an object's origin, a column's type): None is checked first,
            # without trying X and catching its refusal, as the union would.
            dec_other = _converters(others[0])[1]
            return pair[0], lambda v: None if v is None else dec_other(v)
        return pair
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return _sequence(_converters(args[0]), tuple)
        return _fixed_tuple([_converters(arg) for arg in args])
    if origin is list:
        return _sequence(_converters(args[0]), list)
    if origin is dict and args and args[0] is str:
        return _mapping(_converters(args[1]))
    raise TypeError(f"no JSON codec for {tp!r}")


class Codec(Generic[T]):
    """Encode values of one type to JSON bytes, and decode them back strictly."""

    def __init__(self, tp: Any) -> None:
        self._encode, self._decode = _converters(tp)

    def encode(self, value: T) -> bytes:
        """JSON bytes that ``decode`` turns back into a value equal to ``value``; raises
        ``Unencodable`` when that cannot be promised."""
        data = self._encode(value)
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(
            "utf-8", "surrogatepass"
        )

    def decode(self, data: bytes) -> T:
        """The value ``data`` holds; raises ``Invalid`` for anything malformed."""
        try:
            raw = json.loads(data.decode("utf-8", "surrogatepass"))
        except (ValueError, RecursionError) as err:
            raise Invalid(f"not JSON: {err}") from None
        try:
            value: T = self._decode(raw)
        except RecursionError:
            raise Invalid("nested too deeply") from None
        return value
