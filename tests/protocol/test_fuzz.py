"""Hostile input never surprises the server: random and mutated bytes and frames give
events or a ProtocolError (never another exception), and always return.

The corpus includes frames ibapi itself encodes (placeOrder, reqMktData, ...), so field
mutations reach deep into every request decoder.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ibapi.contract import Contract
from ibapi.order import Order

from fake_tws.config import ServerConfig
from fake_tws.protocol.connection import (
    BadRequest,
    Greeting,
    RequestReceived,
    ServerConnection,
    State,
    VersionMismatch,
)
from fake_tws.protocol.errors import ProtocolError
from fake_tws.protocol.framing import frame
from fake_tws.protocol.table import REQUEST_TYPES
from fake_tws.session import Gateway, Session
from tests.ibapi_harness import ibapi_request_payloads
from tests.wire import greeting, start_api

EVENT_TYPES = (Greeting, VersionMismatch, RequestReceived, BadRequest)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Hang(Exception):
    """The watchdog fired: something looped instead of returning."""


@contextmanager
def watchdog(seconds: float = 2.0) -> Iterator[None]:
    def fire(signum, frame):
        raise Hang(f"no return within {seconds}s")

    previous = signal.signal(signal.SIGALRM, fire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _stock() -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = "AAPL", "STK", "SMART", "USD"
    return c


def _limit_order() -> Order:
    o = Order()
    o.action, o.orderType, o.totalQuantity, o.lmtPrice = "BUY", "LMT", 100, 187.5
    return o


def _ibapi_corpus() -> list[bytes]:
    calls = [
        lambda c: c.startApi(),
        lambda c: c.reqCurrentTime(),
        lambda c: c.reqIds(1),
        lambda c: c.placeOrder(7, _stock(), _limit_order()),
        lambda c: c.reqMktData(3, _stock(), "233", False, False, []),
        lambda c: c.reqContractDetails(4, _stock()),
        lambda c: c.reqHistoricalData(5, _stock(), "", "1 D", "1 min", "TRADES", 1, 1, False, []),
        lambda c: c.reqAccountSummary(6, "All", "NetLiquidation"),
        lambda c: c.reqPositions(),
    ]
    return [p for call in calls for p in ibapi_request_payloads(187, call)]


CORPUS = _ibapi_corpus()

# Field texts that stress the readers: empties, sentinels, signs, odd numbers, non-ASCII.
FIELD_TEXT = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "-1",
            "1",
            "2147483647",
            "9223372036854775807",
            "1.7976931348623157E308",
            "Infinity",
            "-Infinity",
            "nan",
            "1e999",
            "99999999999999999999999999",
            "0.0001",
            "true",
            "AAPL",
            "é",
        ]
    ),
    st.text(max_size=12),
)
FIELD = st.one_of(
    FIELD_TEXT.map(str.encode), st.binary(max_size=8).filter(lambda b: b"\0" not in b)
)
MESSAGE_ID = st.one_of(st.sampled_from(sorted(REQUEST_TYPES)), st.integers(-5, 300))


@st.composite
def random_frames(draw) -> bytes:
    fields = [str(draw(MESSAGE_ID)).encode(), *draw(st.lists(FIELD, max_size=40))]
    payload = b"\0".join(fields) + (b"" if draw(st.integers(0, 20)) == 0 else b"\0")
    return frame(payload)


@st.composite
def mutated_frames(draw) -> bytes:
    """An ibapi-encoded request with a few of its fields replaced, dropped or added."""
    fields = draw(st.sampled_from(CORPUS))[:-1].split(b"\0")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(fields)))
        op = draw(st.sampled_from(["replace", "drop", "insert", "truncate"]))
        if op == "replace" and at < len(fields):
            fields[at] = draw(FIELD)
        elif op == "drop" and at < len(fields):
            del fields[at]
        elif op == "insert":
            fields.insert(at, draw(FIELD))
        elif op == "truncate":
            fields = fields[:at]
    return frame(b"\0".join(fields) + b"\0")


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    chunks, at = [], 0
    for size in sizes:
        chunks.append(data[at : at + size])
        at += size
    chunks.append(data[at:])
    return [c for c in chunks if c]


def drive(conn: ServerConnection, chunks: list[bytes]) -> None:
    """Feed chunks like a transport would; stop where the transport would close."""
    with watchdog():
        for chunk in chunks:
            try:
                events = conn.receive_data(chunk)
            except ProtocolError as exc:
                # Closed, unless requests came whole before the break: they are still to
                # be answered (the connection takes no more data either way).
                assert conn.state is State.CLOSED or exc.events
                with pytest.raises(ProtocolError):
                    conn.receive_data(b"")
                return
            assert all(isinstance(e, EVENT_TYPES) for e in events)
            if conn.state is State.AWAIT_ACCEPT:
                conn.accept("20260405 09:30:00 UTC")
            if conn.state is State.CLOSED:
                return


CHUNK_SIZES = st.lists(st.integers(1, 64), max_size=20)


@FUZZ
@given(data=st.binary(max_size=300), sizes=CHUNK_SIZES)
def test_random_bytes_from_the_first_byte(data, sizes):
    drive(ServerConnection(max_frame=4096), chunked(data, sizes))


@FUZZ
@given(data=st.binary(max_size=300), sizes=CHUNK_SIZES)
def test_random_bytes_after_a_valid_handshake(data, sizes):
    drive(ServerConnection(max_frame=4096), chunked(greeting() + start_api(1) + data, sizes))


@FUZZ
@given(frames=st.lists(random_frames(), min_size=1, max_size=8), sizes=CHUNK_SIZES)
def test_random_frames(frames, sizes):
    drive(ServerConnection(), chunked(greeting() + b"".join(frames), sizes))


@FUZZ
@given(frames=st.lists(mutated_frames(), min_size=1, max_size=6), sizes=CHUNK_SIZES)
def test_mutated_ibapi_frames(frames, sizes):
    drive(ServerConnection(), chunked(greeting() + b"".join(frames), sizes))


@FUZZ
@given(
    conversation=st.lists(st.sampled_from(CORPUS), min_size=1, max_size=6),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    sizes=CHUNK_SIZES,
)
def test_byte_flips_in_a_valid_conversation(conversation, flips, sizes):
    data = bytearray(greeting() + b"".join(frame(p) for p in conversation))
    for at, value in flips:
        data[at % len(data)] = value
    drive(ServerConnection(max_frame=1 << 20), chunked(bytes(data), sizes))


class _NullLink:
    def __init__(self) -> None:
        self.closed = False

    def send(self, data: bytes) -> None:
        assert isinstance(data, bytes)

    def close(self, reason: str) -> None:
        self.closed = True


@FUZZ
@given(frames=st.lists(st.one_of(random_frames(), mutated_frames()), max_size=8))
def test_a_session_answers_anything_without_raising(frames):
    link = _NullLink()
    session = Session(Gateway(ServerConfig()), link, "fuzz")
    with watchdog():
        session.receive_data(greeting() + start_api(1))
        for f in frames:
            session.receive_data(f)
    assert session.closed == link.closed
