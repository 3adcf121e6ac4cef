"""Market data streams, snapshots and paced historical requests against fake-tws."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from ibapi.common import HistoricalTickLast

from adapter.client import (
    BarUpdate,
    DepthUpdate,
    HistoricalBarsEnd,
    IBConnectionError,
    IBNoPermissions,
    IBNoSecurityDefinition,
    IBPacingViolation,
    IBRequestError,
    IBRequestTimeout,
    MarketDataTypeChanged,
)
from adapter.client import TickGeneric as TickGenericEvent
from adapter.client import TickPrice as TickPriceEvent
from adapter.client import TickSize as TickSizeEvent
from adapter.client import TickString as TickStringEvent
from adapter.client.market_data import ib_datetime, is_small_bar
from adapter.client.pacing import HistoricalPacer
from adapter.common import IBContract
from fake_tws.ibtypes import BarData, HistoricalTickBidAsk, RealTimeBar
from fake_tws.protocol.requests.historical import (
    CancelHistoricalData,
    ReqHistoricalData,
    ReqHistoricalTicks,
)
from fake_tws.protocol.requests.market_data import (
    CancelMktData,
    CancelMktDepth,
    CancelRealTimeBars,
    CancelTickByTickData,
    ReqMktData,
    ReqMktDepth,
    ReqRealTimeBars,
    ReqTickByTickData,
)
from fake_tws.protocol.responses.connection import MarketDataType
from fake_tws.protocol.responses.historical import (
    HistoricalData,
    HistoricalDataUpdate,
    HistoricalTicksBidAsk,
)
from fake_tws.protocol.responses.market_data import (
    RealtimeBar,
    TickByTickAllLast,
    TickByTickBidAsk,
    TickGeneric,
    TickPrice,
    TickSize,
    TickSnapshotEnd,
    TickString,
    UpdateMktDepthL2,
)
from tests.adapter.client.support import Events

AAPL = IBContract(secType="STK", conId=265598, symbol="AAPL", exchange="SMART", currency="USD")
NOT_SUBSCRIBED = "Requested market data is not subscribed. Displaying delayed market data."
PACING = "Historical Market Data Service error message:Historical data request pacing violation"


async def subscribed(gateway, request_type, count: int = 1):
    return (await gateway.requests_of(request_type, count))[-1]


class VirtualTime:
    """A clock for the client's historical pacer; its sleeps only move the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.asyncio
async def test_market_data_ticks_reach_the_handler_until_unsubscribed(connect, gateway):
    gateway.record(ReqMktData, CancelMktData)
    client = await connect()
    events = Events()

    subscription = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, "233", handler=events)
    again = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, "233", handler=Events())
    request = await subscribed(gateway, ReqMktData)
    assert again is subscription
    assert (request.reqId, request.contract.conId, request.genericTickList) == (
        subscription.req_id,
        265598,
        "233",
    )
    assert request.snapshot is False

    rid = subscription.req_id
    gateway.push(
        MarketDataType(reqId=rid, marketDataType=3),
        TickPrice(reqId=rid, tickType=1, price=189.5),
        TickSize(reqId=rid, tickType=0, size=Decimal(300)),
        TickString(reqId=rid, tickType=45, value="1700000000"),
        TickGeneric(reqId=rid, tickType=49, value=0.0),
    )
    received = await events.wait(5)
    assert received[0] == MarketDataTypeChanged(3)
    assert isinstance(received[1], TickPriceEvent)
    assert (received[1].tick_type, received[1].price) == (1, 189.5)
    assert received[2] == TickSizeEvent(0, Decimal(300))
    assert received[3] == TickStringEvent(45, "1700000000")
    assert received[4] == TickGenericEvent(49, 0.0)

    await client.unsubscribe_market_data("AAPL.NASDAQ")
    [cancel] = await gateway.requests_of(CancelMktData)
    assert cancel.reqId == rid
    gateway.push(TickPrice(reqId=rid, tickType=2, price=190.0))
    await client.get_server_time()  # a barrier: the tick before it has been processed
    assert len(events.items) == 5


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("code", "text", "exception"),
    [
        (354, "Requested market data is not subscribed.", IBNoPermissions),
        (10089, "Requested market data requires additional subscription for API.", IBNoPermissions),
        (200, "No security definition has been found for the request", IBNoSecurityDefinition),
    ],
)
async def test_an_error_ends_the_subscription(connect, gateway, code, text, exception):
    gateway.on(ReqMktData)(lambda s, r: s.error(r.reqId, code, text))
    client = await connect()
    errors = Events()
    subscription = await client.subscribe_market_data(
        "AAPL.NASDAQ",
        AAPL,
        handler=Events(),
        on_error=errors,
    )
    [error] = await errors.wait()
    assert type(error) is exception
    assert (error.code, error.message, error.req_id) == (code, text, subscription.req_id)
    assert client._subscriptions.get(subscription.req_id) is None
    # A new subscription to it is a new request, not the dead one.
    again = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=Events())
    assert again is not subscription


