import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fake_tws.broker import HistoricalDataError, Market
from fake_tws.broker.bars import BarRequestError, format_bar_date, parse_bar_size, parse_duration
from fake_tws.broker.catalog import Catalog
from fake_tws.broker.instruments import on_grid
from fake_tws.ibtypes import Contract

from .conftest import MIDDAY

AAPL = 265598
EURUSD = 12087792


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(now=lambda: MIDDAY, seed=3)


@pytest.fixture
def market(catalog) -> Market:
    return Market(catalog.instrument, seed=3)


def es_con_id(catalog, symbol="ES") -> int:
    return catalog.contract_details(Contract(symbol=symbol, secType="FUT"))[0].contract.conId


def test_quote_is_two_sided_on_the_grid_and_follows_the_last_print(market):
    for seconds in range(0, 600, 7):
        q = market.quote(AAPL, MIDDAY + timedelta(seconds=seconds))
        assert q.bid < q.ask and on_grid(q.bid, 0.01) and on_grid(q.ask, 0.01)
        assert round(q.ask - q.bid, 2) <= 0.03
        assert q.bid <= q.last <= q.ask
        assert q.last_time <= q.time and q.session_open
        assert q.bid_size > 0 and q.ask_size > 0 and q.bid_size % 100 == 0
        assert q.low <= q.last <= q.high


def test_quote_stats_are_regular_hours_so_far(market):
    q = market.quote(AAPL, MIDDAY)
    rth = market.bars(AAPL, MIDDAY + timedelta(seconds=1), "1 D", "1 day", "TRADES", True)[-1]
    assert (q.open, q.high, q.low, q.volume) == (rth.open, rth.high, rth.low, rth.volume)
    close_yesterday = datetime(2026, 4, 14, 20, 0, tzinfo=UTC)
    yesterday = market.bars(AAPL, close_yesterday, "1 D", "1 day", "TRADES", True)[-1]
    assert q.close == yesterday.close


def test_delayed_quotes_are_fifteen_minutes_old(market):
    delayed = market.quote(AAPL, MIDDAY, market_data_type=3)
    live_then = market.quote(AAPL, MIDDAY - timedelta(minutes=15))
    assert delayed.market_data_type == 3
    assert (delayed.bid, delayed.ask, delayed.last) == (
        live_then.bid,
        live_then.ask,
        live_then.last,
    )


def test_closed_market_quotes_the_last_close(market):
    saturday = datetime(2026, 4, 18, 16, 0, tzinfo=UTC)
    q = market.quote(AAPL, saturday)
    friday_last = market.last_print(AAPL, datetime(2026, 4, 18, 0, 0, tzinfo=UTC))
    assert not q.session_open and q.last == friday_last.price


def test_bars_agree_with_the_prints_inside_them(market):
    end = MIDDAY + timedelta(seconds=17)
    bars = market.bars(AAPL, end, "1800 S", "1 min")
    assert len(bars) == 31  # the last one partial, up to `end`
    for bar in bars:
        start = bar.start.timestamp()
        prints = market.prints(AAPL, start, min(start + 60, end.timestamp()))
        prices = [p.price for p in prints]
        assert (bar.open, bar.high, bar.low, bar.close) == (
            prices[0],
            max(prices),
            min(prices),
            prices[-1],
        )
        assert bar.volume == sum(p.size for p in prints) and bar.count == len(prints)
        assert bar.low <= float(bar.wap) <= bar.high


def test_second_bars_are_built_from_prints_with_exact_wap(market):
    bars = market.bars(AAPL, MIDDAY, "120 S", "5 secs")
    for bar in bars:
        start = bar.start.timestamp()
        prints = market.prints(AAPL, start, start + 5)
        notional = sum(Decimal(repr(p.price)) * p.size for p in prints)
        assert bar.volume == sum(p.size for p in prints)
        assert abs(bar.wap - notional / bar.volume) < Decimal("0.001")


