"""IB market data in NautilusTrader's terms: bar sizes and durations, bars, quotes from
``reqMktData`` ticks, trades, market depth as order book deltas, halts as instrument
status.

The public helpers ``what_to_show``, ``bar_spec_to_bar_size``,
``timedelta_to_duration_str`` and ``generate_trade_id`` have the names and signatures of
``nautilus_trader.adapters.interactive_brokers.parsing.data``. The rest is what the data
client streams through: plain objects fed IB events, handing NautilusTrader data to a
callback, testable without a connection.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pandas as pd
from ibapi.common import BarData, RealTimeBar
from ibapi.const import UNSET_DECIMAL
from nautilus_trader.core.datetime import nanos_to_secs
from nautilus_trader.model.data import (
    Bar,
    BarAggregation,
    BarSpecification,
    BarType,
    BookOrder,
    InstrumentStatus,
    OrderBookDelta,
    OrderBookDeltas,
    QuoteTick,
    TradeTick,
)
from nautilus_trader.model.enums import (
    AggressorSide,
    BookAction,
    MarketStatusAction,
    OrderSide,
    PriceType,
    RecordFlag,
)
from nautilus_trader.model.identifiers import TradeId
from nautilus_trader.model.instruments import Instrument

from adapter.parsing.price_conversion import ib_price_to_nautilus_price

NANOS = 1_000_000_000

# reqMktDepth operations and sides
MKT_DEPTH_OPERATIONS = {0: BookAction.ADD, 1: BookAction.UPDATE, 2: BookAction.DELETE}
IB_SIDE = {1: OrderSide.BUY, 0: OrderSide.SELL}

# reqMktData tick types (live, delayed)
BID_PRICES = frozenset({1, 66})
ASK_PRICES = frozenset({2, 67})
BID_SIZES = frozenset({0, 69})
ASK_SIZES = frozenset({3, 70})
SIZE_OF_PRICE = {1: 0, 2: 3, 66: 69, 67: 70}  # the size tick ibapi reports after a price
HALTED = 49  # generic tick: 0 trading, 1 halted, 2 volatility halt; -1 not known

_WHAT_TO_SHOW = {
    PriceType.ASK: "ASK",
    PriceType.BID: "BID",
    PriceType.LAST: "TRADES",
    PriceType.MID: "MIDPOINT",
}
_BAR_SIZES: dict[BarAggregation, dict[int, str]] = {
    BarAggregation.SECOND: {n: f"{n} secs" for n in (1, 5, 10, 15, 30)},
    BarAggregation.MINUTE: {
        n: f"{n} min{'' if n == 1 else 's'}" for n in (1, 2, 3, 5, 10, 15, 20, 30)
    },
    BarAggregation.HOUR: {n: f"{n} hour{'' if n == 1 else 's'}" for n in (1, 2, 3, 4, 8)},
    BarAggregation.DAY: {1: "1 day"},
    BarAggregation.WEEK: {1: "1 week"},
    BarAggregation.MONTH: {1: "1 month"},
}
_DATE_BARS = (BarAggregation.DAY, BarAggregation.WEEK, BarAggregation.MONTH)


# -- the helpers NautilusTrader's adapter exposes ------------------------------------------


def what_to_show(bar_type: BarType) -> str:
    """IB's ``whatToShow`` for a bar type: TRADES, BID, ASK or MIDPOINT (AGGTRADES for
    last-price bars of PAXOS crypto, as IB wants)."""
    price_type = bar_type.spec.price_type
    if price_type == PriceType.LAST and bar_type.instrument_id.venue.value == "PAXOS":
        return "AGGTRADES"
    try:
        return _WHAT_TO_SHOW[price_type]
    except KeyError:
        raise ValueError(f"IB has no bars of price type {price_type!r}") from None


def bar_spec_to_bar_size(bar_spec: BarSpecification) -> str:
    """IB's ``barSizeSetting`` ("5 secs", "1 min", "1 day"...) for a bar specification;
    ``ValueError`` for a size IB does not offer."""
    size = _BAR_SIZES.get(bar_spec.aggregation, {}).get(bar_spec.step)
    if size is None:
        raise ValueError(f"InteractiveBrokers doesn't support subscription for {bar_spec!r}")
    return size


def timedelta_to_duration_str(duration: dt.timedelta) -> str:
    """IB's ``durationStr`` covering at least ``duration`` ("3600 S", "2 D", "1 Y")."""
    days = duration.total_seconds() / 86_400
    if days >= 365:
        return f"{math.ceil(days / 365)} Y"
    if days >= 30:
        return f"{math.ceil(days / 30)} M"
    if days >= 7:
        return f"{math.ceil(days / 7)} W"
    if days >= 1:
        return f"{math.ceil(days)} D"
    return f"{max(30, math.ceil(duration.total_seconds()))} S"


