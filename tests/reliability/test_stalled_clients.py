"""Clients that stop reading while subscribed to fast streams: each is cut off once its
outbox limit is reached, with a log line; the server's memory stays bounded by that limit;
other clients notice nothing.

tests/server/test_server.py covers the outbox itself (a lockstep stream, plain answers);
these run real market data streams over TCP, where the kernel's socket buffers sit between
the stalled client and the outbox (kept small here, so the outbox fills soon).
"""

from __future__ import annotations

import gc
import logging
import re
import socket
import tracemalloc
from datetime import UTC, datetime

import pytest
import trio
import trio.testing
from ibapi.contract import Contract

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.server import Server
from tests.ibapi_harness import ibapi_request_payloads
from tests.server.raw_client import RawClient, running
from tests.wire import REQ_CURRENT_TIME

START = datetime(2026, 4, 6, 14, 30, tzinfo=UTC)  # a Monday, markets open
SYMBOLS = ("AAPL", "MSFT", "SPY", "IBM", "QQQ", "TSLA", "NVDA", "AMZN", "META", "GOOG")
STEP = 5  # clock seconds per step: every stream sends what changed in them
MAX_STEPS = 2000
GOOD_ID, GOOD_REQ_ID = 1, 7


def stock(symbol: str) -> Contract:
    c = Contract()
    c.symbol, c.secType, c.exchange, c.currency = symbol, "STK", "SMART", "USD"
    return c


def request(call) -> bytes:
    (payload,) = ibapi_request_payloads(187, call)
    return len(payload).to_bytes(4, "big") + payload


def fast_streams(base: int) -> bytes:
    """Quotes with generic ticks, 20 rows of depth and every trade, for ten stocks."""
    out = b""
    for i, symbol in enumerate(SYMBOLS):
        contract, mkt, depth, trades = stock(symbol), base + i, base + 100 + i, base + 200 + i
        out += request(lambda c, s=contract, r=mkt: c.reqMktData(r, s, "233,236", False, False, []))
        out += request(lambda c, s=contract, r=depth: c.reqMktDepth(r, s, 20, False, []))
        out += request(
            lambda c, s=contract, r=trades: c.reqTickByTickData(r, s, "AllLast", 0, False)
        )
    return out


async def stalled_client(port: int, client_id: int) -> RawClient:
    """A client with a tiny receive buffer that logs on, subscribes and then never reads."""
    sock = trio.socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    await sock.connect(("127.0.0.1", port))
    client = RawClient(trio.SocketStream(sock))
    await client.log_on(client_id)
    await client.send(fast_streams(1000))
    return client


class GoodClient:
    """Holds one market data stream and checks, at every step, that reqCurrentTime is
    answered with the clock's time after nothing but its own ticks."""

    def __init__(self, client: RawClient, clock: VirtualClock) -> None:
        self.client, self.clock = client, clock
        self.ticks = 0
        self.steps = 0

    @classmethod
    async def connect(cls, port: int, clock: VirtualClock) -> GoodClient:
        client = await RawClient.connect(port)
        await client.log_on(GOOD_ID)
        request_ = request(lambda c: c.reqMktData(GOOD_REQ_ID, stock("AAPL"), "", False, False, []))
        await client.send(request_)
        return cls(client, clock)

    async def round_trip(self) -> None:
        await self.client.send(REQ_CURRENT_TIME)
        while (message := await self.client.message())[0] != "49":
            assert message[0] in ("1", "2", "45", "46", "58", "81"), message
            assert str(GOOD_REQ_ID) in message[1:3], message
            self.ticks += 1
        assert message == ["49", "1", str(int(self.clock.time()))]
        self.steps += 1


def count_sent(server: Server, client_id: int) -> list[int]:
    """Bytes queued for `client_id` from now on (a running total in a one-item list)."""
    session = next(s for s in server.sessions if s.client_id == client_id)
    outbox, total = session.link, [0]
    send = outbox.send

    def counting(data: bytes) -> None:
        total[0] += len(data)
        send(data)

    outbox.send = counting  # type: ignore[method-assign]
    return total


async def step(clock: VirtualClock, good: GoodClient) -> None:
    clock.advance(STEP)
    await trio.testing.wait_all_tasks_blocked()
    await good.round_trip()


@pytest.mark.trio
async def test_a_stalled_subscriber_is_cut_off_and_memory_stays_bounded(caplog):
    limit = 256 * 1024
    clock = VirtualClock(START)
    config = ServerConfig(clock=clock, outbox_limit=limit, journal_limit=1000)
    with caplog.at_level(logging.INFO, "fake_tws"):
        async with running(config) as server:
            good = await GoodClient.connect(server.port, clock)
            stalled = await stalled_client(server.port, 9)
            await trio.testing.wait_all_tasks_blocked()
            sent = count_sent(server, 9)
            for _ in range(3):  # every stream has started and the world has warmed up
                await step(clock, good)

            gc.collect()
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                steps = 0
                while 9 in server.gateway.client_ids:
                    assert steps < MAX_STEPS, "the stalled client was never cut off"
                    await step(clock, good)
                    steps += 1
                gc.collect()
                after, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()

            for _ in range(3):  # the good client goes on as before
                await step(clock, good)
            assert {s.client_id for s in server.sessions} == {GOOD_ID}
            await stalled.aclose()

    assert re.search(
        rf"client 9 127\.0\.0\.1:\d+: closed: client is not reading: more than {limit} bytes",
        caplog.text,
    )
    # What the stalled client made the server hold, all freed when it was cut off: its
    # outbox (at most the limit) and at most one step's burst besides. What is still held
    # after the cut (`after - base`) is the world's price caches, which grow with clock
    # time whoever reads, and the capped journal.
    held = peak - after
    assert sent[0] > limit
    assert held <= 1.25 * limit + 256 * 1024, (held, limit)
    print(
        f"stalled after {steps} steps: {sent[0]} bytes queued for it, outbox limit {limit}; "
        f"tracemalloc peak {peak - base} bytes above the start, {held} freed by the cut; "
        f"good client: {good.steps} round trips, {good.ticks} ticks"
    )


@pytest.mark.trio
async def test_many_stalled_subscribers_are_each_cut_off_and_the_others_go_on(caplog):
    limit = 64 * 1024
    clock = VirtualClock(START)
    config = ServerConfig(clock=clock, outbox_limit=limit, journal_limit=1000)
    stalled_ids = range(100, 110)
    with caplog.at_level(logging.INFO, "fake_tws"):
        async with running(config) as server:
            good = await GoodClient.connect(server.port, clock)
            stalled = [await stalled_client(server.port, i) for i in stalled_ids]
            steps = 0
            while server.gateway.client_ids != {GOOD_ID}:
                assert steps < MAX_STEPS, f"still connected: {server.gateway.client_ids}"
                await step(clock, good)
                steps += 1
            for _ in range(3):
                await step(clock, good)
            for client in stalled:
                await client.aclose()
    cut = [r for r in caplog.records if "client is not reading" in r.getMessage()]
    assert sorted(int(r.getMessage().split()[1]) for r in cut if "closed:" in r.getMessage()) == [
        *stalled_ids
    ]
    assert good.steps == steps + 3
