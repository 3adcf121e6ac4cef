"""The world's scenario controls: planned orders, fills on demand, IB-side rejects and
cancels, static prices, reset."""

from __future__ import annotations

from decimal import Decimal

from fake_tws.broker import (
    ExecutionEvent,
    FillPlan,
    FillSlice,
    OrderErrorEvent,
    OrderStatusEvent,
    World,
    WorldConfig,
)
from fake_tws.ibtypes import Contract, Order

from .conftest import AAPL


def order(kind: str = "MKT", quantity: int = 100, limit: float | None = None) -> Order:
    return Order(action="BUY", orderType=kind, totalQuantity=Decimal(quantity), lmtPrice=limit)


def statuses(events) -> list[str]:
    return [e.status for e in events if isinstance(e, OrderStatusEvent)]


def test_a_planned_order_fills_as_planned_and_holds_the_rest(world):
    world.plan_order(1, 7, FillPlan((FillSlice(Decimal(30), 10.5),), then="hold"))
    events = world.place_order(1, 7, AAPL, order())
    fills = [e.execution for e in events if isinstance(e, ExecutionEvent)]
    assert [(f.shares, f.price) for f in fills] == [(Decimal(30), 10.5)]
    assert world.order(1, 7).status == "Submitted"
    assert world.discard_planned(1, 7) is None  # taken
    world.advance()
    assert world.order(1, 7).filled == Decimal(30)  # the market leaves it alone


def test_a_plan_for_another_id_is_not_taken(world):
    world.plan_order(1, 8, FillPlan((), then="hold"))
    world.place_order(1, 9, AAPL, order(quantity=1))
    assert world.order(1, 9).status == "Filled"
    assert world.discard_planned(1, 8) == FillPlan((), then="hold")


def test_fill_order_fills_now_in_part_then_whole(world):
    world.plan_order(1, 1, FillPlan((), then="hold"))
    world.place_order(1, 1, AAPL, order("LMT", 10, limit=100.0))
    part = world.fill_order(1, 1, Decimal(4))
    assert [e.execution.price for e in part if isinstance(e, ExecutionEvent)] == [100.0]
    rest = world.fill_order(1, 1, price=99.5)
    assert [e.execution.shares for e in rest if isinstance(e, ExecutionEvent)] == [Decimal(6)]
    assert statuses(rest)[-1] == "Filled"
    assert world.fill_order(1, 1) == []  # nothing left to fill


def test_fill_order_of_a_market_order_uses_the_quote(world):
    world.plan_order(1, 2, FillPlan((), then="hold"))
    world.place_order(1, 2, AAPL, order())
    ask = world.quote(AAPL).ask
    events = world.fill_order(1, 2)
    [fill] = [e for e in events if isinstance(e, ExecutionEvent)]
    assert fill.execution.price == ask


def test_reject_order_sends_the_error_then_inactive(world):
    world.place_order(1, 3, AAPL, order("LMT", 5, limit=1.0))
    events = world.reject_order(1, 3, 201, "Order rejected - reason:test")
    assert isinstance(events[0], OrderErrorEvent) and events[0].code == 201
    assert statuses(events) == ["Inactive"]
    assert world.order(1, 3).status == "Inactive"
    assert world.reject_order(1, 3, 201, "again") == []


def test_system_cancel_sends_cancelled_then_the_error(world):
    world.place_order(1, 4, AAPL, order("LMT", 5, limit=1.0))
    events = world.system_cancel(1, 4, 202, "Order Canceled - reason:exchange")
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["OrderStatusEvent", "OrderErrorEvent"]
    assert events[0].status == "Cancelled" and events[1].message.endswith("exchange")


def test_static_prices_do_not_move(clock):
    world = World(clock, WorldConfig(static_prices=True))
    first = world.quote(AAPL).last
    clock.advance(hours=3)
    assert world.quote(AAPL).last == first
    world.set_price(AAPL, 123.45)
    clock.advance(minutes=1)
    assert world.quote(AAPL).last == 123.45


def test_reset_forgets_orders_but_keeps_subscribers(world):
    seen = []
    world.subscribe(seen.append)
    world.place_order(1, 5, AAPL, order(quantity=1))
    world.reset()
    assert world.order(1, 5) is None
    assert world.executions() == []
    seen.clear()
    world.place_order(1, 5, Contract(conId=265598), order(quantity=1))
    assert seen
