"""Test data for the order family, and what each order layout carries.

- `distinct(cls, **overrides)`: a struct with a distinct non-default value in every scalar
  field, so a shifted or swapped field shows up as a wrong value.
- `reset(value, names)` / `as_seen(value, version, gates, never)`: a struct with the fields
  a layout does not carry (at a version) back at their defaults.
- `all_conditions()`: one order condition of each type.
- The *_GATES / *_NEVER tables: the test's own reading of which fields each layout sends.

Driving the clients is in `tests.ibapi_harness` / `tests.ib_async_harness`; converting
and comparing objects in `tests.protocol.object_compare`.
"""

from __future__ import annotations

import typing
from decimal import Decimal
from typing import Any

import msgspec

from fake_tws.ibtypes import order_conditions as oc
from tests.protocol.object_compare import base_type

# Building values. ---------------------------------------------------------------------------


def distinct(cls: type[msgspec.Struct], start: int = 1, **overrides: Any) -> Any:
    """An instance with a distinct non-default value in every scalar field; nested structs
    and tuples keep their defaults unless given in `overrides`."""
    values: dict[str, Any] = {}
    for i, f in enumerate(msgspec.structs.fields(cls), start):
        if f.name in overrides:
            continue
        tp = base_type(f.type)
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
