"""Quote ticks per second that reach a real client from fake-tws's market data streams,
against a server that only writes pre-encoded tickPrice frames to the same client.

Ours: 20 reqMktData subscriptions (the curated stocks, round robin) on a VirtualClock
that `BenchServer.drive` moves one stream step at a time, as fast as the queued bytes
drain (see bench.harness): the server makes ticks as fast as it can and the client can
take. Baseline: `FrameBlaster` greets the client and writes tickPrice frames, encoded
once by our codec, in the same 64 KiB pieces as fake-tws's writer. Both keep at most
`IN_FLIGHT` frames written but not yet decoded by the client (see bench.harness: without
it ibapi's reader falls into re-slicing a buffer of megabytes and the baseline measures
that collapse, anywhere between 10k and 100k msg/s). Both run in this process with the
client, as a test using `ServerThread` does, so they share the GIL with it: the ratio is
client cost / (client cost + server cost) per tick.

A tick is a tickPrice or tickSize *message* (ibapi's extra tickSize callback for the size
a tickPrice carries is not counted; ib_async has none). The other messages a stream sends
(tickString 45 with each trade, tickGeneric...) cost the client time but are not counted.

Goals, from need:
- ibapi >= 0.5: fake-tws may cost per tick at most what ibapi's own reader and decoder
  cost, so a test streaming quotes spends no more than half its time in the fake.
- ib_async >= 0.2: ib_async reads ~5x faster than ibapi (measured here in the same run:
  see the baselines), so 0.2 of ib_async's intake is what ibapi takes: fake-tws must keep
  up with the slower reference client whichever client is used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from .harness import BenchServer, FrameBlaster, scaled, tick_price_frames, wait_until
from .ibapi_client import BenchClient, stock
from .result import Result

SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ", "AMZN", "TSLA", "NVDA", "GOOGL", "IBM")
SUBSCRIPTIONS = 20
WARMUP = scaled(0.5, 0.05)  # seconds before the count starts (buffers fill, rates settle)
WINDOW = scaled(2.5, 0.15)  # seconds counted
REPEATS = scaled(2, 1)  # the best of, alternating ours and the baseline
BLASTED = 4000  # distinct frames the baseline cycles through


def _window(count: Callable[[], int], sleep: Callable[[float], None]) -> float:
    sleep(WARMUP)
    t0, n0 = time.perf_counter(), count()
    sleep(WINDOW)
    return (count() - n0) / (time.perf_counter() - t0)


# --- ibapi ---------------------------------------------------------------------------------


def _subscribe_ibapi(client: BenchClient) -> None:
    for i in range(SUBSCRIPTIONS):
        client.reqMktData(i + 1, stock(SYMBOLS[i % len(SYMBOLS)]), "", False, False, [])
    wait_until(lambda: client.streams == SUBSCRIPTIONS, what="the streams to start")


def ibapi_ours() -> float:
    with BenchServer() as server, BenchClient().open(server.port) as client:
        _subscribe_ibapi(client)
        server.drive(consumed=lambda: client.frames)
        rate = _window(lambda: client.ticks, time.sleep)
        server.halt()
        if client.errors:
            raise RuntimeError(f"fake-tws answered with errors: {client.errors[:3]}")
    return rate


def ibapi_baseline() -> float:
    client = BenchClient()
    frames = tick_price_frames(BLASTED, SUBSCRIPTIONS)
    with (
        FrameBlaster(frames, consumed=lambda: client.frames) as blaster,
        client.open(blaster.port),
    ):
        return _window(lambda: client.ticks, time.sleep)


# --- ib_async --------------------------------------------------------------------------------


class _Counts:
    ticks = 0
    frames = 0
    streams = 0


async def _ib_async_rate(port: int, server: BenchServer | None, counts: _Counts) -> float:
    from ib_async import IB, Stock

    ib = IB()

    def price_size_tick(reqId: int, tickType: int, price: float, size: float) -> None:
        counts.ticks += 1

    def tick_size(reqId: int, tickType: int, size: float) -> None:
        counts.ticks += 1

    def tick_req_params(reqId: int, minTick: float, bboExchange: str, permissions: int) -> None:
        counts.streams += 1

    interpret = ib.client.decoder.interpret

    def interpret_counted(fields: list[str]) -> None:
        interpret(fields)
        counts.frames += 1

    # Count at the decoder's calls into the wrapper (the Ticker bookkeeping behind them
    # would be the client's business, not the transport's).
    ib.wrapper.priceSizeTick = price_size_tick  # type: ignore[method-assign]
    ib.wrapper.tickSize = tick_size  # type: ignore[method-assign]
    ib.wrapper.tickReqParams = tick_req_params  # type: ignore[method-assign]
    ib.client.decoder.interpret = interpret_counted  # type: ignore[method-assign]
    await ib.client.connectAsync("127.0.0.1", port, 1, 10)  # no startup fetches
    try:
        if server is not None:
            for i in range(SUBSCRIPTIONS):
                contract = Stock(SYMBOLS[i % len(SYMBOLS)], "SMART", "USD")
                ib.client.reqMktData(i + 1, contract, "", False, False, [])
            deadline = time.monotonic() + 10
            while counts.streams < SUBSCRIPTIONS:
                if time.monotonic() > deadline:
                    raise TimeoutError("the streams did not start for ib_async")
                await asyncio.sleep(0.005)
            server.drive(consumed=lambda: counts.frames)
        await asyncio.sleep(WARMUP)
        t0, n0 = time.perf_counter(), counts.ticks
        await asyncio.sleep(WINDOW)
        rate = (counts.ticks - n0) / (time.perf_counter() - t0)
        if server is not None:
            server.halt()
        return rate
    finally:
        ib.disconnect()


def ib_async_ours() -> float:
    with BenchServer() as server:
        return asyncio.run(_ib_async_rate(server.port, server, _Counts()))


def ib_async_baseline() -> float:
    counts = _Counts()
    frames = tick_price_frames(BLASTED, SUBSCRIPTIONS)
    with FrameBlaster(frames, consumed=lambda: counts.frames) as blaster:
        return asyncio.run(_ib_async_rate(blaster.port, None, counts))


# --------------------------------------------------------------------------------------------


def _compare(name: str, ours: Callable[[], float], base: Callable[[], float], goal: float):
    value = baseline = 0.0
    for _ in range(REPEATS):
        value = max(value, ours())
        baseline = max(baseline, base())
    return Result(
        name, round(value, 1), "ticks/s", round(baseline, 1), round(value / baseline, 4), goal
    )


def run() -> list[Result]:
    return [
        _compare(
            f"ticks: ibapi from {SUBSCRIPTIONS} streams vs frame blaster",
            ibapi_ours,
            ibapi_baseline,
            0.5,
        ),
        _compare(
            f"ticks: ib_async from {SUBSCRIPTIONS} streams vs frame blaster",
            ib_async_ours,
            ib_async_baseline,
            0.2,
        ),
    ]
