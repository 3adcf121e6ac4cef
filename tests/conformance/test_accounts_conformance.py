"""Accounts, positions and P&L with real clients over TCP: ibapi 10.30.1 (EClient and
its reader thread) and ib_async 2.1.0 (asyncio, including its connect-time sync).

Every server starts at START with 1,000,000 USD and 100 AAPL bought at 180 (a start
position); fills are made on the world from the server's thread (as another client's
order would be), and time moves only by `clock.advance`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from ib_async import IB, StartupFetch
from ibapi.contract import Contract as IbapiContract
from ibapi.order import Order as IbapiOrder

from fake_tws.broker import AccountConfig, StartPosition, WorldConfig
from fake_tws.clock import VirtualClock
from fake_tws.handlers.accounts import REFRESH_SECONDS
from fake_tws.ibtypes import Contract, Order
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 6, 14, 0, tzinfo=UTC)  # a Monday, 10:00 New York
TIMEOUT = 5.0
ACCOUNT = "DU123456"
AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
MSFT = Contract(symbol="MSFT", secType="STK", exchange="SMART", currency="USD")
CASH = 1_000_000

RECORDED = (
    "updateAccountValue",
    "updatePortfolio",
    "updateAccountTime",
    "accountDownloadEnd",
    "accountSummary",
    "accountSummaryEnd",
    "position",
    "positionEnd",
    "positionMulti",
    "positionMultiEnd",
    "accountUpdateMulti",
    "accountUpdateMultiEnd",
    "pnl",
    "pnlSingle",
)


class Recorder(IbapiClient):
    """IbapiClient that also records the accounts family's callbacks."""


