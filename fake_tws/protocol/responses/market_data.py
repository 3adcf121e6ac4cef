"""Market data responses: ticks, depth, real-time bars, tick-by-tick, and their helpers.

Old-style messages carry a message version after the id; clients skip it, and we send
the version TWS sends. Where ib_async reads a layout more strictly than ibapi (fixed
field counts, `float()` on fields ibapi would accept empty), the encoding here is the
one both accept; the notes say where.
"""

from __future__ import annotations

from decimal import Decimal

from ...ibtypes.contract import DeltaNeutralContract
from ...ibtypes.market_data import (
    DepthMktDataDescription,
    PriceIncrement,
    RealTimeBar,
    SmartComponent,
    TickAttrib,
    TickAttribBidAsk,
    TickAttribLast,
)
from .. import versions as V
from ..fields import FieldWriter
from ..messages import Response
from ..order_fields import write_int_or_max

# Price tick types whose tickPrice message carries a size that clients re-emit as a
# tickSize of the paired type (BID->BID_SIZE, ASK->ASK_SIZE, LAST->LAST_SIZE, and the
# delayed ones). A session need not send those tickSize messages separately.
SIZE_TICK_FOR_PRICE_TICK: dict[int, int] = {1: 0, 2: 3, 4: 5, 66: 69, 67: 70, 68: 71}


def write_bar_quantity(w: FieldWriter, value: Decimal | None) -> None:
    """Bar volume/wap: None goes out as TWS's own "none" value, -1 (as in MIDPOINT
    bars). An empty field would break ib_async, which reads historical bars with float()."""
    if value is None:
        w.int(-1)
    else:
        w.decimal(value)


# ---------------------------------------------------------------------------------------
# Top of book


class TickPrice(Response, frozen=True, kw_only=True):
    """A price tick. `size` rides along on the wire; for BID/ASK/LAST (and delayed)
    clients turn it into a tickSize call right after tickPrice."""

    reqId: int
    tickType: int
    price: float
    size: Decimal | None = None
    attrib: TickAttrib = TickAttrib()

    def encode(self, w: FieldWriter, version: int) -> None:
        a = self.attrib
        if version >= V.PAST_LIMIT:
            mask = a.canAutoExecute | a.pastLimit << 1
            if version >= V.PRE_OPEN_BID_ASK:
                mask |= a.preOpen << 2
        else:
            mask = int(a.canAutoExecute)  # older clients test `mask == 1`
        w.int(6).int(self.reqId).int(self.tickType).float(self.price)
        w.decimal(self.size).int(mask)


class TickSize(Response, frozen=True, kw_only=True):
    reqId: int
    tickType: int
    size: Decimal | None = None

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(6).int(self.reqId).int(self.tickType).decimal(self.size)


class TickGeneric(Response, frozen=True, kw_only=True):
    reqId: int
    tickType: int
    value: float

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(6).int(self.reqId).int(self.tickType).float(self.value)


class TickString(Response, frozen=True, kw_only=True):
    reqId: int
    tickType: int
    value: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(6).int(self.reqId).int(self.tickType).str(self.value)


class TickEFP(Response, frozen=True, kw_only=True):
    reqId: int
    tickType: int
    basisPoints: float
    formattedBasisPoints: str
    totalDividends: float  # "impliedFuture" in other clients
    holdDays: int
    futureLastTradeDate: str
    dividendImpact: float
    dividendsToLastTradeDate: float

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(6).int(self.reqId).int(self.tickType)
        w.float(self.basisPoints).str(self.formattedBasisPoints).float(self.totalDividends)
        w.int(self.holdDays).str(self.futureLastTradeDate)
        w.float(self.dividendImpact).float(self.dividendsToLastTradeDate)