@pytest.mark.asyncio
async def test_partial_permissions_keep_the_subscription(connect, gateway):
    @gateway.on(ReqMktData)
    def partly(session, request) -> None:
        session.error(request.reqId, 10090, "Part of requested market data is not subscribed.")
        session.error(request.reqId, 10167, NOT_SUBSCRIBED)
        session.send(TickPrice(reqId=request.reqId, tickType=66, price=189.0))

    client = await connect()
    events, errors = Events(), Events()
    subscription = await client.subscribe_market_data(
        "AAPL.NASDAQ",
        AAPL,
        handler=events,
        on_error=errors,
    )
    [tick] = await events.wait()
    assert (tick.tick_type, tick.price) == (66, 189.0)
    assert errors.items == []
    assert client._subscriptions.get(subscription.req_id) is subscription


@pytest.mark.asyncio
async def test_snapshot_collects_ticks_until_the_end(connect, gateway):
    @gateway.on(ReqMktData)
    def answer_snapshot(session, request) -> None:
        assert request.snapshot is True
        session.error(request.reqId, 10167, NOT_SUBSCRIBED)  # a warning: the snapshot goes on
        session.send(MarketDataType(reqId=request.reqId, marketDataType=3))
        session.send(TickPrice(reqId=request.reqId, tickType=66, price=189.0))
        session.send(TickPrice(reqId=request.reqId, tickType=67, price=189.2))
        session.send(TickPrice(reqId=request.reqId, tickType=4, price=-1.0))
        session.send(TickSize(reqId=request.reqId, tickType=69, size=Decimal(100)))
        session.send(TickSnapshotEnd(reqId=request.reqId))

    client = await connect()
    snapshot = await client.get_snapshot(AAPL)
    assert (snapshot.bid, snapshot.ask, snapshot.last) == (189.0, 189.2, None)
    assert snapshot.sizes == {69: Decimal(100)}
    assert snapshot.market_data_type == 3


@pytest.mark.asyncio
async def test_snapshot_without_permission_raises(connect, gateway):
    gateway.on(ReqMktData)(
        lambda s, r: s.error(r.reqId, 354, "Requested market data is not subscribed.")
    )
    client = await connect()
    with pytest.raises(IBNoPermissions, match="354"):
        await client.get_snapshot(AAPL)


