import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fake_tws.broker import (
    ExecutionEvent,
    FillPlan,
    FillSlice,
    OpenOrderEvent,
    OrderErrorEvent,
    OrderStatusEvent,
    World,
    WorldConfig,
)
from fake_tws.ibtypes import Contract, ExecutionFilter, Order

from .conftest import AAPL, ACCOUNT, ManualClock

BTC = Contract(symbol="BTC", secType="CRYPTO", exchange="PAXOS")
MES = Contract(symbol="MES", secType="FUT", exchange="CME", lastTradeDateOrContractMonth="202606")


def statuses(events, order_id=None):
    return [
        e.status
        for e in events
        if isinstance(e, OrderStatusEvent) and (order_id is None or e.order_id == order_id)
    ]


def execs(events, order_id=None):
    return [
        e
        for e in events
        if isinstance(e, ExecutionEvent) and (order_id is None or e.order_id == order_id)
    ]


def errors(events):
    return [(e.code, e.message) for e in events if isinstance(e, OrderErrorEvent)]


def last_status(events, order_id):
    return [e for e in events if isinstance(e, OrderStatusEvent) and e.order_id == order_id][-1]


def mkt(action, qty, **kw):
    return Order(action=action, orderType="MKT", totalQuantity=Decimal(qty), **kw)


def lmt(action, qty, price, **kw):
    return Order(action=action, orderType="LMT", totalQuantity=Decimal(qty), lmtPrice=price, **kw)


def stp(action, qty, aux, **kw):
    return Order(action=action, orderType="STP", totalQuantity=Decimal(qty), auxPrice=aux, **kw)


def test_market_order_fills_at_once_like_a_gateway(world):
    q = world.quote(AAPL)
    events = world.place_order(1, 1, AAPL, mkt("BUY", 100))
    assert statuses(events) == ["PreSubmitted", "Filled"]
    kinds = [type(e).__name__ for e in events][:5]
    assert kinds == [
        "OpenOrderEvent",
        "OrderStatusEvent",
        "ExecutionEvent",
        "OpenOrderEvent",
        "OrderStatusEvent",
    ]
    (fill,) = execs(events)
    e = fill.execution
    assert re.fullmatch(r"[0-9a-f]{8}\.[0-9a-f]{8}\.01\.01", e.execId)
    assert (e.side, e.shares, e.price, e.acctNumber) == ("BOT", Decimal(100), q.ask, ACCOUNT)
    assert e.time.endswith("US/Eastern") and e.time.startswith("20260415 11:00:00")
    assert e.lastLiquidity == 2
    assert fill.commission_report.commission == 1.0  # 100 x 0.005 is under the minimum
    done = last_status(events, 1)
    assert (done.filled, done.remaining, done.avg_fill_price) == (Decimal(100), 0, q.ask)
    filled_open_order = [e for e in events if isinstance(e, OpenOrderEvent)][-1]
    assert filled_open_order.order_state.status == "Filled"
    assert filled_open_order.order_state.commission == 1.0


def test_a_large_market_order_walks_the_book_in_slices(world):
    events = world.place_order(1, 1, AAPL, mkt("SELL", 8_000))
    fills = execs(events)
    assert len(fills) > 1
    prices = [f.execution.price for f in fills]
    assert prices == sorted(prices, reverse=True) and len(set(prices)) == len(prices)
    assert sum(f.execution.shares for f in fills) == 8_000
    assert [f.execution.cumQty for f in fills][-1] == 8_000
    assert (
        statuses(events)[:2] == ["PreSubmitted", "Submitted"] and statuses(events)[-1] == "Filled"
    )
    total = sum(Decimal(repr(f.commission_report.commission)) for f in fills)
    assert total == Decimal("40.00")  # 8,000 x 0.005, charged across the slices
    notional = sum(f.execution.shares * Decimal(repr(f.execution.price)) for f in fills)
    assert last_status(events, 1).avg_fill_price == pytest.approx(float(notional / 8_000))


