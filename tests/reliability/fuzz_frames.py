"""Hostile client traffic for the server fuzz test, and what the server must make of it.

`Fuzzer` (one per simulated client, seeded) makes the bytes of one connection: a valid
handshake and startApi, then frames that are random, mutated from what ibapi itself sends
(fields replaced, swapped, dropped, truncated; junk and non-UTF-8 bytes; wrong request,
order and message ids), or broken as frames (lying or huge length prefixes, junk between
frames); a few connections break the handshake instead. `predict` reads those bytes the
way the server's framing and codec do and says what the server must answer: one error 320
per frame it cannot decode, error 505 then a close for an unknown message id, a logged
close for a broken stream. The connection's bytes stop at the first fatal frame (nothing
after it would be read), so the server never closes on unread input.
"""

from __future__ import annotations

import itertools
import random
import struct
from dataclasses import dataclass, field
from decimal import Decimal

from ibapi.contract import Contract
from ibapi.execution import ExecutionFilter
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel

from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import decode_request
from fake_tws.protocol.errors import ProtocolError, UnknownMessageId
from fake_tws.protocol.framing import frame
from fake_tws.protocol.handshake import PREFIX, negotiate, parse_greeting
from fake_tws.protocol.table import REQUEST_TYPES
from tests.ibapi_harness import ibapi_request_payloads
from tests.wire import greeting, start_api

VERSION = 187
_HEADER = struct.Struct("!I")


def _stock(symbol: str = "AAPL") -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def _option() -> Contract:
    c = _stock()
    c.secType, c.lastTradeDateOrContractMonth, c.strike, c.right = "OPT", "20260619", 200, "C"
    return c


def _order(order_type: str = "LMT") -> Order:
    o = Order()
    o.action, o.orderType, o.totalQuantity = "BUY", order_type, Decimal(10)
    if order_type == "LMT":
        o.lmtPrice = 1.0  # far from the market: rests, does not fill
    return o


# What well-formed traffic looks like: every request family, as ibapi encodes it at v187,
# with how often each is picked. Orders are rarer: every order stays in the world, and the
# order queries answer with all of them, so their cost grows with the run.
WEIGHTED_CALLS = (
    (1, lambda c: c.reqCurrentTime()),
    (1, lambda c: c.reqIds(1)),
    (1, lambda c: c.reqManagedAccts()),
    (1, lambda c: c.reqMarketDataType(3)),
    (1, lambda c: c.reqPositions()),
    (1, lambda c: c.cancelPositions()),
    (1, lambda c: c.reqAccountSummary(6, "All", "NetLiquidation,BuyingPower")),
    (1, lambda c: c.cancelAccountSummary(6)),
    (1, lambda c: c.reqAccountUpdates(True, "DU123456")),
    (1, lambda c: c.reqPnL(11, "DU123456", "")),
    (0.3, lambda c: c.reqOpenOrders()),
    (0.3, lambda c: c.reqAllOpenOrders()),
    (0.3, lambda c: c.reqCompletedOrders(False)),
    (0.3, lambda c: c.reqExecutions(7, ExecutionFilter())),
    (1, lambda c: c.reqContractDetails(4, _stock())),
    (1, lambda c: c.reqContractDetails(4, _stock("MSFT"))),
    (1, lambda c: c.reqMatchingSymbols(9, "AAP")),
    (1, lambda c: c.reqSecDefOptParams(10, "AAPL", "", "STK", 265598)),
    (1, lambda c: c.reqMktData(3, _stock(), "", False, False, [])),
    (1, lambda c: c.reqMktData(12, _stock("MSFT"), "233,236", False, False, [])),
    (1, lambda c: c.reqMktData(13, _stock(), "", True, False, [])),
    (1, lambda c: c.cancelMktData(3)),
    (1, lambda c: c.reqMktDepth(8, _stock(), 5, False, [])),
    (1, lambda c: c.cancelMktDepth(8, False)),
    (1, lambda c: c.reqTickByTickData(14, _stock(), "BidAsk", 0, False)),
    (1, lambda c: c.reqRealTimeBars(15, _stock(), 5, "TRADES", False, [])),
    (
        1,
        lambda c: c.reqHistoricalData(
            5, _stock(), "", "1800 S", "1 min", "TRADES", 1, 1, False, []
        ),
    ),
    (1, lambda c: c.cancelHistoricalData(5)),
    (1, lambda c: c.reqHeadTimeStamp(16, _stock(), "TRADES", 1, 1)),
    (0.3, lambda c: c.placeOrder(20, _stock(), _order())),
    (0.1, lambda c: c.placeOrder(21, _stock(), _order("MKT"))),
    (0.3, lambda c: c.cancelOrder(20, OrderCancel())),
    (0.1, lambda c: c.reqGlobalCancel()),
    (0.3, lambda c: c.exerciseOptions(17, _option(), 1, 1, "DU123456", 0, "", "", False)),
    (1, lambda c: c.reqNewsBulletins(True)),
    (1, lambda c: c.reqFamilyCodes()),
)
CORPUS: tuple[bytes, ...] = tuple(
    p for _, call in WEIGHTED_CALLS for p in ibapi_request_payloads(VERSION, call)
)
WEIGHTS: tuple[float, ...] = tuple(w for w, _ in WEIGHTED_CALLS)
CUMULATIVE = tuple(itertools.accumulate(WEIGHTS))

