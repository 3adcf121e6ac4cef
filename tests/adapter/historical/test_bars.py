"""Bar requests, paging and conversion, with NautilusTrader's adapter as the oracle."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pandas as pd
import pytest
from ibapi.common import BarData
from ibapi.const import UNSET_DECIMAL
from nautilus_trader.adapters.interactive_brokers.client.market_data import (
    InteractiveBrokersClientMarketDataMixin,
)
from nautilus_trader.adapters.interactive_brokers.parsing.data import (
    bar_spec_to_bar_size,
    what_to_show,
)
from nautilus_trader.model.data import BarSpecification, BarType
from nautilus_trader.model.enums import AggregationSource
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from adapter.historical.bars import (
    DAY,
    bar_request,
    duration_for,
    duration_seconds,
    duration_start,
    max_span,
    segments,
    to_bars,
)

AAPL = TestInstrumentProvider.equity("AAPL", "NASDAQ")


def bar_type(spec: str, instrument_id: str = "AAPL.NASDAQ") -> BarType:
    return BarType(
        InstrumentId.from_str(instrument_id),
        BarSpecification.from_str(spec),
        AggregationSource.EXTERNAL,
    )


THEIR_SPECS = [
    *(f"{n}-SECOND-LAST" for n in (5, 10, 15, 30)),
    *(f"{n}-MINUTE-MID" for n in (1, 2, 3, 5, 10, 15, 20, 30)),
    *(f"{n}-HOUR-BID" for n in (1, 2, 3, 4, 8)),
    "1-DAY-ASK",
    "1-WEEK-LAST",
]


@pytest.mark.parametrize("spec", THEIR_SPECS)
def test_bar_size_and_data_type_are_theirs(spec):
    ours = bar_request(bar_type(spec))
    assert ours.bar_size == bar_spec_to_bar_size(BarSpecification.from_str(spec))
    assert ours.what_to_show == what_to_show(bar_type(spec))


def test_bar_sizes_theirs_lacks_and_sizes_ib_lacks():
    assert bar_request(bar_type("1-SECOND-LAST")).bar_size == "1 sec"
    assert bar_request(bar_type("1-MONTH-LAST")).bar_size == "1 month"
    assert bar_request(bar_type("1-HOUR-LAST", "BTC/USD.PAXOS")).what_to_show == "AGGTRADES"
    for unsupported in ("7-MINUTE-LAST", "2-DAY-LAST", "1-HOUR-MARK", "100-TICK-LAST"):
        with pytest.raises(ValueError):
            bar_request(bar_type(unsupported))


@pytest.mark.parametrize(
    ("spec", "span"),
    [
        ("1-SECOND-LAST", 1800),
        ("5-SECOND-LAST", 3600),
        ("30-SECOND-LAST", 28_800),
        ("1-MINUTE-LAST", DAY),
        ("5-MINUTE-LAST", 7 * DAY),
        ("1-HOUR-LAST", 30 * DAY),
        ("1-DAY-LAST", 365 * DAY),
        ("1-WEEK-LAST", 365 * DAY),
    ],
)
def test_one_request_spans_at_most_ibs_step_size(spec, span):
    assert max_span(bar_request(bar_type(spec)).seconds) == span


def test_segments_cover_the_period_newest_first_within_the_span():
    start = pd.Timestamp("2026-01-01 09:30", tz="UTC")
    end = pd.Timestamp("2026-01-04 16:00", tz="UTC")
    pages = segments(start, end, 60)  # 1-minute bars: a day per request

    assert [e for e, _ in pages] == [
        end,
        end - pd.Timedelta(days=1),
        end - pd.Timedelta(days=2),
        end - pd.Timedelta(days=3),
    ]
    assert [d for _, d in pages] == ["86400 S", "86400 S", "86400 S", "23400 S"]
    covered = sum(duration_seconds(d) for _, d in pages)
    assert covered == (end - start).total_seconds()


def test_durations_are_what_ib_accepts():
    assert duration_for(0.2) == "1 S"
    assert duration_for(3600.5) == "3601 S"
    assert duration_for(DAY) == "86400 S"
    assert duration_for(DAY + 1) == "2 D"
    end = pd.Timestamp("2026-03-31 12:00", tz="UTC")
    assert duration_start(end, "1 M") == pd.Timestamp("2026-02-28 12:00", tz="UTC")
    assert duration_start(end, "2 W") == end - pd.Timedelta(days=14)
    assert duration_seconds("1 M") == 30 * DAY and duration_seconds("1 Y") == 365 * DAY
    with pytest.raises(ValueError):
        duration_seconds("1D")


def ib_bar(date: str, price: float = 100.25, volume: Decimal = Decimal(1200)) -> BarData:
    bar = BarData()
    bar.date, bar.open, bar.high, bar.low, bar.close = date, price, price + 1, price - 1, price
    bar.volume = volume
    return bar


def their_times(bar: BarData, spec: str) -> tuple[int, int]:
    mixin = object.__new__(InteractiveBrokersClientMarketDataMixin)
    bt = bar_type(spec)
    ts_event = asyncio.run(mixin._ib_bar_to_ts_event(bar, bt))
    ts_init = asyncio.run(mixin._ib_bar_to_ts_init(bar, bt))
    return ts_event, ts_init


@pytest.mark.parametrize(
    ("spec", "date"),
    [
        ("1-MINUTE-LAST", "1767623400"),
        ("1-HOUR-MID", "1767623400"),
        ("5-SECOND-BID", "1767623405"),
        ("1-DAY-LAST", "20260105"),
        ("1-WEEK-LAST", "20260109"),
        ("1-MONTH-LAST", "20260130"),
    ],
)
def test_bar_times_and_prices_are_theirs(spec, date):
    bar = ib_bar(date)
    [ours] = to_bars(bar_request(bar_type(spec)), [bar], AAPL)
    assert (ours.ts_event, ours.ts_init) == their_times(bar, spec)
    assert (str(ours.open), str(ours.high), str(ours.low), str(ours.close)) == (
        "100.25",
        "101.25",
        "99.25",
        "100.25",
    )
    assert ours.volume == AAPL.make_qty(1200)
    assert not ours.is_revision


def test_no_volume_is_zero_and_prices_are_divided_by_the_magnifier():
    request = bar_request(bar_type("1-MINUTE-MID"))
    bars = to_bars(
        request,
        [ib_bar("1767623400", volume=Decimal(-1)), ib_bar("1767623460", 1000.5, UNSET_DECIMAL)],
        AAPL,
        price_magnifier=10,
    )
    assert [b.volume.as_double() for b in bars] == [0, 0]
    assert [str(b.close) for b in bars] == ["10.03", "100.05"]  # 100.25/10 at AAPL's 0.01