def _recorder(name: str):
    def record(self: Recorder, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name in RECORDED:
    setattr(Recorder, _name, _recorder(_name))


class Server:
    """A ServerThread with a virtual clock, and a hand on its world."""

    def __init__(self, thread: ServerThread, clock: VirtualClock) -> None:
        self.thread = thread
        self.clock = clock
        self.port = thread.port
        self.world = thread.server.gateway.world

    def call(self, fn, *args):
        """Call into the world from the server's own thread."""
        return self.thread.run_sync(fn, *args)

    def buy(self, contract: Contract, quantity: int, order_id: int) -> None:
        order = Order(action="BUY", orderType="MKT", totalQuantity=Decimal(quantity))
        self.call(self.world.place_order, 99, order_id, contract, order)


@pytest.fixture
def server() -> Iterator[Server]:
    clock = VirtualClock(START)
    world = WorldConfig(
        accounts=(AccountConfig(account_id=ACCOUNT, positions=(StartPosition(AAPL, 100, 180.0),)),)
    )
    with ServerThread(clock=clock, accounts=(ACCOUNT,), world=world) as thread:
        yield Server(thread, clock)


@pytest.fixture
def ibapi(server):
    client = Recorder().open(server.port, 1)
    client.wait_for_bootstrap()
    yield client
    client.close()


def count(client: Recorder, name: str) -> int:
    return len(client.named(name))


# -- ibapi -------------------------------------------------------------------------------


@pytest.mark.conformance(client="ibapi", item="account_summary")
def test_ibapi_account_summary_agrees_with_the_world(ibapi, server):
    tags = "NetLiquidation,TotalCashValue,BuyingPower,AccountType,GrossPositionValue"
    ibapi.reqAccountSummary(1, "All", tags)
    ibapi.wait_for(lambda: ibapi.named("accountSummaryEnd"))
    rows = ibapi.named("accountSummary")
    assert [r[2] for r in rows] == sorted(tags.split(","))
    got = {tag: (value, currency) for _, account, tag, value, currency in rows}
    assert got["TotalCashValue"] == (f"{CASH:.2f}", "USD")
    assert got["AccountType"] == ("INDIVIDUAL", "")
    [aapl] = server.call(server.world.portfolio, ACCOUNT)
    assert float(got["GrossPositionValue"][0]) == aapl.market_value
    assert float(got["NetLiquidation"][0]) == CASH + aapl.market_value
    world = server.call(server.world.account_summary, "All", tags)
    assert {i.tag: i.value for i in world} == {t: v for t, (v, _) in got.items()}
    # IB's three-minute refresh: the summary again, with its End; then cancelled.
    server.clock.advance(REFRESH_SECONDS)
    ibapi.wait_for(lambda: count(ibapi, "accountSummaryEnd") == 2)
    assert count(ibapi, "accountSummary") == 2 * len(rows)
    ibapi.cancelAccountSummary(1)
    ibapi.reqCurrentTime()
    ibapi.wait_for(lambda: ibapi.named("currentTime"))
    server.clock.advance(REFRESH_SECONDS)
    ibapi.reqCurrentTime()
    ibapi.wait_for(lambda: count(ibapi, "currentTime") == 2)
    assert count(ibapi, "accountSummaryEnd") == 2


@pytest.mark.conformance(client="ibapi", item="positions")
def test_ibapi_positions_then_live_changes(ibapi, server):
    ibapi.reqPositions()
    ibapi.wait_for(lambda: ibapi.named("positionEnd"))
    [(account, contract, position, avg_cost)] = ibapi.named("position")
    assert (account, contract.conId, contract.symbol, position, avg_cost) == (
        ACCOUNT,
        265598,
        "AAPL",
        Decimal(100),
        180.0,
    )
    assert contract.exchange == "NASDAQ"  # the listing exchange, as a live Gateway reports
    server.buy(MSFT, 10, order_id=1)
    ibapi.wait_for(lambda: count(ibapi, "position") == 2)
    _, msft, quantity, _ = ibapi.named("position")[1]
    assert (msft.symbol, quantity) == ("MSFT", Decimal(10))
    ibapi.cancelPositions()
    ibapi.reqPositionsMulti(2, ACCOUNT, "")
    ibapi.wait_for(lambda: ibapi.named("positionMultiEnd"))
    assert sorted(r[3].symbol for r in ibapi.named("positionMulti")) == ["AAPL", "MSFT"]
    assert count(ibapi, "position") == 2  # cancelled: the multi rows were the only answer


def test_ibapi_account_updates_download_and_a_fill(ibapi, server):
    ibapi.reqAccountUpdates(True, ACCOUNT)
    ibapi.wait_for(lambda: ibapi.named("accountDownloadEnd"))
    names = [n for n, _ in ibapi.calls if n in RECORDED]
    assert names[-3:] == ["updatePortfolio", "updateAccountTime", "accountDownloadEnd"]
    values = {(k, c): v for k, v, c, a in ibapi.named("updateAccountValue")}
    assert values[("CashBalance", "USD")] == f"{CASH:.2f}"
    assert ibapi.named("updateAccountTime") == [("14:00",)]
    [(contract, position, _price, value, avg, unrealized, _realized, account)] = ibapi.named(
        "updatePortfolio"
    )
    assert (contract.conId, contract.primaryExchange, position, avg) == (
        265598,
        "NASDAQ",
        Decimal(100),
        180.0,
    )
    assert unrealized == round(value - 100 * 180.0, 2) and account == ACCOUNT
    server.buy(AAPL, 10, order_id=1)
    ibapi.wait_for(lambda: count(ibapi, "updatePortfolio") == 2)
    assert ibapi.named("updatePortfolio")[1][1] == Decimal(110)
    ibapi.wait_for(lambda: count(ibapi, "updateAccountTime") == 2)
    cash = [
        v for k, v, c, a in ibapi.named("updateAccountValue") if (k, c) == ("CashBalance", "USD")
    ]
    world = server.call(server.world.account_values, ACCOUNT)
    assert cash[-1] == next(v.value for v in world if (v.key, v.currency) == ("CashBalance", "USD"))
    assert float(cash[-1]) < CASH


def test_ibapi_pnl_and_pnl_single_now_and_when_prices_move(ibapi, server):
    ibapi.reqPnL(3, ACCOUNT, "")
    ibapi.reqPnLSingle(4, ACCOUNT, "", 265598)
    ibapi.wait_for(lambda: ibapi.named("pnl") and ibapi.named("pnlSingle"))
    [(req_id, daily, unrealized, realized)] = ibapi.named("pnl")
    [aapl] = server.call(server.world.portfolio, ACCOUNT)
    assert (req_id, daily, realized) == (3, 0.0, 0.0)  # the day started at START
    assert unrealized == aapl.unrealized_pnl
    [(req_id, pos, daily, unrealized, realized, value)] = ibapi.named("pnlSingle")
    assert (req_id, pos, value) == (4, Decimal(100), aapl.market_value)
    server.clock.advance(60)  # AAPL moves; both streams notice on the clock step
    ibapi.wait_for(lambda: count(ibapi, "pnl") == 2 and count(ibapi, "pnlSingle") == 2)
    now = server.call(server.world.pnl, ACCOUNT)
    assert ibapi.named("pnl")[1] == (3, now.daily_pnl, now.unrealized_pnl, now.realized_pnl)
    assert ibapi.named("pnl")[1][1] != 0.0
    ibapi.cancelPnL(3)
    ibapi.cancelPnLSingle(4)


def test_ibapi_account_updates_multi(ibapi, server):
    ibapi.reqAccountUpdatesMulti(5, ACCOUNT, "", False)
    ibapi.wait_for(lambda: ibapi.named("accountUpdateMultiEnd"))
    rows = {(r[3], r[5]): r[4] for r in ibapi.named("accountUpdateMulti")}
    world = server.call(server.world.account_values, ACCOUNT)
    assert rows == {(v.key, v.currency): v.value for v in world}
    ibapi.cancelAccountUpdatesMulti(5)


# -- ib_async ------------------------------------------------------------------------------

ACCOUNT_SYNC = StartupFetch.POSITIONS | StartupFetch.ACCOUNT_UPDATES
ACCOUNT_SYNC |= StartupFetch.SUB_ACCOUNT_UPDATES


async def connect(server: Server) -> IB:
    """ib_async's connect with its account sync (positions, account updates for the one
    account, account updates multi); raiseSyncErrors makes any timeout fail here."""
    ib = IB()
    await ib.connectAsync(
        "127.0.0.1",
        server.port,
        clientId=2,
        timeout=TIMEOUT,
        readonly=True,
        fetchFields=ACCOUNT_SYNC,
        raiseSyncErrors=True,
    )
    return ib


@pytest.mark.conformance(client="ib_async", item="positions")
@pytest.mark.conformance(client="ib_async", item="account_summary")
@pytest.mark.asyncio
async def test_ib_async_connect_syncs_positions_portfolio_and_account_values(server):
    ib = await connect(server)
    try:
        [position] = ib.positions()
        assert (position.account, position.contract.conId, position.position) == (
            ACCOUNT,
            265598,
            100,
        )
        assert position.avgCost == 180.0
        [item] = ib.portfolio()
        assert (item.contract.symbol, item.position, item.averageCost) == ("AAPL", 100, 180.0)
        values = {(v.tag, v.currency): v.value for v in ib.accountValues(ACCOUNT)}
        assert values[("TotalCashValue", "USD")] == f"{CASH:.2f}"
        assert float(values[("NetLiquidation", "USD")]) == CASH + item.marketValue
        summary = await asyncio.wait_for(ib.accountSummaryAsync(ACCOUNT), TIMEOUT)
        tags = {(v.tag, v.currency): v.value for v in summary}
        assert tags[("NetLiquidation", "USD")] == values[("NetLiquidation", "USD")]
        assert tags[("CashBalance", "BASE")] == f"{CASH:.2f}"  # $LEDGER:ALL rows
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ib_async", item="positions")
@pytest.mark.asyncio
async def test_ib_async_follows_fills_and_pnl(server):
    ib = await connect(server)
    try:
        pnl = ib.reqPnL(ACCOUNT)
        single = ib.reqPnLSingle(ACCOUNT, "", 265598)
        changed = asyncio.Event()
        ib.pnlEvent += lambda _: changed.set()
        await asyncio.wait_for(changed.wait(), TIMEOUT)
        assert pnl.unrealizedPnL == server.call(server.world.pnl, ACCOUNT).unrealized_pnl
        positions = asyncio.Event()
        ib.positionEvent += lambda p: p.contract.symbol == "MSFT" and positions.set()
        await asyncio.to_thread(server.buy, MSFT, 10, 1)
        await asyncio.wait_for(positions.wait(), TIMEOUT)
        assert {p.contract.symbol: p.position for p in ib.positions()} == {
            "AAPL": 100,
            "MSFT": 10,
        }
        portfolio_msft = asyncio.Event()
        if not any(i.contract.symbol == "MSFT" for i in ib.portfolio()):
            ib.updatePortfolioEvent += lambda i: (
                i.contract.symbol == "MSFT" and portfolio_msft.set()
            )
            await asyncio.wait_for(portfolio_msft.wait(), TIMEOUT)
        assert {i.contract.symbol for i in ib.portfolio()} == {"AAPL", "MSFT"}
        changed.clear()
        await asyncio.to_thread(server.clock.advance, 60)
        await asyncio.wait_for(changed.wait(), TIMEOUT)
        assert single.position == 100 and single.value == pytest.approx(
            server.call(server.world.pnl_single, ACCOUNT, 265598).value
        )
        ib.cancelPnL(ACCOUNT)
        ib.cancelPnLSingle(ACCOUNT, "", 265598)
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ibapi", item="positions")
def test_ibapi_own_fill_is_followed_by_a_position_priced_like_its_execution(ibapi, server):
    """A market order of this client: execDetails, orderStatus, commissionReport, then
    the position, whose average cost is the fill's price plus its commission."""
    for name in ("execDetails", "orderStatus", "commissionReport"):
        setattr(ibapi, name, lambda *args, _n=name: ibapi._record(_n, *args))
    ibapi.reqPositions()
    ibapi.wait_for(lambda: ibapi.named("positionEnd"))
    contract = IbapiContract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = (
        "MSFT",
        "STK",
        "SMART",
        "USD",
    )
    order = IbapiOrder()
    order.action, order.orderType, order.totalQuantity = "BUY", "MKT", Decimal(10)
    ibapi.placeOrder(1, contract, order)
    ibapi.wait_for(lambda: count(ibapi, "position") == 2)
    names = [n for n, _ in ibapi.calls if n in ("execDetails", "orderStatus", "position")]
    assert names[-3:] == ["execDetails", "orderStatus", "position"]  # fill, Filled, position
    [(_, _, execution)] = ibapi.named("execDetails")
    ibapi.wait_for(lambda: ibapi.named("commissionReport"))
    [(report,)] = ibapi.named("commissionReport")
    _, msft, quantity, avg_cost = ibapi.named("position")[-1]
    assert (msft.symbol, quantity) == ("MSFT", Decimal(10))
    expected = (float(execution.shares) * execution.price + report.commission) / 10
    assert avg_cost == pytest.approx(expected)
