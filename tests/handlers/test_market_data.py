"""Market data handlers without sockets: reqMktData streams and snapshots, market data
types and permissions, depth, tick-by-tick and real-time bars against the world."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest

from fake_tws.broker import World, WorldConfig
from fake_tws.broker.market import DELAY_SECONDS
from fake_tws.config import ServerConfig
from fake_tws.handlers import market_data as md
from fake_tws.handlers import ticks
from fake_tws.handlers.streams import BadDateTime, parse_ib_datetime
from fake_tws.protocol.responses import connection as rs_conn
from fake_tws.protocol.responses import historical as rs_hist
from fake_tws.protocol.responses import market_data as rs
from tests.handlers.market_harness import (
    SATURDAY_NIGHT,
    START,
    aapl,
    connected,
    contract,
    eur_gbp,
    names,
    of,
)

AAPL_ID = 265598

pytestmark = pytest.mark.trio


def errors(messages) -> list[tuple[int, int, str]]:
    return [(m.reqId, m.errorCode, m.errorString) for m in of(messages, rs_conn.Error)]


def ticks_of(messages) -> dict[int, object]:
    """The latest value of each tick type among tickPrice/tickSize/tickString/tickGeneric."""
    out: dict[int, object] = {}
    for m in messages:
        if isinstance(m, rs.TickPrice):
            out[m.tickType] = m.price
        elif isinstance(m, rs.TickSize):
            out[m.tickType] = m.size
        elif isinstance(m, rs.TickString | rs.TickGeneric):
            out[m.tickType] = m.value
    return out


# --- streams -------------------------------------------------------------------------------


async def test_a_stream_starts_with_its_type_and_parameters_then_the_worlds_quote():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        first = client.take()
        assert names(first[:2]) == ["MarketDataType", "TickReqParams"]
        assert first[0].marketDataType == 1
        assert (first[1].minTick, first[1].bboExchange, first[1].snapshotPermissions) == (
            0.01,
            "9c0001",
            3,
        )
        # TWS's order: the trade (time, price, size), halted, volume, the day's figures,
        # then bid and ask.
        kinds = [(type(m).__name__, m.tickType) for m in first[2:]]
        assert kinds == [
            ("TickString", 45),
            ("TickPrice", 4),
            ("TickSize", 5),
            ("TickGeneric", 49),
            ("TickSize", 8),
            ("TickPrice", 6),
            ("TickPrice", 7),
            ("TickPrice", 9),
            ("TickPrice", 14),
            ("TickPrice", 1),
            ("TickSize", 0),
            ("TickPrice", 2),
            ("TickSize", 3),
        ]
        quote = client.world.market.quote(AAPL_ID, START)
        values = ticks_of(first)
        assert (values[1], values[2], values[4]) == (quote.bid, quote.ask, quote.last)
        assert (values[0], values[3], values[8]) == (quote.bid_size, quote.ask_size, quote.volume)
        assert (values[6], values[7], values[9], values[14]) == (
            quote.high,
            quote.low,
            quote.close,
            quote.open,
        )
        assert values[45] == str(int(quote.last_time.timestamp()))
        bid = of(first, rs.TickPrice)[-2]
        assert bid.size == quote.bid_size and bid.attrib.canAutoExecute  # a stream's book


async def test_a_stream_sends_what_changed_as_the_clock_moves_and_stops_when_cancelled():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        client.take()
        await client.advance(1)
        one_second = client.take()
        # Quote sizes change every second; prices only when the tape prints.
        assert of(one_second, rs.TickSize)
        assert not of(one_second, rs_conn.MarketDataType) and not of(one_second, rs.TickReqParams)
        await client.advance(60)
        moved = client.take()
        now = START + timedelta(seconds=61)
        quote = client.world.market.quote(AAPL_ID, now)
        assert ticks_of(moved)[4] == quote.last  # the latest trade
        assert ticks_of(one_second + moved)[1] == quote.bid
        client.send(lambda c: c.cancelMktData(1))
        await client.advance(30)
        assert client.take() == []
        client.send(lambda c: c.cancelMktData(1))
        assert errors(client.take()) == [(1, 300, "Can't find EId with tickerId:1")]


async def test_a_big_jump_of_the_clock_is_one_bounded_batch():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "233", False, False, []))
        client.take()
        await client.jump(3 * 3600)
        batch = client.take()
        assert 0 < len(batch) <= 20 + md.PRINTS_PER_STEP
        rt = [m for m in of(batch, rs.TickString) if m.tickType == md.RT_VOLUME]
        assert rt, "the latest trades as RTVolume"
        quote = client.world.market.quote(AAPL_ID, START + timedelta(hours=3))
        assert rt[-1].value.split(";")[0] == str(quote.last)


async def test_a_duplicate_ticker_id_is_refused_and_an_unknown_contract_gets_200():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        client.take()
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        assert errors(client.take()) == [
            (1, 322, "Error processing request.-'bQ' : cause - Duplicate ticker id")
        ]
        client.send(lambda c: c.reqMktData(2, contract("ZZZZQQQ1"), "", False, False, []))
        assert errors(client.take()) == [
            (2, 200, "No security definition has been found for the request")
        ]


async def test_after_ib_drops_every_stream_a_client_may_resubscribe_with_the_same_id_at_once():
    # 1101: IB dropped the subscriptions; clients resubscribe on the spot, before the
    # cancelled stream tasks have run their cleanup.
    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        client.take()
        assert client.session.cancel_streams() == 1
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        assert errors(client.take()) == []
        await client.advance(1)
        assert of(client.take(), rs.TickSize), "the new stream ticks"


async def test_forex_has_bid_and_ask_but_no_trades():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(3, eur_gbp(), "", False, False, []))
        first = client.take()
        tick_types = {m.tickType for m in first if hasattr(m, "tickType")}
        assert {1, 2, 0, 3} <= tick_types
        assert not tick_types & {4, 5, 8, 45, 14}  # no last, volume, trade time or open
        quote = client.world.market.quote(12087807, START)
        assert (ticks_of(first)[1], ticks_of(first)[2]) == (quote.bid, quote.ask)
        assert 0.5 < quote.bid < quote.ask < 1.5


async def test_futures_stream_too():
    async with connected() as client:
        client.send(
            lambda c: c.reqMktData(
                4,
                contract("ES", "FUT", "CME", lastTradeDateOrContractMonth="202606"),
                "",
                False,
                False,
                [],
            )
        )
        first = client.take()
        assert not errors(first)
        assert first[1].minTick == 0.25 and first[1].bboExchange == ""
        values = ticks_of(first)
        assert values[1] % 0.25 == 0 and values[1] < values[2]


async def test_every_kind_of_instrument_has_a_two_sided_quote():
    async with connected() as client:
        catalog = client.world.catalog
        [params] = client.world.option_chain_params("AAPL")[:1]
        kinds = {
            "OPT": contract(
                "AAPL",
                "OPT",
                lastTradeDateOrContractMonth=params.expirations[2],
                strike=params.strikes[len(params.strikes) // 2],
                right="C",
                multiplier="100",
            ),
            "CRYPTO": contract("BTC", "CRYPTO", "PAXOS"),
            "CFD": contract("IBUS30", "CFD"),
            "CONTFUT": contract("ES", "CONTFUT", "CME"),
        }
        bond = next(i for i in catalog._by_con_id.values() if i.sec_type == "BOND")
        kinds["BOND"] = contract("", "BOND", conId=bond.con_id)
        for req_id, (kind, c) in enumerate(kinds.items(), start=70):
            client.send(lambda cl, r=req_id, k=c: cl.reqMktData(r, k, "", True, False, []))
            sent = client.take()
            assert not errors(sent), kind
            values = ticks_of(sent)
            assert 0 < values[1] < values[2], kind
            assert isinstance(sent[-1], rs.TickSnapshotEnd), kind


# --- snapshots -----------------------------------------------------------------------------


async def test_a_snapshot_is_one_batch_then_its_end_and_nothing_more():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(5, aapl(), "", True, False, []))
        snap = client.take()
        assert isinstance(snap[-1], rs.TickSnapshotEnd) and snap[-1].reqId == 5
        assert names(snap[:2]) == ["MarketDataType", "TickReqParams"]
        kinds = [(type(m).__name__, m.tickType) for m in snap if hasattr(m, "tickType")]
        assert len(kinds) == len(set(kinds)), "each tick once"
        assert not any(m.attrib.canAutoExecute for m in of(snap, rs.TickPrice))
        await client.advance(10)
        assert client.take() == []
        client.send(lambda c: c.cancelMktData(5))
        assert errors(client.take())[0][1] == 300
        client.send(lambda c: c.reqMktData(6, aapl(), "", False, True, []))  # regulatory
        assert isinstance(client.take()[-1], rs.TickSnapshotEnd)


async def test_snapshots_refuse_generic_ticks_and_bad_tick_lists_are_refused():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(7, aapl(), "233", True, False, []))
        assert errors(client.take()) == [
            (
                7,
                321,
                "Error validating request.-'bQ' : cause - Snapshot market data subscription "
                "is not applicable to generic ticks",
            )
        ]
        client.send(lambda c: c.reqMktData(8, aapl(), "233,999", False, False, []))
        [(req, code, text)] = errors(client.take())
        assert (req, code) == (8, 321)
        assert text.startswith(
            "Error validating request.-'bQ' : cause - Incorrect generic tick list of 233,999.  "
            "Legal ones for (STK) are: 100(Option Volume),101(Option Open Interest),"
        )


async def test_generic_ticks_the_world_can_answer():
    async with connected() as client:
        client.send(
            lambda c: c.reqMktData(
                9, aapl(), "165,221,233,236,293,294,295,318,411,595", False, False, []
            )
        )
        values = ticks_of(client.take())
        quote = client.world.market.quote(AAPL_ID, START)
        assert values[md.LOW_52W] <= values[md.LOW_13W] <= quote.low
        assert quote.high <= values[md.HIGH_13W] <= values[md.HIGH_52W]
        assert values[md.AVG_VOLUME] > 0 and values[md.RT_HIST_VOLATILITY] > 0
        assert quote.bid <= values[md.MARK_PRICE] <= quote.ask
        assert values[md.SHORTABLE] == 3.0 and values[md.SHORTABLE_SHARES] > 0
        day = client.world.market.current_bar(AAPL_ID, START, "1 day", "TRADES", True)
        assert values[md.TRADE_COUNT] == day.count and values[md.LAST_RTH_TRADE] == day.close
        assert values[md.TRADE_RATE] > 0 and values[63] <= values[64] <= values[65]
        price, size, ms, volume, _vwap, single = values[md.RT_VOLUME].split(";")
        last = client.world.market.last_print(AAPL_ID, START)
        assert (float(price), Decimal(size), int(ms)) == (last.price, last.size, last.time * 1000)
        assert Decimal(volume) == day.volume and single == "true"


async def test_mdoff_leaves_only_the_generic_ticks():
    async with connected() as client:
        client.send(lambda c: c.reqMktData(10, aapl(), "mdoff,236", False, False, []))
        tick_types = {m.tickType for m in client.take() if hasattr(m, "tickType")}
        assert tick_types == {md.SHORTABLE, md.SHORTABLE_SHARES}


# --- market data types and permissions --------------------------------------------------------


async def test_without_live_permission_a_live_request_is_refused():
    async with connected(no_live_data=("AAPL",)) as client:
        client.send(lambda c: c.reqMktData(11, aapl(), "", False, False, []))
        [(req, code, text)] = errors(client.take())
        assert (req, code) == (11, 10089)
        assert text.startswith("Requested market data requires additional subscription for API.")
        await client.advance(3)
        assert client.take() == []


async def test_delayed_data_is_fifteen_minutes_old_on_the_delayed_tick_types():
    async with connected(no_live_data=("STK",)) as client:
        client.send(lambda c: c.reqMarketDataType(3))
        client.send(lambda c: c.reqMktData(12, aapl(), "", False, False, []))
        first = client.take()
        assert errors(first) == [
            (12, 10167, "Requested market data is not subscribed. Displaying delayed market data.")
        ]
        assert isinstance(first[1], rs_conn.MarketDataType) and first[1].marketDataType == 3
        values = ticks_of(first)
        assert not set(values) & {1, 2, 4, 45}
        then = client.world.market.quote(AAPL_ID, START - timedelta(seconds=DELAY_SECONDS))
        assert (values[66], values[67], values[68], values[69]) == (
            then.bid,
            then.ask,
            then.last,
            then.bid_size,
        )
        assert values[88] == str(int(then.last_time.timestamp()))
        client.send(lambda c: c.reqMktData(13, eur_gbp(), "", False, False, []))
        assert of(client.take(), rs_conn.MarketDataType)[0].marketDataType == 1  # live for CASH


async def test_delayed_frozen_and_frozen_when_the_market_is_closed():
    async with connected(SATURDAY_NIGHT, around_the_clock=False, no_live_data=("AAPL",)) as client:
        client.send(lambda c: c.reqMarketDataType(4))
        client.send(lambda c: c.reqMktData(14, aapl(), "", False, False, []))
        first = client.take()
        assert of(first, rs_conn.MarketDataType)[0].marketDataType == 4
        friday_close = client.world.market.quote(AAPL_ID, SATURDAY_NIGHT)
        assert ticks_of(first)[66] == friday_close.bid
        await client.advance(5)
        assert client.take() == [], "a closed market stands still"
        client.send(lambda c: c.reqMarketDataType(2))
        client.send(lambda c: c.reqMktData(15, contract("MSFT"), "", False, False, []))
        assert of(client.take(), rs_conn.MarketDataType)[0].marketDataType == 2
        client.send(lambda c: c.reqMarketDataType(1))
        client.send(lambda c: c.reqMktData(16, contract("MSFT"), "", False, False, []))
        assert of(client.take(), rs_conn.MarketDataType)[0].marketDataType == 1


async def test_around_the_clock_quotes_move_on_a_saturday_night():
    async with connected(SATURDAY_NIGHT) as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        client.take()
        await client.advance(60)
        values = ticks_of(client.take())
        assert 4 in values, "trades print on a Saturday night"
    async with connected(SATURDAY_NIGHT, around_the_clock=False) as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        client.take()
        await client.advance(60)
        assert client.take() == []


# --- depth ---------------------------------------------------------------------------------


async def test_depth_inserts_its_rows_then_updates_them_and_is_limited_to_three():
    async with connected() as client:
        client.send(lambda c: c.reqMktDepth(20, aapl(), 5, False, []))
        rows = client.take()
        assert len(rows) == 10 and {m.operation for m in rows} == {0}
        asks = sorted((m.position, m.price) for m in rows if m.side == 0)
        bids = sorted((m.position, m.price) for m in rows if m.side == 1)
        quote = client.world.market.quote(AAPL_ID, START)
        assert asks[0][1] == quote.ask and bids[0][1] == quote.bid
        assert all(a[1] < b[1] for a, b in itertools.pairwise(asks))
        assert all(a[1] > b[1] for a, b in itertools.pairwise(bids))
        await client.advance(1)
        assert {m.operation for m in client.take()} == {1}
        client.send(lambda c: c.reqMktDepth(21, aapl(), 3, True, []))
        smart = client.take()
        assert all(isinstance(m, rs.UpdateMktDepthL2) and m.isSmartDepth for m in smart)
        assert {m.marketMaker for m in smart} <= {
            "NASDAQ",
            "ARCA",
            "NYSE",
            "IEX",
            "BATS",
            "EDGX",
            "DRCTEDGE",
            "MEMX",
        }
        client.send(lambda c: c.reqMktDepth(22, eur_gbp(), 1, False, []))
        client.send(lambda c: c.reqMktDepth(23, aapl(), 1, False, []))
        assert errors(client.take()) == [
            (23, 309, "Max number (3) of market depth requests has been reached")
        ]
        client.send(lambda c: c.cancelMktDepth(20, False))
        client.send(lambda c: c.cancelMktDepth(20, False))
        assert errors(client.take()) == [(20, 300, "Can't find EId with tickerId:20")]
        client.send(lambda c: c.cancelMktDepth(21, True))
        client.send(lambda c: c.cancelMktDepth(22, False))
        await client.advance(2)
        assert client.take() == []


async def test_depth_exchanges_and_smart_components():
    async with connected() as client:
        client.send(lambda c: c.reqMktDepthExchanges())
        [exchanges] = client.take()
        assert any(d.exchange == "ARCA" for d in exchanges.depthMktDataDescriptions)
        client.send(lambda c: c.reqSmartComponents(30, "9c0001"))
        [components] = client.take()
        bits = [c.bitNumber for c in components.smartComponentMap]
        assert bits == sorted(bits) and any(
            c.exchange == "NASDAQ" for c in components.smartComponentMap
        )
        client.send(lambda c: c.reqSmartComponents(31, "XYZ"))
        assert errors(client.take()) == [
            (
                31,
                321,
                "Error validating request.-'V' : cause - Invalid BBO exchange/security type code",
            )
        ]


# --- tick-by-tick ----------------------------------------------------------------------------


async def test_tick_by_tick_trades_are_the_worlds_prints_after_its_history():
    async with connected() as client:
        client.send(lambda c: c.reqTickByTickData(40, aapl(), "Last", 10, False))
        [history] = client.take()
        assert isinstance(history, rs_hist.HistoricalTicksLast) and history.done
        assert len(history.ticks) == 10 and history.ticks[-1].time <= START.timestamp()
        await client.advance(30)
        trades = client.take()
        assert trades and all(
            isinstance(m, rs.TickByTickAllLast) and m.tickType == 1 for m in trades
        )
        prints = client.world.market.prints(
            AAPL_ID, START + timedelta(seconds=1), START + timedelta(seconds=31)
        )
        assert [(m.time, m.price, m.size, m.exchange) for m in trades] == [
            (p.time, p.price, p.size, p.exchange) for p in prints
        ]
        client.send(lambda c: c.cancelTickByTickData(40))
        await client.advance(10)
        assert client.take() == []
        client.send(lambda c: c.cancelTickByTickData(40))
        assert errors(client.take())[0][1] == 300


async def test_tick_by_tick_bid_ask_and_midpoint_follow_the_quote():
    async with connected() as client:
        client.send(lambda c: c.reqTickByTickData(41, aapl(), "BidAsk", 0, False))
        client.send(lambda c: c.reqTickByTickData(42, aapl(), "MidPoint", 0, False))
        client.send(lambda c: c.reqTickByTickData(43, aapl(), "BidAsk", 0, True))
        assert client.take() == []
        await client.advance(20)
        sent = client.take()
        bid_ask = [m for m in of(sent, rs.TickByTickBidAsk) if m.reqId == 41]
        assert len(bid_ask) >= 15  # sizes change every second
        for m in bid_ask:
            quote = client.world.market.quote(AAPL_ID, m.time)
            assert (m.bidPrice, m.askPrice, m.bidSize, m.askSize) == (
                quote.bid,
                quote.ask,
                quote.bid_size,
                quote.ask_size,
            )
        prices_only = [m for m in of(sent, rs.TickByTickBidAsk) if m.reqId == 43]
        pairs = [(m.bidPrice, m.askPrice) for m in prices_only]
        assert len(pairs) < len(bid_ask) and all(a != b for a, b in itertools.pairwise(pairs))
        for m in of(sent, rs.TickByTickMidPoint):
            assert m.midPoint == pytest.approx(client.world.market.quote(AAPL_ID, m.time).midpoint)


async def test_tick_by_tick_refusals():
    async with connected(no_live_data=("MSFT",)) as client:
        client.send(lambda c: c.reqTickByTickData(44, eur_gbp(), "AllLast", 0, False))
        client.send(lambda c: c.reqTickByTickData(45, contract("MSFT"), "Last", 0, False))
        client.send(lambda c: c.reqTickByTickData(46, contract("MSFT"), "BidAsk", 0, False))
        assert errors(client.take()) == [
            (
                44,
                10189,
                "Failed to request tick-by-tick data.AllLast tick-by-tick requests are not "
                "supported for EUR.GBP.",
            ),
            (
                45,
                10189,
                "Failed to request tick-by-tick data.No market data permissions for ISLAND STK. "
                "Requested market data requires additional subscription for API. See link in "
                "'Market Data Connections' dialog for more details.",
            ),
            (
                46,
                10089,
                "Requested market data requires additional subscription for API. See link in "
                "'Market Data Connections' dialog for more details.",
            ),
        ]
        for req in range(47, 47 + ticks.MAX_TICK_BY_TICK + 1):
            client.send(lambda c, req=req: c.reqTickByTickData(req, aapl(), "MidPoint", 0, False))
        assert errors(client.take()) == [
            (50, 10190, "Max number of tick-by-tick requests has been reached.")
        ]


# --- real-time bars ---------------------------------------------------------------------------


async def test_real_time_bars_come_every_five_seconds_from_the_tape():
    async with connected(START + timedelta(seconds=2)) as client:
        client.send(lambda c: c.reqRealTimeBars(60, aapl(), 5, "TRADES", False, []))
        client.send(lambda c: c.reqRealTimeBars(61, aapl(), 5, "MIDPOINT", True, []))
        await client.advance(13)  # 15:00:15: the bars of :05 and of :10 have ended
        sent = client.take()
        trades = [m.bar for m in sent if m.reqId == 60]
        mids = [m.bar for m in sent if m.reqId == 61]
        start = int(START.timestamp())
        assert [b.time for b in trades] == [start + 5, start + 10]
        assert trades[0] == client.world.market.realtime_bar(AAPL_ID, start + 5, "TRADES")
        assert [b.time for b in mids] == [start + 5, start + 10] and mids[0].volume == -1
        client.send(lambda c: c.cancelRealTimeBars(60))
        await client.advance(10)
        assert {m.reqId for m in client.take()} == {61}


async def test_real_time_bars_refusals():
    async with connected(no_live_data=("MSFT",)) as client:
        client.send(lambda c: c.reqRealTimeBars(62, aapl(), 5, "BID_ASK", False, []))
        client.send(lambda c: c.reqRealTimeBars(63, contract("MSFT"), 5, "TRADES", False, []))
        client.send(lambda c: c.reqRealTimeBars(64, contract("MSFT"), 5, "MIDPOINT", False, []))
        client.send(lambda c: c.reqRealTimeBars(65, eur_gbp(), 5, "TRADES", False, []))
        found = errors(client.take())
        assert found[0] == (
            62,
            321,
            "Error validating request.-'bQ' : cause - What to show field is missing or incorrect.",
        )
        assert found[1][:2] == (63, 420)
        assert found[1][2].startswith(
            "Invalid Real-time Query:No market data permissions for ISLAND STK."
        )
        assert found[2][:2] == (64, 10089)
        assert found[3][:2] == (65, 420)


# --- request date-times -------------------------------------------------------------------------


async def test_request_date_times_as_ibapi_and_ib_async_write_them():
    zone = "UTC"
    eastern = parse_ib_datetime("20260415 11:00:00 US/Eastern", zone)
    assert eastern.moment.timestamp() == START.timestamp() and eastern.zone_given
    assert parse_ib_datetime("20260415-15:00:00", zone).moment.timestamp() == START.timestamp()
    assert parse_ib_datetime("20260415 15:00:00 UTC", zone).moment.timestamp() == START.timestamp()
    implied = parse_ib_datetime("20260415 17:00:00", "Europe/Berlin")
    assert implied.moment.timestamp() == START.timestamp() and not implied.zone_given
    assert parse_ib_datetime("20260415", zone).moment.hour == 23
    for bad in ("2026-04-15", "20260415 25:00:00", "20260415 10:00:00 Mars/Olympus", "x"):
        with pytest.raises(BadDateTime):
            parse_ib_datetime(bad, zone)


async def test_who_decides_whether_markets_trade_around_the_clock():
    assert ServerConfig().world_config().around_the_clock  # a server's default
    assert not ServerConfig(around_the_clock=False).world_config().around_the_clock
    accounts = ServerConfig().world_config().accounts
    assert ServerConfig(world=WorldConfig(accounts=accounts)).world_config().around_the_clock
    said = WorldConfig(accounts=accounts, around_the_clock=False)
    assert ServerConfig(world=said).world_config() is said  # a world that says, wins
    assert not World(lambda: START, WorldConfig()).catalog.instrument(
        AAPL_ID
    ).schedule.weekdays >= {5, 6}