def test_resting_limit_waits_for_a_print_that_crosses_it(world, clock):
    q = world.quote(AAPL)
    limit = round(q.bid - 0.25, 2)
    placed = world.place_order(1, 1, AAPL, lmt("BUY", 100, limit))
    assert statuses(placed) == ["PreSubmitted", "Submitted"] and not execs(placed)
    crossing = world.market.first_print(
        265598, clock.moment, clock.moment + timedelta(days=3), at_or_below=limit - 0.01
    )
    clock.set(crossing.at - timedelta(seconds=1))
    assert not execs(world.advance())
    clock.set(crossing.at + timedelta(seconds=5))
    events = world.advance()
    (fill,) = execs(events)
    assert fill.time == crossing.at and fill.execution.price <= limit
    assert fill.execution.lastLiquidity == 1
    assert statuses(events) == ["Filled"]


def test_a_big_resting_order_fills_in_parts_over_several_prints(world, clock):
    q = world.quote(AAPL)
    limit = round(q.bid - 0.10, 2)
    world.place_order(1, 1, AAPL, lmt("BUY", 10_000, limit))
    clock.advance(hours=4)
    events = world.advance()
    fills = execs(events)
    assert len({f.time for f in fills}) > 1  # several moments
    assert all(f.execution.price <= limit for f in fills)
    partial = [e for e in events if isinstance(e, OrderStatusEvent) and 0 < e.filled < 10_000]
    assert partial and all(e.status == "Submitted" for e in partial)


def test_ioc_cancels_what_it_cannot_fill(world):
    q = world.quote(AAPL)
    events = world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 1, 2), tif="IOC"))
    assert statuses(events) == ["PreSubmitted", "Submitted", "PendingCancel", "Cancelled"]
    big = world.place_order(1, 2, AAPL, lmt("BUY", 10_000, q.ask, tif="IOC"))
    assert execs(big) and statuses(big)[-1] == "Cancelled"
    assert 0 < last_status(big, 2).filled < 10_000


def test_fok_fills_completely_or_goes_inactive(world):
    q = world.quote(AAPL)
    assert statuses(world.place_order(1, 1, AAPL, lmt("BUY", 10_000, q.ask, tif="FOK"))) == [
        "PreSubmitted",
        "Inactive",
    ]
    assert (
        statuses(world.place_order(1, 2, AAPL, lmt("BUY", 100, q.ask, tif="FOK")))[-1] == "Filled"
    )


def test_stop_is_held_until_its_trigger_prints(world, clock):
    q = world.quote(AAPL)
    aux = round(q.bid - 2.0, 2)
    events = world.place_order(1, 1, AAPL, stp("SELL", 100, aux))
    assert statuses(events) == ["PreSubmitted"]
    assert last_status(events, 1).why_held == "trigger"
    clock.advance(seconds=10)
    world.set_price(AAPL, aux - 1.0)
    clock.advance(seconds=20)
    later = world.advance()
    assert statuses(later) == ["Submitted", "Filled"]
    (fill,) = execs(later)
    assert fill.execution.price < aux and fill.execution.side == "SLD"


def test_stop_limit_triggers_but_does_not_chase(world, clock):
    q = world.quote(AAPL)
    aux = round(q.bid - 2.0, 2)
    order = Order(
        action="SELL",
        orderType="STP LMT",
        totalQuantity=Decimal(100),
        auxPrice=aux,
        lmtPrice=round(aux - 0.05, 2),
    )
    world.place_order(1, 1, AAPL, order)
    clock.advance(seconds=10)
    world.set_price(AAPL, aux - 3.0)
    clock.advance(seconds=20)
    later = world.advance()
    assert statuses(later) == ["Submitted"] and not execs(later)


def test_market_if_touched_buys_on_the_dip(world, clock):
    q = world.quote(AAPL)
    aux = round(q.bid - 2.0, 2)
    order = Order(action="BUY", orderType="MIT", totalQuantity=Decimal(50), auxPrice=aux)
    assert statuses(world.place_order(1, 1, AAPL, order)) == ["PreSubmitted"]
    clock.advance(seconds=10)
    world.set_price(AAPL, aux - 0.5)
    clock.advance(seconds=20)
    assert statuses(world.advance())[-1] == "Filled"


