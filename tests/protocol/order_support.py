"""Test helpers for the order family: our structs <-> ibapi / ib_async objects.

- `distinct(cls, **overrides)`: a struct with a distinct non-default value in every scalar
  field, so a shifted or swapped field shows up as a wrong value.
- `to_ibapi(value)`: our struct as the ibapi object a client would build (None -> ibapi's
  unset sentinel).
- `from_ibapi(obj, cls)`: an ibapi object as our struct (unset sentinels -> None), so that
  results compare with `==` and `field_diff` names the fields that differ.
- `ibapi_decode_all`: like the harness's `ibapi_decode`, and also fails if ibapi left
  fields of the message unread.
- `ib_async_decode` / `ib_async_request`: the same cross-checks against ib_async.
"""

from __future__ import annotations

import types
import typing
from datetime import UTC
from decimal import Decimal
from typing import Any

import ibapi.commission_report
import ibapi.contract
import ibapi.execution
import ibapi.order
import ibapi.order_cancel
import ibapi.order_state
import ibapi.softdollartier
import ibapi.tag_value
import msgspec
from ib_async.client import Client as IbAsyncClient
from ib_async.decoder import Decoder as IbAsyncDecoder
from ibapi import comm
from ibapi import order_condition as ib_conditions
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER
from ibapi.decoder import Decoder

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
from fake_tws.ibtypes.order import OrderCancel
from fake_tws.protocol.codec import decode_request, response_fields
from fake_tws.protocol.messages import Request, Response
from tests.ibapi_harness import RecordingWrapper

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
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return False
    return value in (UNSET_INTEGER, UNSET_DOUBLE, UNSET_DECIMAL)


def _base_type(tp: Any) -> Any:
    """`X | None` -> X; anything else unchanged."""
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


# Building values. ---------------------------------------------------------------------------


def distinct(cls: type[msgspec.Struct], start: int = 1, **overrides: Any) -> Any:
    """An instance with a distinct non-default value in every scalar field; nested structs
    and tuples keep their defaults unless given in `overrides`."""
    values: dict[str, Any] = {}
    for i, f in enumerate(msgspec.structs.fields(cls), start):
        if f.name in overrides:
            continue
        tp = _base_type(f.type)
        if tp is bool:
            values[f.name] = not f.default
        elif tp is int:
            values[f.name] = 10 + i
        elif tp is float:
            values[f.name] = i + 0.25
        elif tp is Decimal:
            values[f.name] = Decimal(i) + Decimal("0.5")
        elif tp is str:
            values[f.name] = f"{f.name}{i}"
    values.update(overrides)
    return cls(**values)


def reset(value: Any, names: typing.Iterable[str]) -> Any:
    """`value` with the named fields back at their defaults."""
    defaults = {f.name: f.default for f in msgspec.structs.fields(type(value))}
    return msgspec.structs.replace(value, **{name: defaults[name] for name in names})


def all_conditions() -> tuple[oc.OrderCondition, ...]:
    return (
        oc.PriceCondition(
            conjunction=True, isMore=True, conId=265598, exchange="SMART", price=101.5,
            triggerMethod=2,
        ),
        oc.TimeCondition(conjunction=False, isMore=False, time="20250102 10:30:00 US/Eastern"),
        oc.MarginCondition(conjunction=True, isMore=False, percent=30),
        oc.ExecutionCondition(conjunction=False, secType="STK", exchange="ARCA", symbol="SPY"),
        oc.VolumeCondition(conjunction=True, isMore=True, conId=756733, exchange="ARCA",
                           volume=150000),
        oc.PercentChangeCondition(conjunction=False, isMore=True, conId=8314, exchange="NYSE",
                                  changePercent=2.5),
    )  # fmt: skip


# ibapi conversions. -------------------------------------------------------------------------


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
                tp = _base_type(f.type)
                v = {int: UNSET_INTEGER, float: UNSET_DOUBLE}.get(tp, UNSET_DECIMAL)
        else:
            v = to_ibapi(v)
        setattr(ib, f.name, v)
    return ib


def from_ibapi(value: Any, tp: Any) -> Any:
    """An ibapi value as our type `tp` (unset sentinels -> None where `tp` allows None)."""
    allows_none = isinstance(tp, types.UnionType) and type(None) in typing.get_args(tp)
    if allows_none and is_unset(value):
        return None
    base = _base_type(tp)
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
    diff = field_diff(expected, actual)
    assert not diff, diff


# Driving ibapi. -----------------------------------------------------------------------------


