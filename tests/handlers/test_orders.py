"""The orders family at the session level: typed requests in, typed messages out.

No sockets: sessions talk to a recording link and what they were sent is read back
(typed) from the gateway's journal. Time is a VirtualClock; where the server's clock
service would let the world catch up, the test calls `world.advance()` itself.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import trio
import trio.testing

from fake_tws.broker import FillPlan, FillSlice
from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers import order_events
from fake_tws.handlers import orders as orders_family
from fake_tws.ibtypes import Contract, ExecutionFilter, Order
from fake_tws.journal import Direction
from fake_tws.protocol.requests import connection as rqc
from fake_tws.protocol.requests import orders as rq
from fake_tws.protocol.responses import orders as rs
from fake_tws.protocol.responses.connection import Error, NextValidId
from fake_tws.session import CONNECTION_HANDLERS, Gateway, Session
from tests.wire import greeting, start_api

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York
AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
MSFT = Contract(symbol="MSFT", secType="STK", exchange="SMART", currency="USD")


class NullLink:
    def __init__(self) -> None:
        self.closed: str | None = None

    def send(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        self.closed = reason


class Client:
    """One connected session; `take()` gives the typed messages it was sent since the
    last take (read from the journal)."""

    def __init__(self, gateway: Gateway, client_id: int) -> None:
        self.gateway = gateway
        self.client_id = client_id
        self.session = Session(gateway, NullLink(), f"test:{client_id}")
        self.session.receive_data(greeting() + start_api(client_id))
        assert self.session.started
        self._seen = self._last_seq()
        self.take()

    def _last_seq(self) -> int:
        entries = self.gateway.journal.entries
        return entries[-1].seq if entries else 0

    def ask(self, request: Any) -> list[Any]:
        """Dispatch `request` as if it came from this client; return what it was sent."""
        handler = self.gateway.handlers.get(type(request))
        assert handler is not None, f"no handler for {type(request).__name__}"
        handler(self.session, request)
        return self.take()

    def take(self) -> list[Any]:
        out = [
            e.message
            for e in self.gateway.journal.entries
            if e.seq > self._seen
            and e.client_id == self.client_id
            and e.direction is Direction.SENT
        ]
        self._seen = self._last_seq()
        return out

    def disconnect(self) -> None:
        self.session.connection_lost()


def make_gateway(**config: Any) -> Gateway:
    config.setdefault("clock", VirtualClock(START))
    return Gateway(ServerConfig(**config), CONNECTION_HANDLERS | orders_family.HANDLERS)


@pytest.fixture
def gateway() -> Gateway:
    return make_gateway()


def later(gateway: Gateway, seconds: float) -> None:
    """Time passes and the world catches up (what the clock service does in a server)."""
    gateway.clock.advance(seconds)  # type: ignore[attr-defined]
    gateway.world.advance()


def brief(message: Any) -> tuple:
    """A message in a few words, for comparing sequences."""
    match message:
        case rs.OpenOrder():
            return ("openOrder", message.orderId, message.orderState.status)
        case rs.OrderStatus():
            return ("orderStatus", message.orderId, message.status, int(message.filled))
        case rs.ExecDetails():
            return (
                "execDetails",
                message.reqId,
                message.execution.orderId,
                int(message.execution.shares),
            )
        case rs.CommissionReport():
            return ("commissionReport",)
        case Error():
            return ("error", message.reqId, message.errorCode)
        case rs.OpenOrderEnd():
            return ("openOrderEnd",)
        case rs.ExecDetailsEnd():
            return ("execDetailsEnd", message.reqId)
        case rs.CompletedOrder():
            return ("completedOrder", message.order.orderId, message.orderState.status)
        case rs.CompletedOrdersEnd():
            return ("completedOrdersEnd",)
        case _:
            return (type(message).__name__,)


def briefs(messages: list[Any]) -> list[tuple]:
    return [brief(m) for m in messages]


def mkt(action: str, qty: int | str, **kw: Any) -> Order:
    return Order(action=action, orderType="MKT", totalQuantity=Decimal(qty), **kw)


def lmt(action: str, qty: int | str, price: float, **kw: Any) -> Order:
    return Order(action=action, orderType="LMT", totalQuantity=Decimal(qty), lmtPrice=price, **kw)


def place(order_id: int, order: Order, contract: Contract = AAPL) -> rq.PlaceOrder:
    return rq.PlaceOrder(orderId=order_id, contract=contract, order=order)


def below_market(gateway: Gateway, ticks: float = 2.0) -> float:
    return round(gateway.world.quote(AAPL).bid - ticks, 2)


# -- placing and filling ------------------------------------------------------------------


def test_a_market_order_fills_like_a_live_gateway(gateway):
    client = Client(gateway, 1)
    sent = client.ask(place(1, mkt("BUY", 100)))
    assert briefs(sent) == [
        ("openOrder", 1, "PreSubmitted"),
        ("orderStatus", 1, "PreSubmitted", 0),
        ("execDetails", -1, 1, 100),
        ("openOrder", 1, "Filled"),
        ("orderStatus", 1, "Filled", 100),
        ("commissionReport",),  # after the status, as captured on a paper Gateway
    ]
    details, report = sent[2], sent[5]
    execution = details.execution
    assert execution.time == "20260415 11:00:00 US/Eastern"  # never empty (ib_async parses it)
    assert execution.clientId == 1 and execution.acctNumber == "DU123456"
    assert report.commissionReport.execId == execution.execId
    assert report.commissionReport.commission > 0
    assert sent[0].order.clientId == 1 and sent[0].order.permId == sent[1].permId > 0
    assert sent[4].avgFillPrice == execution.price


def test_a_resting_limit_order_fills_when_the_market_comes_to_it(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway, 1.0)
    assert briefs(client.ask(place(1, lmt("BUY", 100, price)))) == [
        ("openOrder", 1, "PreSubmitted"),
        ("orderStatus", 1, "PreSubmitted", 0),
        ("openOrder", 1, "Submitted"),
        ("orderStatus", 1, "Submitted", 0),
    ]
    later(gateway, 60)
    assert client.take() == []  # not there yet
    gateway.world.set_price(AAPL, price - 1)
    later(gateway, 5)
    sent = client.take()
    assert briefs(sent) == [
        ("execDetails", -1, 1, 100),
        ("openOrder", 1, "Filled"),
        ("orderStatus", 1, "Filled", 100),
        ("commissionReport",),
    ]
    assert sent[0].execution.price <= price
    assert sent[0].execution.time.startswith("20260415 11:01:")


def test_partial_fills_grow_filled_and_each_report_follows_its_status(gateway):
    client = Client(gateway, 1)
    gateway.world.plan_next_fills(
        FillPlan(
            slices=(
                FillSlice(30, 100.0),
                FillSlice(50, 100.5, after=timedelta(seconds=10)),
                FillSlice(20, 101.0, after=timedelta(seconds=20)),
            )
        ),
        AAPL,
    )
    sent = client.ask(place(1, mkt("BUY", 100)))
    assert briefs(sent) == [
        ("openOrder", 1, "PreSubmitted"),
        ("orderStatus", 1, "PreSubmitted", 0),
        ("openOrder", 1, "Submitted"),
        ("orderStatus", 1, "Submitted", 0),
        ("execDetails", -1, 1, 30),
        ("orderStatus", 1, "Submitted", 30),
        ("commissionReport",),
    ]
    later(gateway, 10)
    assert briefs(client.take()) == [
        ("execDetails", -1, 1, 50),
        ("orderStatus", 1, "Submitted", 80),
        ("commissionReport",),
    ]
    later(gateway, 10)
    sent = client.take()
    assert briefs(sent) == [
        ("execDetails", -1, 1, 20),
        ("openOrder", 1, "Filled"),
        ("orderStatus", 1, "Filled", 100),
        ("commissionReport",),
    ]
    assert sent[2].avgFillPrice == pytest.approx((30 * 100.0 + 50 * 100.5 + 20 * 101.0) / 100)
    assert sent[2].lastFillPrice == 101.0
    assert sent[0].execution.cumQty == 100


def test_modifying_price_and_quantity_resends_the_order(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway)
    client.ask(place(7, lmt("BUY", 100, price)))
    sent = client.ask(place(7, lmt("BUY", 200, price - 0.5)))
    assert briefs(sent) == [("openOrder", 7, "Submitted"), ("orderStatus", 7, "Submitted", 0)]
    assert sent[0].order.lmtPrice == price - 0.5
    assert sent[0].order.totalQuantity == 200
    assert sent[1].remaining == 200
    (view,) = gateway.world.open_orders(1)
    assert view.order.lmtPrice == price - 0.5


def test_an_order_id_used_by_a_client_is_never_announced_again(gateway):
    client = Client(gateway, 1)
    client.ask(place(40, lmt("BUY", 1, below_market(gateway))))
    (next_id,) = client.ask(rqc.ReqIds(numIds=1))
    assert isinstance(next_id, NextValidId) and next_id.orderId > 40


def test_a_staged_order_is_silent_until_transmitted(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway)
    assert client.ask(place(3, lmt("BUY", 10, price, transmit=False))) == []
    assert briefs(client.ask(rq.ReqOpenOrders())) == [("openOrderEnd",)]
    sent = client.ask(place(3, lmt("BUY", 10, price, transmit=True)))
    assert briefs(sent)[-2:] == [("openOrder", 3, "Submitted"), ("orderStatus", 3, "Submitted", 0)]


def test_order_requests_before_start_api_are_ignored(gateway):
    session = Session(gateway, NullLink(), "test:early")
    session.receive_data(greeting())
    gateway.handlers.get(rq.PlaceOrder)(session, place(1, mkt("BUY", 1)))
    gateway.handlers.get(rq.ReqOpenOrders)(session, rq.ReqOpenOrders())
    assert gateway.world.open_orders() == [] and gateway.world.executions() == []
    assert not session.closed


# -- refusals --------------------------------------------------------------------------------


def test_refusals_are_errors_with_the_order_id(gateway):
    client = Client(gateway, 1)
    off_tick = client.ask(place(1, lmt("BUY", 10, 100.001)))
    assert briefs(off_tick) == [("error", 1, 110)]
    assert off_tick[0].errorString == (
        "The price does not conform to the minimum price variation for this contract."
    )
    invalid = client.ask(
        place(2, Order(action="BUY", orderType="FEELINGS", totalQuantity=Decimal(1)))
    )
    assert briefs(invalid) == [("error", 2, 321)]
    assert invalid[0].errorString.endswith("Invalid order type was entered")
    assert gateway.world.open_orders() == []


def test_a_rejected_new_order_reads_inactive_after_the_201(gateway):
    client = Client(gateway, 1)
    sent = client.ask(place(5, mkt("BUY", 1_000_000)))  # far beyond the account's margin
    assert briefs(sent) == [("error", 5, 201), ("orderStatus", 5, "Inactive", 0)]
    assert sent[0].errorString.startswith("Order rejected - reason:")
    assert sent[1].remaining == 1_000_000 and sent[1].clientId == 1


def test_a_refused_modification_leaves_the_order_working(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway)
    client.ask(place(1, lmt("BUY", 10, price)))
    assert briefs(client.ask(place(1, lmt("BUY", 10, 100.001)))) == [("error", 1, 110)]
    (view,) = gateway.world.open_orders(1)
    assert view.order.lmtPrice == price and view.status == "Submitted"


def test_reusing_the_id_of_a_finished_order_is_103(gateway):
    client = Client(gateway, 1)
    client.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    client.ask(rq.CancelOrder(orderId=1))
    sent = client.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    assert briefs(sent) == [("error", 1, 103)]
    assert sent[0].errorString == "Duplicate order id"


# -- cancelling -----------------------------------------------------------------------------


def test_cancel_goes_pending_cancel_cancelled_then_202(gateway):
    client = Client(gateway, 1)
    client.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    sent = client.ask(rq.CancelOrder(orderId=1))
    assert briefs(sent) == [
        ("orderStatus", 1, "PendingCancel", 0),
        ("orderStatus", 1, "Cancelled", 0),
        ("error", 1, 202),
    ]
    assert sent[2].errorString == "Order Canceled - reason:"


def test_cancelling_an_unknown_or_finished_order(gateway):
    client = Client(gateway, 1)
    sent = client.ask(rq.CancelOrder(orderId=77))
    assert briefs(sent) == [("error", 77, 10147)]
    assert sent[0].errorString == "OrderId 77 that needs to be cancelled is not found."
    client.ask(place(2, mkt("BUY", 10)))
    assert briefs(client.ask(rq.CancelOrder(orderId=2))) == [("error", 2, 10148)]


def test_a_cancel_racing_a_fill_loses_to_it(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway)
    client.ask(place(1, lmt("BUY", 10, price)))
    gateway.world.plan_fills(
        1, 1, FillPlan(slices=(FillSlice(10, price, after=timedelta(seconds=1)),))
    )
    gateway.clock.advance(2)  # the fill is due, but nothing asked the world yet
    sent = client.ask(rq.CancelOrder(orderId=1))
    assert briefs(sent) == [
        ("execDetails", -1, 1, 10),
        ("openOrder", 1, "Filled"),
        ("orderStatus", 1, "Filled", 10),
        ("commissionReport",),
        ("error", 1, 10148),
    ]


def test_another_client_may_cancel_an_order_and_sees_its_outcome(gateway):
    owner, other = Client(gateway, 1), Client(gateway, 2)
    owner.ask(place(296, lmt("BUY", 10, below_market(gateway), tif="GTC")))
    sent = other.ask(rq.CancelOrder(orderId=296))
    # As captured: the canceller gets Cancelled (with its own client id) and the 202.
    assert briefs(sent) == [("orderStatus", 296, "Cancelled", 0), ("error", 296, 202)]
    assert sent[0].clientId == 2
    assert briefs(owner.take()) == [
        ("orderStatus", 296, "PendingCancel", 0),
        ("orderStatus", 296, "Cancelled", 0),
        ("error", 296, 202),
    ]
    assert owner.take() == []


def test_global_cancel_cancels_every_clients_orders(gateway):
    one, two = Client(gateway, 1), Client(gateway, 2)
    one.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    two.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    two.ask(place(2, lmt("BUY", 10, below_market(gateway))))
    assert briefs(one.ask(rq.ReqGlobalCancel())) == [
        ("orderStatus", 1, "PendingCancel", 0),
        ("orderStatus", 1, "Cancelled", 0),
        ("error", 1, 202),
    ]
    assert [b for b in briefs(two.take()) if b[2:3] == ("Cancelled",)] == [
        ("orderStatus", 1, "Cancelled", 0),
        ("orderStatus", 2, "Cancelled", 0),
    ]
    assert gateway.world.open_orders() == []


# -- open orders, client 0 ---------------------------------------------------------------------


def test_open_orders_of_this_client_or_of_all(gateway):
    one, two, master = Client(gateway, 1), Client(gateway, 2), Client(gateway, 0)
    one.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    two.ask(place(5, lmt("BUY", 10, below_market(gateway))))
    assert briefs(one.ask(rq.ReqOpenOrders())) == [("openOrder", 1, "Submitted"), ("openOrderEnd",)]
    everything = [("openOrder", 1, "Submitted"), ("openOrder", 5, "Submitted"), ("openOrderEnd",)]
    assert briefs(one.ask(rq.ReqAllOpenOrders())) == everything
    sent = master.ask(rq.ReqOpenOrders())  # client 0 sees every client's orders
    assert briefs(sent) == everything
    assert [m.order.clientId for m in sent[:2]] == [1, 2]


def test_a_partly_filled_open_order_comes_with_its_status(gateway):
    client = Client(gateway, 1)
    gateway.world.plan_next_fills(FillPlan(slices=(FillSlice(4, 100.0),), then="hold"), AAPL)
    client.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    sent = client.ask(rq.ReqOpenOrders())
    assert briefs(sent) == [
        ("openOrder", 1, "Submitted"),
        ("orderStatus", 1, "Submitted", 4),
        ("openOrderEnd",),
    ]
    assert sent[1].remaining == 6


def test_client_0_observes_other_clients_orders_once_it_auto_binds(gateway):
    master, client = Client(gateway, 0), Client(gateway, 1)
    client.ask(place(1, lmt("BUY", 10, below_market(gateway))))
    assert master.take() == []  # not bound yet
    assert master.ask(rq.ReqAutoOpenOrders(bAutoBind=True)) == []
    client.ask(place(2, mkt("BUY", 10)))
    client.ask(rq.CancelOrder(orderId=1))
    client.ask(rq.CancelOrder(orderId=99))
    sent = master.take()
    assert briefs(sent) == [
        ("openOrder", 2, "PreSubmitted"),
        ("orderStatus", 2, "PreSubmitted", 0),
        ("execDetails", -1, 2, 10),
        ("openOrder", 2, "Filled"),
        ("orderStatus", 2, "Filled", 10),
        ("commissionReport",),
        ("orderStatus", 1, "PendingCancel", 0),
        ("orderStatus", 1, "Cancelled", 0),
        # no errors: those are the placing client's
    ]
    assert {m.clientId for m in sent if isinstance(m, rs.OrderStatus)} == {1}
    # its own orders come once
    assert len(master.ask(place(1, mkt("BUY", 1)))) == 6
    master.ask(rq.ReqAutoOpenOrders(bAutoBind=False))
    client.ask(place(3, mkt("BUY", 10)))
    assert master.take() == []


def test_what_if_goes_to_its_client_only(gateway):
    master, client = Client(gateway, 0), Client(gateway, 1)
    master.ask(rq.ReqAutoOpenOrders(bAutoBind=True))
    sent = client.ask(place(4, mkt("BUY", 10, whatIf=True)))
    assert [type(m) for m in sent] == [rs.OpenOrder]
    assert sent[0].order.whatIf and sent[0].orderState.initMarginChange
    assert master.take() == []
    assert gateway.world.open_orders() == []


def test_auto_open_orders_from_another_client_changes_nothing(gateway):
    one, two = Client(gateway, 1), Client(gateway, 2)
    assert two.ask(rq.ReqAutoOpenOrders(bAutoBind=True)) == []
    one.ask(place(1, mkt("BUY", 10)))
    assert two.take() == []


# -- executions, completed orders, reconnecting ----------------------------------------------------


def test_a_disconnected_clients_order_keeps_working_and_its_fills_are_recovered(gateway):
    client = Client(gateway, 1)
    price = below_market(gateway, 1.0)
    client.ask(place(9, lmt("BUY", 100, price, tif="GTC")))
    client.disconnect()
    gateway.world.set_price(AAPL, price - 1)
    later(gateway, 5)  # it fills while nobody listens
    back = Client(gateway, 1)
    assert back.take() == []
    assert briefs(back.ask(rq.ReqOpenOrders())) == [("openOrderEnd",)]
    sent = back.ask(rq.ReqExecutions(reqId=3, execFilter=ExecutionFilter()))
    assert briefs(sent) == [
        ("execDetails", 3, 9, 100),
        ("commissionReport",),
        ("execDetailsEnd", 3),
    ]
    assert sent[1].commissionReport.execId == sent[0].execution.execId
    (completed, end) = back.ask(rq.ReqCompletedOrders(apiOnly=True))
    assert brief(completed) == ("completedOrder", 9, "Filled")
    assert completed.orderState.completedStatus == "Filled"
    assert isinstance(end, rs.CompletedOrdersEnd)


def test_executions_filters(gateway):
    one, two = Client(gateway, 1), Client(gateway, 2)
    one.ask(place(1, mkt("BUY", 10)))
    one.ask(place(2, mkt("SELL", 5)))
    two.ask(place(1, mkt("BUY", 3), MSFT))

    def fills(**flt: Any) -> list[tuple[int, int, str]]:
        sent = one.ask(rq.ReqExecutions(reqId=8, execFilter=ExecutionFilter(**flt)))
        assert brief(sent[-1]) == ("execDetailsEnd", 8)
        return [
            (m.execution.clientId, m.execution.orderId, m.contract.symbol)
            for m in sent
            if isinstance(m, rs.ExecDetails)
        ]

    assert fills() == [(1, 1, "AAPL"), (1, 2, "AAPL"), (2, 1, "MSFT")]
    assert fills(clientId=2) == [(2, 1, "MSFT")]
    assert fills(symbol="AAPL", side="SELL") == [(1, 2, "AAPL")]
    assert fills(acctCode="DU123456") == fills()
    assert fills(acctCode="DU999") == []
    assert fills(time="20260415 11:00:01 US/Eastern") == []
    assert fills(time="20260415 10:59:00 US/Eastern") == fills()


def test_completed_orders_list_filled_and_cancelled(gateway):
    client = Client(gateway, 1)
    client.ask(place(1, mkt("BUY", 10)))
    client.ask(place(2, lmt("BUY", 10, below_market(gateway))))
    client.ask(rq.CancelOrder(orderId=2))
    sent = client.ask(rq.ReqCompletedOrders(apiOnly=False))
    assert briefs(sent) == [
        ("completedOrder", 1, "Filled"),
        ("completedOrder", 2, "Cancelled"),
        ("completedOrdersEnd",),
    ]
    assert sent[1].orderState.completedStatus == "Cancelled by Trader"
    assert sent[1].orderState.completedTime == "20260415 11:00:00 US/Eastern"
    assert sent[0].order.filledQuantity == 10


# -- the service -----------------------------------------------------------------------------------


@pytest.mark.trio
async def test_the_service_routes_world_events_while_it_runs():
    gateway = make_gateway()
    client = Client(gateway, 1)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(orders_family.route_order_events, gateway)
        await trio.testing.wait_all_tasks_blocked()
        # an order placed on the world directly (as a scenario would) reaches its client
        gateway.world.place_order(1, 1, AAPL, mkt("BUY", 1))
        assert len(client.take()) == 6
        nursery.cancel_scope.cancel()
    gateway.world.place_order(1, 2, AAPL, mkt("BUY", 1))
    assert client.take() == []  # unsubscribed
    assert gateway not in order_events._ROUTERS
