"""One instrument's effective tape: the raw price path plus scenario price overrides.

An override ("move AAPL to 190.00 at t") adds a constant tick offset to every print at
or after t, chosen so the first print at or after t is exactly the target; the path
then continues from there. An offset (floored at one tick) is monotone, so a shifted
summary is still exactly the summary of the shifted prints; only a minute or day that
contains an override instant is recomputed from its prints or minutes.

Quotes are derived from the last print: bid = last - below, ask = last + above (in
ticks, below + above = the instrument's spread), with sizes hashed per second. Until
the first print after an override, the override's target stands in for the last print.

What a stream asks every second is kept (each keyed by the number of overrides, so a
`set_price` starts them afresh): the session of the moment, the last reference price,
and, per session, a running summary of its regular hours minute by minute, so the day's
open/high/low/volume so far cost one partial minute instead of the whole day.
`stable_until` says how long a quote stays the same but for its time and sizes, and a
scan of a stretch inside one minute (a resting order, every second) is ruled out by the
minute's range before any print is looked at.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterator
from datetime import date
from operator import itemgetter

from .hashing import mix64, stable_key
from .instruments import Instrument, decimals_of
from .pricepath import DayTape, PricePath, Print, Summary, merge, shifted, summarize_prints
from .schedule import Session, SessionRule

RangeTest = Callable[[int, int], bool]  # could a print in [low, high] match?
PriceTest = Callable[[int], bool]


class Tape:
    def __init__(self, instrument: Instrument, seed: int, *, static: bool = False) -> None:
        """`static`: the path has no volatility, so prices stay at the instrument's level
        (and wherever set_price moves them)."""
        profile = instrument.profile
        self.instrument = instrument
        self.schedule = instrument.schedule
        self.tick = instrument.path_tick
        self.decimals = decimals_of(self.tick)
        self.path = PricePath(
            seed,
            instrument.key,
            price=profile.price,
            volatility=0.0 if static else profile.volatility,
            tick=self.tick,
            trades_per_minute=profile.trades_per_minute,
            trade_size=profile.trade_size,
        )
        spread = max(1, profile.spread_ticks)
        self.below = spread // 2
        self.above = spread - self.below
        self.size_unit = profile.size_unit
        self._size_salt = stable_key(seed, instrument.con_id, "quote-size")
        self._venue_salt = stable_key(seed, instrument.con_id, "venue")
        self._times: list[int] = []
        self._offsets: list[int] = []
        self._targets: list[int] = []
        # Caches (see the module's docstring); those that depend on prices are keyed by
        # len(self._times), the number of overrides so far.
        self._disjoint = _sessions_disjoint(self.schedule)
        self._prices: dict[float, float] = {}  # price(ticks), as asked
        self._session: Session | None = None  # the last session session_at found
        self._reference: tuple[float, int, tuple[int, Print | None] | None] | None = None
        self._running: _RunningDay | None = None
        self._whole_liquid: dict[date, tuple[int, Summary | None]] = {}
        self._previous: dict[date, Session | None] = {}

    # --- conversions ----------------------------------------------------------------

    def price(self, ticks: float) -> float:
        price = self._prices.get(ticks)  # (an int and the equal float give the same)
        if price is None:
            if len(self._prices) > 4096:
                self._prices.clear()
            price = self._prices[ticks] = round(ticks * self.tick, self.decimals)
        return price

    def ticks_at_or_below(self, price: float) -> int:
        return math.floor(price / self.tick + 1e-9)

    def ticks_at_or_above(self, price: float) -> int:
        return math.ceil(price / self.tick - 1e-9)

    def venue(self, epoch: int, index: int = 0) -> str:
        venues = self.instrument.profile.venues
        return venues[mix64(self._venue_salt ^ (epoch * 131 + index)) % len(venues)]

    # --- sessions -------------------------------------------------------------------

    def session_at(self, epoch: float) -> Session | None:
        """`schedule.session_at(epoch)`, remembering the last session found (sessions of
        one calendar never overlap, so the one containing `epoch` is the answer)."""
        s = self._session
        if s is not None and s.start <= epoch < s.end:
            return s
        s = self.schedule.session_at(epoch)
        if s is not None and self._disjoint:
            self._session = s
        return s

    def sessions_between(self, start: float, end: float) -> list[Session]:
        """`schedule.sessions_between(start, end)`; at once when [start, end) lies inside
        the session last found (a resting order looks at the last second, every second)."""
        s = self._session
        if s is not None and s.start <= start < end <= s.end:
            return [s]
        return self.schedule.sessions_between(start, end)

    def session_before(self, session: Session) -> Session | None:
        """`schedule.previous_session(session.start, limit_days=60)`, once per session."""
        key = session.trade_date
        if key in self._previous:
            return self._previous[key]
        if len(self._previous) > 512:
            self._previous.clear()
        found = self._previous[key] = self.schedule.previous_session(session.start, limit_days=60)
        return found

    # --- overrides ------------------------------------------------------------------

    @property
    def overrides(self) -> int:
        """How many price overrides were set (they are only ever added)."""
        return len(self._times)

    def offset_at(self, epoch: float) -> int:
        i = bisect.bisect_right(self._times, epoch) - 1
        return self._offsets[i] if i >= 0 else 0

    def clean(self, start: float, end: float) -> bool:
        """No override takes effect strictly inside (start, end)."""
        i = bisect.bisect_right(self._times, start)
        return i >= len(self._times) or self._times[i] >= end

    def override(self, epoch: int, target: int) -> None:
        if self._times and epoch < self._times[-1]:
            raise ValueError("price overrides must be set in time order")
        first = self._first_raw_print(epoch)
        offset = target - first[1] if first is not None else self.offset_at(epoch)
        self._times.append(epoch)
        self._offsets.append(offset)
        self._targets.append(target)

    def _first_raw_print(self, epoch: int) -> Print | None:
        session = self.schedule.next_session(epoch, limit_days=60)
        while session is not None:
            day = self.path.day(session)
            first = max(0, day.minute_index(max(epoch, session.start)))
            for i in range(first, day.minute_count):
                for p in self.path.prints(day, i):
                    if p[0] >= epoch:
                        return p
            session = self.schedule.next_session(session.end, limit_days=60)
        return None

    # --- effective summaries and prints ---------------------------------------------

    def day(self, session: Session) -> DayTape:
        return self.path.day(session)

    def prints(self, day: DayTape, index: int) -> list[Print]:
        raw = self.path.prints(day, index)
        if not self._times:
            return raw
        start = day.minute_start(index)
        if self.clean(start, start + 60):
            off = self.offset_at(start)
            return raw if off == 0 else [(t, max(1, p + off), s) for t, p, s in raw]
        return [(t, max(1, p + self.offset_at(t)), s) for t, p, s in raw]

    def minute_pieces(
        self, day: DayTape, start: float, end: float
    ) -> Iterator[tuple[int, Summary]]:
        """(minute start, summary of its prints inside [start, end)) for overlapping minutes."""
        s = day.session
        start, end = max(start, s.start), min(end, s.end)
        if end <= start:
            return
        first, last = day.minute_index(start), day.minute_index(math.ceil(end) - 1)
        raw = day.minutes(first, last + 1)
        for i, summary in zip(range(first, last + 1), raw, strict=True):
            m = s.start + 60 * i
            if m >= start and m + 60 <= end:
                if not self._times:
                    yield m, summary
                elif self.clean(m, m + 60):
                    yield m, shifted(summary, self.offset_at(m))
                else:
                    yield m, summarize_prints(self.prints(day, i))  # type: ignore[misc]
            else:
                part = summarize_prints([p for p in self.prints(day, i) if start <= p[0] < end])
                if part is not None:
                    yield m, part

    def range_summary(self, day: DayTape, start: float, end: float) -> Summary | None:
        """Summary of the prints of one session inside [start, end)."""
        s = day.session
        start, end = max(start, s.start), min(end, s.end)
        if end <= start:
            return None
        if start == s.start and end == s.end and self.clean(s.start, s.end):
            return shifted(day.summary, self.offset_at(s.start))
        parts: list[Summary] = []
        for seg in day.segments:
            lo, hi = max(start, seg.start), min(end, seg.end)
            if lo >= hi:
                continue
            if lo == seg.start and hi == seg.end and self.clean(lo, hi):
                parts.append(shifted(seg.summary, self.offset_at(lo)))
            else:
                parts += [p for _, p in self.minute_pieces(day, lo, hi)]
        return merge(parts)

    def liquid_so_far(self, session: Session, end: float) -> Summary | None:
        """`range_summary(day(session), session.liquid_start, end)`: the regular hours of
        `session` up to `end`, from a running summary of their whole minutes plus the
        minute `end` falls in. The same pieces merged in the same order, so the same."""
        start, liquid_end = session.liquid_start, session.liquid_end
        if end >= liquid_end:
            return self.whole_liquid(session)
        if end <= start or (start - session.start) % 60:
            return self.range_summary(self.day(session), start, end)
        running = self._running
        overrides = len(self._times)
        if (
            running is None
            or running.trade_date != session.trade_date
            or running.overrides != overrides
        ):
            running = self._running = _RunningDay(session.trade_date, overrides, start)
        day = self.day(session)
        whole = int(end - start) // 60
        prefix = running.prefix
        if whole >= len(prefix):  # summarise the minutes not seen yet, in one pass
            so_far = prefix[-1]
            known = start + 60 * (len(prefix) - 1)
            for _, piece in self.minute_pieces(day, known, start + 60 * whole):
                so_far = piece if so_far is None else merge((so_far, piece))
                prefix.append(so_far)
            while len(prefix) <= whole:  # (a minute always has prints; just in case)
                prefix.append(so_far)
        so_far = prefix[whole]
        boundary = start + 60 * whole
        if end > boundary:  # the prints of the minute `end` falls in, up to `end`
            piece = running.partial(self.prints(day, day.minute_index(boundary)), end)
            if piece is not None:
                so_far = piece if so_far is None else merge((so_far, piece))
        return so_far

    def whole_liquid(self, session: Session) -> Summary | None:
        """The summary of `session`'s regular hours (range_summary), once per session."""
        overrides = len(self._times)
        cached = self._whole_liquid.get(session.trade_date)
        if cached is not None and cached[0] == overrides:
            return cached[1]
        if len(self._whole_liquid) > 64:
            self._whole_liquid.clear()
        summary = self.range_summary(self.day(session), session.liquid_start, session.liquid_end)
        self._whole_liquid[session.trade_date] = (overrides, summary)
        return summary

    # --- the last print and the quote -------------------------------------------------

    def last_print(self, epoch: float) -> Print | None:
        """The last print at or before `epoch`."""
        session = self.session_at(epoch)
        if session is not None:
            day = self.path.day(session)
            for i in range(day.minute_index(epoch), -1, -1):
                prints = self.prints(day, i)  # in time order
                k = bisect.bisect_right(prints, epoch, key=_TIME)
                if k:
                    return prints[k - 1]
        previous = self.schedule.previous_session(epoch, limit_days=60)
        if previous is None or previous.trade_date < self.instrument.listed:
            return None
        day = self.path.day(previous)
        return self.prints(day, day.minute_count - 1)[-1]

    def reference_ticks(self, epoch: float) -> tuple[int, Print | None] | None:
        """The price quotes are built around at `epoch`, and the last print."""
        cached = self._reference
        overrides = len(self._times)
        if cached is not None and cached[0] == epoch and cached[1] == overrides:
            return cached[2]
        result = self._reference_ticks(epoch)
        self._reference = (epoch, overrides, result)
        return result

    def _reference_ticks(self, epoch: float) -> tuple[int, Print | None] | None:
        last = self.last_print(epoch)
        i = bisect.bisect_right(self._times, epoch) - 1
        if i >= 0 and (last is None or last[0] < self._times[i]):
            return self._targets[i], last
        if last is None:
            return None
        return last[1], last

    def stable_until(self, epoch: float, session: Session) -> float:
        """A moment until which, from `epoch` (inside `session`), the last print, the
        override in force, the regular hours so far and which part of the session it is
        (before, in, after its regular hours) all stay as they are at `epoch`: the next
        print, override or boundary (the next minute's start if the next print is not in
        this minute)."""
        until = session.end
        for boundary in (session.liquid_start, session.liquid_end):
            if epoch < boundary:
                until = boundary
                break
        day = self.path.day(session)
        index = day.minute_index(epoch)
        prints = self.prints(day, index)
        k = bisect.bisect_right(prints, epoch, key=_TIME)
        until = min(until, prints[k][0] if k < len(prints) else day.minute_start(index) + 60)
        i = bisect.bisect_right(self._times, epoch)
        if i < len(self._times):
            until = min(until, self._times[i])
        return until

    def quote_ticks(self, ref: int) -> tuple[int, int]:
        bid = max(1, ref - self.below)
        return bid, bid + self.below + self.above

    def quote_sizes(self, second: int) -> tuple[int, int]:
        """(bid, ask) displayed sizes in size units."""
        lot, lots = self.instrument.profile.quote_lot, self.instrument.profile.quote_lots
        h = mix64(self._size_salt ^ second)
        return lot * (1 + h % lots), lot * (1 + (h >> 24) % lots)

    def depth_size(self, second: int, level: int) -> int:
        if level == 0:
            raise ValueError("level 0 is the displayed quote size")
        lot, lots = self.instrument.profile.quote_lot, self.instrument.profile.quote_lots
        return lot * (1 + mix64(self._size_salt ^ (second * 97 + level)) % lots)

    # --- scanning (for resting orders) ------------------------------------------------

    def scan(
        self, start: float, end: float, range_test: RangeTest, price_test: PriceTest
    ) -> Print | None:
        """The first print in [start, end) whose price passes `price_test`.

        Whole sessions and minutes whose [low, high] fails `range_test` are skipped
        without generating their prints, so scanning a quiet month costs a few ms.
        """
        for session in self.sessions_between(start, end):
            day = self.path.day(session)
            lo, hi = max(start, session.start), min(end, session.end)
            if lo == session.start and hi == session.end and self.clean(lo, hi):
                whole = shifted(day.summary, self.offset_at(lo))
                if not range_test(whole.low, whole.high):
                    continue
            if lo < hi and not self._may_pass(day, lo, hi, range_test):
                continue
            for m, piece in self.minute_pieces(day, lo, hi):
                if not range_test(piece.low, piece.high):
                    continue
                index = day.minute_index(m)
                for p in self.prints(day, index):
                    if lo <= p[0] < hi and price_test(p[1]):
                        return p
        return None

    def _may_pass(self, day: DayTape, lo: float, hi: float, range_test: RangeTest) -> bool:
        """False when [lo, hi) lies in one minute whose whole [low, high] fails
        `range_test`: then no part of it can pass (a part's range lies inside the whole's,
        and a range test only asks whether a range reaches a level). What a resting order
        asks every second, without summarising the seconds."""
        index = day.minute_index(lo)
        if index != day.minute_index(math.ceil(hi) - 1):
            return True
        m = day.minute_start(index)
        if not self.clean(m, m + 60):
            return True
        whole = shifted(day.minute(index), self.offset_at(m))
        return range_test(whole.low, whole.high)

    def scan_trailing(
        self,
        start: float,
        end: float,
        extreme: float,
        sell: bool,
        stop_of: Callable[[float], float],
    ) -> tuple[Print | None, float]:
        """First print reaching a trailing stop, and the extreme seen so far (ticks).

        A sell stop trails the highest print by `stop_of`; a block is skipped when even
        its high could not lift the stop to its low.
        """
        for session in self.sessions_between(start, end):
            day = self.path.day(session)
            lo, hi = max(start, session.start), min(end, session.end)
            if lo == session.start and hi == session.end and self.clean(lo, hi):
                whole = shifted(day.summary, self.offset_at(lo))
                if sell and whole.low > stop_of(max(extreme, whole.high)):
                    extreme = max(extreme, whole.high)
                    continue
                if not sell and whole.high < stop_of(min(extreme, whole.low)):
                    extreme = min(extreme, whole.low)
                    continue
            for m, piece in self.minute_pieces(day, lo, hi):
                if sell:
                    best = max(extreme, piece.high)
                    if piece.low > stop_of(best):
                        extreme = best
                        continue
                else:
                    best = min(extreme, piece.low)
                    if piece.high < stop_of(best):
                        extreme = best
                        continue
                for p in self.prints(day, day.minute_index(m)):
                    if not lo <= p[0] < hi:
                        continue
                    if (p[1] <= stop_of(extreme)) if sell else (p[1] >= stop_of(extreme)):
                        return p, extreme
                    extreme = max(extreme, p[1]) if sell else min(extreme, p[1])
        return None, extreme

    def windows(self, start: float, end: float, rth: bool) -> list[tuple[float, float]]:
        out = []
        for session in self.sessions_between(start, end):
            a, b = session.window(rth)
            a, b = max(a, start), min(b, end)
            if a < b:
                out.append((a, b))
        return out

    def listed_epoch(self) -> int:
        first = self.schedule.next_session(
            self.schedule.local_epoch(self.instrument.listed, 0), limit_days=30
        )
        if first is None:
            return self.schedule.local_epoch(self.instrument.listed, 0)
        return first.start

    def sessions_back(self, end: float, count: int) -> list[Session]:
        """The last `count` sessions starting before `end` (oldest first)."""
        out: list[Session] = []
        cursor = end
        current = self.schedule.session_at(end - 1e-6)
        if current is not None:
            out.append(current)
            cursor = current.start
        while len(out) < count:
            previous = self.schedule.previous_session(cursor, limit_days=30)
            if previous is None:
                break
            out.append(previous)
            cursor = previous.start
        out.reverse()
        return out


