"""Historical bars: IB's request terms for a bar type, paging, and IB bars as Nautilus bars.

A bar type becomes a bar size (``1-HOUR-LAST`` -> ``"1 hour"``) and a data type
(``LAST`` -> TRADES, ``MID`` -> MIDPOINT, ``BID``, ``ASK``; LAST on PAXOS is AGGTRADES).

IB answers one ``reqHistoricalData`` with at most a bar-size-dependent span (its "step
sizes": 30 minutes of 1-second bars, a day of 1-minute bars, a month of hourly bars, a
year of daily bars). ``segments`` cuts a longer period into requests of that span,
newest first; each asks a whole number of seconds (under a day) or days, and the bars
are then cut to the period.

Timestamps are NautilusTrader's adapter's, so catalogs written by either adapter agree:
``ts_event`` is the bar's start and ``ts_init`` its end (a daily bar's end minus 1 ns; a
weekly or monthly bar, which IB dates by its last day, starts on the first day of its
week or month and has ``ts_init`` at that last day).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from ibapi.common import BarData
from ibapi.const import UNSET_DECIMAL
from nautilus_trader.model.data import Bar, BarAggregation, BarSpecification, BarType
from nautilus_trader.model.enums import PriceType
from nautilus_trader.model.instruments import Instrument

NANOS = 1_000_000_000
DAY = 86_400

_SIZES: dict[BarAggregation, tuple[set[int], str, str]] = {
    BarAggregation.SECOND: ({1, 5, 10, 15, 30}, "sec", "secs"),
    BarAggregation.MINUTE: ({1, 2, 3, 5, 10, 15, 20, 30}, "min", "mins"),
    BarAggregation.HOUR: ({1, 2, 3, 4, 8}, "hour", "hours"),
    BarAggregation.DAY: ({1}, "day", "days"),
    BarAggregation.WEEK: ({1}, "week", "weeks"),
    BarAggregation.MONTH: ({1}, "month", "months"),
}
_WHAT_TO_SHOW = {
    PriceType.LAST: "TRADES",
    PriceType.MID: "MIDPOINT",
    PriceType.BID: "BID",
    PriceType.ASK: "ASK",
}
# The longest period IB serves in one request, by the bar's length in seconds (IB's
# historical data "step sizes"): the first row whose bar length is <= this bar's wins.
_MAX_SPAN: tuple[tuple[int, int], ...] = (
    (DAY, 365 * DAY),  # 1 day and longer: a year ("1 Y")
    (1800, 30 * DAY),  # 30 minutes to 8 hours: a month ("1 M")
    (180, 7 * DAY),  # 3 to 20 minutes: a week
    (120, 2 * DAY),
    (60, DAY),
    (30, 28_800),
    (10, 14_400),
    (5, 3_600),
    (1, 1_800),
)
_DURATION = re.compile(r"^(?P<count>\d+)\s(?P<unit>[SDWMY])$")


@dataclass(frozen=True)
class BarRequest:
    """What ``reqHistoricalData`` needs for a bar type."""

    bar_type: BarType
    bar_size: str
    what_to_show: str
    seconds: int  # the bar's length (a month counts 31 days)


def bar_request(bar_type: BarType) -> BarRequest:
    """IB's bar size and data type for ``bar_type``; ``ValueError`` if IB has no such bar."""
    spec = bar_type.spec
    sizes = _SIZES.get(spec.aggregation)
    if sizes is None or spec.step not in sizes[0] or spec.price_type not in _WHAT_TO_SHOW:
        raise ValueError(f"Interactive Brokers has no historical bars for {spec}")
    bar_size = f"{spec.step} {sizes[1] if spec.step == 1 else sizes[2]}"
    what = _WHAT_TO_SHOW[spec.price_type]
    if what == "TRADES" and bar_type.instrument_id.venue.value == "PAXOS":
        what = "AGGTRADES"  # IB's crypto trades
    return BarRequest(bar_type, bar_size, what, _spec_seconds(spec))


def parse_bar_spec(text: str) -> BarSpecification:
    return BarSpecification.from_str(text)


def _spec_seconds(spec: BarSpecification) -> int:
    if spec.aggregation == BarAggregation.MONTH:
        return 31 * DAY * spec.step
    return int(pd.Timedelta(spec.timedelta).total_seconds())


