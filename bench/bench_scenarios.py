"""Wall time of one scenario test, end to end, against the most trivial test.

Ours: what tests/scenarios/test_library_orders.py::test_partial_fills does, with an ibapi
client: start a `ServerThread(scenario="orders/partial_fills")` (the YAML loaded,
validated and its engine attached, on a VirtualClock), connect and wait for the
bootstrap (nextValidId and the three farm notices), place a 100 AAPL limit order, see the
first fill and Submitted, advance the clock 2 s, see the second fill, advance 5 s, see
Filled with the three fills at 149.98, 149.99 and 150.00, disconnect, stop the server.

Baseline: the same client in the same kind of test with nothing to it: a plain
`ServerThread()`, connect, bootstrap, reqCurrentTime until currentTime, disconnect, stop.
The two kinds alternate, so both see the same noise. Each sample is the wall time of the
whole test body (server start and stop included: each test has its own server).

value and baseline are milliseconds; ratio = baseline / ours (bigger is better), for the
median and for p90.

Goal, from need: median >= 0.2, p90 >= 0.1. A scenario test is a trivial session plus
the scenario's own work: loading and checking a YAML file with an include, attaching its
rules, one order whose three fills are ~10 messages of ~100 fields that ibapi decodes,
and two clock moves, each a round trip the test waits for. That is worth at most ~5
trivial sessions; a scenario library of a few dozen tests then runs in a second or two,
and most of that is ibapi's connect. The tail may be twice that (a garbage collection, a
thread scheduled late), not more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from .harness import TIMEOUT, percentile, scaled
from .ibapi_client import BenchClient, stock
from .result import Result

SCENARIO = "orders/partial_fills"
SAMPLES = scaled(40, 2)  # of each kind
WARMUP = scaled(3, 1)  # of each kind, not counted (imports, the first YAML load)
FARM_NOTICES = frozenset({2104, 2106, 2158})
EXPECTED_FILLS = [(Decimal(30), 149.98), (Decimal(30), 149.99), (Decimal(40), 150.0)]


class ScenarioClient(BenchClient):
    """BenchClient that also keeps what a scenario test looks at: the farm notices of
    the bootstrap, the fills and the statuses of orders."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()
        self.notices = 0
        self.fills: list[tuple[Decimal, float]] = []
        self.statuses: dict[int, list[str]] = {}

    def _note(self, fn: Callable[[], None]) -> None:
        with self._changed:
            fn()
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], bool], what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(predicate, TIMEOUT):
                raise TimeoutError(f"no {what} within {TIMEOUT}s; errors: {self.errors[:3]}")

    def error(self, reqId, errorCode, errorString, advancedOrderRejectJson="") -> None:
        if errorCode in FARM_NOTICES:
            self._note(lambda: setattr(self, "notices", self.notices + 1))
        else:
            super().error(reqId, errorCode, errorString, advancedOrderRejectJson)

    def execDetails(self, reqId, contract, execution) -> None:
        self._note(lambda: self.fills.append((execution.shares, execution.price)))

    def orderStatus(self, orderId, status, *rest: Any) -> None:
        self._note(lambda: self.statuses.setdefault(orderId, []).append(status))

    def has_status(self, order_id: int, status: str) -> bool:
        return status in self.statuses.get(order_id, ())

    def open_test(self, port: int) -> ScenarioClient:
        """Connect as a scenario test does: wait for the bootstrap's farm notices too."""
        self.open(port, 1)
        self.wait_for(lambda: self.notices >= len(FARM_NOTICES), "bootstrap farm notices")
        return self


def _limit_order(quantity: int, price: float) -> Any:
    from ibapi.order import Order

    o = Order()
    o.action, o.totalQuantity, o.orderType, o.lmtPrice = "BUY", Decimal(quantity), "LMT", price
    return o


def scenario_test() -> float:
    """One run of the partial_fills scenario test; its wall time, ms."""
    from fake_tws.server import ServerThread

    t0 = time.perf_counter()
    with ServerThread(scenario=SCENARIO) as server, ScenarioClient() as client:
        client.open_test(server.port)
        clock = server.config.clock
        client.placeOrder(5, stock("AAPL"), _limit_order(100, 150.0))
        client.wait_for(lambda: len(client.fills) >= 1, "first fill")
        client.wait_for(lambda: client.has_status(5, "Submitted"), "Submitted")
        clock.advance(2)  # type: ignore[attr-defined]
        client.wait_for(lambda: len(client.fills) >= 2, "second fill")
        clock.advance(5)  # type: ignore[attr-defined]
        client.wait_for(lambda: client.has_status(5, "Filled"), "Filled")
        if client.fills != EXPECTED_FILLS or client.errors:
            raise RuntimeError(
                f"the scenario went wrong: fills {client.fills}, errors {client.errors[:3]}"
            )
    return (time.perf_counter() - t0) * 1e3


def trivial_test() -> float:
    """One run of the most trivial test: connect, reqCurrentTime, disconnect; ms."""
    from fake_tws.server import ServerThread

    t0 = time.perf_counter()
    with ServerThread() as server, ScenarioClient() as client:
        client.open_test(server.port)
        client.answered.clear()
        client.reqCurrentTime()
        if not client.answered.wait(TIMEOUT):
            raise TimeoutError(f"no currentTime within {TIMEOUT}s; errors: {client.errors[:3]}")
    return (time.perf_counter() - t0) * 1e3


def measure() -> tuple[list[float], list[float]]:
    """(scenario test times, trivial test times), ms, alternating."""
    ours: list[float] = []
    base: list[float] = []
    for i in range(WARMUP + SAMPLES):
        # Alternate who goes first, so neither always follows the other's teardown.
        pair = (scenario_test, trivial_test) if i % 2 == 0 else (trivial_test, scenario_test)
        times = {fn: fn() for fn in pair}
        if i >= WARMUP:
            ours.append(times[scenario_test])
            base.append(times[trivial_test])
    return ours, base


def run() -> list[Result]:
    ours, base = measure()
    out = []
    for p, label, goal in ((50, "median", 0.2), (90, "p90", 0.1)):
        value, baseline = percentile(ours, p), percentile(base, p)
        out.append(
            Result(
                f"scenarios: {SCENARIO} test {label} vs connect+reqCurrentTime "
                f"(ibapi, {len(ours)} runs)",
                round(value, 2),
                "ms",
                round(baseline, 2),
                round(baseline / value, 4),
                goal,
            )
        )
    return out


if __name__ == "__main__":
    for row in run():
        print(row)
