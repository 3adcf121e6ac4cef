"""Trading calendars: when each kind of instrument trades, in its exchange's time zone.

A `SessionRule` turns a trade date into a `Session` (trading window plus its liquid,
"regular trading hours" part) and renders TWS's `tradingHours`/`liquidHours` strings
("20260105:0400-20260105:2000;20260106:CLOSED;..."). US exchange holidays follow the
NYSE rules (observed on the nearest weekday; New Year's Day falling on a Saturday is
not observed), which is what makes e.g. a June future expire on the 18th when the
third Friday is Juneteenth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

DAY = 86400


@dataclass(frozen=True, slots=True)
class Session:
    """One trade date's session, as epoch seconds. `liquid_*` bound the regular hours."""

    trade_date: date
    start: int
    end: int
    liquid_start: int
    liquid_end: int

    def window(self, rth: bool) -> tuple[int, int]:
        return (self.liquid_start, self.liquid_end) if rth else (self.start, self.end)

    def segments(self) -> list[tuple[int, int, bool]]:
        """The session cut into (start, end, is_liquid) pieces: pre, regular, post."""
        pieces = [
            (self.start, self.liquid_start, False),
            (self.liquid_start, self.liquid_end, True),
            (self.liquid_end, self.end, False),
        ]
        return [p for p in pieces if p[1] > p[0]]


@dataclass(frozen=True)
class SessionRule:
    """How one family of instruments trades. Times are minutes after local midnight.

    `opens_previous_day` is for sessions that start the evening before their trade date
    (futures, forex). Without `liquid_open`/`liquid_close` the whole session is liquid.
    """

    time_zone: str
    open_minute: int
    close_minute: int  # may be 1440 (midnight at the end of the day)
    liquid_open: int | None = None
    liquid_close: int | None = None
    opens_previous_day: bool = False
    weekdays: frozenset[int] = frozenset(range(5))
    us_holidays: bool = True
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zone", ZoneInfo(self.time_zone))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def is_trade_date(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        return not (self.us_holidays and day in us_holidays(day.year))

    def session(self, day: date) -> Session | None:
        return _session(self, day)

    def local_date(self, epoch: float) -> date:
        return datetime.fromtimestamp(epoch, self._zone).date()

    def local_epoch(self, day: date, minute: int) -> int:
        """Epoch seconds of `minute` minutes after local midnight of `day`."""
        extra, minute = divmod(minute, 1440)
        wall = datetime.combine(day + timedelta(days=extra), datetime.min.time())
        wall += timedelta(minutes=minute)
        return int(wall.replace(tzinfo=self._zone).timestamp())

    def session_at(self, epoch: float) -> Session | None:
        """The session open at `epoch`, if any."""
        day = self.local_date(epoch)
        for candidate in (day, day + timedelta(days=1)):
            s = self.session(candidate)
            if s is not None and s.start <= epoch < s.end:
                return s
        return None

    def sessions_between(self, start: float, end: float) -> list[Session]:
        """Sessions overlapping [start, end), in time order."""
        if end <= start:
            return []
        first = self.local_date(start) - timedelta(days=1)
        last = self.local_date(end) + timedelta(days=1)
        out: list[Session] = []
        day = first
        while day <= last:
            s = self.session(day)
            if s is not None and s.start < end and s.end > start:
                out.append(s)
            day += timedelta(days=1)
        return out

    def next_session(self, epoch: float, limit_days: int = 30) -> Session | None:
        """The first session ending after `epoch` (the current one if open)."""
        day = self.local_date(epoch)
        for offset in range(-1, limit_days):
            s = self.session(day + timedelta(days=offset))
            if s is not None and s.end > epoch:
                return s
        return None

    def previous_session(self, epoch: float, limit_days: int = 30) -> Session | None:
        """The last session that ended at or before `epoch`."""
        day = self.local_date(epoch) + timedelta(days=1)
        for offset in range(limit_days):
            s = self.session(day - timedelta(days=offset))
            if s is not None and s.end <= epoch:
                return s
        return None

    def hours_strings(self, around: float, days: int = 7) -> tuple[str, str]:
        """TWS's (tradingHours, liquidHours) for `days` calendar days from `around`."""
        today = self.local_date(around)
        trading: list[str] = []
        liquid: list[str] = []
        for offset in range(days):
            day = today + timedelta(days=offset)
            s = self.session(day)
            if s is not None:
                trading.append(f"{self._stamp(s.start)}-{self._stamp(s.end)}")
                liquid.append(f"{self._stamp(s.liquid_start)}-{self._stamp(s.liquid_end)}")
            elif not self._session_starts_on(day):
                trading.append(f"{day:%Y%m%d}:CLOSED")
                liquid.append(f"{day:%Y%m%d}:CLOSED")
        return ";".join(trading), ";".join(liquid)

    def _session_starts_on(self, day: date) -> bool:
        nxt = self.session(day + timedelta(days=1))
        return nxt is not None and self.local_date(nxt.start) == day

    def _stamp(self, epoch: int) -> str:
        return datetime.fromtimestamp(epoch, self._zone).strftime("%Y%m%d:%H%M")


