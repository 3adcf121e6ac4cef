"""Market data with real clients over TCP: ibapi 10.30.1 (EClient and its reader thread)
and ib_async 2.1.0 (asyncio). Streams of a stock, a currency pair and a future, a
snapshot, delayed-frozen data, tick-by-tick and real-time bars; the clock moves only by
`clock.advance`, and cancels stop the flow.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ib_async import IB, Forex, Future, Stock
from ibapi.contract import Contract as IbapiContract

from fake_tws.clock import VirtualClock
from fake_tws.ibtypes import Contract
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York
SATURDAY_NIGHT = datetime(2026, 4, 18, 3, 0, tzinfo=UTC)
TIMEOUT = 5.0
AAPL_ID, EUR_GBP_ID = 265598, 12087807

RECORDED = (
    "tickPrice",
    "tickSize",
    "tickString",
    "tickGeneric",
    "tickReqParams",
    "marketDataType",
    "tickSnapshotEnd",
    "tickByTickAllLast",
    "tickByTickBidAsk",
    "tickByTickMidPoint",
    "realtimeBar",
    "historicalTicksLast",
)


class Recorder(IbapiClient):
    """IbapiClient that also records the market data callbacks."""


def _recorder(name: str):
    def record(self: Recorder, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name in RECORDED:
    setattr(Recorder, _name, _recorder(_name))


def ibapi_contract(
    symbol: str, sec_type: str = "STK", exchange: str = "SMART", currency: str = "USD", **kw: Any
) -> IbapiContract:
    c = IbapiContract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, sec_type, exchange, currency
    for name, value in kw.items():
        setattr(c, name, value)
    return c


class Server:
    def __init__(self, thread: ServerThread, clock: VirtualClock) -> None:
        self.thread = thread
        self.clock = clock
        self.port = thread.port
        self.world = thread.server.gateway.world

    def call(self, fn, *args):
        return self.thread.run_sync(fn, *args)

    def quote(self, con_id: int, at: datetime, data_type: int = 1):
        return self.call(self.world.market.quote, con_id, at, data_type)

    def es_con_id(self) -> int:
        found = self.call(
            self.world.catalog.resolve_one,
            Contract(
                symbol="ES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth="202606"
            ),
        )
        return found[0].con_id


@pytest.fixture
def server() -> Iterator[Server]:
    clock = VirtualClock(START)
    with ServerThread(clock=clock) as thread:
        yield Server(thread, clock)


@pytest.fixture
def ibapi(server):
    client = Recorder().open(server.port, 1)
    client.wait_for_bootstrap()
    yield client
    client.close()


def of(client: Recorder, name: str, req_id: int) -> list[tuple]:
    return [args for args in client.named(name) if args[0] == req_id]


def latest(client: Recorder, req_id: int, tick_type: int) -> Any:
    values = [
        a[2]
        for n in ("tickPrice", "tickSize", "tickString", "tickGeneric")
        for a in of(client, n, req_id)
        if a[1] == tick_type
    ]
    return values[-1] if values else None


def fence(client: Recorder) -> None:
    """Wait until the server has answered everything sent so far."""
    before = len(client.named("currentTime"))
    client.reqCurrentTime()
    client.wait_for(lambda: len(client.named("currentTime")) > before)


def advance(server: Server, client: Recorder, seconds: int) -> None:
    """Move the clock a second at a time, each step answered before the next."""
    for _ in range(seconds):
        server.clock.advance(1)
        fence(client)


# -- ibapi -------------------------------------------------------------------------------


@pytest.mark.conformance(client="ibapi", item="quotes")
def test_ibapi_streams_a_stock_a_currency_pair_and_a_future(ibapi, server):
    es = ibapi_contract("ES", "FUT", "CME", lastTradeDateOrContractMonth="202606")
    ibapi.reqMktData(1, ibapi_contract("AAPL"), "", False, False, [])
    ibapi.reqMktData(2, ibapi_contract("EUR", "CASH", "IDEALPRO", "GBP"), "", False, False, [])
    ibapi.reqMktData(3, es, "", False, False, [])
    ibapi.wait_for(lambda: all(latest(ibapi, r, 2) is not None for r in (1, 2, 3)))
    assert [of(ibapi, "marketDataType", r) for r in (1, 2, 3)] == [[(1, 1)], [(2, 1)], [(3, 1)]]
    assert of(ibapi, "tickReqParams", 1) == [(1, 0.01, "9c0001", 3)]
    quote = server.quote(AAPL_ID, START)
    assert (latest(ibapi, 1, 1), latest(ibapi, 1, 2), latest(ibapi, 1, 4)) == (
        quote.bid,
        quote.ask,
        quote.last,
    )
    assert latest(ibapi, 2, 4) is None and latest(ibapi, 2, 8) is None  # forex: no trades
    fx = server.quote(EUR_GBP_ID, START)
    assert (latest(ibapi, 2, 1), latest(ibapi, 2, 2)) == (fx.bid, fx.ask)
    assert latest(ibapi, 3, 1) == server.quote(server.es_con_id(), START).bid
    before = {r: len(ibapi.calls) for r in (1,)}
    advance(server, ibapi, 30)
    now = START + timedelta(seconds=30)
    ibapi.wait_for(lambda: latest(ibapi, 1, 4) == server.quote(AAPL_ID, now).last)
    assert len(ibapi.calls) > before[1]
    ibapi.wait_for(lambda: latest(ibapi, 2, 1) == server.quote(EUR_GBP_ID, now).bid)
    for req_id in (1, 2, 3):
        ibapi.cancelMktData(req_id)
    fence(ibapi)
    ticks_after_cancel = len(ibapi.calls)
    advance(server, ibapi, 10)
    assert [n for n, _ in ibapi.calls[ticks_after_cancel:]] == ["currentTime"] * 10


def test_ibapi_snapshot_then_nothing_and_a_cancel_after_it_is_unknown(ibapi, server):
    ibapi.reqMktData(4, ibapi_contract("AAPL"), "", True, False, [])
    ibapi.wait_for(lambda: ibapi.named("tickSnapshotEnd"))
    assert ibapi.named("tickSnapshotEnd") == [(4,)]
    quote = server.quote(AAPL_ID, START)
    assert (latest(ibapi, 4, 1), latest(ibapi, 4, 0)) == (quote.bid, quote.bid_size)
    count = len(of(ibapi, "tickPrice", 4))
    advance(server, ibapi, 3)
    assert len(of(ibapi, "tickPrice", 4)) == count
    ibapi.cancelMktData(4)
    assert ibapi.wait_for_error(300) == (4, 300, "Can't find EId with tickerId:4")


def test_ibapi_delayed_frozen_data_when_there_is_no_live_permission():
    clock = VirtualClock(SATURDAY_NIGHT)
    with ServerThread(clock=clock, around_the_clock=False, no_live_data=("AAPL",)) as thread:
        server = Server(thread, clock)
        client = Recorder().open(thread.port, 1)
        try:
            client.wait_for_bootstrap()
            client.reqMktData(5, ibapi_contract("AAPL"), "", False, False, [])
            assert client.wait_for_error(10089)[0] == 5
            client.reqMarketDataType(4)
            client.reqMktData(6, ibapi_contract("AAPL"), "", False, False, [])
            client.wait_for(lambda: latest(client, 6, 67) is not None)
            assert client.wait_for_error(10167)[0] == 6
            assert of(client, "marketDataType", 6) == [(6, 4)]
            quote = server.quote(AAPL_ID, SATURDAY_NIGHT, 4)
            assert (latest(client, 6, 66), latest(client, 6, 67), latest(client, 6, 68)) == (
                quote.bid,
                quote.ask,
                quote.last,
            )
            assert latest(client, 6, 1) is None
        finally:
            client.close()


def test_ibapi_tick_by_tick_and_real_time_bars(ibapi, server):
    aapl = ibapi_contract("AAPL")
    ibapi.reqTickByTickData(7, aapl, "Last", 5, False)
    ibapi.reqTickByTickData(8, aapl, "BidAsk", 0, False)
    ibapi.reqRealTimeBars(9, aapl, 5, "TRADES", False, [])
    fence(ibapi)  # all three requests handled at START
    [(req_id, history, done)] = ibapi.named("historicalTicksLast")
    assert (req_id, len(history), done) == (7, 5, True)
    advance(server, ibapi, 20)
    start = int(START.timestamp())
    ibapi.wait_for(lambda: len(ibapi.named("realtimeBar")) == 4)
    prints = server.call(server.world.market.prints, AAPL_ID, start + 1, start + 21)
    ibapi.wait_for(lambda: len(of(ibapi, "tickByTickAllLast", 7)) == len(prints))
    trades = of(ibapi, "tickByTickAllLast", 7)
    assert [(t[2], t[3], t[4]) for t in trades] == [(p.time, p.price, p.size) for p in prints]
    ibapi.wait_for(lambda: len(of(ibapi, "tickByTickBidAsk", 8)) >= 15)  # sizes move each second
    assert all(q[2] < q[3] for q in of(ibapi, "tickByTickBidAsk", 8))
    bars = ibapi.named("realtimeBar")
    assert [b[1] for b in bars] == [start, start + 5, start + 10, start + 15]  # each once ended
    bar = server.call(server.world.market.realtime_bar, AAPL_ID, start, "TRADES")
    assert bars[0][2:6] == (bar.open, bar.high, bar.low, bar.close) and bars[0][6] == bar.volume
    ibapi.cancelTickByTickData(7)
    ibapi.cancelTickByTickData(8)
    ibapi.cancelRealTimeBars(9)
    fence(ibapi)
    seen = len(ibapi.calls)
    advance(server, ibapi, 10)
    assert [n for n, _ in ibapi.calls[seen:]] == ["currentTime"] * 10


# -- ib_async ----------------------------------------------------------------------------


async def connect(server: Server) -> IB:
    ib = IB()
    await ib.client.connectAsync("127.0.0.1", server.port, 2, TIMEOUT)  # API only, no sync
    return ib


async def until(condition, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def step(server: Server, ib: IB, seconds: int) -> None:
    """Move the clock a second at a time, each step answered before the next."""
    for _ in range(seconds):
        server.clock.advance(1)
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)


@pytest.mark.conformance(client="ib_async", item="quotes")
@pytest.mark.asyncio
async def test_ib_async_tickers_move_with_the_clock_and_stop_when_cancelled(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        eur_gbp = Forex("EURGBP", conId=EUR_GBP_ID)
        es = Future("ES", "202606", "CME", conId=server.es_con_id())
        tickers = [ib.reqMktData(c) for c in (aapl, eur_gbp, es)]
        await until(lambda: all(t.bid == t.bid and t.ask == t.ask for t in tickers))
        stock, fx, _future = tickers
        quote = server.quote(AAPL_ID, START)
        assert (stock.bid, stock.ask, stock.last, stock.bidSize) == (
            quote.bid,
            quote.ask,
            quote.last,
            float(quote.bid_size),
        )
        assert stock.marketDataType == 1 and stock.minTick == 0.01
        assert fx.last != fx.last  # nan: forex has no trades
        updates = []
        stock.updateEvent += lambda t: updates.append(t.time)
        await step(server, ib, 20)
        await until(lambda: stock.last == server.quote(AAPL_ID, START + timedelta(seconds=20)).last)
        assert updates
        await until(lambda: fx.bid == server.quote(EUR_GBP_ID, START + timedelta(seconds=20)).bid)
        for contract in (aapl, eur_gbp, es):
            ib.cancelMktData(contract)
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        seen = len(updates)
        await step(server, ib, 5)
        assert len(updates) == seen
    finally:
        ib.disconnect()


@pytest.mark.asyncio
async def test_ib_async_reads_every_generic_tick_the_world_answers(server):
    ib = await connect(server)
    try:
        msft = Stock("MSFT", "SMART", "USD", conId=272093)
        ticker = ib.reqMktData(msft, "165,221,233,236,293,294,295,318,375,411,595")
        await until(
            lambda: (
                ticker.rtVolume == ticker.rtVolume
                and ticker.volumeRate10Min == ticker.volumeRate10Min
            )
        )
        assert ticker.low52week <= ticker.low <= ticker.high <= ticker.high52week
        assert ticker.avVolume > 0 and ticker.shortableShares > 0 and ticker.shortable == 3.0
        assert ticker.tradeCount > 0 and ticker.tradeRate > 0 and ticker.volumeRate > 0
        assert ticker.rtHistVolatility > 0 and ticker.lastRthTrade > 0 and ticker.vwap > 0
        assert ticker.bid <= ticker.markPrice <= ticker.ask
        assert ticker.rtTime is not None and ticker.rtTradeVolume > 0
    finally:
        ib.disconnect()


@pytest.mark.asyncio
async def test_ib_async_snapshot_and_delayed_frozen(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        [ticker] = await asyncio.wait_for(ib.reqTickersAsync(aapl), TIMEOUT)
        quote = server.quote(AAPL_ID, START)
        assert (ticker.bid, ticker.ask, ticker.close) == (quote.bid, quote.ask, quote.close)
    finally:
        ib.disconnect()
    clock = VirtualClock(SATURDAY_NIGHT)
    with ServerThread(clock=clock, around_the_clock=False, no_live_data=("STK",)) as thread:
        closed = Server(thread, clock)
        ib = await connect(closed)
        try:
            ib.reqMarketDataType(4)
            ticker = ib.reqMktData(Stock("AAPL", "SMART", "USD", conId=AAPL_ID))
            await until(lambda: ticker.bid == ticker.bid and ticker.last == ticker.last)
            quote = closed.quote(AAPL_ID, SATURDAY_NIGHT, 4)
            assert ticker.marketDataType == 4
            assert (ticker.bid, ticker.ask, ticker.last) == (quote.bid, quote.ask, quote.last)
        finally:
            ib.disconnect()


@pytest.mark.asyncio
async def test_ib_async_tick_by_tick_and_real_time_bars(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        ticker = ib.reqTickByTickData(aapl, "AllLast")
        trades = []  # a ticker's tickByTicks hold one update's ticks only
        ticker.updateEvent += lambda t: trades.extend(t.tickByTicks)
        bars = ib.reqRealTimeBars(aapl, 5, "MIDPOINT", False)
        new_bars = []
        bars.updateEvent += lambda b, has_new: new_bars.append(b[-1])
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)  # both handled at START
        await step(server, ib, 11)
        await until(lambda: len(new_bars) == 2)
        start = int(START.timestamp())
        assert [int(b.time.timestamp()) for b in new_bars] == [start, start + 5]
        expected = server.call(server.world.market.realtime_bar, AAPL_ID, start, "MIDPOINT")
        assert (new_bars[0].open_, new_bars[0].close) == (expected.open, expected.close)
        prints = server.call(server.world.market.prints, AAPL_ID, start + 1, start + 12)
        await until(lambda: len(trades) >= len(prints))
        assert [(t.price, t.size) for t in trades] == [(p.price, float(p.size)) for p in prints]
        ib.cancelTickByTickData(aapl, "AllLast")
        ib.cancelRealTimeBars(bars)
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        seen = (len(trades), len(new_bars))
        await step(server, ib, 10)
        assert (len(trades), len(new_bars)) == seen
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ibapi", item="quotes")
def test_ibapi_with_the_real_clock_quotes_move_within_a_second():
    """`fake-tws serve`'s defaults: the wall clock, and markets that trade at any hour."""
    with ServerThread() as thread:
        client = Recorder().open(thread.port, 1)
        try:
            client.wait_for_bootstrap()
            client.reqMktData(1, ibapi_contract("AAPL"), "", False, False, [])
            client.wait_for(lambda: of(client, "tickSize", 1))
            first = len(client.calls)
            client.wait_for(lambda: any(n == "tickSize" for n, _ in client.calls[first:]), 2.5)
        finally:
            client.close()
