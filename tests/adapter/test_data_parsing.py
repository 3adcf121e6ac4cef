"""IB market data as NautilusTrader data, without a connection: the helpers NautilusTrader's
adapter exposes (checked against theirs), quotes from reqMktData ticks, depth rows as
price levels, and the bar streams' rules (once, in order, gaps filled or reported)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import nautilus_trader.adapters.interactive_brokers.parsing.data as theirs
import pytest
from ibapi.common import BarData, RealTimeBar, TickAttrib
from nautilus_trader.model.data import BarSpecification, BarType
from nautilus_trader.model.enums import BookAction, MarketStatusAction, OrderSide
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from adapter.client.market_data import (
    BarUpdate,
    DepthUpdate,
    HistoricalBarsEnd,
    MarketDataTypeChanged,
    TickGeneric,
    TickPrice,
    TickSize,
)
from adapter.parsing import data as ours
from adapter.parsing.bars import KeepUpToDateBars, RealTimeBars
from adapter.parsing.data import DepthBook, TopOfBook, TradeIds, bar_open_ns

AAPL = TestInstrumentProvider.equity("AAPL", "NASDAQ")
MINUTE = BarType.from_str("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL")
NS = 1_000_000_000
T0 = 1_767_625_200  # 2026-01-05 15:00:00 UTC


# -- the helpers both adapters have --------------------------------------------------------------

THEIR_SPECS = [
    "5-SECOND-LAST", "10-SECOND-MID", "30-SECOND-BID", "1-MINUTE-ASK", "2-MINUTE-LAST",
    "30-MINUTE-LAST", "1-HOUR-LAST", "8-HOUR-MID", "1-DAY-LAST", "1-WEEK-LAST",
]  # fmt: skip


@pytest.mark.parametrize("spec", THEIR_SPECS)
def test_bar_sizes_and_what_to_show_are_theirs(spec):
    bar_type = BarType.from_str(f"AAPL.NASDAQ-{spec}-EXTERNAL")
    assert ours.bar_spec_to_bar_size(bar_type.spec) == theirs.bar_spec_to_bar_size(bar_type.spec)
    assert ours.what_to_show(bar_type) == theirs.what_to_show(bar_type)


def test_bar_sizes_ib_offers_that_theirs_refuses():
    for spec, size in [("1-SECOND-LAST", "1 secs"), ("1-MONTH-LAST", "1 month")]:
        assert ours.bar_spec_to_bar_size(BarSpecification.from_str(spec)) == size
    with pytest.raises(ValueError, match="doesn't support"):
        ours.bar_spec_to_bar_size(BarSpecification.from_str("4-MINUTE-LAST"))


@pytest.mark.parametrize("seconds", [10, 3600, 86_400, 2 * 86_400, 14 * 86_400, 365 * 86_400])
def test_durations_match_theirs_where_exact(seconds):
    delta = dt.timedelta(seconds=seconds)
    assert ours.timedelta_to_duration_str(delta) == theirs.timedelta_to_duration_str(delta)


def test_durations_never_cover_less_than_asked():
    # theirs rounds down: 1.5 days is "1 D", 10 days "1 W", 40 days "1 M", 400 days "1 Y"
    for days, wanted in [(1.5, "2 D"), (10, "2 W"), (40, "2 M"), (400, "2 Y")]:
        assert ours.timedelta_to_duration_str(dt.timedelta(days=days)) == wanted
    assert theirs.timedelta_to_duration_str(dt.timedelta(days=10)) == "1 W"


def test_trade_ids_are_theirs_and_unique_within_a_second():
    assert ours.generate_trade_id(T0 * NS, 150.0, Decimal(10)) == theirs.generate_trade_id(
        T0 * NS,
        150.0,
        Decimal(10),
    )
    ids = TradeIds()
    made = [ids.next(T0 * NS, 150.0, Decimal(10)) for _ in range(3)]
    assert len(set(made)) == 3 and made[0] == theirs.generate_trade_id(T0 * NS, 150.0, Decimal(10))


def test_bar_dates_of_day_week_and_month_bars():
    day = BarType.from_str("AAPL.NASDAQ-1-DAY-LAST-EXTERNAL")
    week = BarType.from_str("AAPL.NASDAQ-1-WEEK-LAST-EXTERNAL")
    month = BarType.from_str("AAPL.NASDAQ-1-MONTH-LAST-EXTERNAL")
    assert bar_open_ns(str(T0), MINUTE) == T0 * NS
    assert (
        bar_open_ns("20260109", day) == int(dt.datetime(2026, 1, 9, tzinfo=dt.UTC).timestamp()) * NS
    )
    assert (
        bar_open_ns("20260109", week)
        == int(dt.datetime(2026, 1, 5, tzinfo=dt.UTC).timestamp()) * NS
    )
    assert (
        bar_open_ns("20260130", month)
        == int(dt.datetime(2026, 1, 1, tzinfo=dt.UTC).timestamp()) * NS
    )


# -- quotes ---------------------------------------------------------------------------------------


class Quotes:
    def __init__(self, ignore_size_updates: bool = False) -> None:
        self.quotes: list = []
        self.statuses: list = []
        self.deferred: list = []
        self.top = TopOfBook(
            AAPL,
            now=lambda: T0 * NS,
            on_quote=self.quotes.append,
            on_status=self.statuses.append,
            defer=self.deferred.append,
            ignore_size_updates=ignore_size_updates,
        )
        self.top.quotes = self.top.status = True

    def price(self, tick_type: int, price: float, size: int | None = None) -> None:
        self.top(TickPrice(tick_type, price, TickAttrib()))
        if size is not None:  # ibapi's tickSize right after a tickPrice with a size
            self.top(TickSize({1: 0, 2: 3, 66: 69, 67: 70}[tick_type], Decimal(size)))

    def size(self, tick_type: int, size: int) -> None:
        self.top(TickSize(tick_type, Decimal(size)))

    def flush(self) -> None:
        for callback in self.deferred:
            callback()
        self.deferred.clear()


def test_a_price_with_its_size_is_one_quote_and_repeats_are_none():
    q = Quotes()
    q.price(1, 150.0, 100)
    assert q.quotes == []  # no ask yet
    q.price(2, 150.01, 200)
    q.size(3, 200)  # TWS's separate size tick, repeating the size
    q.flush()
    [quote] = q.quotes
    assert (str(quote.bid_price), str(quote.ask_price), quote.bid_size, quote.ask_size) == (
        "150.00",
        "150.01",
        100,
        200,
    )
    q.price(1, 150.005 + 0.005, 300)
    assert len(q.quotes) == 2 and q.quotes[-1].bid_size == 300


def test_a_price_without_a_size_goes_out_when_the_message_is_done():
    q = Quotes()
    q.price(1, 150.0, 100)
    q.price(2, 150.01, 200)
    q.price(1, 150.01)  # no size followed (the decoder's size was unset)
    assert len(q.quotes) == 1
    q.flush()
    assert len(q.quotes) == 2 and str(q.quotes[-1].bid_price) == "150.01"


def test_size_only_changes_can_be_ignored():
    q = Quotes(ignore_size_updates=True)
    q.price(1, 150.0, 100)
    q.price(2, 150.01, 200)
    q.size(0, 500)
    assert len(q.quotes) == 1
    q.price(1, 149.99, 600)
    assert len(q.quotes) == 2 and q.quotes[-1].bid_size == 600


def test_delayed_ticks_make_quotes_and_halts_make_status():
    q = Quotes()
    q.top(MarketDataTypeChanged(4))
    q.price(66, 150.0, 100)
    q.price(67, 150.02, 100)
    assert len(q.quotes) == 1 and q.top.market_data_type == 4
    q.top(TickGeneric(49, 0.0))
    q.top(TickGeneric(49, 0.0))
    q.top(TickGeneric(49, 1.0))
    q.top(TickGeneric(49, -1.0))
    assert [s.action for s in q.statuses] == [MarketStatusAction.TRADING, MarketStatusAction.HALT]
    assert q.statuses[1].is_trading is False


# -- depth -------------------------------------------------------------------------------------------


def test_depth_rows_become_price_levels_with_inserts_shifting_rows():
    book = DepthBook(AAPL, depth=3)

    def apply(position, operation, side, price, size, maker=""):
        return book.apply(DepthUpdate(position, operation, side, price, Decimal(size), maker), 1)

    first = apply(0, 0, 1, 150.00, 100)
    [delta] = first.deltas
    assert (delta.action, delta.order.side, str(delta.order.price)) == (
        BookAction.ADD,
        OrderSide.BUY,
        "150.00",
    )
    assert delta.flags & 128
    apply(0, 0, 1, 150.01, 50)  # a better bid pushes 150.00 to row 1
    # two exchanges quoting one price (smart depth): one level with both sizes
    deltas = apply(1, 0, 1, 150.00, 25, "ARCA").deltas
    assert [(d.action, str(d.order.price), d.order.size) for d in deltas] == [
        (BookAction.UPDATE, "150.00", 125),
    ]
    deltas = apply(0, 2, 1, 150.01, 50).deltas  # row 0 deleted: the rest shift up
    assert [(d.action, str(d.order.price)) for d in deltas] == [(BookAction.DELETE, "150.01")]
    assert apply(0, 1, 1, 150.00, 25) is None  # row 0 (25 on ARCA) again: nothing changed
    clear = book.clear_deltas(2)
    assert clear.deltas[0].action == BookAction.CLEAR


# -- keep-up-to-date bars ---------------------------------------------------------------------------


class Bars:
    def __init__(self, revised: bool, start_ns: int | None = None) -> None:
        self.bars: list = []
        self.warnings: list = []
        self.timers: list = []
        self.server_now = T0 * NS
        self.stream = KeepUpToDateBars(
            MINUTE,
            AAPL,
            handle_revised_bars=revised,
            now=lambda: 0,
            server_now=lambda: self.server_now,
            call_later=lambda delay, callback: self.timers.append((delay, callback)) or _Timer(),
            emit=self.bars.append,
            warn=self.warnings.append,
            start_ns=start_ns,
        )

    def initial(self, *minutes: int) -> None:
        for m in minutes:
            self.stream(BarUpdate(bar(m), is_update=False))
        self.stream(HistoricalBarsEnd("", ""))

    def update(self, minute: int, close: float = 150.0, volume: int = 100) -> None:
        self.stream(BarUpdate(bar(minute, close, volume), is_update=True))

    def opens(self) -> list[int]:
        return [(b.ts_event // NS - T0) // 60 for b in self.bars]


class _Timer:
    def cancel(self) -> None:
        pass


def bar(minute: int, close: float = 150.0, volume: int = 100) -> BarData:
    b = BarData()
    b.date = str(T0 + 60 * minute)
    b.open, b.high, b.low, b.close = 150.0, max(150.0, close), 150.0, close
    b.volume = Decimal(volume)
    return b


def test_without_revisions_a_bar_is_emitted_once_when_the_next_starts():
    b = Bars(revised=False)
    b.initial(-2, -1, 0)  # history, and the 15:00 bar forming
    assert b.bars == []
    b.update(0, volume=200)
    b.update(0, close=150.5, volume=300)
    assert b.bars == []
    b.update(1)
    assert b.opens() == [0] and str(b.bars[0].close) == "150.50" and not b.bars[0].is_revision
    b.update(0, volume=999)  # a late revision of an emitted bar, or out of sequence
    b.update(-1)
    assert b.opens() == [0]


def test_without_revisions_a_bar_is_emitted_when_its_period_is_over():
    b = Bars(revised=False)
    b.initial(-1, 0)
    delay, on_time = b.timers[-1]
    assert delay == pytest.approx(61.0)  # bar end plus a second of grace, server time
    b.server_now = (T0 + 61) * NS
    on_time()
    assert b.opens() == [0]
    b.update(1)  # the next bar does not repeat it
    assert b.opens() == [0]


def test_with_revisions_each_changed_version_is_emitted():
    b = Bars(revised=True)
    b.initial(-1, 0)
    b.update(0, volume=100)  # unchanged: nothing
    b.update(0, volume=200)
    b.update(1)
    assert b.opens() == [0, 0, 1]
    assert [x.is_revision for x in b.bars] == [False, True, False]


def test_after_a_reconnect_the_gap_is_filled_or_reported():
    b = Bars(revised=False)
    b.initial(-1, 0)
    b.update(1)  # 15:00 emitted
    b.initial(-5, -4, 0, 1, 2, 3)  # sent again at 15:03: 15:01 and 15:02 were missed
    assert b.opens() == [0, 1, 2] and b.warnings == []
    b.initial(7, 8)  # history no longer reaches back: 15:03 .. 15:06 are lost
    assert b.opens() == [0, 1, 2, 7]
    [warning] = b.warnings
    assert "were not received" in warning


def test_history_since_start_ns_is_emitted_when_asked():
    b = Bars(revised=False, start_ns=(T0 - 120) * NS)
    b.initial(-5, -4, -3, -2, -1, 0)
    assert b.opens() == [-3, -2, -1]


# -- real-time bars ------------------------------------------------------------------------------


def realtime(second: int) -> RealTimeBar:
    return RealTimeBar(T0 + second, -1, 150.0, 150.0, 150.0, 150.0, Decimal(10), Decimal(150), 1)


def test_real_time_bars_once_each_and_a_gap_after_a_reconnect_filled():
    emitted, gaps = [], []
    stream = RealTimeBars(
        MINUTE, AAPL, now=lambda: 0, emit=emitted.append, on_gap=lambda *a: gaps.append(a)
    )
    stream(realtime(0))
    stream(realtime(5))
    stream(realtime(5))
    stream.reconnected = True
    stream(realtime(25))
    stream(realtime(30))  # held while the gap is filled
    assert gaps == [((T0 + 5) * NS, (T0 + 25) * NS)]
    history = []
    for second in (5, 10, 15, 20, 25):
        b = BarData()
        b.date, b.open, b.high, b.low, b.close, b.volume = (
            str(T0 + second),
            1.0,
            1.0,
            1.0,
            1.0,
            Decimal(1),
        )
        history.append(b)
    stream.fill(history)
    assert [(e.ts_event // NS) - T0 for e in emitted] == [0, 5, 10, 15, 20, 25, 30]