_TIME = itemgetter(0)


class _RunningDay:
    """One session's regular hours, minute by minute: `prefix[k]` is the summary of
    their first k whole minutes (None for k = 0)."""

    __slots__ = ("_partial", "overrides", "prefix", "start", "trade_date")

    def __init__(self, trade_date: date, overrides: int, start: int) -> None:
        self.trade_date = trade_date
        self.overrides = overrides
        self.start = start
        self.prefix: list[Summary | None] = [None]
        # The last partial minute summarised: (its prints, how many, their summary).
        self._partial: tuple[list[Print], int, Summary | None] | None = None

    def partial(self, prints: list[Print], end: float) -> Summary | None:
        """The summary of `prints` (one minute's, in time order) before `end`: what
        `Tape.minute_pieces` gives for that part of the minute, extended print by print
        as `end` moves on."""
        count = bisect.bisect_left(prints, end, key=_TIME)
        known = self._partial
        if known is not None and known[0] is prints and known[1] == count:
            return known[2]
        if known is not None and known[0] is prints and known[1] < count and known[2]:
            more = summarize_prints(prints[known[1] : count])
            summary = merge((known[2], more)) if more is not None else known[2]
        else:
            summary = summarize_prints(prints[:count])
        self._partial = (prints, count, summary)
        return summary


def _sessions_disjoint(rule: SessionRule) -> bool:
    """Whether a session of `rule` always ends before the next one starts."""
    if rule.opens_previous_day:
        return rule.close_minute <= rule.open_minute
    return rule.close_minute <= rule.open_minute + 1440
