"""Field matchers in `where:` and how they match a message's values.

A matcher value is
- a literal (`AAPL`, `100`, `true`, `null`): equal to the field's value;
- a `$binding`: captures the value the first time, then must equal what was captured;
- an operator mapping: `{gt: 100}`, `{in: [LMT, MKT]}`, `{regex: "^ES"}`; several
  operators in one mapping must all hold (`{ge: 100, lt: 200}`).
Write `{eq: "$5"}` to match a literal string that starts with "$".
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import msgspec

from .paths import MISSING, field_value

BINDING_PATTERN = r"^\$[A-Za-z_][A-Za-z0-9_]*$"
BINDING_RE = re.compile(BINDING_PATTERN)
Scalar = str | int | float | bool | None


class Op(msgspec.Struct, frozen=True, forbid_unknown_fields=True, repr_omit_defaults=True):
    """Operators on one field; every operator given must hold."""

    eq: Scalar | msgspec.UnsetType = msgspec.UNSET
    ne: Scalar | msgspec.UnsetType = msgspec.UNSET
    gt: float | None = None
    ge: float | None = None
    lt: float | None = None
    le: float | None = None
    in_: tuple[Scalar, ...] | None = msgspec.field(default=None, name="in")
    not_in: tuple[Scalar, ...] | None = None
    regex: str | None = None  # must match the whole value

    def __post_init__(self) -> None:
        if not self.operators():
            raise ValueError("expected at least one of eq, ne, gt, ge, lt, le, in, not_in, regex")

    def operators(self) -> dict[str, Any]:
        """The operators given, by their file names."""
        out = {}
        for f in msgspec.structs.fields(self):
            value = getattr(self, f.name)
            if value is not msgspec.UNSET and not (f.name not in ("eq", "ne") and value is None):
                out[f.encode_name] = value
        return out


Matcher = Scalar | Op


def is_binding(value: object) -> bool:
    return isinstance(value, str) and value.startswith("$")


def same_value(actual: Any, expected: Any) -> bool:
    # Quantities are Decimal on messages and float/int in files: compare as numbers.
    if isinstance(actual, Decimal) and isinstance(expected, float):
        return actual == Decimal(str(expected))
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return actual == expected


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _op_holds(name: str, operand: Any, actual: Any) -> bool:
    if name == "eq":
        return same_value(actual, operand)
    if name == "ne":
        return not same_value(actual, operand)
    if name == "in":
        return any(same_value(actual, o) for o in operand)
    if name == "not_in":
        return not any(same_value(actual, o) for o in operand)
    if name == "regex":
        return isinstance(actual, str) and re.fullmatch(operand, actual) is not None
    number = _number(actual)
    if number is None:
        return False
    bound = Decimal(str(operand))
    return {
        "gt": number > bound,
        "ge": number >= bound,
        "lt": number < bound,
        "le": number <= bound,
    }[name]


def match_value(matcher: Matcher, actual: Any, bindings: dict[str, Any]) -> dict[str, Any] | None:
    """The bindings captured by matching `actual`, or None when it does not match."""
    if actual is MISSING:
        return None
    if isinstance(matcher, Op):
        ok = all(_op_holds(n, o, actual) for n, o in matcher.operators().items())
        return {} if ok else None
    if is_binding(matcher):
        name = matcher[1:]
        if name in bindings:
            return {} if same_value(actual, bindings[name]) else None
        return {name: actual}
    return {} if same_value(actual, matcher) else None


def match_fields(
    where: dict[str, Matcher], message: msgspec.Struct, bindings: dict[str, Any]
) -> dict[str, Any] | None:
    """Match every `where` entry (keys are full dotted paths) against `message`.

    Returns the bindings captured (possibly empty) or None when any entry fails. A
    binding captured by one entry is visible to the entries after it.
    """
    seen = dict(bindings)
    captured: dict[str, Any] = {}
    for path, matcher in where.items():
        got = match_value(matcher, field_value(message, tuple(path.split("."))), seen)
        if got is None:
            return None
        seen.update(got)
        captured.update(got)
    return captured


def implicit_bindings(message: msgspec.Struct, client_id: int | None = None) -> dict[str, Any]:
    """What a matched request or event binds by itself: each top-level field by name,
    plus `clientId` (the sender) when known. Visible only to the rule's own actions."""
    values = {f.name: getattr(message, f.name) for f in msgspec.structs.fields(message)}
    if client_id is not None:
        values.setdefault("clientId", client_id)
    return values
