"""NautilusTrader orders as IB orders and IB orders and executions as reports, without a
connection; the tables and time parsing NautilusTrader's adapter exposes, against theirs."""

from __future__ import annotations

from decimal import Decimal

import nautilus_trader.adapters.interactive_brokers.parsing.execution as theirs
import pandas as pd
import pytest
from ibapi.commission_report import CommissionReport
from ibapi.execution import Execution
from ibapi.order import Order as IBOrder
from ibapi.order_state import OrderState
from nautilus_trader.common.component import TestClock
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.model.enums import (
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
)
from nautilus_trader.model.identifiers import AccountId, StrategyId, TraderId
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from adapter.common import IBOrderTags
from adapter.parsing import execution as ours
from adapter.parsing.execution import (
    OrderConversionError,
    fill_report,
    order_status_report,
    to_ib_order,
)

AAPL = TestInstrumentProvider.equity("AAPL", "NASDAQ")
BTC = TestInstrumentProvider.xbtusd_bitmex()  # inverse, as IB's crypto instruments are
ACCOUNT = AccountId("INTERACTIVE_BROKERS-DU1")
orders = OrderFactory(TraderId("T-001"), StrategyId("S-001"), TestClock())


@pytest.mark.parametrize(
    "name",
    [
        "MAP_TRIGGER_METHOD",
        "MAP_TIME_IN_FORCE",
        "MAP_ORDER_ACTION",
        "ORDER_SIDE_TO_ORDER_ACTION",
        "MAP_ORDER_TYPE",
        "MAP_ORDER_STATUS",
    ],
)
def test_tables_are_theirs(name):
    assert getattr(ours, name) == getattr(theirs, name)


@pytest.mark.parametrize(
    "text",
    ["20230223 00:43:36 America/New_York", "20230223 00:43:36 Universal", "20250225-15:15:00"],
)
def test_times_are_read_as_theirs(text):
    assert ours.timestring_to_timestamp(text) == theirs.timestring_to_timestamp(text)


def test_an_execution_time_without_a_zone_is_utc():
    assert ours.timestring_to_timestamp("20260105 15:00:00") == pd.Timestamp(
        "2026-01-05 15:00", tz="UTC"
    )


def test_orders_ib_cannot_take_are_refused():
    with pytest.raises(OrderConversionError, match="post-only"):
        to_ib_order(
            orders.limit(
                AAPL.id, OrderSide.BUY, Quantity.from_int(1), Price.from_str("1.00"), post_only=True
            ),
            AAPL,
            order_id=1,
            account="DU1",
        )
    with pytest.raises(OrderConversionError, match="QUOTE_QUANTITY"):
        to_ib_order(
            orders.market(AAPL.id, OrderSide.BUY, Quantity.from_int(1), quote_quantity=True),
            AAPL,
            order_id=1,
            account="DU1",
        )
    with pytest.raises(OrderConversionError, match="trailing offset type"):
        order = orders.trailing_stop_market(
            AAPL.id, OrderSide.SELL, Quantity.from_int(1), trailing_offset=Decimal(1),
            trailing_offset_type=TrailingOffsetType.TICKS,
        )  # fmt: skip
        to_ib_order(order, AAPL, order_id=1, account="DU1")


def test_inverse_instruments_trade_a_cash_amount():
    order = orders.market(BTC.id, OrderSide.BUY, Quantity.from_int(150))
    ib = to_ib_order(order, BTC, order_id=1, account="DU1")
    assert (ib.cashQty, ib.totalQuantity) == (150.0, Decimal(0))


def test_trailing_limit_and_magnified_prices():
    order = orders.trailing_stop_limit(
        AAPL.id,
        OrderSide.SELL,
        Quantity.from_int(10),
        limit_offset=Decimal("0.10"),
        trailing_offset=Decimal("0.50"),
        trailing_offset_type=TrailingOffsetType.PRICE,
        trigger_price=Price.from_str("140.00"),
    )
    ib = to_ib_order(order, AAPL, order_id=7, account="DU1", price_magnifier=100)
    assert (ib.orderType, ib.auxPrice, ib.lmtPriceOffset, ib.trailStopPrice) == (
        "TRAIL LIMIT",
        50.0,
        10.0,
        14000.0,
    )