@lru_cache(maxsize=8192)
def _session(rule: SessionRule, day: date) -> Session | None:
    if not rule.is_trade_date(day):
        return None
    open_day = day - timedelta(days=1) if rule.opens_previous_day else day
    start = rule.local_epoch(open_day, rule.open_minute)
    end = rule.local_epoch(day, rule.close_minute)
    if rule.liquid_open is None or rule.liquid_close is None:
        return Session(day, start, end, start, end)
    liquid_start = max(start, rule.local_epoch(day, rule.liquid_open))
    liquid_end = min(end, rule.local_epoch(day, rule.liquid_close))
    return Session(day, start, end, liquid_start, liquid_end)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> date:
    """Anonymous Gregorian algorithm."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month = (h + ell - 7 * m + 114) // 31
    day = (h + ell - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def us_holidays(year: int) -> frozenset[date]:
    """NYSE full-day holidays of `year`."""
    days = {
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _observed(date(year, 7, 4)),
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
        _observed(date(year, 12, 25)),
    }
    new_year = date(year, 1, 1)
    if new_year.weekday() != 5:  # a Saturday New Year's Day is not observed on Friday
        days.add(_observed(new_year))
    if year >= 2022:
        days.add(_observed(date(year, 6, 19)))  # Juneteenth
    return frozenset(days)


def previous_business_day(day: date) -> date:
    """`day` itself if it is a US business day, else the closest one before it."""
    while day.weekday() >= 5 or day in us_holidays(day.year):
        day -= timedelta(days=1)
    return day


# The families the catalog uses. Minutes after local midnight.
US_STOCKS = SessionRule("US/Eastern", 4 * 60, 20 * 60, 9 * 60 + 30, 16 * 60)
US_OPTIONS = SessionRule("US/Eastern", 9 * 60 + 30, 16 * 60)
US_BONDS = SessionRule("US/Eastern", 8 * 60, 17 * 60, 9 * 60 + 30, 16 * 60)
CME_EQUITY = SessionRule(
    "US/Central", 17 * 60, 16 * 60, 8 * 60 + 30, 15 * 60 + 15, opens_previous_day=True
)
NYMEX_ENERGY = SessionRule(
    "US/Eastern", 18 * 60, 17 * 60, 9 * 60, 14 * 60 + 30, opens_previous_day=True
)
IB_INDEX_CFD = SessionRule(
    "US/Eastern", 18 * 60, 17 * 60, 9 * 60 + 30, 16 * 60, opens_previous_day=True
)
IDEALPRO = SessionRule(
    "US/Eastern", 17 * 60 + 15, 17 * 60, opens_previous_day=True, us_holidays=False
)
CRYPTO = SessionRule("US/Eastern", 0, 24 * 60, weekdays=frozenset(range(7)), us_holidays=False)


def around_the_clock(rule: SessionRule) -> SessionRule:
    """`rule` trading every hour of every day: one session per calendar day, from local
    midnight to midnight, weekends and holidays included. Its regular hours stay the
    rule's own (the whole day for rules that have none, like IDEALPRO's)."""
    liquid_open, liquid_close = rule.liquid_open, rule.liquid_close
    if liquid_open is None and not rule.opens_previous_day:
        liquid_open, liquid_close = rule.open_minute, rule.close_minute
    return SessionRule(
        rule.time_zone,
        0,
        24 * 60,
        liquid_open,
        liquid_close,
        weekdays=frozenset(range(7)),
        us_holidays=False,
    )