def ibapi_decode_all(message: Response, version: int) -> list[tuple[str, tuple[Any, ...]]]:
    """ibapi's EWrapper calls for our encoding of `message`; fails on unread fields."""
    fields = response_fields(message, version)
    raw = comm.read_fields(("\0".join(fields) + "\0").encode())
    wrapper = RecordingWrapper()
    decoder = Decoder(wrapper, version)
    info = decoder.msgId2handleInfo[int(raw[0])]
    if info.processMeth is not None:
        it = iter(raw)
        info.processMeth(decoder, it)
        left = list(it)
        assert not left, f"ibapi left {len(left)} field(s) unread: {left}"
    else:  # signature-driven messages check their field count themselves
        decoder.interpret(raw)
        assert wrapper.calls, f"ibapi rejected the field count of {fields}"
    return wrapper.calls


# Driving ib_async. --------------------------------------------------------------------------


class IbAsyncRecorder:
    """Stands in for ib_async's Wrapper: records every callback as (name, args)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.ib = types.SimpleNamespace(TimezoneTWS=None)
        self.defaultTimezone = UTC

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self.calls.append((name, args))


def ib_async_decode(message: Response, version: int) -> list[tuple[str, tuple[Any, ...]]]:
    """ib_async's wrapper calls for our encoding (its handlers raise on a bad layout)."""
    fields = response_fields(message, version)
    recorder = IbAsyncRecorder()
    decoder = IbAsyncDecoder(recorder, version)
    decoder.handlers[int(fields[0])](fields)
    return recorder.calls


class _CapturingIbAsyncClient(IbAsyncClient):
    def __init__(self, version: int) -> None:
        super().__init__(None)
        self._version = version
        self.sent: list[str] = []

    def isConnected(self) -> bool:
        return True

    def serverVersion(self) -> int:
        return self._version

    def sendMsg(self, msg: str) -> None:
        self.sent.append(msg)


def ib_async_request(version: int, call: typing.Callable[[IbAsyncClient], None]) -> Request:
    """Let ib_async's client encode one request, then decode it with our codec."""
    client = _CapturingIbAsyncClient(version)
    call(client)
    (msg,) = client.sent
    return decode_request(msg.encode(), version)


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


def to_ib_async(value: Any) -> Any:
    """Our struct as the ib_async object a client would build (None -> ib_async's default)."""
    import dataclasses

    import ib_async.contract as iac
    import ib_async.objects as iao_objects
    import ib_async.order as iao

    if isinstance(value, tuple):
        return [to_ib_async(v) for v in value]
    if isinstance(value, TagValue):
        return iac.TagValue(value.tag, value.value)
    if isinstance(value, CONDITION_TYPES):
        kwargs = {
            ("exch" if k == "exchange" else k): getattr(value, k) for k in value.__struct_fields__
        }
        kwargs["conjunction"] = "a" if value.conjunction else "o"
        return getattr(iao, type(value).__name__)(**kwargs)
    classes = {
        Contract: iac.Contract,
        ComboLeg: iac.ComboLeg,
        DeltaNeutralContract: iac.DeltaNeutralContract,
        Order: iao.Order,
        OrderComboLeg: iao.OrderComboLeg,
        SoftDollarTier: iao_objects.SoftDollarTier,
        ExecutionFilter: iao_objects.ExecutionFilter,
    }
    cls = classes.get(type(value))
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


# What each layout carries (the test's own reading of ibapi's client.py / decoder.py). -------

PEGGED_TO_BENCHMARK_FIELDS = (
    "referenceContractId", "isPeggedChangeAmountDecrease", "peggedChangeAmount",
    "referenceChangeAmount", "referenceExchangeId", "conditions", "conditionsIgnoreRth",
    "conditionsCancelOrder", "adjustedOrderType", "triggerPrice", "lmtPriceOffset",
    "adjustedStopPrice", "adjustedStopLimitPrice", "adjustedTrailingAmount",
    "adjustableTrailingUnit",
)  # fmt: skip
PEG_BEST_MID_FIELDS = (
    "minTradeQty", "minCompeteSize", "competeAgainstBestOffset", "midOffsetAtWhole",
    "midOffsetAtHalf",
)  # fmt: skip

