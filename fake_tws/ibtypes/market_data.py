"""Market data values: bars, historical ticks, tick attributes, depth descriptions."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class BarData(msgspec.Struct, frozen=True, kw_only=True):
    """One historical bar. `date` is as sent on the wire: "yyyymmdd" for daily bars,
    epoch seconds or "yyyymmdd HH:MM:SS tz" for intraday bars (formatDate 2 or 1)."""

    date: str
    open: float
    high: float
    low: float
    close: float
    volume: Decimal | None = None
    wap: Decimal | None = None
    barCount: int = 0


class RealTimeBar(msgspec.Struct, frozen=True, kw_only=True):
    time: int  # epoch seconds of the bar's start
    open: float
    high: float
    low: float
    close: float
    volume: Decimal | None = None
    wap: Decimal | None = None
    count: int = 0


class HistogramEntry(msgspec.Struct, frozen=True, kw_only=True):
    price: float
    size: Decimal


class HistoricalTick(msgspec.Struct, frozen=True, kw_only=True):
    time: int
    price: float
    size: Decimal


class HistoricalTickBidAsk(msgspec.Struct, frozen=True, kw_only=True):
    time: int
    pastLimitBid: bool = False
    pastLimitAsk: bool = False
    priceBid: float = 0.0
    priceAsk: float = 0.0
    sizeBid: Decimal = Decimal(0)
    sizeAsk: Decimal = Decimal(0)


class HistoricalTickLast(msgspec.Struct, frozen=True, kw_only=True):
    time: int
    pastLimit: bool = False
    unreported: bool = False
    price: float = 0.0
    size: Decimal = Decimal(0)
    exchange: str = ""
    specialConditions: str = ""


class DepthMktDataDescription(msgspec.Struct, frozen=True, kw_only=True):
    exchange: str = ""
    secType: str = ""
    listingExch: str = ""
    serviceDataType: str = ""
    aggGroup: int | None = None


class SmartComponent(msgspec.Struct, frozen=True, kw_only=True):
    bitNumber: int = 0
    exchange: str = ""
    exchangeLetter: str = ""


class PriceIncrement(msgspec.Struct, frozen=True, kw_only=True):
    lowEdge: float = 0.0
    increment: float = 0.0


class HistoricalSession(msgspec.Struct, frozen=True, kw_only=True):
    startDateTime: str = ""
    endDateTime: str = ""
    refDate: str = ""


class TickAttrib(msgspec.Struct, frozen=True, kw_only=True):
    """Flags on a tickPrice (sent as a bitmask: 1 canAutoExecute, 2 pastLimit, 4 preOpen)."""

    canAutoExecute: bool = False
    pastLimit: bool = False
    preOpen: bool = False


class TickAttribLast(msgspec.Struct, frozen=True, kw_only=True):
    """Flags on a trade tick (bitmask: 1 pastLimit, 2 unreported)."""

    pastLimit: bool = False
    unreported: bool = False


class TickAttribBidAsk(msgspec.Struct, frozen=True, kw_only=True):
    """Flags on a bid/ask tick. Careful: the bit order differs between messages
    (tick-by-tick: 1 bidPastLow, 2 askPastHigh; historical ticks: 1 askPastHigh, 2 bidPastLow)."""

    bidPastLow: bool = False
    askPastHigh: bool = False
