"""Server time behind one interface: the wall clock, or a virtual clock that tests move.

All server time (connection time, currentTime, later bar and order timestamps) comes from
a `Clock`, so a scenario can run at any date and as fast as the CPU allows.
Times are aware UTC datetimes or epoch seconds.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from datetime import UTC, datetime, timedelta

import trio


class Clock:
    """What every clock offers: the time now, and a way for trio code to wait for it."""

    def now(self) -> datetime:
        """The current time as an aware UTC datetime."""
        raise NotImplementedError

    def time(self) -> float:
        """The current time as epoch seconds."""
        return self.now().timestamp()

    async def sleep(self, seconds: float) -> None:
        raise NotImplementedError

    async def sleep_until(self, when: datetime) -> None:
        await self.sleep((when - self.now()).total_seconds())


class RealClock(Clock):
    """Wall time; sleeping is trio's own sleep."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await trio.sleep(max(seconds, 0.0))


class _Wakeup:
    __slots__ = ("deadline", "event", "seq", "token")

    def __init__(self, deadline: datetime, seq: int) -> None:
        self.deadline = deadline
        self.seq = seq
        self.event = trio.Event()
        self.token = trio.lowlevel.current_trio_token()

    def __lt__(self, other: _Wakeup) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)

    def fire(self) -> None:
        # run_sync_soon is thread-safe, so `advance` may be called from any thread,
        # including a test's thread while the server runs in a ServerThread.
        with contextlib.suppress(trio.RunFinishedError):
            self.token.run_sync_soon(self.event.set)


class VirtualClock(Clock):
    """Time that moves only when told to. Sleepers wake when time passes their deadline."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime (e.g. tzinfo=UTC)")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()
        self._wakeups: list[_Wakeup] = []
        self._seq = itertools.count()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot advance a clock by {seconds} seconds: time only moves on")
        with self._lock:
            self._move_to(self._now + timedelta(seconds=seconds))

    def set(self, when: datetime) -> None:
        """Jump to `when`, which must not be earlier than now."""
        if when.tzinfo is None:
            raise ValueError("VirtualClock.set needs an aware datetime")
        with self._lock:
            if when < self._now:
                raise ValueError(f"cannot set the clock back from {self._now} to {when}")
            self._move_to(when.astimezone(UTC))

    def _move_to(self, when: datetime) -> None:
        self._now = when
        while self._wakeups and self._wakeups[0].deadline <= when:
            heapq.heappop(self._wakeups).fire()

    async def sleep(self, seconds: float) -> None:
        with self._lock:
            if seconds <= 0:
                wakeup = None
            else:
                wakeup = _Wakeup(self._now + timedelta(seconds=seconds), next(self._seq))
                heapq.heappush(self._wakeups, wakeup)
        if wakeup is None:
            await trio.lowlevel.checkpoint()
            return
        try:
            await wakeup.event.wait()
        finally:
            with self._lock:
                if wakeup in self._wakeups:  # cancelled before its time: forget it
                    self._wakeups.remove(wakeup)
                    heapq.heapify(self._wakeups)

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting for virtual time to pass."""
        with self._lock:
            return len(self._wakeups)
