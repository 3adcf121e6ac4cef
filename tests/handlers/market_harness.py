"""A session without sockets for the market data and historical families: requests
go in as ibapi encodes them, typed responses come out, streams run in a trio nursery
and time moves only by `advance`.

    async with connected() as client:
        client.send(lambda c: c.reqMktData(1, aapl(), "", False, False, []))
        first = client.take()
        await client.advance(5)
        later = client.take()
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import trio
import trio.testing
from ibapi.client import EClient
from ibapi.contract import Contract as IbapiContract

from fake_tws.broker import World
from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers import ALL_HANDLERS
from fake_tws.journal import Direction, Entry
from fake_tws.protocol.framing import frame
from fake_tws.protocol.messages import Response
from fake_tws.server import NurseryTasks
from fake_tws.session import Gateway, Session
from tests.ibapi_harness import ibapi_request_payloads
from tests.wire import greeting, start_api

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York
SATURDAY_NIGHT = datetime(2026, 4, 18, 3, 0, tzinfo=UTC)  # every exchange closed
VERSION = 187


def contract(
    symbol: str, sec_type: str = "STK", exchange: str = "SMART", currency: str = "USD", **kw: Any
) -> IbapiContract:
    c = IbapiContract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, sec_type, exchange, currency
    for name, value in kw.items():
        setattr(c, name, value)
    return c


def aapl() -> IbapiContract:
    return contract("AAPL")


def eur_gbp() -> IbapiContract:
    return contract("EUR", "CASH", "IDEALPRO", "GBP")


class RecordingLink:
    def __init__(self) -> None:
        self.close_reason: str | None = None

    def send(self, data: bytes) -> None:
        pass

    def close(self, reason: str) -> None:
        self.close_reason = reason


class Client:
    def __init__(self, session: Session, clock: VirtualClock, version: int = VERSION) -> None:
        self.session = session
        self.clock = clock
        self.version = version
        self._sent: list[Response] = []
        session.gateway.journal.listen(self._on_entry)

    def _on_entry(self, entry: Entry) -> None:
        if entry.direction is Direction.SENT and entry.client_id == self.session.client_id:
            self._sent.append(entry.message)  # type: ignore[arg-type]

    @property
    def world(self) -> World:
        return self.session.gateway.world

    def send(self, call: Callable[[EClient], None]) -> None:
        """Let ibapi encode a request and hand its bytes to the session."""
        payloads = ibapi_request_payloads(self.version, call)
        self.session.receive_data(b"".join(frame(p) for p in payloads))

    def take(self) -> list[Response]:
        """Typed messages sent since the last take."""
        out, self._sent = self._sent, []
        return out

    async def settle(self) -> None:
        await trio.testing.wait_all_tasks_blocked()

    async def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the clock `seconds` on, `step` at a time, letting streams run."""
        moved = 0.0
        while moved < seconds:
            await self.settle()
            self.clock.advance(min(step, seconds - moved))
            moved += step
        await self.settle()

    async def jump(self, seconds: float) -> None:
        """Move the clock in one go (streams wake once)."""
        await self.settle()
        self.clock.advance(seconds)
        await self.settle()


@asynccontextmanager
async def connected(
    start: datetime = START, version: int = VERSION, **config: Any
) -> AsyncIterator[Client]:
    clock = VirtualClock(start)
    gateway = Gateway(ServerConfig(clock=clock, **config), ALL_HANDLERS)
    async with trio.open_nursery() as nursery:
        session = Session(gateway, RecordingLink(), "test")
        session.tasks = NurseryTasks(nursery)
        session.receive_data(greeting(100, version) + start_api(1))
        client = Client(session, clock, version)
        client.take()
        try:
            yield client
        finally:
            session.connection_lost()
            nursery.cancel_scope.cancel()


def of(messages: list[Response], kind: type) -> list:
    return [m for m in messages if isinstance(m, kind)]


def names(messages: list[Response]) -> list[str]:
    return [type(m).__name__ for m in messages]