# Field texts that stress the readers: empties, sentinels, signs, odd numbers, ids that
# exist and ids that do not.
FIELD_TEXTS = (
    "",
    "0",
    "-1",
    "1",
    "3",
    "20",
    "2147483647",
    "-2147483648",
    "9223372036854775807",
    "99999999999999999999999999",
    "1.7976931348623157E308",
    "Infinity",
    "nan",
    "1e999",
    "0.0001",
    "true",
    "AAPL",
    "SMART",
    "DU123456",
    "é",
    " ",
)
NON_UTF8 = (b"\xff", b"\xfe\xfe", b"\xc3\x28", b"\xed\xa0\x80", b"\xe2\x82")
KNOWN_IDS = sorted(REQUEST_TYPES)
ALPHABET = "".join(chr(c) for c in range(32, 0x2FF))  # ASCII, Latin-1, Latin Extended


def _field(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.55:
        return rng.choice(FIELD_TEXTS).encode()
    if kind < 0.7:
        return str(rng.randint(-(2**40), 2**40)).encode()  # a wrong id, a wild number
    if kind < 0.85:
        return "".join(rng.choices(ALPHABET, k=rng.randint(1, 10))).encode()
    return rng.randbytes(rng.randint(1, 8)).replace(b"\0", b"\1")  # junk, but no NUL


# Fields to pick from (drawing each afresh costs more than the server's work on it).
_POOL_RNG = random.Random(1)
FIELD_POOL: tuple[bytes, ...] = tuple(_field(_POOL_RNG) for _ in range(4096))


@dataclass
class Prediction:
    """What the server must do with one connection's bytes."""

    frames: int = 0  # frames (whole or not) after the greeting, startApi included
    bad_requests: int = 0  # complete frames that do not decode: one error 320 each
    unknown_id: bool = False  # ended by an unknown message id: error 505, then closed
    protocol_error: bool = False  # ended by a broken stream: closed without an answer
    handshake_failed: bool = False  # ...broken before the handshake was done: no hello
    version_mismatch: bool = False  # the handshake shares no version: hello, then closed
    incomplete: bool = False  # ends inside a frame the server is still waiting for
    end: int = 0  # how many bytes to send: nothing after the fatal frame


def predict(data: bytes, max_frame: int) -> Prediction:
    """Read `data` as the server does (prefix, greeting, frames, codec) up to the first
    point where it closes the connection."""
    out = Prediction(end=len(data))
    if data[: len(PREFIX)] != PREFIX:
        out.protocol_error = out.handshake_failed = True
        return out
    pos = len(PREFIX)
    greeted = False
    version = 0
    while len(data) - pos >= 4:
        (size,) = _HEADER.unpack_from(data, pos)
        if size > max_frame:
            out.protocol_error = True
            out.handshake_failed = not greeted
            out.end = pos + 4
            return out
        if len(data) - pos - 4 < size:
            break
        payload = data[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if not greeted:
            try:
                version = negotiate(parse_greeting(payload), V.MIN_SUPPORTED, V.MAX_SUPPORTED)
            except ProtocolError as exc:
                out.version_mismatch = "no common version" in str(exc)
                out.protocol_error = out.handshake_failed = not out.version_mismatch
                out.end = pos
                return out
            greeted = True
            continue
        out.frames += 1
        try:
            decode_request(payload, version)
        except UnknownMessageId:
            out.unknown_id = True
            out.end = pos
            return out
        except ProtocolError:
            out.bad_requests += 1
    if pos < len(data):
        out.incomplete = True
        out.frames += 1
    return out


@dataclass
class Connection:
    opening: bytes  # the handshake and startApi (or a broken handshake)
    frames: list[bytes]

    @property
    def data(self) -> bytes:
        return self.opening + b"".join(self.frames)

    def frames_before(self, end: int) -> int:
        """How many of the hostile frames start before byte `end`."""
        at, count = len(self.opening), 0
        for f in self.frames:
            if at >= end:
                break
            count += 1
            at += len(f)
        return count


@dataclass
class Fuzzer:
    """One simulated hostile client: connection after connection of seeded traffic."""

    seed: int
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    # -- fields ----------------------------------------------------------------------------

    def request(self) -> bytes:
        """A well-formed request's payload, picked by weight."""
        return self.rng.choices(CORPUS, cum_weights=CUMULATIVE)[0]

    def field(self) -> bytes:
        return self.rng.choice(FIELD_POOL)

    def mutated(self) -> bytes:
        """An ibapi request with one to four of its fields changed (its message id only
        by the last two kinds of change)."""
        rng = self.rng
        fields = self.request()[:-1].split(b"\0")
        for _ in range(rng.randint(1, 4)):
            if len(fields) < 2:
                fields.append(self.field())
                continue
            op = rng.random()
            at = rng.randrange(1, len(fields))  # any field but the message id
            if op < 0.3:
                fields[at] = self.field()
            elif op < 0.42:
                other = rng.randrange(1, len(fields))
                fields[at], fields[other] = fields[other], fields[at]
            elif op < 0.52:
                del fields[at]
            elif op < 0.62:
                fields.insert(rng.randint(1, len(fields)), self.field())
            elif op < 0.72:
                fields = fields[: rng.randint(1, len(fields))]  # truncated
            elif op < 0.82:
                cut = rng.randint(0, len(fields[at]))
                fields[at] = fields[at][:cut] + rng.choice(NON_UTF8) + fields[at][cut:]
            elif op < 0.97:  # a wrong request or order id, or a wild number
                fields[at] = str(rng.choice([-1, 0, 1, 3, 20, 2**31 - 1, 2**31, 2**63])).encode()
            elif op < 0.995:  # another message's id: its decoder reads this one's fields
                fields[0] = str(rng.choice(KNOWN_IDS)).encode()
            else:  # a message id TWS does not know
                fields[0] = str(rng.choice([0, 999, -1, 2**31])).encode()
        return frame(b"\0".join(fields) + b"\0")

    def random_frame(self) -> bytes:
        rng = self.rng
        head = rng.choice(KNOWN_IDS) if rng.random() < 0.98 else rng.randint(-5, 300)
        fields = [str(head).encode(), *(self.field() for _ in range(rng.randint(0, 30)))]
        return frame(b"\0".join(fields) + (b"\0" if rng.random() < 0.95 else b""))

    def broken_frame(self, max_frame: int) -> bytes:
        """A frame whose framing lies: the stream is out of step after it."""
        rng = self.rng
        payload = self.request()
        kind = rng.randrange(5)
        if kind == 0:  # says it is shorter than it is
            return _HEADER.pack(rng.randint(0, len(payload) - 1)) + payload
        if kind == 1:  # says it is longer than it is (within the limit)
            return _HEADER.pack(rng.randint(len(payload) + 1, max_frame)) + payload
        if kind == 2:  # beyond the limit
            return _HEADER.pack(rng.randint(max_frame + 1, 2**32 - 1))
        if kind == 3:  # junk between frames
            return rng.randbytes(rng.randint(1, 12))
        return frame(b"")  # an empty frame: no message id at all

    def next_frame(self, max_frame: int) -> bytes:
        kind = self.rng.random()
        if kind < 0.72:
            return self.mutated()
        if kind < 0.85:
            return frame(self.request())
        if kind < 0.985:
            return self.random_frame()
        return self.broken_frame(max_frame)

    # -- connections -----------------------------------------------------------------------

    def bad_handshake(self) -> bytes:
        rng = self.rng
        kind = rng.randrange(5)
        if kind == 0:
            return b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        if kind == 1:
            return rng.randbytes(rng.randint(4, 40))
        if kind == 2:  # a greeting that is not a version range
            return PREFIX + frame(rng.randbytes(rng.randint(0, 20)))
        if kind == 3:  # no common version
            return greeting(1, 99)
        return PREFIX + _HEADER.pack(2**31)  # a huge greeting

    def connection(self, client_id: int, frames: int, max_frame: int) -> Connection:
        """A connection's bytes: handshake, startApi, then `frames` hostile frames."""
        if self.rng.random() < 0.03:
            return Connection(self.bad_handshake(), [])
        return Connection(
            greeting() + start_api(client_id), [self.next_frame(max_frame) for _ in range(frames)]
        )

    def chunks(self, data: bytes) -> list[bytes]:
        """`data` cut at random points, mostly in big pieces, sometimes byte by byte."""
        rng = self.rng
        out, at = [], 0
        while at < len(data):
            size = rng.randint(1, 16) if rng.random() < 0.2 else rng.randint(17, 8192)
            out.append(data[at : at + size])
            at += size
        return out
