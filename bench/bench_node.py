"""A TradingNode on our adapter against one on NautilusTrader's own, on the same fake-tws
feed in the same run: quote ticks per second into the DataEngine, and the round trip of a
market order (submitted by a strategy until its fill reaches the strategy).

The server is a fake-tws ``ServerThread`` in this process, on a virtual clock that never
moves: its own streams stay silent, so the only market data is the feed this benchmark
injects. Each node runs in a process of its own (``python -m bench.bench_node <side>``):
NautilusTrader's logging and signal handling are per process, and a stuck node can be
killed. A node connects, loads AAPL, subscribes to its quotes and says "ready"; this
process then writes FEED tickPrice messages straight into that client's connection
(bid and ask alternating, each price new, sizes varying; the last pair a sentinel). The
node times from the first feed quote to the sentinel quote reaching its strategy.

"Ticks per second" is FEED / that time: both nodes get the same messages and must end
on the same quote; how many quotes each makes of them is its own business (theirs makes
a quote for the price and another for the size that comes with it; ours one per change).
Then each node sends ORDERS market orders one after the other; the median time from
``submit_order`` to the strategy's ``on_order_filled`` is the round trip.

Goals: ratio >= 1.0 for both (ours at least as fast as theirs; for the round trip the
ratio is theirs / ours, so bigger is better there too). Best of REPEATS per side, the
sides alternating.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .harness import scaled
from .result import Result

FEED = scaled(20_000, 400)  # tickPrice messages injected
ORDERS = scaled(40, 4)  # market orders, one after the other
REPEATS = scaled(2, 1)
ACCOUNT = "DU123456"
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
WORKER_TIMEOUT = 120.0
SENTINEL_BID = 999.0
ROOT = Path(__file__).resolve().parent.parent


def run() -> list[Result]:
    from fake_tws.broker import AccountConfig, WorldConfig
    from fake_tws.clock import VirtualClock
    from fake_tws.server import ServerThread

    world = WorldConfig(
        accounts=(AccountConfig(account_id=ACCOUNT, cash={"USD": 100_000_000}),),
        prices={"AAPL": 150.0},
        static_prices=True,
        around_the_clock=True,
    )
    rates: dict[str, list[float]] = {"ours": [], "theirs": []}
    trips: dict[str, list[float]] = {"ours": [], "theirs": []}
    with ServerThread(
        clock=VirtualClock(START),
        accounts=(ACCOUNT,),
        world=world,
        outbox_limit=512 * 1024 * 1024,
    ) as server:
        client_id = 30
        for i in range(REPEATS):
            for side in ("ours", "theirs") if i % 2 == 0 else ("theirs", "ours"):
                client_id += 1
                result = _measure(server, side, client_id)
                rates[side].append(FEED / result["seconds"])
                trips[side].append(statistics.median(result["round_trips"]) * 1000)
    ours, theirs = max(rates["ours"]), max(rates["theirs"])
    trip_ours, trip_theirs = min(trips["ours"]), min(trips["theirs"])
    return [
        Result(
            "node: quote ticks/s into the DataEngine vs NautilusTrader's adapter",
            round(ours, 1),
            "ticks/s",
            round(theirs, 1),
            round(ours / theirs, 4),
            1.0,
        ),
        Result(
            "node: market order round trip vs NautilusTrader's adapter (ratio theirs/ours)",
            round(trip_ours, 3),
            "ms",
            round(trip_theirs, 3),
            round(trip_theirs / trip_ours, 4),
            1.0,
        ),
    ]


# -- the parent: one worker process per measurement --------------------------------------------


def _measure(server: Any, side: str, client_id: int) -> dict[str, Any]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.bench_node", side, str(server.port), str(client_id)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    killer = threading.Timer(WORKER_TIMEOUT, process.kill)
    killer.start()
    lines: list[str] = []
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith('{"ready"'):
                _inject_feed(server, client_id)
                process.stdin.write("go\n")
                process.stdin.flush()
            elif line.startswith('{"result"'):
                break
        process.stdin.close()
        process.wait(WORKER_TIMEOUT)
    finally:
        killer.cancel()
        if process.poll() is None:
            process.kill()
    results = [json.loads(line)["result"] for line in lines if line.startswith('{"result"')]
    if not results:
        stderr = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"the {side} node failed:\n{''.join(lines)[-2000:]}\n{stderr[-3000:]}")
    return results[0]


def _inject_feed(server: Any, client_id: int) -> None:
    """FEED tickPrice messages (with sizes) for the client's AAPL quote line, written
    into its connection in one go; the last bid/ask pair is the sentinel."""
    from fake_tws.ibtypes import TickAttrib
    from fake_tws.protocol.table import RESPONSES_BY_NAME

    tick_price = RESPONSES_BY_NAME["tickPrice"]
    gateway = server.server.gateway
    attrib = TickAttrib(canAutoExecute=True)

    def inject() -> None:
        sessions = [s for s in server.server.sessions if s.started and s.client_id == client_id]
        [session] = sessions
        [req_id] = [
            e.message.reqId
            for e in gateway.journal.entries
            if e.client_id == client_id and e.name == "reqMktData"
        ]
        for i in range(FEED - 2):
            bid = 100.0 + (i // 2 % 500) * 0.01
            session.send(
                tick_price(
                    reqId=req_id,
                    tickType=1 + i % 2,
                    price=round(bid + (0.01 if i % 2 else 0.0), 2),
                    size=Decimal(100 + i % 7 * 100),
                    attrib=attrib,
                ),
            )
        for tick_type, price in ((1, SENTINEL_BID), (2, SENTINEL_BID + 0.01)):
            session.send(
                tick_price(
                    reqId=req_id, tickType=tick_type, price=price, size=Decimal(100), attrib=attrib
                ),
            )

    server.run_sync(inject)


# -- the worker ------------------------------------------------------------------------------------


def _imports(side: str) -> dict[str, Any]:
    if side == "ours":
        from adapter.common import IB
        from adapter.config import (
            InteractiveBrokersDataClientConfig,
            InteractiveBrokersExecClientConfig,
            InteractiveBrokersInstrumentProviderConfig,
        )
        from adapter.factories import (
            InteractiveBrokersLiveDataClientFactory,
            InteractiveBrokersLiveExecClientFactory,
        )
    else:
        from nautilus_trader.adapters.interactive_brokers.common import IB
        from nautilus_trader.adapters.interactive_brokers.config import (
            InteractiveBrokersDataClientConfig,
            InteractiveBrokersExecClientConfig,
            InteractiveBrokersInstrumentProviderConfig,
        )
        from nautilus_trader.adapters.interactive_brokers.factories import (
            InteractiveBrokersLiveDataClientFactory,
            InteractiveBrokersLiveExecClientFactory,
        )
    return {
        "IB": IB,
        "data_config": InteractiveBrokersDataClientConfig,
        "exec_config": InteractiveBrokersExecClientConfig,
        "provider_config": InteractiveBrokersInstrumentProviderConfig,
        "data_factory": InteractiveBrokersLiveDataClientFactory,
        "exec_factory": InteractiveBrokersLiveExecClientFactory,
    }


def _worker(side: str, port: int, client_id: int) -> None:
    from nautilus_trader.config import (
        LiveDataEngineConfig,
        LiveExecEngineConfig,
        LiveRiskEngineConfig,
        LoggingConfig,
        RoutingConfig,
        StrategyConfig,
        TradingNodeConfig,
    )
    from nautilus_trader.live.node import TradingNode
    from nautilus_trader.model.enums import OrderSide
    from nautilus_trader.model.identifiers import InstrumentId, TraderId
    from nautilus_trader.model.objects import Quantity
    from nautilus_trader.trading.strategy import Strategy

    names = _imports(side)
    aapl = InstrumentId.from_str("AAPL.NASDAQ")
    provider = names["provider_config"](load_ids=frozenset({aapl}))
    config = TradingNodeConfig(
        trader_id=TraderId("BENCH-001"),
        logging=LoggingConfig(log_level="ERROR"),
        data_clients={
            names["IB"]: names["data_config"](
                ibg_port=port,
                ibg_client_id=client_id,
                instrument_provider=provider,
                connection_timeout=30,
            ),
        },
        exec_clients={
            names["IB"]: names["exec_config"](
                ibg_port=port,
                ibg_client_id=client_id,
                account_id=ACCOUNT,
                instrument_provider=provider,
                routing=RoutingConfig(default=True),
                connection_timeout=30,
            ),
        },
        data_engine=LiveDataEngineConfig(),
        exec_engine=LiveExecEngineConfig(reconciliation=True),
        risk_engine=LiveRiskEngineConfig(bypass=True),
        timeout_connection=30.0,
        timeout_reconciliation=10.0,
        timeout_portfolio=10.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.1,
        timeout_shutdown=2.0,
    )

    class Bench(Strategy):
        def __init__(self) -> None:
            super().__init__(StrategyConfig(strategy_id="BENCH-001", order_id_tag="001"))
            self.quotes = 0
            self.first_feed: float | None = None
            self.sentinel: float | None = None
            self.filled = asyncio.Event()

        def on_start(self) -> None:
            self.subscribe_quote_ticks(aapl)

        def on_quote_tick(self, tick: Any) -> None:
            self.quotes += 1
            bid = tick.bid_price.as_double()
            if self.first_feed is None and bid < 149.0:
                self.first_feed = time.perf_counter()
            if bid == SENTINEL_BID and tick.ask_price.as_double() == SENTINEL_BID + 0.01:
                self.sentinel = time.perf_counter()

        def on_order_filled(self, event: Any) -> None:
            self.filled.set()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=config, loop=loop)
    node.add_data_client_factory(names["IB"], names["data_factory"])
    node.add_exec_client_factory(names["IB"], names["exec_factory"])
    strategy = Bench()
    node.trader.add_strategy(strategy)
    node.build()

    async def until(condition: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{side}: no {what} within {timeout}s")
            await asyncio.sleep(0.001)

    async def main() -> dict[str, Any]:
        runner = loop.create_task(node.run_async())
        await until(lambda: node.trader.is_running and strategy.quotes > 0, 60, "start")
        await asyncio.sleep(0.2)  # let the start-up chatter settle
        print(json.dumps({"ready": True}), flush=True)
        await loop.run_in_executor(None, sys.stdin.readline)  # the feed is in
        await until(lambda: strategy.sentinel is not None, 60, "sentinel quote")
        assert strategy.first_feed is not None and strategy.sentinel is not None
        seconds = strategy.sentinel - strategy.first_feed
        round_trips = []
        for _ in range(ORDERS):
            strategy.filled.clear()
            order = strategy.order_factory.market(aapl, OrderSide.BUY, Quantity.from_int(1))
            t0 = time.perf_counter()
            strategy.submit_order(order)
            await asyncio.wait_for(strategy.filled.wait(), 30)
            round_trips.append(time.perf_counter() - t0)
        result = {"seconds": seconds, "quotes": strategy.quotes, "round_trips": round_trips}
        await asyncio.wait_for(node.stop_async(), 15)
        runner.cancel()
        return result

    code = 0
    try:
        result = loop.run_until_complete(asyncio.wait_for(main(), WORKER_TIMEOUT - 10))
        print(json.dumps({"result": result}), flush=True)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)  # theirs may leave threads behind; the measurement is out


if __name__ == "__main__":
    side_, port_, client_id_ = sys.argv[1:4]
    _worker(side_, int(port_), int(client_id_))
