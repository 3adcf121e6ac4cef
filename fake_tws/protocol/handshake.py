"""The connection greeting: `API\\0`, the client's version range, the server's answer.

client: "API\\0" + frame("v100..187 +PACEAPI")
server: frame("187\\0" "20260405 09:30:00 EST\\0")
client: startApi (an ordinary framed request)
"""

from __future__ import annotations

import re

import msgspec

from . import versions as V
from .errors import HandshakeError, NoCommonVersion

PREFIX = b"API\0"
_RANGE = re.compile(r"^v(\d+)(?:\.\.(\d+))?(?: (.*))?$", re.S)


class ClientGreeting(msgspec.Struct, frozen=True):
    min_version: int
    max_version: int
    connect_options: str = ""  # e.g. "+PACEAPI"


def parse_greeting(payload: bytes) -> ClientGreeting:
    """Parse the framed version-range text that follows `API\\0`."""
    text = payload.rstrip(b"\0").decode("ascii", errors="replace")
    m = _RANGE.match(text)
    if not m:
        raise HandshakeError(f"expected a version range like 'v100..187', got {text[:40]!r}")
    lo = int(m.group(1))
    hi = int(m.group(2)) if m.group(2) else lo
    if lo > hi:
        raise HandshakeError(f"version range v{lo}..{hi} is empty")
    return ClientGreeting(lo, hi, (m.group(3) or "").strip())


def negotiate(
    greeting: ClientGreeting, server_min: int = V.MIN_SUPPORTED, server_max: int = V.MAX_SUPPORTED
) -> int:
    """The highest version both sides speak, as TWS picks it."""
    version = min(greeting.max_version, server_max)
    if version < max(greeting.min_version, server_min):
        raise NoCommonVersion(greeting.min_version, greeting.max_version, server_min, server_max)
    return version


def server_hello(version: int, connection_time: str) -> bytes:
    """The server's answer to the greeting: its version and connection time (unframed)."""
    return f"{version}\0{connection_time}\0".encode()