@pytest.mark.asyncio
async def test_tick_by_tick_data_comes_as_ibapi_historical_tick_types(connect, gateway):
    gateway.record(ReqTickByTickData, CancelTickByTickData)
    client = await connect()
    quotes, trades = Events(), Events()
    q = await client.subscribe_ticks("AAPL.NASDAQ", AAPL, "BidAsk", True, handler=quotes)
    t = await client.subscribe_ticks("AAPL.NASDAQ", AAPL, "AllLast", handler=trades)
    requests = await gateway.requests_of(ReqTickByTickData, 2)
    assert [(r.tickType, r.ignoreSize) for r in requests] == [("BidAsk", True), ("AllLast", False)]

    gateway.push(
        TickByTickBidAsk(
            reqId=q.req_id,
            time=1_700_000_000,
            bidPrice=1.0,
            askPrice=1.1,
            bidSize=Decimal(5),
            askSize=Decimal(6),
        ),
        TickByTickAllLast(
            reqId=t.req_id,
            tickType=2,
            time=1_700_000_001,
            price=1.05,
            size=Decimal(7),
            exchange="ISLAND",
        ),
    )
    [quote] = await quotes.wait()
    [trade] = await trades.wait()
    assert (quote.time, quote.priceBid, quote.priceAsk, quote.sizeBid, quote.sizeAsk) == (
        1_700_000_000,
        1.0,
        1.1,
        Decimal(5),
        Decimal(6),
    )
    assert isinstance(trade, HistoricalTickLast)
    assert (trade.price, trade.size, trade.exchange) == (1.05, Decimal(7), "ISLAND")

    await client.unsubscribe_ticks("AAPL.NASDAQ", "BidAsk")
    [cancel] = await gateway.requests_of(CancelTickByTickData)
    assert cancel.reqId == q.req_id


@pytest.mark.asyncio
async def test_order_book_depth(connect, gateway):
    gateway.record(ReqMktDepth, CancelMktDepth)
    client = await connect()
    book = Events()
    subscription = await client.subscribe_order_book("AAPL.NASDAQ", AAPL, 10, handler=book)
    request = await subscribed(gateway, ReqMktDepth)
    assert (request.numRows, request.isSmartDepth) == (10, True)

    gateway.push(
        UpdateMktDepthL2(
            reqId=subscription.req_id,
            position=0,
            marketMaker="ARCA",
            operation=0,
            side=1,
            price=189.0,
            size=Decimal(200),
            isSmartDepth=True,
        ),
    )
    [update] = await book.wait()
    assert update == DepthUpdate(0, 0, 1, 189.0, Decimal(200), "ARCA", True)

    await client.unsubscribe_order_book("AAPL.NASDAQ")
    [cancel] = await gateway.requests_of(CancelMktDepth)
    assert (cancel.reqId, cancel.isSmartDepth) == (subscription.req_id, True)


@pytest.mark.asyncio
async def test_realtime_bars(connect, gateway):
    gateway.record(ReqRealTimeBars, CancelRealTimeBars)
    client = await connect()
    bars = Events()
    subscription = await client.subscribe_realtime_bars(
        "AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL",
        AAPL,
        True,
        what_to_show="TRADES",
        handler=bars,
    )
    request = await subscribed(gateway, ReqRealTimeBars)
    assert (request.barSize, request.whatToShow, request.useRTH) == (5, "TRADES", True)
    gateway.push(
        RealtimeBar(
            reqId=subscription.req_id,
            bar=RealTimeBar(
                time=1_700_000_000, open=1, high=2, low=0.5, close=1.5, volume=Decimal(10)
            ),
        ),
    )
    [bar] = await bars.wait()
    assert (bar.time, bar.open_, bar.high, bar.low, bar.close, bar.volume) == (
        1_700_000_000,
        1.0,
        2.0,
        0.5,
        1.5,
        Decimal(10),
    )
    await client.unsubscribe_realtime_bars("AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL")
    [cancel] = await gateway.requests_of(CancelRealTimeBars)
    assert cancel.reqId == subscription.req_id


def bars(*closes: float) -> tuple[BarData, ...]:
    return tuple(
        BarData(date=str(1_700_000_000 + 60 * i), open=c, high=c, low=c, close=c, volume=Decimal(1))
        for i, c in enumerate(closes)
    )


