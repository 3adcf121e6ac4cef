"""Tickers on the same instrument share one view of it, and each still sends exactly
what it would send alone.

Every ticker of one kind (instrument, live or not, requested market data type, mdoff)
reads a view built once per moment (`market_data._View`), and a ticker that showed the
previous view only looks at what changed since. Here each ticker of a crowded world is
compared, message for message, with a twin that has a world of its own: subscribed at
different times, with generic ticks, delayed, frozen across the close, mdoff, forex,
through a price override and a world reset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fake_tws.broker import World, WorldConfig
from fake_tws.handlers.market_data import Ticker
from fake_tws.ibtypes import Contract

SEED = 13
START = datetime(2026, 4, 15, 19, 50, tzinfo=UTC)  # 15:50 New York: the close comes soon

# (name, contract, requested market data type, live, generic ticks, mdoff)
KINDS = [
    ("early", Contract(conId=265598), 1, True, frozenset(), False),
    ("late", Contract(conId=265598), 1, True, frozenset(), False),
    ("generic", Contract(conId=265598), 1, True, frozenset({165, 221, 233, 293, 294}), False),
    ("delayed", Contract(conId=265598), 3, False, frozenset(), False),
    ("delayed-frozen", Contract(conId=265598), 4, False, frozenset(), False),
    ("frozen", Contract(conId=265598), 2, True, frozenset(), False),
    ("mdoff", Contract(conId=265598), 1, True, frozenset({233}), True),
    ("forex", Contract(symbol="EUR", secType="CASH", currency="USD"), 1, True, frozenset(), False),
    ("msft", Contract(conId=272093), 1, True, frozenset(), False),
]
LATE_START = 40  # the "late" ticker subscribes after this many steps


class Clock:
    def __init__(self) -> None:
        self.moment = START

    def now(self) -> datetime:
        return self.moment


def ticker(world: World, req_id: int, kind: tuple) -> Ticker:
    _, contract, requested, live, generic, mdoff = kind
    instrument = world.catalog.resolve_one(contract)[0]
    return Ticker(world, req_id, instrument, requested, live, generic, mdoff)


def moments() -> list[timedelta]:
    """Seconds, then a jump over the close, seconds, a night, seconds."""
    out = [timedelta(seconds=1)] * 120
    out += [timedelta(minutes=9)] + [timedelta(seconds=1)] * 40
    out += [timedelta(hours=15)] + [timedelta(seconds=1)] * 40
    return out


@pytest.mark.parametrize("event", ["set_price", "reset", None])
def test_each_ticker_of_a_crowded_world_sends_what_it_would_alone(event):
    clock = Clock()
    crowded = World(clock, WorldConfig(seed=SEED))
    alone = [World(clock, WorldConfig(seed=SEED)) for _ in KINDS]
    shared: dict[str, Ticker] = {}
    twins: dict[str, Ticker] = {}
    sent: dict[str, int] = {}
    for step, delta in enumerate([timedelta(0), *moments()]):
        clock.moment += delta
        now = clock.moment.timestamp()
        if step == 60 and event == "set_price":
            for world in (crowded, *alone):
                world.set_price(Contract(conId=265598), 201.5)
        if step == 80 and event == "reset":
            for world in (crowded, *alone):
                world.reset()
        for i, kind in enumerate(KINDS):
            name = kind[0]
            if name not in shared:
                if name == "late" and step < LATE_START:
                    continue
                shared[name] = ticker(crowded, i + 1, kind)
                twins[name] = ticker(alone[i], i + 1, kind)
            got, want = shared[name].update(now), twins[name].update(now)
            assert got == want, (name, step)
            sent[name] = sent.get(name, 0) + len(got)
    # every kind had something to say along the way
    assert all(sent[k[0]] > 3 for k in KINDS), sent


def test_tickers_of_one_kind_read_one_view_per_moment():
    clock = Clock()
    world = World(clock, WorldConfig(seed=SEED))
    a, b = ticker(world, 1, KINDS[0]), ticker(world, 2, KINDS[0])
    other = ticker(world, 3, KINDS[3])
    for _ in range(5):
        clock.moment += timedelta(seconds=1)
        now = clock.moment.timestamp()
        a.update(now), b.update(now), other.update(now)
        assert a._last_view is b._last_view
        assert other._last_view is not a._last_view
        assert a._last_view.previous is None or a._last_view.previous.previous is None
