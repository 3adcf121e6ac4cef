"""The simulated tape of one instrument, built top-down so any stretch costs little.

Three scales, each exact with respect to the one above it:

1. Days. Session open and close are points of a random-midpoint (Brownian bridge)
   tree over half-days, so any day is reachable in ~17 hashed steps without walking
   from an origin. Coarse levels are damped, so prices wander around the instrument's
   level instead of drifting away. High, low, volume and print count are then drawn.
2. Minutes. A day is split into its pre/regular/post segments and each segment into
   minutes by `split`: a bridge from open to close reflected into [low, high], with the
   day's high and low pinned in one child each and count/volume allocated exactly. So
   the minutes' OHLC, volume and count aggregate to exactly the day's.
3. Prints. A minute is split into at least four prints the same way: first = open,
   last = close, one print at the high, one at the low, sizes summing to the volume.

Everything is integer: prices in path ticks, sizes in size units, so aggregation is
exact. Each level has its own counter-based RNG addressed by (seed, path key, what,
when), with prices and volumes drawn from separate generators so instruments sharing
a path key (ES and MES) share prices even though their volumes differ.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from .hashing import mix64, normal, rng, stable_key
from .schedule import Session

REFERENCE_DATE = date(2026, 1, 2)  # the day a profile's price level refers to
_EPOCH_DAY = date(1970, 1, 1)
_TREE_TOP = 1 << 17  # half-days covered by the level tree (to about 2149)
_DAMPED_SPAN = 64  # half-days beyond which tree levels stop adding variance
MIN_PRINTS_PER_MINUTE = 4  # room for open, high, low and close prints


class Summary(NamedTuple):
    """OHLC in ticks, volume in size units, count in prints."""

    open: int
    high: int
    low: int
    close: int
    volume: int
    count: int


Print = tuple[int, int, int]  # (epoch second, price in ticks, size in units)


def merge(parts: Iterable[Summary]) -> Summary | None:
    """The summary of consecutive pieces, in order; None if there are none."""
    it = iter(parts)
    first = next(it, None)
    if first is None:
        return None
    o, h, lo, c, v, n = first
    for p in it:
        if p.high > h:
            h = p.high
        if p.low < lo:
            lo = p.low
        c = p.close
        v += p.volume
        n += p.count
    return Summary(o, h, lo, c, v, n)


def summarize_prints(prints: Sequence[Print]) -> Summary | None:
    if not prints:
        return None
    prices = [p[1] for p in prints]
    return Summary(
        prices[0], max(prices), min(prices), prices[-1], sum(p[2] for p in prints), len(prints)
    )


def shifted(s: Summary, offset: int) -> Summary:
    """A summary moved by `offset` ticks, floored at one tick (monotone, so still exact)."""
    if offset == 0:
        return s
    return Summary(
        max(1, s.open + offset),
        max(1, s.high + offset),
        max(1, s.low + offset),
        max(1, s.close + offset),
        s.volume,
        s.count,
    )


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split a non-negative integer in proportion to weights (largest remainder)."""
    weight_sum = sum(weights)
    raw = [total * w / weight_sum for w in weights]
    base = [int(x) for x in raw]
    left = total - sum(base)
    if left:
        by_fraction = sorted(range(len(raw)), key=lambda i: (base[i] - raw[i], i))
        for i in by_fraction[:left]:
            base[i] += 1
    return base


def reflect(x: float, low: int, high: int) -> int:
    """Fold a value back into [low, high] like a ball between two walls."""
    span = high - low
    if span <= 0:
        return low
    y = (x - low) % (2 * span)
    if y > span:
        y = 2 * span - y
    return low + round(y)


def bridge(r: random.Random, start: int, end: int, durations: Sequence[float], scale: float):
    """Values at the n+1 boundaries of n steps: a Brownian bridge from start to end."""
    total = sum(durations)
    walk = [0.0]
    times = [0.0]
    w = t = 0.0
    gauss = r.gauss
    for d in durations:
        w += math.sqrt(d) * gauss(0.0, 1.0)
        t += d
        walk.append(w)
        times.append(t)
    drift = end - start
    return [
        start + drift * ti / total + scale * (wi - ti / total * w)
        for wi, ti in zip(walk, times, strict=True)
    ]


def _pick(r: random.Random, durations: Sequence[float]) -> int:
    target = r.random() * sum(durations)
    acc = 0.0
    for i, d in enumerate(durations):
        acc += d
        if target < acc:
            return i
    return len(durations) - 1