def test_trailing_stop_follows_the_high_then_triggers(world, clock):
    q = world.quote(AAPL)
    order = Order(action="SELL", orderType="TRAIL", totalQuantity=Decimal(10), auxPrice=3.0)
    world.place_order(1, 1, AAPL, order)
    clock.advance(seconds=10)
    world.set_price(AAPL, q.last + 10)  # the stop rises with the price...
    clock.advance(seconds=30)
    assert not execs(world.advance())
    world.set_price(AAPL, q.last + 4)  # ...so a fall that would not reach the old stop triggers
    clock.advance(seconds=30)
    events = world.advance()
    (fill,) = execs(events)
    assert q.last + 3 < fill.execution.price < q.last + 7.5


def test_trailing_limit_uses_the_stop_and_offset(world, clock):
    q = world.quote(AAPL)
    order = Order(
        action="SELL",
        orderType="TRAIL LIMIT",
        totalQuantity=Decimal(10),
        auxPrice=1.0,
        lmtPriceOffset=0.5,
    )
    world.place_order(1, 1, AAPL, order)
    clock.advance(seconds=10)
    world.set_price(AAPL, q.last - 5)  # gaps far below stop - offset: triggered, not filled
    clock.advance(seconds=30)
    events = world.advance()
    assert statuses(events) == ["Submitted"] and not execs(events)


def test_market_on_close_fills_at_the_closing_print(world, clock):
    world.place_order(1, 1, AAPL, Order(action="BUY", orderType="MOC", totalQuantity=Decimal(10)))
    q = world.quote(AAPL)
    world.place_order(
        1,
        2,
        AAPL,
        Order(
            action="BUY", orderType="LOC", totalQuantity=Decimal(10), lmtPrice=round(q.bid * 0.5, 2)
        ),
    )
    clock.set(datetime(2026, 4, 15, 21, 0, tzinfo=UTC))
    events = world.advance()
    close = world.market.last_print(
        265598, datetime(2026, 4, 15, 20, 0, tzinfo=UTC).timestamp() - 1
    )
    (fill,) = execs(events, 1)
    assert fill.execution.price == close.price
    assert fill.time == datetime(2026, 4, 15, 20, 0, tzinfo=UTC)
    assert statuses(events, 2) == ["Cancelled"]


def test_opening_order_fills_at_the_opening_print(clock):
    clock.set(datetime(2026, 4, 15, 12, 0, tzinfo=UTC))  # 08:00 ET, pre-market
    world = World(clock, WorldConfig(seed=2))
    events = world.place_order(1, 1, AAPL, mkt("BUY", 10, tif="OPG"))
    assert statuses(events) == ["PreSubmitted"]
    clock.set(datetime(2026, 4, 15, 14, 0, tzinfo=UTC))
    events = world.advance()
    opening = world.market.first_print(
        265598, datetime(2026, 4, 15, 13, 30, tzinfo=UTC), clock.moment
    )
    (fill,) = execs(events)
    assert fill.execution.price == opening.price


def test_midprice_fills_inside_the_spread(world):
    q = world.quote(AAPL)
    order = Order(action="BUY", orderType="MIDPRICE", totalQuantity=Decimal(10))
    (fill,) = execs(world.place_order(1, 1, AAPL, order))
    assert q.bid <= fill.execution.price <= q.ask


def test_day_orders_expire_at_the_close_and_gtc_orders_do_not(world, clock):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid * 0.5, 2)))
    world.place_order(1, 2, AAPL, lmt("BUY", 10, round(q.bid * 0.5, 2), tif="GTC"))
    gtd = lmt(
        "BUY", 10, round(q.bid * 0.5, 2), tif="GTD", goodTillDate="20260415 12:00:00 US/Eastern"
    )
    world.place_order(1, 3, AAPL, gtd)
    clock.set(datetime(2026, 4, 16, 15, 0, tzinfo=UTC))
    events = world.advance()
    assert statuses(events, 1) == ["Cancelled"] and statuses(events, 3) == ["Cancelled"]
    assert [o.order_id for o in world.open_orders()] == [2]
    day = next(o for o in world.completed_orders() if o.order_id == 1)
    assert day.order_state.completedStatus == "Cancelled by System"
    assert day.order_state.completedTime == "20260415 16:00:00 US/Eastern"


