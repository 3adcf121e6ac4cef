"""The market's caches give what computing from scratch gives.

A stream asks the market the same things every second, so the tape and the market keep
what they worked out: the session of the moment, the last reference price, a running
summary of the day's regular hours, one quote per instrument and moment, and the stretch
of time in which a quote only changes its time and sizes. Each test compares a market
that has been asked a lot (warm) with one asked once (cold, or the tape's own
from-scratch functions), at random moments, across session boundaries and after
`set_price` overrides.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_tws.broker import Market
from fake_tws.broker.catalog import Catalog
from fake_tws.broker.schedule import around_the_clock
from fake_tws.broker.tape import Tape
from fake_tws.ibtypes import Contract

from .conftest import MIDDAY

SEED = 29
CONTRACTS = [
    Contract(conId=265598),  # AAPL: pre-market, regular hours, after hours
    Contract(symbol="ES", secType="CONTFUT"),  # opens the evening before its trade date
    Contract(symbol="EUR", secType="CASH", currency="USD"),  # no trades
    Contract(symbol="BTC", secType="CRYPTO"),  # every day, all day
    Contract(symbol="IBUS30", secType="CFD"),
]
_catalog = Catalog(now=lambda: MIDDAY, seed=SEED)
CON_IDS = [_catalog.resolve_one(c)[0].con_id for c in CONTRACTS]
START = MIDDAY.timestamp() - 3 * 86400  # the Sunday before: closed markets to begin with

# A walk through time: mostly a second at a time (as a stream goes), sometimes a few
# minutes or hours, now and then back (delayed quotes ask about 15 minutes earlier).
steps = st.one_of(
    st.just(1),
    st.just(1),
    st.just(1),
    st.integers(2, 90),
    st.integers(91, 6 * 3600),
    st.integers(-1800, -1),
)
# What happens at each point: a quote of some market data type, or a price override.
actions = st.tuples(
    steps,
    st.sampled_from([1, 1, 1, 2, 3, 4, "set_price"]),
    st.floats(0.9, 1.1),
)


def fresh_market() -> Market:
    return Market(_catalog.instrument, seed=SEED)


def regular_session(tape: Tape, t: float):
    """The session whose regular hours `Market._day_stats` summarises at `t`."""
    session = tape.schedule.session_at(t)
    if session is None or t < session.liquid_start:
        session = tape.schedule.previous_session(t, limit_days=60)
    return session


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CON_IDS), st.lists(actions, min_size=1, max_size=60))
def test_warm_quotes_equal_cold_ones(con_id, walk):
    warm = fresh_market()
    overrides: list[tuple[float, float]] = []
    t = START + 5 * 86400  # a Friday: sessions close and open along the walk
    last_override = float("-inf")
    for step, what, factor in walk:
        t += step
        if what == "set_price":
            if t <= last_override:  # overrides go in time order
                continue
            price = warm.price(con_id, t)
            if price is None:
                continue
            target = round(price * factor, 2)
            warm.set_price(con_id, target, t)
            overrides.append((target, t))
            last_override = t
            continue
        cold = fresh_market()
        for target, at in overrides:
            cold.set_price(con_id, target, at)
        assert warm.quote(con_id, t, what) == cold.quote(con_id, t, what)
        assert warm.price(con_id, t) == cold.price(con_id, t)
        assert warm.last_print(con_id, t) == cold.last_print(con_id, t)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(CON_IDS), st.lists(actions, min_size=1, max_size=80))
def test_the_running_day_summary_equals_the_day_recomputed(con_id, walk):
    market = fresh_market()
    tape = market.tape(con_id)
    t = START
    last_override = float("-inf")
    for step, what, factor in walk:
        t += step
        if what == "set_price" and t > last_override:
            price = market.price(con_id, t)
            if price is not None:
                market.set_price(con_id, round(price * factor, 2), t)
                last_override = t
        session = regular_session(tape, t)
        if session is None:
            continue
        end = min(int(t) + 1, session.liquid_end)
        expected = tape.range_summary(tape.day(session), session.liquid_start, end)
        assert tape.liquid_so_far(session, end) == expected
        whole = tape.range_summary(tape.day(session), session.liquid_start, session.liquid_end)
        assert tape.whole_liquid(session) == whole


def test_the_running_summary_follows_a_whole_day_second_by_second():
    market = fresh_market()
    tape = market.tape(CON_IDS[0])
    session = tape.schedule.session_at(MIDDAY.timestamp())
    day = tape.day(session)
    for end in range(session.liquid_start - 60, session.liquid_end + 120, 7):
        want = tape.range_summary(day, session.liquid_start, min(end, session.liquid_end))
        assert tape.liquid_so_far(session, min(end, session.liquid_end)) == want
    # and again after an override in the middle of the day
    market.set_price(CON_IDS[0], 111.11, session.liquid_start + 3 * 3600 + 17)
    for end in range(session.liquid_start + 2 * 3600, session.liquid_end, 13):
        want = tape.range_summary(day, session.liquid_start, end)
        assert tape.liquid_so_far(session, end) == want


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CON_IDS), st.lists(st.integers(-86400, 3 * 86400), max_size=40))
def test_the_remembered_session_is_the_calendars(con_id, offsets):
    tape = fresh_market().tape(con_id)
    for offset in offsets:
        t = MIDDAY.timestamp() + offset
        assert tape.session_at(t) == tape.schedule.session_at(t)


def test_calendars_whose_sessions_overlap_are_not_remembered():
    rule = around_the_clock(_catalog.instrument(CON_IDS[0]).schedule)
    tape = fresh_market().tape(CON_IDS[0])
    assert tape._disjoint
    from fake_tws.broker.tape import _sessions_disjoint

    assert _sessions_disjoint(rule)
    overlapping = type(rule)("US/Eastern", 9 * 60, 18 * 60, opens_previous_day=True)
    assert not _sessions_disjoint(overlapping)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(CON_IDS), st.integers(0, 7 * 86400))
def test_a_quote_only_changes_its_time_and_sizes_until_stable_until(con_id, offset):
    market = fresh_market()
    tape = market.tape(con_id)
    t = START + offset
    session = tape.schedule.session_at(t)
    if session is None or tape.reference_ticks(t) is None:
        return
    until = tape.stable_until(t, session)
    assert t < until <= session.end
    first = market.quote(con_id, t)
    for moment in sorted({t, (t + until) / 2, until - 1e-3}):
        later = fresh_market().quote(con_id, moment)
        assert (later.bid, later.ask, later.last, later.last_time) == (
            first.bid,
            first.ask,
            first.last,
            first.last_time,
        )
        assert (later.open, later.high, later.low, later.volume, later.close) == (
            first.open,
            first.high,
            first.low,
            first.volume,
            first.close,
        )


def test_tick_prices_are_remembered_exactly():
    tape = fresh_market().tape(CON_IDS[0])
    for ticks in [1, 2, 25001, 25001.0, 12345.5, 99999, 3.0]:
        assert tape.price(ticks) == round(ticks * tape.tick, tape.decimals)
        assert tape.price(ticks) == round(ticks * tape.tick, tape.decimals)  # (cached)


def test_one_quote_per_instrument_and_moment_until_prices_move():
    market = fresh_market()
    t = MIDDAY.timestamp()
    first = market.quote(CON_IDS[0], t)
    assert market.quote(CON_IDS[0], t) is first
    assert market.quote(CON_IDS[0], MIDDAY) is first  # a datetime is the same moment
    assert market.quote(CON_IDS[0], t, 3) is not first  # another data type
    market.set_price(CON_IDS[0], 321.0, t - 5)
    moved = market.quote(CON_IDS[0], t)
    assert moved is not first and moved.last != first.last
    assert moved == fresh_market_with(CON_IDS[0], 321.0, t - 5).quote(CON_IDS[0], t)


def fresh_market_with(con_id: int, price: float, at: float) -> Market:
    market = fresh_market()
    market.set_price(con_id, price, at)
    return market


def test_a_long_day_of_quotes_costs_the_same_late_as_early():
    """The day so far is kept as it grows: a quote at 15:59 does not go through the
    day's minutes again (it did, before the running summary)."""
    market = fresh_market()
    tape = market.tape(CON_IDS[0])
    session = tape.schedule.session_at(MIDDAY.timestamp())
    for t in range(session.liquid_start, session.liquid_end, 1):
        market.quote(CON_IDS[0], t)
    running = tape._running
    assert running is not None and running.trade_date == session.trade_date
    assert len(running.prefix) == (session.liquid_end - session.liquid_start) // 60


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(CON_IDS),
    st.lists(st.tuples(st.integers(-2 * 86400, 3 * 86400), st.integers(-60, 3 * 86400))),
)
def test_sessions_between_a_stretch_are_the_calendars(con_id, stretches):
    tape = fresh_market().tape(con_id)
    for offset, length in stretches:
        start = MIDDAY.timestamp() + offset
        tape.session_at(start)  # remembered: a stretch inside it is answered at once
        for end in (start + length, start + 1, start + 0.5):
            assert tape.sessions_between(start, end) == tape.schedule.sessions_between(start, end)
            assert tape.windows(start, end, True) == [
                (max(a, start), min(b, end))
                for s in tape.schedule.sessions_between(start, end)
                for a, b in [s.window(True)]
                if max(a, start) < min(b, end)
            ]


@settings(max_examples=80, deadline=None)
@given(
    st.sampled_from([c for c in CON_IDS if _catalog.instrument(c).has_trades]),
    st.integers(0, 2 * 86400),
    st.integers(1, 200),
    st.floats(0.97, 1.03),
    st.booleans(),
)
def test_scanning_a_short_stretch_finds_the_first_print_through_a_level(
    con_id, offset, length, factor, below
):
    """What a resting order asks every second: the minute's range may rule a stretch out
    at once; otherwise the prints decide."""
    market = fresh_market()
    tape = market.tape(con_id)
    start = MIDDAY.timestamp() + offset
    price = market.price(con_id, start)
    if price is None:
        return
    level = tape.ticks_at_or_below(price * factor)
    if below:
        found = tape.scan(start, start + length, lambda lo, hi: lo <= level, lambda p: p <= level)
    else:
        found = tape.scan(start, start + length, lambda lo, hi: hi >= level, lambda p: p >= level)
    prints = [
        (p.time, round(p.price / tape.tick), int(p.size / tape.size_unit))
        for p in market.prints(con_id, start, start + length)
    ]
    hits = [p for p in prints if (p[1] <= level if below else p[1] >= level)]
    assert found == (hits[0] if hits else None)
