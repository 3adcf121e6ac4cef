"""Cross-checks for market data messages against ibapi (and ib_async's decoder where it
reads a layout more strictly), at the lowest/highest versions and at layout gates."""

from decimal import Decimal

import pytest
from ib_async.objects import TagValue as AsyncTagValue
from ibapi.const import UNSET_DECIMAL
from ibapi.contract import DeltaNeutralContract as IbDeltaNeutralContract
from ibapi.tag_value import TagValue as IbTagValue
from msgspec.structs import replace

from fake_tws.ibtypes.contract import DeltaNeutralContract, TagValue
from fake_tws.ibtypes.market_data import (
    DepthMktDataDescription,
    PriceIncrement,
    RealTimeBar,
    SmartComponent,
    TickAttrib,
    TickAttribBidAsk,
    TickAttribLast,
)
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import market_data as rq
from fake_tws.protocol.responses import market_data as rs
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
    OUR_LEGS,
    ib_async_contract,
    ib_async_legs,
    ib_contract,
    ib_legs,
)
from tests.protocol.object_compare import assert_fields_match

# ---------------------------------------------------------------------------------------
# Requests


@pytest.mark.parametrize("version", (LOW, 113, 114, HIGH))
def test_req_mkt_data(version):
    msg = ibapi_request(
        version, lambda c: c.reqMktData(7, ib_contract(), "100,101,236", True, True, [])
    )
    assert msg == rq.ReqMktData(
        reqId=7,
        contract=OUR_CONTRACT,
        genericTickList="100,101,236",
        snapshot=True,
        regulatorySnapshot=version >= 114,  # not on the wire before REQ_SMART_COMPONENTS
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_req_mkt_data_bag_with_legs_and_delta_neutral(version):
    def call(c):
        contract = ib_contract(secType="BAG", comboLegs=ib_legs())
        dnc = IbDeltaNeutralContract()
        dnc.conId, dnc.delta, dnc.price = 99, 0.45, 12.25
        contract.deltaNeutralContract = dnc
        c.reqMktData(8, contract, "", False, False, [])

    msg = ibapi_request(version, call)
    assert msg.contract == replace(
        OUR_CONTRACT,
        secType="BAG",
        comboLegs=OUR_LEGS,
        deltaNeutralContract=DeltaNeutralContract(conId=99, delta=0.45, price=12.25),
    )
    assert (msg.reqId, msg.snapshot, msg.regulatorySnapshot) == (8, False, False)


def test_req_mkt_data_options_string_is_parsed():
    # ibapi refuses non-empty mktDataOptions; ib_async sends them as "tag=value;..."
    (payload,) = ibapi_request_payloads(
        HIGH, lambda c: c.reqMktData(1, ib_contract(), "", 0, 0, [])
    )
    fields = payload.split(b"\0")[:-1]
    assert fields[-1] == b""
    fields[-1] = b"XYZ=1;abc=x=y;"
    msg = decode_request(b"\0".join(fields) + b"\0", HIGH)
    assert msg.mktDataOptions == (TagValue("XYZ", "1"), TagValue("abc", "x=y"))


def test_truncated_req_mkt_data_names_the_missing_field():
    (payload,) = ibapi_request_payloads(
        HIGH,
        lambda c: c.reqMktData(1, ib_contract(secType="BAG", comboLegs=ib_legs()), "", 1, 0, []),
    )
    fields = payload.split(b"\0")[:-1]
    for cut in range(1, len(fields)):
        with pytest.raises(BadField):
            decode_request(b"\0".join(fields[:cut]) + b"\0", HIGH)
    # id, version, reqId, 12 contract fields, legs count, leg 0 (4), leg 1 conId...
    with pytest.raises(BadField) as err:
        decode_request(b"\0".join(fields[:21]) + b"\0", HIGH)
    assert err.value.field == "comboLegs[1].ratio"
    with pytest.raises(BadField) as err:
        decode_request(b"\0".join(fields[:-2]) + b"\0", HIGH)
    assert err.value.field == "regulatorySnapshot"


@pytest.mark.parametrize("version", VERSIONS)
def test_simple_cancels(version):
    assert ibapi_request(version, lambda c: c.cancelMktData(7)) == rq.CancelMktData(reqId=7)
    assert ibapi_request(version, lambda c: c.cancelRealTimeBars(9)) == rq.CancelRealTimeBars(
        reqId=9
    )
    assert ibapi_request(
        version, lambda c: c.cancelCalculateImpliedVolatility(4)
    ) == rq.CancelCalculateImpliedVolatility(reqId=4)
    assert ibapi_request(
        version, lambda c: c.cancelCalculateOptionPrice(5)
    ) == rq.CancelCalculateOptionPrice(reqId=5)


@pytest.mark.parametrize("version", (LOW, 146, 149, HIGH))
def test_req_mkt_depth(version):
    smart = version >= 146  # ibapi refuses SMART depth before SMART_DEPTH
    primary = "GLOBEX" if version >= 149 else ""  # ... and primaryExchange before 149
    msg = ibapi_request(
        version,
        lambda c: c.reqMktDepth(3, ib_contract(primaryExchange=primary), 10, smart, []),
    )
    assert msg == rq.ReqMktDepth(
        reqId=3,
        contract=replace(OUR_CONTRACT, primaryExchange=primary),
        numRows=10,
        isSmartDepth=smart,
    )


@pytest.mark.parametrize("version", (LOW, 146, HIGH))
def test_cancel_mkt_depth(version):
    smart = version >= 146
    msg = ibapi_request(version, lambda c: c.cancelMktDepth(3, smart))
    assert msg == rq.CancelMktDepth(reqId=3, isSmartDepth=smart)


@pytest.mark.parametrize("version", VERSIONS)
def test_req_real_time_bars(version):
    msg = ibapi_request(
        version,
        lambda c: c.reqRealTimeBars(
            4, ib_contract(), 5, "MIDPOINT", True, [IbTagValue("XYZ", "1")]
        ),
    )
    assert msg == rq.ReqRealTimeBars(
        reqId=4,
        contract=OUR_CONTRACT,
        barSize=5,
        whatToShow="MIDPOINT",
        useRTH=True,
        realTimeBarsOptions=(TagValue("XYZ", "1"),),
    )


@pytest.mark.parametrize("version", (140, HIGH))
@pytest.mark.parametrize("tick_type", ("Last", "AllLast", "BidAsk", "MidPoint"))
def test_req_tick_by_tick_data(version, tick_type):
    msg = ibapi_request(
        version, lambda c: c.reqTickByTickData(6, ib_contract(), tick_type, 25, True)
    )
    assert msg == rq.ReqTickByTickData(
        reqId=6, contract=OUR_CONTRACT, tickType=tick_type, numberOfTicks=25, ignoreSize=True
    )


def test_req_tick_by_tick_data_before_ignore_size():
    # ibapi will not send at 137..139; other clients send the layout without the last two.
    (payload,) = ibapi_request_payloads(
        140, lambda c: c.reqTickByTickData(6, ib_contract(), "Last", 0, False)
    )
    fields = payload.split(b"\0")[:-1][:-2]
    msg = decode_request(b"\0".join(fields) + b"\0", 137)
    assert msg == rq.ReqTickByTickData(reqId=6, contract=OUR_CONTRACT, tickType="Last")


@pytest.mark.parametrize("version", (137, HIGH))
def test_cancel_tick_by_tick_data(version):
    msg = ibapi_request(version, lambda c: c.cancelTickByTickData(6))
    assert msg == rq.CancelTickByTickData(reqId=6)


@pytest.mark.parametrize("version", (126, HIGH))
def test_small_lookups(version):
    assert ibapi_request(version, lambda c: c.reqMktDepthExchanges()) == rq.ReqMktDepthExchanges()
    assert ibapi_request(
        version, lambda c: c.reqSmartComponents(12, "a6")
    ) == rq.ReqSmartComponents(reqId=12, bboExchange="a6")
    assert ibapi_request(version, lambda c: c.reqMarketRule(26)) == rq.ReqMarketRule(
        marketRuleId=26
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_option_calculations(version):
    options = [IbTagValue("a", "1"), IbTagValue("b", "2")]
    ours = (TagValue("a", "1"), TagValue("b", "2"))
    msg = ibapi_request(
        version, lambda c: c.calculateImpliedVolatility(5, ib_contract(), 12.5, 5130.25, options)
    )
    assert msg == rq.CalculateImpliedVolatility(
        reqId=5, contract=OUR_CONTRACT, optionPrice=12.5, underPrice=5130.25, implVolOptions=ours
    )
    msg = ibapi_request(
        version, lambda c: c.calculateOptionPrice(6, ib_contract(), 0.22, 5130.25, options)
    )
    assert msg == rq.CalculateOptionPrice(
        reqId=6, contract=OUR_CONTRACT, volatility=0.22, underPrice=5130.25, optPrcOptions=ours
    )


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_requests_as_ib_async_sends_them(version):
    options = [AsyncTagValue("a", "1")]
    ours = (TagValue("a", "1"),)
    msg = ib_async_request(
        version,
        lambda c: c.reqMktData(
            7,
            ib_async_contract(secType="BAG", comboLegs=ib_async_legs()),
            "233",
            True,
            True,
            options,
        ),
    )
    assert msg == rq.ReqMktData(
        reqId=7,
        contract=replace(OUR_CONTRACT, secType="BAG", comboLegs=OUR_LEGS),
        genericTickList="233",
        snapshot=True,
        regulatorySnapshot=True,
        mktDataOptions=ours,
    )
    msg = ib_async_request(version, lambda c: c.reqMktDepth(3, ib_async_contract(), 5, True, []))
    assert msg == rq.ReqMktDepth(reqId=3, contract=OUR_CONTRACT, numRows=5, isSmartDepth=True)
    msg = ib_async_request(version, lambda c: c.cancelMktDepth(3, True))
    assert msg == rq.CancelMktDepth(reqId=3, isSmartDepth=True)
    msg = ib_async_request(
        version, lambda c: c.reqRealTimeBars(4, ib_async_contract(), 5, "TRADES", False, options)
    )
    assert msg == rq.ReqRealTimeBars(
        reqId=4, contract=OUR_CONTRACT, whatToShow="TRADES", realTimeBarsOptions=ours
    )
    msg = ib_async_request(
        version, lambda c: c.reqTickByTickData(6, ib_async_contract(), "BidAsk", 0, True)
    )
    assert msg == rq.ReqTickByTickData(
        reqId=6, contract=OUR_CONTRACT, tickType="BidAsk", ignoreSize=True
    )
    msg = ib_async_request(
        version, lambda c: c.calculateImpliedVolatility(5, ib_async_contract(), 12.5, 99.0, options)
    )
    assert msg == rq.CalculateImpliedVolatility(
        reqId=5, contract=OUR_CONTRACT, optionPrice=12.5, underPrice=99.0, implVolOptions=ours
    )
    msg = ib_async_request(
        version, lambda c: c.calculateOptionPrice(5, ib_async_contract(), 0.2, 99.0, [])
    )
    assert msg == rq.CalculateOptionPrice(
        reqId=5, contract=OUR_CONTRACT, volatility=0.2, underPrice=99.0
    )


# ---------------------------------------------------------------------------------------
# Responses: top of book

ALL_ATTRIBS = TickAttrib(canAutoExecute=True, pastLimit=True, preOpen=True)


@pytest.mark.parametrize(
    ("version", "expected"),
    (
        (LOW, TickAttrib(canAutoExecute=True)),
        (109, TickAttrib(canAutoExecute=True, pastLimit=True)),
        (131, TickAttrib(canAutoExecute=True, pastLimit=True)),
        (132, ALL_ATTRIBS),
        (HIGH, ALL_ATTRIBS),
    ),
)
def test_tick_price_attribs_by_version_and_paired_size(version, expected):
    calls = ibapi_decode(
        rs.TickPrice(reqId=3, tickType=1, price=101.25, size=Decimal("300"), attrib=ALL_ATTRIBS),
        version,
    )
    assert [name for name, _ in calls] == ["tickPrice", "tickSize"]
    req_id, tick_type, price, attrib = calls[0][1]
    assert (req_id, tick_type, price) == (3, 1, 101.25)
    assert_fields_match(attrib, expected)
    assert calls[1][1] == (3, 0, Decimal("300"))  # BID -> BID_SIZE


def test_tick_price_before_past_limit_sends_only_can_auto_execute():
    attrib = TickAttrib(pastLimit=True, preOpen=True)
    (_, _, _, got) = only_call(
        ibapi_decode(rs.TickPrice(reqId=1, tickType=9, price=1.0, attrib=attrib), LOW), "tickPrice"
    )
    assert_fields_match(got, TickAttrib())


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("tick_type", "size_type"), ((2, 3), (4, 5), (66, 69), (67, 70), (68, 71), (9, None))
)
def test_tick_price_pairs_sizes_as_documented(version, tick_type, size_type):
    calls = ibapi_decode(rs.TickPrice(reqId=2, tickType=tick_type, price=5.5), version)
    sizes = [args for name, args in calls if name == "tickSize"]
    if size_type is None:
        assert sizes == [] and tick_type not in rs.SIZE_TICK_FOR_PRICE_TICK
    else:
        assert sizes == [(2, size_type, UNSET_DECIMAL)]  # None size -> unset
        assert rs.SIZE_TICK_FOR_PRICE_TICK[tick_type] == size_type


@pytest.mark.parametrize("version", VERSIONS)
def test_simple_ticks(version):
    assert only_call(
        ibapi_decode(rs.TickSize(reqId=3, tickType=8, size=Decimal("1234.5")), version), "tickSize"
    ) == (3, 8, Decimal("1234.5"))
    assert only_call(
        ibapi_decode(rs.TickGeneric(reqId=3, tickType=49, value=1.0), version), "tickGeneric"
    ) == (3, 49, 1.0)
    assert only_call(
        ibapi_decode(rs.TickString(reqId=3, tickType=45, value="1775931128"), version),
        "tickString",
    ) == (3, 45, "1775931128")
    assert only_call(ibapi_decode(rs.TickSnapshotEnd(reqId=3), version), "tickSnapshotEnd") == (3,)
    efp = rs.TickEFP(
        reqId=3,
        tickType=38,
        basisPoints=12.5,
        formattedBasisPoints="12.5 bp",
        totalDividends=1.75,
        holdDays=30,
        futureLastTradeDate="20260320",
        dividendImpact=0.25,
        dividendsToLastTradeDate=0.5,
    )
    assert only_call(ibapi_decode(efp, version), "tickEFP") == (
        3,
        38,
        12.5,
        "12.5 bp",
        1.75,
        30,
        "20260320",
        0.25,
        0.5,
    )


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_top_of_book_reads_in_ib_async(version):
    calls = ib_async_decode(
        rs.TickPrice(reqId=3, tickType=1, price=101.25, size=Decimal(300)), version
    )
    assert calls == [("priceSizeTick", (3, 1, 101.25, 300.0))]
    calls = ib_async_decode(rs.TickPrice(reqId=3, tickType=1, price=101.25), version)
    assert calls == [("priceSizeTick", (3, 1, 101.25, 0.0))]
    assert ib_async_decode(rs.TickSize(reqId=3, tickType=0, size=Decimal(7)), version) == [
        ("tickSize", (3, 0, 7.0))
    ]
    assert ib_async_decode(
        rs.TickReqParams(tickerId=3, minTick=0.25, bboExchange="a6", snapshotPermissions=3), version
    ) == [("tickReqParams", (3, 0.25, "a6", 3))]


OPTION_VALUES = dict(
    impliedVol=0.21,
    delta=0.55,
    optPrice=12.5,
    pvDividend=0.1,
    gamma=0.02,
    vega=0.3,
    theta=-0.05,
    undPrice=5130.25,
)


@pytest.mark.parametrize("version", (LOW, 155, 156, HIGH))
def test_tick_option_computation(version):
    msg = rs.TickOptionComputation(reqId=4, tickType=13, tickAttrib=1, **OPTION_VALUES)
    args = only_call(ibapi_decode(msg, version), "tickOptionComputation")
    attrib = 1 if version >= 156 else None  # ibapi has no tickAttrib before 156
    assert args == (4, 13, attrib, *OPTION_VALUES.values())


@pytest.mark.parametrize("version", VERSIONS)
def test_tick_option_computation_not_computed_sentinels(version):
    args = only_call(
        ibapi_decode(rs.TickOptionComputation(reqId=4, tickType=10), version),
        "tickOptionComputation",
    )
    assert args[3:] == (None,) * 8


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_tick_option_computation_in_ib_async(version):
    calls = ib_async_decode(rs.TickOptionComputation(reqId=4, tickType=13, gamma=0.02), version)
    assert calls == [
        ("tickOptionComputation", (4, 13, 0, -1.0, -2.0, -1.0, -1.0, 0.02, -2.0, -2.0, -1.0))
    ]


@pytest.mark.parametrize("version", (114, HIGH))
def test_tick_req_params(version):
    msg = rs.TickReqParams(tickerId=5, minTick=0.01, bboExchange="9c0001", snapshotPermissions=3)
    assert only_call(ibapi_decode(msg, version), "tickReqParams") == (5, 0.01, "9c0001", 3)


@pytest.mark.parametrize("version", (113, HIGH))
def test_tick_news(version):
    msg = rs.TickNews(
        tickerId=5,
        timeStamp=1775931128000,
        providerCode="BRFG",
        articleId="BRFG$1a2b",
        headline="Stocks rally",
        extraData="A:800015:L:en:K:n/a:C:0.9",
    )
    assert only_call(ibapi_decode(msg, version), "tickNews") == (
        5,
        1775931128000,
        "BRFG",
        "BRFG$1a2b",
        "Stocks rally",
        "A:800015:L:en:K:n/a:C:0.9",
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_delta_neutral_validation(version):
    dnc = DeltaNeutralContract(conId=99, delta=0.45, price=12.25)
    req_id, got = only_call(
        ibapi_decode(rs.DeltaNeutralValidation(reqId=6, deltaNeutralContract=dnc), version),
        "deltaNeutralValidation",
    )
    assert req_id == 6
    assert_fields_match(got, dnc)


@pytest.mark.parametrize("version", (125, HIGH))
def test_reroutes(version):
    assert only_call(
        ibapi_decode(rs.RerouteMktDataReq(reqId=1, conId=42, exchange="IDEALPRO"), version),
        "rerouteMktDataReq",
    ) == (1, 42, "IDEALPRO")
    assert only_call(
        ibapi_decode(rs.RerouteMktDepthReq(reqId=2, conId=43, exchange="SMART"), version),
        "rerouteMktDepthReq",
    ) == (2, 43, "SMART")


# ---------------------------------------------------------------------------------------
# Responses: depth


@pytest.mark.parametrize("version", VERSIONS)
def test_update_mkt_depth(version):
    msg = rs.UpdateMktDepth(
        reqId=3, position=2, operation=1, side=0, price=101.5, size=Decimal("200")
    )
    assert only_call(ibapi_decode(msg, version), "updateMktDepth") == (
        3,
        2,
        1,
        0,
        101.5,
        Decimal("200"),
    )


@pytest.mark.parametrize("version", (LOW, 146, HIGH))
def test_update_mkt_depth_l2(version):
    msg = rs.UpdateMktDepthL2(
        reqId=3,
        position=1,
        marketMaker="ARCA",
        operation=0,
        side=1,
        price=101.25,
        size=Decimal("0.5"),
        isSmartDepth=True,
    )
    assert only_call(ibapi_decode(msg, version), "updateMktDepthL2") == (
        3,
        1,
        "ARCA",
        0,
        1,
        101.25,
        Decimal("0.5"),
        version >= 146,
    )


DESCRIPTIONS = (
    DepthMktDataDescription(
        exchange="ARCA", secType="STK", listingExch="NYSE", serviceDataType="Deep2", aggGroup=1
    ),
    DepthMktDataDescription(exchange="CME", secType="FUT", listingExch="", serviceDataType="Deep"),
)


@pytest.mark.parametrize("version", (112, 119, 120, HIGH))
def test_mkt_depth_exchanges(version):
    (got,) = only_call(
        ibapi_decode(rs.MktDepthExchanges(depthMktDataDescriptions=DESCRIPTIONS), version),
        "mktDepthExchanges",
    )
    if version >= 120:
        expected = DESCRIPTIONS
    else:  # only exchange and secType reach the client
        expected = tuple(
            DepthMktDataDescription(exchange=d.exchange, secType=d.secType) for d in DESCRIPTIONS
        )
    assert len(got) == 2
    for theirs, ours in zip(got, expected, strict=True):
        assert_fields_match(theirs, ours)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_mkt_depth_exchanges_unset_agg_group_reads_in_ib_async(version):
    ((name, (got,)),) = ib_async_decode(
        rs.MktDepthExchanges(depthMktDataDescriptions=DESCRIPTIONS), version
    )
    assert name == "mktDepthExchanges"
    assert [(d.exchange, d.aggGroup) for d in got] == [("ARCA", 1), ("CME", 2147483647)]


@pytest.mark.parametrize("version", (114, HIGH))
def test_smart_components(version):
    comps = (
        SmartComponent(bitNumber=1, exchange="ARCA", exchangeLetter="P"),
        SmartComponent(bitNumber=4, exchange="NYSE", exchangeLetter="N"),
    )
    req_id, got = only_call(
        ibapi_decode(rs.SmartComponents(reqId=8, smartComponentMap=comps), version),
        "smartComponents",
    )
    assert req_id == 8 and len(got) == 2
    for theirs, ours in zip(got, comps, strict=True):
        assert_fields_match(theirs, ours)


@pytest.mark.parametrize("version", (126, HIGH))
def test_market_rule(version):
    incs = (
        PriceIncrement(lowEdge=0.0, increment=0.01),
        PriceIncrement(lowEdge=1000.0, increment=0.05),
    )
    rule_id, got = only_call(
        ibapi_decode(rs.MarketRule(marketRuleId=26, priceIncrements=incs), version), "marketRule"
    )
    assert rule_id == 26 and len(got) == 2
    for theirs, ours in zip(got, incs, strict=True):
        assert_fields_match(theirs, ours)


# ---------------------------------------------------------------------------------------
# Responses: real-time bars and tick-by-tick


@pytest.mark.parametrize("version", VERSIONS)
def test_realtime_bar(version):
    bar = RealTimeBar(
        time=1775931125,
        open=101.0,
        high=101.5,
        low=100.75,
        close=101.25,
        volume=Decimal("1200"),
        wap=Decimal("101.1"),
        count=37,
    )
    assert only_call(ibapi_decode(rs.RealtimeBar(reqId=4, bar=bar), version), "realtimeBar") == (
        4,
        1775931125,
        101.0,
        101.5,
        100.75,
        101.25,
        Decimal("1200"),
        Decimal("101.1"),
        37,
    )
    midpoint = RealTimeBar(time=1775931130, open=1.0, high=1.0, low=1.0, close=1.0, count=-1)
    args = only_call(ibapi_decode(rs.RealtimeBar(reqId=4, bar=midpoint), version), "realtimeBar")
    assert args[6:] == (Decimal(-1), Decimal(-1), -1)  # TWS's "no volume"


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_realtime_bar_in_ib_async(version):
    bar = RealTimeBar(time=1775931130, open=1.0, high=2.0, low=0.5, close=1.5, volume=Decimal(3))
    assert ib_async_decode(rs.RealtimeBar(reqId=4, bar=bar), version) == [
        ("realtimeBar", (4, 1775931130, 1.0, 2.0, 0.5, 1.5, 3.0, -1.0, 0))
    ]


@pytest.mark.parametrize("version", (137, HIGH))
@pytest.mark.parametrize("tick_type", (1, 2))
def test_tick_by_tick_all_last(version, tick_type):
    msg = rs.TickByTickAllLast(
        reqId=6,
        tickType=tick_type,
        time=1775931128,
        price=101.25,
        size=Decimal("15"),
        tickAttribLast=TickAttribLast(pastLimit=False, unreported=True),
        exchange="ARCA",
        specialConditions="T I",
    )
    args = only_call(ibapi_decode(msg, version), "tickByTickAllLast")
    assert args[:5] == (6, tick_type, 1775931128, 101.25, Decimal("15"))
    assert_fields_match(args[5], msg.tickAttribLast)
    assert args[6:] == ("ARCA", "T I")


def test_tick_by_tick_all_last_refuses_other_tick_types():
    with pytest.raises(ValueError, match="1 or 2"):
        response_fields(
            rs.TickByTickAllLast(reqId=1, tickType=3, time=0, price=1.0, size=Decimal(1)), HIGH
        )


@pytest.mark.parametrize("version", (137, HIGH))
@pytest.mark.parametrize(
    "attrib", (TickAttribBidAsk(bidPastLow=True), TickAttribBidAsk(askPastHigh=True))
)
def test_tick_by_tick_bid_ask(version, attrib):
    msg = rs.TickByTickBidAsk(
        reqId=6,
        time=1775931128,
        bidPrice=101.0,
        askPrice=101.5,
        bidSize=Decimal("3"),
        askSize=Decimal("4"),
        tickAttribBidAsk=attrib,
    )
    args = only_call(ibapi_decode(msg, version), "tickByTickBidAsk")
    assert args[:6] == (6, 1775931128, 101.0, 101.5, Decimal("3"), Decimal("4"))
    assert_fields_match(args[6], attrib)


@pytest.mark.parametrize("version", (137, HIGH))
def test_tick_by_tick_mid_point(version):
    msg = rs.TickByTickMidPoint(reqId=6, time=1775931128, midPoint=101.25)
    assert only_call(ibapi_decode(msg, version), "tickByTickMidPoint") == (6, 1775931128, 101.25)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_tick_by_tick_in_ib_async(version):
    calls = ib_async_decode(
        rs.TickByTickAllLast(
            reqId=6,
            tickType=2,
            time=5,
            price=1.5,
            size=Decimal(2),
            tickAttribLast=TickAttribLast(pastLimit=True),
        ),
        version,
    )
    ((name, args),) = calls
    assert name == "tickByTickAllLast" and args[:5] == (6, 2, 5, 1.5, 2.0) and args[5].pastLimit
    calls = ib_async_decode(
        rs.TickByTickBidAsk(
            reqId=6,
            time=5,
            bidPrice=1.0,
            askPrice=2.0,
            bidSize=Decimal(3),
            askSize=Decimal(4),
            tickAttribBidAsk=TickAttribBidAsk(askPastHigh=True),
        ),
        version,
    )
    ((name, args),) = calls
    assert name == "tickByTickBidAsk" and args[:6] == (6, 5, 1.0, 2.0, 3.0, 4.0)
    assert args[6].askPastHigh and not args[6].bidPastLow
    assert ib_async_decode(rs.TickByTickMidPoint(reqId=6, time=5, midPoint=1.5), version) == [
        ("tickByTickMidPoint", (6, 5, 1.5))
    ]


# ---------------------------------------------------------------------------------------
# Version floors

FLOORED = (
    rs.TickReqParams(tickerId=1, minTick=0.01),
    rs.TickNews(tickerId=1, timeStamp=0, providerCode="", articleId="", headline=""),
    rs.RerouteMktDataReq(reqId=1, conId=1, exchange=""),
    rs.RerouteMktDepthReq(reqId=1, conId=1, exchange=""),
    rs.MktDepthExchanges(),
    rs.SmartComponents(reqId=1),
    rs.MarketRule(marketRuleId=1),
    rs.TickByTickAllLast(reqId=1, time=0, price=1.0, size=Decimal(1)),
    rs.TickByTickBidAsk(
        reqId=1, time=0, bidPrice=1.0, askPrice=1.0, bidSize=Decimal(1), askSize=Decimal(1)
    ),
    rs.TickByTickMidPoint(reqId=1, time=0, midPoint=1.0),
)


@pytest.mark.parametrize("message", FLOORED, ids=lambda m: type(m).__name__)
def test_responses_refuse_versions_below_their_floor(message):
    assert message.min_version > LOW
    with pytest.raises(VersionTooLow):
        response_fields(message, message.min_version - 1)
    response_fields(message, message.min_version)