def test_outside_rth_lets_an_order_work_after_hours(clock):
    clock.set(datetime(2026, 4, 15, 22, 0, tzinfo=UTC))  # 18:00 ET, after hours
    world = World(clock, WorldConfig(seed=4))
    q = world.quote(AAPL)
    held = world.place_order(1, 1, AAPL, lmt("BUY", 10, q.ask))
    assert statuses(held) == ["PreSubmitted"]
    working = world.place_order(1, 2, AAPL, lmt("BUY", 10, q.ask, outsideRth=True))
    assert statuses(working)[-1] == "Filled"
    clock.set(datetime(2026, 4, 16, 14, 0, tzinfo=UTC))  # next morning, 10:00 ET
    events = world.advance()
    assert statuses(events, 1)[0] == "Submitted"


def test_transmit_false_stays_silent_until_transmitted(world):
    q = world.quote(AAPL)
    staged = lmt("BUY", 10, round(q.bid - 1, 2), transmit=False)
    assert world.place_order(1, 1, AAPL, staged) == []
    assert world.open_orders() == []
    events = world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 1, 2)))
    assert statuses(events) == ["PreSubmitted", "Submitted"]


def test_bracket_children_wait_for_the_parent_and_cancel_each_other(world, clock):
    q = world.quote(AAPL)
    parent = lmt("BUY", 100, round(q.ask + 0.05, 2), transmit=False)
    take_profit = lmt("SELL", 100, round(q.ask + 3.0, 2), parentId=1, transmit=False)
    stop_loss = stp("SELL", 100, round(q.bid - 3.0, 2), parentId=1, transmit=True)
    assert world.place_order(1, 1, AAPL, parent) == []
    assert world.place_order(1, 2, AAPL, take_profit) == []
    events = world.place_order(1, 3, AAPL, stop_loss)
    opened = [e.order_id for e in events if isinstance(e, OpenOrderEvent)]
    assert opened[:3] == [1, 2, 3]
    assert statuses(events, 1)[-1] == "Filled"
    assert statuses(events, 2)[-1] == "Submitted"  # activated by the parent's fill
    assert statuses(events, 3) == ["PreSubmitted"]  # a stop: waiting for its trigger
    assert last_status(events, 2).parent_id == 1
    clock.advance(seconds=10)
    world.set_price(AAPL, q.ask + 5.0)
    clock.advance(seconds=20)
    later = world.advance()
    assert statuses(later, 2)[-1] == "Filled"
    assert statuses(later, 3) == ["Cancelled"]
    assert world.positions()[0].position == 0


def test_children_of_a_cancelled_parent_are_cancelled(world):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 2, 2), transmit=False))
    world.place_order(1, 2, AAPL, lmt("SELL", 10, round(q.bid + 2, 2), parentId=1))
    events = world.cancel_order(1, 1)
    assert statuses(events, 1) == ["PendingCancel", "Cancelled"]
    assert statuses(events, 2) == ["Cancelled"]
    assert (202, "Order Canceled - reason:") in errors(events)


def test_oca_type_1_cancels_the_others_and_type_3_reduces_them(world, clock):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, q.ask, ocaGroup="g1", ocaType=1, transmit=False))
    world.place_order(1, 2, AAPL, lmt("BUY", 10, round(q.bid - 5, 2), ocaGroup="g1", ocaType=1))
    events = world.place_order(1, 1, AAPL, lmt("BUY", 10, q.ask, ocaGroup="g1", ocaType=1))
    assert statuses(events, 1)[-1] == "Filled" and statuses(events, 2)[-1] == "Cancelled"
    world.place_order(1, 3, AAPL, lmt("SELL", 100, round(q.bid + 5, 2), ocaGroup="g3", ocaType=3))
    plan = FillPlan(slices=(FillSlice(40, q.bid),), then="hold")
    world.plan_next_fills(plan, AAPL)
    events = world.place_order(1, 4, AAPL, lmt("SELL", 100, q.bid, ocaGroup="g3", ocaType=3))
    reduced = [e for e in events if isinstance(e, OpenOrderEvent) and e.order_id == 3]
    assert reduced[-1].order.totalQuantity == 60
    assert last_status(events, 3).remaining == 60