def generate_trade_id(ts_event: int, price: float, size: Decimal) -> TradeId:
    """A trade id for an IB print, which has none: "<epoch seconds>-<price>-<size>"."""
    return TradeId(f"{int(nanos_to_secs(ts_event))}-{price}-{size}"[:36])


# -- bars ----------------------------------------------------------------------------------------


def bar_duration_str(bar_type: BarType, count: int = 300) -> str:
    """A ``durationStr`` holding about ``count`` bars of the type (IB caps second bars)."""
    return timedelta_to_duration_str(bar_type.spec.timedelta * count)


def bar_open_ns(date: str | int, bar_type: BarType) -> int:
    """When an IB bar opened, in UNIX nanoseconds.

    Intraday bars (formatDate 2) are dated by epoch seconds of their open. Daily and
    longer bars are dated "yyyymmdd": a day bar opens on that day (midnight UTC, as
    NautilusTrader's adapter has it); a week or month bar is dated by its last day and
    opens on the first day of its week or month."""
    text = str(date).strip()
    aggregation = bar_type.spec.aggregation
    if aggregation not in _DATE_BARS or (text.isdigit() and len(text) != 8):
        return int(text) * NANOS
    day = pd.Timestamp(dt.datetime.strptime(text[:8], "%Y%m%d"), tz="UTC")
    if aggregation == BarAggregation.WEEK:
        day -= pd.Timedelta(days=day.weekday())
    elif aggregation == BarAggregation.MONTH:
        day = day.replace(day=1)
    return day.value


def bar_close_ns(open_ns: int, bar_type: BarType) -> int:
    """When a bar that opened at ``open_ns`` is complete."""
    aggregation = bar_type.spec.aggregation
    if aggregation == BarAggregation.MONTH:
        opened = pd.Timestamp(open_ns, tz="UTC")
        return (opened + pd.offsets.MonthBegin(1)).value
    return open_ns + int(bar_type.spec.timedelta.total_seconds() * NANOS)


def _volume(value: Decimal | float) -> Decimal | float:
    # IB sends -1 (or leaves UNSET) where a bar has no volume, e.g. MIDPOINT of forex.
    if value == UNSET_DECIMAL or value < 0:
        return 0
    return value


def make_bar(
    bar_type: BarType,
    bar: BarData | RealTimeBar,
    instrument: Instrument,
    *,
    ts_event: int,
    ts_init: int,
    is_revision: bool = False,
    price_magnifier: int = 1,
) -> Bar:
    """A NautilusTrader bar from an IB historical (``BarData``) or real-time bar."""
    open_ = bar.open_ if isinstance(bar, RealTimeBar) else bar.open

    def price(value: float) -> Any:
        return instrument.make_price(ib_price_to_nautilus_price(value, price_magnifier))

    return Bar(
        bar_type=bar_type,
        open=price(open_),
        high=price(bar.high),
        low=price(bar.low),
        close=price(bar.close),
        volume=instrument.make_qty(_volume(bar.volume)),
        ts_event=ts_event,
        ts_init=ts_init,
        is_revision=is_revision,
    )


# -- quotes and status from reqMktData ------------------------------------------------------------


