"""The accounts family at the session level: typed requests in, typed messages out.

No sockets: sessions talk to a null link and what they were sent is read back (typed)
from the gateway's journal. Fills are made on the world directly (as another client's
order would), so these tests need no orders handlers. Streams that follow the clock run
in a trio nursery standing in for the connection's.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from fake_tws.broker import AccountConfig, StartPosition, WorldConfig
from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers import ALL_HANDLERS
from fake_tws.handlers import accounts as family
from fake_tws.ibtypes import Contract, Order
from fake_tws.journal import Direction
from fake_tws.protocol.requests import account as rq
from fake_tws.protocol.responses import account as rs
from fake_tws.server import NurseryTasks
from fake_tws.session import Gateway, Session
from tests.wire import greeting, start_api

START = datetime(2026, 4, 6, 14, 0, tzinfo=UTC)  # a Monday, 10:00 New York
ACCOUNT = "DU123456"
AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
MSFT = Contract(symbol="MSFT", secType="STK", exchange="SMART", currency="USD")


class NullLink:
    def send(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        pass


class Client:
    def __init__(self, gateway: Gateway, client_id: int = 1) -> None:
        self.gateway = gateway
        self.client_id = client_id
        self.session = Session(gateway, NullLink(), f"test:{client_id}")
        self.session.receive_data(greeting() + start_api(client_id))
        assert self.session.started
        self._seen = len(gateway.journal.entries)

    def ask(self, request: Any) -> list[Any]:
        handler = self.gateway.handlers.get(type(request))
        assert handler is not None, f"no handler for {type(request).__name__}"
        handler(self.session, request)
        return self.take()

    def take(self) -> list[Any]:
        entries = self.gateway.journal.entries
        out = [
            e.message
            for e in entries[self._seen :]
            if e.direction is Direction.SENT and e.client_id == self.client_id
        ]
        self._seen = len(entries)
        return out


def make_gateway(*accounts: AccountConfig, **config: Any) -> Gateway:
    accounts = accounts or (
        AccountConfig(account_id=ACCOUNT, positions=(StartPosition(AAPL, 100, 180.0),)),
    )
    world = WorldConfig(accounts=accounts)
    return Gateway(
        ServerConfig(
            clock=VirtualClock(START),
            accounts=tuple(a.account_id for a in accounts),
            world=world,
            **config,
        ),
        ALL_HANDLERS,
    )


@pytest.fixture
def gateway() -> Gateway:
    return make_gateway()


@pytest.fixture
def client(gateway) -> Client:
    return Client(gateway)


@asynccontextmanager
async def streaming(*clients: Client) -> AsyncIterator[None]:
    """Give the clients' sessions a task runner, as a server connection would."""
    async with trio.open_nursery() as nursery:
        for c in clients:
            c.session.tasks = NurseryTasks(nursery)
        yield
        nursery.cancel_scope.cancel()


async def step(clock: VirtualClock, seconds: float) -> None:
    """Move virtual time and let every stream react."""
    await trio.testing.wait_all_tasks_blocked()
    clock.advance(seconds)
    await trio.testing.wait_all_tasks_blocked()


def buy(gateway: Gateway, contract: Contract, quantity: int, order_id: int = 1) -> None:
    """A market order by another client (99), filled by the world at once."""
    order = Order(action="BUY", orderType="MKT", totalQuantity=Decimal(quantity))
    gateway.world.place_order(99, order_id, contract, order)


def of(messages: list[Any], kind: type) -> list[Any]:
    return [m for m in messages if isinstance(m, kind)]


def values(messages: list[Any]) -> dict[tuple[str, str], str]:
    return {(m.key, m.currency): m.val for m in of(messages, rs.UpdateAccountValue)}


# -- reqAccountUpdates ----------------------------------------------------------------


def test_account_updates_download_values_portfolio_time_then_end(client, gateway):
    out = client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode=ACCOUNT))
    kinds = [type(m) for m in out]
    first_portfolio = kinds.index(rs.UpdatePortfolio)
    assert set(kinds[:first_portfolio]) == {rs.UpdateAccountValue}
    assert kinds[first_portfolio:] == [
        rs.UpdatePortfolio,
        rs.UpdateAccountTime,
        rs.AccountDownloadEnd,
    ]
    assert out[-1] == rs.AccountDownloadEnd(accountName=ACCOUNT)
    assert out[-2] == rs.UpdateAccountTime(timeStamp="14:00")  # the gateway's zone: UTC
    world = gateway.world
    assert values(out) == {(v.key, v.currency): v.value for v in world.account_values(ACCOUNT)}
    assert {m.accountName for m in of(out, rs.UpdateAccountValue)} == {ACCOUNT}
    cash = 1_000_000  # a start position comes on top of the configured cash
    [line] = of(out, rs.UpdatePortfolio)
    assert (line.contract.conId, line.position, line.averageCost) == (265598, 100, 180.0)
    assert line.contract.primaryExchange == "NASDAQ"
    assert values(out)[("TotalCashValue", "USD")] == f"{cash:.2f}"
    nlv = cash + line.marketValue
    assert values(out)[("NetLiquidation", "USD")] == f"{nlv:.2f}"


