"""Paging through historical ticks, and IB ticks as Nautilus ticks."""

from __future__ import annotations

from decimal import Decimal

from ibapi.common import HistoricalTick, HistoricalTickBidAsk, HistoricalTickLast
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from adapter.historical.ticks import TickPager, to_quote_ticks, to_trade_ticks

AAPL = TestInstrumentProvider.equity("AAPL", "NASDAQ")


def trade(time: int, price: float = 100.0, size: int = 10) -> HistoricalTickLast:
    tick = HistoricalTickLast()
    tick.time, tick.price, tick.size = time, price, Decimal(size)
    return tick


def serve(ticks: list, pager: TickPager, cut: int) -> list[int]:
    """Answer pages like a server that cuts at ``cut`` ticks; the cursors asked for."""
    asked = []
    while not pager.done:
        asked.append(pager.cursor)
        page = [t for t in ticks if t.time >= pager.cursor][:cut]
        pager.add_page(page)
    return asked


def test_pages_cut_inside_a_second_lose_and_double_nothing():
    # Three ticks a second; pages of four end in the middle of a second.
    ticks = [trade(100 + i // 3, 100 + i) for i in range(30)]
    pager = TickPager(100, 200, page_size=4)
    serve(ticks, pager, cut=4)
    assert pager.ticks == ticks


def test_the_end_is_included_and_later_ticks_dropped():
    ticks = [trade(t) for t in (100, 101, 105, 110, 111, 120)]
    pager = TickPager(101, 110, page_size=2)
    asked = serve(ticks, pager, cut=2)
    assert [t.time for t in pager.ticks] == [101, 105, 110]
    assert asked == [101, 105, 110]


def test_a_short_page_means_nothing_more_is_there():
    pager = TickPager(100, 500, page_size=1000)
    page = [trade(100), trade(130)]
    assert pager.add_page(page) == page
    assert pager.done


def test_a_second_with_more_ticks_than_a_page_is_stepped_over():
    busy = [trade(100, 100 + i) for i in range(5)]
    pager = TickPager(100, 200, page_size=3)
    asked = serve([*busy, trade(101, 1), trade(102, 2)], pager, cut=3)
    # A server cannot page inside a second: the rest of second 100 is out of reach.
    assert [t.time for t in pager.ticks] == [100, 100, 100, 101, 102]
    assert asked == [100, 100, 101]


def test_an_empty_range_asks_nothing():
    assert TickPager(200, 100).done


def test_trade_ids_are_theirs_and_unique_within_a_second():
    ticks = to_trade_ticks(AAPL, [trade(100, 10.5, 3), trade(100, 10.5, 3), trade(101, 10.5, 3)])
    assert [t.trade_id.value for t in ticks] == ["100-10.5-3", "100-10.5-3-2", "101-10.5-3"]
    assert ticks[0].ts_event == ticks[0].ts_init == 100_000_000_000


def test_midpoints_are_not_trades():
    midpoint = HistoricalTick()
    midpoint.time, midpoint.price, midpoint.size = 100, 1.0845, Decimal(0)
    assert to_trade_ticks(AAPL, [midpoint]) == []


def test_quotes():
    tick = HistoricalTickBidAsk()
    tick.time, tick.priceBid, tick.priceAsk = 100, 10.5, 10.52
    tick.sizeBid, tick.sizeAsk = Decimal(300), Decimal(200)
    [quote] = to_quote_ticks(AAPL, [tick], price_magnifier=1)
    assert (str(quote.bid_price), str(quote.ask_price), quote.bid_size.as_double()) == (
        "10.50",
        "10.52",
        300,
    )
    assert quote.ts_event == quote.ts_init == 100_000_000_000
