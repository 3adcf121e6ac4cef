"""Market data of the simulated world: quotes, prints, bars and ticks that agree.

Every figure comes from one tape per instrument (see `pricepath` and `tape`), so a
bar's OHLC, volume and count are exactly those of the prints inside it, bid < ask on
the tick grid, quotes move with prints, and any interval is computed on its own,
deterministically per (seed, instrument). Times may be given as aware datetimes or
epoch seconds.

- `quote(con_id, at, market_data_type)`: bid/ask/sizes, last print, the session's
  open/high/low/volume so far and the previous close. Types 3 and 4 (delayed) are the
  quote of 15 minutes earlier; 2 and 4 (frozen) are the last known values, which is
  what the tape gives when the market is closed anyway.
- `prints(con_id, start, end)`, `historical_ticks(...)`: the tape itself.
- `bars(con_id, end, duration, bar_size, what_to_show, use_rth)`: reqHistoricalData.
  Bars are aligned to the exchange's local midnight and clipped to sessions, so hourly
  regular-hours bars start 09:30, 10:00, ... The last bar may be partial (up to end).
- `current_bar(...)`: the keepUpToDate bar so far: same start, growing volume.
- `realtime_bar(con_id, start, what_to_show, use_rth)`: one 5-second bar.
- `set_price(con_id, price, at)`: a scenario's "move AAPL to 190.00".
- `first_print`, `trailing_trigger`, `windows`, `depth`: what the order engine needs.

Non-TRADES bars (MIDPOINT, BID, ASK, BID_ASK) are derived from the trade path with the
instrument's constant spread; BID_ASK's open/close are the average bid/ask estimated
from the bar's wap. A bar's wap is exact when it is built from prints (bars under one
minute, partial minutes) and the volume-weighted typical price of its minutes or days
otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import IntEnum

import msgspec

from fake_tws.ibtypes import (
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    RealTimeBar,
)

from .bars import (
    WHAT_TO_SHOW,
    Bar,
    BarRequestError,
    months_before,
    parse_bar_size,
    parse_duration,
)
from .instruments import Instrument
from .pricepath import Print, Summary, merge
from .schedule import Session
from .tape import Tape
from .timesource import from_epoch, to_epoch

DELAY_SECONDS = 15 * 60
Moment = datetime | float


class MarketDataType(IntEnum):
    LIVE = 1
    FROZEN = 2
    DELAYED = 3
    DELAYED_FROZEN = 4


class TradePrint(msgspec.Struct, frozen=True, kw_only=True):
    time: int  # epoch seconds
    price: float
    size: Decimal
    exchange: str

    @property
    def at(self) -> datetime:
        return from_epoch(self.time)


class Quote(msgspec.Struct, frozen=True, kw_only=True):
    """A market-data snapshot. None where IB would send no value (-1)."""

    time: datetime  # the moment the data describes (15 minutes back when delayed)
    market_data_type: int
    bid: float | None
    ask: float | None
    bid_size: Decimal
    ask_size: Decimal
    last: float | None
    last_size: Decimal | None
    last_time: datetime | None
    open: float | None  # the current (or last) session so far
    high: float | None
    low: float | None
    volume: Decimal
    close: float | None  # the previous session's close
    session_open: bool

    @property
    def midpoint(self) -> float | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


class HistoricalDataError(Exception):
    """IB's 162 family: data that does not exist (e.g. TRADES for forex)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _epoch(moment: Moment) -> float:
    return moment if isinstance(moment, int | float) else to_epoch(moment)