def split(
    parent: Summary,
    durations: Sequence[float],
    weights: Sequence[float],
    min_counts: Sequence[int],
    prices: random.Random,
    sizes: random.Random,
) -> list[Summary]:
    """Children whose in-order aggregate is exactly `parent`.

    Child i opens where child i-1 closed. Needs parent.count >= sum(min_counts) and
    parent.volume >= parent.count.
    """
    n = len(durations)
    if n == 1:
        return [parent]
    o, hi, lo, c, volume, count = parent
    scale = (hi - lo) / (1.5 * math.sqrt(sum(durations)))
    path = bridge(prices, o, c, durations, scale)
    points = [o] + [reflect(x, lo, hi) for x in path[1:-1]] + [c]
    at_high = _pick(prices, durations)
    at_low = _pick(prices, durations)
    gauss = prices.gauss
    children_prices = []
    for i, d in enumerate(durations):
        a, b = points[i], points[i + 1]
        reach = scale * math.sqrt(d) * 0.7
        up = round(abs(gauss(0.0, 1.0)) * reach)
        down = round(abs(gauss(0.0, 1.0)) * reach)
        h = hi if i == at_high else min(hi, max(a, b) + up)
        low = lo if i == at_low else max(lo, min(a, b) - down)
        children_prices.append((a, h, low, b))
    activity = [w * math.exp(0.3 * sizes.gauss(0.0, 1.0)) for w in weights]
    extra_counts = allocate(count - sum(min_counts), activity)
    counts = [m + e for m, e in zip(min_counts, extra_counts, strict=True)]
    size_mix = [w * math.exp(0.2 * sizes.gauss(0.0, 1.0)) for w in activity]
    volumes = [k + e for k, e in zip(counts, allocate(volume - count, size_mix), strict=True)]
    return [
        Summary(a, h, low, b, v, k)
        for (a, h, low, b), v, k in zip(children_prices, volumes, counts, strict=True)
    ]


def prints_of(minute: Summary, start: int, prices: random.Random, sizes: random.Random):
    """The prints of one minute: open first, close last, the high and low in between."""
    o, hi, lo, c, volume, count = minute
    scale = (hi - lo) / (1.5 * math.sqrt(count - 1))
    path = bridge(prices, o, c, [1.0] * (count - 1), scale)
    ticks = [o] + [reflect(x, lo, hi) for x in path[1:-1]] + [c]
    at_high, at_low = prices.sample(range(1, count - 1), 2)
    ticks[at_high] = hi
    ticks[at_low] = lo
    seconds = sorted(sizes.randrange(60) for _ in range(count))
    extra = allocate(volume - count, [sizes.expovariate(1.0) for _ in range(count)])
    return [(start + s, p, 1 + e) for s, p, e in zip(seconds, ticks, extra, strict=True)]


class Segment(NamedTuple):
    start: int
    end: int
    liquid: bool
    summary: Summary
    first_minute: int  # index of its first minute in the session


