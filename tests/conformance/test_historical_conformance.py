"""Historical data with real clients over TCP: ibapi 10.30.1 and ib_async 2.1.0. Daily and
one-minute bars (TRADES and MIDPOINT), bars kept up to date (the last bar revised with
growing volume, then a new bar), head timestamps, historical ticks; cancels stop the flow.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from ib_async import IB, Stock
from ibapi.contract import Contract as IbapiContract

from fake_tws.clock import VirtualClock
from fake_tws.handlers.historical import UPDATE_SECONDS
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 15, 15, 0, 30, tzinfo=UTC)  # a Wednesday, 11:00:30 New York
TIMEOUT = 5.0
AAPL_ID = 265598

RECORDED = (
    "historicalData",
    "historicalDataEnd",
    "historicalDataUpdate",
    "headTimestamp",
    "historicalTicksLast",
    "historicalTicksBidAsk",
)


class Recorder(IbapiClient):
    """IbapiClient that also records the historical callbacks."""


def _recorder(name: str):
    def record(self: Recorder, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name in RECORDED:
    setattr(Recorder, _name, _recorder(_name))


class Server:
    def __init__(self, thread: ServerThread, clock: VirtualClock) -> None:
        self.thread = thread
        self.clock = clock
        self.port = thread.port
        self.world = thread.server.gateway.world

    def bars(self, *args):
        return self.thread.run_sync(self.world.market.bars, AAPL_ID, *args)


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


def aapl() -> IbapiContract:
    c = IbapiContract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def bars_of(client: Recorder, req_id: int) -> list:
    return [bar for r, bar in client.named("historicalData") if r == req_id]


def fence(client: Recorder) -> None:
    before = len(client.named("currentTime"))
    client.reqCurrentTime()
    client.wait_for(lambda: len(client.named("currentTime")) > before)


# -- ibapi -------------------------------------------------------------------------------


@pytest.mark.conformance(client="ibapi", item="historical_bars")
def test_ibapi_daily_and_minute_bars_trades_and_midpoint(ibapi, server):
    ibapi.reqHistoricalData(1, aapl(), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
    ibapi.reqHistoricalData(
        2, aapl(), "20260415 11:00:00 US/Eastern", "1 D", "1 min", "MIDPOINT", 1, 1, False, []
    )
    ibapi.reqHistoricalData(3, aapl(), "", "1800 S", "1 min", "TRADES", 0, 2, False, [])
    ibapi.wait_for(lambda: len(ibapi.named("historicalDataEnd")) == 3)
    daily = bars_of(ibapi, 1)
    world = server.bars(START, "1 M", "1 day", "TRADES", True)
    assert [(b.date, b.close, b.volume) for b in daily] == [
        (f"{w.trade_date:%Y%m%d}", w.close, w.volume) for w in world
    ]
    assert daily[-1].date == "20260415"
    minutes = bars_of(ibapi, 2)
    assert minutes[0].date == "20260415 09:30:00 US/Eastern"
    assert minutes[-1].date == "20260415 10:59:00 US/Eastern" and minutes[-1].volume == -1
    epoch = bars_of(ibapi, 3)
    assert int(epoch[-1].date) == int(START.timestamp()) - 30  # 11:00, the minute under way
    [(_, start, end)] = [e for e in ibapi.named("historicalDataEnd") if e[0] == 3]
    assert (start, end) == ("20260415 10:30:30 US/Eastern", "20260415 11:00:30 US/Eastern")


@pytest.mark.conformance(client="ibapi", item="revised_bars")
def test_ibapi_keep_up_to_date_revises_then_moves_on_and_cancel_stops_it(ibapi, server):
    ibapi.reqHistoricalData(4, aapl(), "", "600 S", "1 min", "TRADES", 0, 1, True, [])
    ibapi.wait_for(lambda: ibapi.named("historicalDataEnd"))
    last = bars_of(ibapi, 4)[-1]
    for _ in range(6):  # 11:00:30 -> 11:01:00
        server.clock.advance(UPDATE_SECONDS)
        fence(ibapi)
    ibapi.wait_for(
        lambda: any(
            b.date.startswith("20260415 11:01") for _, b in ibapi.named("historicalDataUpdate")
        )
    )
    updates = [b for _, b in ibapi.named("historicalDataUpdate")]
    revised = [b for b in updates if b.date == last.date]
    assert revised and updates[-1].date == "20260415 11:01:00 US/Eastern"
    volumes = [last.volume, *(b.volume for b in revised)]
    assert volumes == sorted(volumes) and volumes[-1] > volumes[0]
    assert {b.open for b in revised} == {last.open}
    final = server.bars(START + timedelta(seconds=30), "60 S", "1 min", "TRADES", False)[-1]
    assert (revised[-1].close, revised[-1].volume, revised[-1].barCount) == (
        final.close,
        final.volume,
        final.count,
    )
    ibapi.cancelHistoricalData(4)
    assert ibapi.wait_for_error(162)[2].endswith("API historical data query cancelled: 4")
    seen = len(updates)
    for _ in range(3):
        server.clock.advance(UPDATE_SECONDS)
        fence(ibapi)
    assert len(ibapi.named("historicalDataUpdate")) == seen
    ibapi.cancelHistoricalData(4)
    assert ibapi.wait_for_error(366) == (4, 366, "No historical data query found for ticker id:4")


@pytest.mark.conformance(client="ibapi", item="historical_ticks")
def test_ibapi_head_timestamp_and_historical_ticks(ibapi, server):
    ibapi.reqHeadTimeStamp(5, aapl(), "TRADES", 1, 1)
    ibapi.reqHistoricalTicks(
        6, aapl(), "20260415 10:00:00 US/Eastern", "", 100, "TRADES", 1, False, []
    )
    ibapi.reqHistoricalTicks(7, aapl(), "", "20260415-15:00:00", 20, "BID_ASK", 1, False, [])
    ibapi.wait_for(
        lambda: (
            ibapi.named("headTimestamp")
            and ibapi.named("historicalTicksLast")
            and ibapi.named("historicalTicksBidAsk")
        )
    )
    assert ibapi.named("headTimestamp") == [(5, "19801212-14:30:00")]
    [(req_id, trades, done)] = ibapi.named("historicalTicksLast")
    assert (req_id, len(trades), done) == (6, 100, True)
    first = int(datetime(2026, 4, 15, 14, 0, tzinfo=UTC).timestamp())
    prints = server.thread.run_sync(server.world.market.prints, AAPL_ID, first, first + 600)
    assert [(t.time, t.price, t.size) for t in trades] == [
        (p.time, p.price, p.size) for p in prints[:100]
    ]
    [(req_id, quotes, done)] = ibapi.named("historicalTicksBidAsk")
    assert (req_id, len(quotes), done) == (7, 20, True) and quotes[-1].time <= first + 3600


# -- ib_async ----------------------------------------------------------------------------


async def connect(server: Server) -> IB:
    ib = IB()
    await ib.client.connectAsync("127.0.0.1", server.port, 2, TIMEOUT)  # API only, no sync
    return ib


@pytest.mark.conformance(client="ib_async", item="historical_bars")
@pytest.mark.asyncio
async def test_ib_async_bars_trades_and_midpoint(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        daily = await ib.reqHistoricalDataAsync(
            aapl, "", "1 Y", "1 day", "TRADES", True, timeout=TIMEOUT
        )
        assert daily[-1].date == dt.date(2026, 4, 15) and len(daily) > 250
        world = server.bars(START, "1 Y", "1 day", "TRADES", True)
        assert [(b.close, b.volume) for b in daily] == [(w.close, float(w.volume)) for w in world]
        end = datetime(2026, 4, 14, 20, 0, tzinfo=UTC)
        minutes = await ib.reqHistoricalDataAsync(
            aapl, end, "1 D", "1 min", "MIDPOINT", True, timeout=TIMEOUT
        )
        assert len(minutes) == 390  # the regular hours of a day
        assert minutes[0].date == datetime(2026, 4, 14, 13, 30, tzinfo=UTC)
        assert minutes[0].date.tzinfo is not None and minutes[0].volume == -1
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ib_async", item="revised_bars")
@pytest.mark.asyncio
async def test_ib_async_keep_up_to_date_update_event(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        bars = await ib.reqHistoricalDataAsync(
            aapl, "", "900 S", "1 min", "TRADES", False, keepUpToDate=True, timeout=TIMEOUT
        )
        first_date, first_volume = bars[-1].date, bars[-1].volume
        events: list[tuple[bool, Any, float]] = []
        bars.updateEvent += lambda b, has_new: events.append((has_new, b[-1].date, b[-1].volume))
        for _ in range(7):  # 11:00:30 -> 11:01:05
            server.clock.advance(UPDATE_SECONDS)
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        deadline = asyncio.get_running_loop().time() + TIMEOUT
        while not any(new for new, _, _ in events):
            assert asyncio.get_running_loop().time() < deadline, events
            await asyncio.sleep(0.005)
        first_new = next(i for i, e in enumerate(events) if e[0])
        revisions = events[:first_new]
        assert revisions and all(not new and date == first_date for new, date, _ in revisions)
        volumes = [first_volume, *(v for _, _, v in revisions)]
        assert volumes == sorted(volumes) and volumes[-1] > first_volume
        new_bar = next(e for e in events if e[0])
        assert new_bar[1] == first_date + timedelta(minutes=1)
        assert bars[-2].date == first_date and bars[-1].date == new_bar[1]
        ib.cancelHistoricalData(bars)
        await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        seen = len(events)
        for _ in range(3):
            server.clock.advance(UPDATE_SECONDS)
            await asyncio.wait_for(ib.reqCurrentTimeAsync(), TIMEOUT)
        assert len(events) == seen
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ib_async", item="historical_ticks")
@pytest.mark.asyncio
async def test_ib_async_head_timestamp_and_historical_ticks(server):
    ib = await connect(server)
    try:
        aapl = Stock("AAPL", "SMART", "USD", conId=AAPL_ID)
        head = await asyncio.wait_for(ib.reqHeadTimeStampAsync(aapl, "TRADES", True, 2), TIMEOUT)
        assert head == datetime(1980, 12, 12, 14, 30, tzinfo=UTC)
        start = datetime(2026, 4, 15, 14, 0, tzinfo=UTC)
        ticks = await asyncio.wait_for(
            ib.reqHistoricalTicksAsync(aapl, start, "", 50, "TRADES", True), TIMEOUT
        )
        assert len(ticks) == 50 and ticks[0].time >= start
        quotes = await asyncio.wait_for(
            ib.reqHistoricalTicksAsync(aapl, "", start, 30, "MIDPOINT", True), TIMEOUT
        )
        assert len(quotes) == 30 and quotes[-1].time <= start
    finally:
        ib.disconnect()