class TopOfBook:
    """One instrument's ``reqMktData`` stream: quotes, and halts as instrument status.

    A quote goes out whenever bid, ask or a size changed (nothing for a tick repeating
    what is known, as TWS's size tick after a price tick does). ibapi reports a price
    and its size as two calls, so a price waits for its size before the quote goes out;
    ``defer(flush)`` is asked to call ``flush`` once the current message is done, for the
    rare price without a size. With ``ignore_size_updates`` a change of sizes alone makes
    no quote. Delayed tick types (66-70) count as their live twins.
    """

    __slots__ = (
        "_defer",
        "_deferred",
        "_halted",
        "_ignore_size_updates",
        "_instrument",
        "_last",
        "_magnifier",
        "_now",
        "_on_quote",
        "_on_status",
        "_pending",
        "ask",
        "ask_size",
        "bid",
        "bid_size",
        "market_data_type",
        "quotes",
        "status",
    )

    def __init__(
        self,
        instrument: Instrument,
        *,
        now: Callable[[], int],
        on_quote: Callable[[QuoteTick], None],
        on_status: Callable[[InstrumentStatus], None],
        defer: Callable[[Callable[[], None]], None],
        ignore_size_updates: bool = False,
        price_magnifier: int = 1,
    ) -> None:
        self._instrument = instrument
        self._now = now
        self._on_quote = on_quote
        self._on_status = on_status
        self._defer = defer
        self._ignore_size_updates = ignore_size_updates
        self._magnifier = price_magnifier
        self.quotes = False  # emit quotes (a quote subscription is live)
        self.status = False  # emit instrument status (a status subscription is live)
        self.bid: float | None = None
        self.ask: float | None = None
        self.bid_size: Decimal = Decimal(0)
        self.ask_size: Decimal = Decimal(0)
        self.market_data_type: int | None = None
        self._pending: int | None = None  # the size tick type a price waits for
        self._deferred = False
        self._last: tuple | None = None
        self._halted: int | None = None

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        if self._pending is not None and not (
            kind == "TickSize" and event.tick_type == self._pending
        ):
            self.flush()
        if kind == "TickPrice":
            self._on_price(event.tick_type, event.price)
        elif kind == "TickSize":
            self._on_size(event.tick_type, event.size)
        elif kind == "TickGeneric":
            if event.tick_type == HALTED:
                self._on_halted(int(event.value))
        elif kind == "MarketDataTypeChanged":
            self.market_data_type = event.market_data_type

    def _on_price(self, tick_type: int, price: float) -> None:
        value = None if price <= 0 else ib_price_to_nautilus_price(price, self._magnifier)
        if tick_type in BID_PRICES:
            self.bid = value
        elif tick_type in ASK_PRICES:
            self.ask = value
        else:
            return
        self._pending = SIZE_OF_PRICE[tick_type]
        if not self._deferred:
            self._deferred = True
            self._defer(self._flush_deferred)

    def _on_size(self, tick_type: int, size: Decimal) -> None:
        follows_price = self._pending == tick_type
        self._pending = None
        if tick_type in BID_SIZES:
            self.bid_size = size
        elif tick_type in ASK_SIZES:
            self.ask_size = size
        else:
            return
        if follows_price or not self._ignore_size_updates:
            self._emit()
        elif self._last is not None:
            self._last = (self._last[0], self._last[1], self.bid_size, self.ask_size)

    def _flush_deferred(self) -> None:
        self._deferred = False
        self.flush()

    def flush(self) -> None:
        """Emit a price still waiting for its size."""
        if self._pending is not None:
            self._pending = None
            self._emit()

    def _emit(self) -> None:
        if not self.quotes or self.bid is None or self.ask is None:
            return
        state = (self.bid, self.ask, self.bid_size, self.ask_size)
        if state == self._last:
            return
        self._last = state
        instrument = self._instrument
        now = self._now()
        self._on_quote(
            QuoteTick(
                instrument_id=instrument.id,
                bid_price=instrument.make_price(self.bid),
                ask_price=instrument.make_price(self.ask),
                bid_size=instrument.make_qty(max(self.bid_size, 0)),
                ask_size=instrument.make_qty(max(self.ask_size, 0)),
                ts_event=now,
                ts_init=now,
            ),
        )

    def _on_halted(self, value: int) -> None:
        if value < 0 or value == self._halted:
            return
        self._halted = value
        if not self.status:
            return
        now = self._now()
        halted = value != 0
        self._on_status(
            InstrumentStatus(
                instrument_id=self._instrument.id,
                action=MarketStatusAction.HALT if halted else MarketStatusAction.TRADING,
                ts_event=now,
                ts_init=now,
                reason={1: "halted", 2: "volatility halt"}.get(value) if halted else None,
                is_trading=not halted,
            ),
        )


# -- trades and tick-by-tick -------------------------------------------------------------------


