"""The socket under the client: asyncio instead of ibapi's reader thread.

ibapi reads the socket in a thread (``EReader``) that blocks on ``recv``. Here the event
loop reads it: ``IBProtocol`` cuts the byte stream into frames and hands each one, in
order and on the loop's thread, to a callback (the client's ``_process_message``).
Nothing blocks the loop, and closing the transport stops reading at once.

``EClientConnection`` is what ibapi's ``EClient`` needs as its ``conn``: it writes the
frames EClient builds through the client's throttle.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable

from ibapi import comm
from ibapi.const import MAX_MSG_LEN
from ibapi.server_versions import MAX_CLIENT_VER, MIN_CLIENT_VER

_LENGTH = struct.Struct("!I")


def handshake_bytes(connect_options: str = "") -> bytes:
    """What a client sends first: ``API\\0`` and the range of versions it speaks."""
    versions = f"v{MIN_CLIENT_VER}..{MAX_CLIENT_VER}"
    if connect_options:
        versions += f" {connect_options}"
    return b"API\0" + comm.make_msg(versions)


class FrameTooLarge(Exception):
    pass


class IBProtocol(asyncio.Protocol):
    """Length-prefixed frames in, one callback per frame."""

    def __init__(
        self,
        on_frame: Callable[[bytes], None],
        on_lost: Callable[[BaseException | None], None],
    ) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # No isinstance check: uvloop's TCP transport (NautilusTrader's default loop
        # outside pytest) is a Transport in behaviour but not a subclass of asyncio's.
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        buffer, start = self._buffer, 0  # compacted once per chunk, not once per frame
        try:
            while len(buffer) - start >= 4:
                (size,) = _LENGTH.unpack_from(buffer, start)
                if size > MAX_MSG_LEN:
                    raise FrameTooLarge(f"frame of {size} bytes (ibapi's limit is {MAX_MSG_LEN})")
                end = start + 4 + size
                if len(buffer) < end:
                    break
                frame = bytes(buffer[start + 4 : end])
                start = end
                self._on_frame(frame)
                if self.transport is None or self.transport.is_closing():
                    return
        except FrameTooLarge as exc:
            if self.transport is not None:
                self.transport.close()
            self._on_lost(exc)
            return
        del buffer[:start]

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        self._on_lost(exc)


class EClientConnection:
    """ibapi's ``Connection`` interface over an asyncio transport."""

    def __init__(self, transport: asyncio.Transport, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._transport: asyncio.Transport | None = transport

    def isConnected(self) -> bool:
        return self._transport is not None and not self._transport.is_closing()

    def sendMsg(self, msg: bytes) -> int:
        if not self.isConnected():
            return 0
        assert self._transport is not None
        self._transport.write(msg)
        return len(msg)

    def disconnect(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
