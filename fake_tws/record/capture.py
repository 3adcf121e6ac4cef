"""What a recording holds, and the sans-IO reader that builds it from the bytes a proxy
forwards (it never changes them).

    capture = ConnectionCapture(index=1, peer="127.0.0.1:50123")
    capture.client_data(b"API\\0...", now=0.0)     # bytes the client sent
    capture.server_data(b"...", now=0.01)           # bytes the server sent
    capture.closed("client", now=1.5)
    capture.items    # ClientFrame / ServerFrame / Closed, in arrival order

Client frames are decoded into typed requests at the negotiated version (the codec's
`decode_request`, what a `ServerConnection` uses); server frames stay lists of text
fields, since fake-tws has no response decoders. A frame that cannot be decoded is kept
with its problem: the proxy goes on forwarding whatever happens here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import decode_request
from fake_tws.protocol.errors import ProtocolError
from fake_tws.protocol.framing import FrameBuffer
from fake_tws.protocol.handshake import PREFIX, ClientGreeting, parse_greeting
from fake_tws.protocol.messages import Request
from fake_tws.protocol.requests import connection as rq
from fake_tws.protocol.table import REQUEST_IDS

START_API_ID = str(REQUEST_IDS[rq.StartApi])


@dataclass
class ClientFrame:
    """One framed request from the client."""

    time: float  # seconds since the connection opened
    fields: list[str]
    request: Request | None  # None: it could not be decoded (see `problem`)
    problem: str = ""

    @property
    def api_name(self) -> str:
        return self.request.api_name if self.request is not None else f"message {self.msg_id}"

    @property
    def msg_id(self) -> str:
        return self.fields[0] if self.fields else "?"


@dataclass
class ServerFrame:
    """One framed message from the server, as text fields (message id first)."""

    time: float
    fields: list[str]
    undecodable: bool = False  # not valid UTF-8: kept with replacement characters

    @property
    def msg_id(self) -> int | None:
        try:
            return int(self.fields[0])
        except (IndexError, ValueError):
            return None


@dataclass
class Closed:
    """The connection ended; `by` says which side closed it first (or the recorder
    stopping closed both)."""

    time: float
    by: Literal["client", "server", "recorder"]


Item = ClientFrame | ServerFrame | Closed


@dataclass
class ConnectionCapture:
    """One client connection through the proxy: the handshake and every frame both ways."""

    index: int  # 1, 2, ... in the order connections were accepted
    peer: str = "?"
    started_at: float = 0.0  # wall-clock time the connection was accepted (epoch seconds)
    greeting: ClientGreeting | None = None
    version: int | None = None  # what the server answered with
    connection_time: str = ""
    client_id: int | None = None  # from startApi
    items: list[Item] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _client_buffer: FrameBuffer = field(default_factory=FrameBuffer, repr=False)
    _server_buffer: FrameBuffer = field(default_factory=FrameBuffer, repr=False)
    _client_state: str = "prefix"  # prefix, greeting, frames, broken
    _server_state: str = "hello"  # hello, frames, broken
    _pending: list[tuple[float, bytes]] = field(default_factory=list, repr=False)

    # -- feeding --------------------------------------------------------------------------

    def client_data(self, data: bytes, now: float) -> list[ClientFrame]:
        """Bytes the client sent; returns the frames completed by them."""
        if self._client_state == "broken":
            return []
        buffer = self._client_buffer
        buffer.append(data)
        try:
            if self._client_state == "prefix":
                prefix = buffer.take_raw(len(PREFIX))
                if prefix is None:
                    return []
                if prefix != PREFIX:
                    self._break("client", f"the client did not start with API\\0 ({prefix!r})")
                    return []
                self._client_state = "greeting"
            payloads = buffer.drain()
        except ProtocolError as exc:
            self._break("client", str(exc))
            return []
        frames: list[ClientFrame] = []
        for payload in payloads:
            if self._client_state == "greeting":
                try:
                    self.greeting = parse_greeting(payload)
                except ProtocolError as exc:
                    self._break("client", f"bad greeting: {exc}")
                    return frames
                self._client_state = "frames"
            elif self.version is None:
                self._pending.append((now, payload))  # decoded once the version is known
            else:
                frames.append(self._client_frame(payload, now))
        return frames

    def server_data(self, data: bytes, now: float) -> list[ServerFrame | ClientFrame]:
        """Bytes the server sent; returns the server frames completed by them (and client
        frames that waited for the server's version)."""
        if self._server_state == "broken":
            return []
        try:
            payloads = self._server_buffer.feed(data)
        except ProtocolError as exc:
            self._break("server", str(exc))
            return []
        out: list[ServerFrame | ClientFrame] = []
        for payload in payloads:
            if self._server_state == "hello":
                self._on_hello(payload)
                self._server_state = "frames"
                out += [self._client_frame(p, t) for t, p in self._pending]
                self._pending.clear()
                continue
            text, bad = _text(payload)
            item = ServerFrame(now, text.split("\0")[:-1] if text.endswith("\0") else [text], bad)
            self.items.append(item)
            out.append(item)
        return out

    def closed(self, by: Literal["client", "server", "recorder"], now: float) -> None:
        if not any(isinstance(i, Closed) for i in self.items):
            self.items.append(Closed(now, by))

    # -- what the writer asks ---------------------------------------------------------------

    @property
    def started(self) -> bool:
        """The client got as far as startApi."""
        return self.client_id is not None

    @property
    def requests(self) -> list[ClientFrame]:
        return [i for i in self.items if isinstance(i, ClientFrame)]

    @property
    def messages(self) -> list[ServerFrame]:
        return [i for i in self.items if isinstance(i, ServerFrame)]

    @property
    def supported(self) -> bool:
        """Whether fake-tws speaks the version this connection used."""
        return self.version is not None and V.MIN_SUPPORTED <= self.version <= V.MAX_SUPPORTED

    # -- inside ---------------------------------------------------------------------------

    def _on_hello(self, payload: bytes) -> None:
        text, _ = _text(payload)
        parts = text.split("\0")
        try:
            self.version = int(parts[0])
        except ValueError:
            self.problems.append(f"the server's hello has no version: {parts[0][:20]!r}")
            self.version = 0
        self.connection_time = parts[1] if len(parts) > 1 else ""
        if not self.supported:
            self.problems.append(
                f"server version {self.version} is outside what fake-tws speaks "
                f"({V.MIN_SUPPORTED}..{V.MAX_SUPPORTED}): requests are kept undecoded"
            )

    def _client_frame(self, payload: bytes, now: float) -> ClientFrame:
        text, _ = _text(payload)
        fields = text.split("\0")[:-1] if text.endswith("\0") else [text]
        request: Request | None = None
        problem = ""
        if self.supported:
            try:
                request = decode_request(payload, self.version or 0)
            except ProtocolError as exc:
                problem = str(exc)
        else:
            problem = f"not decoded at server version {self.version}"
        if isinstance(request, rq.StartApi) and self.client_id is None:
            self.client_id = request.clientId
        elif request is None and fields[:1] == [START_API_ID] and self.client_id is None:
            self.client_id = _int(fields[2]) if len(fields) > 2 else None  # not decodable
        frame = ClientFrame(now, fields, request, problem)
        self.items.append(frame)
        return frame

    def _break(self, side: str, why: str) -> None:
        """Stop reading one direction (the bytes still flow through the proxy)."""
        self.problems.append(f"{side}: {why}; the rest of this direction is not recorded")
        if side == "client":
            self._client_state = "broken"
        else:
            self._server_state = "broken"


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def _text(payload: bytes) -> tuple[str, bool]:
    try:
        return payload.decode(), False
    except UnicodeDecodeError:
        return payload.decode(errors="replace"), True
