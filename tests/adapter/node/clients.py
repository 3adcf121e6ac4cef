"""Our data and execution clients on their own, without a TradingNode: what they send to
NautilusTrader's engines is collected from the message bus, so a test sees every piece of
data and every event exactly as an engine would receive it.

    async with DataHarness(fake_tws.port) as h:
        h.client.subscribe_quote_ticks(h.subscribe_quotes(AAPL))
        await h.wait(lambda: h.quotes)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.common.factories import OrderFactory
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.model.data import Bar, OrderBookDeltas, QuoteTick, TradeTick
from nautilus_trader.model.identifiers import AccountId, StrategyId, TraderId
from nautilus_trader.model.instruments import Instrument

from adapter.client import InteractiveBrokersClient, ReconnectPolicy
from adapter.config import (
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersExecClientConfig,
    InteractiveBrokersInstrumentProviderConfig,
)
from adapter.data import InteractiveBrokersDataClient
from adapter.execution import InteractiveBrokersExecutionClient
from adapter.providers import InteractiveBrokersInstrumentProvider
from tests.adapter.node.support import AAPL, ACCOUNT, MSFT

FAST = ReconnectPolicy(first_delay=0.01, factor=2.0, max_delay=0.05, attempt_timeout=2.0)
WAIT = 5.0


class _Harness:
    def __init__(self, port: int, client_id: int = 1, load_ids: tuple = (AAPL, MSFT)) -> None:
        self.loop = asyncio.get_running_loop()
        self.clock = LiveClock()
        self.msgbus = MessageBus(TraderId("TESTER-001"), self.clock)
        self.cache = Cache()
        self.ib = InteractiveBrokersClient(
            self.loop,
            self.msgbus,
            self.cache,
            self.clock,
            port=port,
            client_id=client_id,
            reconnect=FAST,
        )
        self.provider = InteractiveBrokersInstrumentProvider(
            self.ib,
            self.clock,
            InteractiveBrokersInstrumentProviderConfig(load_ids=frozenset(load_ids)),
        )
        self.client: Any = None

    async def __aenter__(self) -> Any:
        self.ib.start()
        self.client.connect()
        await self.wait(lambda: self.client.is_connected, "the client to connect")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self.client.is_connected:
            self.client.disconnect()
            await self.wait(lambda: not self.client.is_connected, "the disconnect")
        if not self.ib.is_stopped and not self.ib.is_disposed:
            self.ib.stop()
        await self.ib.wait_until_stopped()

    async def wait(
        self,
        condition: Callable[[], Any],
        what: str = "the condition",
        timeout: float = WAIT,
    ) -> Any:
        async def poll() -> Any:
            while not (result := condition()):
                await asyncio.sleep(0.002)
            return result

        try:
            return await asyncio.wait_for(poll(), timeout)
        except TimeoutError:
            raise AssertionError(f"waited {timeout}s for {what}") from None

    def instrument(self, instrument_id: Any) -> Instrument:
        return self.provider.find(instrument_id)


class DataHarness(_Harness):
    """An ``InteractiveBrokersDataClient`` whose output lands in ``data``/``responses``."""

    def __init__(self, port: int, client_id: int = 1, **config: Any) -> None:
        super().__init__(port, client_id)
        self.data: list[Any] = []
        self.responses: list[Any] = []
        self.msgbus.register("DataEngine.process", self.data.append)
        self.msgbus.register("DataEngine.response", self.responses.append)
        self.config = InteractiveBrokersDataClientConfig(
            ibg_port=port,
            ibg_client_id=client_id,
            request_timeout=5,
            **config,
        )
        self.client = InteractiveBrokersDataClient(
            self.loop,
            self.ib,
            self.msgbus,
            self.cache,
            self.clock,
            self.provider,
            client_id,
            self.config,
            connection_timeout=5,
            request_timeout=5,
        )

    def of(self, kind: type) -> list[Any]:
        return [d for d in self.data if isinstance(d, kind)]

    @property
    def quotes(self) -> list[QuoteTick]:
        return self.of(QuoteTick)

    @property
    def trades(self) -> list[TradeTick]:
        return self.of(TradeTick)

    @property
    def bars(self) -> list[Bar]:
        return self.of(Bar)

    @property
    def deltas(self) -> list[OrderBookDeltas]:
        return self.of(OrderBookDeltas)

    def command(self, kind: type, **fields: Any) -> Any:
        return kind(
            client_id=self.client.id,
            venue=None,
            command_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            params=fields.pop("params", None),
            **fields,
        )

    def request(self, kind: type, **fields: Any) -> Any:
        return kind(
            client_id=self.client.id,
            venue=fields.pop("venue", None),
            callback=lambda response: None,
            request_id=UUID4(),
            ts_init=self.clock.timestamp_ns(),
            params=fields.pop("params", {}),
            **fields,
        )


class ExecHarness(_Harness):
    """An ``InteractiveBrokersExecutionClient`` whose events land in ``events`` and
    account states in ``accounts``; orders are made with ``orders`` and put in the cache."""

    def __init__(
        self, port: int, client_id: int = 1, account: str = ACCOUNT, **config: Any
    ) -> None:
        super().__init__(port, client_id)
        self.events: list[Any] = []
        self.accounts: list[Any] = []
        self.reports: list[Any] = []
        self.apply_errors: list[Any] = []
        self.msgbus.register("ExecEngine.process", self._process)
        self.msgbus.register("Portfolio.update_account", self.accounts.append)
        self.msgbus.register("ExecEngine.reconcile_execution_report", self.reports.append)
        self.msgbus.register("ExecEngine.reconcile_execution_mass_status", self.reports.append)
        self.config = InteractiveBrokersExecClientConfig(
            ibg_port=port,
            ibg_client_id=client_id,
            account_id=account,
            **config,
        )
        self.client = InteractiveBrokersExecutionClient(
            self.loop,
            self.ib,
            AccountId(f"INTERACTIVE_BROKERS-{account}"),
            self.msgbus,
            self.cache,
            self.clock,
            self.provider,
            self.config,
            connection_timeout=5,
        )
        self.orders = OrderFactory(TraderId("TESTER-001"), StrategyId("S-001"), self.clock)

    def _process(self, event: Any) -> None:
        """As the execution engine: keep the event and apply it to the cached order (an
        event the order refuses is a bug of the client, kept in ``apply_errors``)."""
        self.events.append(event)
        order = self.cache.order(event.client_order_id)
        if order is None:
            return
        try:
            order.apply(event)
            self.cache.update_order(order)
        except Exception as e:
            self.apply_errors.append((event, e))

    def add(self, order: Any) -> Any:
        self.cache.add_order(order)
        return order

    def events_of(self, kind: str, order: Any = None) -> list[Any]:
        return [
            e
            for e in self.events
            if type(e).__name__ == kind
            and (order is None or e.client_order_id == order.client_order_id)
        ]

    def kinds(self, order: Any) -> list[str]:
        return [type(e).__name__ for e in self.events if e.client_order_id == order.client_order_id]


def submit(h: ExecHarness, order: Any) -> Any:
    """Put the order in the cache and send it through the client, as the engine would."""
    from nautilus_trader.execution.messages import SubmitOrder

    h.add(order)
    h.client.submit_order(
        SubmitOrder(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            order=order,
            command_id=UUID4(),
            ts_init=h.clock.timestamp_ns(),
        ),
    )
    return order


def submit_list(h: ExecHarness, order_list: Any) -> Any:
    from nautilus_trader.execution.messages import SubmitOrderList

    for order in order_list.orders:
        h.add(order)
    h.client.submit_order_list(
        SubmitOrderList(
            trader_id=order_list.first.trader_id,
            strategy_id=order_list.first.strategy_id,
            order_list=order_list,
            command_id=UUID4(),
            ts_init=h.clock.timestamp_ns(),
        ),
    )
    return order_list


def cancel(h: ExecHarness, order: Any) -> None:
    from nautilus_trader.execution.messages import CancelOrder

    h.client.cancel_order(
        CancelOrder(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=None,
            command_id=UUID4(),
            ts_init=h.clock.timestamp_ns(),
        ),
    )


def modify(
    h: ExecHarness, order: Any, quantity: Any = None, price: Any = None, trigger: Any = None
) -> None:
    from nautilus_trader.execution.messages import ModifyOrder

    h.client.modify_order(
        ModifyOrder(
            trader_id=order.trader_id,
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=None,
            quantity=quantity,
            price=price,
            trigger_price=trigger,
            command_id=UUID4(),
            ts_init=h.clock.timestamp_ns(),
        ),
    )
