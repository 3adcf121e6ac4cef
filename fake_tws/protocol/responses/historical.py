"""Historical data responses: bars, bar updates, head timestamp, histogram, ticks, schedule."""

from __future__ import annotations

from decimal import Decimal

from ...ibtypes.market_data import (
    BarData,
    HistogramEntry,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from .. import versions as V
from ..fields import FieldWriter
from ..messages import Response
from .market_data import write_bar_quantity


class HistoricalData(Response, frozen=True, kw_only=True):
    """A whole reqHistoricalData answer in one message: the period, then every bar.
    Clients call historicalData once per bar, then historicalDataEnd(reqId, start, end).
    (Server versions above 187 split this into per-bar messages plus an end message.)"""

    reqId: int
    bars: tuple[BarData, ...] = ()
    start: str = ""  # the period actually covered, "yyyymmdd hh:mm:ss tz"
    end: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        old = version < V.SYNT_REALTIME_BARS
        if old:
            w.int(3)
        w.int(self.reqId).str(self.start).str(self.end).int(len(self.bars))
        for bar in self.bars:
            w.str(bar.date).float(bar.open).float(bar.high).float(bar.low).float(bar.close)
            write_bar_quantity(w, bar.volume)
            write_bar_quantity(w, bar.wap)
            if old:
                w.str("false")  # hasGaps, read and dropped by clients
            w.int(bar.barCount)


class HistoricalDataUpdate(Response, frozen=True, kw_only=True):
    """The still-forming last bar of a keepUpToDate request. Note the field order:
    barCount first, and close before high/low, wap before volume."""

    reqId: int
    bar: BarData

    min_version = V.SYNT_REALTIME_BARS

    def encode(self, w: FieldWriter, version: int) -> None:
        b = self.bar
        w.int(self.reqId).int(b.barCount).str(b.date)
        w.float(b.open).float(b.close).float(b.high).float(b.low)
        write_bar_quantity(w, b.wap)
        write_bar_quantity(w, b.volume)


class HeadTimestamp(Response, frozen=True, kw_only=True):
    reqId: int
    headTimestamp: str

    min_version = V.REQ_HEAD_TIMESTAMP

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.headTimestamp)


def _write_whole_if_integral(w: FieldWriter, size: Decimal) -> None:
    # ib_async reads histogram sizes with int(): "100", never "100.0".
    if size == size.to_integral_value():
        w.int(int(size))
    else:
        w.decimal(size)


class HistogramData(Response, frozen=True, kw_only=True):
    reqId: int
    items: tuple[HistogramEntry, ...] = ()

    min_version = V.REQ_HISTOGRAM

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.items))
        for item in self.items:
            w.float(item.price)
            _write_whole_if_integral(w, item.size)


class HistoricalTicks(Response, frozen=True, kw_only=True):
    """MIDPOINT historical ticks."""

    reqId: int
    ticks: tuple[HistoricalTick, ...] = ()
    done: bool = True

    min_version = V.HISTORICAL_TICKS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.ticks))
        for t in self.ticks:
            w.int(t.time).int(0)  # an unused field ("for consistency" with the others)
            w.float(t.price).decimal(t.size)
        w.bool(self.done)


class HistoricalTicksBidAsk(Response, frozen=True, kw_only=True):
    reqId: int
    ticks: tuple[HistoricalTickBidAsk, ...] = ()
    done: bool = True

    min_version = V.HISTORICAL_TICKS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.ticks))
        for t in self.ticks:
            # Bit 1 is askPastHigh, bit 2 bidPastLow: the reverse of tick-by-tick bid/ask.
            mask = t.pastLimitAsk | t.pastLimitBid << 1
            w.int(t.time).int(mask).float(t.priceBid).float(t.priceAsk)
            w.decimal(t.sizeBid).decimal(t.sizeAsk)
        w.bool(self.done)


class HistoricalTicksLast(Response, frozen=True, kw_only=True):
    reqId: int
    ticks: tuple[HistoricalTickLast, ...] = ()
    done: bool = True

    min_version = V.HISTORICAL_TICKS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.ticks))
        for t in self.ticks:
            w.int(t.time).int(t.pastLimit | t.unreported << 1)
            w.float(t.price).decimal(t.size).str(t.exchange).str(t.specialConditions)
        w.bool(self.done)


class HistoricalSchedule(Response, frozen=True, kw_only=True):
    """The answer to reqHistoricalData with whatToShow="SCHEDULE"."""

    reqId: int
    startDateTime: str
    endDateTime: str
    timeZone: str
    sessions: tuple[HistoricalSession, ...] = ()

    min_version = V.HISTORICAL_SCHEDULE

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.startDateTime).str(self.endDateTime).str(self.timeZone)
        w.int(len(self.sessions))
        for s in self.sessions:
            w.str(s.startDateTime).str(s.endDateTime).str(s.refDate)
