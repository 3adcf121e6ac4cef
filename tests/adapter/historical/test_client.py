"""HistoricInteractiveBrokersClient against the full fake-tws world over TCP.

The world's clock stands at Monday 2026-01-05 09:30 ET; the trading days before it
(Friday 2026-01-02, the week of 2025-12-29) have regular-hours bars from 09:30 to 16:00.
The world's own bars and ticks are the oracle for what the client returns.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
import time

import nautilus_trader.adapters.interactive_brokers.historical as theirs
import pandas as pd
import pytest
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

import adapter.historic
from adapter.client import IBConnectionError, IBPacingViolation, IBRequestError, IBRequestTimeout
from adapter.common import IBContract
from adapter.historical import HistoricInteractiveBrokersClient
from fake_tws.journal import received
from fake_tws.protocol.requests.historical import ReqHistoricalData, ReqHistoricalTicks
from tests.adapter.historical.support import PACING_ERROR, Script, quick_pacing, start_tws

NY = "America/New_York"
AAPL = IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ")
AAPL_ID = InstrumentId.from_str("AAPL.NASDAQ")
FRIDAY_CLOSE = dt.datetime(2026, 1, 2, 16, 30)  # in New York
NANOS = 1_000_000_000


def ns(moment: dt.datetime, tz: str = NY) -> int:
    return pd.Timestamp(moment, tz=tz).value


def world_bars(server, con_id: int, end_ns: int, duration: str, bar_size: str, what: str):
    return server.call(
        server.world.market.bars,
        con_id,
        end_ns / NANOS,
        duration,
        bar_size,
        what,
        True,
    )


def requests_of(server, name: str) -> list:
    return server.journal.requests(name)


# -- surface ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["__init__", "connect", "request_instruments", "request_bars", "request_ticks"],
)
def test_takes_their_parameters_with_their_defaults(name):
    ours = inspect.signature(getattr(HistoricInteractiveBrokersClient, name)).parameters
    their = inspect.signature(getattr(theirs.HistoricInteractiveBrokersClient, name)).parameters
    assert [(p.name, p.default, p.kind) for p in their.values()] == [
        (p.name, p.default, p.kind) for p in list(ours.values())[: len(their)]
    ]
    extra = list(ours.values())[len(their) :]
    assert all(p.default is not p.empty for p in extra)  # ours only adds options


def test_the_historic_module_name_of_older_releases_works():
    assert adapter.historic.HistoricInteractiveBrokersClient is HistoricInteractiveBrokersClient


# -- instruments -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_request_instruments_by_contract_and_by_id_string(tws, historic):
    # Theirs hands the id strings to its provider, which loads nothing for them.
    client = historic(tws)
    await client.connect()
    instruments = await client.request_instruments(
        contracts=[AAPL],
        instrument_ids=["TSLA.NASDAQ", "AAPL.NASDAQ", "NOPE123.NASDAQ"],
    )
    assert [i.id.value for i in instruments] == ["TSLA.NASDAQ", "AAPL.NASDAQ"]
    assert instruments[1].info["contract"]["conId"] == 265598
    # Loaded once per client: asking again does not go to IB.
    asked = len(requests_of(tws, "reqContractDetails"))
    await client.request_instruments(instrument_ids=["AAPL.NASDAQ"])
    assert len(requests_of(tws, "reqContractDetails")) == asked


# -- bars -----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bars_of_each_specification_are_the_worlds(tws, historic):
    client = historic(tws)
    await client.connect()
    bars = await client.request_bars(
        bar_specifications=["1-HOUR-LAST", "30-MINUTE-MID"],
        end_date_time=FRIDAY_CLOSE,
        tz_name=NY,
        duration="1 D",
        contracts=[AAPL],
        instrument_ids=["AAPL.NASDAQ"],  # the same instrument: downloaded once
    )

    assert [b.ts_init for b in bars] == sorted(b.ts_init for b in bars)
    [instrument] = await client.request_instruments(instrument_ids=["AAPL.NASDAQ"])
    for spec, bar_size, what, seconds, count in (
        ("1-HOUR-LAST", "1 hour", "TRADES", 3600, 7),  # 09:30 (a half hour), 10:00 ... 15:00
        ("30-MINUTE-MID", "30 mins", "MIDPOINT", 1800, 13),
    ):
        ours = [b for b in bars if str(b.bar_type) == f"AAPL.NASDAQ-{spec}-EXTERNAL"]
        expected = world_bars(tws, 265598, ns(FRIDAY_CLOSE), "1 D", bar_size, what)
        assert len(ours) == len(expected) == count
        for bar, world in zip(ours, expected, strict=True):
            start = int(world.start.timestamp()) * NANOS
            assert (bar.ts_event, bar.ts_init) == (start, start + seconds * NANOS)
            # At the instrument's precision (midpoints fall between ticks), as theirs.
            prices = [round(p, 2) for p in (world.open, world.high, world.low, world.close)]
            assert [bar.open, bar.high, bar.low, bar.close] == [
                instrument.make_price(p) for p in prices
            ]
            assert bar.volume.as_double() == (float(world.volume) if what == "TRADES" else 0)
    assert len(requests_of(tws, "reqHistoricalData")) == 2


@pytest.mark.asyncio
async def test_a_long_period_is_paged_into_requests_ib_serves(tws, historic):
    client = historic(tws)
    await client.connect()
    start, end = dt.datetime(2025, 12, 29, 9, 30), dt.datetime(2025, 12, 31, 16, 0)
    bars = await client.request_bars(
        ["1-MINUTE-LAST"],
        end_date_time=end,
        start_date_time=start,
        tz_name=NY,
        instrument_ids=["AAPL.NASDAQ"],
    )

    asked = requests_of(tws, "reqHistoricalData")
    assert [r.durationStr for r in asked] == ["86400 S", "86400 S", "23400 S"]
    assert len(bars) == 3 * 390  # three regular sessions of 1-minute bars
    assert len({b.ts_event for b in bars}) == len(bars)
    assert ns(start) <= bars[0].ts_event and bars[-1].ts_event < ns(end)


@pytest.mark.asyncio
async def test_paging_keeps_within_ibs_pacing_limits(tws, historic):
    client = historic(tws)
    await client.connect()
    await client.request_bars(
        ["1-MINUTE-LAST"],
        end_date_time=dt.datetime(2026, 1, 2, 16, 0),
        duration="6 D",  # more than one request may hold: paged by days
        tz_name=NY,
        instrument_ids=["AAPL.NASDAQ"],
    )
    entries = [e for e in tws.journal.entries if e.name == "reqHistoricalData"]
    assert len(entries) == 6
    # IB allows at most six requests for one contract in two seconds; we send five.
    assert entries[5].wall_time - entries[0].wall_time >= 2.0


@pytest.mark.asyncio
async def test_a_bar_still_forming_is_left_out(tws, historic):
    tws.advance(15 * 60)  # 14:45 UTC: the 14:00 bar has 15 minutes to go
    client = historic(tws)
    await client.connect()
    end = dt.datetime(2026, 1, 5, 14, 45)
    bars = await client.request_bars(
        ["1-HOUR-LAST"],
        end_date_time=end,
        tz_name="UTC",
        duration="14400 S",
        instrument_ids=["AAPL.NASDAQ"],
        use_rth=False,
    )
    served = tws.journal.responses("historicalData")[0].bars
    assert len(served) == 5  # 10:00 (from 10:45), 11:00, 12:00, 13:00, 14:00 (forming)
    assert len(bars) == 4  # theirs keeps the forming one too
    assert bars[-1].ts_init == ns(dt.datetime(2026, 1, 5, 14, 0), "UTC")


@pytest.mark.asyncio
async def test_continuous_futures_are_asked_up_to_now_and_cut_to_the_period(tws, historic):
    client = historic(tws)
    await client.connect()
    bars = await client.request_bars(
        ["1-HOUR-LAST"],
        start_date_time=dt.datetime(2026, 1, 5, 10, 0),
        end_date_time=dt.datetime(2026, 1, 5, 13, 0),
        tz_name="UTC",
        contracts=[IBContract(secType="CONTFUT", symbol="ES", exchange="CME")],
        use_rth=False,
    )
    [asked] = requests_of(tws, "reqHistoricalData")
    assert (asked.endDateTime, asked.durationStr) == ("", "16200 S")
    assert [pd.Timestamp(b.ts_event, tz="UTC").hour for b in bars] == [10, 11, 12]
    assert {str(b.bar_type.instrument_id) for b in bars} == {"ES.CME"}


@pytest.mark.asyncio
async def test_periods_and_data_types_without_data_give_no_bars(historic):
    with start_tws(around_the_clock=False) as server:  # markets rest at weekends
        client = historic(server)
        await client.connect()
        bars = await client.request_bars(
            ["1-HOUR-LAST", "1-HOUR-MID"],
            start_date_time=dt.datetime(2026, 1, 2, 9, 0),
            end_date_time=dt.datetime(2026, 1, 3, 17, 0),  # Friday and Saturday
            tz_name=NY,
            instrument_ids=["AAPL.NASDAQ", "EUR/USD.IDEALPRO"],  # forex has no trades
        )
        days = {(str(b.bar_type), pd.Timestamp(b.ts_event, tz=NY).day) for b in bars}
        assert days == {
            ("AAPL.NASDAQ-1-HOUR-LAST-EXTERNAL", 2),
            ("AAPL.NASDAQ-1-HOUR-MID-EXTERNAL", 2),
            ("EUR/USD.IDEALPRO-1-HOUR-MID-EXTERNAL", 2),
        }
        server.journal.assert_sent("error", errorCode=162)


@pytest.mark.asyncio
async def test_unknown_contracts_are_skipped(tws, historic):
    client = historic(tws)
    await client.connect()
    bars = await client.request_bars(
        ["1-HOUR-LAST"],
        end_date_time=FRIDAY_CLOSE,
        tz_name=NY,
        duration="1 D",
        instrument_ids=["NOPE123.NASDAQ", "AAPL.NASDAQ"],
    )
    assert {str(b.bar_type.instrument_id) for b in bars} == {"AAPL.NASDAQ"}
    tws.journal.assert_sent("error", errorCode=200)
    assert (
        await client.request_bars(
            ["1-HOUR-LAST"],
            end_date_time=FRIDAY_CLOSE,
            tz_name=NY,
            duration="1 D",
            instrument_ids=["NOPE123.NASDAQ"],
        )
        == []
    )


# -- ticks ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_trade_ticks_over_several_pages_are_the_worlds(tws, historic):
    client = historic(tws)
    await client.connect()
    start, end = dt.datetime(2026, 1, 2, 10, 0), dt.datetime(2026, 1, 2, 10, 30)
    ticks = await client.request_ticks(
        "TRADES",
        start_date_time=start,
        end_date_time=end,
        tz_name=NY,
        instrument_ids=["SPY.ARCA"],
    )
    spy = await client.request_instruments(instrument_ids=["SPY.ARCA"])
    world = tws.call(
        tws.world.market.historical_ticks,
        spy[0].info["contract"]["conId"],
        "TRADES",
        start=ns(start) / NANOS,
        end=ns(end) / NANOS + 1,
        count=100_000,
    )
    world = [t for t in world if t.time <= ns(end) / NANOS]
    assert len(requests_of(tws, "reqHistoricalTicks")) >= 2
    assert all(isinstance(t, TradeTick) for t in ticks)
    assert [(t.ts_event // NANOS, t.price.as_double(), t.size.as_double()) for t in ticks] == [
        (w.time, w.price, float(w.size)) for w in world
    ]
    assert len({t.trade_id for t in ticks}) == len(ticks)


@pytest.mark.asyncio
async def test_quote_ticks(tws, historic):
    client = historic(tws)
    await client.connect()
    quotes = await client.request_ticks(
        "BID_ASK",
        start_date_time=dt.datetime(2026, 1, 2, 10, 0),
        end_date_time=dt.datetime(2026, 1, 2, 10, 1),
        tz_name=NY,
        contracts=[AAPL],
    )
    assert quotes and all(isinstance(q, QuoteTick) for q in quotes)
    assert all(q.bid_price < q.ask_price for q in quotes)
    assert ns(dt.datetime(2026, 1, 2, 10, 0)) <= quotes[0].ts_event
    assert quotes[-1].ts_event <= ns(dt.datetime(2026, 1, 2, 10, 1))


# -- the catalog ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_what_it_returns_goes_into_a_catalog_and_back_unchanged(tws, historic, tmp_path):
    client = historic(tws)
    await client.connect()
    instruments = await client.request_instruments(
        instrument_ids=["AAPL.NASDAQ", "ESH6.CME", "EUR/USD.IDEALPRO"],
    )
    bars = await client.request_bars(
        ["1-HOUR-LAST", "30-MINUTE-MID"],
        end_date_time=FRIDAY_CLOSE,
        tz_name=NY,
        duration="1 D",
        instrument_ids=["AAPL.NASDAQ", "EUR/USD.IDEALPRO"],
    )
    window = {
        "start_date_time": dt.datetime(2026, 1, 2, 10, 0),
        "end_date_time": dt.datetime(2026, 1, 2, 10, 2),
        "tz_name": NY,
        "instrument_ids": ["AAPL.NASDAQ"],
    }
    trades = await client.request_ticks("TRADES", **window)
    quotes = await client.request_ticks("BID_ASK", **window)

    catalog = ParquetDataCatalog(str(tmp_path))
    catalog.write_data(instruments)
    catalog.write_data(bars)
    catalog.write_data(trades)
    catalog.write_data(quotes)

    # Compared as dicts: ticks read back carry instrument ids interned by another Rust
    # library, and QuoteTick equality across the two panics (NautilusTrader 1.221.0).
    def rows(items):
        return sorted(
            (type(item).to_dict(item) for item in items),
            key=lambda row: (row.get("bar_type", ""), row["ts_init"], str(sorted(row.items()))),
        )

    assert rows(catalog.bars()) == rows(bars)
    assert rows(catalog.trade_ticks()) == rows(trades)
    assert rows(catalog.quote_ticks()) == rows(quotes)
    assert len(trades) > 10 and len(quotes) > 10
    stored = {i.id: i for i in catalog.instruments()}
    for instrument in instruments:
        back = stored[instrument.id]
        mine, theirs_ = type(instrument).to_dict(instrument), type(back).to_dict(back)
        mine.pop("info"), theirs_.pop("info")
        assert mine == theirs_
        assert back.info["contract"] == instrument.info["contract"]


# -- failures ---------------------------------------------------------------------------------------


def answer_after(failures: int, fail):
    """A scripted handler: ``fail(session, request)`` for the first ``failures`` requests,
    then the world's answer."""
    seen = [0]

    def handle(session, request) -> None:
        seen[0] += 1
        if seen[0] <= failures:
            fail(session, request)
        else:
            Script.world(session, request)

    return handle


