"""placeOrder-to-Filled round trip of an ibapi client, against the round trip of the most
trivial request (reqCurrentTime -> currentTime) over the same connection.

One fake-tws on a VirtualClock that stands still (a market order fills at once, at the
quote of that moment) and one ibapi EClient with its own reader thread in this process.
Each sample times, from this thread, sending a request to the callback that answers it
(ibapi's reader, its queue and the dispatch thread included, as a test sees it): a
market order for 100 AAPL (buy and sell in turn) until orderStatus Filled, and a
reqCurrentTime until currentTime. The two kinds alternate, so both see the same noise.

ratio = baseline latency / our latency, so bigger is better (1.0 would be an order that
costs no more than asking the time). value and baseline are microseconds.

Goals, from need: a fill is ~7 messages back (openOrder twice, ~100 fields each, that
ibapi itself takes a while to decode; orderStatus twice, execDetails, commissionReport)
for a ~140-field request, against one short message each way. Ten trivial round trips
(p50 >= 0.1) leaves the fake's own work about as much time as the messages take; the tail
(p99 >= 0.05) may be twice as long, for a garbage collection or a scheduling delay, but
not more: a test placing a hundred orders should still wait well under a second.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .harness import TIMEOUT, BenchServer, percentile, scaled
from .ibapi_client import BenchClient, market_order, stock
from .result import Result

SAMPLES = scaled(1000, 20)
WARMUP = scaled(50, 5)


def _timed(client: BenchClient, request: Callable[[], None]) -> float:
    client.answered.clear()
    t0 = time.perf_counter()
    request()
    if not client.answered.wait(TIMEOUT):
        raise TimeoutError(f"no answer within {TIMEOUT}s; errors: {client.errors[:3]}")
    return (time.perf_counter() - t0) * 1e6


def measure() -> tuple[list[float], list[float]]:
    """(order round trips, trivial round trips), microseconds."""
    orders: list[float] = []
    trivial: list[float] = []
    aapl = stock("AAPL")
    with BenchServer() as server, BenchClient().open(server.port) as client:
        assert client.next_order_id is not None
        order_id = client.next_order_id
        for i in range(WARMUP + SAMPLES):
            client.awaited_order = order_id
            action = "BUY" if i % 2 == 0 else "SELL"
            place = _timed(
                client,
                lambda: client.placeOrder(order_id, aapl, market_order(action, 100)),  # noqa: B023
            )
            ask = _timed(client, client.reqCurrentTime)
            order_id += 1
            if i >= WARMUP:
                orders.append(place)
                trivial.append(ask)
        if client.errors:
            raise RuntimeError(f"fake-tws answered with errors: {client.errors[:3]}")
    return orders, trivial


def run() -> list[Result]:
    orders, trivial = measure()
    out = []
    for p, goal in ((50, 0.1), (99, 0.05)):
        ours, base = percentile(orders, p), percentile(trivial, p)
        out.append(
            Result(
                f"orders: placeOrder->Filled p{p} vs reqCurrentTime (ibapi, {len(orders)} samples)",
                round(ours, 1),
                "us",
                round(base, 1),
                round(base / ours, 4),
                goal,
            )
        )
    return out
