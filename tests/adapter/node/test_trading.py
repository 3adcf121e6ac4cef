"""A TradingNode built as NautilusTrader's IB docs build one (with our imports) trades
against fake-tws: market data in, orders out, and its state agrees with the server's."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide, OrderStatus
from nautilus_trader.model.objects import Price, Quantity

from fake_tws.broker import FillPlan
from fake_tws.broker.orders import FillSlice
from tests.adapter.node.support import (
    AAPL,
    MSFT,
    START,
    NodeRun,
    Recorder,
    RecorderConfig,
    advance,
    assert_matches_world,
    node_config,
)

MINUTE_BARS = "AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL"
FIVE_SECOND_BARS = "AAPL.NASDAQ-5-SECOND-LAST-EXTERNAL"
AAPL_CON_ID = 265598


def test_a_strategy_gets_data_and_trades_and_its_state_is_the_servers(fake_tws):
    strategy = Recorder(
        RecorderConfig(
            instrument_ids=("AAPL.NASDAQ", "MSFT.NASDAQ"),
            bar_types=(MINUTE_BARS, FIVE_SECOND_BARS),
        ),
    )
    with NodeRun(node_config(fake_tws.port), strategy) as run:
        run.start()
        s = run.strategy

        # Market data: quotes of both instruments, bars stamped with IB's bar open.
        fake_tws.advance(1)
        run.run_until(lambda: {q.instrument_id for q in s.quotes} == {AAPL, MSFT}, "quotes")
        quote = next(q for q in s.quotes if q.instrument_id == AAPL)
        assert (quote.bid_price, quote.ask_price) == (
            Price.from_str("150.00"),
            Price.from_str("150.01"),
        )
        advance(run, fake_tws, 125)  # 15:02:06: the 15:00 and 15:01 bars are complete
        minute = BarType.from_str(MINUTE_BARS)
        run.run_until(lambda: len([b for b in s.bars if b.bar_type == minute]) >= 2, "bars")
        minute_bars = [b for b in s.bars if b.bar_type == minute]
        start_ns = int(START.timestamp()) * 1_000_000_000
        assert [b.ts_event for b in minute_bars] == [start_ns, start_ns + 60_000_000_000]
        assert not any(b.is_revision for b in minute_bars)
        five = [b for b in s.bars if b.bar_type == BarType.from_str(FIVE_SECOND_BARS)]
        assert five and all(b.ts_event % 5_000_000_000 == 0 for b in five)
        assert len({b.ts_event for b in five}) == len(five)  # each bar once

        # A market order fills at once.
        market = s.order_factory.market(AAPL, OrderSide.BUY, Quantity.from_int(100))
        s.submit_order(market)
        run.run_until(lambda: market.status == OrderStatus.FILLED, "the market order to fill")

        # A limit order fills in two parts, 2 seconds apart (forced by the world).
        fake_tws.call(
            fake_tws.world.plan_next_fills,
            FillPlan(
                slices=(FillSlice(30, 149.99), FillSlice(70, 150.0, after=timedelta(seconds=2)))
            ),
            AAPL_CON_ID,
        )
        limit = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(100), Price.from_str("150.05")
        )
        s.submit_order(limit)
        run.run_until(lambda: limit.status == OrderStatus.PARTIALLY_FILLED, "the first part")
        assert limit.filled_qty == Quantity.from_int(30)
        fake_tws.advance(3)
        run.run_until(lambda: limit.status == OrderStatus.FILLED, "the second part")
        fills = s.events_of("OrderFilled")
        limit_fills = [f for f in fills if f.client_order_id == limit.client_order_id]
        assert [(f.last_qty, f.last_px) for f in limit_fills] == [
            (Quantity.from_int(30), Price.from_str("149.99")),
            (Quantity.from_int(70), Price.from_str("150.00")),
        ]
        assert all(f.commission.as_double() > 0 for f in limit_fills[:1])

        # A resting limit order is modified, then cancelled.
        resting = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(10), Price.from_str("140.00")
        )
        s.submit_order(resting)
        run.run_until(lambda: resting.status == OrderStatus.ACCEPTED, "acceptance")
        s.modify_order(resting, quantity=Quantity.from_int(20), price=Price.from_str("141.00"))
        run.run_until(
            lambda: resting.status == OrderStatus.ACCEPTED and resting.quantity == 20,
            "the modification",
        )
        assert resting.price == Price.from_str("141.00")
        s.cancel_order(resting)
        run.run_until(lambda: resting.status == OrderStatus.CANCELED, "the cancel")
        assert [type(e).__name__ for e in resting.events] == [
            "OrderInitialized",
            "OrderSubmitted",
            "OrderAccepted",
            "OrderPendingUpdate",
            "OrderUpdated",
            "OrderPendingCancel",
            "OrderCanceled",
        ]

        # A bracket: the entry fills, stop and target rest at IB as its children.
        bracket = s.order_factory.bracket(
            MSFT,
            OrderSide.BUY,
            Quantity.from_int(50),
            sl_trigger_price=Price.from_str("390.00"),
            tp_price=Price.from_str("410.00"),
            tp_post_only=False,
        )
        s.submit_order_list(bracket)
        entry, stop, target = bracket.orders
        run.run_until(
            lambda: (
                entry.status == OrderStatus.FILLED
                and stop.status == OrderStatus.ACCEPTED
                and target.status == OrderStatus.ACCEPTED
            ),
            "the bracket to be working",
        )
        placed = [
            e.message
            for e in fake_tws.journal.entries
            if e.name == "placeOrder"
            and e.message.order.orderRef in {o.client_order_id.value for o in bracket.orders}
        ]
        by_ref = {m.order.orderRef: m for m in placed}
        parent_id = by_ref[entry.client_order_id.value].orderId
        assert by_ref[stop.client_order_id.value].order.parentId == parent_id
        assert by_ref[target.client_order_id.value].order.parentId == parent_id
        assert [m.order.transmit for m in placed] == [False, False, True]

        # The stop is hit: it fills, IB cancels the target (one cancels the other).
        fake_tws.call(fake_tws.world.set_price, AAPL_CON_ID + 0, 150.0)
        fake_tws.call(fake_tws.world.set_price, 272093, 389.0)
        fake_tws.advance(2)
        run.run_until(
            lambda: stop.status == OrderStatus.FILLED and target.status == OrderStatus.CANCELED,
            "the stop to fill and the target to be cancelled",
        )

        # Each execution became exactly one fill; NautilusTrader's state is the server's.
        trade_ids = [f.trade_id for f in s.events_of("OrderFilled")]
        assert len(trade_ids) == len(set(trade_ids))
        assert run.net_position(AAPL) == Decimal(200)
        assert run.net_position(MSFT) == Decimal(0)
        assert_matches_world(run, fake_tws)
