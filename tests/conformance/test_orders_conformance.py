"""Orders and executions with real clients over TCP: ibapi's EClient and ib_async's IB.

The server runs on a VirtualClock; a test moves it (thread-safely) and the server's clock
service lets resting orders act. The world is reached through `ServerThread.run_sync`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from ib_async import IB, LimitOrder, MarketOrder, StartupFetch, StartupFetchNONE, Stock
from ibapi.contract import Contract as IbContract
from ibapi.execution import ExecutionFilter as IbExecutionFilter
from ibapi.order import Order as IbOrder
from ibapi.order_cancel import OrderCancel

from fake_tws.broker import FillPlan, FillSlice, World
from fake_tws.clock import VirtualClock
from fake_tws.ibtypes import Contract
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import IbapiClient

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York
AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
TIMEOUT = 5.0


# -- an ibapi client that records the order callbacks -----------------------------------------


class OrderClient(IbapiClient):
    def openOrder(self, orderId, contract, order, orderState) -> None:
        self._record("openOrder", orderId, contract, order, orderState)

    def openOrderEnd(self) -> None:
        self._record("openOrderEnd")

    def orderStatus(self, orderId, status, filled, remaining, avgFillPrice, permId, parentId,
                    lastFillPrice, clientId, whyHeld, mktCapPrice) -> None:  # fmt: skip
        self._record(
            "orderStatus", orderId, status, filled, remaining, avgFillPrice, permId, parentId,
            lastFillPrice, clientId, whyHeld,
        )  # fmt: skip

    def execDetails(self, reqId, contract, execution) -> None:
        self._record("execDetails", reqId, contract, execution)

    def execDetailsEnd(self, reqId) -> None:
        self._record("execDetailsEnd", reqId)

    def commissionReport(self, commissionReport) -> None:
        self._record("commissionReport", commissionReport)

    def completedOrder(self, contract, order, orderState) -> None:
        self._record("completedOrder", contract, order, orderState)

    def completedOrdersEnd(self) -> None:
        self._record("completedOrdersEnd")

    # -- reading back ----------------------------------------------------------------------

    def statuses(self, order_id: int) -> list[tuple[str, Decimal]]:
        return [(a[1], a[2]) for a in self.named("orderStatus") if a[0] == order_id]

    def wait_status(self, order_id: int, status: str) -> None:
        self.wait_for(lambda: any(s == status for s, _ in self.statuses(order_id)))

    def wait_error(self, order_id: int, code: int) -> str:
        self.wait_for(lambda: any(a[:2] == (order_id, code) for a in self.named("error")))
        return next(a[2] for a in self.named("error") if a[:2] == (order_id, code))

    def wait_count(self, name: str, count: int) -> list[tuple[Any, ...]]:
        self.wait_for(lambda: len(self.named(name)) >= count)
        return self.named(name)

    def sequence(self, order_id: int) -> list[tuple]:
        """The order's live messages in arrival order, in a few words."""
        out: list[tuple] = []
        exec_ids: set[str] = set()
        with self._changed:
            calls = list(self.calls)
        for name, args in calls:
            if name == "openOrder" and args[0] == order_id:
                out.append(("openOrder", args[3].status))
            elif name == "orderStatus" and args[0] == order_id:
                out.append(("orderStatus", args[1], int(args[2])))
            elif name == "execDetails" and args[2].orderId == order_id and args[0] == -1:
                out.append(("execDetails", int(args[2].shares)))
                exec_ids.add(args[2].execId)
            elif name == "commissionReport" and args[0].execId in exec_ids:
                out.append(("commissionReport",))
            elif name == "error" and args[0] == order_id:
                out.append(("error", args[1]))
        return out


def stock(symbol: str = "AAPL") -> IbContract:
    c = IbContract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def ib_order(action: str, qty: float, order_type: str = "MKT", **fields: Any) -> IbOrder:
    o = IbOrder()
    o.action, o.totalQuantity, o.orderType = action, Decimal(qty), order_type
    for name, value in fields.items():
        setattr(o, name, value)
    return o


