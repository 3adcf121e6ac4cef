"""Order ids, placing, modifying, cancelling, order errors, open/completed orders and
executions, against a scripted fake-tws."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import msgspec
import pytest
from ibapi.order import Order

from adapter.client import (
    IBConnectionError,
    IBError,
    IBRequestError,
    IBRequestTimeout,
    OrderEffect,
)
from adapter.common import IBContract
from fake_tws.ibtypes import CommissionReport as CommissionReportData
from fake_tws.ibtypes import Contract, Execution, OrderState
from fake_tws.ibtypes import Order as FakeOrder
from fake_tws.protocol.requests.connection import ReqIds
from fake_tws.protocol.requests.contracts import ReqContractDetails
from fake_tws.protocol.requests.orders import (
    CancelOrder,
    PlaceOrder,
    ReqAllOpenOrders,
    ReqCompletedOrders,
    ReqExecutions,
    ReqOpenOrders,
)
from fake_tws.protocol.responses.orders import (
    CommissionReport,
    CompletedOrder,
    CompletedOrdersEnd,
    ExecDetails,
    ExecDetailsEnd,
    OpenOrder,
    OpenOrderEnd,
    OrderStatus,
)
from tests.adapter.client.support import Events

AAPL = IBContract(secType="STK", conId=265598, symbol="AAPL", exchange="SMART", currency="USD")
AAPL_WIRE = Contract(conId=265598, symbol="AAPL", secType="STK", exchange="SMART", currency="USD")


def limit_order(order_id: int, ref: str = "O-1", account: str = "DU1") -> Order:
    order = Order()
    order.orderId = order_id
    order.account = account
    order.action = "BUY"
    order.orderType = "LMT"
    order.totalQuantity = Decimal(10)
    order.lmtPrice = 189.5
    order.orderRef = ref
    order.contract = AAPL
    return order


def accept(session, request: PlaceOrder) -> None:
    order = msgspec.structs.replace(request.order, orderId=request.orderId)
    session.send(
        OpenOrder(contract=request.contract, order=order, orderState=OrderState(status="Submitted"))
    )
    session.send(
        OrderStatus(
            orderId=request.orderId, status="Submitted", filled=Decimal(0), remaining=Decimal(10)
        ),
    )


@pytest.mark.asyncio
async def test_next_order_id_counts_up_from_next_valid_id_and_asks_for_more(connect, gateway):
    gateway.record(ReqIds)
    client = await connect(first_order_id=42)
    assert [client.next_order_id() for _ in range(3)] == [42, 43, 44]
    assert len(await gateway.requests_of(ReqIds, 3)) == 3


@pytest.mark.asyncio
async def test_order_ids_avoid_request_ids_in_flight(connect, gateway):
    gateway.on(ReqContractDetails)(lambda s, r: None)
    client = await connect(first_order_id=10_000)  # where request ids start
    pending = asyncio.ensure_future(client.get_contract_details(AAPL))
    [request] = await gateway.requests_of(ReqContractDetails)
    assert client.next_order_id() == request.reqId + 1
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending


@pytest.mark.asyncio
async def test_next_order_id_before_connecting_raises(make_client, gateway):
    gateway.start()
    client = make_client(gateway.port)
    with pytest.raises(IBConnectionError):
        client.next_order_id()
    with pytest.raises(IBConnectionError):
        client.place_order(limit_order(1))


@pytest.mark.asyncio
async def test_place_order_reports_open_order_and_status_to_account_handlers(connect, gateway):
    gateway.on(PlaceOrder)(accept)
    client = await connect(accounts=("DU1",))
    opened, statuses = Events(), Events()
    client.subscribe_event("openOrder-DU1", opened)
    client.subscribe_event("orderStatus-DU1", statuses)

    client.place_order(limit_order(client.next_order_id()))

    [request] = await gateway.requests_of(PlaceOrder)
    assert (request.orderId, request.contract.conId, request.order.orderRef) == (1, 265598, "O-1")
    assert (request.order.orderType, request.order.lmtPrice, request.order.totalQuantity) == (
        "LMT",
        189.5,
        Decimal(10),
    )
    [open_order] = await opened.wait()
    assert open_order["order_ref"] == "O-1"
    assert open_order["order"].contract.conId == 265598
    assert open_order["order_state"].status == "Submitted"
    assert (await statuses.wait())[0] == {
        "order_ref": "O-1",
        "order_status": "Submitted",
        "avg_fill_price": 0.0,
        "filled": Decimal(0),
        "remaining": Decimal(10),
    }


@pytest.mark.asyncio
async def test_a_rejected_order_is_reported_as_rejected(connect, gateway):
    gateway.on(PlaceOrder)(
        lambda s, r: s.error(r.orderId, 201, "Order rejected - reason:Insufficient margin"),
    )
    client = await connect(accounts=("DU1",))
    statuses = Events()
    client.subscribe_event("orderStatus-DU1", statuses)
    client.place_order(limit_order(client.next_order_id()))
    [status] = await statuses.wait()
    error = status.pop("error")
    assert status == {
        "order_ref": "O-1",
        "order_status": "Rejected",
        "reason": "Order rejected - reason:Insufficient margin",
    }
    assert (error.code, error.message) == (201, "Order rejected - reason:Insufficient margin")


@pytest.mark.asyncio
async def test_cancel_confirmed_with_202_is_reported_as_cancelled(connect, gateway):
    gateway.on(PlaceOrder)(accept)
    gateway.on(CancelOrder)(lambda s, r: s.error(r.orderId, 202, "Order Canceled - reason:"))
    client = await connect(accounts=("DU1",))
    statuses = Events()
    client.subscribe_event("orderStatus-DU1", statuses)
    order = limit_order(client.next_order_id())
    client.place_order(order)
    await statuses.wait()

    client.cancel_order(order.orderId)

    [cancel] = await gateway.requests_of(CancelOrder)
    assert cancel.orderId == order.orderId
    events = await statuses.wait(2)
    assert (events[1]["order_status"], events[1]["reason"]) == (
        "Cancelled",
        "Order Canceled - reason:",
    )


@pytest.mark.asyncio
async def test_refused_cancel_and_modify_leave_the_order_alive(connect, gateway):
    gateway.on(PlaceOrder)(accept)
    gateway.on(CancelOrder)(
        lambda s, r: s.error(
            r.orderId,
            10148,
            f"OrderId {r.orderId} that needs to be cancelled cannot be cancelled, state: Filled.",
        ),
    )
    client = await connect(accounts=("DU1",))
    statuses, errors = Events(), Events()
    client.subscribe_event("orderStatus-DU1", statuses)
    client.subscribe_event("orderError-DU1", errors)
    order = limit_order(client.next_order_id())
    client.place_order(order)
    await statuses.wait()

    client.cancel_order(order.orderId)
    [cancel_refused] = await errors.wait()
    assert cancel_refused["effect"] is OrderEffect.CANCEL_REJECTED
    assert (cancel_refused["order_ref"], cancel_refused["order_id"]) == ("O-1", order.orderId)
    assert isinstance(cancel_refused["error"], IBError) and cancel_refused["error"].code == 10148

    gateway.on(PlaceOrder)(
        lambda s, r: s.error(r.orderId, 10999, "Some refusal IB did not document")
    )
    order.lmtPrice = 190.0
    client.modify_order(order)
    modify_refused = (await errors.wait(2))[1]
    assert modify_refused["effect"] is OrderEffect.MODIFY_REJECTED
    assert [e["order_status"] for e in statuses.items] == ["Submitted"]  # never "Rejected"
    requests = await gateway.requests_of(PlaceOrder, 2)
    assert [(r.orderId, r.order.lmtPrice) for r in requests] == [(1, 189.5), (1, 190.0)]


def open_orders(session, request) -> None:
    own = FakeOrder(
        orderId=7,
        account="DU1",
        action="BUY",
        orderType="LMT",
        orderRef="O-7",
        totalQuantity=Decimal(1),
    )
    legacy = FakeOrder(
        orderId=8,
        account="DU1",
        action="SELL",
        orderType="MKT",
        orderRef="O-8:8",
        totalQuantity=Decimal(2),
    )
    other = FakeOrder(
        orderId=9,
        account="DU2",
        action="BUY",
        orderType="MKT",
        orderRef="O-9",
        totalQuantity=Decimal(3),
    )
    for order in (own, legacy, other):
        session.send(
            OpenOrder(contract=AAPL_WIRE, order=order, orderState=OrderState(status="Submitted"))
        )
    session.send(OpenOrderEnd())


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("fetch_all", "request_type"), [(False, ReqOpenOrders), (True, ReqAllOpenOrders)]
)
async def test_open_orders_of_an_account(connect, gateway, fetch_all, request_type):
    gateway.on(ReqOpenOrders, ReqAllOpenOrders)(open_orders)
    client = await connect(
        accounts=("DU1", "DU2"),
        client_kwargs={"fetch_all_open_orders": fetch_all},
    )
    orders = await client.get_open_orders("DU1")
    assert [(o.orderId, o.orderRef) for o in orders] == [(7, "O-7"), (8, "O-8")]
    assert orders[0].contract.conId == 265598 and orders[0].order_state.status == "Submitted"
    assert len(await gateway.requests_of(request_type)) == 1
    # Orders it learned of this way route their later errors and events.
    assert client._orders[8].order_ref == "O-8"


@pytest.mark.asyncio
async def test_completed_orders(connect, gateway):
    @gateway.on(ReqCompletedOrders)
    def completed(session, request) -> None:
        order = FakeOrder(
            orderId=3,
            account="DU1",
            action="BUY",
            orderType="MKT",
            orderRef="O-3",
            totalQuantity=Decimal(1),
        )
        state = OrderState(
            status="Filled", completedStatus="Filled", completedTime="20260102 15:00:00"
        )
        session.send(CompletedOrder(contract=AAPL_WIRE, order=order, orderState=state))
        session.send(CompletedOrdersEnd())

    client = await connect()
    [order] = await client.get_completed_orders()
    assert (order.orderRef, order.order_state.completedStatus) == ("O-3", "Filled")
    [request] = await gateway.requests_of(ReqCompletedOrders)
    assert request.apiOnly is True


def execution(exec_id: str, account: str = "DU1", order_ref: str = "O-1") -> Execution:
    return Execution(
        execId=exec_id,
        time="20260102 15:00:00 UTC",
        acctNumber=account,
        exchange="ISLAND",
        side="BOT",
        shares=Decimal(10),
        price=189.5,
        orderId=1,
        cumQty=Decimal(10),
        avgPrice=189.5,
        orderRef=order_ref,
    )


@pytest.mark.asyncio
async def test_get_executions_pairs_executions_with_commissions(connect, gateway):
    @gateway.on(ReqExecutions)
    def executions(session, request) -> None:
        session.send(
            ExecDetails(reqId=request.reqId, contract=AAPL_WIRE, execution=execution("E1"))
        )
        session.send(
            CommissionReport(
                commissionReport=CommissionReportData(execId="E1", commission=1.0, currency="USD")
            )
        )
        session.send(
            ExecDetails(
                reqId=request.reqId,
                contract=AAPL_WIRE,
                execution=execution("E2", order_ref="O-2:5"),
            )
        )
        session.send(ExecDetailsEnd(reqId=request.reqId))

    client = await connect(accounts=("DU1",))
    fills = Events()
    client.subscribe_event("execDetails-DU1", fills)

    reports = await client.get_executions("DU1")

    assert [r["execution"].execId for r in reports] == ["E1", "E2"]
    assert reports[0]["commission_report"].commission == 1.0
    assert reports[1]["commission_report"] is None  # IB sent none: kept, not dropped
    assert reports[0]["contract"].conId == 265598
    [request] = await gateway.requests_of(ReqExecutions)
    assert request.execFilter.acctCode == "DU1"
    assert fills.items == []  # a reconciliation fetch is not a new fill
    assert client._executions == {}


@pytest.mark.asyncio
async def test_a_live_fill_is_reported_once_with_its_commission(connect, gateway):
    client = await connect(accounts=("DU1",))
    fills = Events()
    client.subscribe_event("execDetails-DU1", fills)
    gateway.push(
        ExecDetails(reqId=-1, contract=AAPL_WIRE, execution=execution("E9", order_ref="O-1:1")),
        CommissionReport(
            commissionReport=CommissionReportData(execId="E9", commission=0.5, currency="USD")
        ),
    )
    [fill] = await fills.wait()
    assert fill["order_ref"] == "O-1"
    assert (fill["execution"].execId, fill["commission_report"].commission) == ("E9", 0.5)
    assert fill["contract"].symbol == "AAPL"
    await client.get_server_time()
    assert len(fills.items) == 1 and client._executions == {}


@pytest.mark.asyncio
async def test_an_executions_request_error_raises(connect, gateway):
    gateway.on(ReqExecutions)(lambda s, r: s.error(r.reqId, 321, "Error validating request"))
    client = await connect()
    with pytest.raises(IBRequestError, match="321"):
        await client.get_executions("DU123456")


@pytest.mark.asyncio
async def test_open_orders_time_out_then_ask_again(connect, gateway):
    gateway.on(ReqOpenOrders)(lambda session, request: None)
    client = await connect(accounts=("DU1", "DU2"))
    with pytest.raises(IBRequestTimeout):
        await client.get_open_orders("DU1", timeout=0.05)
    gateway.on(ReqOpenOrders)(open_orders)
    assert len(await client.get_open_orders("DU1")) == 2
    assert len(await gateway.requests_of(ReqOpenOrders, 2)) == 2


@pytest.mark.asyncio
async def test_a_disconnect_while_fetching_open_orders_fails_the_request(connect, gateway):
    gateway.on(ReqOpenOrders)(lambda session, request: session.close("gone"))
    client = await connect()
    with pytest.raises(IBConnectionError, match="lost"):
        await client.get_open_orders("DU123456")
