"""Our structs against a client library's objects (ibapi or ib_async), both ways.

Comparing what a client decoded with what we sent:
- `assert_fields_match(theirs, ours)`: every field of our struct equals the same-named
  attribute of theirs, where
  - our None matches their "unset" (`is_unset`: None, UNSET_INTEGER, UNSET_DOUBLE,
    UNSET_DECIMAL);
  - our tuple matches their list or set (set: order-free), and an empty tuple also their
    None;
  - a nested struct is compared the same way, recursively;
  - an Enum of theirs (ibapi's fund codes) is compared by its wire code;
  - an attribute they spell with a trailing underscore (ibapi's `id_`) is found too.
  Attributes only they have are ignored: a test names the fields the message carries by
  setting them in our struct to non-default values. `assert_value` does the same for any
  value (a tuple of structs, say).
- `from_ibapi(obj, cls)`: an ibapi object as our struct (unset sentinels -> None), so that
  results compare with `==`; `field_diff` / `assert_same` name the fields two structs
  differ in. `normalise` gives a library-neutral form of ib_async objects and ours.

Building what a client would send:
- `to_ibapi(value)` / `to_ib_async(value)`: our struct as the object a client would build
  (None -> ibapi's unset sentinel; ib_async's default).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any

import ib_async.contract
import ib_async.objects
import ib_async.order
import ibapi.commission_report
import ibapi.common
import ibapi.contract
import ibapi.execution
import ibapi.order
import ibapi.order_cancel
import ibapi.order_state
import ibapi.scanner
import ibapi.softdollartier
import ibapi.tag_value
import msgspec
from ibapi import order_condition as ib_conditions
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER

from fake_tws.ibtypes import (
    ComboLeg,
    CommissionReport,
    Contract,
    DeltaNeutralContract,
    Execution,
    ExecutionFilter,
    Order,
    OrderComboLeg,
    OrderState,
    SoftDollarTier,
    TagValue,
)
from fake_tws.ibtypes import order_conditions as oc
from fake_tws.ibtypes.misc import ScannerSubscription, WshEventData
from fake_tws.ibtypes.order import OrderCancel

_IBAPI_CLASSES: dict[type, Any] = {
    Contract: ibapi.contract.Contract,
    ComboLeg: ibapi.contract.ComboLeg,
    DeltaNeutralContract: ibapi.contract.DeltaNeutralContract,
    Order: ibapi.order.Order,
    OrderComboLeg: ibapi.order.OrderComboLeg,
    OrderState: ibapi.order_state.OrderState,
    OrderCancel: ibapi.order_cancel.OrderCancel,
    SoftDollarTier: ibapi.softdollartier.SoftDollarTier,
    TagValue: ibapi.tag_value.TagValue,
    Execution: ibapi.execution.Execution,
    ExecutionFilter: ibapi.execution.ExecutionFilter,
    CommissionReport: ibapi.commission_report.CommissionReport,
    ScannerSubscription: ibapi.scanner.ScannerSubscription,
    WshEventData: ibapi.common.WshEventData,
}
_IB_ASYNC_CLASSES: dict[type, Any] = {
    Contract: ib_async.contract.Contract,
    ComboLeg: ib_async.contract.ComboLeg,
    DeltaNeutralContract: ib_async.contract.DeltaNeutralContract,
    Order: ib_async.order.Order,
    OrderComboLeg: ib_async.order.OrderComboLeg,
    SoftDollarTier: ib_async.objects.SoftDollarTier,
    ExecutionFilter: ib_async.objects.ExecutionFilter,
    ScannerSubscription: ib_async.objects.ScannerSubscription,
    WshEventData: ib_async.objects.WshEventData,
}
CONDITION_TYPES = (
    oc.PriceCondition,
    oc.TimeCondition,
    oc.MarginCondition,
    oc.ExecutionCondition,
    oc.VolumeCondition,
    oc.PercentChangeCondition,
)
_CONDITION_BY_CODE = {cls.__struct_config__.tag: cls for cls in CONDITION_TYPES}


def is_unset(value: Any) -> bool:
    """None, or one of the clients' "unset" sentinels (Java's max values)."""
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return value in (UNSET_INTEGER, UNSET_DOUBLE, UNSET_DECIMAL)


def base_type(tp: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


# What a client decoded against what we sent. ---------------------------------------------


def assert_value(
    theirs: Any, ours: Any, path: str = "", ignore: frozenset[str] = frozenset()
) -> None:
    if isinstance(ours, msgspec.Struct):
        assert_fields_match(theirs, ours, path, ignore)
    elif ours is None:
        assert is_unset(theirs), f"{path}: expected unset, got {theirs!r}"
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
    path = path or type(ours).__name__
    for name in ours.__struct_fields__:
        if name in ignore:
            continue
        attr = name if hasattr(theirs, name) else name + "_"
        assert hasattr(theirs, attr), f"{path}.{name}: {type(theirs).__name__} has no such field"
        assert_value(getattr(theirs, attr), getattr(ours, name), f"{path}.{name}", ignore)


def from_ibapi(value: Any, tp: Any) -> Any:
    """An ibapi value as our type `tp` (unset sentinels -> None where `tp` allows None)."""
    allows_none = isinstance(tp, types.UnionType) and type(None) in typing.get_args(tp)
    if allows_none and is_unset(value):
        return None
    base = base_type(tp)
    if typing.get_origin(base) is tuple:
        (item_type, _) = typing.get_args(base)
        return tuple(from_ibapi(v, item_type) for v in (value or ()))
    if isinstance(base, types.UnionType):  # the OrderCondition union
        cls = _CONDITION_BY_CODE[value.type()]
        kwargs = {"conjunction": value.isConjunctionConnection}
        for name in cls.__struct_fields__:
            if name != "conjunction":
                kwargs[name] = getattr(value, name)
        return cls(**kwargs)
    if base is TagValue:
        return TagValue(value.tag, value.value)
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return base(
            **{
                f.name: from_ibapi(getattr(value, f.name), f.type)
                for f in msgspec.structs.fields(base)
            }
        )
    return value


def field_diff(expected: msgspec.Struct, actual: msgspec.Struct) -> dict[str, tuple]:
    """{field: (expected, actual)} for every differing field."""
    return {
        name: (getattr(expected, name), getattr(actual, name))
        for name in expected.__struct_fields__
        if getattr(expected, name) != getattr(actual, name)
    }


def assert_same(expected: msgspec.Struct, actual: msgspec.Struct) -> None:
    """Two of our structs are equal; the message names the fields that differ."""
    diff = field_diff(expected, actual)
    assert not diff, diff


def normalise(value: Any) -> Any:
    """A library-neutral form for comparing ib_async objects with ours: unset -> None,
    numbers -> float, objects -> dicts of their fields, sequences -> tuples."""
    if is_unset(value):
        return None
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):
        return tuple(normalise(v) for v in value)
    if hasattr(value, "_fields"):  # namedtuple (ib_async's TagValue)
        return tuple(normalise(v) for v in value)
    if isinstance(value, TagValue):
        return (value.tag, value.value)
    if isinstance(value, msgspec.Struct):
        names = value.__struct_fields__
    else:
        names = [n for n in vars(value) if not n.startswith("_")]
    out = {}
    for name in names:
        v = getattr(value, name)
        if name == "exch":
            name = "exchange"
        if name == "conjunction" and isinstance(v, str):
            v = v == "a"
        out[name] = normalise(v)
    if isinstance(value, CONDITION_TYPES):
        out["condType"] = float(value.__struct_config__.tag)
    return out


# What a client would send, built from our structs. ---------------------------------------


def to_ibapi(value: Any) -> Any:
    if isinstance(value, tuple):
        return [to_ibapi(v) for v in value]
    if isinstance(value, CONDITION_TYPES):
        ib = ib_conditions.Create(value.__struct_config__.tag)
        ib.isConjunctionConnection = value.conjunction
        for name in value.__struct_fields__:
            if name != "conjunction":
                setattr(ib, name, getattr(value, name))
        return ib
    ib_class = _IBAPI_CLASSES.get(type(value))
    if ib_class is None:
        return value
    ib = ib_class()
    for f in msgspec.structs.fields(type(value)):
        v = getattr(value, f.name)
        if v is None:
            default = getattr(ib, f.name, None)
            if is_unset(default):
                v = default
            else:  # ibapi defaults this one to a number; unset is its sentinel
                tp = base_type(f.type)
                v = {int: UNSET_INTEGER, float: UNSET_DOUBLE}.get(tp, UNSET_DECIMAL)
        else:
            v = to_ibapi(v)
        setattr(ib, f.name, v)
    return ib


def to_ib_async(value: Any) -> Any:
    """Our struct as the ib_async object a client would build (None -> ib_async's default)."""
    if isinstance(value, tuple):
        return [to_ib_async(v) for v in value]
    if isinstance(value, TagValue):
        return ib_async.contract.TagValue(value.tag, value.value)
    if isinstance(value, CONDITION_TYPES):
        kwargs = {
            ("exch" if k == "exchange" else k): getattr(value, k) for k in value.__struct_fields__
        }
        kwargs["conjunction"] = "a" if value.conjunction else "o"
        return getattr(ib_async.order, type(value).__name__)(**kwargs)
    cls = _IB_ASYNC_CLASSES.get(type(value))
    if cls is None:
        return value
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(
        **{
            name: to_ib_async(getattr(value, name))
            for name in value.__struct_fields__
            if name in names and getattr(value, name) is not None
        }
    )
