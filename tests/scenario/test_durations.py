from datetime import UTC, datetime, timedelta

import pytest

from fake_tws.scenario.durations import Duration, TimePoint, format_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30),
        ("2m", 120),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1.5s", 1.5),
        ("0s", 0),
    ],
)
def test_durations_parse(text, seconds):
    assert Duration.parse(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5", "5 s", "-1s", "1d", "s", 30, None, "1s 2s"])
def test_bad_durations_say_what_is_expected(text):
    with pytest.raises(ValueError, match=r'expected a duration like "500ms"'):
        Duration.parse(text)


def test_durations_print_in_their_own_notation():
    assert format_duration(Duration.parse("90s")) == "90s"
    assert format_duration(Duration.parse("2m")) == "2m"
    assert format_duration(Duration.parse("250ms")) == "250ms"
    assert repr(Duration.parse("1h")) == "Duration('1h')"


def test_time_points():
    start = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    assert TimePoint.parse("+30s").resolve(start) == start + timedelta(seconds=30)
    absolute = TimePoint.parse("2026-01-05T10:00:00-05:00")
    assert absolute.resolve(start) == datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    assert TimePoint.parse("2026-01-05T15:00:00Z") == absolute.__class__(absolute=absolute.absolute)
    assert repr(TimePoint.parse("+2m")) == "TimePoint('+2m')"


@pytest.mark.parametrize("text", ["+", "+soon", "noon", "2026-13-01T00:00:00Z", 5])
def test_bad_time_points(text):
    with pytest.raises(ValueError, match="expected an offset"):
        TimePoint.parse(text)


def test_time_point_needs_a_time_zone():
    with pytest.raises(ValueError, match="UTC offset"):
        TimePoint.parse("2026-01-05T10:00:00")
