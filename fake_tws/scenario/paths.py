"""Dotted field paths into typed messages: `contract.symbol`, `order.orderType`.

Scenario matchers and journal assertions both name message fields this way. A bare name
that is not a top-level field (`orderType` in a placeOrder) stands for the one nested
field of that name nearest the top; if two are equally near, the name is ambiguous.
Paths go through nested structs only, never into lists.
"""

from __future__ import annotations

import difflib
import functools
from typing import Any

import msgspec
from msgspec import inspect as mi

MISSING: Any = object()  # a path that runs through an unset (None) struct


class FieldPathError(ValueError):
    """A path that does not name a field of the message type."""


def suggestion(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """'; did you mean "x"?' when a choice is close to `word`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def unwrap(t: mi.Type) -> mi.Type:
    """The type under Annotated metadata and an Optional (`X | None` -> X)."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        members = [m for m in t.types if not isinstance(m, mi.NoneType)]
        if len(members) == 1:
            return unwrap(members[0])
    return t


def struct_fields(t: mi.Type) -> dict[str, mi.Field] | None:
    t = unwrap(t)
    if isinstance(t, mi.StructType):
        return {f.encode_name: f for f in t.fields}
    return None


def _nested_fields(info: mi.StructType, prefix: tuple[str, ...], depth: int, out: dict) -> None:
    for f in info.fields:
        out.setdefault(f.encode_name, []).append((depth, (*prefix, f.encode_name)))
        inner = unwrap(f.type)
        if isinstance(inner, mi.StructType) and depth < 4:
            _nested_fields(inner, (*prefix, f.encode_name), depth + 1, out)


@functools.cache
def type_info(cls: type) -> mi.Type:
    """msgspec's description of a type, computed once: loading a scenario asks for the
    same message and struct types many times, and each inspection walks the whole type."""
    return mi.type_info(cls)


def resolve_path(cls: type, path: str) -> tuple[tuple[str, ...], mi.Type]:
    """The full field path and its type for `path` on message type `cls`.

    Raises FieldPathError naming the first segment that does not exist (with a
    suggestion), or the candidates when a bare name is ambiguous.
    """
    info = type_info(cls)
    segments = path.split(".")
    if len(segments) == 1:
        top = struct_fields(info) or {}
        if path not in top:
            return _resolve_bare_name(info, path)
    current: mi.Type = info
    for i, name in enumerate(segments):
        fields = struct_fields(current)
        if fields is None:
            where = ".".join(segments[:i])
            kind = "a list" if _is_sequence(unwrap(current)) else "not a struct"
            raise FieldPathError(f"{where} is {kind}; a path cannot go inside it")
        if name not in fields:
            owner = ".".join(segments[:i]) or _type_name(cls)
            raise FieldPathError(f"{owner} has no field {name!r}{suggestion(name, fields)}")
        current = fields[name].type
    return tuple(segments), current


def _resolve_bare_name(info: mi.StructType, name: str) -> tuple[tuple[str, ...], mi.Type]:
    found: dict[str, list] = {}
    _nested_fields(info, (), 0, found)
    candidates = found.get(name)
    if not candidates:
        top = [f.encode_name for f in info.fields]
        raise FieldPathError(
            f"{_type_name(info.cls)} has no field {name!r}{suggestion(name, top + list(found))}"
        )
    nearest = min(depth for depth, _ in candidates)
    paths = [p for depth, p in candidates if depth == nearest]
    if len(paths) > 1:
        options = ", ".join(".".join(p) for p in paths)
        raise FieldPathError(f"{name!r} is ambiguous in {_type_name(info.cls)}: say {options}")
    full = paths[0]
    current: mi.Type = info
    for segment in full:
        current = struct_fields(current)[segment].type
    return full, current


def _is_sequence(t: mi.Type) -> bool:
    return isinstance(t, mi.ListType | mi.VarTupleType | mi.TupleType | mi.SetType)


def _type_name(cls: type) -> str:
    # Messages go by their api name (placeOrder), scenario events by theirs (order_filled).
    return getattr(cls, "api_name", "") or getattr(cls, "name", "") or cls.__name__


def field_value(message: msgspec.Struct, path: tuple[str, ...]) -> Any:
    """The value at a resolved path, or MISSING if the path runs through an unset struct."""
    value: Any = message
    for segment in path:
        if value is None:
            return MISSING
        value = getattr(value, segment)
    return value
