"""A scenario engine on a gateway without sockets: sessions over recording links,
requests as ibapi encodes them, time moved by hand.

    run = EngineRun.of('''
        rules:
          - id: r
            when: {request: reqCurrentTime}
            do: [{error: {code: 399, text: hi}}]
    ''')
    client = run.connect(1)
    client.send(lambda c: c.reqCurrentTime())
    run.journal.assert_in_order(sent("error", errorCode=399), sent("currentTime"))
    run.advance(1.5)        # the clock moves, what is due runs
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ibapi.client import EClient
from ibapi.contract import Contract as IbContract
from ibapi.order import Order as IbOrder

from fake_tws.clock import VirtualClock
from fake_tws.handlers import ALL_HANDLERS
from fake_tws.journal import Journal
from fake_tws.protocol.framing import frame
from fake_tws.scenario import Scenario, parse_scenario
from fake_tws.scenario.engine import ScenarioEngine, scenario_config
from fake_tws.session import Gateway, Handlers, Session
from tests.ibapi_harness import ibapi_request_payloads
from tests.wire import greeting, messages, start_api


class Link:
    """A session's link that keeps what was sent and how the connection ended."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed: str | None = None
        self.aborted: tuple[str, bytes] | None = None

    def send(self, data: bytes) -> None:
        self.data += data

    def close(self, reason: str) -> None:
        self.closed = reason

    def abort(self, mode: str, reason: str, tail: bytes = b"") -> None:
        self.aborted = (mode, tail)
        self.closed = reason

    def fields(self) -> list[list[str]]:
        return messages(bytes(self.data))


class Handle:
    """A task handle for sessions without a server: records cancellation."""

    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Tasks:
    """A TaskRunner that does not run anything, only hands out handles."""

    def __init__(self) -> None:
        self.spawned: list[tuple[str, Handle]] = []

    def spawn(self, name: str, fn: Any) -> Handle:
        handle = Handle()
        self.spawned.append((name, handle))
        return handle


@dataclass
class Client:
    session: Session
    link: Link
    version: int = 187

    @property
    def client_id(self) -> int:
        assert self.session.client_id is not None
        return self.session.client_id

    def send(self, call: Callable[[EClient], None]) -> None:
        """Deliver the request(s) `call` makes on an ibapi EClient."""
        payloads = ibapi_request_payloads(self.version, call)
        self.session.receive_data(b"".join(frame(p) for p in payloads))

    def place(
        self,
        order_id: int,
        symbol: str = "AAPL",
        action: str = "BUY",
        quantity: float = 100,
        order_type: str = "MKT",
        limit: float | None = None,
        **order_fields: Any,
    ) -> None:
        contract = stock(symbol)
        order = IbOrder()
        order.action, order.orderType, order.totalQuantity = action, order_type, quantity
        if limit is not None:
            order.lmtPrice = limit
        for name, value in order_fields.items():
            setattr(order, name, value)
        self.send(lambda c: c.placeOrder(order_id, contract, order))

    def cancel(self, order_id: int) -> None:
        from ibapi.order_cancel import OrderCancel

        self.send(lambda c: c.cancelOrder(order_id, OrderCancel()))


def stock(symbol: str) -> IbContract:
    contract = IbContract()
    contract.symbol, contract.secType = symbol, "STK"
    contract.exchange, contract.currency = "SMART", "USD"
    return contract


@dataclass
class EngineRun:
    scenario: Scenario
    gateway: Gateway
    engine: ScenarioEngine
    clients: list[Client] = field(default_factory=list)

    @classmethod
    def of(
        cls, text: str | Scenario, handlers: Handlers = ALL_HANDLERS, **overrides: Any
    ) -> EngineRun:
        if isinstance(text, Scenario):
            scenario = text
        else:
            scenario = parse_scenario(textwrap.dedent(text), "test.yaml")
        gateway = Gateway(scenario_config(scenario, **overrides), handlers)
        engine = ScenarioEngine(scenario).attach(gateway)
        return cls(scenario, gateway, engine)

    @property
    def journal(self) -> Journal:
        return self.gateway.journal

    @property
    def clock(self) -> VirtualClock:
        clock = self.gateway.clock
        assert isinstance(clock, VirtualClock)
        return clock

    @property
    def world(self):
        return self.gateway.world

    def connect(self, client_id: int, version: int = 187) -> Client:
        link = Link()
        session = Session(self.gateway, link, f"test:{client_id}")
        session.tasks = Tasks()
        session.receive_data(greeting(100, version) + start_api(client_id))
        client = Client(session, link, version)
        self.clients.append(client)
        self.engine.run_pending()
        return client

    def advance(self, seconds: float) -> None:
        """Move the clock and run what became due (what the engine's task would do)."""
        self.engine.run_pending()
        self.clock.advance(seconds)
        self.engine.run_pending()

    def pending(self) -> None:
        self.engine.run_pending()
