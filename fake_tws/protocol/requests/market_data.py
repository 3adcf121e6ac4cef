"""Market data requests: top of book, depth, real-time bars, tick-by-tick, option maths.

Layouts follow what TWS reads from a client at each server version. Gates below
MIN_SUPPORTED (e.g. TRADING_CLASS, LINKING) are always open here and are not spelled
out. The contract-reading helpers at the top are shared with `historical.py`.
"""

from __future__ import annotations

from typing import Self

from msgspec.structs import replace

from ...ibtypes.contract import ComboLeg, Contract, DeltaNeutralContract, TagValue
from .. import versions as V
from ..fields import FieldReader
from ..messages import Request

# ---------------------------------------------------------------------------------------
# Shared pieces (market data and historical requests)


def read_contract(
    r: FieldReader,
    *,
    primary_exchange: bool = True,
    include_expired: bool = False,
) -> Contract:
    """The usual contract block: conId, symbol ... localSymbol, tradingClass.

    `primary_exchange=False` for layouts that leave primaryExchange out;
    `include_expired=True` for layouts that append includeExpired after tradingClass.
    """
    con_id = r.int("conId")
    symbol = r.str("symbol")
    sec_type = r.str("secType")
    expiry = r.str("lastTradeDateOrContractMonth")
    strike = r.float("strike")
    right = r.str("right")
    multiplier = r.str("multiplier")
    exchange = r.str("exchange")
    primary = r.str("primaryExchange") if primary_exchange else ""
    currency = r.str("currency")
    local_symbol = r.str("localSymbol")
    trading_class = r.str("tradingClass")
    expired = r.bool("includeExpired") if include_expired else False
    return Contract(
        conId=con_id,
        symbol=symbol,
        secType=sec_type,
        lastTradeDateOrContractMonth=expiry,
        strike=strike,
        right=right,
        multiplier=multiplier,
        exchange=exchange,
        primaryExchange=primary,
        currency=currency,
        localSymbol=local_symbol,
        tradingClass=trading_class,
        includeExpired=expired,
    )


def read_combo_legs(r: FieldReader) -> tuple[ComboLeg, ...]:
    """A BAG contract's legs as market data requests send them (4 fields per leg)."""
    count = r.int("comboLegsCount")
    legs = []
    for i in range(count):
        legs.append(
            ComboLeg(
                conId=r.int(f"comboLegs[{i}].conId"),
                ratio=r.int(f"comboLegs[{i}].ratio"),
                action=r.str(f"comboLegs[{i}].action"),
                exchange=r.str(f"comboLegs[{i}].exchange"),
            )
        )
    return tuple(legs)


def is_bag(contract: Contract) -> bool:
    # Clients compare the secType exactly (ibapi: `contract.secType == "BAG"`).
    return contract.secType == "BAG"


def parse_tag_values(text: str) -> tuple[TagValue, ...]:
    """Options lists travel as one field "tag1=value1;tag2=value2;"."""
    pairs = []
    for item in text.split(";"):
        if item:
            tag, _, value = item.partition("=")
            pairs.append(TagValue(tag, value))
    return tuple(pairs)


def read_tag_values(r: FieldReader, name: str) -> tuple[TagValue, ...]:
    return parse_tag_values(r.str(name))


def read_counted_tag_values(r: FieldReader, name: str) -> tuple[TagValue, ...]:
    """A count field, then the options string (the count is redundant; TWS trusts the string)."""
    r.skip(f"{name}Count")
    return read_tag_values(r, name)


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
        contract = read_contract(r)
        if is_bag(contract):
            contract = replace(contract, comboLegs=read_combo_legs(r))
        if r.bool("deltaNeutralContractPresent"):
            dnc = DeltaNeutralContract(
                conId=r.int("deltaNeutralContract.conId"),
                delta=r.float("deltaNeutralContract.delta"),
                price=r.float("deltaNeutralContract.price"),
            )
            contract = replace(contract, deltaNeutralContract=dnc)
        generic = r.str("genericTickList")
        snapshot = r.bool("snapshot")
        regulatory = r.bool("regulatorySnapshot") if version >= V.REQ_SMART_COMPONENTS else False
        options = read_tag_values(r, "mktDataOptions")
        return cls(
            reqId=req_id,
            contract=contract,
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
        contract = read_contract(r, primary_exchange=version >= V.MKT_DEPTH_PRIM_EXCHANGE)
        num_rows = r.int("numRows")
        smart = r.bool("isSmartDepth") if version >= V.SMART_DEPTH else False
        options = read_tag_values(r, "mktDepthOptions")
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
        contract = read_contract(r)
        return cls(
            reqId=req_id,
            contract=contract,
            barSize=r.int("barSize"),
            whatToShow=r.str("whatToShow"),
            useRTH=r.bool("useRTH"),
            realTimeBarsOptions=read_tag_values(r, "realTimeBarsOptions"),
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
        contract = read_contract(r)
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
        contract = read_contract(r)
        return cls(
            reqId=req_id,
            contract=contract,
            optionPrice=r.float("optionPrice"),
            underPrice=r.float("underPrice"),
            implVolOptions=read_counted_tag_values(r, "implVolOptions"),
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
        contract = read_contract(r)
        return cls(
            reqId=req_id,
            contract=contract,
            volatility=r.float("volatility"),
            underPrice=r.float("underPrice"),
            optPrcOptions=read_counted_tag_values(r, "optPrcOptions"),
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
