"""When an IB future or option stops trading, as a UTC timestamp.

IB gives the last trading day as ``lastTradeDateOrContractMonth`` (``20251219``), the
time of day as ``lastTradeTime`` (``08:30``, ``08:30:00`` or ``0830``; ibapi splits it off
the date) and the exchange's zone as ``timeZoneId`` (``US/Central``). When all three are
known the expiry is that local moment; without a time it is midnight UTC of the day,
which is NautilusTrader's adapter's rule for every contract.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

_DATE = re.compile(r"^\d{8}$")
_TIME = re.compile(r"^(?P<hour>\d{1,2}):?(?P<minute>\d{2})(?::?(?P<second>\d{2}))?$")

# Older TWS versions name zones by abbreviation; each means the exchange's local time,
# daylight saving included, which the fixed-offset IANA zones of the same name are not.
_ZONE_ALIASES = {
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "CST": "America/Chicago",
    "CDT": "America/Chicago",
    "MST": "America/Denver",
    "PST": "America/Los_Angeles",
    "GMT": "Europe/London",
    "BST": "Europe/London",
    "JST": "Asia/Tokyo",
    "HKT": "Asia/Hong_Kong",
}


def expiry_to_timestamp(
    last_trade_date: str,
    last_trade_time: str = "",
    time_zone_id: str = "",
) -> pd.Timestamp:
    """The UTC moment of expiry (see the module docstring).

    ``last_trade_date`` may also carry its own time and zone, ``"20251219 08:30:00
    US/Central"``, the form TWS sends before ibapi splits it.
    """
    date, _, rest = last_trade_date.strip().partition(" ")
    if rest:
        last_trade_time, _, time_zone_id = rest.partition(" ")
    if not _DATE.match(date):
        raise ValueError(f"Expected an expiry date as YYYYMMDD, was {last_trade_date!r}")
    time_match = _TIME.match(last_trade_time.strip())
    zone = _zone(time_zone_id)
    if time_match is None or zone is None:
        return pd.Timestamp(date, tz="UTC")
    local = pd.Timestamp(
        year=int(date[:4]),
        month=int(date[4:6]),
        day=int(date[6:]),
        hour=int(time_match["hour"]),
        minute=int(time_match["minute"]),
        second=int(time_match["second"] or 0),
        tz=zone,
    )
    return local.tz_convert("UTC")


def expiry_timestring_to_datetime(expiry: str) -> pd.Timestamp:
    """NautilusTrader's name: the expiry of ``"YYYYMMDD"`` or ``"YYYYMMDD HH:MM:SS TZ"``."""
    return expiry_to_timestamp(expiry)


def _zone(time_zone_id: str) -> ZoneInfo | None:
    name = time_zone_id.strip()
    if not name:
        return None
    try:
        return ZoneInfo(_ZONE_ALIASES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        return None