class TradeIds:
    """Trade ids for IB prints, unique within a stream: IB gives prints no id and stamps
    them to the second, so equal prints in one second are numbered."""

    __slots__ = ("_count", "_last")

    def __init__(self) -> None:
        self._last: tuple[int, float, Decimal] | None = None
        self._count = 0

    def next(self, ts_event: int, price: float, size: Decimal) -> TradeId:
        key = (ts_event // NANOS, price, size)
        if key == self._last:
            self._count += 1
            return TradeId(f"{key[0]}-{price}-{size}-{self._count}"[-36:])
        self._last, self._count = key, 0
        return generate_trade_id(ts_event, price, size)


def make_trade_tick(
    instrument: Instrument,
    tick: Any,
    *,
    ts_init: int,
    trade_id: TradeId,
    price_magnifier: int = 1,
) -> TradeTick | None:
    """A trade from an ibapi ``HistoricalTickLast`` (live tick-by-tick or historical);
    ``None`` for a print without size."""
    size = tick.size
    if size == UNSET_DECIMAL or size <= 0 or tick.price <= 0:
        return None
    ts_event = int(tick.time) * NANOS
    return TradeTick(
        instrument_id=instrument.id,
        price=instrument.make_price(ib_price_to_nautilus_price(tick.price, price_magnifier)),
        size=instrument.make_qty(size),
        aggressor_side=AggressorSide.NO_AGGRESSOR,
        trade_id=trade_id,
        ts_event=ts_event,
        ts_init=max(ts_init, ts_event),
    )


def make_quote_tick(
    instrument: Instrument,
    tick: Any,
    *,
    ts_init: int,
    price_magnifier: int = 1,
) -> QuoteTick | None:
    """A quote from an ibapi ``HistoricalTickBidAsk``; ``None`` if a side is missing."""
    if tick.priceBid <= 0 or tick.priceAsk <= 0:
        return None
    ts_event = int(tick.time) * NANOS

    def size(value: Decimal) -> Any:
        return instrument.make_qty(0 if value == UNSET_DECIMAL or value < 0 else value)

    return QuoteTick(
        instrument_id=instrument.id,
        bid_price=instrument.make_price(ib_price_to_nautilus_price(tick.priceBid, price_magnifier)),
        ask_price=instrument.make_price(ib_price_to_nautilus_price(tick.priceAsk, price_magnifier)),
        bid_size=size(tick.sizeBid),
        ask_size=size(tick.sizeAsk),
        ts_event=ts_event,
        ts_init=max(ts_init, ts_event),
    )


# -- market depth -------------------------------------------------------------------------------


class DepthBook:
    """IB's market depth (rows by position, per side) as price-level deltas.

    IB inserts, updates and deletes *rows*; an insert or delete shifts the rows below
    it, and with smart depth several exchanges' rows may share a price. NautilusTrader's
    L2 book is keyed by price, so each IB update is applied to the rows, the rows are
    summed by price, and what changed at which price goes out as deltas (the last one
    flagged ``F_LAST``).
    """

    def __init__(self, instrument: Instrument, depth: int, price_magnifier: int = 1) -> None:
        self._instrument = instrument
        self._depth = depth
        self._magnifier = price_magnifier
        self._rows: dict[OrderSide, list[tuple[float, Decimal]]] = {
            OrderSide.BUY: [],
            OrderSide.SELL: [],
        }
        self._levels: dict[OrderSide, dict[float, Decimal]] = {
            OrderSide.BUY: {},
            OrderSide.SELL: {},
        }
        self.sequence = 0

    def apply(self, update: Any, ts_init: int) -> OrderBookDeltas | None:
        side = IB_SIDE.get(update.side)
        if side is None:
            return None
        rows = self._rows[side]
        price = ib_price_to_nautilus_price(update.price, self._magnifier)
        position = update.position
        if update.operation == 0:  # insert
            rows.insert(min(position, len(rows)), (price, update.size))
            del rows[self._depth :]
        elif update.operation == 1:  # update
            if position < len(rows):
                rows[position] = (price, update.size)
            else:
                rows.append((price, update.size))
        elif update.operation == 2:  # delete
            if position < len(rows):
                del rows[position]
        else:
            return None
        return self._diff(side, ts_init)

    def _diff(self, side: OrderSide, ts_init: int) -> OrderBookDeltas | None:
        levels: dict[float, Decimal] = {}
        for price, size in self._rows[side]:
            if size > 0 and price > 0:
                levels[price] = levels.get(price, Decimal(0)) + size
        old = self._levels[side]
        self._levels[side] = levels
        changes: list[tuple[BookAction, float, Decimal]] = []
        for price, size in old.items():
            if price not in levels:
                changes.append((BookAction.DELETE, price, size))
        for price, size in levels.items():
            before = old.get(price)
            if before is None:
                changes.append((BookAction.ADD, price, size))
            elif before != size:
                changes.append((BookAction.UPDATE, price, size))
        if not changes:
            return None
        instrument = self._instrument
        deltas = []
        for i, (action, price, size) in enumerate(changes):
            self.sequence += 1
            quantity = instrument.make_qty(size)
            if action != BookAction.DELETE and quantity.as_double() <= 0:
                action = BookAction.DELETE
            deltas.append(
                OrderBookDelta(
                    instrument_id=instrument.id,
                    action=action,
                    order=BookOrder(side, instrument.make_price(price), quantity, 0),
                    flags=RecordFlag.F_LAST if i == len(changes) - 1 else 0,
                    sequence=self.sequence,
                    ts_event=ts_init,
                    ts_init=ts_init,
                ),
            )
        return OrderBookDeltas(instrument.id, deltas)

    def clear_deltas(self, ts_init: int) -> OrderBookDeltas:
        """Forget every row and say so with a CLEAR delta (the stream restarted)."""
        self._rows = {OrderSide.BUY: [], OrderSide.SELL: []}
        self._levels = {OrderSide.BUY: {}, OrderSide.SELL: {}}
        self.sequence += 1
        return OrderBookDeltas(
            self._instrument.id,
            [OrderBookDelta.clear(self._instrument.id, self.sequence, ts_init, ts_init)],
        )
