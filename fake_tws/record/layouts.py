"""Where a response's fields sit on the wire, learned from the codec's own encoders.

fake-tws has no response decoders, so a recorded server message is a list of text
fields. To name what is in it (which field is the request id, the perm id, the
account) we encode probes: a response built from default values, then the same with one
field changed; the one wire field that changes is that field's position. Positions are
learned per (message type, server version) and cached.

A message whose fields are all scalars ("flat": error, orderStatus, tickSize...) can be
read back into its typed form; `to_typed` does that and keeps the result only if
encoding it gives back exactly the recorded fields.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec
from msgspec import inspect as mi

from fake_tws.protocol import table
from fake_tws.protocol.codec import response_fields
from fake_tws.protocol.messages import Response
from fake_tws.protocol.responses import market_data as md

# Nested fields worth locating: ids a replay rewrites, values the sanitiser replaces.
INTERESTING_LEAVES = frozenset(
    {
        "orderId",
        "clientId",
        "permId",
        "parentPermId",
        "account",
        "acctNumber",
        "accountName",
        "orderRef",
        "execId",
        "customerAccount",
        "clearingAccount",
    }
)
MAX_DEPTH = 3
_TICK_BY_TICK = {1: md.TickByTickAllLast, 2: md.TickByTickAllLast}
_TICK_BY_TICK.update({3: md.TickByTickBidAsk, 4: md.TickByTickMidPoint})
RESPONSE_TYPES: dict[int, list[type[Response]]] = {}
for _cls, _id in table.RESPONSE_IDS.items():
    RESPONSE_TYPES.setdefault(_id, []).append(_cls)


def response_type(fields: list[str]) -> type[Response] | None:
    """The response type of a recorded message (its id; tick-by-tick by its tick type)."""
    try:
        msg_id = int(fields[0])
    except (IndexError, ValueError):
        return None
    types = RESPONSE_TYPES.get(msg_id)
    if not types:
        return None
    if len(types) == 1:
        return types[0]
    try:
        return _TICK_BY_TICK.get(int(fields[2]))
    except (IndexError, ValueError):
        return None


def api_name(fields: list[str]) -> str:
    """The EWrapper name of a recorded message, else "message <id>"."""
    cls = response_type(fields)
    return cls.api_name if cls is not None else f"message {fields[0] if fields else '?'}"


@dataclass(frozen=True)
class Layout:
    cls: type[Response]
    version: int
    length: int  # wire fields of the default-valued probe, message id included
    positions: dict[str, int]  # dotted field path -> index among the wire fields
    scalars: dict[str, Any]  # top-level scalar field -> its msgspec type info
    flat: bool  # every top-level field is a located scalar: `to_typed` may work

    def position(self, path: str) -> int | None:
        return self.positions.get(path)

    def paths_named(self, *leaves: str) -> list[str]:
        """Located paths whose last part is one of `leaves`."""
        return [p for p in self.positions if p.rsplit(".", 1)[-1] in leaves]


def layout_of(fields: list[str], version: int) -> Layout | None:
    cls = response_type(fields)
    return layout(cls, version) if cls is not None else None


@functools.cache
def layout(cls: type[Response], version: int) -> Layout | None:
    """The layout of `cls` at `version`, or None if it cannot be probed."""
    if version < cls.min_version:
        return None
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    try:
        base_values = _defaults(info)
        base = _encode(cls, base_values, version)
    except Exception:
        return None
    positions: dict[str, int] = {}
    scalars: dict[str, Any] = {}
    for path, leaf in _leaves(info, ()):
        name = ".".join(path)
        top = len(path) == 1
        if top:
            scalars[name] = leaf
        elif path[-1] not in INTERESTING_LEAVES:
            continue
        current = _get(base_values, path)
        try:
            changed = _encode(cls, _set(base_values, path, _sentinel(leaf, current)), version)
        except Exception:
            continue
        if len(changed) != len(base):
            continue
        diff = [i for i, (a, b) in enumerate(zip(base, changed, strict=True)) if a != b]
        if len(diff) == 1:
            positions[name] = diff[0]
    flat = all(f.name in scalars and f.name in positions for f in info.fields)
    return Layout(cls, version, len(base), positions, scalars, flat)


def to_typed(fields: list[str], version: int) -> Response | None:
    """The typed message whose encoding is exactly `fields`, when its type is flat."""
    lay = layout_of(fields, version)
    if lay is None or not lay.flat or len(fields) != lay.length:
        return None
    values: dict[str, Any] = {}
    for name, leaf in lay.scalars.items():
        ok, value = _parse(fields[lay.positions[name]], leaf)
        if not ok:
            return None
        values[name] = value
    try:
        message = lay.cls(**values)
        if response_fields(message, version) != fields:
            return None
    except Exception:
        return None
    return message


# -- probing ----------------------------------------------------------------------------------


def _unwrap(t: Any) -> tuple[Any, bool]:
    """(the type inside Optional[...], whether None is allowed)."""
    while isinstance(t, mi.Metadata):
        t = t.type
    if isinstance(t, mi.UnionType):
        others = [o for o in t.types if not isinstance(o, mi.NoneType)]
        if len(others) == 1 and len(others) < len(t.types):
            inner, _ = _unwrap(others[0])
            return inner, True
    return t, False


_SCALARS = (mi.IntType, mi.FloatType, mi.StrType, mi.BoolType, mi.DecimalType)


def _is_scalar(t: Any) -> bool:
    return isinstance(_unwrap(t)[0], _SCALARS)


def _leaves(info: mi.StructType, prefix: tuple[str, ...]):
    """(path, type) of each scalar field, nested structs included up to MAX_DEPTH."""
    for f in info.fields:
        path = (*prefix, f.name)
        inner, _ = _unwrap(f.type)
        if isinstance(inner, _SCALARS):
            yield path, f.type
        elif isinstance(inner, mi.StructType) and len(path) < MAX_DEPTH:
            yield from _leaves(inner, path)


def _defaults(info: mi.StructType) -> dict[str, Any]:
    """Constructor values for a struct: defaults, else zero values (nested: recursively)."""
    values: dict[str, Any] = {}
    for f in info.fields:
        inner, optional = _unwrap(f.type)
        if isinstance(inner, mi.StructType):
            if f.required or _default(f) is not None:
                values[f.name] = _defaults(inner)
            continue
        if not f.required:
            continue
        values[f.name] = None if optional else _zero(inner)
    return {"__struct__": info.cls, **values}


def _default(f: mi.Field) -> Any:
    if f.default is not msgspec.NODEFAULT:
        return f.default
    if f.default_factory is not msgspec.NODEFAULT:
        return f.default_factory()
    return None


def _zero(t: Any) -> Any:
    if isinstance(t, mi.BoolType):
        return False
    if isinstance(t, mi.IntType):
        return 0
    if isinstance(t, mi.FloatType):
        return 0.0
    if isinstance(t, mi.DecimalType):
        return Decimal(0)
    if isinstance(t, mi.StrType):
        return ""
    if isinstance(t, mi.LiteralType):
        return t.values[0]
    return ()


def _sentinel(t: Any, current: Any) -> Any:
    inner, _ = _unwrap(t)
    if isinstance(inner, mi.BoolType):
        return not current
    if isinstance(inner, mi.IntType):
        return 987_654_321 if current != 987_654_321 else 987_654_322
    if isinstance(inner, mi.FloatType):
        return 98_765.4321
    if isinstance(inner, mi.DecimalType):
        return Decimal("98765.4321")
    return "~probe~"


def _build(values: dict[str, Any]) -> Any:
    cls = values["__struct__"]
    kwargs = {k: _build(v) if isinstance(v, dict) else v for k, v in values.items()}
    del kwargs["__struct__"]
    return cls(**kwargs)


def _encode(cls: type[Response], values: dict[str, Any], version: int) -> list[str]:
    return response_fields(_build(values), version)


def _get(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if isinstance(node, dict):
            if part in node:
                node = node[part]
                continue
            cls = node["__struct__"]
            return _default(next(f for f in mi.type_info(cls).fields if f.name == part))
        return getattr(node, part, None)
    return node


def _set(values: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    head, *rest = path
    copy = dict(values)
    if rest:
        inner = copy.get(head)
        if not isinstance(inner, dict):
            cls = values["__struct__"]
            field_info = next(f for f in mi.type_info(cls).fields if f.name == head)
            inner = _defaults(_unwrap(field_info.type)[0])
        copy[head] = _set(inner, tuple(rest), value)
    else:
        copy[head] = value
    return copy


def _parse(text: str, t: Any) -> tuple[bool, Any]:
    """A wire field read back as `t` (exactness is checked by re-encoding)."""
    inner, optional = _unwrap(t)
    if text == "" and optional:
        return True, None
    try:
        if isinstance(inner, mi.StrType):
            return True, text
        if isinstance(inner, mi.BoolType):
            if text in ("0", "1"):
                return True, text == "1"
            return False, None
        if isinstance(inner, mi.IntType):
            return True, int(text)
        if isinstance(inner, mi.FloatType):
            return True, float("inf" if text == "Infinity" else text)
        if isinstance(inner, mi.DecimalType):
            return True, Decimal(text)
    except (ValueError, ArithmeticError):
        return False, None
    return False, None
