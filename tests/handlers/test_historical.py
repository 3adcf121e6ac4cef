"""Historical handlers without sockets: bars in every format, keepUpToDate revisions,
the schedule, head timestamps, historical ticks, histograms, and TWS's refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fake_tws.ibtypes import Contract
from fake_tws.protocol.requests import historical as rq
from fake_tws.protocol.responses import connection as rs_conn
from fake_tws.protocol.responses import historical as rs
from tests.handlers.market_harness import START, aapl, connected, contract, eur_gbp, of

AAPL_ID = 265598
EUR_GBP_ID = 12087807

pytestmark = pytest.mark.trio


def errors(messages) -> list[tuple[int, int, str]]:
    return [(m.reqId, m.errorCode, m.errorString) for m in of(messages, rs_conn.Error)]


def only(messages, kind):
    [message] = of(messages, kind)
    return message


async def test_hourly_bars_with_format_date_1_are_the_worlds_and_end_now():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(1, aapl(), "", "2 D", "1 hour", "TRADES", 1, 1, False, [])
        )
        data = only(client.take(), rs.HistoricalData)
        assert (
            data.start == "20260413 11:00:00 US/Eastern"
            and data.end == "20260415 11:00:00 US/Eastern"
        )
        assert data.bars[0].date == "20260414 09:30:00 US/Eastern"
        assert [b.date[9:17] for b in data.bars[:3]] == ["09:30:00", "10:00:00", "11:00:00"]
        assert data.bars[-1].date == "20260415 11:00:00 US/Eastern"  # the hour just begun
        world_bars = client.world.market.bars(
            AAPL_ID, START + timedelta(seconds=1), "2 D", "1 hour"
        )
        assert [(b.open, b.high, b.low, b.close, b.volume, b.barCount) for b in data.bars] == [
            (b.open, b.high, b.low, b.close, b.volume, b.count) for b in world_bars
        ]
        # Prices agree with the quote of the same moment.
        assert data.bars[-1].close == client.world.market.quote(AAPL_ID, START).last


async def test_format_date_2_daily_bars_and_midpoints():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(
                2, aapl(), "", "3600 S", "1 min", "MIDPOINT", 0, 2, False, []
            )
        )
        minutes = only(client.take(), rs.HistoricalData)
        assert all(b.date.isdigit() for b in minutes.bars)
        assert int(minutes.bars[-1].date) == int(START.timestamp())
        assert {b.volume for b in minutes.bars} == {Decimal(-1)} and minutes.bars[0].barCount == -1
        client.send(
            lambda c: c.reqHistoricalData(3, aapl(), "", "1 M", "1 day", "TRADES", 1, 1, False, [])
        )
        days = only(client.take(), rs.HistoricalData)
        assert all(len(b.date) == 8 for b in days.bars) and days.bars[-1].date == "20260415"
        client.send(
            lambda c: c.reqHistoricalData(
                4, eur_gbp(), "", "1 W", "1 hour", "BID_ASK", 0, 1, False, []
            )
        )
        fx = only(client.take(), rs.HistoricalData)
        assert all(b.low <= b.high for b in fx.bars) and fx.bars[0].date.endswith("US/Eastern")


async def test_explicit_end_times_in_every_spelling():
    async with connected() as client:
        for req_id, end in enumerate(
            ("20260410 16:00:00 US/Eastern", "20260410-20:00:00", "20260410 20:00:00 UTC"), start=5
        ):
            client.send(
                lambda c, r=req_id, e=end: c.reqHistoricalData(
                    r, aapl(), e, "1 D", "1 hour", "TRADES", 1, 1, False, []
                )
            )
        sent = client.take()
        assert not errors(sent)
        answers = of(sent, rs.HistoricalData)
        assert len({a.bars for a in answers}) == 1
        assert answers[0].end == "20260410 16:00:00 US/Eastern"
        assert answers[0].bars[-1].date == "20260410 15:00:00 US/Eastern"
        # Without a zone: the gateway's (UTC here), with TWS's warning first.
        client.send(
            lambda c: c.reqHistoricalData(
                8, aapl(), "20260410 20:00:00", "1 D", "1 hour", "TRADES", 1, 1, False, []
            )
        )
        sent = client.take()
        assert [e[1] for e in errors(sent)] == [2174]
        assert only(sent, rs.HistoricalData).bars == answers[0].bars
        # A period ending in the future ends now.
        client.send(
            lambda c: c.reqHistoricalData(
                9, aapl(), "20300101-00:00:00", "1 D", "1 hour", "TRADES", 1, 1, False, []
            )
        )
        assert only(client.take(), rs.HistoricalData).end == "20260415 11:00:00 US/Eastern"


@pytest.mark.parametrize(
    ("args", "code", "text"),
    [
        (
            ("", "1 D", "7 mins", "TRADES"),
            321,
            "Historical data bar size setting is invalid. Legal ones are: 1 secs, 5 secs",
        ),
        (("", "1 D", "1 hour", "NONSENSE"), 321, "What to show field is missing or incorrect."),
        (("", "3 Q", "1 hour", "TRADES"), 321, "Historical data query duration [3 Q] is invalid."),
        (
            ("", "400 D", "1 day", "TRADES"),
            321,
            "Historical data requests for durations longer than 365 days must be made in years.",
        ),
        (
            ("", "200 Y", "1 month", "TRADES"),
            321,
            "Historical data request for 200 year(s) rejected. Max API Backfill Years=199",
        ),
        (
            ("yesterday", "1 D", "1 hour", "TRADES"),
            321,
            "Historical data query end date/time string [yesterday] is invalid.",
        ),
        (
            ("", "1 D", "1 secs", "TRADES"),
            162,
            "Historical Market Data Service error message:invalid step: 1",
        ),
        (
            ("19700105-00:00:00", "1 W", "1 day", "TRADES"),
            162,
            "Historical Market Data Service error message:HMDS query returned no data: AAPL@SMART Trades",
        ),
        (
            ("", "1 M", "1 day", "HISTORICAL_VOLATILITY"),
            162,
            "Historical Market Data Service error message:HMDS query returned no data: AAPL@SMART Historical_Volatility",
        ),
    ],
)
async def test_refusals(args, code, text):
    end, duration, size, what = args
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(10, aapl(), end, duration, size, what, 1, 1, False, [])
        )
        [(req_id, got_code, got_text)] = errors(client.take())
        assert (req_id, got_code) == (10, code)
        assert text in got_text
        if code == 321:
            assert got_text.startswith("Error validating request.-'b")


async def test_forex_has_no_trades_and_keep_up_to_date_takes_no_end():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(
                11, eur_gbp(), "", "1 D", "1 hour", "TRADES", 0, 1, False, []
            )
        )
        [(_, code, text)] = errors(client.take())
        assert code == 162 and text.startswith(
            "Historical Market Data Service error message:No historical market data for EUR/CASH@IDEALPRO"
        )
        client.send(
            lambda c: c.reqHistoricalData(
                12, aapl(), "20260410-20:00:00", "1 D", "1 min", "TRADES", 0, 1, True, []
            )
        )
        assert errors(client.take()) == [
            (
                12,
                321,
                "Error validating request.-'bM' : cause - End date not supported with live updates",
            )
        ]
        client.send(
            lambda c: c.reqHistoricalData(
                13, contract("ZZZZQQQ1"), "", "1 D", "1 min", "TRADES", 0, 1, False, []
            )
        )
        assert errors(client.take())[0][1] == 200


async def test_keep_up_to_date_revises_the_last_bar_then_starts_the_next():
    async with connected(START + timedelta(seconds=30)) as client:
        client.send(
            lambda c: c.reqHistoricalData(
                20, aapl(), "", "1800 S", "1 min", "TRADES", 0, 1, True, []
            )
        )
        initial = only(client.take(), rs.HistoricalData)
        assert initial.bars[-1].date == "20260415 11:00:00 US/Eastern"
        await client.advance(4)
        assert client.take() == [], "updates come every 5 seconds"
        await client.advance(26)  # to 11:01:00: five revisions of 11:00, then 11:01 begins
        updates = [m.bar for m in client.take()]
        assert all(isinstance(b.volume, Decimal) for b in updates)
        dates = [b.date for b in updates]
        assert dates[:-1] == ["20260415 11:00:00 US/Eastern"] * (len(dates) - 1)
        assert dates[-1] == "20260415 11:01:00 US/Eastern"
        revisions = updates[:-1]
        assert [b.volume for b in revisions] == sorted(b.volume for b in revisions)
        assert revisions[-1].volume > initial.bars[-1].volume
        assert revisions[0].open == initial.bars[-1].open
        final = client.world.market.bars(AAPL_ID, START + timedelta(seconds=60), "60 S", "1 min")[
            -1
        ]
        assert (revisions[-1].close, revisions[-1].volume, revisions[-1].barCount) == (
            final.close,
            final.volume,
            final.count,
        )
        client.send(lambda c: c.cancelHistoricalData(20))
        assert errors(client.take()) == [
            (
                20,
                162,
                "Historical Market Data Service error message:API historical data query cancelled: 20",
            )
        ]
        await client.advance(20)
        assert client.take() == []
        client.send(lambda c: c.cancelHistoricalData(20))
        assert errors(client.take()) == [
            (20, 366, "No historical data query found for ticker id:20")
        ]


async def test_a_jump_past_several_bars_sends_them_in_order():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(
                21, aapl(), "", "600 S", "1 min", "TRADES", 0, 2, True, []
            )
        )
        client.take()
        await client.jump(3 * 60 + 7)
        dates = [int(m.bar.date) for m in client.take()]
        start = int(START.timestamp())
        assert dates == [start, start + 60, start + 120, start + 180]


async def test_the_schedule():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalData(
                22, aapl(), "", "1 W", "1 day", "SCHEDULE", 1, 1, False, []
            )
        )
        schedule = only(client.take(), rs.HistoricalSchedule)
        assert schedule.timeZone == "US/Eastern"
        assert schedule.sessions[-1].refDate == "20260415"
        assert schedule.sessions[-1].startDateTime == "20260415-09:30:00"
        assert (schedule.startDateTime, schedule.endDateTime) == (
            schedule.sessions[0].startDateTime,
            schedule.sessions[-1].endDateTime,
        )


async def test_the_schedule_needs_a_version_that_has_it():
    async with connected(version=164) as client:  # HISTORICAL_SCHEDULE is 165
        # ibapi would refuse to send it; a hand-made request gets TWS's refusal.
        request = rq.ReqHistoricalData(
            reqId=23,
            contract=Contract(symbol="AAPL", secType="STK", exchange="SMART", currency="USD"),
            durationStr="1 W",
            barSizeSetting="1 day",
            whatToShow="SCHEDULE",
            useRTH=True,
        )
        client.session.gateway.handlers.get(rq.ReqHistoricalData)(client.session, request)
        assert [e[:2] for e in errors(client.take())] == [(23, 321)]
        assert not client.session.closed


async def test_head_timestamps():
    async with connected(around_the_clock=False) as client:
        client.send(lambda c: c.reqHeadTimeStamp(30, aapl(), "TRADES", 1, 1))
        client.send(lambda c: c.reqHeadTimeStamp(31, aapl(), "TRADES", 1, 2))
        client.send(lambda c: c.reqHeadTimeStamp(32, aapl(), "TRADES", 0, 1))
        client.send(lambda c: c.reqHeadTimeStamp(33, eur_gbp(), "TRADES", 1, 1))
        client.send(lambda c: c.reqHeadTimeStamp(34, eur_gbp(), "MIDPOINT", 1, 1))
        sent = client.take()
        heads = {m.reqId: m.headTimestamp for m in of(sent, rs.HeadTimestamp)}
        assert heads[30] == "19801212-14:30:00"  # 09:30 New York, the first regular hours
        assert heads[31] == str(int(datetime(1980, 12, 12, 14, 30, tzinfo=UTC).timestamp()))
        assert heads[32] == "19801212-09:00:00"  # 04:00 New York, pre-market
        assert heads[34].startswith("2000")
        assert [e[:2] for e in errors(sent)] == [(33, 162)]
        client.send(lambda c: c.cancelHeadTimeStamp(30))
        assert client.take() == []


async def test_historical_ticks_forward_backward_and_as_midpoints_for_forex():
    async with connected() as client:
        client.send(
            lambda c: c.reqHistoricalTicks(
                40, aapl(), "20260415 10:00:00 US/Eastern", "", 25, "TRADES", 1, False, []
            )
        )
        trades = only(client.take(), rs.HistoricalTicksLast)
        assert len(trades.ticks) == 25 and trades.done
        assert trades.ticks[0].time >= int(datetime(2026, 4, 15, 14, 0, tzinfo=UTC).timestamp())
        prints = client.world.market.prints(
            AAPL_ID, trades.ticks[0].time, trades.ticks[-1].time + 1
        )
        assert [(t.price, t.size) for t in trades.ticks] == [(p.price, p.size) for p in prints][:25]
        client.send(
            lambda c: c.reqHistoricalTicks(
                41, aapl(), "", "20260415-15:00:00", 50, "BID_ASK", 1, False, []
            )
        )
        quotes = only(client.take(), rs.HistoricalTicksBidAsk)
        assert len(quotes.ticks) == 50 and quotes.ticks[-1].time <= START.timestamp()
        last = quotes.ticks[-1]
        quote = client.world.market.quote(AAPL_ID, last.time)
        assert (last.priceBid, last.priceAsk, last.sizeBid) == (
            quote.bid,
            quote.ask,
            quote.bid_size,
        )
        client.send(
            lambda c: c.reqHistoricalTicks(
                42, eur_gbp(), "", "20260415-15:00:00", 10, "TRADES", 1, False, []
            )
        )
        assert len(only(client.take(), rs.HistoricalTicks).ticks) == 10
        client.send(
            lambda c: c.reqHistoricalTicks(
                43, aapl(), "", "20260415-15:00:00", 0, "TRADES", 1, False, []
            )
        )
        assert errors(client.take()) == [
            (43, 321, "Error validating request.-'bP' : cause - Number of ticks must be > 0")
        ]


async def test_histogram_is_the_volume_by_price_of_the_period():
    async with connected() as client:
        client.send(lambda c: c.reqHistogramData(50, aapl(), True, "3 days"))
        histogram = only(client.take(), rs.HistogramData)
        prices = [i.price for i in histogram.items]
        assert prices == sorted(prices) and 20 <= len(prices) <= 101
        days = client.world.market.bars(AAPL_ID, START + timedelta(seconds=1), "3 D", "1 day")
        assert sum(i.size for i in histogram.items) == sum(b.volume for b in days)
        assert (
            min(b.low for b in days) - 0.5 <= prices[0]
            and prices[-1] <= max(b.high for b in days) + 0.5
        )
        client.send(lambda c: c.reqHistogramData(51, aapl(), True, "three days"))
        assert errors(client.take())[0][:2] == (51, 321)
        client.send(lambda c: c.cancelHistogramData(50))
        assert client.take() == []


SIZES_AND_DURATIONS = [
    *((size, "1800 S") for size in ("1 secs", "5 secs", "10 secs", "15 secs", "30 secs")),
    *((size, "1 D") for size in ("1 min", "2 mins", "3 mins", "5 mins", "10 mins", "15 mins")),
    *(
        (size, "1 W")
        for size in ("20 mins", "30 mins", "1 hour", "2 hours", "3 hours", "4 hours", "8 hours")
    ),
    ("1 day", "1 M"),
    ("1W", "1 Y"),
    ("1 week", "1 Y"),
    ("1M", "2 Y"),
    ("1 month", "2 Y"),
]


async def test_every_bar_size_and_what_to_show():
    async with connected() as client:
        for req_id, (size, duration) in enumerate(SIZES_AND_DURATIONS):
            client.send(
                lambda c, r=req_id, s=size, d=duration: c.reqHistoricalData(
                    r, aapl(), "", d, s, "TRADES", 0, 2, False, []
                )
            )
        sent = client.take()
        assert not errors(sent)
        answers = {m.reqId: m.bars for m in of(sent, rs.HistoricalData)}
        for req_id, (size, _) in enumerate(SIZES_AND_DURATIONS):
            bars = answers[req_id]
            assert len(bars) >= 2, size
            number, unit = size.split() if " " in size else ("1", size)
            per = {"secs": 1, "min": 60, "mins": 60, "hour": 3600, "hours": 3600}.get(unit, 0)
            if per:  # intraday: epoch dates, a whole number of bars apart
                assert (int(bars[1].date) - int(bars[0].date)) % (int(number) * per) == 0, size
            else:  # daily and longer: trade dates
                assert len(bars[0].date) == 8 and bars[0].date < bars[1].date, size
        for req_id, what in enumerate(
            ("TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST"), start=100
        ):
            client.send(
                lambda c, r=req_id, w=what: c.reqHistoricalData(
                    r, aapl(), "", "1 D", "5 mins", w, 1, 1, False, []
                )
            )
        sent = client.take()
        assert not errors(sent)
        by_what = [m.bars[-2] for m in of(sent, rs.HistoricalData)]
        trades, mid, bid, ask, bid_ask, adjusted = by_what
        assert bid.close < mid.close < ask.close and adjusted == trades
        assert bid_ask.open <= bid_ask.close and trades.volume > 0 and mid.volume == -1


async def test_use_rth_or_not():
    async with connected(around_the_clock=False) as client:
        client.send(
            lambda c: c.reqHistoricalData(1, aapl(), "", "1 D", "1 hour", "TRADES", 1, 1, False, [])
        )
        client.send(
            lambda c: c.reqHistoricalData(2, aapl(), "", "1 D", "1 hour", "TRADES", 0, 1, False, [])
        )
        rth, all_hours = (m.bars for m in of(client.take(), rs.HistoricalData))
        assert rth[0].date == "20260415 09:30:00 US/Eastern"
        assert all_hours[0].date == "20260415 04:00:00 US/Eastern"
