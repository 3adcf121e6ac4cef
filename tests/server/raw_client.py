"""A bare TWS API client over any trio stream, for server tests below the real clients."""

from __future__ import annotations

from collections import deque
from contextlib import asynccontextmanager

import trio

from fake_tws.config import ServerConfig
from fake_tws.protocol.framing import FrameBuffer
from fake_tws.server import Server
from fake_tws.session import Handlers
from tests.wire import greeting, start_api

TIMEOUT = 5  # seconds any single wait in these tests may take before it fails


class RawClient:
    def __init__(self, stream: trio.abc.Stream) -> None:
        self.stream = stream
        self._frames = FrameBuffer()
        self._messages: deque[list[str]] = deque()

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        return cls(await trio.open_tcp_stream("127.0.0.1", port))

    async def send(self, data: bytes) -> None:
        await self.stream.send_all(data)

    async def message(self) -> list[str]:
        """The next message's fields; EOFError if the server closed first."""
        with trio.fail_after(TIMEOUT):
            while not self._messages:
                data = await self.stream.receive_some(65536)
                if not data:
                    raise EOFError("server closed the connection")
                for payload in self._frames.feed(data):
                    self._messages.append(payload.decode().split("\0")[:-1])
        return self._messages.popleft()

    async def messages(self, n: int) -> list[list[str]]:
        return [await self.message() for _ in range(n)]

    async def until_closed(self) -> list[list[str]]:
        """Every message up to the server's close."""
        out = []
        try:
            while True:
                out.append(await self.message())
        except EOFError:
            return out

    async def log_on(self, client_id: int, lo: int = 100, hi: int = 187) -> list[list[str]]:
        """Handshake and startApi; returns the hello and the five bootstrap messages."""
        await self.send(greeting(lo, hi))
        hello = await self.message()
        await self.send(start_api(client_id))
        return [hello, *await self.messages(5)]

    async def aclose(self) -> None:
        await self.stream.aclose()


@asynccontextmanager
async def running(config: ServerConfig | None = None, handlers: Handlers | None = None):
    """A Server listening on a free port for the duration of the block."""
    async with trio.open_nursery() as nursery:
        server: Server = await nursery.start(Server(config or ServerConfig(), handlers).serve)
        yield server
        server.stop()