class TickOptionComputation(Response, frozen=True, kw_only=True):
    """Option model values. None means "not computed", sent as TWS's sentinels
    (-1 for impliedVol/optPrice/pvDividend/undPrice, -2 for delta/gamma/vega/theta)."""

    reqId: int
    tickType: int
    tickAttrib: int = 0  # 0 return-based, 1 price-based (sent from PRICE_BASED_VOLATILITY)
    impliedVol: float | None = None
    delta: float | None = None
    optPrice: float | None = None
    pvDividend: float | None = None
    gamma: float | None = None
    vega: float | None = None
    theta: float | None = None
    undPrice: float | None = None

    def encode(self, w: FieldWriter, version: int) -> None:
        if version < V.PRICE_BASED_VOLATILITY:
            w.int(6)  # message version 6: all eight values follow
        w.int(self.reqId).int(self.tickType)
        if version >= V.PRICE_BASED_VOLATILITY:
            w.int(self.tickAttrib)
        for value, sentinel in (
            (self.impliedVol, -1.0),
            (self.delta, -2.0),
            (self.optPrice, -1.0),
            (self.pvDividend, -1.0),
            (self.gamma, -2.0),
            (self.vega, -2.0),
            (self.theta, -2.0),
            (self.undPrice, -1.0),
        ):
            w.float(sentinel if value is None else value)


class TickSnapshotEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class TickReqParams(Response, frozen=True, kw_only=True):
    """Sent once per reqMktData, before the first tick."""

    tickerId: int
    minTick: float
    bboExchange: str = ""
    snapshotPermissions: int = 0

    # Arrived with the SMART-components/regulatory-snapshot work (bboExchange and
    # snapshotPermissions belong to it); clients do not gate it themselves.
    min_version = V.REQ_SMART_COMPONENTS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.tickerId).float(self.minTick).str(self.bboExchange)
        w.int(self.snapshotPermissions)


class TickNews(Response, frozen=True, kw_only=True):
    tickerId: int
    timeStamp: int  # epoch milliseconds
    providerCode: str
    articleId: str
    headline: str
    extraData: str = ""

    min_version = V.TICK_NEWS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.tickerId).int(self.timeStamp).str(self.providerCode)
        w.str(self.articleId).str(self.headline).str(self.extraData)


class DeltaNeutralValidation(Response, frozen=True, kw_only=True):
    reqId: int
    deltaNeutralContract: DeltaNeutralContract

    def encode(self, w: FieldWriter, version: int) -> None:
        d = self.deltaNeutralContract
        w.int(1).int(self.reqId).int(d.conId).float(d.delta).float(d.price)


class RerouteMktDataReq(Response, frozen=True, kw_only=True):
    reqId: int
    conId: int
    exchange: str

    min_version = V.CFD_REROUTE

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(self.conId).str(self.exchange)


class RerouteMktDepthReq(Response, frozen=True, kw_only=True):
    reqId: int
    conId: int
    exchange: str

    min_version = V.CFD_REROUTE

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(self.conId).str(self.exchange)


# ---------------------------------------------------------------------------------------
# Depth


class UpdateMktDepth(Response, frozen=True, kw_only=True):
    reqId: int
    position: int
    operation: int  # 0 insert, 1 update, 2 delete
    side: int  # 0 ask, 1 bid
    price: float
    size: Decimal

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).int(self.position).int(self.operation).int(self.side)
        w.float(self.price).decimal(self.size)


class UpdateMktDepthL2(Response, frozen=True, kw_only=True):
    reqId: int
    position: int
    marketMaker: str
    operation: int
    side: int
    price: float
    size: Decimal
    isSmartDepth: bool = False

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).int(self.position).str(self.marketMaker)
        w.int(self.operation).int(self.side).float(self.price).decimal(self.size)
        if version >= V.SMART_DEPTH:
            w.bool(self.isSmartDepth)