class Harness:
    """A server on a virtual clock, its clients, and the world behind it."""

    def __init__(self) -> None:
        self.clock = VirtualClock(START)
        self.server = ServerThread(clock=self.clock)
        self.clients: list[OrderClient] = []

    def connect(self, client_id: int) -> OrderClient:
        client = OrderClient()
        self.clients.append(client)
        client.open(self.server.port, client_id)
        client.wait_for_bootstrap()
        return client

    def world(self, fn: Callable[[World], Any]) -> Any:
        return self.server.run_sync(lambda: fn(self.server.server.gateway.world))

    def wait_released(self, client_id: int) -> None:
        """The server has seen `client_id` go (so the id may connect again)."""
        gateway = self.server.server.gateway
        deadline = time.monotonic() + TIMEOUT
        while client_id in self.server.run_sync(lambda: gateway.client_ids):
            assert time.monotonic() < deadline, f"client {client_id} still connected"
            time.sleep(0.005)

    def bid(self) -> float:
        return self.world(lambda w: w.quote(AAPL).bid)

    def move_to(self, price: float, seconds: float = 5.0) -> None:
        """The market trades at `price` from now on; `seconds` pass."""
        self.world(lambda w: w.set_price(AAPL, price))
        self.clock.advance(seconds)


@pytest.fixture
def tws():
    harness = Harness()
    with harness.server:
        try:
            yield harness
        finally:
            for client in harness.clients:
                client.close()


# -- ibapi -----------------------------------------------------------------------------------


@pytest.mark.conformance(client="ibapi", item="orders")
def test_market_order_fills_and_reads_back_everywhere(tws):
    client = tws.connect(1)
    client.placeOrder(1, stock(), ib_order("BUY", 100))
    client.wait_for(lambda: client.sequence(1)[-1:] == [("commissionReport",)])
    assert client.sequence(1) == [
        ("openOrder", "PreSubmitted"),
        ("orderStatus", "PreSubmitted", 0),
        ("execDetails", 100),
        ("openOrder", "Filled"),
        ("orderStatus", "Filled", 100),
        ("commissionReport",),
    ]
    [(req_id, contract, execution)] = client.named("execDetails")
    assert req_id == -1 and contract.conId == 265598 and contract.symbol == "AAPL"
    assert execution.time == "20260415 11:00:00 US/Eastern" and execution.side == "BOT"
    [(report,)] = client.named("commissionReport")
    assert report.execId == execution.execId and report.commission > 0

    client.reqExecutions(5, IbExecutionFilter())
    client.wait_for(lambda: client.named("execDetailsEnd") == [(5,)])
    again = [a for a in client.named("execDetails") if a[0] == 5]
    assert [e.execId for _, _, e in again] == [execution.execId]
    assert len(client.named("commissionReport")) == 2
    client.reqCompletedOrders(False)
    client.wait_for(lambda: client.named("completedOrdersEnd"))
    [(_, order, state)] = client.named("completedOrder")
    assert (order.permId, state.status, order.filledQuantity) == (execution.permId, "Filled", 100)
    pushed = len(client.named("openOrder"))
    client.reqOpenOrders()
    client.wait_for(lambda: client.named("openOrderEnd"))
    assert len(client.named("openOrder")) == pushed  # nothing is open any more


