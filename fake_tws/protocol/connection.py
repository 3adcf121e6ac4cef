"""A sans-IO server-side connection, in the manner of h11.

Feed it bytes with `receive_data`; it returns events. Ask it for bytes to send with
`accept` and `send`. It never touches a socket or a clock, so it can be driven by trio,
asyncio, a test, or a fuzzer alike.

Errors that break the byte stream (bad greeting, oversized frame) raise ProtocolError:
the connection cannot continue (requests that arrived whole before an oversized frame come
with the error, in `error.events`, to be answered before closing). A frame that is well
delimited but holds a bad message yields a `BadRequest` event: the stream stays in sync
and the session can answer it.
"""

from __future__ import annotations

import enum

import msgspec

from . import versions as V
from .codec import decode_request, encode_response
from .errors import HandshakeError, NoCommonVersion, ProtocolError
from .framing import DEFAULT_MAX_FRAME, FrameBuffer, frame
from .handshake import PREFIX, ClientGreeting, negotiate, parse_greeting, server_hello
from .messages import Request, Response


class State(enum.Enum):
    AWAIT_PREFIX = "await-prefix"
    AWAIT_GREETING = "await-greeting"
    AWAIT_ACCEPT = "await-accept"
    READY = "ready"
    CLOSED = "closed"


class Greeting(msgspec.Struct, frozen=True):
    """The client's version range arrived; `version` is what both sides speak."""

    greeting: ClientGreeting
    version: int


class VersionMismatch(msgspec.Struct, frozen=True):
    """No version in common. TWS answers with its own version, then closes."""

    greeting: ClientGreeting
    error: str


class RequestReceived(msgspec.Struct, frozen=True):
    request: Request


class BadRequest(msgspec.Struct, frozen=True):
    """A complete frame that could not be decoded; the stream itself is intact."""

    error: ProtocolError
    message_id: str
    payload: bytes


Event = Greeting | VersionMismatch | RequestReceived | BadRequest


class ServerConnection:
    def __init__(
        self,
        min_version: int = V.MIN_SUPPORTED,
        max_version: int = V.MAX_SUPPORTED,
        max_frame: int = DEFAULT_MAX_FRAME,
    ) -> None:
        self.min_version = min_version
        self.max_version = max_version
        self.state = State.AWAIT_PREFIX
        self.version = 0
        self._buffer = FrameBuffer(max_frame)
        self._broken: ProtocolError | None = None

    def receive_data(self, data: bytes) -> list[Event]:
        if self.state is State.CLOSED or self._broken is not None:
            raise ProtocolError("connection is closed")
        events: list[Event] = []
        self._buffer.append(data)
        if self.state is State.AWAIT_PREFIX:
            prefix = self._buffer.take_raw(len(PREFIX))
            if prefix is None:
                return events
            if prefix != PREFIX:
                self.state = State.CLOSED
                raise HandshakeError(f"connection must start with b'API\\x00', got {prefix!r}")
            self.state = State.AWAIT_GREETING
        payloads, too_large = self._buffer.drain_partial()
        for payload in payloads:
            if self.state is State.AWAIT_GREETING:
                events.append(self._on_greeting(payload))
            elif self.state is State.CLOSED:
                break
            else:
                events.append(self._on_request(payload))
        if too_large is not None and self.state is not State.CLOSED:
            # The frames before the oversized one arrived whole: they come with the error,
            # so what they ask is answered however the bytes were split into reads. The
            # connection then takes no more data, but can still send until `close()`.
            too_large.events = tuple(events)
            self._broken = too_large
            if not events:
                self.state = State.CLOSED
            raise too_large
        return events

    def _on_greeting(self, payload: bytes) -> Event:
        try:
            greeting = parse_greeting(payload)
        except HandshakeError:
            self.state = State.CLOSED
            raise
        try:
            self.version = negotiate(greeting, self.min_version, self.max_version)
        except NoCommonVersion as exc:
            self.state = State.CLOSED
            return VersionMismatch(greeting, str(exc))
        self.state = State.AWAIT_ACCEPT
        return Greeting(greeting, self.version)

    def _on_request(self, payload: bytes) -> Event:
        try:
            return RequestReceived(decode_request(payload, self.version))
        except ProtocolError as exc:
            head = payload.split(b"\0", 1)[0]
            return BadRequest(exc, head.decode(errors="replace"), payload)

    def accept(self, connection_time: str) -> bytes:
        """Bytes of the server's hello, after a Greeting event."""
        if self.state is not State.AWAIT_ACCEPT:
            raise ProtocolError(f"cannot accept in state {self.state.value}")
        self.state = State.READY
        return frame(server_hello(self.version, connection_time))

    def mismatch_reply(self, connection_time: str) -> bytes:
        """What TWS sends a client it shares no version with: its own version."""
        return frame(server_hello(self.max_version, connection_time))

    def send(self, message: Response) -> bytes:
        if self.state is not State.READY:
            raise ProtocolError(f"cannot send {message.api_name} in state {self.state.value}")
        return encode_response(message, self.version)

    def close(self) -> None:
        self.state = State.CLOSED
