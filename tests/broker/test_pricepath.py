import itertools
import random
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from fake_tws.broker import schedule as sched
from fake_tws.broker.pricepath import (
    PricePath,
    Summary,
    allocate,
    merge,
    prints_of,
    reflect,
    split,
    summarize_prints,
)


def path(seed: int = 1, key: int = 265598) -> PricePath:
    return PricePath(
        seed, key, price=255.0, volatility=0.017, tick=0.01, trades_per_minute=40, trade_size=120
    )


@st.composite
def summaries(draw, children: int):
    low = draw(st.integers(1, 10_000))
    high = low + draw(st.integers(0, 500))
    o = draw(st.integers(low, high))
    c = draw(st.integers(low, high))
    count = 4 * children + draw(st.integers(0, 400))
    volume = count + draw(st.integers(0, 100_000))
    return Summary(o, high, low, c, volume, count)


@settings(max_examples=60, deadline=None)
@given(st.data(), st.integers(1, 40), st.integers(0, 2**32))
def test_split_children_aggregate_exactly_to_the_parent(data, n, seed):
    parent = data.draw(summaries(n))
    r = random.Random(seed)
    durations = [r.uniform(0.5, 3) for _ in range(n)]
    children = split(parent, durations, durations, [4] * n, r, random.Random(seed + 1))
    assert merge(children) == parent
    for a, b in itertools.pairwise(children):
        assert b.open == a.close  # each piece opens where the last closed
    for child in children:
        assert (
            child.low <= min(child.open, child.close) <= max(child.open, child.close) <= child.high
        )
        assert child.count >= 4 and child.volume >= child.count


@settings(max_examples=60, deadline=None)
@given(summaries(1), st.integers(0, 2**32))
def test_prints_of_a_minute_reproduce_its_summary(minute, seed):
    prints = prints_of(minute, 1_000_020, random.Random(seed), random.Random(seed + 7))
    assert summarize_prints(prints) == minute
    assert all(1_000_020 <= t < 1_000_080 for t, _, _ in prints)
    assert [t for t, _, _ in prints] == sorted(t for t, _, _ in prints)


def test_allocate_and_reflect():
    assert sum(allocate(1000, [1, 2, 3.5])) == 1000
    assert allocate(0, [1, 1]) == [0, 0]
    assert reflect(12, 0, 10) == 8 and reflect(-3, 0, 10) == 3 and reflect(5, 7, 7) == 7


def test_days_minutes_and_prints_agree():
    p = path()
    day = p.day(sched.US_STOCKS.session(date(2026, 4, 15)))
    assert merge(day.minutes(0, day.minute_count)) == day.summary
    assert merge(seg.summary for seg in day.segments) == day.summary
    for index in (0, 329, 330, 500, day.minute_count - 1):
        assert summarize_prints(p.prints(day, index)) == day.minute(index)


def test_the_path_is_a_pure_function_of_seed_and_key():
    session = sched.US_STOCKS.session(date(2026, 3, 2))
    a, b = path(), path()
    b.day(sched.US_STOCKS.session(date(2026, 1, 5)))  # visiting other days first changes nothing
    assert a.day(session).summary == b.day(session).summary
    assert a.prints(a.day(session), 400) == b.prints(b.day(session), 400)
    assert path(seed=2).day(session).summary != a.day(session).summary


def test_price_level_stays_near_the_reference_and_moves_day_to_day():
    p = path()
    closes = []
    for session in sched.US_STOCKS.sessions_between(1.7e9, 1.7e9 + 3 * 365 * 86400):
        closes.append(p.day(session).summary.close * 0.01)
    assert min(closes) > 255 * 0.5 and max(closes) < 255 * 2
    daily_moves = [abs(b / a - 1) for a, b in itertools.pairwise(closes)]
    assert 0.003 < sum(daily_moves) / len(daily_moves) < 0.05
