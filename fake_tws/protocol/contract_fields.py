"""A Contract's fields as they recur inside messages, and the parts that trail them.

Many messages carry a Contract as a run of its fields, but not always the same run:
placeOrder sends `primaryExchange`, `secIdType` and `secId`; openOrder, completedOrder and
execDetails send none of those; exerciseOptions sends neither `primaryExchange` nor the
security id. A *layout* is the tuple of Contract attribute names in wire order, and
`read_contract` / `write_contract` walk it, so a new message only has to name its layout:

    contract = read_contract(r, PLACE_ORDER_CONTRACT)
    write_contract(w, contract, REPORTED_CONTRACT)

Every message that carries a contract run names one of the layouts below (contractDetails
and bondContractDetails are the exception: their contract fields are interleaved with the
details' own, one by one). Types follow the Contract attribute: `conId` is an int,
`strike` a float, `includeExpired` a bool, everything else text.

Combo legs and the delta-neutral contract follow a contract run in some requests and
travel later in order messages (after some of the order's own fields), so they have
helpers of their own.
"""

from __future__ import annotations

from typing import Any

from ..ibtypes.contract import ComboLeg, Contract, DeltaNeutralContract
from .fields import FieldReader, FieldWriter

# Layouts, in wire order. -------------------------------------------------------------------

# The contract a client describes when it asks for market data: reqMktData, reqRealTimeBars,
# reqTickByTickData, calculateImpliedVolatility, calculateOptionPrice, and reqMktDepth from
# MKT_DEPTH_PRIM_EXCHANGE on.
MARKET_DATA_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "primaryExchange",
    "currency",
    "localSymbol",
    "tradingClass",
)

# reqMktDepth below MKT_DEPTH_PRIM_EXCHANGE: the market-data run without primaryExchange.
MKT_DEPTH_CONTRACT_NO_PRIMARY: tuple[str, ...] = tuple(
    name for name in MARKET_DATA_CONTRACT if name != "primaryExchange"
)

# Historical requests: reqHistoricalData, reqHeadTimeStamp, reqHistogramData,
# reqHistoricalTicks (the market-data run, then includeExpired).
HISTORICAL_CONTRACT: tuple[str, ...] = (*MARKET_DATA_CONTRACT, "includeExpired")

# reqContractDetails: the historical run, then the security id; issuerId follows from
# BOND_ISSUERID on.
CONTRACT_DETAILS_CONTRACT: tuple[str, ...] = (*HISTORICAL_CONTRACT, "secIdType", "secId")
CONTRACT_DETAILS_CONTRACT_ISSUER: tuple[str, ...] = (*CONTRACT_DETAILS_CONTRACT, "issuerId")

# reqFundamentalData: no expiry, strike, right, multiplier or trading class.
FUNDAMENTAL_DATA_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "exchange",
    "primaryExchange",
    "currency",
    "localSymbol",
)

# The contract a client describes when it trades: placeOrder (from v100 on, every part of
# this run is always present).
PLACE_ORDER_CONTRACT: tuple[str, ...] = (*MARKET_DATA_CONTRACT, "secIdType", "secId")

# The contract as the server reports it back: openOrder, completedOrder, execDetails,
# position, positionMulti.
REPORTED_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "currency",
    "localSymbol",
    "tradingClass",
)

# exerciseOptions: the reported run (no primaryExchange, no security id).
EXERCISE_OPTIONS_CONTRACT: tuple[str, ...] = REPORTED_CONTRACT

# updatePortfolio: the reported run with primaryExchange in place of exchange.
PORTFOLIO_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "primaryExchange",
    "currency",
    "localSymbol",
    "tradingClass",
)

# scannerData, per row after the rank: no multiplier, and tradingClass comes later (after
# the details' marketName).
SCANNER_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "exchange",
    "currency",
    "localSymbol",
)

# symbolSamples, per contract description (derivativeSecTypes follow it).
CONTRACT_DESCRIPTION_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "primaryExchange",
    "currency",
)


# Contract runs. -----------------------------------------------------------------------------

_KNOWN = frozenset(Contract.__struct_fields__) - {"comboLegs", "deltaNeutralContract"}
# How each scalar attribute travels: text, except for these.
_READ = dict.fromkeys(_KNOWN, FieldReader.str) | {
    "conId": FieldReader.int,
    "strike": FieldReader.float,
    "includeExpired": FieldReader.bool,
}
_WRITE = dict.fromkeys(_KNOWN, FieldWriter.str) | {
    "conId": FieldWriter.int,
    "strike": FieldWriter.float,
    "includeExpired": FieldWriter.bool,
}