class Market:
    def __init__(
        self, instrument: Callable[[int], Instrument], seed: int = 0, *, static: bool = False
    ) -> None:
        self._instrument = instrument
        self._seed = seed
        self._static = static  # prices move only by set_price
        self._tapes: dict[int, Tape] = {}
        self.version = 0  # bumps whenever prices are overridden
        # The last quote made per (conId, market data type), as (time, version, quote):
        # every subscription to an instrument asks for the same one each second.
        self._quotes: dict[tuple[int, int], tuple[float, int, Quote]] = {}
        # Per (conId, delayed): a quote and the stretch [from, until) of the same session
        # in which everything but its time and sizes stays the same (no print, override
        # or session boundary in between; see Tape.stable_until), with the number of
        # overrides it was made with.
        self._bases: dict[tuple[int, bool], tuple[float, float, int, Session, Quote]] = {}

    def tape(self, con_id: int) -> Tape:
        tape = self._tapes.get(con_id)
        if tape is None:
            tape = self._tapes[con_id] = Tape(
                self._instrument(con_id), self._seed, static=self._static
            )
        return tape

    # --- scenario control -------------------------------------------------------------

    def set_price(self, con_id: int, price: float, at: Moment) -> None:
        """From `at` on, the tape continues from `price` (rounded to the tick grid)."""
        tape = self.tape(con_id)
        target = max(1, round(price / tape.tick))
        tape.override(math.ceil(_epoch(at)), target)
        self.version += 1

    # --- quotes and prints ------------------------------------------------------------

    def price(self, con_id: int, at: Moment) -> float | None:
        """The mark: the last print (or a newer override target)."""
        ref = self.tape(con_id).reference_ticks(_epoch(at))
        return None if ref is None else self.tape(con_id).price(ref[0])

    def quote(self, con_id: int, at: Moment, market_data_type: int = 1) -> Quote:
        t = _epoch(at)
        key = (con_id, market_data_type)
        cached = self._quotes.get(key)
        if cached is not None and cached[0] == t and cached[1] == self.version:
            return cached[2]  # a frozen struct: one per instrument and moment
        quote = self._quote(con_id, t, market_data_type)
        self._quotes[key] = (t, self.version, quote)
        return quote

    def _quote(self, con_id: int, t: float, market_data_type: int) -> Quote:
        tape = self.tape(con_id)
        delayed = market_data_type in (MarketDataType.DELAYED, MarketDataType.DELAYED_FROZEN)
        if delayed:
            t -= DELAY_SECONDS
        unit = tape.size_unit
        session = tape.session_at(t)
        basis = self._bases.get((con_id, delayed))
        if (
            basis is not None
            and basis[0] <= t < basis[1]
            and basis[3] is session
            and basis[2] == tape.overrides
        ):
            bid_units, ask_units = tape.quote_sizes(int(t))
            return msgspec.structs.replace(
                basis[4],
                time=from_epoch(t),
                market_data_type=market_data_type,
                bid_size=bid_units * unit,
                ask_size=ask_units * unit,
            )
        quote = self._make_quote(tape, t, market_data_type, session)
        if session is not None and quote.bid is not None:
            until = tape.stable_until(t, session)
            self._bases[(con_id, delayed)] = (t, until, tape.overrides, session, quote)
        return quote

    def _make_quote(
        self, tape: Tape, t: float, market_data_type: int, session: Session | None
    ) -> Quote:
        unit = tape.size_unit
        ref = tape.reference_ticks(t)
        if ref is None:
            return Quote(
                time=from_epoch(t),
                market_data_type=market_data_type,
                bid=None,
                ask=None,
                bid_size=Decimal(0),
                ask_size=Decimal(0),
                last=None,
                last_size=None,
                last_time=None,
                open=None,
                high=None,
                low=None,
                volume=Decimal(0),
                close=None,
                session_open=session is not None,
            )
        ref_ticks, last = ref
        bid, ask = tape.quote_ticks(ref_ticks)
        bid_units, ask_units = tape.quote_sizes(int(t))
        so_far, close = self._day_stats(tape, t, session)
        return Quote(
            time=from_epoch(t),
            market_data_type=market_data_type,
            bid=tape.price(bid),
            ask=tape.price(ask),
            bid_size=bid_units * unit,
            ask_size=ask_units * unit,
            last=tape.price(last[1]) if last else None,
            last_size=last[2] * unit if last else None,
            last_time=from_epoch(last[0]) if last else None,
            open=tape.price(so_far.open) if so_far else None,
            high=tape.price(so_far.high) if so_far else None,
            low=tape.price(so_far.low) if so_far else None,
            volume=(so_far.volume if so_far else 0) * unit,
            close=close,
            session_open=session is not None,
        )

    def _day_stats(
        self, tape: Tape, t: float, session: Session | None
    ) -> tuple[Summary | None, float | None]:
        """Regular hours so far (or the last regular hours, before today's open), and
        the regular-hours close of the session before them."""
        current = session
        if current is None or t < current.liquid_start:
            current = tape.schedule.previous_session(t, limit_days=60)
        if current is None:
            return None, None
        end = min(math.floor(t) + 1, current.liquid_end)
        so_far = tape.liquid_so_far(current, end)
        before = tape.session_before(current)
        close = None
        if before is not None:
            whole = tape.whole_liquid(before)
            close = tape.price(whole.close) if whole else None
        return so_far, close

    def prints(self, con_id: int, start: Moment, end: Moment) -> list[TradePrint]:
        """Every print in [start, end)."""
        tape = self.tape(con_id)
        a, b = _epoch(start), _epoch(end)
        out: list[TradePrint] = []
        for session in tape.sessions_between(a, b):
            day = tape.day(session)
            lo, hi = max(a, session.start), min(b, session.end)
            for i in range(day.minute_index(lo), day.minute_index(math.ceil(hi) - 1) + 1):
                out += [self._print(tape, p, k) for k, p in enumerate(tape.prints(day, i))]
        return [p for p in out if a <= p.time < b]

    def last_print(self, con_id: int, at: Moment) -> TradePrint | None:
        tape = self.tape(con_id)
        p = tape.last_print(_epoch(at))
        return None if p is None else self._print(tape, p)

    def _print(self, tape: Tape, p: Print, index: int = 0) -> TradePrint:
        return TradePrint(
            time=p[0],
            price=tape.price(p[1]),
            size=p[2] * tape.size_unit,
            exchange=tape.venue(p[0], index),
        )

    # --- what the order engine needs --------------------------------------------------

    def depth(self, con_id: int, at: Moment, buy: bool) -> Iterable[tuple[float, Decimal]]:
        """Liquidity a marketable order meets: the quote, then a tick worse each level."""
        tape = self.tape(con_id)
        t = _epoch(at)
        ref = tape.reference_ticks(t)
        if ref is None:
            return
        bid, ask = tape.quote_ticks(ref[0])
        bid_units, ask_units = tape.quote_sizes(int(t))
        level = 0
        while True:
            if buy:
                price = ask + level
                units = ask_units if level == 0 else tape.depth_size(int(t), level)
            else:
                price = bid - level
                if price < 1:
                    return
                units = bid_units if level == 0 else tape.depth_size(int(t), level)
            yield tape.price(price), units * tape.size_unit
            level += 1

    def first_print(
        self,
        con_id: int,
        start: Moment,
        end: Moment,
        at_or_below: float | None = None,
        at_or_above: float | None = None,
    ) -> TradePrint | None:
        """The first print in [start, end) at or below / at or above a price (either)."""
        tape = self.tape(con_id)
        below = tape.ticks_at_or_below(at_or_below) if at_or_below is not None else None
        above = tape.ticks_at_or_above(at_or_above) if at_or_above is not None else None

        def range_test(low: int, high: int) -> bool:
            return (below is not None and low <= below) or (above is not None and high >= above)

        def price_test(p: int) -> bool:
            return (below is not None and p <= below) or (above is not None and p >= above)

        if below is None and above is None:
            range_test = lambda low, high: True  # noqa: E731
            price_test = lambda p: True  # noqa: E731
        found = tape.scan(_epoch(start), _epoch(end), range_test, price_test)
        return None if found is None else self._print(tape, found)

    def trailing_trigger(
        self,
        con_id: int,
        start: Moment,
        end: Moment,
        *,
        sell: bool,
        extreme: float,
        amount: float | None = None,
        percent: float | None = None,
    ) -> tuple[TradePrint | None, float]:
        """First print hitting a trailing stop that follows the extreme price seen."""
        tape = self.tape(con_id)
        if percent is not None:
            factor = 1 - percent / 100 if sell else 1 + percent / 100
            stop_of = lambda e: e * factor  # noqa: E731
        else:
            gap = (amount or 0.0) / tape.tick
            stop_of = (lambda e: e - gap) if sell else (lambda e: e + gap)
        hit, seen = tape.scan_trailing(
            _epoch(start), _epoch(end), extreme / tape.tick, sell, stop_of
        )
        return (None if hit is None else self._print(tape, hit)), tape.price(seen)

    def print_level_for_limit(
        self, con_id: int, limit: float, *, buy: bool, midprice: bool = False
    ) -> float:
        """The print price at (or beyond) which an order limited at `limit` can fill.

        Quotes sit at fixed tick offsets from the last print, so "the ask is at or
        below my limit" is "a print at or below limit - offset".
        """
        tape = self.tape(con_id)
        spread = tape.below + tape.above
        if midprice:
            offset = tape.above - spread // 2 if buy else -tape.below + spread // 2
        else:
            offset = tape.above if buy else -tape.below
        return limit - offset * tape.tick

    def midprice_fill(self, con_id: int, at: Moment, *, buy: bool) -> float:
        """Where a MIDPRICE order fills: the midpoint, or the tick just beyond it."""
        tape = self.tape(con_id)
        ref = tape.reference_ticks(_epoch(at))
        if ref is None:
            raise ValueError("no quote yet")
        bid, ask = tape.quote_ticks(ref[0])
        half = (ask - bid) // 2
        return tape.price(ask - half if buy else bid + half)

    def trailing_stop_price(
        self,
        con_id: int,
        extreme: float,
        *,
        sell: bool,
        amount: float | None,
        percent: float | None,
    ) -> float:
        tape = self.tape(con_id)
        if percent is not None:
            raw = extreme * (1 - percent / 100 if sell else 1 + percent / 100)
        else:
            raw = extreme - (amount or 0.0) if sell else extreme + (amount or 0.0)
        ticks = tape.ticks_at_or_below(raw) if sell else tape.ticks_at_or_above(raw)
        return tape.price(ticks)

    def windows(
        self, con_id: int, start: Moment, end: Moment, rth: bool
    ) -> list[tuple[float, float]]:
        """Open stretches of [start, end): whole sessions, or their regular hours."""
        return self.tape(con_id).windows(_epoch(start), _epoch(end), rth)

    def session_at(self, con_id: int, at: Moment) -> Session | None:
        return self.tape(con_id).session_at(_epoch(at))

    def next_session(self, con_id: int, at: Moment) -> Session | None:
        return self.tape(con_id).schedule.next_session(_epoch(at), limit_days=60)

    def is_open(self, con_id: int, at: Moment, rth: bool = False) -> bool:
        session = self.session_at(con_id, at)
        if session is None:
            return False
        a, b = session.window(rth)
        return a <= _epoch(at) < b

    def head_timestamp(self, con_id: int) -> datetime:
        return from_epoch(self.tape(con_id).listed_epoch())

    # --- bars ---------------------------------------------------------------------------

    def bars(
        self,
        con_id: int,
        end: Moment,
        duration: str,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
    ) -> list[Bar]:
        tape = self.tape(con_id)
        what = self._check_what(tape, what_to_show)
        size = parse_bar_size(bar_size)
        b = _epoch(end)
        a = max(self._duration_start(tape, b, duration, use_rth), tape.listed_epoch())
        if size.intraday and size.seconds < 60:
            return self._second_bars(tape, a, b, size.seconds, what, use_rth)
        if size.intraday:
            return self._minute_bars(tape, a, b, size.seconds, what, use_rth)
        return self._day_bars(tape, a, b, size.unit, what, use_rth)

    def current_bar(
        self,
        con_id: int,
        at: Moment,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
    ) -> Bar | None:
        """The bar containing `at`, built from prints up to and including `at`."""
        tape = self.tape(con_id)
        what = self._check_what(tape, what_to_show)
        size = parse_bar_size(bar_size)
        t = math.floor(_epoch(at)) + 1
        if size.intraday:
            session = tape.schedule.session_at(t - 1)
            if session is None:
                return None
            local = self._local_offset(tape, t - 1)
            bucket = (t - 1 + local) // size.seconds * size.seconds - local
            lo, hi = session.window(use_rth)
            a = max(bucket, lo)
            if size.seconds < 60:
                bars = self._second_bars(tape, a, min(t, hi), size.seconds, what, use_rth)
            else:
                bars = self._minute_bars(tape, a, min(t, hi), size.seconds, what, use_rth)
            return bars[-1] if bars else None
        bars = self._day_bars(tape, t - 40 * 86400, t, size.unit, what, use_rth)
        return bars[-1] if bars else None

    def realtime_bar(
        self, con_id: int, start: Moment, what_to_show: str = "TRADES", use_rth: bool = False
    ) -> RealTimeBar | None:
        """The 5-second bar starting at `start` (rounded down to 5 s); None when closed."""
        tape = self.tape(con_id)
        what = self._check_what(tape, what_to_show)
        a = int(_epoch(start)) // 5 * 5
        session = tape.schedule.session_at(a)
        if session is None:
            return None
        lo, hi = session.window(use_rth)
        if not lo <= a < hi:
            return None
        b = a + 5
        if what in ("TRADES", "ADJUSTED_LAST"):
            prints = self.prints(con_id, a, b)
            if prints:
                volume = sum((p.size for p in prints), Decimal(0))
                wap = sum((Decimal(repr(p.price)) * p.size for p in prints), Decimal(0)) / volume
                prices = [p.price for p in prints]
                return RealTimeBar(
                    time=a,
                    open=prices[0],
                    high=max(prices),
                    low=min(prices),
                    close=prices[-1],
                    volume=volume,
                    wap=round(wap, 6),
                    count=len(prints),
                )
            last = self.price(con_id, a)
            if last is None:
                return None
            return RealTimeBar(
                time=a,
                open=last,
                high=last,
                low=last,
                close=last,
                volume=Decimal(0),
                wap=Decimal(repr(last)),
                count=0,
            )
        values = []
        for second in range(a, b):
            ref = tape.reference_ticks(second)
            if ref is None:
                continue
            bid, ask = tape.quote_ticks(ref[0])
            chosen = {"BID": bid, "ASK": ask}.get(what, (bid + ask) / 2)
            values.append(round(chosen * tape.tick, tape.decimals + 1))
        if not values:
            return None
        return RealTimeBar(
            time=a,
            open=values[0],
            high=max(values),
            low=min(values),
            close=values[-1],
            volume=Decimal(-1),
            wap=Decimal(-1),
            count=-1,
        )

    def schedule(
        self, con_id: int, end: Moment, duration: str, use_rth: bool = True
    ) -> tuple[str, list[HistoricalSession]]:
        """reqHistoricalData with whatToShow=SCHEDULE: (time zone, sessions)."""
        tape = self.tape(con_id)
        b = _epoch(end)
        a = self._duration_start(tape, b, duration, use_rth)
        zone = tape.schedule.zone
        out = []
        for session in tape.sessions_between(a, b):
            s, e = session.window(use_rth)
            out.append(
                HistoricalSession(
                    startDateTime=datetime.fromtimestamp(s, zone).strftime("%Y%m%d-%H:%M:%S"),
                    endDateTime=datetime.fromtimestamp(e, zone).strftime("%Y%m%d-%H:%M:%S"),
                    refDate=f"{session.trade_date:%Y%m%d}",
                )
            )
        return tape.schedule.time_zone, out

    def _check_what(self, tape: Tape, what_to_show: str) -> str:
        what = what_to_show.upper()
        if what not in WHAT_TO_SHOW:
            raise BarRequestError(f"invalid whatToShow {what_to_show!r}")
        if what in ("TRADES", "ADJUSTED_LAST") and not tape.instrument.has_trades:
            c = tape.instrument.contract
            raise HistoricalDataError(
                162,
                "Historical Market Data Service error message:No historical market data "
                f"for {c.symbol}/{c.secType}@{c.exchange} Last 0",
            )
        return what

    def _duration_start(self, tape: Tape, end: float, duration: str, use_rth: bool) -> float:
        d = parse_duration(duration)
        if d.unit == "S":
            return end - d.count
        if d.unit == "D":
            sessions = tape.sessions_back(end, d.count)
            return sessions[0].window(use_rth)[0] if sessions else end
        moment = from_epoch(end)
        if d.unit == "W":
            return end - d.count * 7 * 86400
        if d.unit == "M":
            return to_epoch(months_before(moment, d.count))
        return to_epoch(months_before(moment, 12 * d.count))

    def _local_offset(self, tape: Tape, epoch: float) -> int:
        offset = datetime.fromtimestamp(epoch, tape.schedule.zone).utcoffset()
        return int(offset.total_seconds()) if offset else 0

    def _minute_bars(
        self, tape: Tape, a: float, b: float, seconds: int, what: str, use_rth: bool
    ) -> list[Bar]:
        out: list[Bar] = []
        for session in tape.sessions_between(a, b):
            lo, hi = session.window(use_rth)
            local = self._local_offset(tape, lo)
            first_bucket = (max(a, lo) + local) // seconds * seconds - local
            lo, hi = max(lo, first_bucket), min(hi, b)
            if lo >= hi:
                continue
            day = tape.day(session)
            bucket: int | None = None
            pieces: list[tuple[Summary, float, float]] = []
            for m, piece in tape.minute_pieces(day, lo, hi):
                key = int(m + local) // seconds
                if key != bucket and pieces:
                    out.append(self._to_bar(tape, pieces, what))
                    pieces = []
                bucket = key
                pieces.append((piece, _typical_notional(piece), m))
            if pieces:
                out.append(self._to_bar(tape, pieces, what))
        return out

    def _second_bars(
        self, tape: Tape, a: float, b: float, seconds: int, what: str, use_rth: bool
    ) -> list[Bar]:
        out: list[Bar] = []
        con_id = tape.instrument.con_id
        for session in tape.sessions_between(a, b):
            lo, hi = session.window(use_rth)
            lo = max(lo, math.floor(a / seconds) * seconds)
            hi = min(hi, b)
            if lo >= hi:
                continue
            groups: dict[int, list[TradePrint]] = {}
            for p in self.prints(con_id, lo, hi):
                groups.setdefault(p.time // seconds * seconds, []).append(p)
            if what in ("TRADES", "ADJUSTED_LAST"):
                for start in sorted(groups):
                    out.append(self._bar_from_prints(tape, start, groups[start], what))
                continue
            ref = tape.reference_ticks(lo - 1e-6)
            last = tape.price(ref[0]) if ref else None
            start = int(lo)
            while start < hi:
                group = groups.get(start)
                if group:
                    out.append(self._bar_from_prints(tape, start, group, what))
                    last = group[-1].price
                elif last is not None:
                    ticks = round(last / tape.tick)
                    flat = Summary(ticks, ticks, ticks, ticks, 0, 0)
                    out.append(self._to_bar(tape, [(flat, 0.0, start)], what))
                start += seconds
        return out

    def _bar_from_prints(self, tape: Tape, start: int, prints: list[TradePrint], what: str) -> Bar:
        ticks = [round(p.price / tape.tick) for p in prints]
        units = [int(p.size / tape.size_unit) for p in prints]
        summary = Summary(ticks[0], max(ticks), min(ticks), ticks[-1], sum(units), len(ticks))
        notional = float(sum(t * u for t, u in zip(ticks, units, strict=True)))
        return self._to_bar(tape, [(summary, notional, start)], what)

    def _day_bars(
        self, tape: Tape, a: float, b: float, unit: str, what: str, use_rth: bool
    ) -> list[Bar]:
        days: list[tuple[date, Summary, float, int]] = []
        for session in tape.sessions_between(a, b):
            lo, hi = session.window(use_rth)
            if hi <= a or lo >= b:
                continue
            summary = tape.range_summary(tape.day(session), max(lo, a), min(hi, b))
            if summary is not None:
                days.append((session.trade_date, summary, _typical_notional(summary), lo))
        if unit == "day":
            return [self._to_bar(tape, [(s, n, st)], what, trade_date=d) for d, s, n, st in days]
        out: list[Bar] = []
        group: list[tuple[date, Summary, float, int]] = []
        for item in days:
            if group and _period(group[0][0], unit) != _period(item[0], unit):
                out.append(
                    self._to_bar(tape, [(s, n, st) for _, s, n, st in group], what, group[0][0])
                )
                group = []
            group.append(item)
        if group:
            out.append(self._to_bar(tape, [(s, n, st) for _, s, n, st in group], what, group[0][0]))
        return out

    def _to_bar(
        self,
        tape: Tape,
        pieces: list[tuple[Summary, float, float]],
        what: str,
        trade_date: date | None = None,
    ) -> Bar:
        summary = merge(p[0] for p in pieces)
        assert summary is not None
        notional = sum(p[1] for p in pieces)
        start = pieces[0][2]
        o, h, lo, c = summary.open, summary.high, summary.low, summary.close
        wap_ticks = notional / summary.volume if summary.volume else float(c)
        price = tape.price
        if what in ("TRADES", "ADJUSTED_LAST"):
            return Bar(
                start=from_epoch(start),
                open=price(o),
                high=price(h),
                low=price(lo),
                close=price(c),
                volume=summary.volume * tape.size_unit,
                wap=round(Decimal(repr(wap_ticks * tape.tick)), tape.decimals + 3),
                count=summary.count,
                trade_date=trade_date,
            )
        below, above = tape.below, tape.above
        if what == "BID_ASK":
            values = (wap_ticks - below, h + above, lo - below, wap_ticks + above)
        else:
            shift = {"BID": -below, "ASK": above, "MIDPOINT": (above - below) / 2}[what]
            values = (o + shift, h + shift, lo + shift, c + shift)
        return Bar(
            start=from_epoch(start),
            open=round(values[0] * tape.tick, tape.decimals + 1),
            high=round(values[1] * tape.tick, tape.decimals + 1),
            low=round(values[2] * tape.tick, tape.decimals + 1),
            close=round(values[3] * tape.tick, tape.decimals + 1),
            volume=Decimal(-1),
            wap=Decimal(-1),
            count=-1,
            trade_date=trade_date,
        )

    # --- historical ticks ----------------------------------------------------------------

    def historical_ticks(
        self,
        con_id: int,
        what_to_show: str,
        *,
        start: Moment | None = None,
        end: Moment | None = None,
        count: int = 1000,
        use_rth: bool = True,
        max_days: int = 31,
    ) -> list[HistoricalTickLast] | list[HistoricalTickBidAsk] | list[HistoricalTick]:
        """reqHistoricalTicks: `count` ticks from `start` forward, or up to `end` backward.

        TRADES gives prints; BID_ASK and MIDPOINT give the quote each second it changed.
        """
        tape = self.tape(con_id)
        what = what_to_show.upper()
        if what not in ("TRADES", "BID_ASK", "MIDPOINT"):
            raise BarRequestError(f"invalid whatToShow {what_to_show!r} for ticks")
        if what == "TRADES":
            self._check_what(tape, "TRADES")
        if start is None and end is None:
            raise BarRequestError("historical ticks need a start or an end time")
        forward = start is not None
        a = _epoch(start) if start is not None else _epoch(end) - max_days * 86400  # type: ignore[arg-type]
        b = _epoch(end) if end is not None else a + max_days * 86400
        windows = tape.windows(a, b, use_rth)
        # ten-minute slices, so a request for 1000 ticks stops soon after it has them
        slices = [(x, min(x + 600, hi)) for lo, hi in windows for x in _steps(lo, hi, 600)]
        if not forward:
            slices.reverse()
        out: list = []
        for lo, hi in slices:
            chunk = self._ticks_in(tape, lo, hi, what)
            out = out + chunk if forward else chunk + out
            if len(out) >= count:
                break
        return out[:count] if forward else out[-count:]

    def _ticks_in(self, tape: Tape, lo: float, hi: float, what: str) -> list:
        con_id = tape.instrument.con_id
        prints = self.prints(con_id, lo, hi)
        if what == "TRADES":
            return [
                HistoricalTickLast(time=p.time, price=p.price, size=p.size, exchange=p.exchange)
                for p in prints
            ]
        out: list = []
        ref = tape.reference_ticks(lo - 1e-6)
        current = ref[0] if ref else None
        k = 0
        previous = None
        for second in range(math.ceil(lo), math.ceil(hi)):
            while k < len(prints) and prints[k].time <= second:
                current = round(prints[k].price / tape.tick)
                k += 1
            if current is None:
                continue
            bid, ask = tape.quote_ticks(current)
            if what == "MIDPOINT":
                state = (bid + ask) / 2
                if state != previous:
                    out.append(
                        HistoricalTick(
                            time=second,
                            price=round(state * tape.tick, tape.decimals + 1),
                            size=Decimal(0),
                        )
                    )
            else:
                bid_units, ask_units = tape.quote_sizes(second)
                state = (bid, ask, bid_units, ask_units)
                if state != previous:
                    out.append(
                        HistoricalTickBidAsk(
                            time=second,
                            priceBid=tape.price(bid),
                            priceAsk=tape.price(ask),
                            sizeBid=bid_units * tape.size_unit,
                            sizeAsk=ask_units * tape.size_unit,
                        )
                    )
            previous = state
        return out


def _steps(lo: float, hi: float, step: int) -> list[float]:
    out = []
    while lo < hi:
        out.append(lo)
        lo += step
    return out


def _typical_notional(s: Summary) -> float:
    return s.volume * (s.open + s.high + s.low + s.close) / 4


def _period(day: date, unit: str) -> tuple[int, int]:
    if unit == "week":
        iso = day.isocalendar()
        return iso.year, iso.week
    return day.year, day.month