def pacing_violation(session, request) -> None:
    session.error(request.reqId, 162, PACING_ERROR)


@pytest.mark.asyncio
async def test_a_pacing_violation_is_retried_after_a_pause(historic):
    script = Script()
    script.on(ReqHistoricalData)(answer_after(1, pacing_violation))
    with start_tws(script) as server:
        client = historic(server, pacing_backoff=0.01)
        await client.connect()
        quick_pacing(client._client)
        bars = await client.request_bars(
            ["1-HOUR-LAST"],
            end_date_time=FRIDAY_CLOSE,
            tz_name=NY,
            duration="1 D",
            instrument_ids=["AAPL.NASDAQ"],
        )
        assert len(bars) == 7
        assert script.count(ReqHistoricalData) == 2


@pytest.mark.asyncio
async def test_pacing_violations_that_go_on_are_raised(historic):
    script = Script()
    script.on(ReqHistoricalData)(answer_after(100, pacing_violation))
    with start_tws(script) as server:
        client = historic(server, pacing_backoff=0.01, max_retries=2)
        await client.connect()
        quick_pacing(client._client)
        with pytest.raises(IBPacingViolation) as raised:
            await client.request_bars(
                ["1-HOUR-LAST"],
                end_date_time=FRIDAY_CLOSE,
                tz_name=NY,
                duration="1 D",
                instrument_ids=["AAPL.NASDAQ"],
            )
        assert raised.value.code == 162
        assert script.count(ReqHistoricalData) == 3


