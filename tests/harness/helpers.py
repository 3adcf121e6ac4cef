"""A blocking raw TWS API client for harness tests (no ibapi threads needed)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from fake_tws.protocol.framing import FrameBuffer
from tests.wire import greeting, start_api

TIMEOUT = 5.0


class RawClient:
    """Connects, logs on as a client id and reads messages as lists of text fields."""

    def __init__(self, port: int, client_id: int | None = None, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self._frames = FrameBuffer()
        self._pending: list[list[str]] = []
        self.received: list[list[str]] = []
        self.sock.sendall(greeting())
        self.hello = self.next()
        if client_id is not None:
            self.sock.sendall(start_api(client_id))
            self.until(lambda m: m[:1] == ["4"] and m[3] == "2158")  # the bootstrap's end

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next(self) -> list[str]:
        """The next message; EOFError once the server has closed the connection."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            if self._pending:
                message = self._pending.pop(0)
                self.received.append(message)
                return message
            if time.monotonic() > deadline:
                raise TimeoutError("no message from the server in time")
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("the server closed the connection")
            self._pending += [p.decode().split("\0")[:-1] for p in self._frames.feed(data)]

    def until(self, predicate: Callable[[list[str]], bool]) -> list[str]:
        """Read messages until one satisfies `predicate`; returns it."""
        while True:
            message = self.next()
            if predicate(message):
                return message

    def error(self, code: int) -> list[str]:
        """Read until an error message with `code`: [4, 2, reqId, code, text, json]."""
        return self.until(lambda m: m[:1] == ["4"] and m[3] == str(code))

    def closed(self) -> bool:
        """Read until the server closes (True), failing if it does not in time."""
        try:
            while True:
                self.next()
        except EOFError:
            return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
