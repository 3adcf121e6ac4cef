"""Test-only bridges to ibapi, the reference client, for cross-checking our codec.

- `ibapi_request`: what ibapi's EClient puts on the wire for a request, at a version.
- `ibapi_decode`: what ibapi's Decoder makes of a frame we encoded (every EWrapper call).

fake_tws itself never imports ibapi; only tests do.
"""

from __future__ import annotations

import inspect
import struct
from collections.abc import Callable
from typing import Any

from ibapi import comm
from ibapi.client import EClient
from ibapi.decoder import Decoder
from ibapi.wrapper import EWrapper

from fake_tws.protocol.codec import decode_request, response_fields
from fake_tws.protocol.messages import Request, Response

LOW, HIGH = 100, 187  # lowest and highest server versions we support
VERSIONS = (LOW, HIGH)


class _CaptureConn:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendMsg(self, msg: bytes) -> int:
        self.sent.append(msg)
        return len(msg)

    def isConnected(self) -> bool:
        return True


class RecordingWrapper(EWrapper):
    """An EWrapper that records every callback as (name, args)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple[Any, ...]]] = []


def _recorder(name: str) -> Callable[..., None]:
    def record(self: RecordingWrapper, *args: Any) -> None:
        self.calls.append((name, args))

    record.__name__ = name
    record.__signature__ = inspect.signature(getattr(EWrapper, name))  # type: ignore[attr-defined]
    return record


for _name, _fn in inspect.getmembers(EWrapper, inspect.isfunction):
    if not _name.startswith("_") and _name not in ("logAnswer",):
        setattr(RecordingWrapper, _name, _recorder(_name))


def ibapi_client(version: int) -> tuple[EClient, RecordingWrapper, _CaptureConn]:
    wrapper = RecordingWrapper()
    client = EClient(wrapper)
    conn = _CaptureConn()
    client.conn = conn
    client.serverVersion_ = version
    client.connState = EClient.CONNECTED
    client.clientId = 0
    return client, wrapper, conn


def ibapi_request_payloads(version: int, call: Callable[[EClient], None]) -> list[bytes]:
    """Payloads (length prefix removed) that ibapi's EClient sends for `call`."""
    client, wrapper, conn = ibapi_client(version)
    call(client)
    errors = [c for c in wrapper.calls if c[0] == "error"]
    assert not errors, f"ibapi refused the request at v{version}: {errors}"
    payloads = []
    for msg in conn.sent:
        (size,) = struct.unpack("!I", msg[:4])
        assert size == len(msg) - 4
        payloads.append(msg[4:])
    return payloads


def ibapi_request(version: int, call: Callable[[EClient], None]) -> Request:
    """Let ibapi encode one request, then decode it with our codec."""
    (payload,) = ibapi_request_payloads(version, call)
    return decode_request(payload, version)


def ibapi_decode(message: Response, version: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Encode `message` with our codec, decode it with ibapi; return the EWrapper calls."""
    fields = response_fields(message, version)
    payload = ("\0".join(fields) + "\0").encode()
    wrapper = RecordingWrapper()
    decoder = Decoder(wrapper, version)
    decoder.interpret(comm.read_fields(payload))
    return wrapper.calls


def only_call(calls: list[tuple[str, tuple[Any, ...]]], name: str) -> tuple[Any, ...]:
    """The arguments of the single call named `name` (and no errors)."""
    errors = [c for c in calls if c[0] == "error" and name != "error"]
    assert not errors, errors
    matching = [args for n, args in calls if n == name]
    assert len(matching) == 1, f"expected one {name}, got {calls}"
    return matching[0]