@pytest.mark.asyncio
async def test_missing_permissions_are_raised_at_once(historic):
    def no_permissions(session, request) -> None:
        session.error(
            request.reqId,
            162,
            "Historical Market Data Service error message:No market data permissions for NASDAQ STK",
        )

    script = Script()
    script.on(ReqHistoricalData)(answer_after(100, no_permissions))
    script.on(ReqHistoricalTicks)(
        answer_after(
            100,
            lambda session, request: session.error(
                request.reqId,
                10187,
                "Failed to request historical ticks:No market data permissions for NASDAQ STK",
            ),
        ),
    )
    with start_tws(script) as server:
        client = historic(server)
        await client.connect()
        with pytest.raises(IBRequestError, match="No market data permissions") as raised:
            await client.request_bars(
                ["1-HOUR-LAST"],
                end_date_time=FRIDAY_CLOSE,
                tz_name=NY,
                duration="1 D",
                instrument_ids=["AAPL.NASDAQ"],
            )
        assert raised.value.code == 162
        with pytest.raises(IBRequestError, match="No market data permissions"):
            await client.request_ticks(
                "TRADES",
                start_date_time=dt.datetime(2026, 1, 2, 10, 0),
                end_date_time=dt.datetime(2026, 1, 2, 10, 1),
                tz_name=NY,
                instrument_ids=["AAPL.NASDAQ"],
            )
        assert script.count(ReqHistoricalData) == script.count(ReqHistoricalTicks) == 1