def test_cancel_replies(world):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 2, 2)))
    events = world.cancel_order(1, 1)
    assert statuses(events) == ["PendingCancel", "Cancelled"]
    assert errors(events) == [(202, "Order Canceled - reason:")]
    assert errors(world.cancel_order(1, 1)) == [
        (10148, "OrderId 1 that needs to be cancelled cannot be cancelled, state: Cancelled.")
    ]
    assert errors(world.cancel_order(1, 77)) == [
        (10147, "OrderId 77 that needs to be cancelled is not found.")
    ]


def test_any_client_can_cancel_and_global_cancel_reaches_all(world):
    q = world.quote(AAPL)
    world.place_order(1, 5, AAPL, lmt("BUY", 10, round(q.bid - 2, 2), tif="GTC"))
    assert statuses(world.cancel_order(2, 5))[-1] == "Cancelled"
    world.place_order(1, 6, AAPL, lmt("BUY", 10, round(q.bid - 2, 2)))
    world.place_order(2, 6, AAPL, lmt("BUY", 10, round(q.bid - 2, 2)))
    events = world.global_cancel()
    assert sorted(
        (e.client_id, e.order_id) for e in events if getattr(e, "status", "") == "Cancelled"
    ) == [
        (1, 6),
        (2, 6),
    ]
    assert world.open_orders() == []


def test_modifying_a_live_order(world):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 2, 2)))
    events = world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 1, 2)))
    assert [type(e).__name__ for e in events] == ["OpenOrderEvent", "OrderStatusEvent"]
    assert events[0].order.lmtPrice == round(q.bid - 1, 2) and events[1].status == "Submitted"
    events = world.place_order(1, 1, AAPL, mkt("BUY", 10))
    assert statuses(events)[-1] == "Filled"
    assert errors(world.place_order(1, 1, AAPL, mkt("BUY", 10))) == [
        (104, "Can't modify a filled order.")
    ]


@pytest.mark.parametrize(
    ("contract", "order", "code"),
    [
        (AAPL, lmt("BUY", 10, 100.001), 110),
        (AAPL, Order(action="BUY", orderType="LMT", totalQuantity=Decimal(10)), 201),
        (AAPL, Order(action="BUY", orderType="FEELINGS", totalQuantity=Decimal(1)), 321),
        (AAPL, Order(action="HOLD", orderType="MKT", totalQuantity=Decimal(1)), 321),
        (AAPL, mkt("BUY", 0), 434),
        (AAPL, mkt("BUY", 1, account="DU999"), 321),
        (AAPL, mkt("BUY", 1, tif="SOMETIME"), 321),
        (AAPL, mkt("BUY", 1_000_000), 201),  # margin
        (BTC, stp("BUY", 1, 100.0), 387),
        (BTC, mkt("SELL", 1), 201),  # no shorting crypto
        (BTC, mkt("BUY", "0.00001"), 201),  # below the minimum size
        (MES, lmt("BUY", 1, 7000.1), 110),
        (Contract(symbol="AAPL", secType="STK", currency="JPY"), mkt("BUY", 1), 200),
        (AAPL, lmt("BUY", 1, 1.0, parentId=99), 201),
    ],
)
def test_rejects_carry_ibs_codes(world, contract, order, code):
    events = world.place_order(1, 1, contract, order)
    assert [e.code for e in events] == [code]
    assert world.open_orders() == []


def test_duplicate_id_and_mismatched_modification(world):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 2, 2)))
    assert (
        errors(world.place_order(1, 1, Contract(conId=272093), lmt("BUY", 10, 100.0)))[0][0] == 105
    )
    assert errors(world.place_order(1, 1, AAPL, lmt("SELL", 10, 100.0)))[0][0] == 105
    world.cancel_order(1, 1)
    assert errors(world.place_order(1, 1, AAPL, mkt("BUY", 1))) == [(103, "Duplicate order id")]
    assert world.place_order(2, 1, AAPL, mkt("BUY", 1))  # ids are per client


def test_ids(world):
    assert world.next_order_id(1) == 1
    world.place_order(1, 7, AAPL, mkt("BUY", 1))
    events = world.place_order(1, 8, AAPL, mkt("BUY", 1))
    assert world.next_order_id(1) == 9 and world.next_order_id(2) == 1
    perms = [e.perm_id for e in events if isinstance(e, OrderStatusEvent)]
    first = world.completed_orders()[0].perm_id
    assert perms[0] == first + 1


