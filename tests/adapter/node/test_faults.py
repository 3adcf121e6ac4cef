"""Faults a Gateway throws at a running node, played by fake-tws's scenario engine: IB's
link dropping (1100) and returning with data kept (1102) or lost (1101), data farms
flapping, a client id in use (326), revised bars, delayed-frozen data. The node keeps
running, its data resumes without duplicates, and its state stays the server's."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.model.data import BarType
from nautilus_trader.model.enums import OrderSide, OrderStatus
from nautilus_trader.model.objects import Price, Quantity

from adapter.client.pacing import HistoricalPacer
from adapter.config import IBMarketDataTypeEnum
from fake_tws.server import ServerThread
from tests.adapter.node.support import (
    AAPL,
    START,
    NodeRun,
    Recorder,
    RecorderConfig,
    advance,
    assert_matches_world,
    node_config,
)

MINUTE_BARS = "AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL"
MINUTE = 60_000_000_000
START_NS = int(START.timestamp()) * 1_000_000_000


def quick_resubscribe(run: NodeRun) -> None:
    # IB refuses identical historical requests within 15 s; the client waits that long (in
    # wall time) before sending a bar stream again. The scenario's 1101 comes a moment of
    # wall time after the first request, so the test lets it go at once.
    run.ib_client._historical_pacer = HistoricalPacer(identical_interval=0.0)


@pytest.mark.scenario("scenarios/link_cycles.yaml")
def test_link_drops_and_farm_notices_leave_the_node_running_and_in_step(fake_tws):
    strategy = Recorder(RecorderConfig(instrument_ids=("AAPL.NASDAQ",), bar_types=(MINUTE_BARS,)))
    with NodeRun(node_config(fake_tws.port), strategy) as run:
        run.start()
        quick_resubscribe(run)
        s = run.strategy
        order = s.order_factory.limit(
            AAPL, OrderSide.BUY, Quantity.from_int(100), Price.from_str("149.00")
        )
        s.submit_order(order)
        run.run_until(lambda: order.status == OrderStatus.ACCEPTED, "acceptance")
        advance_to(run, fake_tws, 19)
        assert s.quotes

        # +20s: 1100. IB's link is down, the client says so, data stops.
        advance_to(run, fake_tws, 21)
        run.run_until(lambda: not run.ib_client.is_ib_connected, "the 1100")
        assert run.ib_client.is_degraded
        quotes_before = len(s.quotes)
        advance_to(run, fake_tws, 28)
        assert len(s.quotes) == quotes_before

        # +30s: 1102, data maintained: it flows again without a new request.
        requests = _market_data_requests(fake_tws)
        advance_to(run, fake_tws, 33)
        run.run_until(
            lambda: run.ib_client.is_ib_connected and len(s.quotes) > quotes_before, "quotes"
        )
        assert _market_data_requests(fake_tws) == requests

        # +40s..+51s: farms flap; nothing stops.
        advance_to(run, fake_tws, 41)
        farms = run.ib_client.farm_status
        run.run_until(lambda: not farms["usfarm"].ok, "the 2103")
        advance_to(run, fake_tws, 53)
        run.run_until(lambda: farms["secdefil"].ok and farms["ushmds"].ok, "the farms back")
        assert all(status.ok for status in farms.values())
        quotes_before = len(s.quotes)
        advance_to(run, fake_tws, 56)
        run.run_until(lambda: len(s.quotes) > quotes_before, "quotes after the farm notices")

        # +60s: 1100 again. While the link is down the order fills (orders still flow).
        advance_to(run, fake_tws, 62)
        run.run_until(lambda: not run.ib_client.is_ib_connected, "the second 1100")
        order_id = _order_id(fake_tws, order.client_order_id)
        fake_tws.call(fake_tws.world.fill_order, 1, order_id, None, 149.0)
        run.run_until(lambda: order.status == OrderStatus.FILLED, "the fill")

        # +80s: 1101, data lost: every stream is requested again, quotes and bars resume.
        advance_to(run, fake_tws, 82)
        run.run_until(lambda: run.ib_client.is_ib_connected, "the 1101")
        run.run_until(lambda: _market_data_requests(fake_tws) > requests, "quotes requested again")
        quotes_before = len(s.quotes)
        advance_to(run, fake_tws, 152)  # 15:02:32
        run.run_until(lambda: len(s.quotes) > quotes_before, "quotes after the 1101")
        minute = BarType.from_str(MINUTE_BARS)
        run.run_until(lambda: len([b for b in s.bars if b.bar_type == minute]) >= 2, "bars")

        bars = [b for b in s.bars if b.bar_type == minute]
        assert [b.ts_event for b in bars] == [START_NS, START_NS + MINUTE]  # once each, no gap
        assert run.node.trader.is_running
        assert len(order.trade_ids) == 1 and run.net_position(AAPL) == Decimal(100)
        assert_matches_world(run, fake_tws)


def advance_to(run: NodeRun, fake_tws, seconds: int) -> None:
    """Virtual time to START + ``seconds``, a second at a time."""
    elapsed = int((fake_tws.now() - START).total_seconds())
    advance(run, fake_tws, seconds - elapsed)


def _market_data_requests(fake_tws) -> int:
    return sum(1 for e in fake_tws.journal.entries if e.name == "reqMktData")


def _order_id(fake_tws, client_order_id) -> int:
    return next(
        e.message.orderId
        for e in fake_tws.journal.entries
        if e.name == "placeOrder" and e.message.order.orderRef == client_order_id.value
    )


@pytest.mark.scenario("scenarios/revised_bars.yaml")
@pytest.mark.parametrize("handle_revised_bars", [False, True])
def test_revised_bars_are_emitted_as_asked(fake_tws, handle_revised_bars):
    strategy = Recorder(RecorderConfig(bar_types=(MINUTE_BARS,)))
    config = node_config(fake_tws.port, data={"handle_revised_bars": handle_revised_bars})
    with NodeRun(config, strategy) as run:
        run.start()
        s = run.strategy
        advance(run, fake_tws, 65)  # the 15:00 bar is revised at +7s and +12s, then done
        if handle_revised_bars:
            run.run_until(lambda: any(b.ts_event == START_NS + MINUTE for b in s.bars), "15:01")
        else:
            run.run_until(lambda: any(b.ts_event == START_NS for b in s.bars), "15:00")
            run.run_for(0.1)  # a second copy would come now
        first = [b for b in s.bars if b.ts_event == START_NS]
        if handle_revised_bars:
            # its first version, then each changed version as a revision
            assert not first[0].is_revision and all(b.is_revision for b in first[1:])
            volumes = [b.volume.as_double() for b in first]
            assert len(first) >= 3 and volumes == sorted(volumes)
            closes = {b.close for b in first}
            assert len(closes) >= 2  # the +0.02 revision
        else:
            # once, complete: with the revisions' volume and close
            [bar] = first
            assert not bar.is_revision
            assert bar.close == Price.from_str("150.02")
        # what the DataEngine kept passed its sequence checks
        assert run.cache.bar(BarType.from_str(MINUTE_BARS)).ts_event >= START_NS


@pytest.mark.scenario("scenarios/delayed_frozen.yaml")
def test_delayed_frozen_data_makes_quotes(fake_tws):
    strategy = Recorder(RecorderConfig(instrument_ids=("AAPL.NASDAQ",)))
    config = node_config(
        fake_tws.port,
        data={"market_data_type": IBMarketDataTypeEnum.DELAYED_FROZEN},
    )
    with NodeRun(config, strategy) as run:
        run.start()
        advance(run, fake_tws, 2)
        run.run_until(lambda: run.strategy.quotes, "a delayed quote")
        requested = [e.message for e in fake_tws.journal.entries if e.name == "reqMarketDataType"]
        assert [r.marketDataType for r in requested] == [4]
        quote = run.strategy.quotes[-1]
        assert quote.bid_price < quote.ask_price
        assert run.data_client._top[AAPL].market_data_type in (3, 4)


def test_a_client_id_in_use_is_waited_out(fake_tws):
    """326: another session holds the client id. The node's client retries; once the
    other session ends, the node connects and runs."""
    from adapter.client import InteractiveBrokersClient

    holder_config = node_config(fake_tws.port)
    with NodeRun(holder_config, Recorder(RecorderConfig())) as holder:
        holder.start()
        assert isinstance(holder.ib_client, InteractiveBrokersClient)
        with NodeRun(node_config(fake_tws.port), Recorder(RecorderConfig())) as run:
            run._run_task = run.loop.create_task(run.node.run_async())
            run.run_until(
                lambda: any(
                    e.name == "error" and e.message.errorCode == 326
                    for e in fake_tws.journal.entries
                ),
                "the 326",
            )
            assert not run.node.trader.is_running
            holder.close()
            run.run_until(lambda: run.node.trader.is_running, "the node to start", 15.0)
            assert_matches_world(run, fake_tws)


def test_a_fresh_gateway_is_found_when_the_node_starts_before_it(tmp_path):
    """A node started while the gateway is down connects once it is up."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with NodeRun(node_config(port), Recorder(RecorderConfig())) as run:
        run._run_task = run.loop.create_task(run.node.run_async())
        run.run_for(0.3)
        assert not run.node.trader.is_running
        from tests.adapter.node.support import server_options

        options = server_options()
        from fake_tws.control.settings import server_config

        with ServerThread(server_config(options), port=port):
            run.run_until(lambda: run.node.trader.is_running, "the node to start", 15.0)