@pytest.mark.asyncio
async def test_delayed_data_for_symbols_without_live_permission(historic):
    # The account lacks live AAPL data: the client asks for delayed data at connect, and
    # historical requests (which live permissions do not gate here) still answer.
    with start_tws(no_live_data=("AAPL",)) as server:
        client = historic(server, market_data_type=3)
        await client.connect()
        await server.wait_for_async(received("reqMarketDataType", marketDataType=3))
        bars = await client.request_bars(
            ["1-HOUR-LAST"],
            end_date_time=FRIDAY_CLOSE,
            tz_name=NY,
            duration="1 D",
            instrument_ids=["AAPL.NASDAQ"],
        )
        assert len(bars) == 7


@pytest.mark.asyncio
async def test_a_connection_lost_mid_request_is_retried_once_reconnected(historic):
    script = Script()
    script.on(ReqHistoricalData)(answer_after(1, lambda session, request: None))
    with start_tws(script) as server:
        client = historic(server, client_id=9)
        await client.connect()
        quick_pacing(client._client)
        download = asyncio.ensure_future(
            client.request_bars(
                ["1-HOUR-LAST"],
                end_date_time=FRIDAY_CLOSE,
                tz_name=NY,
                duration="1 D",
                instrument_ids=["AAPL.NASDAQ"],
            ),
        )
        await server.wait_for_async(received("reqHistoricalData"))
        server.disconnect(9)
        bars = await asyncio.wait_for(download, 5)
        assert len(bars) == 7
        assert script.count(ReqHistoricalData) == 2
        assert len(server.journal.requests("startApi")) == 2  # it reconnected