@pytest.mark.conformance(client="ibapi", item="orders")
def test_resting_limit_fills_as_the_clock_moves_then_stop_triggers(tws):
    client = tws.connect(1)
    price = round(tws.bid() - 1, 2)
    client.placeOrder(1, stock(), ib_order("BUY", 100, "LMT", lmtPrice=price))
    client.wait_status(1, "Submitted")
    client.placeOrder(2, stock(), ib_order("SELL", 100, "STP", auxPrice=price - 1))
    client.wait_status(2, "PreSubmitted")
    assert client.named("orderStatus")[-1][-1] == "trigger"  # whyHeld
    tws.clock.advance(30)  # nothing reaches either order
    tws.move_to(price - 0.5)
    client.wait_status(1, "Filled")
    assert client.statuses(2) == [("PreSubmitted", 0)]
    tws.move_to(price - 2)
    client.wait_for(lambda: client.sequence(2)[-1:] == [("commissionReport",)])
    assert client.sequence(2)[1:] == [
        ("orderStatus", "PreSubmitted", 0),
        ("openOrder", "Submitted"),
        ("orderStatus", "Submitted", 0),
        ("execDetails", 100),
        ("openOrder", "Filled"),
        ("orderStatus", "Filled", 100),
        ("commissionReport",),
    ]


@pytest.mark.conformance(client="ibapi", item="orders")
def test_partial_fills_from_a_fill_plan(tws):
    client = tws.connect(1)
    plan = FillPlan(
        slices=(
            FillSlice(30, 100.0),
            FillSlice(50, 100.5, after=timedelta(seconds=10)),
            FillSlice(20, 101.0, after=timedelta(seconds=20)),
        )
    )
    tws.world(lambda w: w.plan_next_fills(plan, AAPL))
    client.placeOrder(1, stock(), ib_order("BUY", 100))
    client.wait_for(lambda: ("orderStatus", "Submitted", 30) in client.sequence(1))
    tws.clock.advance(10)
    client.wait_for(lambda: ("orderStatus", "Submitted", 80) in client.sequence(1))
    tws.clock.advance(10)
    client.wait_for(
        lambda: client.sequence(1)[-2:] == [("orderStatus", "Filled", 100), ("commissionReport",)]
    )
    fills = [s for s in client.sequence(1) if s[0] in ("execDetails", "orderStatus")]
    assert fills[-6:] == [
        ("execDetails", 30),
        ("orderStatus", "Submitted", 30),
        ("execDetails", 50),
        ("orderStatus", "Submitted", 80),
        ("execDetails", 20),
        ("orderStatus", "Filled", 100),
    ]
    assert [float(e.price) for _, _, e in client.named("execDetails")] == [100.0, 100.5, 101.0]
    assert len(client.named("commissionReport")) == 3


def test_modify_then_cancel(tws):
    client = tws.connect(1)
    price = round(tws.bid() - 2, 2)
    client.placeOrder(1, stock(), ib_order("BUY", 100, "LMT", lmtPrice=price))
    client.wait_status(1, "Submitted")
    client.placeOrder(1, stock(), ib_order("BUY", 150, "LMT", lmtPrice=price - 1))
    client.wait_for(lambda: any(a[2].totalQuantity == 150 for a in client.named("openOrder")))
    modified = client.named("openOrder")[-1][2]
    assert (modified.lmtPrice, modified.totalQuantity) == (price - 1, 150)
    client.cancelOrder(1, OrderCancel())
    assert client.wait_error(1, 202) == "Order Canceled - reason:"
    assert client.statuses(1)[-2:] == [("PendingCancel", 0), ("Cancelled", 0)]
    client.cancelOrder(1, OrderCancel())  # again: it is finished
    client.wait_error(1, 10148)
    client.cancelOrder(50, OrderCancel())
    assert client.wait_error(50, 10147) == "OrderId 50 that needs to be cancelled is not found."


def test_a_cancel_racing_a_fill_loses(tws):
    client = tws.connect(1)
    price = round(tws.bid() - 2, 2)
    client.placeOrder(1, stock(), ib_order("BUY", 10, "LMT", lmtPrice=price))
    client.wait_status(1, "Submitted")
    plan = FillPlan(slices=(FillSlice(10, price, after=timedelta(seconds=1)),))
    tws.world(lambda w: w.plan_fills(1, 1, plan))
    tws.clock.advance(1)  # the fill is due; the cancel may reach the world first or not
    client.cancelOrder(1, OrderCancel())
    client.wait_error(1, 10148)
    assert client.statuses(1)[-1] == ("Filled", 10)
    assert all(s != "Cancelled" for s, _ in client.statuses(1))