def test_executions_filter(world):
    world.place_order(1, 1, AAPL, mkt("BUY", 10))
    world.place_order(2, 1, Contract(conId=272093), mkt("SELL", 5))
    assert len(world.executions()) == 2
    assert [r.contract.symbol for r in world.executions(ExecutionFilter(symbol="MSFT"))] == ["MSFT"]
    assert [r.execution.side for r in world.executions(ExecutionFilter(side="BUY"))] == ["BOT"]
    assert len(world.executions(ExecutionFilter(clientId=2))) == 1
    assert len(world.executions(ExecutionFilter(secType="STK", acctCode=ACCOUNT))) == 2
    assert world.executions(ExecutionFilter(time="20260415 11:00:01 US/Eastern")) == []
    assert len(world.executions(ExecutionFilter(time="20260415-14:00:00"))) == 2


def test_fill_plan_forces_exact_partial_fills(world, clock):
    world.plan_next_fills(
        FillPlan(slices=(FillSlice(30, 250.10), FillSlice(70, None, after=timedelta(seconds=5))))
    )
    events = world.place_order(1, 1, AAPL, mkt("BUY", 100))
    (first,) = execs(events)
    assert (first.execution.shares, first.execution.price) == (30, 250.10)
    assert statuses(events) == ["PreSubmitted", "Submitted", "Submitted"]
    clock.advance(seconds=5)
    later = world.advance()
    (second,) = execs(later)
    assert second.execution.shares == 70 and second.time == clock.moment
    assert statuses(later) == ["Filled"]
    assert last_status(later, 1).avg_fill_price == pytest.approx(
        (30 * 250.10 + 70 * second.execution.price) / 100
    )


def test_fill_plan_can_cancel_the_rest(world, clock):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 100, round(q.bid - 1, 2)))
    world.plan_fills(
        1, 1, FillPlan(slices=(FillSlice(25, after=timedelta(seconds=2)),), then="cancel")
    )
    clock.advance(seconds=1)
    assert world.advance() == []
    clock.advance(seconds=1)
    events = world.advance()
    assert [f.execution.shares for f in execs(events)] == [25]
    assert statuses(events) == ["Submitted", "Cancelled"]
    assert world.completed_orders()[0].filled == 25


def test_what_if_reports_margin_without_placing(world):
    events = world.place_order(1, 1, AAPL, mkt("BUY", 1000, whatIf=True))
    (event,) = events
    state = event.order_state
    assert float(state.initMarginChange) > 0 and state.commission == 5.0
    assert float(state.equityWithLoanAfter) == pytest.approx(1_000_000 - 5.0)
    assert world.open_orders() == [] and world.completed_orders() == []


def test_cash_quantity_buys_crypto_for_an_amount(world):
    order = Order(action="BUY", orderType="MKT", cashQty=10_000.0, tif="IOC")
    events = world.place_order(1, 1, BTC, order)
    (fill,) = execs(events)
    assert fill.execution.shares * Decimal(repr(fill.execution.price)) <= 10_000
    assert fill.execution.shares > Decimal("0.05")


def test_futures_round_trip_commissions_and_realized_pnl_as_ib_reports_them(world):
    world.plan_next_fills(FillPlan(slices=(FillSlice(1, 7039.5),)))
    buy = execs(world.place_order(1, 1, MES, mkt("BUY", 1)))[0]
    world.plan_next_fills(FillPlan(slices=(FillSlice(1, 7039.25),)))
    sell = execs(world.place_order(1, 2, MES, mkt("SELL", 1)))[0]
    assert buy.commission_report.commission == 0.62
    assert buy.commission_report.realizedPNL is None  # unset: the codec writes IB max-double
    assert sell.commission_report.realizedPNL == -2.49  # -0.25 x 5 - 2 x 0.62
    assert world.accounts.cash(ACCOUNT) == Decimal(1_000_000) - Decimal("2.49")


def test_an_order_placed_while_closed_waits_for_the_open(clock):
    clock.set(datetime(2026, 4, 18, 15, 0, tzinfo=UTC))  # Saturday
    world = World(clock, WorldConfig(seed=5))
    events = world.place_order(1, 1, AAPL, mkt("BUY", 10))
    assert statuses(events) == ["PreSubmitted"]
    clock.set(datetime(2026, 4, 20, 14, 0, tzinfo=UTC))  # Monday 10:00 ET
    (fill,) = execs(world.advance())
    assert fill.time >= datetime(2026, 4, 20, 13, 30, tzinfo=UTC)
    assert fill.time < datetime(2026, 4, 20, 13, 31, tzinfo=UTC)