@pytest.mark.asyncio
async def test_historical_bars(connect, gateway):
    @gateway.on(ReqHistoricalData)
    def history(session, request) -> None:
        session.send(HistoricalData(reqId=request.reqId, bars=bars(1.0, 2.0, 3.0)))

    client = await connect()
    result = await client.get_historical_bars(
        AAPL,
        duration="1 D",
        bar_size="1 min",
        what_to_show="MIDPOINT",
        end_date_time=datetime(2026, 1, 2, 21, 0, tzinfo=UTC),
        use_rth=False,
    )
    assert [bar.close for bar in result] == [1.0, 2.0, 3.0]
    assert result[0].date == "1700000000"
    [request] = await gateway.requests_of(ReqHistoricalData)
    assert (request.endDateTime, request.durationStr, request.barSizeSetting) == (
        "20260102-21:00:00",
        "1 D",
        "1 min",
    )
    assert (request.whatToShow, request.useRTH, request.formatDate, request.keepUpToDate) == (
        "MIDPOINT",
        False,
        2,
        False,
    )


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "exception"),
    [
        (PACING, IBPacingViolation),
        (
            "Historical Market Data Service error message:HMDS query returned no data",
            IBRequestError,
        ),
    ],
)
async def test_historical_errors_162(connect, gateway, text, exception):
    gateway.on(ReqHistoricalData)(lambda s, r: s.error(r.reqId, 162, text))
    client = await connect()
    with pytest.raises(exception) as raised:
        await client.get_historical_bars(AAPL, duration="1 D", bar_size="1 min")
    assert type(raised.value) is exception and raised.value.code == 162


@pytest.mark.asyncio
async def test_historical_requests_are_paced_so_ib_never_sees_a_violation(connect, gateway):
    """The server refuses an identical request within 15 s, as TWS does (by the client's
    virtual clock, so nothing waits); the client's pacer never lets one through."""
    time = VirtualTime()
    last_seen: dict[tuple, float] = {}

    @gateway.on(ReqHistoricalData)
    def strict(session, request) -> None:
        key = (
            request.contract.conId,
            request.endDateTime,
            request.durationStr,
            request.barSizeSetting,
        )
        if key in last_seen and time.now - last_seen[key] < 15:
            session.error(request.reqId, 162, PACING)
            return
        last_seen[key] = time.now
        session.send(HistoricalData(reqId=request.reqId, bars=bars(1.0)))

    client = await connect()
    client._historical_pacer = HistoricalPacer(clock=time, sleep=time.sleep)
    for _ in range(3):
        await client.get_historical_bars(AAPL, duration="1800 S", bar_size="5 secs")
        time.now += 1
    assert time.slept == [14.0, 14.0]
    assert len(await gateway.requests_of(ReqHistoricalData)) == 3


@pytest.mark.asyncio
async def test_a_historical_request_that_times_out_is_cancelled_at_ib(connect, gateway):
    gateway.on(ReqHistoricalData)(lambda s, r: None)
    gateway.record(CancelHistoricalData)
    client = await connect()
    with pytest.raises(IBRequestTimeout):
        await client.get_historical_bars(AAPL, duration="1 D", bar_size="1 min", timeout=0.05)
    [request] = await gateway.requests_of(ReqHistoricalData)
    [cancel] = await gateway.requests_of(CancelHistoricalData)
    assert cancel.reqId == request.reqId


@pytest.mark.asyncio
async def test_historical_ticks(connect, gateway):
    @gateway.on(ReqHistoricalTicks)
    def ticks(session, request) -> None:
        tick = HistoricalTickBidAsk(
            time=1_700_000_000, priceBid=1.0, priceAsk=1.1, sizeBid=Decimal(1), sizeAsk=Decimal(2)
        )
        session.send(HistoricalTicksBidAsk(reqId=request.reqId, ticks=(tick, tick), done=True))

    client = await connect()
    result = await client.get_historical_ticks(
        AAPL,
        what_to_show="BID_ASK",
        start_date_time="20260102-14:30:00",
    )
    assert [(t.time, t.priceBid, t.priceAsk) for t in result] == [(1_700_000_000, 1.0, 1.1)] * 2
    [request] = await gateway.requests_of(ReqHistoricalTicks)
    assert (
        request.startDateTime,
        request.endDateTime,
        request.numberOfTicks,
        request.whatToShow,
    ) == (
        "20260102-14:30:00",
        "",
        1000,
        "BID_ASK",
    )