def test_rejects(tws):
    client = tws.connect(1)
    client.placeOrder(1, stock(), ib_order("BUY", 10, "LMT", lmtPrice=100.001))
    assert client.wait_error(1, 110).startswith("The price does not conform")
    client.placeOrder(2, stock(), ib_order("BUY", 1_000_000))
    assert client.wait_error(2, 201).startswith("Order rejected - reason:")
    client.wait_status(2, "Inactive")
    assert client.statuses(1) == []
    client.placeOrder(3, stock(), ib_order("BUY", 10, "FEELINGS", lmtPrice=10.0))
    assert client.wait_error(3, 321).endswith("Invalid order type was entered")


def test_bracket_children_wake_on_the_parent_fill_and_give_way_to_each_other(tws):
    client = tws.connect(1)
    bid = tws.bid()
    parent = ib_order("BUY", 100, "LMT", lmtPrice=round(bid + 1, 2), transmit=False)
    take_profit = ib_order(
        "SELL", 100, "LMT", lmtPrice=round(bid + 3, 2), parentId=1, transmit=False
    )
    stop_loss = ib_order("SELL", 100, "STP", auxPrice=round(bid - 3, 2), parentId=1, transmit=True)
    client.placeOrder(1, stock(), parent)
    client.placeOrder(2, stock(), take_profit)
    client.placeOrder(3, stock(), stop_loss)
    client.wait_status(1, "Filled")
    client.wait_status(2, "Submitted")
    client.wait_status(3, "PreSubmitted")
    parents = {a[0]: a[6] for a in client.named("orderStatus")}
    assert parents[2] == parents[3] == 1
    tws.move_to(round(bid + 4, 2))
    client.wait_status(2, "Filled")
    client.wait_status(3, "Cancelled")
    assert client.statuses(3)[-1] == ("Cancelled", 0)
    pushed = len(client.named("openOrder"))
    client.reqOpenOrders()
    client.wait_for(lambda: client.named("openOrderEnd"))
    assert len(client.named("openOrder")) == pushed  # the whole bracket is done


def test_oca_group_and_ioc_fok(tws):
    client = tws.connect(1)
    bid = tws.bid()
    for order_id, price in ((1, round(bid - 1, 2)), (2, round(bid - 1.5, 2))):
        client.placeOrder(
            order_id, stock(), ib_order("BUY", 10, "LMT", lmtPrice=price, ocaGroup="g", ocaType=1)
        )
        client.wait_status(order_id, "Submitted")
    tws.move_to(round(bid - 1.2, 2))
    client.wait_status(1, "Filled")
    client.wait_status(2, "Cancelled")

    ask = tws.world(lambda w: w.quote(AAPL).ask)
    client.placeOrder(3, stock(), ib_order("BUY", 10, "LMT", lmtPrice=round(ask - 5, 2), tif="IOC"))
    client.wait_status(3, "Cancelled")
    assert client.sequence(3)[-2:] == [
        ("orderStatus", "PendingCancel", 0),
        ("orderStatus", "Cancelled", 0),
    ]
    assert not [s for s in client.sequence(3) if s[0] in ("execDetails", "error")]
    client.placeOrder(4, stock(), ib_order("BUY", 10, "LMT", lmtPrice=round(ask - 5, 2), tif="FOK"))
    client.wait_status(4, "Inactive")
    client.placeOrder(5, stock(), ib_order("BUY", 10, "LMT", lmtPrice=round(ask + 1, 2), tif="IOC"))
    client.wait_status(5, "Filled")


