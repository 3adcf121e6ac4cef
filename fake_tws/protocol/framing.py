"""Length-prefixed framing: 4-byte big-endian size, then a payload of NUL-terminated fields.

`FrameBuffer` is fed raw bytes as they arrive and yields complete payloads. It keeps one
bytearray and an offset, so a burst of many small frames costs no quadratic re-slicing.
"""

from __future__ import annotations

import struct

from .errors import FrameTooLarge, MalformedFrame

DEFAULT_MAX_FRAME = 16 * 1024 * 1024  # IB's own client caps messages at 16 MiB
_HEADER = struct.Struct("!I")


class FrameBuffer:
    __slots__ = ("_buf", "_pos", "max_frame")

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self._buf = bytearray()
        self._pos = 0
        self.max_frame = max_frame

    def feed(self, data: bytes) -> list[bytes]:
        """Add received bytes; return every payload now complete (possibly none).

        Raises FrameTooLarge as soon as a header announces an oversized frame, before
        its body is buffered.
        """
        self._buf += data
        return self.drain()

    def append(self, data: bytes) -> None:
        """Add received bytes without parsing them yet (before the greeting prefix)."""
        self._buf += data

    def drain(self) -> list[bytes]:
        """Every complete payload in the buffer."""
        frames, too_large = self.drain_partial()
        if too_large is not None:
            raise too_large
        return frames

    def drain_partial(self) -> tuple[list[bytes], FrameTooLarge | None]:
        """Like `drain`, but an oversized header does not lose the frames before it: they
        are returned with its error (the header stays in the buffer)."""
        frames: list[bytes] = []
        too_large = None
        buf, pos, end = self._buf, self._pos, len(self._buf)
        while end - pos >= 4:
            (size,) = _HEADER.unpack_from(buf, pos)
            if size > self.max_frame:
                too_large = FrameTooLarge(size, self.max_frame)
                break
            if end - pos - 4 < size:
                break
            frames.append(bytes(buf[pos + 4 : pos + 4 + size]))
            pos += 4 + size
        if pos == end:
            buf.clear()
            pos = 0
        elif pos > 65536 and pos * 2 > end:
            del buf[:pos]
            pos = 0
        self._pos = pos
        return frames, too_large

    def take_raw(self, n: int) -> bytes | None:
        """Take `n` unframed bytes (the `API\\0` greeting prefix), or None if not yet here."""
        if len(self._buf) - self._pos < n:
            return None
        raw = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        return raw

    @property
    def pending(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf) - self._pos


def frame(payload: bytes) -> bytes:
    """Prefix a payload with its length."""
    return _HEADER.pack(len(payload)) + payload


def split_fields(payload: bytes) -> list[bytes]:
    """Split a payload into its fields. Every field, the last included, ends with NUL."""
    if not payload:
        raise MalformedFrame("empty frame: a message needs at least a message id")
    if payload[-1] != 0:
        raise MalformedFrame(
            f"frame does not end with a NUL field terminator (last byte {payload[-1]:#04x})"
        )
    return payload[:-1].split(b"\0")


def join_fields(fields: list[str]) -> bytes:
    """Build a payload: each field NUL-terminated."""
    return ("\0".join(fields) + "\0").encode()
