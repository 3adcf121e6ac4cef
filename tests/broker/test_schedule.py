from datetime import UTC, date, datetime

from fake_tws.broker import schedule as sched


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def test_us_holidays_follow_nyse_rules():
    assert date(2026, 4, 3) in sched.us_holidays(2026)  # Good Friday
    assert date(2026, 6, 19) in sched.us_holidays(2026)  # Juneteenth
    assert date(2026, 7, 3) in sched.us_holidays(2026)  # July 4th is a Saturday
    assert date(2026, 11, 26) in sched.us_holidays(2026)  # Thanksgiving
    assert date(2021, 12, 31) not in sched.us_holidays(2021)  # Saturday New Year not observed
    assert sched.previous_business_day(date(2026, 6, 19)) == date(2026, 6, 18)


def test_stock_session_has_extended_and_regular_hours_in_eastern_time():
    s = sched.US_STOCKS.session(date(2026, 4, 15))
    assert s.start == utc(2026, 4, 15, 8, 0)  # 04:00 EDT
    assert s.liquid_start == utc(2026, 4, 15, 13, 30)
    assert s.liquid_end == utc(2026, 4, 15, 20, 0)
    assert s.end == utc(2026, 4, 16, 0, 0)
    assert [liquid for _, _, liquid in s.segments()] == [False, True, False]
    assert sched.US_STOCKS.session(date(2026, 4, 18)) is None  # Saturday
    assert sched.US_STOCKS.session(date(2026, 4, 3)) is None  # Good Friday


def test_winter_sessions_shift_with_daylight_saving():
    s = sched.US_STOCKS.session(date(2026, 1, 6))
    assert s.liquid_start == utc(2026, 1, 6, 14, 30)  # 09:30 EST


def test_futures_session_opens_the_evening_before_its_trade_date():
    monday = sched.CME_EQUITY.session(date(2026, 4, 13))
    assert monday.start == utc(2026, 4, 12, 22, 0)  # Sunday 17:00 CDT
    assert monday.end == utc(2026, 4, 13, 21, 0)
    assert sched.CME_EQUITY.session_at(utc(2026, 4, 13, 21, 30)) is None  # daily break
    assert sched.CME_EQUITY.session_at(utc(2026, 4, 13, 22, 30)).trade_date == date(2026, 4, 14)


def test_crypto_trades_every_day_and_forex_through_us_holidays():
    assert sched.CRYPTO.session(date(2026, 4, 18)) is not None
    assert sched.IDEALPRO.session(date(2026, 4, 3)) is not None
    assert sched.IDEALPRO.session(date(2026, 4, 18)) is None


def test_trading_hours_strings_in_tws_format():
    trading, liquid = sched.US_STOCKS.hours_strings(utc(2026, 4, 15, 15, 0))
    days = trading.split(";")
    assert days[0] == "20260415:0400-20260415:2000"
    assert "20260418:CLOSED" in days and "20260419:CLOSED" in days
    assert liquid.split(";")[0] == "20260415:0930-20260415:1600"
    futures, _ = sched.CME_EQUITY.hours_strings(utc(2026, 4, 15, 15, 0))
    assert futures.split(";")[0] == "20260414:1700-20260415:1600"
    assert "20260418:CLOSED" in futures  # Saturday
    assert "20260419:CLOSED" not in futures  # Sunday opens Monday's session
    assert "20260419:1700-20260420:1600" in futures


def test_sessions_between_and_neighbours():
    rule = sched.US_STOCKS
    found = rule.sessions_between(utc(2026, 4, 10, 0, 0), utc(2026, 4, 15, 0, 0))
    assert [s.trade_date for s in found] == [
        date(2026, 4, 10),
        date(2026, 4, 13),
        date(2026, 4, 14),
    ]
    assert rule.next_session(utc(2026, 4, 11, 12, 0)).trade_date == date(2026, 4, 13)
    assert rule.previous_session(utc(2026, 4, 13, 12, 0)).trade_date == date(2026, 4, 10)
