"""The pacing classes in virtual time: a fake clock, and sleeps that only advance it."""

from __future__ import annotations

import pytest

from adapter.client.pacing import HistoricalPacer, MessageThrottle, RateGate, SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class FakeScheduler:
    """call_later that runs nothing until the test says time has passed."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pending: list[tuple[float, object]] = []

    def call_later(self, delay, callback):
        entry = (self.clock.now + delay, callback)
        self.pending.append(entry)

        class Handle:
            def cancel(_self) -> None:
                if entry in self.pending:
                    self.pending.remove(entry)

        return Handle()

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds
        due = [e for e in self.pending if e[0] <= self.clock.now]
        for entry in due:
            self.pending.remove(entry)
            entry[1]()


def test_sliding_window_admits_limit_events_per_period():
    window = SlidingWindow(3, 10.0)
    for t in (0.0, 1.0, 2.0):
        assert window.wait_time(t) == 0.0
        window.record(t)
    assert window.wait_time(5.0) == 5.0  # the oldest (t=0) leaves the window at t=10
    assert window.wait_time(10.0) == 0.0
    assert window.is_empty(11.9) is False
    assert window.is_empty(12.0) is True  # an event counts for [t, t + period)


def test_sliding_window_refuses_nonsense():
    with pytest.raises(ValueError):
        SlidingWindow(0, 1.0)


def test_throttle_writes_fifty_per_second_and_queues_the_rest_in_order():
    clock = FakeClock()
    scheduler = FakeScheduler(clock)
    written: list[bytes] = []
    throttle = MessageThrottle(written.append, scheduler, clock=clock)
    for i in range(120):
        throttle.send(b"%d" % i)
    assert len(written) == 50 and throttle.backlog == 70
    assert len(scheduler.pending) == 1  # one timer, not one per message
    scheduler.advance(0.5)
    assert len(written) == 50
    scheduler.advance(0.5)
    assert len(written) == 100
    throttle.send(b"late")  # queued behind the backlog, never ahead of it
    scheduler.advance(1.0)
    assert written == [b"%d" % i for i in range(120)] + [b"late"]
    assert throttle.backlog == 0 and scheduler.pending == []


def test_throttle_clear_drops_the_backlog_and_its_timer():
    clock = FakeClock()
    scheduler = FakeScheduler(clock)
    written: list[bytes] = []
    throttle = MessageThrottle(written.append, scheduler, limit=1, clock=clock)
    throttle.send(b"a")
    throttle.send(b"b")
    throttle.clear()
    scheduler.advance(5)
    assert written == [b"a"] and throttle.backlog == 0


@pytest.mark.asyncio
async def test_pacer_delays_an_identical_request_by_fifteen_seconds():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock, sleep=clock.sleep)
    await pacer.acquire("req A", "AAPL")
    await pacer.acquire("req B", "MSFT")
    assert clock.slept == []
    clock.now += 4
    await pacer.acquire("req A", "AAPL")
    assert clock.slept == [11.0]


@pytest.mark.asyncio
async def test_pacer_allows_five_requests_per_contract_in_two_seconds():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock, sleep=clock.sleep)
    for i in range(5):
        await pacer.acquire(f"req {i}", "AAPL")
    await pacer.acquire("other", "MSFT")
    assert clock.slept == []
    await pacer.acquire("req 5", "AAPL")  # a sixth within 2 s would be a violation
    assert clock.slept == [2.0]


@pytest.mark.asyncio
async def test_pacer_allows_sixty_small_requests_in_ten_minutes():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock, sleep=clock.sleep)
    for i in range(60):
        await pacer.acquire(f"req {i}", f"contract {i}")
        clock.now += 1
    await pacer.acquire("req 60", "contract 60")
    assert clock.slept == [540.0]  # until the first of the sixty is ten minutes old
    # Large bars are not counted against that limit.
    await pacer.acquire("daily bars", "contract 61", small=False)
    assert clock.slept == [540.0]


@pytest.mark.asyncio
async def test_pacer_wait_time_is_a_pure_question():
    clock = FakeClock()
    pacer = HistoricalPacer(clock=clock, sleep=clock.sleep, identical_interval=15)
    assert pacer.wait_time("a", "X") == 0.0
    pacer.record("a", "X")
    assert pacer.wait_time("a", "X") == 15.0
    assert pacer.wait_time("a", "X") == 15.0  # asking again changes nothing


@pytest.mark.asyncio
async def test_rate_gate_spaces_callers():
    clock = FakeClock()
    gate = RateGate(1, 1.0, clock=clock, sleep=clock.sleep)
    await gate.acquire()
    await gate.acquire()
    clock.now += 0.25
    await gate.acquire()
    assert clock.slept == [1.0, 0.75]