# Order fields placeOrder sends only from a server version on (ibapi refuses them below).
PLACE_ORDER_GATES: dict[str, int] = {
    **dict.fromkeys(PEGGED_TO_BENCHMARK_FIELDS, 102),
    "modelCode": 103, "extOperator": 105, "softDollarTier": 106, "cashQty": 111,
    "mifid2DecisionMaker": 138, "mifid2DecisionAlgo": 138, "mifid2ExecutionTrader": 139,
    "mifid2ExecutionAlgo": 139, "dontUseAutoPriceForHedge": 141, "isOmsContainer": 145,
    "discretionaryUpToLimitPrice": 148, "usePriceMgmtAlgo": 151, "duration": 158,
    "postToAts": 160, "autoCancelParent": 162, "advancedErrorOverride": 166,
    "manualOrderTime": 169, **dict.fromkeys(PEG_BEST_MID_FIELDS, 170),
    "customerAccount": 183, "professionalCustomer": 184, "externalUserId": 187,
    "manualOrderIndicator": 187,
}  # fmt: skip
# Order fields placeOrder never sends.
PLACE_ORDER_NEVER = frozenset({
    "clientId", "permId", "basisPoints", "basisPointsType", "autoCancelDate",
    "filledQuantity", "refFuturesConId", "shareholder", "imbalanceOnly",
    "routeMarketableToBbo", "parentPermId", "bondAccruedInterest",
})  # fmt: skip
PLACE_ORDER_CONTRACT_NEVER = frozenset(
    {"lastTradeDate", "includeExpired", "description", "issuerId", "comboLegsDescrip"}
)

OPEN_ORDER_GATES: dict[str, int] = {
    **dict.fromkeys(PEGGED_TO_BENCHMARK_FIELDS, 102),
    "modelCode": 103, "softDollarTier": 106, "cashQty": 111,
    "dontUseAutoPriceForHedge": 141, "isOmsContainer": 145,
    "discretionaryUpToLimitPrice": 148, "usePriceMgmtAlgo": 151, "duration": 158,
    "postToAts": 160, "autoCancelParent": 162, **dict.fromkeys(PEG_BEST_MID_FIELDS, 170),
    "customerAccount": 183, "professionalCustomer": 184, "bondAccruedInterest": 185,
}  # fmt: skip
OPEN_ORDER_NEVER = frozenset({
    "transmit", "overridePercentageConstraints", "scaleTable", "activeStartTime",
    "activeStopTime", "algoId", "orderMiscOptions", "extOperator", "mifid2DecisionMaker",
    "mifid2DecisionAlgo", "mifid2ExecutionTrader", "mifid2ExecutionAlgo", "autoCancelDate",
    "filledQuantity", "refFuturesConId", "shareholder", "imbalanceOnly",
    "routeMarketableToBbo", "parentPermId", "advancedErrorOverride", "manualOrderTime",
    "externalUserId", "manualOrderIndicator",
})  # fmt: skip
OPEN_ORDER_STATE_GATES: dict[str, int] = dict.fromkeys(
    ("initMarginBefore", "maintMarginBefore", "equityWithLoanBefore", "initMarginChange",
     "maintMarginChange", "equityWithLoanChange"), 142,
)  # fmt: skip
OPEN_ORDER_STATE_NEVER = frozenset({"completedTime", "completedStatus"})
REPORTED_CONTRACT_NEVER = frozenset(
    {"lastTradeDate", "primaryExchange", "includeExpired", "secIdType", "secId",
     "description", "issuerId"}
)  # fmt: skip

COMPLETED_ORDER_GATES: dict[str, int] = {
    **dict.fromkeys(PEG_BEST_MID_FIELDS, 170), "customerAccount": 183,
    "professionalCustomer": 184,
}  # fmt: skip
COMPLETED_ORDER_NEVER = OPEN_ORDER_NEVER - {"autoCancelDate", "filledQuantity",
    "refFuturesConId", "shareholder", "imbalanceOnly", "routeMarketableToBbo",
    "parentPermId"} | {
    "orderId", "clientId", "blockOrder", "auctionStrategy", "parentId", "basisPoints",
    "basisPointsType", "optOutSmartRouting", "deltaNeutralSettlingFirm",
    "deltaNeutralClearingAccount", "deltaNeutralClearingIntent", "deltaNeutralOpenClose",
    "whatIf", "adjustedOrderType", "triggerPrice", "adjustedStopPrice",
    "adjustedStopLimitPrice", "adjustedTrailingAmount", "adjustableTrailingUnit",
    "softDollarTier", "discretionaryUpToLimitPrice", "usePriceMgmtAlgo", "duration",
    "postToAts", "bondAccruedInterest",
}  # fmt: skip
COMPLETED_ORDER_STATE_CARRIED = frozenset({"status", "completedTime", "completedStatus"})

EXECUTION_GATES: dict[str, int] = {
    "modelCode": 103,
    "lastLiquidity": 136,
    "pendingPriceRevision": 178,
}


def as_seen(value: Any, version: int, gates: dict[str, int], never: typing.Iterable[str]) -> Any:
    """`value` with the fields a layout does not carry at `version` back at their defaults."""
    dropped = set(never) | {name for name, gate in gates.items() if version < gate}
    return reset(value, dropped)
