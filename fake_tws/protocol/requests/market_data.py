"""Market data requests: top of book, depth, real-time bars, tick-by-tick, option maths.

Layouts follow what TWS reads from a client at each server version. Gates below
MIN_SUPPORTED (e.g. TRADING_CLASS, LINKING) are always open here and are not spelled
out. Contract runs are named in `contract_fields.py`; the *Options parameters are
"tag=value;" texts read leniently (see `order_fields.read_tag_values_text`).
"""

from __future__ import annotations

from typing import Self

from ...ibtypes.contract import Contract, TagValue
from .. import versions as V
from ..contract_fields import (
    MARKET_DATA_COMBO_LEG,
    MARKET_DATA_CONTRACT,
    MKT_DEPTH_CONTRACT_NO_PRIMARY,
    is_bag,
    read_combo_legs,
    read_contract,
    read_contract_fields,
    read_delta_neutral_contract,
)
from ..fields import FieldReader
from ..messages import Request
from ..order_fields import read_tag_values_text

# ---------------------------------------------------------------------------------------
# Top of book


class ReqMktData(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    genericTickList: str = ""
    snapshot: bool = False
    regulatorySnapshot: bool = False
    mktDataOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        c = read_contract_fields(r, MARKET_DATA_CONTRACT)
        if is_bag(c["secType"]):
            c["comboLegs"] = read_combo_legs(r, MARKET_DATA_COMBO_LEG)
        c["deltaNeutralContract"] = read_delta_neutral_contract(r)
        generic = r.str("genericTickList")
        snapshot = r.bool("snapshot")
        regulatory = r.bool("regulatorySnapshot") if version >= V.REQ_SMART_COMPONENTS else False
        options = read_tag_values_text(r, "mktDataOptions", lenient=True)
        return cls(
            reqId=req_id,
            contract=Contract(**c),
            genericTickList=generic,
            snapshot=snapshot,
            regulatorySnapshot=regulatory,
            mktDataOptions=options,
        )


class CancelMktData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


# ---------------------------------------------------------------------------------------
# Depth


class ReqMktDepth(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    numRows: int = 0
    isSmartDepth: bool = False
    mktDepthOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        if version >= V.MKT_DEPTH_PRIM_EXCHANGE:
            contract = read_contract(r, MARKET_DATA_CONTRACT)
        else:
            contract = read_contract(r, MKT_DEPTH_CONTRACT_NO_PRIMARY)
        num_rows = r.int("numRows")
        smart = r.bool("isSmartDepth") if version >= V.SMART_DEPTH else False
        options = read_tag_values_text(r, "mktDepthOptions", lenient=True)
        return cls(
            reqId=req_id,
            contract=contract,
            numRows=num_rows,
            isSmartDepth=smart,
            mktDepthOptions=options,
        )


class CancelMktDepth(Request, frozen=True, kw_only=True):
    reqId: int
    isSmartDepth: bool = False

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        smart = r.bool("isSmartDepth") if version >= V.SMART_DEPTH else False
        return cls(reqId=req_id, isSmartDepth=smart)


class ReqMktDepthExchanges(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls()


class ReqSmartComponents(Request, frozen=True, kw_only=True):
    reqId: int
    bboExchange: str = ""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"), bboExchange=r.str("bboExchange"))


class ReqMarketRule(Request, frozen=True, kw_only=True):
    marketRuleId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(marketRuleId=r.int("marketRuleId"))


# ---------------------------------------------------------------------------------------
# Real-time bars and tick-by-tick


class ReqRealTimeBars(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    barSize: int = 5
    whatToShow: str = ""
    useRTH: bool = False
    realTimeBarsOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, MARKET_DATA_CONTRACT)
        return cls(
            reqId=req_id,
            contract=contract,
            barSize=r.int("barSize"),
            whatToShow=r.str("whatToShow"),
            useRTH=r.bool("useRTH"),
            realTimeBarsOptions=read_tag_values_text(r, "realTimeBarsOptions", lenient=True),
        )


class CancelRealTimeBars(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class ReqTickByTickData(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    tickType: str  # "Last", "AllLast", "BidAsk" or "MidPoint"
    numberOfTicks: int = 0
    ignoreSize: bool = False

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        req_id = r.int("reqId")
        contract = read_contract(r, MARKET_DATA_CONTRACT)
        tick_type = r.str("tickType")
        if version >= V.TICK_BY_TICK_IGNORE_SIZE:
            number, ignore = r.int("numberOfTicks"), r.bool("ignoreSize")
        else:
            number, ignore = 0, False
        return cls(
            reqId=req_id,
            contract=contract,
            tickType=tick_type,
            numberOfTicks=number,
            ignoreSize=ignore,
        )


class CancelTickByTickData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


# ---------------------------------------------------------------------------------------
# Option calculations


def _read_counted_options(r: FieldReader, name: str) -> tuple[TagValue, ...]:
    """A count field, then the options text (the count is redundant; TWS trusts the text)."""
    r.skip(f"{name}Count")
    return read_tag_values_text(r, name, lenient=True)


class CalculateImpliedVolatility(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    optionPrice: float
    underPrice: float
    implVolOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, MARKET_DATA_CONTRACT)
        return cls(
            reqId=req_id,
            contract=contract,
            optionPrice=r.float("optionPrice"),
            underPrice=r.float("underPrice"),
            implVolOptions=_read_counted_options(r, "implVolOptions"),
        )


class CalculateOptionPrice(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    volatility: float
    underPrice: float
    optPrcOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, MARKET_DATA_CONTRACT)
        return cls(
            reqId=req_id,
            contract=contract,
            volatility=r.float("volatility"),
            underPrice=r.float("underPrice"),
            optPrcOptions=_read_counted_options(r, "optPrcOptions"),
        )


class CancelCalculateImpliedVolatility(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class CancelCalculateOptionPrice(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))