def test_account_time_is_shown_in_the_gateways_zone():
    client = Client(make_gateway(timezone="America/New_York"))
    out = client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode=""))  # "": the only one
    assert of(out, rs.UpdateAccountTime) == [rs.UpdateAccountTime(timeStamp="10:00")]
    assert out[-1] == rs.AccountDownloadEnd(accountName=ACCOUNT)


def test_account_updates_for_an_unknown_account_is_error_321(client):
    [error] = client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode="DU999"))
    assert (error.reqId, error.errorCode) == (-1, 321)
    assert "DU999" in error.errorString


def test_a_fill_updates_the_portfolio_and_the_changed_values(client, gateway):
    client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode=ACCOUNT))
    buy(gateway, MSFT, 10)
    out = client.take()
    [line] = of(out, rs.UpdatePortfolio)
    assert (line.contract.symbol, line.position) == ("MSFT", 10)
    changed = values(out)
    assert ("TotalCashValue", "USD") in changed and ("AccountCode", "") not in changed
    world = {(v.key, v.currency): v.value for v in gateway.world.account_values(ACCOUNT)}
    assert all(world[k] == v for k, v in changed.items())
    assert isinstance(out[-1], rs.UpdateAccountTime)


def test_unsubscribing_stops_account_updates(client, gateway):
    client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode=ACCOUNT))
    assert client.ask(rq.ReqAccountUpdates(subscribe=False, acctCode=ACCOUNT)) == []
    buy(gateway, MSFT, 10)
    assert client.take() == []


@pytest.mark.trio
async def test_account_updates_refresh_what_changed_every_three_minutes(client, gateway):
    clock = gateway.clock
    async with streaming(client):
        client.ask(rq.ReqAccountUpdates(subscribe=True, acctCode=ACCOUNT))
        await step(clock, family.REFRESH_SECONDS - 1)
        assert client.take() == []  # not yet
        await step(clock, 1)
        out = client.take()
    [line] = of(out, rs.UpdatePortfolio)  # AAPL has moved since 10:00
    assert line.marketPrice == gateway.world.portfolio(ACCOUNT)[0].market_price
    assert ("NetLiquidation", "USD") in values(out)
    assert ("AccountCode", "") not in values(out)  # only what changed
    assert isinstance(out[-1], rs.UpdateAccountTime)


# -- reqPositions -------------------------------------------------------------------


def test_positions_then_end_with_the_listing_exchange(client):
    out = client.ask(rq.ReqPositions())
    assert [type(m) for m in out] == [rs.Position, rs.PositionEnd]
    position = out[0]
    assert (position.account, position.position, position.avgCost) == (ACCOUNT, 100, 180.0)
    assert (position.contract.conId, position.contract.exchange) == (265598, "NASDAQ")


def test_no_positions_is_just_the_end():
    client = Client(make_gateway(AccountConfig(account_id="DU1")))
    assert client.ask(rq.ReqPositions()) == [rs.PositionEnd()]


def test_positions_follow_fills_until_cancelled(client, gateway):
    client.ask(rq.ReqPositions())
    buy(gateway, AAPL, 50)
    [update] = client.take()
    assert isinstance(update, rs.Position)
    assert (update.contract.conId, update.position) == (265598, 150)
    row = next(r for r in gateway.world.positions(ACCOUNT) if r.contract.conId == 265598)
    assert update.avgCost == row.avg_cost  # the new average, commissions included
    client.ask(rq.CancelPositions())
    buy(gateway, AAPL, 1, order_id=2)
    assert client.take() == []


def test_positions_of_every_managed_account():
    gateway = make_gateway(
        AccountConfig(account_id="DU1", positions=(StartPosition(AAPL, 1, 100.0),)),
        AccountConfig(account_id="DU2", positions=(StartPosition(MSFT, -5, 300.0),)),
    )
    out = Client(gateway).ask(rq.ReqPositions())
    assert [(p.account, p.contract.symbol, p.position) for p in out[:-1]] == [
        ("DU1", "AAPL", 1),
        ("DU2", "MSFT", -5),
    ]


