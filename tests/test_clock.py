"""Clocks: virtual time moves only when told, and wakes trio sleepers as it passes them."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import trio
import trio.testing

from fake_tws.clock import RealClock, VirtualClock

START = datetime(2026, 4, 5, 13, 30, tzinfo=UTC)


def test_virtual_time_stands_still_until_advanced():
    clock = VirtualClock(START)
    assert clock.now() == START
    assert clock.time() == START.timestamp()
    clock.advance(1.5)
    assert clock.now() == START + timedelta(seconds=1.5)
    clock.set(START + timedelta(days=1))
    assert clock.now() == START + timedelta(days=1)


def test_virtual_time_is_utc_whatever_zone_it_starts_in():
    paris = START.astimezone(ZoneInfo("Europe/Paris"))
    clock = VirtualClock(paris)
    assert clock.now() == START
    assert clock.now().tzinfo is UTC


def test_virtual_time_only_moves_forward_and_needs_aware_datetimes():
    clock = VirtualClock(START)
    with pytest.raises(ValueError, match="only moves on"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="back"):
        clock.set(START - timedelta(seconds=1))
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 4, 6))
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(datetime(2026, 4, 5))


@pytest.mark.trio
async def test_sleepers_wake_in_deadline_order_as_time_passes():
    clock = VirtualClock(START)
    woke: list[str] = []

    async def sleeper(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    async with trio.open_nursery() as nursery:
        nursery.start_soon(sleeper, "ten", 10)
        nursery.start_soon(sleeper, "five", 5)
        await trio.testing.wait_all_tasks_blocked()
        assert clock.sleepers == 2
        clock.advance(4.999)
        await trio.testing.wait_all_tasks_blocked()
        assert woke == []
        clock.advance(0.001)
        await trio.testing.wait_all_tasks_blocked()
        assert woke == ["five"]
        clock.set(START + timedelta(hours=1))  # one jump past several deadlines
    assert woke == ["five", "ten"]
    assert clock.sleepers == 0


@pytest.mark.trio
async def test_sleep_until_and_zero_sleeps():
    clock = VirtualClock(START)
    await clock.sleep(0)  # returns at once
    async with trio.open_nursery() as nursery:
        nursery.start_soon(clock.sleep_until, START + timedelta(minutes=1))
        await trio.testing.wait_all_tasks_blocked()
        clock.advance(60)


@pytest.mark.trio
async def test_a_cancelled_sleeper_is_forgotten(autojump_clock):
    clock = VirtualClock(START)
    with trio.move_on_after(1):  # trio's (mock) time, not the virtual clock's
        await clock.sleep(3600)
    assert clock.sleepers == 0


@pytest.mark.trio
async def test_time_can_be_advanced_from_another_thread():
    clock = VirtualClock(START)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(clock.sleep, 30)
        await trio.testing.wait_all_tasks_blocked()
        await trio.to_thread.run_sync(clock.advance, 30)
    assert clock.now() == START + timedelta(seconds=30)


def test_real_clock_is_wall_time_in_utc():
    clock = RealClock()
    assert clock.now().tzinfo is UTC
    assert abs(clock.time() - time.time()) < 5
    assert abs(clock.now().timestamp() - time.time()) < 5


@pytest.mark.trio
async def test_real_clock_sleeps_on_trios_clock(autojump_clock):
    before = trio.current_time()
    await RealClock().sleep(3600)  # instant under trio's autojumping mock clock
    assert trio.current_time() - before == pytest.approx(3600)