def test_client_0_sees_another_clients_orders_and_a_third_cancels_one(tws):
    master = tws.connect(0)
    master.reqAutoOpenOrders(True)
    trader = tws.connect(1)
    trader.placeOrder(1, stock(), ib_order("BUY", 10))
    trader.placeOrder(
        2, stock(), ib_order("BUY", 10, "LMT", lmtPrice=round(tws.bid() - 2, 2), tif="GTC")
    )
    trader.wait_status(2, "Submitted")
    master.wait_status(1, "Filled")
    master.wait_status(2, "Submitted")
    assert {a[8] for a in master.named("orderStatus")} == {1}  # clientId: the trader's
    assert [a[2].orderId for a in master.named("execDetails")] == [1]
    master.wait_count("commissionReport", 1)

    other = tws.connect(2)
    other.reqAllOpenOrders()
    other.wait_for(lambda: other.named("openOrderEnd"))
    [(order_id, _, order, state)] = other.named("openOrder")
    assert (order_id, order.clientId, state.status) == (2, 1, "Submitted")
    other.cancelOrder(2, OrderCancel())
    other.wait_error(2, 202)
    assert other.named("orderStatus")[-1][1] == "Cancelled"
    assert other.named("orderStatus")[-1][8] == 2  # as captured: the canceller's id
    trader.wait_error(2, 202)
    master.wait_status(2, "Cancelled")


def test_executions_filter_and_recover_fills_after_a_reconnect(tws):
    client = tws.connect(1)
    client.placeOrder(1, stock(), ib_order("BUY", 10))
    price = round(tws.bid() - 1, 2)
    client.placeOrder(2, stock(), ib_order("SELL", 5, "LMT", lmtPrice=price + 3, tif="GTC"))
    client.placeOrder(3, stock("MSFT"), ib_order("BUY", 3))
    client.wait_status(3, "Filled")
    client.wait_status(2, "Submitted")
    client.close()
    tws.wait_released(1)
    tws.move_to(price + 4)  # order 2 fills while the client is away
    tws.world(lambda w: w.advance())

    back = tws.connect(1)
    flt = IbExecutionFilter()
    flt.symbol = "AAPL"
    back.reqExecutions(7, flt)
    back.wait_for(lambda: back.named("execDetailsEnd") == [(7,)])
    found = [(e.orderId, e.side, int(e.shares)) for _, _, e in back.named("execDetails")]
    assert found == [(1, "BOT", 10), (2, "SLD", 5)]
    assert len(back.named("commissionReport")) == 2
    flt = IbExecutionFilter()
    flt.side = "BUY"
    back.reqExecutions(8, flt)
    back.wait_for(lambda: (8,) in back.named("execDetailsEnd"))
    bought = [e.orderId for r, _, e in back.named("execDetails") if r == 8]
    assert bought == [1, 3]
    back.reqOpenOrders()
    back.wait_for(lambda: back.named("openOrderEnd"))
    assert back.named("openOrder") == []


# -- ib_async --------------------------------------------------------------------------------


async def ib_async_connect(tws: Harness, client_id: int, fetch=StartupFetchNONE) -> IB:
    ib = IB()
    await ib.connectAsync(
        "127.0.0.1", tws.server.port, clientId=client_id, timeout=10, fetchFields=fetch
    )
    return ib


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)

    await asyncio.wait_for(poll(), TIMEOUT)