def test_positions_multi_for_an_account_a_model_and_an_unknown_account(client, gateway):
    out = client.ask(rq.ReqPositionsMulti(reqId=4, account=ACCOUNT))
    assert [type(m) for m in out] == [rs.PositionMulti, rs.PositionMultiEnd]
    assert (out[0].reqId, out[0].pos, out[0].contract.exchange) == (4, 100, "NASDAQ")
    assert client.ask(rq.ReqPositionsMulti(reqId=5, account=ACCOUNT, modelCode="M1")) == [
        rs.PositionMultiEnd(reqId=5)
    ]
    [error] = client.ask(rq.ReqPositionsMulti(reqId=6, account="DU999"))
    assert (error.reqId, error.errorCode) == (6, 321)
    buy(gateway, AAPL, 5)
    [update] = client.take()
    assert (update.reqId, update.pos) == (4, 105)
    client.ask(rq.CancelPositionsMulti(reqId=4))
    buy(gateway, AAPL, 5, order_id=2)
    assert client.take() == []


# -- reqAccountUpdatesMulti --------------------------------------------------------------


def test_account_updates_multi_values_then_end_and_changes(client, gateway):
    out = client.ask(rq.ReqAccountUpdatesMulti(reqId=7, account=ACCOUNT))
    assert out[-1] == rs.AccountUpdateMultiEnd(reqId=7)
    rows = {(m.key, m.currency): m.value for m in out[:-1]}
    assert rows == {(v.key, v.currency): v.value for v in gateway.world.account_values(ACCOUNT)}
    buy(gateway, MSFT, 10)
    changed = client.take()
    assert changed and all(isinstance(m, rs.AccountUpdateMulti) for m in changed)
    assert ("TotalCashValue", "USD") in {(m.key, m.currency) for m in changed}
    client.ask(rq.CancelAccountUpdatesMulti(reqId=7))
    buy(gateway, MSFT, 10, order_id=2)
    assert client.take() == []


def test_account_updates_multi_ledger_and_nlv_only(client):
    out = client.ask(rq.ReqAccountUpdatesMulti(reqId=8, account=ACCOUNT, ledgerAndNLV=True))
    keys = {m.key for m in out[:-1]}
    assert "NetLiquidation" in keys and "CashBalance" in keys
    assert "BuyingPower" not in keys and "AccountType" not in keys


# -- reqAccountSummary ------------------------------------------------------------------


def test_account_summary_rows_in_tag_order_then_end(client, gateway):
    tags = "NetLiquidation,TotalCashValue,BuyingPower,ExcessLiquidity"
    out = client.ask(rq.ReqAccountSummary(reqId=3, groupName="All", tags=tags))
    assert out[-1] == rs.AccountSummaryEnd(reqId=3)
    assert [m.tag for m in out[:-1]] == [
        "BuyingPower",
        "ExcessLiquidity",
        "NetLiquidation",
        "TotalCashValue",
    ]
    world = {i.tag: i.value for i in gateway.world.account_summary("All", tags)}
    assert {m.tag: m.value for m in out[:-1]} == world
    assert {(m.reqId, m.account, m.currency) for m in out[:-1]} == {(3, ACCOUNT, "USD")}


def test_account_summary_per_account_with_ledger_rows_last():
    gateway = make_gateway(AccountConfig(account_id="DU1"), AccountConfig(account_id="DU2"))
    out = Client(gateway).ask(
        rq.ReqAccountSummary(reqId=1, groupName="All", tags="$LEDGER,NetLiquidation,AccountType")
    )
    rows = [(m.account, m.tag, m.currency) for m in out[:-1]]
    du1 = [r for r in rows if r[0] == "DU1"]
    assert rows[: len(du1)] == du1  # one account after the other
    assert du1[:2] == [("DU1", "AccountType", ""), ("DU1", "NetLiquidation", "USD")]
    assert {r[2] for r in du1[2:]} == {"BASE"}  # $LEDGER: the base currency's ledger
    one = Client(gateway, 2).ask(rq.ReqAccountSummary(reqId=2, groupName="DU2", tags="SMA"))
    assert [(m.account, m.tag) for m in one[:-1]] == [("DU2", "SMA")]