class MktDepthExchanges(Response, frozen=True, kw_only=True):
    depthMktDataDescriptions: tuple[DepthMktDataDescription, ...] = ()

    min_version = V.REQ_MKT_DEPTH_EXCHANGES

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(len(self.depthMktDataDescriptions))
        for d in self.depthMktDataDescriptions:
            w.str(d.exchange).str(d.secType)
            if version >= V.SERVICE_DATA_TYPE:
                w.str(d.listingExch).str(d.serviceDataType)
                # ib_async parses aggGroup with a bare int(): never send it empty.
                write_int_or_max(w, d.aggGroup)
            else:
                w.bool(d.serviceDataType == "Deep2")  # the old isL2 flag


class SmartComponents(Response, frozen=True, kw_only=True):
    reqId: int
    smartComponentMap: tuple[SmartComponent, ...] = ()

    min_version = V.REQ_SMART_COMPONENTS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.smartComponentMap))
        for c in self.smartComponentMap:
            w.int(c.bitNumber).str(c.exchange).str(c.exchangeLetter)


class MarketRule(Response, frozen=True, kw_only=True):
    marketRuleId: int
    priceIncrements: tuple[PriceIncrement, ...] = ()

    min_version = V.MARKET_RULES

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.marketRuleId).int(len(self.priceIncrements))
        for p in self.priceIncrements:
            w.float(p.lowEdge).float(p.increment)


# ---------------------------------------------------------------------------------------
# Real-time bars and tick-by-tick


class RealtimeBar(Response, frozen=True, kw_only=True):
    """A 5-second bar. None volume/wap go out as -1, as TWS sends for MIDPOINT bars."""

    reqId: int
    bar: RealTimeBar

    def encode(self, w: FieldWriter, version: int) -> None:
        b = self.bar
        w.int(3).int(self.reqId).int(b.time)
        w.float(b.open).float(b.high).float(b.low).float(b.close)
        write_bar_quantity(w, b.volume)
        write_bar_quantity(w, b.wap)
        w.int(b.count)


# tickType values inside the shared tick-by-tick message (id 99).
TICK_BY_TICK_LAST = 1
TICK_BY_TICK_ALL_LAST = 2
TICK_BY_TICK_BID_ASK = 3
TICK_BY_TICK_MID_POINT = 4


class TickByTickAllLast(Response, frozen=True, kw_only=True):
    """A trade: tickType 1 for a "Last" subscription, 2 for "AllLast"."""

    reqId: int
    tickType: int = TICK_BY_TICK_LAST
    time: int
    price: float
    size: Decimal
    tickAttribLast: TickAttribLast = TickAttribLast()
    exchange: str = ""
    specialConditions: str = ""

    min_version = V.TICK_BY_TICK

    def encode(self, w: FieldWriter, version: int) -> None:
        if self.tickType not in (TICK_BY_TICK_LAST, TICK_BY_TICK_ALL_LAST):
            raise ValueError(f"tickByTickAllLast tickType must be 1 or 2, not {self.tickType}")
        a = self.tickAttribLast
        w.int(self.reqId).int(self.tickType).int(self.time)
        w.float(self.price).decimal(self.size).int(a.pastLimit | a.unreported << 1)
        w.str(self.exchange).str(self.specialConditions)


class TickByTickBidAsk(Response, frozen=True, kw_only=True):
    reqId: int
    time: int
    bidPrice: float
    askPrice: float
    bidSize: Decimal
    askSize: Decimal
    tickAttribBidAsk: TickAttribBidAsk = TickAttribBidAsk()

    min_version = V.TICK_BY_TICK

    def encode(self, w: FieldWriter, version: int) -> None:
        a = self.tickAttribBidAsk
        w.int(self.reqId).int(TICK_BY_TICK_BID_ASK).int(self.time)
        w.float(self.bidPrice).float(self.askPrice).decimal(self.bidSize).decimal(self.askSize)
        w.int(a.bidPastLow | a.askPastHigh << 1)  # note: historical ticks swap these bits


class TickByTickMidPoint(Response, frozen=True, kw_only=True):
    reqId: int
    time: int
    midPoint: float

    min_version = V.TICK_BY_TICK

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(TICK_BY_TICK_MID_POINT).int(self.time).float(self.midPoint)
