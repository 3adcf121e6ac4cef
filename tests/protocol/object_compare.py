"""Compare a client library's decoded object (ibapi or ib_async) with our struct.

Every field of our struct must equal the same-named attribute of theirs, where:
- our None matches their "unset" (None, UNSET_INTEGER, UNSET_DOUBLE, UNSET_DECIMAL, nan);
- our tuple matches their list or set (set: order-free), and an empty tuple also their None;
- a nested struct is compared the same way, recursively;
- an Enum of theirs (ibapi's fund codes) is compared by its wire code;
- an attribute they spell with a trailing underscore (ibapi's `id_`) is found too.
Attributes only they have are ignored: a test names the fields the message carries by
setting them in our struct to non-default values.
"""

from __future__ import annotations

import math
from decimal import Decimal
from enum import Enum
from typing import Any

import msgspec

_UNSET_INTEGER = 2**31 - 1
_UNSET_LONG = 2**63 - 1
_UNSET_DOUBLE = 1.7976931348623157e308
_UNSET_DECIMAL = Decimal(2**127 - 1)


def _is_unset(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, float) and math.isnan(value):
        return True
    return value in (_UNSET_INTEGER, _UNSET_LONG, _UNSET_DOUBLE, _UNSET_DECIMAL)


def assert_value(
    theirs: Any, ours: Any, path: str = "", ignore: frozenset[str] = frozenset()
) -> None:
    if isinstance(ours, msgspec.Struct):
        assert_fields_match(theirs, ours, path, ignore)
    elif ours is None:
        assert _is_unset(theirs), f"{path}: expected unset, got {theirs!r}"
    elif isinstance(ours, tuple):
        if theirs is None:
            assert ours == (), f"{path}: expected {ours!r}, got None"
            return
        if isinstance(theirs, set | frozenset):
            assert theirs == set(ours), f"{path}: expected {set(ours)!r}, got {theirs!r}"
            return
        theirs = list(theirs)
        assert len(theirs) == len(ours), f"{path}: expected {len(ours)} items, got {theirs!r}"
        for i, (t, o) in enumerate(zip(theirs, ours, strict=True)):
            assert_value(t, o, f"{path}[{i}]", ignore)
    else:
        if isinstance(theirs, Enum):  # ibapi's fund codes; NoneItem is our ""
            theirs = "" if theirs.name == "NoneItem" else theirs.value[0]
        assert theirs == ours, f"{path}: expected {ours!r}, got {theirs!r}"
        if isinstance(ours, bool) or isinstance(theirs, bool):
            assert isinstance(theirs, bool | int) and not isinstance(theirs, str), path


def assert_fields_match(
    theirs: Any, ours: msgspec.Struct, path: str = "", ignore: frozenset[str] = frozenset()
) -> None:
    """`ignore` names fields (at any depth) the other side does not model or carry."""
    for name in ours.__struct_fields__:
        if name in ignore:
            continue
        attr = name if hasattr(theirs, name) else name + "_"
        assert hasattr(theirs, attr), f"{path}.{name}: {type(theirs).__name__} has no such field"
        assert_value(getattr(theirs, attr), getattr(ours, name), f"{path}.{name}", ignore)
