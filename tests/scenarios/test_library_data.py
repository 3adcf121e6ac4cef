"""scenarios/data/*: each shipped market data scenario against real clients over TCP."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ib_async import IB, Forex, StartupFetchNONE, Stock
from ibapi.contract import Contract as IbContract

from tests.scenarios.support import eventually, order, served, stock

TIMEOUT = 5.0
PACING_TEXT = (
    "Historical Market Data Service error message:Historical data request pacing violation"
)


def history(client, req_id: int, duration: str = "1 D", keep_up: bool = False) -> None:
    client.reqHistoricalData(
        req_id, stock("AAPL"), "", duration, "1 min", "TRADES", 1, 1, keep_up, []
    )


def test_historical_pacing_builtin():
    with served("data/historical_pacing") as run:
        client = run.ibapi(1)
        history(client, 1)
        client.wait_for(lambda: client.named("historicalDataEnd"))
        history(client, 2)  # the same request again, at once
        client.wait_for(lambda: 162 in client.codes())
        assert client.errors() == [(2, 162, PACING_TEXT)]
        run.advance(15)
        history(client, 3)
        client.wait_for(lambda: len(client.named("historicalDataEnd")) == 2)
        assert [a[0] for a in client.named("historicalDataEnd")] == [1, 3]


def test_historical_pacing_third_request():
    with served("data/historical_pacing_third_request") as run:
        client = run.ibapi(1)
        for req_id in (1, 2, 3, 4):
            history(client, req_id, duration=f"{req_id} D")
        client.wait_for(lambda: len(client.errors()) == 2)
        assert [e[:2] for e in client.errors()] == [(3, 162), (4, 162)]
        assert [a[0] for a in client.named("historicalDataEnd")] == [1, 2]


@pytest.mark.asyncio
async def test_historical_pacing_third_request_ib_async():
    with served("data/historical_pacing_third_request") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            contract = Stock("AAPL", "SMART", "USD")
            for days in (1, 2):
                bars = await ib.reqHistoricalDataAsync(
                    contract, "", f"{days} D", "1 hour", "TRADES", True, timeout=TIMEOUT
                )
                assert bars
            errors: list[int] = []
            ib.errorEvent += lambda req_id, code, text, c: errors.append(code)
            bars = await ib.reqHistoricalDataAsync(
                contract, "", "3 D", "1 hour", "TRADES", True, timeout=TIMEOUT
            )
            assert not bars
            assert errors == [162]
        finally:
            ib.disconnect()


def test_competing_session():
    with served("data/competing_session") as run:
        client = run.ibapi(1)
        client.reqMktData(9, stock("AAPL"), "", False, False, [])
        client.wait_for(lambda: client.errors())
        assert client.errors() == [(9, 10197, "No market data during competing live session")]
        client.reqCurrentTime()
        client.wait_for(lambda: client.named("currentTime"))
        assert client.named("tickPrice") == []


def test_delayed():
    with served("data/delayed") as run:
        client = run.ibapi(1)
        client.reqMktData(1, stock("AAPL"), "", False, False, [])
        client.wait_for(lambda: client.named("tickPrice"))
        assert client.codes()[0] == 10167
        assert client.named("marketDataType")[0] == (1, 3)
        delayed_ticks = {a[1] for a in client.named("tickPrice")}
        assert delayed_ticks & {66, 67, 68}  # delayed bid, ask, last
        client.reqMarketDataType(1)  # asking for live data: refused
        client.reqMktData(2, stock("AAPL"), "", False, False, [])
        client.wait_for(lambda: 10089 in client.codes())


@pytest.mark.asyncio
async def test_delayed_ib_async():
    with served("data/delayed") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            [contract] = await ib.qualifyContractsAsync(Stock("AAPL", "SMART", "USD"))
            ticker = ib.reqMktData(contract)
            await asyncio.wait_for(_until(lambda: ticker.marketDataType == 3), TIMEOUT)
            await asyncio.wait_for(_until(lambda: ticker.bid == ticker.bid), TIMEOUT)
            assert abs(ticker.bid - 150) < 0.05  # delayed ticks land in bid/ask too
        finally:
            ib.disconnect()


def test_delayed_frozen():
    with served("data/delayed_frozen") as run:
        client = run.ibapi(1)
        client.reqMktData(1, stock("AAPL"), "", False, False, [])
        client.wait_for(lambda: client.named("marketDataType"))
        assert client.codes()[0] == 10167
        assert client.named("marketDataType")[0] == (1, 4)


def test_price_jump_fills_a_resting_order_in_its_way():
    with served("data/price_jump") as run:
        client = run.ibapi(1)
        client.placeOrder(1, stock("AAPL"), order("SELL", 10, "LMT", lmtPrice=160.0))
        client.wait_status(1, "Submitted")
        run.advance(60)
        run.wait_fired("spike")  # AAPL is at 165 now
        assert client.statuses(1)[-1] == "Submitted"
        run.advance(1)  # the next print, at 165, reaches the limit
        client.wait_status(1, "Filled")
        [(_, _, execution)] = client.named("execDetails")
        assert execution.price >= 160.0


def test_forex_and_crypto_quotes_and_orders():
    with served("data/forex_and_crypto") as run:
        client = run.ibapi(1)
        eur = IbContract()
        eur.symbol, eur.secType, eur.currency, eur.exchange = "EUR", "CASH", "USD", "IDEALPRO"
        btc = IbContract()
        btc.symbol, btc.secType, btc.currency, btc.exchange = "BTC", "CRYPTO", "USD", "PAXOS"
        client.reqMktData(1, eur, "", False, False, [])
        client.reqMktData(2, btc, "", False, False, [])
        client.wait_for(
            lambda: {a[0] for a in client.named("tickPrice") if a[1] in (1, 2)} == {1, 2}
        )
        quotes = {(a[0], a[1]): a[2] for a in client.named("tickPrice")}
        assert abs(quotes[(1, 1)] - 1.085) < 0.001 and quotes[(1, 2)] > quotes[(1, 1)]
        assert abs(quotes[(2, 1)] - 97500) < 50
        client.placeOrder(5, btc, order("BUY", 0, "MKT", cashQty=1000.0, tif="IOC"))
        client.wait_status(5, "Filled")
        [(_, _, execution)] = client.named("execDetails")
        assert Decimal(0) < execution.shares < Decimal("0.011")


@pytest.mark.asyncio
async def test_forex_quote_ib_async():
    with served("data/forex_and_crypto") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            [contract] = await ib.qualifyContractsAsync(Forex("EURUSD"))
            ticker = ib.reqMktData(contract)
            await asyncio.wait_for(
                _until(lambda: ticker.bid == ticker.bid and ticker.bid > 0), TIMEOUT
            )
            assert abs(ticker.midpoint() - 1.085) < 0.001
        finally:
            ib.disconnect()


def test_revised_bars():
    with served("data/revised_bars") as run:
        client = run.ibapi(1)
        sleepers = run.clock.sleepers
        client.reqHistoricalData(3, stock("AAPL"), "", "600 S", "1 min", "TRADES", 1, 1, True, [])
        client.wait_for(lambda: client.named("historicalDataEnd"))
        [*_, forming] = [a[1] for a in client.named("historicalData")]
        updates = lambda: [a[1] for a in client.named("historicalDataUpdate")]  # noqa: E731
        for seconds, count in ((5, 1), (2, 2), (3, 3), (2, 4)):
            # t+5 the stream's update, t+7 a revision, t+10 the stream, t+12 a revision
            if seconds == 5:
                eventually(lambda: run.clock.sleepers >= sleepers + 1)  # the stream waits
            run.advance(seconds)
            client.wait_for(lambda count=count: len(updates()) >= count)
        first, revised, regular, again = updates()[:4]
        assert revised.date == first.date == forming.date  # the same bar, revised in place
        assert revised.volume == first.volume + 500
        assert regular.volume >= revised.volume  # later updates keep the added volume
        assert again.volume == regular.volume + 300
        assert again.close == pytest.approx(regular.close + 0.02)


def test_revised_bars_keep_their_revision_to_the_final_one():
    with served("data/revised_bars") as run:
        client = run.ibapi(1)
        sleepers = run.clock.sleepers
        client.reqHistoricalData(4, stock("AAPL"), "", "600 S", "1 min", "TRADES", 1, 1, True, [])
        client.wait_for(lambda: client.named("historicalDataEnd"))
        eventually(lambda: run.clock.sleepers >= sleepers + 1)  # the stream waits
        run.advance(12)
        client.wait_for(lambda: len(client.named("historicalDataUpdate")) >= 2)
        run.advance(53)  # into the next minute: the bar's final revision, then a new bar
        client.wait_for(lambda: len({a[1].date for a in client.named("historicalDataUpdate")}) >= 2)
        updates = [a[1] for a in client.named("historicalDataUpdate")]
        first_date = updates[0].date
        of_first = [u for u in updates if u.date == first_date]
        revised_volume = max(u.volume for u in of_first[:3])
        assert of_first[-1].volume >= revised_volume  # the final revision keeps the trades


async def _until(condition, step: float = 0.005) -> None:
    while not condition():
        await asyncio.sleep(step)