@pytest.mark.asyncio
async def test_a_connection_that_stays_lost_is_raised(historic):
    script = Script()
    script.on(ReqHistoricalData)(lambda session, request: None)
    server = start_tws(script)
    try:
        client = historic(server, client_id=9)
        await client.connect()
        download = asyncio.ensure_future(
            client.request_bars(
                ["1-HOUR-LAST"],
                end_date_time=FRIDAY_CLOSE,
                tz_name=NY,
                duration="1 D",
                instrument_ids=["AAPL.NASDAQ"],
                timeout=1,
            ),
        )
        await server.wait_for_async(received("reqHistoricalData"))
    finally:
        server.close()  # the server is gone for good
    with pytest.raises((IBConnectionError, TimeoutError)):
        await asyncio.wait_for(download, 10)


@pytest.mark.asyncio
async def test_no_answer_in_time_raises_and_cancels_the_request(historic):
    script = Script()
    script.on(ReqHistoricalData)(lambda session, request: None)
    with start_tws(script) as server:
        client = historic(server)
        await client.connect()
        with pytest.raises(IBRequestTimeout):
            await client.request_bars(
                ["1-HOUR-LAST"],
                end_date_time=FRIDAY_CLOSE,
                tz_name=NY,
                duration="1 D",
                instrument_ids=["AAPL.NASDAQ"],
                timeout=0.3,
            )
        await server.wait_for_async(received("cancelHistoricalData"))