def test_resting_orders_cost_little_over_a_long_jump(world, clock):
    import time

    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid * 0.5, 2), tif="GTC"))
    world.place_order(1, 2, AAPL, stp("SELL", 10, round(q.bid * 0.5, 2), tif="GTC"))
    clock.set(ManualClock().moment + timedelta(days=60))
    start = time.perf_counter()
    world.advance()
    assert time.perf_counter() - start < 1.0
    assert len(world.open_orders()) == 2


def test_limit_if_touched_becomes_a_limit_at_its_trigger(world, clock):
    q = world.quote(AAPL)
    aux = round(q.bid - 2.0, 2)
    order = Order(
        action="BUY",
        orderType="LIT",
        totalQuantity=Decimal(10),
        auxPrice=aux,
        lmtPrice=round(aux + 0.5, 2),
    )
    assert last_status(world.place_order(1, 1, AAPL, order), 1).why_held == "trigger"
    clock.advance(seconds=10)
    world.set_price(AAPL, aux - 0.2)
    clock.advance(seconds=20)
    (fill,) = execs(world.advance())
    assert fill.execution.price <= aux + 0.5


def test_trailing_percent_on_a_buy(world, clock):
    q = world.quote(AAPL)
    order = Order(action="BUY", orderType="TRAIL", totalQuantity=Decimal(10), trailingPercent=2.0)
    world.place_order(1, 1, AAPL, order)
    clock.advance(seconds=10)
    world.set_price(AAPL, q.last * 0.90)  # the stop follows the low down...
    clock.advance(seconds=30)
    assert not execs(world.advance())
    world.set_price(AAPL, q.last * 0.93)  # ...and a 3% bounce from it triggers
    clock.advance(seconds=30)
    (fill,) = execs(world.advance())
    assert fill.execution.side == "BOT" and fill.execution.price > q.last * 0.9


def test_good_till_date_in_utc(world, clock):
    q = world.quote(AAPL)
    order = lmt("BUY", 10, round(q.bid * 0.5, 2), tif="GTD", goodTillDate="20260415-15:30:00")
    world.place_order(1, 1, AAPL, order)
    clock.advance(minutes=29)
    assert statuses(world.advance()) == []
    clock.advance(minutes=2)
    assert statuses(world.advance()) == ["Cancelled"]


def test_futures_orders_work_through_the_night(clock):
    clock.set(datetime(2026, 4, 15, 2, 0, tzinfo=UTC))  # 21:00 CDT: the evening session
    world = World(clock, WorldConfig(seed=6))
    es = Contract(symbol="ES", secType="FUT", lastTradeDateOrContractMonth="202606")
    events = world.place_order(1, 1, es, mkt("BUY", 1))
    assert statuses(events) == ["PreSubmitted", "Filled"]
    assert execs(events)[0].commission_report.commission == 2.25


def test_cancelling_a_staged_order_and_shrinking_below_the_fill(world):
    q = world.quote(AAPL)
    world.place_order(1, 1, AAPL, lmt("BUY", 10, round(q.bid - 1, 2), transmit=False))
    assert statuses(world.cancel_order(1, 1)) == ["Cancelled"]
    world.plan_next_fills(FillPlan(slices=(FillSlice(60, q.bid),), then="hold"))
    world.place_order(1, 2, AAPL, lmt("BUY", 100, q.bid))
    assert errors(world.place_order(1, 2, AAPL, lmt("BUY", 50, q.bid)))[0][0] == 201


def test_a_planned_fill_waits_for_an_order_on_its_contract(world):
    world.plan_next_fills(FillPlan(slices=(FillSlice(5, 123.45),)), Contract(conId=272093))
    aapl = execs(world.place_order(1, 1, AAPL, mkt("BUY", 5)))[0]
    msft = execs(world.place_order(1, 2, Contract(conId=272093), mkt("BUY", 5)))[0]
    assert aapl.execution.price != 123.45 and msft.execution.price == 123.45
