"""A NautilusTrader ``TradingNode`` with our IB adapter, run in steps by the demo.

The node gets an event loop of its own; the demo runs it in bounded steps
(``run_until``, ``run_for``), each with a hard time limit, so nothing here waits on a
node that never answers. ``close()`` always stops and disposes the node, ends the IB
client it shares, and puts back the signal handlers NautilusTrader installs (a node
stuck connecting ignores SIGTERM; the demo does not rely on signals to end it).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from typing import Any

from nautilus_trader.config import (
    LiveDataEngineConfig,
    LiveExecEngineConfig,
    LiveRiskEngineConfig,
    LoggingConfig,
    RoutingConfig,
    TradingNodeConfig,
)
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId, TraderId
from nautilus_trader.trading.strategy import Strategy

from adapter import factories
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

STEP = 20.0  # the longest one step may take
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)


class DemoTimeout(Exception):
    """A step of the demo did not finish in time."""


def node_config(
    host: str,
    port: int,
    account: str,
    instrument_ids: tuple[str, ...],
    *,
    client_id: int = 1,
    log_level: str = "ERROR",
    regular_hours: bool = True,
) -> TradingNodeConfig:
    """A node as NautilusTrader's IB docs build one, with our adapter's classes."""
    provider = InteractiveBrokersInstrumentProviderConfig(
        load_ids=frozenset(InstrumentId.from_str(i) for i in instrument_ids),
    )
    common = {
        "ibg_host": host,
        "ibg_port": port,
        "ibg_client_id": client_id,
        "instrument_provider": provider,
        "connection_timeout": 10,
    }
    return TradingNodeConfig(
        trader_id=TraderId("DEMO-001"),
        logging=LoggingConfig(log_level=log_level),
        data_clients={
            IB: InteractiveBrokersDataClientConfig(
                **common,
                request_timeout=10,
                handle_revised_bars=True,
                use_regular_trading_hours=regular_hours,
            ),
        },
        exec_clients={
            IB: InteractiveBrokersExecClientConfig(
                **common, account_id=account, routing=RoutingConfig(default=True)
            ),
        },
        data_engine=LiveDataEngineConfig(time_bars_timestamp_on_close=False),
        exec_engine=LiveExecEngineConfig(reconciliation=True),
        risk_engine=LiveRiskEngineConfig(bypass=True),
        timeout_connection=10.0,
        timeout_reconciliation=10.0,
        timeout_portfolio=5.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.05,
        timeout_shutdown=2.0,
    )


class DemoNode:
    """One TradingNode on its own event loop, run in bounded steps."""

    def __init__(self, config: TradingNodeConfig, strategy: Strategy) -> None:
        self._signals = {sig: signal.getsignal(sig) for sig in SIGNALS}
        # The loop NautilusTrader uses outside pytest (uvloop), as a user's node would.
        self.loop = asyncio.new_event_loop()
        self.node = TradingNode(config=config, loop=self.loop)
        self.node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
        self.node.add_exec_client_factory(IB, InteractiveBrokersLiveExecClientFactory)
        self.strategy = strategy
        self.node.trader.add_strategy(strategy)
        self.node.build()
        self._run_task: asyncio.Task | None = None
        self._closed = False

    def __enter__(self) -> DemoNode:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self, timeout: float = STEP) -> None:
        """Run the node until its trader is running (connected, reconciled)."""
        self._run_task = self.loop.create_task(self.node.run_async(), name="demo node")
        self.run_until(
            lambda: self.node.trader.is_running or self._run_task.done(),
            "the node to start",
            timeout,
        )
        # NautilusTrader installs its own SIGINT handler; Ctrl-C should end the demo.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if not self.node.trader.is_running:
            raise DemoTimeout("the node did not start (run with --log-level INFO to see why)")

    def run_until(
        self, condition: Callable[[], Any], what: str = "the condition", timeout: float = STEP
    ) -> Any:
        """Run the loop until ``condition()`` is truthy; DemoTimeout after ``timeout``."""

        async def wait() -> Any:
            while not (result := condition()):
                await asyncio.sleep(0.002)
            return result

        try:
            return self.loop.run_until_complete(asyncio.wait_for(wait(), timeout))
        except TimeoutError:
            raise DemoTimeout(f"waited {timeout:g}s for {what}") from None

    def run_for(self, seconds: float) -> None:
        self.loop.run_until_complete(asyncio.sleep(seconds))

    @property
    def cache(self) -> Any:
        return self.node.kernel.cache

    @property
    def portfolio(self) -> Any:
        return self.node.kernel.portfolio

    @property
    def ib_client(self) -> Any:
        """The adapter's shared ``InteractiveBrokersClient`` (from the execution client)."""
        clients = self.node.kernel.exec_engine._clients
        return clients[next(iter(clients))]._client

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if not self.loop.is_closed():
                with contextlib.suppress(BaseException):
                    self.loop.run_until_complete(asyncio.wait_for(self.node.stop_async(), STEP))
                self._stop_ib_clients()
                if self._run_task is not None and not self._run_task.done():
                    self._run_task.cancel()
                    with contextlib.suppress(BaseException):
                        self.loop.run_until_complete(
                            asyncio.wait_for(asyncio.shield(self._run_task), 2.0)
                        )
                with contextlib.suppress(BaseException):
                    self.node.dispose()
        finally:
            if not self.loop.is_closed():
                self._cancel_all()
                self.loop.close()
            for sig, handler in self._signals.items():
                signal.signal(sig, handler)
            asyncio.set_event_loop(None)

    def _stop_ib_clients(self) -> None:
        clients = [c for c in factories.IB_CLIENTS.values() if c._loop is self.loop]
        for client in clients:
            if not client.is_stopped and not client.is_disposed:
                client.stop()
        for client in clients:
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(client.wait_until_stopped(2.0))
        for key in [k for k, c in factories.IB_CLIENTS.items() if c in clients]:
            del factories.IB_CLIENTS[key]
        for key in [
            k for k, p in factories.IB_INSTRUMENT_PROVIDERS.items() if p._client in clients
        ]:
            del factories.IB_INSTRUMENT_PROVIDERS[key]

    def _cancel_all(self) -> None:
        tasks = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            deadline = time.monotonic() + 2.0
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(
                    asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
                )
