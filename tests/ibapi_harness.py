"""Test-only bridges to ibapi, the reference client, for cross-checking our codec.

- `ibapi_request`: what ibapi's EClient puts on the wire for a request, at a version,
  decoded by our codec (`ibapi_request_payloads` gives the raw payloads).
- `ibapi_decode`: what ibapi's Decoder makes of a frame we encoded (every EWrapper call);
  `ibapi_decode_all` also fails if ibapi leaves fields of the message unread.
- `only_call`: the arguments of the one callback of a name.

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

Calls = list[tuple[str, tuple[Any, ...]]]


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
        self.calls: Calls = []


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


def _ibapi_fields(message: Response, version: int) -> tuple[list[str], Any]:
    """Our fields for `message`, and the same as ibapi reads them off the wire."""
    fields = response_fields(message, version)
    return fields, comm.read_fields(("\0".join(fields) + "\0").encode())


def ibapi_decode(message: Response, version: int) -> Calls:
    """Encode `message` with our codec, decode it with ibapi; return the EWrapper calls."""
    _, raw = _ibapi_fields(message, version)
    wrapper = RecordingWrapper()
    Decoder(wrapper, version).interpret(raw)
    return wrapper.calls


def ibapi_decode_all(message: Response, version: int) -> Calls:
    """Like `ibapi_decode`, and fails if ibapi leaves fields of the message unread."""
    fields, raw = _ibapi_fields(message, version)
    wrapper = RecordingWrapper()
    decoder = Decoder(wrapper, version)
    info = decoder.msgId2handleInfo[int(raw[0])]
    if info.processMeth is not None:
        it = iter(raw)
        info.processMeth(decoder, it)
        left = list(it)
        assert not left, f"ibapi left {len(left)} field(s) unread: {left}"
    else:  # signature-driven messages check their field count themselves
        decoder.interpret(raw)
        assert wrapper.calls, f"ibapi rejected the field count of {fields}"
    return wrapper.calls


def only_call(calls: Calls, name: str) -> tuple[Any, ...]:
    """The arguments of the single call named `name` (and no errors)."""
    errors = [c for c in calls if c[0] == "error" and name != "error"]
    assert not errors, errors
    matching = [args for n, args in calls if n == name]
    assert len(matching) == 1, f"expected one {name}, got {calls}"
    return matching[0]
