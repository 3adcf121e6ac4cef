"""What every stream step goes through: the virtual clock waking sleepers, and the
journal recording each message sent.

- A VirtualClock moved from the sleepers' own trio thread reschedules them directly (no
  thread-safe wake-up through trio's socket); from any other thread it still goes
  through `run_sync_soon`. A sleeper cancelled as its deadline passes neither hangs nor
  stays on the clock.
- `Journal.log_sent` (what `Session.send` calls) keeps a plain tuple until someone reads
  the journal: what is read is exactly what `record_sent` would have recorded.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import trio
import trio.testing

from fake_tws.clock import VirtualClock
from fake_tws.journal import Direction, Entry, Journal, sent
from fake_tws.protocol.responses import market_data as rs

START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)


# --- the clock ----------------------------------------------------------------------------


class CountingToken:
    """Counts run_sync_soon calls made through trio's token (the thread-safe path)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = trio.lowlevel.TrioToken.run_sync_soon

        def counting(token, *args, **kwargs):
            self.calls += 1
            return original(token, *args, **kwargs)

        monkeypatch.setattr(trio.lowlevel.TrioToken, "run_sync_soon", counting)


@pytest.mark.trio
async def test_moving_the_clock_from_its_trio_thread_wakes_sleepers_directly(monkeypatch):
    clock = VirtualClock(START)
    woke: list[int] = []
    token = CountingToken(monkeypatch)

    async def sleeper(i: int) -> None:
        for _ in range(3):
            await clock.sleep(1)
            woke.append(i)

    async with trio.open_nursery() as nursery:
        for i in range(20):
            nursery.start_soon(sleeper, i)
        for _ in range(3):
            await trio.testing.wait_all_tasks_blocked()
            assert clock.sleepers == 20
            clock.advance(1)
    assert sorted(woke) == sorted(list(range(20)) * 3)
    assert clock.sleepers == 0
    assert token.calls == 0


@pytest.mark.trio
async def test_moving_the_clock_from_another_thread_still_wakes_sleepers(monkeypatch):
    clock = VirtualClock(START)
    token = CountingToken(monkeypatch)
    woke: list[int] = []

    async def sleeper(i: int) -> None:
        await clock.sleep(5 + i)
        woke.append(i)

    async with trio.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(sleeper, i)
        await trio.testing.wait_all_tasks_blocked()
        await trio.to_thread.run_sync(clock.advance, 7)
        await trio.testing.wait_all_tasks_blocked()
        assert sorted(woke) == [0, 1, 2] and clock.sleepers == 2
        await trio.to_thread.run_sync(clock.set, START + timedelta(hours=1))
    assert sorted(woke) == [0, 1, 2, 3, 4]
    assert token.calls >= 5


@pytest.mark.trio
async def test_a_sleeper_cancelled_as_its_deadline_passes_neither_hangs_nor_lingers():
    clock = VirtualClock(START)

    async def sleeper(scope_box: list[trio.CancelScope], outcome: list[str]) -> None:
        with trio.CancelScope() as scope:
            scope_box.append(scope)
            await clock.sleep(1)
            outcome.append("woke")
            return
        outcome.append("cancelled")

    for _ in range(50):
        outcome: list[str] = []
        box: list[trio.CancelScope] = []
        async with trio.open_nursery() as nursery:
            nursery.start_soon(sleeper, box, outcome)
            await trio.testing.wait_all_tasks_blocked()
            # the wake-up is queued from another thread, then the sleeper is cancelled:
            # whichever comes first wins, and the task ends either way
            moved = threading.Thread(target=clock.advance, args=(1,))
            moved.start()
            moved.join()
            box[0].cancel()
        assert outcome in (["woke"], ["cancelled"])
        assert clock.sleepers == 0


@pytest.mark.trio
async def test_cancelled_sleepers_leave_the_others_in_deadline_order():
    clock = VirtualClock(START)
    woke: list[int] = []

    async def sleeper(i: int) -> None:
        await clock.sleep(i)
        woke.append(i)

    async with trio.open_nursery() as nursery:
        scopes = []
        for i in range(1, 11):
            scope = trio.CancelScope()
            scopes.append(scope)

            async def run(i: int = i, scope: trio.CancelScope = scope) -> None:
                with scope:
                    await sleeper(i)

            nursery.start_soon(run)
        await trio.testing.wait_all_tasks_blocked()
        for scope in scopes[::2]:  # cancel 1, 3, 5, 7, 9
            scope.cancel()
        await trio.testing.wait_all_tasks_blocked()
        assert clock.sleepers == 5
        for _ in range(10):
            clock.advance(1)
            await trio.testing.wait_all_tasks_blocked()
    assert woke == [2, 4, 6, 8, 10]


def test_clock_time_is_the_epoch_of_now():
    clock = VirtualClock(START)
    for seconds in (0.25, 1, 59.75, 86400):
        clock.advance(seconds)
        assert clock.time() == clock.now().timestamp()


# --- the journal ----------------------------------------------------------------------------


def tick(i: int) -> rs.TickSize:
    return rs.TickSize(reqId=1, tickType=0, size=Decimal(i))


class Moment:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


def test_logged_messages_read_back_as_recorded_ones():
    logged, recorded = Journal(clock=Moment()), Journal(clock=Moment())
    for i in range(30):
        if i % 7 == 0:
            for j in (logged, recorded):
                j.record_event(2, f"note {i}")
        logged.log_sent(2, tick(i))
        recorded.record_sent(2, tick(i))
    a, b = logged.entries, recorded.entries
    assert all(isinstance(e, Entry) for e in a)
    strip = [(e.seq, e.client_id, e.direction, e.message, e.virtual_time) for e in a]
    assert strip == [(e.seq, e.client_id, e.direction, e.message, e.virtual_time) for e in b]
    assert all(e.wall_time > 0 for e in a)
    assert logged.entries == a  # built once: the same entries each time
    assert [x is y for x, y in zip(logged.entries, a, strict=True)] == [True] * len(a)
    assert len(logged.responses("tickSize")) == 30
    logged.assert_sent("tickSize", times=1, size=Decimal(29))


def test_a_listener_gets_each_logged_message_as_an_entry():
    journal = Journal(clock=Moment())
    seen: list[Entry] = []
    journal.listen(seen.append)
    journal.log_sent(4, tick(1))
    assert [(e.seq, e.client_id, e.direction) for e in seen] == [(1, 4, Direction.SENT)]
    assert journal.entries == seen


def test_a_limited_journal_forgets_logged_and_recorded_entries_alike():
    journal = Journal(limit=100)
    for i in range(1, 351):
        if i % 3:
            journal.log_sent(1, tick(i))
        else:
            journal.record_sent(1, tick(i))
        if i % 50 == 0:
            assert [e.seq for e in journal.entries][-1] == i  # read now and then
    entries = journal.entries
    assert len(entries) <= 100 and journal.dropped == 350 - len(entries)
    assert [e.seq for e in entries] == list(range(351 - len(entries), 351))
    assert [e.message.size for e in entries] == [Decimal(e.seq) for e in entries]
    journal.clear()
    journal.log_sent(1, tick(0))
    assert [e.seq for e in journal.entries] == [351]


def test_wait_for_finds_a_logged_message_from_another_thread():
    journal = Journal()
    timer = threading.Timer(0.05, lambda: journal.log_sent(3, tick(42)))
    timer.start()
    try:
        entry = journal.wait_for(sent("tickSize", size=Decimal(42)), timeout=5)
    finally:
        timer.join()
    assert entry.client_id == 3 and entry.direction is Direction.SENT
