"""A full fake-tws world over TCP for the provider and historical client tests.

``start_tws(scripted=...)`` serves every request family from the simulated world, with
the ``Script``'s handlers on top (run in the server's trio thread); a scripted handler
may answer itself or hand the request on to the world (``script.world(...)``).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Any

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus, TestClock
from nautilus_trader.model.identifiers import TraderId

from adapter.client import InteractiveBrokersClient, ReconnectPolicy
from adapter.client.pacing import HistoricalPacer
from fake_tws.control.handle import FakeTws
from fake_tws.handlers import ALL_HANDLERS
from fake_tws.protocol.messages import Request
from fake_tws.session import Handlers, Session

WAIT = 5.0  # the most a test waits for something that should happen at once
# Reconnects in milliseconds, so tests of connection loss stay fast.
FAST = ReconnectPolicy(first_delay=0.01, factor=2.0, max_delay=0.05, attempt_timeout=2.0)
PACING_ERROR = "Historical Market Data Service error message:Pacing violation"


class Script:
    """Handlers a test puts over the world's, counting the requests they see."""

    def __init__(self) -> None:
        self.handlers = Handlers()
        self.seen: list[Request] = []
        self._lock = threading.Lock()

    def on(self, *request_types: type[Request]) -> Callable[[Callable], Callable]:
        def register(fn: Callable[[Session, Any], None]) -> Callable:
            def handle(session: Session, request: Any) -> None:
                with self._lock:
                    self.seen.append(request)
                fn(session, request)

            for request_type in request_types:
                self.handlers.on(request_type)(handle)
            return fn

        return register

    @staticmethod
    def world(session: Session, request: Any) -> None:
        """Answer as the simulated world would."""
        handler = ALL_HANDLERS.get(type(request))
        assert handler is not None, f"the world does not answer {type(request).__name__}"
        handler(session, request)

    def count(self, request_type: type[Request]) -> int:
        with self._lock:
            return sum(isinstance(r, request_type) for r in self.seen)


def start_tws(script: Script | None = None, **options: Any) -> FakeTws:
    """A fake-tws serving the whole world (virtual clock at 2026-01-05 14:30 UTC unless
    told otherwise), with ``script``'s handlers first."""
    handlers = ALL_HANDLERS | script.handlers if script is not None else None
    return FakeTws.start(handlers=handlers, **options)


def clock_at(moment: datetime) -> TestClock:
    clock = TestClock()
    clock.set_time(int(moment.timestamp() * 1_000_000_000))
    return clock


@contextlib.asynccontextmanager
async def ib_client(tws: FakeTws, client_id: int = 1) -> AsyncIterator[InteractiveBrokersClient]:
    """Our client, connected to ``tws``; always stopped afterwards."""
    import asyncio

    clock = LiveClock()
    client = InteractiveBrokersClient(
        asyncio.get_running_loop(),
        MessageBus(TraderId("TESTER-001"), clock),
        Cache(),
        clock,
        port=tws.port,
        client_id=client_id,
        reconnect=FAST,
    )
    client.start()
    try:
        await client.wait_until_ready(WAIT)
        yield client
    finally:
        if not client.is_stopped and not client.is_disposed:
            client.stop()
        await client.wait_until_stopped()


def quick_pacing(client: InteractiveBrokersClient) -> None:
    """IB's pacing rules in milliseconds instead of seconds, for tests about something else
    that repeat a request (a retry repeats it exactly, which IB allows after 15 s)."""
    client._historical_pacer = HistoricalPacer(identical_interval=0.01, same_contract_period=0.01)
