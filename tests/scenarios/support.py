"""Running shipped scenarios against real clients over TCP.

    with served("orders/partial_fills") as run:
        client = run.ibapi(1)                       # an ibapi EClient recording everything
        client.placeOrder(...)
        client.wait_for(lambda: ...)
        run.advance(2)                              # the server's virtual clock

Waits are bounded (the client's `wait_for`, the journal's `wait_for`); nothing sleeps.
Advance the clock only once the server has answered what the step depends on (a rule's
delays count from when its trigger was handled).
"""

from __future__ import annotations

import contextlib
import inspect
import socket
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from ibapi.contract import Contract as IbContract
from ibapi.order import Order as IbOrder
from ibapi.wrapper import EWrapper

from fake_tws.clock import VirtualClock
from fake_tws.journal import Direction, Expect, Journal
from fake_tws.scenario.engine import ScenarioEngine
from fake_tws.server import ServerThread
from tests.conformance.ibapi_client import TIMEOUT, IbapiClient

BOOTSTRAP_NOTICES = 3  # farm notices after nextValidId (one per farm of the world)


class Client(IbapiClient):
    """An ibapi client recording every callback as (name, args)."""

    def errors(self, *, bootstrap: bool = False) -> list[tuple[int, int, str]]:
        """(reqId, code, text) of the errors received (without the farm notices of the
        bootstrap unless asked)."""
        out = [tuple(a[:3]) for a in self.named("error")]
        if bootstrap:
            return out
        skip = 0  # the bootstrap's farm notices come first, one per farm
        while (
            skip < len(out)
            and skip < BOOTSTRAP_NOTICES
            and out[skip][0] == -1
            and (2100 <= out[skip][1] < 2200)
        ):
            skip += 1
        return out[skip:]

    def codes(self) -> list[int]:
        return [e[1] for e in self.errors()]

    def statuses(self, order_id: int) -> list[str]:
        out: list[str] = []
        for args in self.named("orderStatus"):
            if args[0] == order_id and (not out or out[-1] != args[1]):
                out.append(args[1])
        return out

    def wait_status(self, order_id: int, status: str) -> None:
        self.wait_for(lambda: status in self.statuses(order_id))

    def wait_count(self, name: str, count: int) -> list[tuple[Any, ...]]:
        self.wait_for(lambda: len(self.named(name)) >= count)
        return self.named(name)

    def wait_closed(self) -> None:
        """The server closed the connection (ibapi's reader ended)."""
        assert self.reader_finished(), f"still connected; calls: {self.calls[-5:]}"

    def order_sequence(self, order_id: int) -> list[str]:
        """The order's messages in arrival order: 'openOrder:Submitted',
        'orderStatus:Filled', 'execDetails', 'commissionReport', 'error:202'."""
        out = []
        exec_ids: set[str] = set()
        for name, args in self.calls:
            if name == "openOrder" and args[0] == order_id:
                out.append(f"openOrder:{args[3].status}")
            elif name == "orderStatus" and args[0] == order_id:
                out.append(f"orderStatus:{args[1]}")
            elif name == "execDetails" and args[2].orderId == order_id:
                out.append("execDetails")
                exec_ids.add(args[2].execId)
            elif name == "commissionReport" and args[0].execId in exec_ids:
                out.append("commissionReport")
            elif name == "error" and args[0] == order_id:
                out.append(f"error:{args[1]}")
        return out


def _recorder(name: str) -> Callable[..., None]:
    def record(self: Client, *args: Any) -> None:
        self._record(name, *args)

    record.__name__ = name
    return record


for _name, _fn in inspect.getmembers(EWrapper, inspect.isfunction):
    if (
        not _name.startswith("_")
        and _name not in ("logAnswer", "error")
        and (_name not in IbapiClient.__dict__)
    ):
        setattr(Client, _name, _recorder(_name))


def stock(symbol: str = "AAPL") -> IbContract:
    contract = IbContract()
    contract.symbol, contract.secType, contract.exchange, contract.currency = (
        symbol,
        "STK",
        "SMART",
        "USD",
    )
    return contract


def order(
    action: str = "BUY", quantity: float = 100, order_type: str = "MKT", **fields: Any
) -> IbOrder:
    o = IbOrder()
    o.action, o.totalQuantity, o.orderType = action, Decimal(str(quantity)), order_type
    for name, value in fields.items():
        setattr(o, name, value)
    return o


class Run:
    """A ServerThread running a scenario, and the clients a test opened on it."""

    def __init__(self, server: ServerThread) -> None:
        self.server = server
        self.opened: list[Client] = []

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def journal(self) -> Journal:
        return self.server.server.gateway.journal

    @property
    def engine(self) -> ScenarioEngine:
        engine = self.server.engine
        assert engine is not None
        return engine

    @property
    def clock(self) -> VirtualClock:
        clock = self.server.config.clock
        assert isinstance(clock, VirtualClock)
        return clock

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def ibapi(self, client_id: int, *, bootstrap: bool = True) -> Client:
        client = Client()
        self.opened.append(client)
        client.open(self.port, client_id)
        if bootstrap:
            client.wait_for(lambda: len(client.errors(bootstrap=True)) >= 3)
        return client

    def wait_note(self, text: str, timeout: float = TIMEOUT) -> None:
        """Wait until the journal holds a note (a connection happening, a rule firing)."""
        self.journal.wait_for(Expect(Direction.EVENT, "note", {"text": text}), timeout)

    def wait_fired(self, rule_id: str) -> None:
        self.wait_note(f"scenario: rule {rule_id} fires")

    def refused(self) -> bool:
        """Whether a TCP connection to the server is refused right now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=TIMEOUT):
                return False
        except ConnectionRefusedError:
            return True

    def world(self, fn: Callable[[Any], Any]) -> Any:
        """Call `fn(world)` in the server's thread."""
        return self.server.run_sync(lambda: fn(self.server.server.gateway.world))

    def close(self) -> None:
        for client in self.opened:
            client.close()


def eventually(condition: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    """Wait (bounded) for a condition another thread will make true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.002)


@contextlib.contextmanager
def served(name: str, **overrides: Any) -> Iterator[Run]:
    """Serve a shipped scenario (by library name) for the block."""
    with ServerThread(scenario=name, **overrides) as server:
        run = Run(server)
        try:
            yield run
        finally:
            run.close()
