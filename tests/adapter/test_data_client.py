"""``InteractiveBrokersDataClient`` against fake-tws: what it asks IB for (read from the
server's journal) and what it hands NautilusTrader's DataEngine."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pandas as pd
import pytest
from nautilus_trader.data.messages import (
    RequestBars,
    RequestInstruments,
    RequestQuoteTicks,
    RequestTradeTicks,
    SubscribeBars,
    SubscribeInstrumentStatus,
    SubscribeOrderBook,
    SubscribeQuoteTicks,
    SubscribeTradeTicks,
    UnsubscribeBars,
    UnsubscribeInstrumentStatus,
    UnsubscribeQuoteTicks,
)
from nautilus_trader.model.data import BarType, InstrumentStatus, OrderBookDelta, OrderBookDeltas
from nautilus_trader.model.enums import BookAction, BookType, MarketStatusAction
from nautilus_trader.model.identifiers import InstrumentId, Venue
from nautilus_trader.model.instruments import Instrument

from adapter.config import IBMarketDataTypeEnum
from tests.adapter.node.clients import DataHarness
from tests.adapter.node.support import AAPL, MSFT, START, server_options

EURUSD = InstrumentId.from_str("EUR/USD.IDEALPRO")
START_NS = int(START.timestamp()) * 1_000_000_000
SECOND = 1_000_000_000


@pytest.fixture
def fake_tws_options():
    return server_options()


def journal(fake_tws, name: str) -> list:
    return [e.message for e in fake_tws.journal.entries if e.name == name]


async def advance(h: DataHarness, fake_tws, seconds: int) -> None:
    """Virtual time on, a second at a time; the client reads what each second brings
    (a short yield per step: the server sends at once, the loop only has to read it)."""
    for _ in range(seconds):
        fake_tws.advance(1)
        await asyncio.sleep(0.005)


# -- connecting ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_connect_sets_the_market_data_type_and_publishes_instruments(fake_tws):
    async with DataHarness(
        fake_tws.port,
        market_data_type=IBMarketDataTypeEnum.DELAYED_FROZEN,
    ) as h:
        assert [m.marketDataType for m in journal(fake_tws, "reqMarketDataType")] == [4]
        published = {i.id for i in h.of(Instrument)}
        assert published == {AAPL, MSFT}
        assert h.client.id.value == "INTERACTIVE_BROKERS-001"


# -- quotes and status -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_quotes_come_once_per_change_and_unsubscribing_cancels_the_line(fake_tws):
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_quote_ticks(h.command(SubscribeQuoteTicks, instrument_id=AAPL))
        await h.wait(lambda: h.quotes, "a quote")
        await advance(h, fake_tws, 5)
        quotes = h.quotes
        assert len(quotes) >= 3
        states = [(q.bid_price, q.ask_price, q.bid_size, q.ask_size) for q in quotes]
        assert all(a != b for a, b in itertools.pairwise(states))  # no repeats
        [request] = journal(fake_tws, "reqMktData")

        h.client.unsubscribe_quote_ticks(h.command(UnsubscribeQuoteTicks, instrument_id=AAPL))
        await h.wait(lambda: journal(fake_tws, "cancelMktData"), "the cancel")
        assert [c.reqId for c in journal(fake_tws, "cancelMktData")] == [request.reqId]
        count = len(h.quotes)
        await advance(h, fake_tws, 3)
        assert len(h.quotes) == count


@pytest.mark.asyncio
async def test_a_price_and_its_size_make_one_quote(fake_tws):
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_quote_ticks(h.command(SubscribeQuoteTicks, instrument_id=AAPL))
        await h.wait(lambda: h.quotes, "a quote")
        # first batch: BID price+size, ASK price+size -> the first complete quote only
        [first] = h.quotes
        assert first.bid_size.as_double() > 0 and first.ask_size.as_double() > 0
        fake_tws.call(fake_tws.world.set_price, 265598, 151.0)
        await advance(h, fake_tws, 2)
        moved = [q for q in h.quotes if q.bid_price.as_double() >= 150.5]
        assert moved
        # every quote carries the size that came with its price: none has a stale size
        # followed by a copy with the right one
        prices = [(q.bid_price, q.ask_price) for q in h.quotes]
        for i in range(1, len(prices)):
            if prices[i] == prices[i - 1]:
                assert (h.quotes[i].bid_size, h.quotes[i].ask_size) != (
                    h.quotes[i - 1].bid_size,
                    h.quotes[i - 1].ask_size,
                )


@pytest.mark.asyncio
async def test_a_quote_line_refused_as_a_duplicate_is_asked_for_again(fake_tws):
    """322 "Duplicate ticker id" for a line being sent again (TWS had not dropped the old
    one yet): the quotes must not stop for good."""
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_quote_ticks(h.command(SubscribeQuoteTicks, instrument_id=AAPL))
        await h.wait(lambda: h.quotes, "a quote")
        [first] = journal(fake_tws, "reqMktData")
        fake_tws.send_error(
            322, "Error processing request.-'bQ' : cause - Duplicate ticker id", req_id=first.reqId
        )
        await h.wait(lambda: len(journal(fake_tws, "reqMktData")) == 2, "the line asked for again")
        second = journal(fake_tws, "reqMktData")[1]
        assert second.reqId != first.reqId
        count = len(h.quotes)
        await advance(h, fake_tws, 3)
        await h.wait(lambda: len(h.quotes) > count, "quotes on the new line")


@pytest.mark.asyncio
async def test_quotes_and_status_share_one_market_data_line(fake_tws):
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_instrument_status(
            h.command(SubscribeInstrumentStatus, instrument_id=AAPL),
        )
        h.client.subscribe_quote_ticks(h.command(SubscribeQuoteTicks, instrument_id=AAPL))
        await h.wait(lambda: h.quotes and h.of(InstrumentStatus), "quotes and status")
        [status] = h.of(InstrumentStatus)
        assert status.action == MarketStatusAction.TRADING and status.is_trading
        assert len(journal(fake_tws, "reqMktData")) == 1

        h.client.unsubscribe_quote_ticks(h.command(UnsubscribeQuoteTicks, instrument_id=AAPL))
        await advance(h, fake_tws, 2)
        assert journal(fake_tws, "cancelMktData") == []  # status still wants the line
        count = len(h.quotes)
        await advance(h, fake_tws, 2)
        assert len(h.quotes) == count
        h.client.unsubscribe_instrument_status(
            h.command(UnsubscribeInstrumentStatus, instrument_id=AAPL),
        )
        await h.wait(lambda: journal(fake_tws, "cancelMktData"), "the cancel")


@pytest.mark.asyncio
async def test_ignore_quote_tick_size_updates_applies_to_quotes_not_trades(fake_tws):
    async with DataHarness(fake_tws.port, ignore_quote_tick_size_updates=True) as h:
        h.client.subscribe_quote_ticks(h.command(SubscribeQuoteTicks, instrument_id=AAPL))
        h.client.subscribe_trade_ticks(h.command(SubscribeTradeTicks, instrument_id=AAPL))
        await h.wait(lambda: h.quotes, "a quote")
        await advance(h, fake_tws, 6)  # static prices: only sizes change
        assert len(h.quotes) == 1
        [tick_by_tick] = journal(fake_tws, "reqTickByTickData")
        assert (tick_by_tick.tickType, tick_by_tick.ignoreSize) == ("AllLast", False)


# -- trades ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_trades_stream_for_stocks_and_are_refused_for_currency_pairs(fake_tws):
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_trade_ticks(h.command(SubscribeTradeTicks, instrument_id=AAPL))
        await advance(h, fake_tws, 5)
        await h.wait(lambda: h.trades, "trades")
        ids = [t.trade_id for t in h.trades]
        assert len(ids) == len(set(ids))
        assert all(t.instrument_id == AAPL and t.size.as_double() > 0 for t in h.trades)

        h.client.subscribe_trade_ticks(h.command(SubscribeTradeTicks, instrument_id=EURUSD))
        await h.wait(lambda: h.provider.find(EURUSD), "EUR/USD to load")
        await advance(h, fake_tws, 1)
        assert len(journal(fake_tws, "reqTickByTickData")) == 1


# -- bars --------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_five_second_bars_are_real_time_bars_cancelled_as_such(fake_tws):
    bar_type = BarType.from_str("AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL")
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_bars(h.command(SubscribeBars, bar_type=bar_type))
        await h.wait(lambda: journal(fake_tws, "reqRealTimeBars"), "the request")
        await advance(h, fake_tws, 21)
        await h.wait(lambda: len(h.bars) >= 3, "bars")
        opens = [b.ts_event for b in h.bars]
        assert opens == sorted(set(opens)) and all(o % (5 * SECOND) == 0 for o in opens)
        [request] = journal(fake_tws, "reqRealTimeBars")
        assert (request.barSize, request.whatToShow, request.useRTH) == (5, "TRADES", True)

        h.client.unsubscribe_bars(h.command(UnsubscribeBars, bar_type=bar_type))
        await h.wait(lambda: journal(fake_tws, "cancelRealTimeBars"), "the cancel")
        assert journal(fake_tws, "cancelHistoricalData") == []


@pytest.mark.asyncio
async def test_minute_bars_keep_up_to_date_with_the_configured_trading_hours(fake_tws):
    bar_type = BarType.from_str("AAPL.NASDAQ-1-MINUTE-MID-EXTERNAL")
    async with DataHarness(fake_tws.port, use_regular_trading_hours=False) as h:
        h.client.subscribe_bars(h.command(SubscribeBars, bar_type=bar_type))
        await h.wait(lambda: journal(fake_tws, "reqHistoricalData"), "the request")
        [request] = journal(fake_tws, "reqHistoricalData")
        assert (request.keepUpToDate, request.useRTH, request.whatToShow) == (
            True,
            False,
            "MIDPOINT",
        )
        assert request.barSizeSetting == "1 min"
        await advance(h, fake_tws, 125)
        await h.wait(lambda: len(h.bars) >= 2, "two bars")
        assert [b.ts_event for b in h.bars] == [START_NS, START_NS + 60 * SECOND]
        h.client.unsubscribe_bars(h.command(UnsubscribeBars, bar_type=bar_type))
        await h.wait(lambda: journal(fake_tws, "cancelHistoricalData"), "the cancel")


@pytest.mark.asyncio
async def test_bars_missed_while_disconnected_are_filled_once(fake_tws):
    minute = BarType.from_str("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL")
    five = BarType.from_str("AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL")
    async with DataHarness(fake_tws.port) as h:
        h.ib._historical_pacer._identical_interval = 0.0  # the resend comes a moment later
        h.client.subscribe_bars(h.command(SubscribeBars, bar_type=minute))
        h.client.subscribe_bars(h.command(SubscribeBars, bar_type=five))
        await advance(h, fake_tws, 65)
        await h.wait(lambda: [b for b in h.bars if b.bar_type == minute], "the 15:00 bar")

        fake_tws.disconnect(1)
        await h.wait(lambda: not h.ib.is_ib_connected, "the disconnect")
        fake_tws.advance(120)  # 15:01:05 -> 15:03:05 with nobody connected
        await h.wait(lambda: h.ib.is_ib_connected, "the reconnect")
        await h.wait(lambda: len(journal(fake_tws, "reqRealTimeBars")) == 2, "the resend")
        await advance(h, fake_tws, 14)  # the first live 5-second bar ends 10 s after it
        await h.wait(
            lambda: (
                [b.ts_event for b in h.bars if b.bar_type == minute][-1:]
                == [START_NS + 120 * SECOND]
            ),
            "the minute bars of the gap",
        )
        minutes = [b.ts_event for b in h.bars if b.bar_type == minute]
        assert minutes == [START_NS + i * 60 * SECOND for i in range(3)]
        await h.wait(
            lambda: (
                [b.ts_event for b in h.bars if b.bar_type == five][-1] >= START_NS + 185 * SECOND
            ),
            "the 5-second bars after the gap",
        )
        fives = [b.ts_event for b in h.bars if b.bar_type == five]
        assert fives == list(range(fives[0], fives[-1] + 1, 5 * SECOND))  # no gap, no repeat
        gap_fill = [
            r for r in journal(fake_tws, "reqHistoricalData") if r.barSizeSetting == "5 secs"
        ]
        assert len(gap_fill) == 1 and not gap_fill[0].keepUpToDate


# -- order book ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_order_book_deltas_from_market_depth(fake_tws):
    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_order_book_deltas(
            h.command(
                SubscribeOrderBook,
                instrument_id=AAPL,
                book_data_type=OrderBookDelta,
                book_type=BookType.L2_MBP,
                depth=5,
                params={"is_smart_depth": False},
            ),
        )
        await h.wait(lambda: h.deltas, "deltas")
        await advance(h, fake_tws, 3)
        [request] = journal(fake_tws, "reqMktDepth")
        assert (request.numRows, request.isSmartDepth) == (5, False)
        deltas = [d for batch in h.deltas for d in batch.deltas]
        assert {d.action for d in deltas} >= {BookAction.ADD}
        assert all(isinstance(batch, OrderBookDeltas) for batch in h.deltas)
        assert all(batch.deltas[-1].flags & 128 for batch in h.deltas)  # F_LAST closes each

        h.client.subscribe_order_book_deltas(
            h.command(
                SubscribeOrderBook,
                instrument_id=MSFT,
                book_data_type=OrderBookDelta,
                book_type=BookType.L3_MBO,
                depth=5,
            ),
        )
        await advance(h, fake_tws, 1)
        assert len(journal(fake_tws, "reqMktDepth")) == 1


# -- requests ---------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_requests_for_bars_quotes_trades_and_instruments(fake_tws):
    fake_tws.advance(600)  # 15:10: ten minutes of history
    async with DataHarness(fake_tws.port) as h:
        end = pd.Timestamp(START + dt.timedelta(minutes=10))
        bar_type = BarType.from_str("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL")
        h.client.request_bars(
            h.request(
                RequestBars,
                bar_type=bar_type,
                start=pd.Timestamp(START),
                end=end,
                limit=0,
            ),
        )
        await h.wait(lambda: h.responses, "the bars")
        bars = h.responses[-1].data
        assert [b.ts_event for b in bars] == [START_NS + i * 60 * SECOND for i in range(11)][
            : len(bars)
        ]
        assert len(bars) >= 10

        h.client.request_quote_ticks(
            h.request(RequestQuoteTicks, instrument_id=AAPL, start=None, end=end, limit=50),
        )
        await h.wait(lambda: len(h.responses) == 2, "the quotes")
        quotes = h.responses[-1].data
        assert 0 < len(quotes) <= 50
        assert [q.ts_event for q in quotes] == sorted(q.ts_event for q in quotes)

        h.client.request_trade_ticks(
            h.request(
                RequestTradeTicks,
                instrument_id=AAPL,
                start=pd.Timestamp(START + dt.timedelta(minutes=9)),
                end=end,
                limit=0,
            ),
        )
        await h.wait(lambda: len(h.responses) == 3, "the trades")
        trades = h.responses[-1].data
        assert trades and all(t.ts_event >= START_NS + 540 * SECOND for t in trades)
        assert len({t.trade_id for t in trades}) == len(trades)

        h.client.request_instruments(h.request(RequestInstruments, start=None, end=None))
        await h.wait(lambda: len(h.responses) == 4, "the instruments")
        assert {i.id for i in h.responses[-1].data} == {AAPL, MSFT}

        h.client.request_instruments(
            h.request(
                RequestInstruments,
                start=None,
                end=None,
                venue=Venue("NASDAQ"),
                params={
                    "ib_contracts": [
                        {
                            "secType": "STK",
                            "symbol": "AAPL",
                            "exchange": "SMART",
                            "primaryExchange": "NASDAQ",
                            "currency": "USD",
                        }
                    ]
                },
            ),
        )
        await h.wait(lambda: len(h.responses) == 5, "the instruments of the contracts")
        assert [i.id for i in h.responses[-1].data] == [AAPL]