def test_order_tags_set_ib_fields_conditions_included():
    tags = IBOrderTags(
        outsideRth=True,
        goodAfterTime="20260105 09:00:00 US/Eastern",
        conditions=[
            {"type": "price", "conId": 265598, "price": 150.0, "isMore": True},
            {"type": "time", "time": "20260105 15:00:00 US/Eastern", "conjunction": "or"},
        ],
        conditionsCancelOrder=True,
        ocaGroup="G",
        ocaType=3,
    )
    order = orders.limit(
        AAPL.id, OrderSide.BUY, Quantity.from_int(1), Price.from_str("1.00"), tags=[tags.value]
    )
    ib = to_ib_order(order, AAPL, order_id=1, account="DU1")
    assert (ib.outsideRth, ib.goodAfterTime, ib.conditionsCancelOrder) == (
        True,
        "20260105 09:00:00 US/Eastern",
        True,
    )
    assert (ib.ocaGroup, ib.ocaType) == ("G", 3)
    price, time = ib.conditions
    assert (price.conId, price.price, price.isConjunctionConnection) == (265598, 150.0, True)
    assert (time.time, time.isConjunctionConnection) == ("20260105 15:00:00 US/Eastern", False)
    bad = orders.limit(
        AAPL.id,
        OrderSide.BUY,
        Quantity.from_int(1),
        Price.from_str("1.00"),
        tags=['IBOrderTags:{"conditions":[{"type":"moon"}]}'],
    )
    with pytest.raises(OrderConversionError, match="moon"):
        to_ib_order(bad, AAPL, order_id=1, account="DU1")


def ib_order(**fields) -> IBOrder:
    order = IBOrder()
    order.orderId, order.orderRef, order.action = 5, "O-1", "BUY"
    order.totalQuantity, order.orderType, order.tif = Decimal(100), "LMT", "GTD"
    order.lmtPrice, order.goodTillDate = 150.0, "20260105-16:00:00"
    for name, value in fields.items():
        setattr(order, name, value)
    order.order_state = OrderState()
    return order


def test_status_reports_of_ib_orders():
    report = order_status_report(
        ib_order(), AAPL, ACCOUNT, status="Submitted", filled=Decimal(40), avg_fill_price=149.5, ts_init=1,
    )  # fmt: skip
    assert (report.order_status, report.filled_qty, report.avg_px) == (
        OrderStatus.PARTIALLY_FILLED,
        Quantity.from_int(40),
        Decimal("149.5"),
    )
    assert (report.time_in_force, report.expire_time) == (
        TimeInForce.GTD,
        pd.Timestamp("2026-01-05 16:00", tz="UTC"),
    )
    assert str(report.client_order_id) == "O-1" and str(report.venue_order_id) == "5"
    held = order_status_report(
        ib_order(),
        AAPL,
        ACCOUNT,
        status="PreSubmitted",
        filled=Decimal(0),
        avg_fill_price=None,
        ts_init=1,
    )
    assert held.order_status == OrderStatus.ACCEPTED  # working at IB, held for a trigger
    inactive = order_status_report(
        ib_order(), AAPL, ACCOUNT, status="Inactive", filled=None, avg_fill_price=None, ts_init=1
    )
    assert inactive.order_status == OrderStatus.REJECTED
    completed = order_status_report(
        ib_order(orderId=0),
        AAPL,
        ACCOUNT,
        status="Filled",
        filled=Decimal(100),
        avg_fill_price=150.0,
        ts_init=1,
        order_id=9,
    )
    assert (completed.order_status, str(completed.venue_order_id)) == (OrderStatus.FILLED, "9")
    trail = order_status_report(
        ib_order(orderType="TRAIL", tif="DAY", trailingPercent=1.5, trailStopPrice=140.0),
        AAPL, ACCOUNT, status="PreSubmitted", filled=None, avg_fill_price=None, ts_init=1,
    )  # fmt: skip
    assert (trail.order_type, trail.trailing_offset_type, trail.trailing_offset) == (
        OrderType.TRAILING_STOP_MARKET,
        TrailingOffsetType.BASIS_POINTS,
        Decimal("150.0"),
    )
    assert trail.trigger_price == Price.from_str("140.00")


def test_fill_reports_of_executions():
    execution = Execution()
    execution.execId, execution.orderId, execution.orderRef = "0001.01", 5, "O-1"
    execution.side, execution.shares, execution.price = "SLD", Decimal(40), 150.25
    execution.time, execution.lastLiquidity = "20260105 10:00:01 US/Eastern", 2
    commission = CommissionReport()
    commission.execId, commission.commission, commission.currency = "0001.01", 1.25, "USD"
    report = fill_report(execution, commission, AAPL, ACCOUNT, ts_init=1)
    assert (report.order_side, report.last_qty, report.last_px) == (
        OrderSide.SELL,
        Quantity.from_int(40),
        Price.from_str("150.25"),
    )
    assert (report.commission.as_double(), report.liquidity_side) == (1.25, LiquiditySide.TAKER)
    assert report.ts_event == pd.Timestamp("2026-01-05 15:00:01", tz="UTC").value
    without = fill_report(execution, None, AAPL, ACCOUNT, ts_init=1)
    assert without.commission.as_double() == 0