# -- arguments and housekeeping ----------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_date_time": dt.datetime(2026, 1, 2), "duration": "1 D"}, "not both"),
        ({"start_date_time": dt.datetime(2026, 1, 3)}, "before end"),
        ({"duration": "1D"}, "format"),
        ({}, "start_date_time or duration"),
        ({"duration": "1 D", "instrument_ids": []}, "contracts or instrument_ids"),
        ({"duration": "1 D", "bar_specifications": ["1-HOUR-MARK"]}, "no historical bars"),
    ],
)
async def test_request_bars_refuses_bad_arguments(tws, historic, kwargs, message):
    client = historic(tws)
    arguments = {
        "bar_specifications": ["1-HOUR-LAST"],
        "end_date_time": dt.datetime(2026, 1, 2, 16),
        "tz_name": NY,
        "instrument_ids": ["AAPL.NASDAQ"],
    } | kwargs
    with pytest.raises(ValueError, match=message):
        await client.request_bars(**arguments)


@pytest.mark.asyncio
async def test_request_ticks_refuses_bad_arguments(tws, historic):
    client = historic(tws)
    start, end = dt.datetime(2026, 1, 2, 10), dt.datetime(2026, 1, 2, 11)
    with pytest.raises(ValueError, match="tick_type"):
        await client.request_ticks("MIDPOINT", start, end, NY, instrument_ids=["AAPL.NASDAQ"])
    with pytest.raises(ValueError, match="before end"):
        await client.request_ticks("TRADES", end, start, NY, instrument_ids=["AAPL.NASDAQ"])
    with pytest.raises(ValueError, match="contracts or instrument_ids"):
        await client.request_ticks("TRADES", start, end, NY)


@pytest.mark.asyncio
async def test_progress_is_shown_when_asked(tws, historic, capsys):
    client = historic(tws, show_progress=True)
    await client.request_bars(
        ["1-HOUR-LAST"],
        end_date_time=FRIDAY_CLOSE,
        tz_name=NY,
        duration="1 D",
        instrument_ids=["AAPL.NASDAQ"],
    )
    assert "bars" in capsys.readouterr().err
    quiet = historic(tws, client_id=6, show_progress=None)  # not a terminal: quiet
    await quiet.request_instruments(instrument_ids=["AAPL.NASDAQ"])
    await quiet.request_bars(
        ["1-HOUR-LAST"],
        end_date_time=FRIDAY_CLOSE,
        tz_name=NY,
        duration="1 D",
        instrument_ids=["AAPL.NASDAQ"],
    )
    assert capsys.readouterr().err == ""


@pytest.mark.asyncio
async def test_several_clients_in_one_process_and_disconnecting(tws, historic):
    # Theirs initialises logging in every client, which fails for the second one.
    first, second = historic(tws, client_id=11), historic(tws, client_id=12)
    async with first, second:
        assert await first.request_instruments(instrument_ids=["AAPL.NASDAQ"])
        assert await second.request_instruments(instrument_ids=["AAPL.NASDAQ"])
        assert {11, 12} <= tws.client_ids
    deadline = time.monotonic() + 5
    while tws.client_ids & {11, 12} and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    assert not tws.client_ids & {11, 12}
