"""The connection to TWS drops in the middle of an order's life: what happened while it
was down reaches NautilusTrader once the client is back, nothing lost, nothing doubled."""

from __future__ import annotations

from decimal import Decimal

from nautilus_trader.model.enums import OrderSide, OrderStatus
from nautilus_trader.model.objects import Price, Quantity

from tests.adapter.node.support import (
    AAPL,
    NodeRun,
    Recorder,
    RecorderConfig,
    assert_matches_world,
    node_config,
)

CLIENT_ID = 1


def _order_id(fake_tws, client_order_id) -> int:
    [entry] = [
        e
        for e in fake_tws.journal.entries
        if e.name == "placeOrder" and e.message.order.orderRef == client_order_id.value
    ][:1]
    return entry.message.orderId


def test_fills_while_disconnected_are_recovered_once(fake_tws):
    strategy = Recorder(RecorderConfig(instrument_ids=("AAPL.NASDAQ",)))
    with NodeRun(node_config(fake_tws.port, client_id=CLIENT_ID), strategy) as run:
        run.start()
        s = run.strategy
        order = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(100), Price.from_str("149.00")
        )
        s.submit_order(order)
        run.run_until(lambda: order.status == OrderStatus.ACCEPTED, "acceptance")
        order_id = _order_id(fake_tws, order.client_order_id)

        # The connection drops; 40 fill while nobody listens.
        fake_tws.disconnect(CLIENT_ID)
        fake_tws.call(fake_tws.world.fill_order, CLIENT_ID, order_id, Decimal(40), 149.0)
        run.run_until(lambda: not run.ib_client.is_ib_connected, "the client to notice")

        # Back: reconciliation brings the fill in, with IB's execution id and commission.
        run.run_until(lambda: order.filled_qty == Quantity.from_int(40), "the missed fill", 15.0)
        assert order.status == OrderStatus.PARTIALLY_FILLED
        received = [e for e in fake_tws.journal.entries if e.name == "reqExecutions"]
        assert len(received) >= 2  # at start and after the reconnect
        [missed] = [
            f for f in s.events_of("OrderFilled") if f.client_order_id == order.client_order_id
        ]
        assert missed.last_px == Price.from_str("149.00")
        assert missed.commission.as_double() > 0

        # The rest fills live: one more fill, the first is not repeated.
        fake_tws.call(fake_tws.world.fill_order, CLIENT_ID, order_id, None, 149.0)
        run.run_until(lambda: order.status == OrderStatus.FILLED, "the rest")
        run.run_for(0.2)  # anything late would arrive now
        fills = [
            f for f in s.events_of("OrderFilled") if f.client_order_id == order.client_order_id
        ]
        assert [f.last_qty for f in fills] == [Quantity.from_int(40), Quantity.from_int(60)]
        assert len({f.trade_id for f in fills}) == 2
        assert run.net_position(AAPL) == Decimal(100)
        assert_matches_world(run, fake_tws)


def test_an_order_cancelled_and_one_filled_while_disconnected_end_right(fake_tws):
    strategy = Recorder(RecorderConfig())
    with NodeRun(node_config(fake_tws.port, client_id=CLIENT_ID), strategy) as run:
        run.start()
        s = run.strategy
        to_fill = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(10), Price.from_str("149.00")
        )
        to_cancel = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(10), Price.from_str("148.00")
        )
        s.submit_order(to_fill)
        s.submit_order(to_cancel)
        run.run_until(
            lambda: (
                to_fill.status == OrderStatus.ACCEPTED and to_cancel.status == OrderStatus.ACCEPTED
            ),
            "acceptance",
        )
        fill_id = _order_id(fake_tws, to_fill.client_order_id)
        cancel_id = _order_id(fake_tws, to_cancel.client_order_id)

        fake_tws.disconnect(CLIENT_ID)
        fake_tws.call(fake_tws.world.fill_order, CLIENT_ID, fill_id, None, 149.0)
        fake_tws.call(
            fake_tws.world.system_cancel, CLIENT_ID, cancel_id, 202, "Order Canceled - reason:"
        )

        run.run_until(
            lambda: (
                to_fill.status == OrderStatus.FILLED and to_cancel.status == OrderStatus.CANCELED
            ),
            "both orders to end as they did at IB",
            15.0,
        )
        assert len(to_fill.trade_ids) == 1
        assert_matches_world(run, fake_tws)


def test_an_order_submitted_while_disconnected_is_rejected_not_lost(fake_tws):
    strategy = Recorder(RecorderConfig())
    with NodeRun(node_config(fake_tws.port, client_id=CLIENT_ID), strategy) as run:
        run.start()
        fake_tws.disconnect(CLIENT_ID)
        run.run_until(lambda: not run.ib_client.is_ib_connected, "the client to notice")
        order = run.strategy.order_factory.market(AAPL, OrderSide.BUY, Quantity.from_int(1))
        run.strategy.submit_order(order)
        run.run_until(lambda: order.status == OrderStatus.REJECTED, "the rejection")
        [rejected] = run.strategy.events_of("OrderRejected")
        assert "not sent" in rejected.reason and "Not connected" in rejected.reason
        run.run_until(lambda: run.ib_client.is_ib_connected, "the reconnect", 15.0)
        assert_matches_world(run, fake_tws)
