"""scenarios/orders/*: each shipped order scenario against real clients over TCP."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from ib_async import IB, LimitOrder, MarketOrder, StartupFetchNONE, Stock
from ibapi.execution import ExecutionFilter
from ibapi.order_cancel import OrderCancel

from tests.scenarios.support import eventually, order, served, stock

TIMEOUT = 5.0


def test_market_fill_ibapi():
    with served("orders/market_fill") as run:
        client = run.ibapi(1)
        client.placeOrder(1, stock("AAPL"), order("BUY", 100, "MKT"))
        client.wait_status(1, "Filled")
        client.wait_count("commissionReport", 1)
        assert client.order_sequence(1) == [
            "openOrder:PreSubmitted",
            "orderStatus:PreSubmitted",
            "execDetails",
            "openOrder:Filled",
            "orderStatus:Filled",
            "commissionReport",
        ]
        [(_, _, execution)] = client.named("execDetails")
        assert (execution.price, execution.shares) == (150.02, Decimal(100))


@pytest.mark.asyncio
async def test_market_fill_ib_async():
    with served("orders/market_fill") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=3, fetchFields=StartupFetchNONE)
        try:
            trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), MarketOrder("SELL", 10))
            await asyncio.wait_for(_until(lambda: trade.isDone()), TIMEOUT)
            assert trade.orderStatus.status == "Filled"
            assert [f.execution.price for f in trade.fills] == [150.02]
            assert trade.orderStatus.avgFillPrice == 150.02
        finally:
            ib.disconnect()


def test_partial_fills():
    with served("orders/partial_fills") as run:
        client = run.ibapi(1)
        client.placeOrder(5, stock("AAPL"), order("BUY", 100, "LMT", lmtPrice=150.0))
        client.wait_count("execDetails", 1)
        client.wait_status(5, "Submitted")
        run.advance(2)
        client.wait_count("execDetails", 2)
        run.advance(5)
        client.wait_status(5, "Filled")
        fills = [(x.shares, x.price) for _, _, x in client.named("execDetails")]
        assert fills == [(30, 149.98), (30, 149.99), (40, 150.0)]
        last = [a for a in client.named("orderStatus") if a[0] == 5][-1]
        assert last[1:5] == ("Filled", Decimal(100), Decimal(0), pytest.approx(149.991))


@pytest.mark.asyncio
async def test_partial_fills_ib_async():
    with served("orders/partial_fills") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=2, fetchFields=StartupFetchNONE)
        try:
            trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 100, 150))
            await asyncio.wait_for(_until(lambda: len(trade.fills) == 1), TIMEOUT)
            assert trade.orderStatus.status == "Submitted"
            assert trade.orderStatus.filled == 30
            run.advance(2)
            await asyncio.wait_for(_until(lambda: len(trade.fills) == 2), TIMEOUT)
            run.advance(5)
            await asyncio.wait_for(_until(lambda: trade.isDone()), TIMEOUT)
            assert [f.execution.price for f in trade.fills] == [149.98, 149.99, 150.0]
            assert trade.orderStatus.status == "Filled"
        finally:
            ib.disconnect()


def test_resting_limit_filled_later():
    with served("orders/resting_limit_filled_later") as run:
        client = run.ibapi(1)
        client.placeOrder(7, stock("MSFT"), order("BUY", 10, "LMT", lmtPrice=380.0))
        client.wait_status(7, "Submitted")
        run.advance(59)
        run.wait_note("scenario: rule fill-a-minute-later fires")
        assert client.named("execDetails") == []
        run.advance(1)
        client.wait_status(7, "Filled")
        [(_, _, execution)] = client.named("execDetails")
        assert execution.price == 380.0


def test_reject_margin():
    with served("orders/reject_margin") as run:
        client = run.ibapi(1)
        client.placeOrder(2, stock("AAPL"), order("BUY", 5000, "MKT"))
        client.wait_status(2, "Inactive")
        [(req_id, code, text)] = client.errors()
        assert (req_id, code) == (2, 201)
        assert text.startswith("Order rejected - reason:YOUR ORDER IS NOT ACCEPTED.")
        assert client.order_sequence(2) == ["error:201", "orderStatus:Inactive"]
        client.placeOrder(3, stock("AAPL"), order("BUY", 10, "MKT"))  # small ones go through
        client.wait_status(3, "Filled")


@pytest.mark.asyncio
async def test_reject_margin_ib_async():
    with served("orders/reject_margin") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), MarketOrder("BUY", 2000))
            await asyncio.wait_for(_until(lambda: trade.isDone()), TIMEOUT)
            assert trade.orderStatus.status in ("Cancelled", "Inactive")
            assert any(entry.errorCode == 201 for entry in trade.log)
        finally:
            ib.disconnect()


def test_warning_before_status():
    with served("orders/warning_before_status") as run:
        client = run.ibapi(1)
        client.placeOrder(4, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=100.0))
        client.wait_status(4, "Submitted")
        assert client.order_sequence(4)[:3] == [
            "error:10349",
            "openOrder:PreSubmitted",
            "orderStatus:PreSubmitted",
        ]
        client.placeOrder(5, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=100.0, tif="GTC"))
        client.wait_status(5, "Submitted")
        assert "error:10349" not in client.order_sequence(5)


@pytest.mark.asyncio
async def test_warning_before_status_ib_async_recovers_the_order():
    with served("orders/warning_before_status") as run:
        ib = IB()
        await ib.connectAsync("127.0.0.1", run.port, clientId=1, fetchFields=StartupFetchNONE)
        try:
            trade = ib.placeOrder(Stock("AAPL", "SMART", "USD"), LimitOrder("BUY", 10, 100))
            await asyncio.wait_for(_until(lambda: trade.orderStatus.status == "Submitted"), TIMEOUT)
            # ib_async logged the notice against the order (it counts 10349 as an error)
            assert [e.errorCode for e in trade.log if e.errorCode] == [10349]
        finally:
            ib.disconnect()


def test_rejected_after_submit_goes_inactive():
    with served("orders/rejected_after_submit") as run:
        client = run.ibapi(1)
        client.placeOrder(6, stock("MSFT"), order("BUY", 10, "LMT", lmtPrice=300.0))
        client.wait_status(6, "Submitted")
        run.advance(1)
        client.wait_status(6, "Inactive")
        assert client.order_sequence(6)[-2:] == ["error:201", "orderStatus:Inactive"]


def test_cancelled_by_ib():
    with served("orders/cancelled_by_ib") as run:
        client = run.ibapi(1)
        client.placeOrder(8, stock("AAPL"), order("SELL", 10, "LMT", lmtPrice=200.0))
        client.wait_status(8, "Submitted")
        run.advance(30)
        client.wait_for(lambda: 202 in client.codes())
        assert client.order_sequence(8)[-2:] == ["orderStatus:Cancelled", "error:202"]
        assert client.errors()[-1][2] == (
            "Order Canceled - reason:The order was cancelled by the exchange"
        )


def test_cancel_race():
    with served("orders/cancel_race") as run:
        client = run.ibapi(1)
        client.placeOrder(9, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=140.0))
        client.wait_status(9, "Submitted")
        client.cancelOrder(9, OrderCancel())
        client.wait_for(lambda: 10148 in client.codes())
        sequence = client.order_sequence(9)
        assert sequence.index("execDetails") < sequence.index("orderStatus:Filled")
        assert sequence[-1] == "error:10148"
        assert "orderStatus:Cancelled" not in sequence
        assert client.errors()[-1][2] == (
            "OrderId 9 that needs to be cancelled cannot be cancelled, state: Filled."
        )


def test_modify_then_fill():
    with served("orders/modify_then_fill") as run:
        client = run.ibapi(1)
        client.placeOrder(10, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=140.0))
        client.wait_status(10, "Submitted")
        openers = len(client.named("openOrder"))
        client.placeOrder(10, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=145.0))
        client.wait_status(10, "Filled")
        assert len(client.named("openOrder")) > openers  # the modification was confirmed
        [(_, _, execution)] = client.named("execDetails")
        assert execution.price == 145.0


def test_bracket():
    with served("orders/bracket") as run:
        client = run.ibapi(1)
        parent = order("BUY", 10, "LMT", lmtPrice=150.0, transmit=False)
        take = order("SELL", 10, "LMT", lmtPrice=160.0, parentId=20, transmit=False)
        stop = order("SELL", 10, "STP", auxPrice=140.0, parentId=20, transmit=True)
        for order_id, o in ((20, parent), (21, take), (22, stop)):
            client.placeOrder(order_id, stock("AAPL"), o)
        client.wait_status(20, "Filled")
        client.wait_status(21, "Submitted")
        run.advance(60)
        client.wait_status(21, "Filled")
        client.wait_status(22, "Cancelled")
        prices = [x.price for _, _, x in client.named("execDetails")]
        assert prices == [150.0, 160.0]
        assert (22, 202) in [e[:2] for e in client.errors()]


def test_fill_while_disconnected_is_found_after_reconnecting():
    with served("orders/fill_while_disconnected") as run:
        client = run.ibapi(1)
        client.placeOrder(30, stock("AAPL"), order("BUY", 10, "LMT", lmtPrice=149.0))
        client.wait_status(30, "Submitted")  # then the connection drops
        client.wait_closed()
        run.wait_note("disconnected")
        run.advance(10)
        eventually(lambda: run.world(lambda w: w.order(1, 30).status) == "Filled")
        again = run.ibapi(1)
        again.reqExecutions(1, ExecutionFilter())
        again.wait_count("execDetailsEnd", 1)
        [(req_id, _, execution)] = again.named("execDetails")
        assert (req_id, execution.orderId, execution.price) == (1, 30, 149.0)
        assert again.named("commissionReport")
        again.reqCompletedOrders(True)
        again.wait_count("completedOrdersEnd", 1)
        [(_, completed, state)] = again.named("completedOrder")  # (no order id on it)
        assert (completed.lmtPrice, completed.filledQuantity, state.status) == (
            149.0,
            Decimal(10),
            "Filled",
        )


async def _until(condition, step: float = 0.01) -> None:
    while not condition():
        await asyncio.sleep(step)
