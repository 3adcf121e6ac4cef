"""Cross-checks for historical data messages against ibapi (and ib_async's decoder where
it reads a layout more strictly), at the lowest/highest versions and at layout gates."""

from decimal import Decimal

import pytest
from ib_async.objects import TagValue as AsyncTagValue
from ibapi.tag_value import TagValue as IbTagValue
from msgspec.structs import replace

from fake_tws.ibtypes.contract import ComboLeg, TagValue
from fake_tws.ibtypes.market_data import (
    BarData,
    HistogramEntry,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
)
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import historical as rq
from fake_tws.protocol.responses import historical as rs
from tests.ib_async_harness import IB_ASYNC_VERSIONS, ib_async_decode, ib_async_request
from tests.ibapi_harness import (
    HIGH,
    LOW,
    VERSIONS,
    ibapi_decode,
    ibapi_request,
    ibapi_request_payloads,
    only_call,
)
from tests.protocol.md_helpers import (
    OUR_CONTRACT,
    ib_async_contract,
    ib_async_legs,
    ib_contract,
    ib_legs,
)
from tests.protocol.object_compare import assert_fields_match

EXPIRED = replace(OUR_CONTRACT, includeExpired=True)

# ---------------------------------------------------------------------------------------
# Requests


def _req_historical_data(contract, keep_up_to_date=True):
    return lambda c: c.reqHistoricalData(
        11,
        contract,
        "20260410 16:00:00 US/Eastern",
        "2 D",
        "5 mins",
        "BID_ASK",
        1,
        2,
        keep_up_to_date,
        [IbTagValue("XYZ", "1")],
    )