@pytest.mark.asyncio
async def test_historical_bars_kept_up_to_date(connect, gateway):
    gateway.record(ReqHistoricalData, CancelHistoricalData)
    client = await connect()
    updates = Events()
    subscription = await client.subscribe_historical_bars(
        "AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL",
        AAPL,
        True,
        bar_size="1 min",
        what_to_show="TRADES",
        duration="300 S",
        handler=updates,
    )
    request = await subscribed(gateway, ReqHistoricalData)
    assert (request.reqId, request.keepUpToDate, request.endDateTime) == (
        subscription.req_id,
        True,
        "",
    )
    gateway.push(
        HistoricalData(reqId=request.reqId, bars=bars(1.0, 2.0), start="s", end="e"),
        HistoricalDataUpdate(reqId=request.reqId, bar=bars(2.5)[0]),
    )
    received = await updates.wait(4)
    assert [type(e) for e in received] == [BarUpdate, BarUpdate, HistoricalBarsEnd, BarUpdate]
    assert [(e.bar.close, e.is_update) for e in received if isinstance(e, BarUpdate)] == [
        (1.0, False),
        (2.0, False),
        (2.5, True),
    ]
    assert received[2] == HistoricalBarsEnd("s", "e")
    await client.unsubscribe_historical_bars("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL")
    [cancel] = await gateway.requests_of(CancelHistoricalData)
    assert cancel.reqId == subscription.req_id


@pytest.mark.asyncio
async def test_streams_need_no_connection_to_be_registered(make_client, gateway):
    """A subscription made before connecting is sent once the client connects."""
    gateway.record(ReqMktData)
    gateway.start()
    client = make_client(gateway.port)
    subscription = await client.subscribe_market_data("AAPL.NASDAQ", AAPL, handler=Events())
    client.start()
    request = await subscribed(gateway, ReqMktData)
    assert request.reqId == subscription.req_id


@pytest.mark.asyncio
async def test_a_disconnect_mid_historical_request_fails_it(connect, gateway):
    gateway.on(ReqHistoricalData)(lambda session, request: session.close("HMDS restart"))
    client = await connect()
    with pytest.raises(IBConnectionError, match="lost"):
        await client.get_historical_bars(AAPL, duration="1 D", bar_size="1 day")


@pytest.mark.asyncio
async def test_a_historical_request_given_up_by_its_caller_is_cancelled_at_ib(connect, gateway):
    gateway.on(ReqHistoricalData)(lambda s, r: None)
    gateway.record(CancelHistoricalData)
    client = await connect()
    task = asyncio.ensure_future(client.get_historical_bars(AAPL, duration="1 D", bar_size="1 min"))
    [request] = await gateway.requests_of(ReqHistoricalData)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    [cancel] = await gateway.requests_of(CancelHistoricalData)
    assert cancel.reqId == request.reqId and not client._requests


@pytest.mark.parametrize(
    ("bar_size", "small"),
    [("1 secs", True), ("5 secs", True), ("30 secs", True), ("1 min", False), ("1 day", False)],
)
def test_small_bars_are_thirty_seconds_or_less(bar_size, small):
    assert is_small_bar(bar_size) is small


def test_ib_datetime_is_utc():
    assert ib_datetime(datetime(2026, 1, 2, 9, 30)) == "20260102-09:30:00"  # naive: UTC
    assert ib_datetime(datetime(2026, 1, 2, 9, 30, tzinfo=UTC)) == "20260102-09:30:00"
    assert ib_datetime("20260102 09:30:00 US/Eastern") == "20260102 09:30:00 US/Eastern"
