"""Keeping our own traffic inside IB's limits, so IB never refuses it for pacing.

- ``MessageThrottle``: at most 50 messages per second to TWS (beyond that TWS answers
  error 100 and, if it goes on, disconnects). Sends are never blocked or dropped: a burst
  is queued and drained in order as the window allows.
- ``HistoricalPacer``: IB's historical data limits (error 162 "pacing violation"): no
  identical request within 15 s, no more than 6 for one contract, exchange and data type
  within 2 s, no more than 60 in any 10 minutes. A request waits until it may go.

All take their time from an injectable ``clock`` (seconds, monotonic) and, where they
wait, an injectable ``sleep``/``schedule``, so they are tested in virtual time.

Reference: https://interactivebrokers.github.io/tws-api/historical_limitations.html
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Protocol

Clock = Callable[[], float]


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError(f"need limit >= 1 and period > 0, got {limit}, {period}")
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more event fits (0.0: it fits now)."""
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.period - now

    def record(self, now: float) -> None:
        self._times.append(now)

    def is_empty(self, now: float) -> bool:
        """No event within the last period."""
        self.wait_time(now)
        return not self._times


class Scheduler(Protocol):
    def call_later(self, delay: float, callback: Callable[[], None]) -> Any: ...


class MessageThrottle:
    """Writes messages at once while the window allows, queues the rest in order.

    ``write`` puts bytes on the wire; ``scheduler.call_later`` (the event loop) wakes the
    drain when the window next opens.
    """

    def __init__(
        self,
        write: Callable[[bytes], None],
        scheduler: Scheduler,
        *,
        limit: int = 50,
        period: float = 1.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self._write = write
        self._scheduler = scheduler
        self._window = SlidingWindow(limit, period)
        self._clock = clock
        self._backlog: deque[bytes] = deque()
        self._timer: Any = None

    @property
    def backlog(self) -> int:
        """Messages waiting for the window."""
        return len(self._backlog)

    def send(self, message: bytes) -> None:
        self._backlog.append(message)
        if self._timer is None:  # else the timer drains it, behind what waits already
            self._drain()

    def clear(self) -> None:
        """Forget queued messages (the connection they were for is gone)."""
        self._backlog.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _on_timer(self) -> None:
        self._timer = None
        self._drain()

    def _drain(self) -> None:
        while self._backlog:
            now = self._clock()
            wait = self._window.wait_time(now)
            if wait > 0:
                self._timer = self._scheduler.call_later(wait, self._on_timer)
                return
            self._window.record(now)
            self._write(self._backlog.popleft())


class HistoricalPacer:
    """Delays historical data requests just enough to stay within IB's limits.

    ``await pacer.acquire(identity, contract_key, small=True)`` returns when the request
    may be sent (and counts it as sent). ``identity`` is everything that makes two
    requests identical; ``contract_key`` is (contract, exchange, data type). IB applies
    the 60-per-10-minutes limit to bars of 30 seconds or less (and ticks); larger bars
    pass ``small=False`` and skip it.
    """

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_requests: int = 60,
        period: float = 600.0,
        identical_interval: float = 15.0,
        same_contract_limit: int = 5,
        same_contract_period: float = 2.0,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._window = SlidingWindow(max_requests, period)
        self._identical_interval = identical_interval
        self._last_identical: dict[Hashable, float] = {}
        self._same_contract_limit = same_contract_limit
        self._same_contract_period = same_contract_period
        self._per_contract: dict[Hashable, SlidingWindow] = {}

    def wait_time(self, identity: Hashable, contract_key: Hashable, small: bool = True) -> float:
        """Seconds until this request may go (0.0: now)."""
        now = self._clock()
        waits = [0.0]
        if small:
            waits.append(self._window.wait_time(now))
        if (last := self._last_identical.get(identity)) is not None:
            waits.append(last + self._identical_interval - now)
        if (window := self._per_contract.get(contract_key)) is not None:
            waits.append(window.wait_time(now))
        return max(waits)

    def record(self, identity: Hashable, contract_key: Hashable, small: bool = True) -> None:
        now = self._clock()
        if small:
            self._window.record(now)
        self._last_identical[identity] = now
        window = self._per_contract.get(contract_key)
        if window is None:
            window = SlidingWindow(self._same_contract_limit, self._same_contract_period)
            self._per_contract[contract_key] = window
        window.record(now)
        self._forget_old(now)

    async def acquire(self, identity: Hashable, contract_key: Hashable, small: bool = True) -> None:
        while (wait := self.wait_time(identity, contract_key, small)) > 0:
            await self._sleep(wait)
        self.record(identity, contract_key, small)

    def _forget_old(self, now: float) -> None:
        # Keeps the bookkeeping bounded in a long-running node.
        if len(self._last_identical) > 1000:
            horizon = now - self._identical_interval
            self._last_identical = {k: t for k, t in self._last_identical.items() if t > horizon}
        if len(self._per_contract) > 1000:
            self._per_contract = {
                k: w for k, w in self._per_contract.items() if not w.is_empty(now)
            }


class RateGate:
    """``await gate.acquire()`` admits at most ``limit`` callers per ``period`` seconds
    (e.g. IB's one matching-symbols request per second)."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self._window = SlidingWindow(limit, period)
        self._clock = clock
        self._sleep = sleep

    async def acquire(self) -> None:
        while (wait := self._window.wait_time(self._clock())) > 0:
            await self._sleep(wait)
        self._window.record(self._clock())