def test_longer_bars_aggregate_shorter_ones(market):
    end = datetime(2026, 4, 15, 20, 0, tzinfo=UTC)  # 16:00, the close
    minutes = market.bars(AAPL, end, "1 D", "1 min")
    hours = market.bars(AAPL, end, "1 D", "1 hour")
    day = market.bars(AAPL, end, "1 D", "1 day")[-1]
    assert [b.start.strftime("%H:%M") for b in hours] == [
        "13:30", "14:00", "15:00", "16:00", "17:00", "18:00", "19:00",
    ]  # fmt: skip
    assert len(minutes) == 390
    for agg in (hours, [day]):
        assert agg[0].open == minutes[0].open and agg[-1].close == minutes[-1].close
        assert max(b.high for b in agg) == max(b.high for b in minutes)
        assert min(b.low for b in agg) == min(b.low for b in minutes)
        assert sum(b.volume for b in agg) == sum(b.volume for b in minutes)
        assert sum(b.count for b in agg) == sum(b.count for b in minutes)
    assert day.trade_date.isoformat() == "2026-04-15" and format_bar_date(day) == "20260415"


def test_use_rth_false_includes_extended_hours(market):
    end = datetime(2026, 4, 16, 0, 0, tzinfo=UTC)
    rth = market.bars(AAPL, end, "1 D", "1 day", use_rth=True)[-1]
    full = market.bars(AAPL, end, "1 D", "1 day", use_rth=False)[-1]
    assert full.volume > rth.volume and full.high >= rth.high and full.low <= rth.low
    first = market.bars(AAPL, end, "1 D", "1 hour", use_rth=False)[0]
    assert first.start == datetime(2026, 4, 15, 8, 0, tzinfo=UTC)  # 04:00 ET


def test_weekly_and_monthly_bars_group_days(market):
    days = market.bars(AAPL, MIDDAY, "3 M", "1 day")
    weeks = market.bars(AAPL, MIDDAY, "3 M", "1 week")
    months = market.bars(AAPL, MIDDAY, "3 M", "1 month")
    for grouped in (weeks, months):
        assert sum(b.volume for b in grouped) == sum(b.volume for b in days)
        assert grouped[-1].close == days[-1].close
        assert max(b.high for b in grouped) == max(b.high for b in days)
    assert months[-1].trade_date.day == 1 and months[0].trade_date >= days[0].trade_date


def test_non_trade_bars_are_offset_by_the_spread(market):
    trades = market.bars(AAPL, MIDDAY, "600 S", "1 min")
    bids = market.bars(AAPL, MIDDAY, "600 S", "1 min", "BID")
    asks = market.bars(AAPL, MIDDAY, "600 S", "1 min", "ASK")
    mids = market.bars(AAPL, MIDDAY, "600 S", "1 min", "MIDPOINT")
    for t, b, a, m in zip(trades, bids, asks, mids, strict=True):
        assert b.low <= t.low and a.high >= t.high and b.high < a.high
        assert m.close == pytest.approx((b.close + a.close) / 2)
        assert m.volume == -1 and m.count == -1
    both = market.bars(AAPL, MIDDAY, "600 S", "1 min", "BID_ASK")
    assert all(
        x.low == b.low and x.high == a.high for x, b, a in zip(both, bids, asks, strict=True)
    )


def test_current_bar_keeps_its_start_and_grows(market):
    seen = [market.current_bar(AAPL, MIDDAY + timedelta(seconds=s), "5 mins") for s in (5, 65, 250)]
    assert len({b.start for b in seen}) == 1
    assert seen[0].volume <= seen[1].volume <= seen[2].volume
    assert seen[0].high <= seen[2].high and seen[0].low >= seen[2].low
    full = market.bars(AAPL, MIDDAY + timedelta(minutes=5), "300 S", "5 mins")[-1]
    last = market.current_bar(AAPL, MIDDAY + timedelta(seconds=299), "5 mins")
    assert last == full


def test_realtime_bars_are_the_prints_of_five_seconds(market):
    for offset in range(0, 60, 5):
        start = MIDDAY + timedelta(seconds=offset)
        bar = market.realtime_bar(AAPL, start)
        prints = market.prints(AAPL, start, start + timedelta(seconds=5))
        assert bar.time == int(start.timestamp())
        assert bar.volume == sum((p.size for p in prints), Decimal(0))
        if prints:
            assert (bar.open, bar.close) == (prints[0].price, prints[-1].price)
        else:
            assert bar.count == 0 and bar.open == bar.close
    assert market.realtime_bar(AAPL, datetime(2026, 4, 18, 15, 0, tzinfo=UTC)) is None
    mid = market.realtime_bar(AAPL, MIDDAY, "MIDPOINT")
    assert mid.volume == -1 and mid.low <= mid.high


