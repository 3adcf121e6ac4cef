"""A scripted fake-tws for client tests, and a way to wait on it from asyncio.

The broker world of fake-tws is written elsewhere; here each test says how the server
answers: ``gateway.on(ReqContractDetails)`` registers a handler (run in the server's
trio thread) that also records the request, so a test can ``await
gateway.requests_of(ReqContractDetails)`` without sleeping.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from fake_tws.protocol.messages import Request, Response
from fake_tws.protocol.responses.connection import Error
from fake_tws.server import ServerThread
from fake_tws.session import CONNECTION_HANDLERS, Handlers, Session

WAIT = 5.0  # the most any test waits for something that should happen at once


class FakeGateway:
    """A ServerThread answering with the test's handlers on top of the connection family."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.handlers = Handlers()
        self._scripts: dict[type[Request], Callable[[Session, Any], None]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._changed = asyncio.Event()
        self.thread: ServerThread | None = None

    # -- scripting ------------------------------------------------------------------

    def on(self, *request_types: type[Request]) -> Callable[[Callable], Callable]:
        """Decorator: answer these requests with ``fn(session, request)``. A type must be
        scripted before ``start()``; its answer may be replaced at any time."""

        def register(fn: Callable[[Session, Any], None]) -> Callable:
            for request_type in request_types:
                self._scripts[request_type] = fn
                self.handlers.on(request_type)(self._handle)
            return fn

        return register

    def _handle(self, session: Session, request: Any) -> None:
        try:
            self._scripts[type(request)](session, request)
        finally:
            self._record(request)  # after the script ran: a test sees what it did

    def record(self, *request_types: type[Request]) -> None:
        """Accept these requests silently (TWS answers cancels with nothing)."""
        for request_type in request_types:
            default = CONNECTION_HANDLERS.get(request_type)
            self.on(request_type)(default or (lambda session, request: None))

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
        self._loop.call_soon_threadsafe(self._changed.set)

    # -- running ------------------------------------------------------------------------

    def start(self, **config: Any) -> FakeGateway:
        self.thread = ServerThread(handlers=CONNECTION_HANDLERS | self.handlers, **config)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.thread.stop()

    @property
    def port(self) -> int:
        assert self.thread is not None
        return self.thread.port

    def sessions(self) -> list[Session]:
        assert self.thread is not None
        return self.thread.run_sync(lambda: list(self.thread.server.sessions))

    def push(self, *messages: Response) -> None:
        """Send messages to every connected client now."""
        assert self.thread is not None

        def send() -> None:
            for session in self.thread.server.sessions:
                for message in messages:
                    session.send(message)

        self.thread.run_sync(send)

    def error(self, req_id: int, code: int, text: str) -> None:
        self.push(Error(reqId=req_id, errorCode=code, errorString=text))

    def drop_clients(self, reason: str = "dropped by the test") -> None:
        assert self.thread is not None
        self.thread.run_sync(lambda: [s.close(reason) for s in self.thread.server.sessions])

    # -- waiting ----------------------------------------------------------------------------

    async def requests_of(
        self,
        request_type: type[Request],
        count: int = 1,
        timeout: float = WAIT,
    ) -> list[Any]:
        """The requests of this type received so far, once there are ``count``."""

        def matching() -> list[Any]:
            with self._lock:
                return [r for r in self.requests if isinstance(r, request_type)]

        await wait_until(lambda: len(matching()) >= count, self._changed, timeout)
        return matching()


async def wait_until(condition: Callable[[], bool], changed: asyncio.Event, timeout: float) -> None:
    """Wait (bounded) for ``condition``, re-checking whenever ``changed`` is set."""

    async def loop() -> None:
        while not condition():
            changed.clear()
            if condition():
                return
            await changed.wait()

    await asyncio.wait_for(loop(), timeout)


class Events:
    """Collects what handlers receive, and lets a test await the n-th one."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        item = kwargs if kwargs else (args[0] if len(args) == 1 else args)
        self.items.append(item)
        self._changed.set()

    async def wait(self, count: int = 1, timeout: float = WAIT) -> list[Any]:
        await wait_until(lambda: len(self.items) >= count, self._changed, timeout)
        return self.items