def max_span(bar_seconds: int) -> int:
    """The longest period (seconds) one request may cover for bars of this length."""
    for length, span in _MAX_SPAN:
        if bar_seconds >= length:
            return span
    return _MAX_SPAN[-1][1]


def check_duration(duration: str) -> tuple[int, str]:
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError("duration must be in format: 'int S|D|W|M|Y'")
    return int(match["count"]), match["unit"]


def duration_start(end: pd.Timestamp, duration: str) -> pd.Timestamp:
    """Where IB's ``duration`` ending at ``end`` starts (calendar months and years)."""
    count, unit = check_duration(duration)
    if unit == "M":
        return end - pd.DateOffset(months=count)
    if unit == "Y":
        return end - pd.DateOffset(years=count)
    seconds = {"S": 1, "D": DAY, "W": 7 * DAY}[unit]
    return end - pd.Timedelta(seconds=count * seconds)


def duration_seconds(duration: str) -> int:
    """``duration``'s nominal length, as IB's step sizes count (a month 30 days, a year
    365): what decides whether one request may cover it."""
    count, unit = check_duration(duration)
    return count * {"S": 1, "D": DAY, "W": 7 * DAY, "M": 30 * DAY, "Y": 365 * DAY}[unit]


def duration_for(seconds: float) -> str:
    """The shortest IB duration covering ``seconds``: whole seconds under a day, else days."""
    if seconds <= DAY:
        return f"{max(math.ceil(seconds), 1)} S"
    return f"{math.ceil(seconds / DAY)} D"


def segments(
    start: pd.Timestamp,
    end: pd.Timestamp,
    bar_seconds: int,
) -> list[tuple[pd.Timestamp, str]]:
    """Requests covering ``start`` .. ``end``, newest first: (end of request, duration)."""
    span = max_span(bar_seconds)
    out: list[tuple[pd.Timestamp, str]] = []
    cursor = end
    while cursor > start:
        length = min(span, (cursor - start).total_seconds())
        out.append((cursor, duration_for(length)))
        cursor = cursor - pd.Timedelta(seconds=length)
    return out


def bar_start_ns(bar: BarData, aggregation: BarAggregation) -> int:
    """The bar's date as IB sends it with formatDate 2: epoch seconds intraday,
    YYYYMMDD (midnight UTC) for daily and longer bars."""
    if aggregation in (BarAggregation.DAY, BarAggregation.WEEK, BarAggregation.MONTH):
        return pd.Timestamp(bar.date[:8], tz="UTC").value
    return int(bar.date) * NANOS


def to_bars(
    request: BarRequest,
    bars: Iterable[BarData],
    instrument: Instrument,
    price_magnifier: int = 1,
) -> list[Bar]:
    """Nautilus bars for IB's bars of one request (see the module docstring for times)."""
    bar_type = request.bar_type
    aggregation = bar_type.spec.aggregation
    length_ns = request.seconds * NANOS
    make_price = instrument.make_price
    make_qty = instrument.make_qty
    out = []
    for bar in bars:
        date_ns = bar_start_ns(bar, aggregation)
        if aggregation == BarAggregation.WEEK:
            day = pd.Timestamp(date_ns, tz="UTC")
            ts_event, ts_init = (day - pd.Timedelta(days=day.weekday())).value, date_ns
        elif aggregation == BarAggregation.MONTH:
            ts_event, ts_init = pd.Timestamp(date_ns, tz="UTC").replace(day=1).value, date_ns
        elif aggregation == BarAggregation.DAY:
            ts_event, ts_init = date_ns, date_ns + length_ns - 1
        else:
            ts_event, ts_init = date_ns, date_ns + length_ns
        volume = bar.volume
        if volume is None or volume < 0 or volume == UNSET_DECIMAL:
            volume = 0  # IB's "no volume" (MIDPOINT, BID, ASK bars)
        out.append(
            Bar(
                bar_type=bar_type,
                open=make_price(bar.open / price_magnifier),
                high=make_price(bar.high / price_magnifier),
                low=make_price(bar.low / price_magnifier),
                close=make_price(bar.close / price_magnifier),
                volume=make_qty(volume),
                ts_event=ts_event,
                ts_init=ts_init,
            ),
        )
    return out