def test_historical_ticks_forward_and_backward(market):
    forward = market.historical_ticks(AAPL, "TRADES", start=MIDDAY, count=50)
    assert len(forward) == 50 and forward[0].time >= MIDDAY.timestamp()
    assert (
        forward
        == [t for t in market.historical_ticks(AAPL, "TRADES", start=MIDDAY, count=200)][:50]
    )
    backward = market.historical_ticks(AAPL, "TRADES", end=MIDDAY, count=30)
    assert len(backward) == 30 and backward[-1].time < MIDDAY.timestamp()
    quotes = market.historical_ticks(AAPL, "BID_ASK", start=MIDDAY, count=20)
    assert all(q.priceBid < q.priceAsk for q in quotes)
    q0 = market.quote(AAPL, datetime.fromtimestamp(quotes[0].time, UTC))
    assert (quotes[0].priceBid, quotes[0].priceAsk) == (q0.bid, q0.ask)
    mids = market.historical_ticks(AAPL, "MIDPOINT", start=MIDDAY, count=5)
    assert mids[0].price == pytest.approx((q0.bid + q0.ask) / 2)


def test_set_price_moves_the_path_which_continues_from_there(market):
    at = MIDDAY + timedelta(seconds=30)
    market.set_price(AAPL, 190.0, at)
    assert market.quote(AAPL, at).bid == pytest.approx(190.0, abs=0.011)
    first = market.prints(AAPL, at, at + timedelta(minutes=5))[0]
    assert first.price == 190.0
    later = market.quote(AAPL, at + timedelta(minutes=30))
    assert 180 < later.last < 200
    before = market.prints(AAPL, at - timedelta(minutes=1), at)
    assert all(p.price > 200 for p in before)  # history is untouched
    bars = market.bars(AAPL, at + timedelta(minutes=3), "600 S", "1 min")
    straddling = next(b for b in bars if b.start <= at < b.start + timedelta(minutes=1))
    assert straddling.low <= 190.0 and straddling.high > 200  # built from both sides


def test_es_and_mes_share_one_price_path(catalog, market):
    es, mes = es_con_id(catalog, "ES"), es_con_id(catalog, "MES")
    es_bars = market.bars(es, MIDDAY, "2 D", "1 day")
    mes_bars = market.bars(mes, MIDDAY, "2 D", "1 day")
    assert [(b.open, b.high, b.low, b.close) for b in es_bars] == [
        (b.open, b.high, b.low, b.close) for b in mes_bars
    ]
    assert all(
        on_grid(p.price, 0.25) for p in market.prints(es, MIDDAY, MIDDAY + timedelta(minutes=2))
    )


def test_forex_has_no_trades_but_has_midpoints(market):
    with pytest.raises(HistoricalDataError) as err:
        market.bars(EURUSD, MIDDAY, "1 D", "1 hour", "TRADES")
    assert err.value.code == 162
    mids = market.bars(EURUSD, MIDDAY, "1 D", "1 hour", "MIDPOINT")
    assert mids and all(1.0 < b.close < 1.2 for b in mids)


def test_head_timestamp_and_no_bars_before_it(market):
    head = market.head_timestamp(AAPL)
    assert head.date().isoformat() == "1980-12-12"
    assert market.bars(AAPL, head - timedelta(days=3), "1 W", "1 day") == []


def test_schedule_lists_sessions(market):
    zone, sessions = market.schedule(AAPL, MIDDAY, "1 W")
    assert zone == "US/Eastern"
    assert sessions[-1].refDate == "20260415" and sessions[-1].startDateTime == "20260415-09:30:00"


def test_bad_requests_raise():
    for text in ("7 mins", "2 days", "nonsense"):
        with pytest.raises(BarRequestError):
            parse_bar_size(text)
    with pytest.raises(BarRequestError):
        parse_duration("3 Q")
    assert parse_bar_size("1 secs").seconds == 1 and parse_bar_size("1 month").unit == "month"


def test_it_is_cheap(catalog):
    market = Market(catalog.instrument, seed=8)
    spent = {}
    start = time.perf_counter()
    market.bars(AAPL, MIDDAY, "1 D", "1 min")
    spent["day of minutes"] = time.perf_counter() - start
    start = time.perf_counter()
    market.bars(AAPL, MIDDAY, "1 Y", "1 day")
    spent["year of days"] = time.perf_counter() - start
    start = time.perf_counter()
    market.historical_ticks(AAPL, "BID_ASK", start=MIDDAY, count=1000)
    spent["1000 s of quotes"] = time.perf_counter() - start
    assert all(seconds < 0.25 for seconds in spent.values()), spent
