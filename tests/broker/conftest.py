"""Shared fixtures: a hand-driven clock and worlds built on it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fake_tws.broker import World, WorldConfig
from fake_tws.ibtypes import Contract

# Wednesday 2026-04-15, 11:00 US/Eastern: regular trading hours.
MIDDAY = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)
AAPL = Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
ACCOUNT = "DU123456"


class ManualClock:
    def __init__(self, start: datetime = MIDDAY) -> None:
        self.moment = start

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def world(clock: ManualClock) -> World:
    return World(clock, WorldConfig(seed=11))
