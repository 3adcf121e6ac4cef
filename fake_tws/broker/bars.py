"""Bars as reqHistoricalData speaks of them: bar sizes, durations, whatToShow, dates.

`Bar` is the world's bar (aware start time, trade date for daily bars); the session
turns it into `ibtypes.BarData` with `to_bar_data`, choosing the date format the
client asked for (formatDate 1: "yyyymmdd HH:MM:SS tz", 2: epoch seconds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from fake_tws.ibtypes import BarData

WHAT_TO_SHOW = ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST")


class BarRequestError(ValueError):
    """A malformed bar size, duration or whatToShow (IB answers these with error 321)."""


@dataclass(frozen=True, slots=True)
class BarSize:
    seconds: int  # for intraday sizes; 0 for day, week and month
    unit: str  # "intraday", "day", "week", "month"

    @property
    def intraday(self) -> bool:
        return self.unit == "intraday"


_SIZE = re.compile(
    r"^\s*(\d+)\s*(sec|secs|min|mins|hour|hours|day|days|week|weeks|month|months)\s*$"
)
_SECONDS = {"sec": 1, "min": 60, "hour": 3600}
_INTRADAY_SIZES = {1, 5, 10, 15, 30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600, 7200}
_INTRADAY_SIZES |= {10800, 14400, 28800}


def parse_bar_size(text: str) -> BarSize:
    m = _SIZE.match(text.lower())
    if not m:
        raise BarRequestError(f"invalid bar size {text!r}")
    count, unit = int(m.group(1)), m.group(2).rstrip("s")
    if unit in _SECONDS:
        seconds = count * _SECONDS[unit]
        if seconds not in _INTRADAY_SIZES:
            raise BarRequestError(f"invalid bar size {text!r}")
        return BarSize(seconds, "intraday")
    if count != 1:
        raise BarRequestError(f"invalid bar size {text!r}")
    return BarSize(0, unit)


@dataclass(frozen=True, slots=True)
class Duration:
    count: int
    unit: str  # S, D, W, M, Y


_DURATION = re.compile(r"^\s*(\d+)\s*([SDWMY])\s*$")


def parse_duration(text: str) -> Duration:
    m = _DURATION.match(text.upper())
    if not m or int(m.group(1)) <= 0:
        raise BarRequestError(f"invalid duration {text!r}")
    return Duration(int(m.group(1)), m.group(2))


def months_before(moment: datetime, months: int) -> datetime:
    month_index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, _days_in_month(year, month + 1))
    return moment.replace(year=year, month=month + 1, day=day)


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


class Bar(msgspec.Struct, frozen=True, kw_only=True):
    """One bar. Non-TRADES bars carry volume, wap and count of -1, as IB sends them."""

    start: datetime  # aware UTC; the first moment the bar covers
    open: float
    high: float
    low: float
    close: float
    volume: Decimal
    wap: Decimal
    count: int
    trade_date: date | None = None  # set for daily, weekly and monthly bars

    def to_bar_data(self, format_date: int = 1, time_zone: str = "US/Eastern") -> BarData:
        return BarData(
            date=format_bar_date(self, format_date, time_zone),
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            wap=self.wap,
            barCount=self.count,
        )


def format_bar_date(bar: Bar, format_date: int = 1, time_zone: str = "US/Eastern") -> str:
    """IB's bar date text: "yyyymmdd" for daily+ bars, else per formatDate."""
    if bar.trade_date is not None:
        return f"{bar.trade_date:%Y%m%d}"
    if format_date == 2:
        return str(int(bar.start.timestamp()))
    local = bar.start.astimezone(ZoneInfo(time_zone))
    return f"{local:%Y%m%d %H:%M:%S} {time_zone}"