@dataclass(slots=True)
class DayTape:
    """One session's raw (unshifted) summaries; minutes are built per segment on demand."""

    session: Session
    summary: Summary
    segments: list[Segment]
    path: PricePath
    number: int  # days since 1970-01-01, the RNG address of this day
    _minutes: list[list[Summary] | None]

    def minute_start(self, index: int) -> int:
        return self.session.start + 60 * index

    def minute_index(self, epoch: float) -> int:
        return int(epoch - self.session.start) // 60

    @property
    def minute_count(self) -> int:
        return (self.session.end - self.session.start) // 60

    def minute(self, index: int) -> Summary:
        for k, seg in enumerate(self.segments):
            offset = index - seg.first_minute
            if 0 <= offset < (seg.end - seg.start) // 60:
                return self._segment_minutes(k)[offset]
        raise IndexError(index)

    def minutes(self, first: int, stop: int) -> list[Summary]:
        """Raw summaries of minutes first..stop-1."""
        out: list[Summary] = []
        for k, seg in enumerate(self.segments):
            lo = max(first, seg.first_minute)
            hi = min(stop, seg.first_minute + (seg.end - seg.start) // 60)
            if lo < hi:
                mins = self._segment_minutes(k)
                out += mins[lo - seg.first_minute : hi - seg.first_minute]
        return out

    def _segment_minutes(self, k: int) -> list[Summary]:
        made = self._minutes[k]
        if made is None:
            made = self.path._build_minutes(self, k)
            self._minutes[k] = made
        return made


class PricePath:
    """The raw multi-scale tape of one path key. Overrides live in the market."""

    def __init__(
        self,
        seed: int,
        key: int,
        *,
        price: float,
        volatility: float,
        tick: float,
        trades_per_minute: float,
        trade_size: int,
    ) -> None:
        self.seed = seed
        self.key = key
        self.tick = tick
        self.base_price = price
        self.sigma_half_day = volatility / math.sqrt(2)
        self.trades_per_minute = max(trades_per_minute, MIN_PRINTS_PER_MINUTE)
        self.trade_size = max(1, trade_size)
        self._levels: dict[int, float] = {}
        self._level_salt = stable_key(seed, key, "level")
        self._days: OrderedDict[date, DayTape] = OrderedDict()
        self._prints: OrderedDict[int, list[Print]] = OrderedDict()
        self._reference = self._level(2 * (REFERENCE_DATE - _EPOCH_DAY).days + 1)

    # --- the day tree ---------------------------------------------------------------

    def _level(self, half_day: int) -> float:
        if half_day <= 0 or half_day >= _TREE_TOP:
            return 0.0
        cached = self._levels.get(half_day)
        if cached is not None:
            return cached
        half = half_day & -half_day
        middle = 0.5 * (self._level(half_day - half) + self._level(half_day + half))
        spread = self.sigma_half_day * math.sqrt(min(2 * half, _DAMPED_SPAN)) / 2
        value = middle + spread * normal(self._level_salt ^ mix64(half_day))
        self._levels[half_day] = value
        return value

    def price_at_half_day(self, half_day: int) -> float:
        return self.base_price * math.exp(self._level(half_day) - self._reference)

    def to_ticks(self, price: float) -> int:
        return max(1, round(price / self.tick))

    # --- days and minutes -----------------------------------------------------------

    def day(self, session: Session) -> DayTape:
        cached = self._days.get(session.trade_date)
        if cached is not None:
            self._days.move_to_end(session.trade_date)
            return cached
        tape = self._build_day(session)
        self._days[session.trade_date] = tape
        if len(self._days) > 400:
            self._days.popitem(last=False)
        return tape

    def _build_day(self, session: Session) -> DayTape:
        number = (session.trade_date - _EPOCH_DAY).days
        o = self.to_ticks(self.price_at_half_day(2 * number))
        c = self.to_ticks(self.price_at_half_day(2 * number + 1))
        prices = rng(self.seed, self.key, "day-price", number)
        reach = o * self.sigma_half_day * 0.8
        hi = max(o, c) + round(abs(prices.gauss(0.0, 1.0)) * reach)
        lo = max(1, min(o, c) - round(abs(prices.gauss(0.0, 1.0)) * reach))

        pieces = session.segments()
        lengths = [(end - start) // 60 for start, end, _ in pieces]
        liquid_minutes = sum(n for n, (_, _, liquid) in zip(lengths, pieces, strict=True) if liquid)
        sizes = rng(self.seed, self.key, "day-size", number)
        floor = MIN_PRINTS_PER_MINUTE * sum(lengths)
        busy = (self.trades_per_minute - MIN_PRINTS_PER_MINUTE) * liquid_minutes
        count = floor + round(busy * math.exp(0.25 * sizes.gauss(0.0, 1.0)))
        volume = count + round(count * (self.trade_size - 1) * math.exp(0.3 * sizes.gauss(0, 1)))
        summary = Summary(o, hi, lo, c, volume, count)

        weights = [
            n * (1.0 if liquid else 0.08) for n, (_, _, liquid) in zip(lengths, pieces, strict=True)
        ]
        minimums = [MIN_PRINTS_PER_MINUTE * n for n in lengths]
        parts = split(summary, lengths, weights, minimums, prices, sizes)
        segments = []
        first = 0
        for (start, end, liquid), n, part in zip(pieces, lengths, parts, strict=True):
            segments.append(Segment(start, end, liquid, part, first))
            first += n
        return DayTape(session, summary, segments, self, number, [None] * len(segments))

    def _build_minutes(self, day: DayTape, k: int) -> list[Summary]:
        seg = day.segments[k]
        n = (seg.end - seg.start) // 60
        return split(
            seg.summary,
            [1.0] * n,
            _intraday_weights(n) if seg.liquid else [1.0] * n,
            [MIN_PRINTS_PER_MINUTE] * n,
            rng(self.seed, self.key, "minute-price", day.number, k),
            rng(self.seed, self.key, "minute-size", day.number, k),
        )

    def prints(self, day: DayTape, index: int) -> list[Print]:
        start = day.minute_start(index)
        cached = self._prints.get(start)
        if cached is not None:
            return cached
        made = prints_of(
            day.minute(index),
            start,
            rng(self.seed, self.key, "print-price", start),
            rng(self.seed, self.key, "print-size", start),
        )
        self._prints[start] = made
        if len(self._prints) > 20_000:
            self._prints.popitem(last=False)
        return made


def _intraday_weights(n: int) -> list[float]:
    """Regular-hours activity: busy at the open and close, quiet at lunch."""
    if n == 1:
        return [1.0]
    return [1.0 + 2.0 * (2.0 * i / (n - 1) - 1.0) ** 2 for i in range(n)]
