"""``InteractiveBrokersExecutionClient`` against fake-tws: the orders it places (read from
the server's journal), the events it makes of IB's answers (applied to the cached orders
as the execution engine would: an event an order refuses fails the test), its reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pandas as pd
import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import (
    BatchCancelOrders,
    CancelAllOrders,
    CancelOrder,
    GenerateFillReports,
    GenerateOrderStatusReport,
    GenerateOrderStatusReports,
    GeneratePositionStatusReports,
)
from nautilus_trader.model.enums import (
    ContingencyType,
    OrderSide,
    OrderStatus,
    OrderType,
    PositionSide,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from nautilus_trader.model.identifiers import ClientOrderId, OrderListId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.model.orders import LimitOrder, OrderList

from adapter.common import IBOrderTags
from fake_tws.broker import AccountConfig, FillPlan, StartPosition
from fake_tws.broker.orders import FillSlice
from fake_tws.ibtypes import CommissionReport, Contract, Execution
from fake_tws.protocol.responses import orders as rs
from tests.adapter.node.clients import ExecHarness, cancel, modify, submit, submit_list
from tests.adapter.node.support import AAPL, ACCOUNT, MSFT, START, server_options

AAPL_CON_ID = 265598


@pytest.fixture
def fake_tws_options():
    return server_options(
        accounts=(
            AccountConfig(
                account_id=ACCOUNT,
                positions=(
                    StartPosition(Contract(symbol="MSFT", secType="STK"), 20, avg_price=390.0),
                ),
            ),
        ),
    )


def journal(fake_tws, name: str) -> list:
    return [e.message for e in fake_tws.journal.entries if e.name == name]


def placed(fake_tws, order) -> list:
    """The placeOrder messages the server received for an order (a modify is another)."""
    return [
        m
        for m in journal(fake_tws, "placeOrder")
        if m.order.orderRef == order.client_order_id.value
    ]


def qty(n) -> Quantity:
    return Quantity.from_int(n)


def px(text) -> Price:
    return Price.from_str(text)


# -- connecting ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_account_the_gateway_does_not_manage_is_a_clear_error(fake_tws):
    h = ExecHarness(fake_tws.port, account="DU999999")
    h.ib.start()
    try:
        with pytest.raises(ValueError, match=r"'DU999999' is not managed .* \['DU123456'\]"):
            await h.client._connect()
    finally:
        h.ib.stop()
        await h.ib.wait_until_stopped()


@pytest.mark.asyncio
async def test_the_account_is_reported_from_the_account_summary(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        [state] = h.accounts
        assert state.is_reported
        [balance] = state.balances
        [margin] = state.margins
        summary = fake_tws.call(
            fake_tws.world.account_summary, "All", "NetLiquidation,FullAvailableFunds"
        )
        values = {i.tag: float(i.value) for i in summary}
        assert balance.total.as_double() == values["NetLiquidation"]
        assert balance.free.as_double() == values["FullAvailableFunds"]
        assert margin.initial.as_double() > 0  # the MSFT position needs margin


# -- orders on the wire ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_order_types_tifs_and_tags_reach_ib_as_ib_names_them(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        o = h.orders
        tags = IBOrderTags(outsideRth=True, ocaGroup="G1", allOrNone=True, hidden=True)
        orders = [
            o.limit(AAPL, OrderSide.BUY, qty(10), px("140.00"), tags=[tags.value]),
            o.stop_limit(
                AAPL,
                OrderSide.SELL,
                qty(10),
                px("139.00"),
                px("140.00"),
                trigger_type=TriggerType.LAST_PRICE,
            ),
            o.trailing_stop_market(
                AAPL,
                OrderSide.SELL,
                qty(10),
                trailing_offset=Decimal(50),
                trailing_offset_type=TrailingOffsetType.BASIS_POINTS,
            ),
            o.limit(
                AAPL,
                OrderSide.BUY,
                qty(10),
                px("141.00"),
                time_in_force=TimeInForce.GTD,
                expire_time=pd.Timestamp(START + timedelta(hours=1)),
            ),
            o.market(AAPL, OrderSide.BUY, qty(1), time_in_force=TimeInForce.AT_THE_CLOSE),
            o.market_if_touched(AAPL, OrderSide.BUY, qty(1), px("145.00")),
        ]
        for order in orders:
            submit(h, order)
        await h.wait(lambda: all(placed(fake_tws, order) for order in orders), "every order")
        lmt, stp_lmt, trail, gtd, moc, mit = (placed(fake_tws, order)[0].order for order in orders)
        assert (lmt.orderType, lmt.lmtPrice, lmt.tif, lmt.account) == ("LMT", 140.0, "GTC", ACCOUNT)
        assert (lmt.outsideRth, lmt.ocaGroup, lmt.ocaType, lmt.allOrNone, lmt.hidden) == (
            True,
            "G1",
            1,
            True,
            True,
        )
        assert (stp_lmt.orderType, stp_lmt.lmtPrice, stp_lmt.auxPrice, stp_lmt.triggerMethod) == (
            "STP LMT",
            139.0,
            140.0,
            2,
        )
        assert (trail.orderType, trail.trailingPercent) == ("TRAIL", 0.5)
        assert (gtd.tif, gtd.goodTillDate) == ("GTD", "20260105-16:00:00")
        assert (moc.orderType, moc.tif) == ("MOC", "DAY")
        assert (mit.orderType, mit.auxPrice) == ("MIT", 145.0)
        await h.wait(lambda: len(h.events_of("OrderAccepted")) >= 4, "acceptances")
        assert h.apply_errors == []


@pytest.mark.asyncio
async def test_what_ib_cannot_take_is_rejected_without_being_sent(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        post_only = submit(
            h, h.orders.limit(AAPL, OrderSide.BUY, qty(1), px("140.00"), post_only=True)
        )
        await h.wait(lambda: h.events_of("OrderRejected", post_only), "the rejection")
        assert "post-only" in h.events_of("OrderRejected", post_only)[0].reason
        assert journal(fake_tws, "placeOrder") == []


@pytest.mark.asyncio
async def test_a_rejection_carries_ibs_code_even_before_any_status(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        order = submit(h, h.orders.market(AAPL, OrderSide.BUY, qty(1_000_000)))  # no margin
        await h.wait(lambda: h.events_of("OrderRejected", order), "the rejection")
        [rejected] = h.events_of("OrderRejected", order)
        assert rejected.reason.startswith("201: ")
        assert h.kinds(order) == ["OrderSubmitted", "OrderRejected"]  # Inactive adds nothing
        assert h.apply_errors == []


@pytest.mark.asyncio
async def test_a_what_if_order_reports_its_margin_preview_and_is_not_placed(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        tags = IBOrderTags(whatIf=True)
        order = submit(
            h, h.orders.limit(AAPL, OrderSide.BUY, qty(100), px("150.00"), tags=[tags.value])
        )
        await h.wait(lambda: h.events_of("OrderRejected", order), "the preview")
        [preview] = h.events_of("OrderRejected", order)
        assert '"whatIf"' in preview.reason and "initMarginChange" in preview.reason
        assert fake_tws.call(fake_tws.world.open_orders) == []


@pytest.mark.asyncio
async def test_an_order_ib_sets_inactive_after_taking_it_is_canceled(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        # fill-or-kill away from the market: PreSubmitted, then Inactive
        order = submit(
            h,
            h.orders.limit(
                AAPL, OrderSide.BUY, qty(10), px("140.00"), time_in_force=TimeInForce.FOK
            ),
        )
        await h.wait(lambda: h.events_of("OrderCanceled", order), "the cancel")
        assert h.kinds(order) == ["OrderSubmitted", "OrderAccepted", "OrderCanceled"]
        assert h.apply_errors == []


# -- fills -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_partial_fills_with_commissions_each_execution_once(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        fake_tws.call(
            fake_tws.world.plan_next_fills,
            FillPlan(
                slices=(FillSlice(40, 150.0), FillSlice(60, 150.01, after=timedelta(seconds=1)))
            ),
            AAPL_CON_ID,
        )
        order = submit(h, h.orders.limit(AAPL, OrderSide.BUY, qty(100), px("150.05")))
        await h.wait(lambda: h.events_of("OrderFilled", order), "the first fill")
        fake_tws.advance(2)
        await h.wait(lambda: len(h.events_of("OrderFilled", order)) == 2, "the second fill")
        fills = h.events_of("OrderFilled", order)
        assert [(f.last_qty, f.last_px) for f in fills] == [
            (qty(40), px("150.00")),
            (qty(60), px("150.01")),
        ]
        assert all(f.commission.currency.code == "USD" for f in fills)
        assert fills[0].commission.as_double() > 0

        # IB sends an execution again (as after a reqExecutions of another client): no new fill
        repeats = [
            e.message
            for e in fake_tws.journal.entries
            if isinstance(e.message, rs.ExecDetails | rs.CommissionReport)
            and e.name != "execDetailsEnd"
        ]
        fake_tws.call(lambda: [s.send(m) for s in fake_tws.server.sessions for m in repeats])
        await asyncio.sleep(0.05)
        assert len(h.events_of("OrderFilled", order)) == 2
        assert h.kinds(order) == ["OrderSubmitted", "OrderAccepted", "OrderFilled", "OrderFilled"]
        assert h.apply_errors == []
        await h.wait(lambda: len(h.accounts) >= 2, "the account refreshed after the fills")


@pytest.mark.asyncio
async def test_a_cancel_that_overtakes_its_fills_waits_for_them(fake_tws):
    """IB reports "Cancelled, 10 filled" before the execution of those 10 arrives: the
    fill comes first, then the cancel, so no fill lands on a closed order."""
    async with ExecHarness(fake_tws.port) as h:
        order = submit(h, h.orders.limit(AAPL, OrderSide.BUY, qty(100), px("149.00")))
        await h.wait(lambda: h.events_of("OrderAccepted", order), "acceptance")
        [request] = placed(fake_tws, order)
        status = rs.OrderStatus(
            orderId=request.orderId,
            status="Cancelled",
            filled=Decimal(10),
            remaining=Decimal(0),
            avgFillPrice=149.0,
        )
        execution = Execution(
            execId="0000aaaa.00000001.01.01",
            time="20260105 10:00:00 US/Eastern",
            acctNumber=ACCOUNT,
            exchange="ISLAND",
            side="BOT",
            shares=Decimal(10),
            price=149.0,
            orderId=request.orderId,
            cumQty=Decimal(10),
            avgPrice=149.0,
            orderRef=order.client_order_id.value,
        )
        late = [
            rs.ExecDetails(reqId=-1, contract=request.contract, execution=execution),
            rs.CommissionReport(
                commissionReport=CommissionReport(
                    execId=execution.execId, commission=1.0, currency="USD"
                ),
            ),
        ]
        sessions = fake_tws.server.sessions
        fake_tws.call(lambda: [s.send(status) for s in sessions])
        await asyncio.sleep(0.05)
        assert h.events_of("OrderCanceled", order) == []  # waiting for the 10
        fake_tws.call(lambda: [s.send(m) for s in sessions for m in late])
        await h.wait(lambda: h.events_of("OrderCanceled", order), "the cancel")
        assert h.kinds(order)[-2:] == ["OrderFilled", "OrderCanceled"]
        assert h.apply_errors == []


# -- changes ---------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_modify_and_cancel_and_their_refusals(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        order = submit(h, h.orders.stop_market(AAPL, OrderSide.SELL, qty(10), px("140.00")))
        await h.wait(lambda: h.events_of("OrderAccepted", order), "acceptance")
        modify(h, order, quantity=qty(20), trigger=px("141.00"))
        await h.wait(lambda: h.events_of("OrderUpdated", order), "the update")
        [updated] = h.events_of("OrderUpdated", order)
        assert (updated.quantity, updated.trigger_price) == (qty(20), px("141.00"))
        [_, again] = placed(fake_tws, order)
        assert (again.orderId, again.order.totalQuantity, again.order.auxPrice) == (
            placed(fake_tws, order)[0].orderId,
            Decimal(20),
            141.0,
        )
        order_id = again.orderId

        # IB refuses a modify and a cancel: the order lives on, unchanged
        fake_tws.send_error(104, "Can't modify a filled order", req_id=order_id)
        await h.wait(lambda: h.events_of("OrderModifyRejected", order), "modify rejected")
        assert h.events_of("OrderModifyRejected", order)[0].reason.startswith("104: ")
        fake_tws.send_error(
            10148, "OrderId that needs to be cancelled cannot be cancelled", req_id=order_id
        )
        await h.wait(lambda: h.events_of("OrderCancelRejected", order), "cancel rejected")
        assert h.events_of("OrderCancelRejected", order)[0].reason.startswith("10148: ")
        assert order.status == OrderStatus.ACCEPTED

        # a cancel IB accepts: PendingCancel, Cancelled and error 202 make one event
        cancel(h, order)
        await h.wait(lambda: h.events_of("OrderCanceled", order), "the cancel")
        await asyncio.sleep(0.05)
        assert len(h.events_of("OrderCanceled", order)) == 1
        assert order.status == OrderStatus.CANCELED
        assert h.apply_errors == []


@pytest.mark.asyncio
async def test_cancel_all_and_batch_cancel_touch_only_the_orders_asked_for(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        buys = [
            submit(h, h.orders.limit(AAPL, OrderSide.BUY, qty(1), px(f"14{i}.00")))
            for i in range(3)
        ]
        sell = submit(h, h.orders.limit(AAPL, OrderSide.SELL, qty(1), px("160.00")))
        other = submit(h, h.orders.limit(MSFT, OrderSide.BUY, qty(1), px("390.00")))
        everyone = [*buys, sell, other]
        await h.wait(lambda: all(h.events_of("OrderAccepted", o) for o in everyone), "acceptance")
        h.client.cancel_all_orders(
            CancelAllOrders(
                trader_id=sell.trader_id,
                strategy_id=sell.strategy_id,
                instrument_id=AAPL,
                order_side=OrderSide.BUY,
                command_id=UUID4(),
                ts_init=0,
            ),
        )
        await h.wait(
            lambda: all(h.events_of("OrderCanceled", o) for o in buys), "the buys cancelled"
        )
        assert journal(fake_tws, "reqGlobalCancel") == []
        h.client.batch_cancel_orders(
            BatchCancelOrders(
                trader_id=sell.trader_id,
                strategy_id=sell.strategy_id,
                instrument_id=AAPL,
                cancels=[
                    CancelOrder(
                        trader_id=sell.trader_id,
                        strategy_id=sell.strategy_id,
                        instrument_id=AAPL,
                        client_order_id=sell.client_order_id,
                        venue_order_id=None,
                        command_id=UUID4(),
                        ts_init=0,
                    ),
                ],
                command_id=UUID4(),
                ts_init=0,
            ),
        )
        await h.wait(lambda: h.events_of("OrderCanceled", sell), "the sell cancelled")
        await asyncio.sleep(0.05)
        assert h.events_of("OrderCanceled", other) == []
        assert h.apply_errors == []


@pytest.mark.asyncio
async def test_a_gtd_order_ib_ends_at_its_time_expires(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        order = submit(
            h,
            h.orders.limit(
                AAPL,
                OrderSide.BUY,
                qty(10),
                px("140.00"),
                time_in_force=TimeInForce.GTD,
                expire_time=pd.Timestamp(START + timedelta(seconds=30)),
            ),
        )
        await h.wait(lambda: h.events_of("OrderAccepted", order), "acceptance")
        fake_tws.advance(31)
        await h.wait(lambda: h.events_of("OrderExpired", order), "the expiry")
        assert h.events_of("OrderCanceled", order) == []


@pytest.mark.asyncio
async def test_order_lists_brackets_and_oco_groups(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        o = h.orders
        bracket = o.bracket(
            AAPL,
            OrderSide.BUY,
            qty(10),
            entry_price=px("145.00"),
            entry_order_type=OrderType.LIMIT,
            sl_trigger_price=px("140.00"),
            tp_price=px("160.00"),
            tp_post_only=False,
        )
        submit_list(h, bracket)
        await h.wait(lambda: all(placed(fake_tws, x) for x in bracket.orders), "the bracket")
        entry, stop, target = (placed(fake_tws, x)[0] for x in bracket.orders)
        assert (stop.order.parentId, target.order.parentId) == (entry.orderId, entry.orderId)
        assert [entry.order.transmit, stop.order.transmit, target.order.transmit] == [
            False,
            False,
            True,
        ]

        ids = [ClientOrderId("OCO-A"), ClientOrderId("OCO-B")]

        def oco(i: int, side: OrderSide, price: str) -> LimitOrder:
            return LimitOrder(
                trader_id=bracket.first.trader_id,
                strategy_id=bracket.first.strategy_id,
                instrument_id=AAPL,
                client_order_id=ids[i],
                order_side=side,
                quantity=qty(1),
                price=px(price),
                init_id=UUID4(),
                ts_init=0,
                contingency_type=ContingencyType.OCO,
                order_list_id=OrderListId("L-1"),
                linked_order_ids=[ids[1 - i]],
            )

        a, b = oco(0, OrderSide.BUY, "141.00"), oco(1, OrderSide.SELL, "159.00")
        submit_list(h, OrderList(OrderListId("L-1"), [a, b]))
        await h.wait(lambda: placed(fake_tws, a) and placed(fake_tws, b), "the OCO pair")
        pa, pb = placed(fake_tws, a)[0].order, placed(fake_tws, b)[0].order
        assert (pa.ocaGroup, pa.ocaType, pa.transmit) == ("OCA-L-1", 1, True)
        assert (pb.ocaGroup, pb.ocaType, pb.transmit) == ("OCA-L-1", 1, True)
        await h.wait(
            lambda: all(h.events_of("OrderAccepted", x) for x in [*bracket.orders, a, b]),
            "acceptance",
        )
        assert h.apply_errors == []


# -- reports ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_reports_of_orders_fills_and_positions(fake_tws):
    async with ExecHarness(fake_tws.port) as h:
        fake_tws.call(
            fake_tws.world.plan_next_fills,
            FillPlan(slices=(FillSlice(30, 150.0),), then="hold"),
            AAPL_CON_ID,
        )
        partly = submit(h, h.orders.limit(AAPL, OrderSide.BUY, qty(100), px("150.05")))
        await h.wait(lambda: h.events_of("OrderFilled", partly), "the partial fill")
        done = submit(h, h.orders.market(MSFT, OrderSide.SELL, qty(5)))
        await h.wait(lambda: h.events_of("OrderFilled", done), "the market fill")

        reports = await h.client.generate_order_status_reports(
            GenerateOrderStatusReports(None, None, None, False, UUID4(), 0),
        )
        by_id = {r.client_order_id: r for r in reports}
        report = by_id[partly.client_order_id]
        assert (report.order_status, report.filled_qty, report.quantity) == (
            OrderStatus.PARTIALLY_FILLED,
            qty(30),
            qty(100),
        )
        assert report.avg_px == Decimal("150.0") and report.price == px("150.05")
        single = await h.client.generate_order_status_report(
            GenerateOrderStatusReport(None, partly.client_order_id, None, UUID4(), 0),
        )
        assert single.venue_order_id == report.venue_order_id

        fills = await h.client.generate_fill_reports(
            GenerateFillReports(None, None, None, None, UUID4(), 0)
        )
        assert {(f.client_order_id, f.last_qty) for f in fills} == {
            (partly.client_order_id, qty(30)),
            (done.client_order_id, qty(5)),
        }
        assert all(f.commission.as_double() > 0 for f in fills)
        live = {e.trade_id for e in h.events_of("OrderFilled")}
        assert {f.trade_id for f in fills} == live  # the same executions, the same ids

        positions = await h.client.generate_position_status_reports(
            GeneratePositionStatusReports(None, None, None, UUID4(), 0),
        )
        by_instrument = {p.instrument_id: p for p in positions}
        assert (by_instrument[AAPL].position_side, by_instrument[AAPL].quantity) == (
            PositionSide.LONG,
            qty(30),
        )
        assert (by_instrument[MSFT].position_side, by_instrument[MSFT].quantity) == (
            PositionSide.LONG,
            qty(15),
        )
        assert by_instrument[MSFT].avg_px_open == Decimal("390.00")  # per share
        from nautilus_trader.model.identifiers import InstrumentId

        spy = InstrumentId.from_str("SPY.ARCA")
        [flat] = await h.client.generate_position_status_reports(
            GeneratePositionStatusReports(spy, None, None, UUID4(), 0),
        )
        assert (flat.instrument_id, flat.position_side) == (spy, PositionSide.FLAT)
