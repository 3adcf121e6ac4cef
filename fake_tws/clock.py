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
    """One sleeping task: rescheduled once the clock passes its deadline."""

    __slots__ = ("fired", "task", "token")

    def __init__(self) -> None:
        self.task = trio.lowlevel.current_task()
        self.token = trio.lowlevel.current_trio_token()
        # Taken off the heap: by time passing its deadline (the task will be woken) or
        # by a cancellation (it was).
        self.fired = False

    def fire(self, here: trio.lowlevel.TrioToken | None) -> None:
        """Wake the sleeper. `here` is the trio run the clock is moved from, if any."""
        self.fired = True
        if self.token is here:
            # Moved from the sleeper's own trio thread (a task or callback of its run):
            # reschedule it directly.
            trio.lowlevel.reschedule(self.task)
            return
        # run_sync_soon is thread-safe, so `advance` may be called from any thread,
        # including a test's thread while the server runs in a ServerThread. (The task
        # is blocked by then: callbacks run between task steps.)
        with contextlib.suppress(trio.RunFinishedError):
            self.token.run_sync_soon(trio.lowlevel.reschedule, self.task)


def _current_token() -> trio.lowlevel.TrioToken | None:
    try:
        return trio.lowlevel.current_trio_token()
    except RuntimeError:  # not in a trio thread
        return None


class VirtualClock(Clock):
    """Time that moves only when told to. Sleepers wake when time passes their deadline."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs an aware datetime (e.g. tzinfo=UTC)")
        self._now = start.astimezone(UTC)
        self._time = self._now.timestamp()
        self._lock = threading.Lock()
        # A heap of (deadline, seq, wakeup): seq is unique, so wakeups are never compared.
        self._wakeups: list[tuple[datetime, int, _Wakeup]] = []
        self._seq = itertools.count()
        self._delta = (0.0, timedelta(0))  # the last sleep's (seconds, timedelta)

    # Reading one attribute is atomic: `now` and `time` need no lock (both are asked
    # for several times per message sent).
    def now(self) -> datetime:
        return self._now

    def time(self) -> float:
        return self._time

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
        self._time = when.timestamp()
        wakeups = self._wakeups
        if not wakeups or wakeups[0][0] > when:
            return
        here = _current_token()
        while wakeups and wakeups[0][0] <= when:
            heapq.heappop(wakeups)[2].fire(here)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await trio.lowlevel.checkpoint()
            return
        delta = self._delta
        if delta[0] != seconds:  # streams sleep the same step again and again
            delta = self._delta = (seconds, timedelta(seconds=seconds))
        wakeup = _Wakeup()
        with self._lock:
            entry = (self._now + delta[1], next(self._seq), wakeup)
            heapq.heappush(self._wakeups, entry)

        def abort(_: object) -> trio.lowlevel.Abort:
            with self._lock:
                if wakeup.fired:  # its wake-up is on its way: let it come
                    return trio.lowlevel.Abort.FAILED
                wakeup.fired = True  # cancelled before its time: forget it
                self._wakeups.remove(entry)
                heapq.heapify(self._wakeups)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    @property
    def sleepers(self) -> int:
        """How many tasks are waiting for virtual time to pass."""
        with self._lock:
            return len(self._wakeups)
