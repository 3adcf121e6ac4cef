"""Expiry moments from IB's date, time and time zone."""

from __future__ import annotations

import pandas as pd
import pytest
from nautilus_trader.adapters.interactive_brokers.parsing.instruments import (
    expiry_timestring_to_datetime as their_expiry,
)

from adapter.parsing.expiry import expiry_timestring_to_datetime, expiry_to_timestamp


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def test_date_alone_is_midnight_utc():
    assert expiry_to_timestamp("20251219") == utc("2025-12-19 00:00")


def test_time_without_zone_is_ignored():
    assert expiry_to_timestamp("20251219", "08:30") == utc("2025-12-19 00:00")


@pytest.mark.parametrize(
    ("date", "time", "zone", "expected"),
    [
        ("20251219", "08:30", "US/Central", "2025-12-19 14:30"),  # CST, UTC-6
        ("20250620", "08:30", "US/Central", "2025-06-20 13:30"),  # CDT, UTC-5
        ("20251219", "16:00:00", "US/Eastern", "2025-12-19 21:00"),
        ("20251219", "1600", "US/Eastern", "2025-12-19 21:00"),
        ("20251208", "17:30", "MET", "2025-12-08 16:30"),
        ("20251230", "15:30", "Asia/Kolkata", "2025-12-30 10:00"),
    ],
)
def test_local_last_trade_time_becomes_utc(date, time, zone, expected):
    assert expiry_to_timestamp(date, time, zone) == utc(expected)


def test_legacy_zone_abbreviations_observe_daylight_saving():
    assert expiry_to_timestamp("20250718", "16:00", "EST") == utc("2025-07-18 20:00")
    assert expiry_to_timestamp("20250718", "08:30", "CST") == utc("2025-07-18 13:30")


def test_unknown_zone_falls_back_to_midnight_utc():
    assert expiry_to_timestamp("20251219", "08:30", "Atlantis/Capital") == utc("2025-12-19")


def test_date_carrying_its_own_time_and_zone():
    expected = utc("2025-12-19 14:30")
    assert expiry_to_timestamp("20251219 08:30:00 US/Central") == expected
    assert expiry_timestring_to_datetime("20251219 08:30:00 US/Central") == expected


@pytest.mark.parametrize(
    "expiry", ["20251219", "20251219 08:30:00 US/Central", "20250620 15:00:00 Japan"]
)
def test_nautilus_name_agrees_with_theirs(expiry):
    assert expiry_timestring_to_datetime(expiry) == their_expiry(expiry)


@pytest.mark.parametrize("date", ["202512", "2025-12-19", ""])
def test_anything_but_a_full_date_is_refused(date):
    with pytest.raises(ValueError, match="YYYYMMDD"):
        expiry_to_timestamp(date)
