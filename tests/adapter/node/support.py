"""A NautilusTrader ``TradingNode`` with our IB adapter, run against fake-tws from a test.

A node owns its event loop (``TradingNode.dispose`` stops or closes it), so each node
gets a fresh loop of its own, run in steps by the test: ``node.run_until(condition)``
runs the loop until the condition holds, at most ``timeout`` seconds. Every step has a
hard timeout, and ``close()`` always stops and disposes the node, restores the signal
handlers NautilusTrader installs, and ends the shared IB client (a node stuck connecting
does not stop on SIGTERM, so nothing here relies on signals).

    with NodeRun(fake_tws.port, strategy=Recorder(...)) as run:
        run.start()
        run.run_until(lambda: run.strategy.quotes, "a quote")
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
from nautilus_trader.model.data import Bar, BarType, QuoteTick
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
from fake_tws.broker import AccountConfig, WorldConfig

ACCOUNT = "DU123456"
AAPL = InstrumentId.from_str("AAPL.NASDAQ")
MSFT = InstrumentId.from_str("MSFT.NASDAQ")
STEP = 20.0  # the longest a single step of a node test may take
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGABRT)


def static_world(**overrides: Any) -> WorldConfig:
    """Prices that move only when a test moves them: AAPL at 150, MSFT at 400."""
    settings: dict[str, Any] = {
        "accounts": (AccountConfig(account_id=ACCOUNT),),
        "prices": {"AAPL": 150.0, "MSFT": 400.0},
        "static_prices": True,
        "around_the_clock": True,
    }
    return WorldConfig(**{**settings, **overrides})


# Monday 10:00 in New York: regular trading hours, so RTH bars exist. The server's time
# is not the wall clock's NautilusTrader keeps: the adapter must not care.
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def server_options(**world: Any) -> dict[str, Any]:
    """fake_tws options: virtual time from START, one account, a static world."""
    return {"accounts": (ACCOUNT,), "start": START, "world": static_world(**world)}


class RecorderConfig(StrategyConfig, frozen=True):
    instrument_ids: tuple[str, ...] = ()
    bar_types: tuple[str, ...] = ()
    trades: bool = False


class Recorder(Strategy):
    """Subscribes to what it is told and keeps everything it receives."""

    def __init__(self, config: RecorderConfig) -> None:
        super().__init__(config)
        self.quotes: list[QuoteTick] = []
        self.trades: list[Any] = []
        self.bars: list[Bar] = []
        self.events: list[Any] = []
        self.statuses: list[Any] = []

    def on_start(self) -> None:
        for value in self.config.instrument_ids:
            self.subscribe_quote_ticks(InstrumentId.from_str(value))
            if self.config.trades:
                self.subscribe_trade_ticks(InstrumentId.from_str(value))
        for value in self.config.bar_types:
            self.subscribe_bars(BarType.from_str(value))

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.quotes.append(tick)

    def on_trade_tick(self, tick: Any) -> None:
        self.trades.append(tick)

    def on_bar(self, bar: Bar) -> None:
        self.bars.append(bar)

    def on_instrument_status(self, data: Any) -> None:
        self.statuses.append(data)

    def on_event(self, event: Any) -> None:
        self.events.append(event)

    def events_of(self, kind: str) -> list[Any]:
        return [e for e in self.events if type(e).__name__ == kind]


def node_config(
    port: int,
    *,
    client_id: int = 1,
    load_ids: tuple[InstrumentId, ...] = (AAPL, MSFT),
    data: dict[str, Any] | None = None,
    exec_: dict[str, Any] | None = None,
    exec_engine: dict[str, Any] | None = None,
) -> TradingNodeConfig:
    """A node as NautilusTrader's IB docs build one, with our adapter's imports."""
    provider = InteractiveBrokersInstrumentProviderConfig(load_ids=frozenset(load_ids))
    return TradingNodeConfig(
        trader_id=TraderId("TESTER-001"),
        logging=LoggingConfig(log_level="ERROR", bypass_logging=False),
        data_clients={
            IB: InteractiveBrokersDataClientConfig(
                ibg_port=port,
                ibg_client_id=client_id,
                instrument_provider=provider,
                connection_timeout=10,
                request_timeout=10,
                **(data or {}),
            ),
        },
        exec_clients={
            IB: InteractiveBrokersExecClientConfig(
                ibg_port=port,
                ibg_client_id=client_id,
                account_id=ACCOUNT,
                instrument_provider=provider,
                routing=RoutingConfig(default=True),
                connection_timeout=10,
                **(exec_ or {}),
            ),
        },
        data_engine=LiveDataEngineConfig(
            time_bars_timestamp_on_close=False,
            validate_data_sequence=True,
        ),
        exec_engine=LiveExecEngineConfig(reconciliation=True, **(exec_engine or {})),
        risk_engine=LiveRiskEngineConfig(bypass=True),
        timeout_connection=10.0,
        timeout_reconciliation=10.0,
        timeout_portfolio=5.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.05,
        timeout_shutdown=2.0,
    )


class NodeRun:
    """One TradingNode on its own event loop (see the module docstring)."""

    def __init__(self, config: TradingNodeConfig, strategy: Strategy | None = None) -> None:
        self._signals = {sig: signal.getsignal(sig) for sig in SIGNALS}
        self.loop = asyncio.new_event_loop()
        self.node = TradingNode(config=config, loop=self.loop)
        self.node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
        self.node.add_exec_client_factory(IB, InteractiveBrokersLiveExecClientFactory)
        self.strategy = strategy
        if strategy is not None:
            self.node.trader.add_strategy(strategy)
        self.node.build()
        self._run_task: asyncio.Task | None = None
        self._closed = False

    def __enter__(self) -> NodeRun:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- running --------------------------------------------------------------------------

    def start(self, timeout: float = STEP) -> None:
        """Run the node until its trader is running (engines connected, reconciled)."""
        self._run_task = self.loop.create_task(self.node.run_async(), name="node run")
        self.run_until(
            lambda: self.node.trader.is_running or self._run_task.done(),
            "the trader to start",
            timeout,
        )
        if not self.node.trader.is_running:
            raise AssertionError("the node did not start (see its log)")

    def run_until(
        self,
        condition: Callable[[], Any],
        what: str = "the condition",
        timeout: float = STEP,
    ) -> Any:
        """Run the node's loop until ``condition()`` is truthy; fail after ``timeout``."""

        async def wait() -> Any:
            while not (result := condition()):
                await asyncio.sleep(0.005)
            return result

        try:
            return self.loop.run_until_complete(asyncio.wait_for(wait(), timeout))
        except TimeoutError:
            raise AssertionError(f"waited {timeout}s for {what}") from None

    def run_for(self, seconds: float) -> None:
        """Let the node work for a while (for asserting that nothing more happens)."""
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def call(self, coro: Any, timeout: float = STEP) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))

    # -- what it holds ------------------------------------------------------------------------

    @property
    def cache(self) -> Any:
        return self.node.kernel.cache

    @property
    def exec_client(self) -> Any:
        return self.node.kernel.exec_engine._clients[
            next(iter(self.node.kernel.exec_engine._clients))
        ]

    @property
    def data_client(self) -> Any:
        return next(iter(self.node.kernel.data_engine._clients.values()))

    @property
    def ib_client(self) -> Any:
        return self.exec_client._client

    def net_position(self, instrument_id: InstrumentId) -> Decimal:
        return sum(
            (
                p.signed_decimal_qty()
                for p in self.cache.positions_open(instrument_id=instrument_id)
            ),
            Decimal(0),
        )

    # -- ending -------------------------------------------------------------------------------

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if not self.loop.is_closed():
                with contextlib.suppress(Exception):
                    self.loop.run_until_complete(
                        asyncio.wait_for(self.node.stop_async(), STEP),
                    )
                self._stop_ib_clients()
                if self._run_task is not None and not self._run_task.done():
                    self._run_task.cancel()
                    with contextlib.suppress(BaseException):
                        self.loop.run_until_complete(
                            asyncio.wait_for(asyncio.shield(self._run_task), 2.0),
                        )
                with contextlib.suppress(Exception):
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
            self.loop.run_until_complete(client.wait_until_stopped(2.0))
        for key in [k for k, c in factories.IB_CLIENTS.items() if c._loop is self.loop]:
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
                    asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic())),
                )