@pytest.mark.conformance(client="ib_async", item="orders")
@pytest.mark.asyncio
async def test_ib_async_trade_fills_with_commissions_and_reads_back(tws):
    ib = await ib_async_connect(tws, 1)
    try:
        contract = Stock("AAPL", "SMART", "USD")
        trade = ib.placeOrder(contract, MarketOrder("BUY", 100))
        await until(lambda: trade.isDone() and all(f.commissionReport.execId for f in trade.fills))
        assert trade.orderStatus.status == "Filled"
        assert trade.orderStatus.filled == 100 and trade.filled() == 100
        [fill] = trade.fills
        assert fill.commissionReport.commission > 0
        assert fill.execution.time.year == 2026

        bid = await asyncio.to_thread(tws.bid)
        resting = ib.placeOrder(contract, LimitOrder("BUY", 10, round(bid - 2, 2)))
        await until(lambda: resting.orderStatus.status == "Submitted")
        assert ib.openTrades() == [resting]

        fills = await asyncio.wait_for(ib.reqExecutionsAsync(), TIMEOUT)
        assert [f.execution.execId for f in fills] == [fill.execution.execId]
        # (ib_async answers with fresh Fill objects; the reports land on the ones it keeps)
        assert ib.fills()[0].commissionReport.commission == fill.commissionReport.commission

        ib.cancelOrder(resting.order)
        await until(lambda: resting.orderStatus.status == "Cancelled")
        assert ib.openTrades() == []
        completed = await asyncio.wait_for(ib.reqCompletedOrdersAsync(False), TIMEOUT)
        assert [(t.order.permId, t.orderStatus.status) for t in completed] == [
            (trade.order.permId, "Filled"),
            (resting.order.permId, "Cancelled"),
        ]
    finally:
        ib.disconnect()


@pytest.mark.conformance(client="ib_async", item="orders")
@pytest.mark.asyncio
async def test_ib_async_partial_fills_and_a_reconnect_recovers_the_rest(tws):
    plan = FillPlan(
        slices=(FillSlice(40, 100.0), FillSlice(60, 100.5, after=timedelta(seconds=30)))
    )
    await asyncio.to_thread(tws.world, lambda w: w.plan_next_fills(plan, AAPL))
    ib = await ib_async_connect(tws, 3)
    contract = Stock("AAPL", "SMART", "USD")
    trade = ib.placeOrder(contract, LimitOrder("BUY", 100, 101.0, tif="GTC"))
    try:
        await until(lambda: trade.orderStatus.filled == 40 and trade.fills)
        assert trade.orderStatus.status == "Submitted" and trade.remaining() == 60
    finally:
        ib.disconnect()
    await asyncio.to_thread(tws.wait_released, 3)
    tws.clock.advance(30)  # the rest fills while the client is away
    await asyncio.to_thread(tws.world, lambda w: w.advance())

    fetch = StartupFetch.ORDERS_OPEN | StartupFetch.ORDERS_COMPLETE | StartupFetch.EXECUTIONS
    again = await ib_async_connect(tws, 3, fetch)
    try:
        assert again.openTrades() == []
        fills = again.fills()
        assert [(f.execution.orderId, float(f.execution.shares)) for f in fills] == [
            (trade.order.orderId, 40.0),
            (trade.order.orderId, 60.0),
        ]
        # every fill has its report; the order's minimum commission is met by the first
        assert all(f.commissionReport.execId == f.execution.execId for f in fills)
        assert sum(f.commissionReport.commission for f in fills) > 0
        [done] = [t for t in again.trades() if t.order.permId == trade.order.permId]
        assert done.orderStatus.status == "Filled"
    finally:
        again.disconnect()


@pytest.mark.asyncio
async def test_ib_async_client_0_tracks_another_clients_trade(tws):
    master = await ib_async_connect(tws, 0)  # ib_async binds: reqAutoOpenOrders(True)
    trader = await ib_async_connect(tws, 4)
    try:
        trade = trader.placeOrder(Stock("AAPL", "SMART", "USD"), MarketOrder("SELL", 5))
        await until(lambda: trade.isDone())

        def seen():
            return [t for t in master.trades() if t.order.permId == trade.order.permId]

        await until(lambda: bool(seen()) and seen()[0].orderStatus.status == "Filled")
        [observed] = seen()
        assert (observed.order.clientId, observed.order.orderId) == (4, trade.order.orderId)
        assert [f.execution.execId for f in observed.fills] == [
            f.execution.execId for f in trade.fills
        ]
    finally:
        trader.disconnect()
        master.disconnect()
