"""Historical ticks: IB's ticks as Nautilus trade and quote ticks, and paging through them.

``reqHistoricalTicks`` returns at most 1000 ticks from a start second (IB may add the
rest of the last second; a server may not). ``TickPager`` pages forward: each next
request starts at the last second seen, and the ticks of that second already taken are
skipped, so no tick is lost or doubled whichever way the server cuts a page.

``ts_event`` and ``ts_init`` are both the tick's time, as NautilusTrader's adapter has
it. Trade ids are ``"{epoch seconds}-{price}-{size}"`` like theirs; a repeat within the
same second gets ``-2``, ``-3``... (theirs repeats the id).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ibapi.common import HistoricalTick, HistoricalTickBidAsk, HistoricalTickLast
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.enums import AggressorSide
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

NANOS = 1_000_000_000
PAGE_SIZE = 1000
WHAT_TO_SHOW = {"TRADES": "TRADES", "BID_ASK": "BID_ASK"}

IBTick = HistoricalTick | HistoricalTickBidAsk | HistoricalTickLast


class TickPager:
    """Keeps the ticks of one instrument in time order across pages (see the module)."""

    def __init__(self, start: int, end: int, page_size: int = PAGE_SIZE) -> None:
        self.cursor = start  # epoch seconds the next request starts at
        self.end = end  # epoch seconds; ticks after it are dropped
        self.page_size = page_size
        self.ticks: list[Any] = []
        self.done = start > end
        self._taken_at_cursor = 0  # ticks at `cursor` already kept

    def add_page(self, page: list[Any]) -> list[Any]:
        """Take a page answered for ``cursor``; returns the ticks it added."""
        skip = self._taken_at_cursor
        new = []
        for tick in page:
            if tick.time < self.cursor:
                continue
            if tick.time == self.cursor and skip:
                skip -= 1
                continue
            new.append(tick)
        kept = [t for t in new if t.time <= self.end]
        self.ticks.extend(kept)
        if not new:
            if len(page) >= self.page_size and page[-1].time == self.cursor:
                # One second holds more than a page: IB cannot page inside a second.
                self.cursor += 1
                self._taken_at_cursor = 0
            else:
                self.done = True
            return kept
        last = new[-1].time
        if last > self.end or len(page) < self.page_size:
            self.done = True
        if last != self.cursor:
            self.cursor, self._taken_at_cursor = last, 0
        self._taken_at_cursor += sum(1 for t in new if t.time == last)
        return kept


def to_trade_ticks(
    instrument: Instrument,
    ticks: Iterable[Any],
    price_magnifier: int = 1,
) -> list[TradeTick]:
    """Trades; midpoint ticks (IB's answer to TRADES for forex) have no size and are
    left out."""
    out = []
    seen: dict[str, int] = {}
    instrument_id = instrument.id
    for tick in ticks:
        size = getattr(tick, "size", 0)
        if not size or size <= 0:
            continue
        price = tick.price / price_magnifier
        ts = int(tick.time) * NANOS
        trade_id = f"{int(tick.time)}-{price}-{size}"
        repeat = seen[trade_id] = seen.get(trade_id, 0) + 1
        if repeat > 1:
            trade_id = f"{trade_id}-{repeat}"
        out.append(
            TradeTick(
                instrument_id=instrument_id,
                price=instrument.make_price(price),
                size=instrument.make_qty(size),
                aggressor_side=AggressorSide.NO_AGGRESSOR,
                trade_id=TradeId(trade_id),
                ts_event=ts,
                ts_init=ts,
            ),
        )
    return out


def to_quote_ticks(
    instrument: Instrument,
    ticks: Iterable[HistoricalTickBidAsk],
    price_magnifier: int = 1,
) -> list[QuoteTick]:
    out = []
    instrument_id = instrument.id
    for tick in ticks:
        ts = int(tick.time) * NANOS
        out.append(
            QuoteTick(
                instrument_id=instrument_id,
                bid_price=instrument.make_price(tick.priceBid / price_magnifier),
                ask_price=instrument.make_price(tick.priceAsk / price_magnifier),
                bid_size=instrument.make_qty(tick.sizeBid),
                ask_size=instrument.make_qty(tick.sizeAsk),
                ts_event=ts,
                ts_init=ts,
            ),
        )
    return out