def advance(run: NodeRun, fake_tws: Any, seconds: int) -> None:
    """Move virtual time a second at a time, letting the node read what each second
    brings (one jump would let a stream that is just starting sleep past it)."""
    for _ in range(seconds):
        fake_tws.advance(1)
        run.run_for(0.005)


def world_state(fake_tws: Any) -> tuple[dict[int, Decimal], dict[str, float]]:
    """The fake server's positions (by conId, non-zero) and account summary values."""
    rows = fake_tws.call(fake_tws.world.positions, ACCOUNT)
    positions = {row.contract.conId: Decimal(row.position) for row in rows if row.position}
    summary = fake_tws.call(
        fake_tws.world.account_summary,
        "All",
        "NetLiquidation,FullAvailableFunds,FullInitMarginReq,FullMaintMarginReq",
    )
    values = {item.tag: float(item.value) for item in summary if item.account == ACCOUNT}
    return positions, values


def assert_matches_world(run: NodeRun, fake_tws: Any) -> None:
    """NautilusTrader's positions and account balance are the server's."""
    positions, values = world_state(fake_tws)
    provider = run.exec_client.instrument_provider
    ours = {}
    for position in run.cache.positions_open():
        con_id = provider.contract[position.instrument_id].conId
        ours[con_id] = ours.get(con_id, Decimal(0)) + position.signed_decimal_qty()
    assert {k: v for k, v in ours.items() if v} == positions

    def balance_matches() -> bool:
        account = run.cache.account(run.exec_client.account_id)
        balance = account.balances().get(next(iter(account.balances())))
        return (
            abs(balance.total.as_double() - values["NetLiquidation"]) < 0.01
            and abs(balance.free.as_double() - values["FullAvailableFunds"]) < 0.01
        )

    run.run_until(balance_matches, f"the account balance to be the server's {values}", 5.0)