@pytest.mark.trio
async def test_account_summary_is_sent_again_every_three_minutes_until_cancelled(client, gateway):
    clock = gateway.clock
    async with streaming(client):
        first = client.ask(rq.ReqAccountSummary(reqId=3, groupName="All", tags="NetLiquidation"))
        buy(gateway, MSFT, 10)
        await step(clock, family.REFRESH_SECONDS - 1)
        assert client.take() == []  # fills are not pushed before the refresh
        await step(clock, 1)
        again = client.take()
        assert [type(m) for m in again] == [rs.AccountSummary, rs.AccountSummaryEnd]
        assert again[0].value != first[0].value
        [now] = gateway.world.account_summary("All", "NetLiquidation")
        assert again[0].value == now.value
        client.ask(rq.CancelAccountSummary(reqId=3))
        await step(clock, family.REFRESH_SECONDS * 2)
        assert client.take() == []


# -- reqPnL / reqPnLSingle --------------------------------------------------------------


@pytest.mark.trio
async def test_pnl_now_then_on_change_at_each_clock_step(client, gateway):
    clock = gateway.clock
    async with streaming(client):
        [first] = client.ask(rq.ReqPnL(reqId=5, account=ACCOUNT))
        world = gateway.world.pnl(ACCOUNT)
        assert first == rs.PnL(
            reqId=5,
            dailyPnL=world.daily_pnl,
            unrealizedPnL=world.unrealized_pnl,
            realizedPnL=world.realized_pnl,
        )
        await step(clock, family.PNL_STEP_SECONDS)
        assert client.take() == []  # nothing changed within the second
        await step(clock, 60)
        [moved] = client.take()
        now = gateway.world.pnl(ACCOUNT)
        assert (moved.dailyPnL, moved.unrealizedPnL) == (now.daily_pnl, now.unrealized_pnl)
        assert moved.unrealizedPnL != first.unrealizedPnL
        client.ask(rq.CancelPnL(reqId=5))
        await step(clock, 60)
        assert client.take() == []


@pytest.mark.trio
async def test_time_moved_before_a_stream_first_runs_still_counts(client, gateway):
    async with streaming(client):
        client.ask(rq.ReqPnL(reqId=5, account=ACCOUNT))
        gateway.clock.advance(60)  # before the stream's task has even started
        await trio.testing.wait_all_tasks_blocked()
        [moved] = client.take()
        assert moved.unrealizedPnL == gateway.world.pnl(ACCOUNT).unrealized_pnl


def test_pnl_follows_a_fill_at_once(client, gateway):
    client.ask(rq.ReqPnLSingle(reqId=6, account=ACCOUNT, conid=265598))
    buy(gateway, AAPL, 10)
    updates = of(client.take(), rs.PnLSingle)
    assert updates and updates[-1].pos == 110


def test_pnl_single_of_a_position_and_of_a_contract_not_held(client, gateway):
    [held] = client.ask(rq.ReqPnLSingle(reqId=6, account=ACCOUNT, conid=265598))
    world = gateway.world.pnl_single(ACCOUNT, 265598)
    assert held == rs.PnLSingle(
        reqId=6,
        pos=Decimal(100),
        dailyPnL=world.daily_pnl,
        unrealizedPnL=world.unrealized_pnl,
        realizedPnL=world.realized_pnl,
        value=world.value,
    )
    [none] = client.ask(rq.ReqPnLSingle(reqId=7, account=ACCOUNT, conid=272093))
    assert none == rs.PnLSingle(reqId=7, pos=Decimal(0), dailyPnL=None)


def test_pnl_of_an_unknown_account_is_error_321(client):
    [error] = client.ask(rq.ReqPnL(reqId=8, account="DU999"))
    assert (error.reqId, error.errorCode) == (8, 321)


# -- lifetime ----------------------------------------------------------------------------


@pytest.mark.trio
async def test_a_disconnect_ends_every_subscription_and_the_world_subscription(gateway):
    before = len(gateway.world._subscribers)
    watcher, leaving = Client(gateway, 1), Client(gateway, 2)
    async with streaming(watcher, leaving):
        for c in (watcher, leaving):
            c.ask(rq.ReqPositions())
            c.ask(rq.ReqPnL(reqId=1, account=ACCOUNT))
            c.ask(rq.ReqAccountSummary(reqId=2, groupName="All", tags="NetLiquidation"))
        assert len(gateway.world._subscribers) == before + 2
        leaving.session.connection_lost()
        buy(gateway, AAPL, 1)  # the next event finds the session gone and unsubscribes
        assert leaving.session not in family._FEEDS
        assert len(gateway.world._subscribers) == before + 1
        assert of(watcher.take(), rs.Position)  # the other client is still served
    # The connection's tasks ending (here: the nursery) drops the rest.
    assert watcher.session not in family._FEEDS
    assert len(gateway.world._subscribers) == before
