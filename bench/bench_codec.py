"""Frames encoded and decoded per second, against plain joins/splits of the same fields.

The baseline does only the unavoidable work (join text fields and prefix a length; find
frames and split them on NUL), so the ratio shows what typing, version gating and
validation cost on top.

Goals come from need, not from what the code happens to reach: responses must outrun the
fastest client (ib_async reads ~280k msg/s; plain joins run ~4-5M frames/s here, so a
ratio of 0.1 keeps the codec off the critical path); requests arrive orders of magnitude
less often than ticks leave, so decoding may cost more per frame (goal 0.05).
"""

from __future__ import annotations

import struct

from fake_tws.protocol.codec import decode_request, encode_response, response_fields
from fake_tws.protocol.framing import FrameBuffer, frame
from fake_tws.protocol.table import RESPONSES_BY_NAME

from .result import Result, throughput

N = 20_000
VERSION = 187
_HEADER = struct.Struct("!I")


def _req_mkt_data_payload() -> bytes:
    """What ibapi's EClient sends at v187 for a streaming AAPL quote request."""
    from ibapi.contract import Contract

    from tests.ibapi_harness import ibapi_request_payloads

    aapl = Contract()
    aapl.symbol, aapl.secType, aapl.exchange, aapl.currency = "AAPL", "STK", "SMART", "USD"
    (payload,) = ibapi_request_payloads(
        VERSION, lambda c: c.reqMktData(1, aapl, "233,236", False, False, [])
    )
    return payload


def run() -> list[Result]:
    tick = RESPONSES_BY_NAME["tickPrice"](reqId=1, tickType=1, price=187.25, size=None)
    fields = response_fields(tick, VERSION)

    def encode_ours() -> int:
        for _ in range(N):
            encode_response(tick, VERSION)
        return N

    def encode_baseline() -> int:
        for _ in range(N):
            payload = ("\0".join(fields) + "\0").encode()
            _HEADER.pack(len(payload)) + payload
        return N

    stream = frame(_req_mkt_data_payload()) * 1000

    def decode_ours() -> int:
        for _ in range(N // 1000):
            for payload in FrameBuffer().feed(stream):
                decode_request(payload, VERSION)
        return N

    def decode_baseline() -> int:
        for _ in range(N // 1000):
            pos = 0
            while pos < len(stream):
                (size,) = _HEADER.unpack_from(stream, pos)
                stream[pos + 4 : pos + 4 + size].split(b"\0")
                pos += 4 + size
        return N

    return [
        throughput(
            "codec: tickPrice frames encoded/s vs join",
            encode_ours,
            encode_baseline,
            "frames/s",
            0.1,
        ),
        throughput(
            "codec: reqMktData frames decoded/s vs split",
            decode_ours,
            decode_baseline,
            "frames/s",
            0.05,
        ),
    ]
