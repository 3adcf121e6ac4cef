"""Test-only bridge to ib_async, the second client our encodings must satisfy.

ib_async negotiates server versions 157..178 only (its Client.MinClientVersion and
MaxClientVersion), so cross-checks against it run inside that range.

- `ib_async_decode(response, version)`: the wrapper calls ib_async's Decoder makes from our
  encoding. Its decoder swallows exceptions into a log line; here any such exception fails
  the test instead (an AssertionError that starts "ib_async failed to decode").
- `ib_async_request(version, call)`: our decoding of what ib_async's Client (which has its
  own request encoder, different from ibapi's in places) sends for `call(client)`.
Neither needs a socket or an event loop.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import UTC
from typing import Any

from ib_async.client import Client
from ib_async.decoder import Decoder

from fake_tws.protocol.codec import decode_request, response_fields
from fake_tws.protocol.messages import Request, Response

IB_ASYNC_LOW, IB_ASYNC_HIGH = 157, 178
IB_ASYNC_VERSIONS = (IB_ASYNC_LOW, IB_ASYNC_HIGH)


class IbAsyncRecorder:
    """Stands in for ib_async's Wrapper: records every method call as (name, args), and
    has the two attributes its decoder reads (for timestamps)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.ib = types.SimpleNamespace(TimezoneTWS=None)
        self.defaultTimezone = UTC

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


class _FailingLogger:
    """ib_async logs decoding exceptions and carries on; we re-raise them."""

    def exception(self, msg: str, *args: Any) -> None:
        raise AssertionError(f"ib_async failed to decode: {msg % args if args else msg}")

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def ib_async_decode(message: Response, version: int) -> list[tuple[str, tuple[Any, ...]]]:
    """Encode `message` with our codec, decode it with ib_async; return the wrapper calls."""
    fields = response_fields(message, version)
    # ib_async splits the UTF-8 payload on NUL and drops the trailing empty part.
    payload = ("\0".join(fields) + "\0").encode().decode(errors="backslashreplace")
    parts = payload.split("\0")
    parts.pop()
    recorder = IbAsyncRecorder()
    decoder = Decoder(recorder, version)  # type: ignore[arg-type]
    decoder.logger = _FailingLogger()  # type: ignore[assignment]
    decoder.interpret(parts)
    return recorder.calls


def ib_async_request_payloads(version: int, call: Callable[[Client], None]) -> list[bytes]:
    """Payloads that ib_async's Client sends for `call(client)` at server `version`."""
    client = Client(IbAsyncRecorder())  # type: ignore[arg-type]
    client.connState = Client.CONNECTED
    client._serverVersion = version
    sent: list[str] = []
    client.sendMsg = sent.append  # type: ignore[method-assign]
    call(client)
    return [msg.encode() for msg in sent]


def ib_async_request(version: int, call: Callable[[Client], None]) -> Request:
    """Let ib_async's Client encode one request, then decode it with our codec."""
    (payload,) = ib_async_request_payloads(version, call)
    return decode_request(payload, version)