@pytest.mark.parametrize("version", (LOW, 123, 124, HIGH))
def test_req_historical_data(version):
    msg = ibapi_request(version, _req_historical_data(ib_contract()))
    assert msg == rq.ReqHistoricalData(
        reqId=11,
        contract=EXPIRED,
        endDateTime="20260410 16:00:00 US/Eastern",
        durationStr="2 D",
        barSizeSetting="5 mins",
        whatToShow="BID_ASK",
        useRTH=True,
        formatDate=2,
        keepUpToDate=version >= 124,  # not on the wire before SYNT_REALTIME_BARS
        chartOptions=(TagValue("XYZ", "1"),),
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_req_historical_data_bag_legs(version):
    contract = ib_contract(secType="BAG", comboLegs=ib_legs())
    msg = ibapi_request(version, _req_historical_data(contract, keep_up_to_date=False))
    assert msg.contract == replace(
        EXPIRED,
        secType="BAG",
        comboLegs=(
            ComboLeg(conId=11, ratio=1, action="BUY", exchange="CBOE"),
            ComboLeg(conId=12, ratio=2, action="SELL", exchange="ISE"),
        ),
    )
    assert msg.keepUpToDate is False and msg.chartOptions == (TagValue("XYZ", "1"),)


@pytest.mark.parametrize("version", (LOW, HIGH))
def test_truncated_req_historical_data_names_the_missing_field(version):
    (payload,) = ibapi_request_payloads(version, _req_historical_data(ib_contract()))
    fields = payload.split(b"\0")[:-1]
    for cut in range(1, len(fields)):
        with pytest.raises(BadField):
            decode_request(b"\0".join(fields[:cut]) + b"\0", version)
    with pytest.raises(BadField) as err:
        decode_request(b"\0".join(fields[:-1]) + b"\0", version)
    assert err.value.field == "chartOptions"
    # the bar size comes before the duration on the wire (the reverse of the API order)
    end_at = fields.index(b"20260410 16:00:00 US/Eastern")
    with pytest.raises(BadField) as err:
        decode_request(b"\0".join(fields[: end_at + 1]) + b"\0", version)
    assert err.value.field == "barSizeSetting"


@pytest.mark.parametrize("version", VERSIONS)
def test_cancel_historical_data(version):
    msg = ibapi_request(version, lambda c: c.cancelHistoricalData(11))
    assert msg == rq.CancelHistoricalData(reqId=11)


@pytest.mark.parametrize("version", (123, HIGH))
def test_head_timestamp_requests(version):
    msg = ibapi_request(version, lambda c: c.reqHeadTimeStamp(12, ib_contract(), "TRADES", 1, 2))
    assert msg == rq.ReqHeadTimeStamp(
        reqId=12, contract=EXPIRED, whatToShow="TRADES", useRTH=True, formatDate=2
    )
    assert ibapi_request(version, lambda c: c.cancelHeadTimeStamp(12)) == rq.CancelHeadTimeStamp(
        reqId=12
    )


@pytest.mark.parametrize("version", (119, HIGH))
def test_histogram_requests(version):
    msg = ibapi_request(version, lambda c: c.reqHistogramData(13, ib_contract(), True, "3 days"))
    assert msg == rq.ReqHistogramData(
        tickerId=13, contract=EXPIRED, useRTH=True, timePeriod="3 days"
    )
    assert ibapi_request(version, lambda c: c.cancelHistogramData(13)) == rq.CancelHistogramData(
        tickerId=13
    )


@pytest.mark.parametrize("version", (130, HIGH))
def test_req_historical_ticks(version):
    msg = ibapi_request(
        version,
        lambda c: c.reqHistoricalTicks(
            14,
            ib_contract(),
            "20260410 09:30:00 US/Eastern",
            "",
            1000,
            "BID_ASK",
            1,
            True,
            [IbTagValue("a", "b")],
        ),
    )
    assert msg == rq.ReqHistoricalTicks(
        reqId=14,
        contract=EXPIRED,
        startDateTime="20260410 09:30:00 US/Eastern",
        endDateTime="",
        numberOfTicks=1000,
        whatToShow="BID_ASK",
        useRth=True,
        ignoreSize=True,
        miscOptions=(TagValue("a", "b"),),
    )


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_requests_as_ib_async_sends_them(version):
    options = [AsyncTagValue("XYZ", "1")]
    contract = ib_async_contract(secType="BAG", comboLegs=ib_async_legs())
    msg = ib_async_request(
        version,
        lambda c: c.reqHistoricalData(
            11, contract, "", "1 D", "1 min", "TRADES", True, 1, True, options
        ),
    )
    assert msg == rq.ReqHistoricalData(
        reqId=11,
        contract=replace(
            EXPIRED,
            secType="BAG",
            comboLegs=(
                ComboLeg(conId=11, ratio=1, action="BUY", exchange="CBOE"),
                ComboLeg(conId=12, ratio=2, action="SELL", exchange="ISE"),
            ),
        ),
        durationStr="1 D",
        barSizeSetting="1 min",
        whatToShow="TRADES",
        useRTH=True,
        formatDate=1,
        keepUpToDate=True,
        chartOptions=(TagValue("XYZ", "1"),),
    )
    msg = ib_async_request(
        version, lambda c: c.reqHeadTimeStamp(12, ib_async_contract(), "MIDPOINT", False, 2)
    )
    assert msg == rq.ReqHeadTimeStamp(
        reqId=12, contract=EXPIRED, whatToShow="MIDPOINT", formatDate=2
    )
    msg = ib_async_request(
        version, lambda c: c.reqHistogramData(13, ib_async_contract(), False, "1 week")
    )
    assert msg == rq.ReqHistogramData(tickerId=13, contract=EXPIRED, timePeriod="1 week")
    msg = ib_async_request(
        version,
        lambda c: c.reqHistoricalTicks(
            14, ib_async_contract(), "", "20260410 16:00:00", 50, "TRADES", False, False, []
        ),
    )
    assert msg == rq.ReqHistoricalTicks(
        reqId=14,
        contract=EXPIRED,
        endDateTime="20260410 16:00:00",
        numberOfTicks=50,
        whatToShow="TRADES",
    )


# ---------------------------------------------------------------------------------------
# Responses

BARS = (
    BarData(
        date="20260410 09:30:00 US/Eastern",
        open=101.0,
        high=101.5,
        low=100.75,
        close=101.25,
        volume=Decimal("12000"),
        wap=Decimal("101.125"),
        barCount=340,
    ),
    BarData(date="1775831400", open=1.5, high=2.5, low=0.5, close=2.0, barCount=-1),  # MIDPOINT
)
# What the client sees of BARS: a None volume/wap arrives as TWS's -1.
SEEN_BARS = (BARS[0], replace(BARS[1], volume=Decimal(-1), wap=Decimal(-1)))


@pytest.mark.parametrize("version", (LOW, 123, 124, HIGH))
def test_historical_data_carries_all_bars_then_the_end(version):
    msg = rs.HistoricalData(
        reqId=11,
        bars=BARS,
        start="20260409 16:00:00 US/Eastern",
        end="20260410 16:00:00 US/Eastern",
    )
    calls = ibapi_decode(msg, version)
    assert [name for name, _ in calls] == ["historicalData", "historicalData", "historicalDataEnd"]
    for (_, (req_id, bar)), ours in zip(calls[:2], SEEN_BARS, strict=True):
        assert req_id == 11
        assert_fields_match(bar, ours)
    assert calls[2][1] == (11, "20260409 16:00:00 US/Eastern", "20260410 16:00:00 US/Eastern")


@pytest.mark.parametrize("version", VERSIONS)
def test_empty_historical_data_still_ends(version):
    calls = ibapi_decode(rs.HistoricalData(reqId=11, start="a", end="b"), version)
    assert calls == [("historicalDataEnd", (11, "a", "b"))]


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_historical_data_reads_in_ib_async(version):
    calls = ib_async_decode(rs.HistoricalData(reqId=11, bars=BARS, start="s", end="e"), version)
    assert [name for name, _ in calls] == ["historicalData", "historicalData", "historicalDataEnd"]
    midpoint = calls[1][1][1]
    assert (midpoint.date, midpoint.volume, midpoint.average, midpoint.barCount) == (
        "1775831400",
        -1.0,
        -1.0,
        -1,
    )
    assert calls[2][1] == (11, "s", "e")


@pytest.mark.parametrize("version", (124, HIGH))
def test_historical_data_update(version):
    for ours, seen in zip(BARS, SEEN_BARS, strict=True):
        req_id, bar = only_call(
            ibapi_decode(rs.HistoricalDataUpdate(reqId=11, bar=ours), version),
            "historicalDataUpdate",
        )
        assert req_id == 11
        assert_fields_match(bar, seen)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_historical_data_update_in_ib_async(version):
    ((name, (req_id, bar)),) = ib_async_decode(
        rs.HistoricalDataUpdate(reqId=11, bar=BARS[0]), version
    )
    assert (name, req_id) == ("historicalDataUpdate", 11)
    assert (bar.open, bar.high, bar.low, bar.close, bar.volume, bar.average, bar.barCount) == (
        101.0,
        101.5,
        100.75,
        101.25,
        12000.0,
        101.125,
        340,
    )


@pytest.mark.parametrize("version", (118, HIGH))
def test_head_timestamp(version):
    msg = rs.HeadTimestamp(reqId=12, headTimestamp="20040123 14:30:00")
    assert only_call(ibapi_decode(msg, version), "headTimestamp") == (12, "20040123 14:30:00")


HISTOGRAM = (
    HistogramEntry(price=100.5, size=Decimal("1200.0")),
    HistogramEntry(price=101.0, size=Decimal("0.25")),
)


@pytest.mark.parametrize("version", (119, HIGH))
def test_histogram_data(version):
    req_id, items = only_call(
        ibapi_decode(rs.HistogramData(reqId=13, items=HISTOGRAM), version), "histogramData"
    )
    assert req_id == 13 and len(items) == 2
    for theirs, ours in zip(items, HISTOGRAM, strict=True):
        assert_fields_match(theirs, ours)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_whole_histogram_sizes_read_in_ib_async(version):
    # ib_async reads the size with int(): "1200.0" would lose the whole message.
    msg = rs.HistogramData(reqId=13, items=HISTOGRAM[:1])
    ((name, (req_id, items)),) = ib_async_decode(msg, version)
    assert (name, req_id, items[0].price, items[0].count) == ("histogramData", 13, 100.5, 1200)


TICKS = (
    HistoricalTick(time=1775831400, price=101.25, size=Decimal(0)),
    HistoricalTick(time=1775831401, price=101.5, size=Decimal(0)),
)
BID_ASK_TICKS = (
    HistoricalTickBidAsk(
        time=1775831400,
        pastLimitBid=True,
        priceBid=101.0,
        priceAsk=101.5,
        sizeBid=Decimal("3"),
        sizeAsk=Decimal("4.5"),
    ),
    HistoricalTickBidAsk(time=1775831401, pastLimitAsk=True, priceBid=1.0, priceAsk=2.0),
)
LAST_TICKS = (
    HistoricalTickLast(
        time=1775831400,
        unreported=True,
        price=101.25,
        size=Decimal("100"),
        exchange="ARCA",
        specialConditions="T",
    ),
    HistoricalTickLast(time=1775831401, pastLimit=True, price=101.5, size=Decimal("0.5")),
)


@pytest.mark.parametrize("version", (130, HIGH))
def test_historical_ticks(version):
    req_id, ticks, done = only_call(
        ibapi_decode(rs.HistoricalTicks(reqId=14, ticks=TICKS, done=False), version),
        "historicalTicks",
    )
    assert (req_id, done, len(ticks)) == (14, False, 2)
    for theirs, ours in zip(ticks, TICKS, strict=True):
        assert_fields_match(theirs, ours)


@pytest.mark.parametrize("version", (130, HIGH))
def test_historical_ticks_bid_ask(version):
    req_id, ticks, done = only_call(
        ibapi_decode(rs.HistoricalTicksBidAsk(reqId=14, ticks=BID_ASK_TICKS), version),
        "historicalTicksBidAsk",
    )
    assert (req_id, done, len(ticks)) == (14, True, 2)
    for theirs, ours in zip(ticks, BID_ASK_TICKS, strict=True):
        assert (theirs.time, theirs.priceBid, theirs.priceAsk) == (
            ours.time,
            ours.priceBid,
            ours.priceAsk,
        )
        assert (theirs.sizeBid, theirs.sizeAsk) == (ours.sizeBid, ours.sizeAsk)
        attrib = theirs.tickAttribBidAsk
        assert (attrib.bidPastLow, attrib.askPastHigh) == (ours.pastLimitBid, ours.pastLimitAsk)


@pytest.mark.parametrize("version", (130, HIGH))
def test_historical_ticks_last(version):
    req_id, ticks, done = only_call(
        ibapi_decode(rs.HistoricalTicksLast(reqId=14, ticks=LAST_TICKS), version),
        "historicalTicksLast",
    )
    assert (req_id, done, len(ticks)) == (14, True, 2)
    for theirs, ours in zip(ticks, LAST_TICKS, strict=True):
        assert (theirs.time, theirs.price, theirs.size) == (ours.time, ours.price, ours.size)
        assert (theirs.exchange, theirs.specialConditions) == (
            ours.exchange,
            ours.specialConditions,
        )
        attrib = theirs.tickAttribLast
        assert (attrib.pastLimit, attrib.unreported) == (ours.pastLimit, ours.unreported)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_historical_ticks_read_in_ib_async(version):
    ((name, (_, ticks, done)),) = ib_async_decode(
        rs.HistoricalTicks(reqId=14, ticks=TICKS), version
    )
    assert (name, done, [t.price for t in ticks]) == ("historicalTicks", True, [101.25, 101.5])
    ((name, (_, ticks, _)),) = ib_async_decode(
        rs.HistoricalTicksBidAsk(reqId=14, ticks=BID_ASK_TICKS), version
    )
    flags = [(t.tickAttribBidAsk.bidPastLow, t.tickAttribBidAsk.askPastHigh) for t in ticks]
    assert (name, flags) == ("historicalTicksBidAsk", [(True, False), (False, True)])
    ((name, (_, ticks, _)),) = ib_async_decode(
        rs.HistoricalTicksLast(reqId=14, ticks=LAST_TICKS), version
    )
    flags = [(t.tickAttribLast.pastLimit, t.tickAttribLast.unreported) for t in ticks]
    assert (name, flags) == ("historicalTicksLast", [(False, True), (True, False)])
    assert [t.size for t in ticks] == [100.0, 0.5]


SESSIONS = (
    HistoricalSession(
        startDateTime="20260409-09:30:00", endDateTime="20260409-16:00:00", refDate="20260409"
    ),
    HistoricalSession(
        startDateTime="20260410-09:30:00", endDateTime="20260410-16:00:00", refDate="20260410"
    ),
)


@pytest.mark.parametrize("version", (165, HIGH))
def test_historical_schedule(version):
    msg = rs.HistoricalSchedule(
        reqId=11,
        startDateTime="20260409-00:00:00",
        endDateTime="20260411-00:00:00",
        timeZone="US/Eastern",
        sessions=SESSIONS,
    )
    req_id, start, end, tz, sessions = only_call(ibapi_decode(msg, version), "historicalSchedule")
    assert (req_id, start, end, tz) == (11, "20260409-00:00:00", "20260411-00:00:00", "US/Eastern")
    assert len(sessions) == 2
    for theirs, ours in zip(sessions, SESSIONS, strict=True):
        assert_fields_match(theirs, ours)
    ((name, args),) = ib_async_decode(msg, 178)
    assert name == "historicalSchedule" and args[:4] == (req_id, start, end, tz)


FLOORED = (
    rs.HistoricalDataUpdate(reqId=1, bar=BARS[0]),
    rs.HeadTimestamp(reqId=1, headTimestamp=""),
    rs.HistogramData(reqId=1),
    rs.HistoricalTicks(reqId=1),
    rs.HistoricalTicksBidAsk(reqId=1),
    rs.HistoricalTicksLast(reqId=1),
    rs.HistoricalSchedule(reqId=1, startDateTime="", endDateTime="", timeZone=""),
)


@pytest.mark.parametrize("message", FLOORED, ids=lambda m: type(m).__name__)
def test_responses_refuse_versions_below_their_floor(message):
    assert message.min_version > LOW
    with pytest.raises(VersionTooLow):
        response_fields(message, message.min_version - 1)
    response_fields(message, message.min_version)