def _check_layout(layout: tuple[str, ...]) -> None:
    unknown = [name for name in layout if name not in _KNOWN]
    if unknown:
        raise ValueError(f"not scalar Contract fields: {unknown}")


for _layout in (
    MARKET_DATA_CONTRACT,
    MKT_DEPTH_CONTRACT_NO_PRIMARY,
    HISTORICAL_CONTRACT,
    CONTRACT_DETAILS_CONTRACT,
    CONTRACT_DETAILS_CONTRACT_ISSUER,
    FUNDAMENTAL_DATA_CONTRACT,
    PLACE_ORDER_CONTRACT,
    REPORTED_CONTRACT,
    EXERCISE_OPTIONS_CONTRACT,
    PORTFOLIO_CONTRACT,
    SCANNER_CONTRACT,
    CONTRACT_DESCRIPTION_CONTRACT,
):
    _check_layout(_layout)


def read_contract_fields(r: FieldReader, layout: tuple[str, ...]) -> dict[str, Any]:
    """Read a contract run into a dict of attributes (for callers that add more later)."""
    values: dict[str, Any] = {}
    for name in layout:
        values[name] = _READ[name](r, name)
    return values


def read_contract(r: FieldReader, layout: tuple[str, ...]) -> Contract:
    """Read a contract run; attributes outside the layout keep their defaults."""
    return Contract(**read_contract_fields(r, layout))


def write_contract(w: FieldWriter, contract: Contract, layout: tuple[str, ...]) -> None:
    """Write the attributes of `contract` named by `layout`, in order."""
    for name in layout:
        _WRITE[name](w, getattr(contract, name))


def is_bag(sec_type: str) -> bool:
    """Whether combo legs follow the contract run. Clients compare the secType exactly
    (ibapi: `contract.secType == "BAG"`)."""
    return sec_type == "BAG"


# Combo legs: a count, then per leg the fields of a leg layout. --------------------------------

# Order messages (placeOrder, openOrder, completedOrder): every ComboLeg field.
COMBO_LEG: tuple[str, ...] = (
    "conId",
    "ratio",
    "action",
    "exchange",
    "openClose",
    "shortSaleSlot",
    "designatedLocation",
    "exemptCode",
)

# Market data and historical requests (reqMktData, reqHistoricalData): the first four.
MARKET_DATA_COMBO_LEG: tuple[str, ...] = COMBO_LEG[:4]

_LEG_INT_FIELDS = frozenset({"conId", "ratio", "openClose", "shortSaleSlot", "exemptCode"})


def read_combo_legs(r: FieldReader, layout: tuple[str, ...] = COMBO_LEG) -> tuple[ComboLeg, ...]:
    """A count, then that many legs; fields outside `layout` keep their defaults."""
    count = r.int("comboLegsCount")
    legs = []
    for i in range(count):
        p = f"comboLegs[{i}]."
        legs.append(
            ComboLeg(
                **{
                    name: r.int(p + name) if name in _LEG_INT_FIELDS else r.str(p + name)
                    for name in layout
                }
            )
        )
    return tuple(legs)


def write_combo_legs(w: FieldWriter, legs: tuple[ComboLeg, ...]) -> None:
    """A count, then every field of each leg (the order messages' layout, COMBO_LEG)."""
    w.int(len(legs))
    for leg in legs:
        w.int(leg.conId).int(leg.ratio).str(leg.action).str(leg.exchange)
        w.int(leg.openClose).int(leg.shortSaleSlot).str(leg.designatedLocation)
        w.int(leg.exemptCode)


# Delta-neutral contract: a presence flag, then conId, delta, price. --------------------------


def read_delta_neutral_contract(r: FieldReader) -> DeltaNeutralContract | None:
    if not r.bool("deltaNeutralContractPresent"):
        return None
    return DeltaNeutralContract(
        conId=r.int("deltaNeutralContract.conId"),
        delta=r.float("deltaNeutralContract.delta"),
        price=r.float("deltaNeutralContract.price"),
    )


def write_delta_neutral_contract(w: FieldWriter, dnc: DeltaNeutralContract | None) -> None:
    if dnc is None:
        w.bool(False)
    else:
        w.bool(True).int(dnc.conId).float(dnc.delta).float(dnc.price)
