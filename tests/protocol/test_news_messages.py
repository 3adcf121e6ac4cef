"""Cross-checks for news, bulletins, scanners, fundamentals and the WSH calendar against
ibapi, and against ib_async (its decoder, and its own request encoder) in its range."""

from __future__ import annotations

import pytest
from ib_async import objects as ia
from ibapi.common import WshEventData as IbWshEventData
from ibapi.scanner import ScannerSubscription as IbScannerSubscription

from fake_tws.ibtypes import Contract, ContractDetails, TagValue
from fake_tws.ibtypes.misc import NewsProvider, ScanData, ScannerSubscription, WshEventData
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import news as rq
from fake_tws.protocol.responses import news as rs
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
from tests.protocol.object_compare import assert_fields_match, assert_value, to_ib_async, to_ibapi

# ---------------------------------------------------------------- simple requests

_SIMPLE_REQUESTS = [
    (lambda c: c.reqNewsBulletins(True), rq.ReqNewsBulletins(allMsgs=True), LOW),
    (lambda c: c.cancelNewsBulletins(), rq.CancelNewsBulletins(), LOW),
    (lambda c: c.reqNewsProviders(), rq.ReqNewsProviders(), V.REQ_NEWS_PROVIDERS),
    (lambda c: c.cancelScannerSubscription(12), rq.CancelScannerSubscription(reqId=12), LOW),
    (lambda c: c.reqScannerParameters(), rq.ReqScannerParameters(), LOW),
    (lambda c: c.cancelFundamentalData(13), rq.CancelFundamentalData(reqId=13), LOW),
    (lambda c: c.reqWshMetaData(14), rq.ReqWshMetaData(reqId=14), V.WSHE_CALENDAR),
    (lambda c: c.cancelWshMetaData(14), rq.CancelWshMetaData(reqId=14), V.WSHE_CALENDAR),
    (lambda c: c.cancelWshEventData(15), rq.CancelWshEventData(reqId=15), V.WSHE_CALENDAR),
]


@pytest.mark.parametrize(
    ("version", "call", "expected"),
    [
        pytest.param(version, call, expected, id=f"{expected.api_name}-{version}")
        for call, expected, first in _SIMPLE_REQUESTS
        for version in sorted({first, HIGH})
    ],
)
def test_simple_news_requests_decode_as_ibapi_meant(version, call, expected):
    assert ibapi_request(version, call) == expected


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_simple_news_requests_decode_as_ib_async_meant(version):
    for call, expected, first in _SIMPLE_REQUESTS:
        if version >= first:
            assert ib_async_request(version, call) == expected


# ---------------------------------------------------------------- news


_OPTIONS = (TagValue("origin", "api"), TagValue("lang", "en"))


@pytest.mark.parametrize(
    "version", [V.REQ_NEWS_ARTICLE, V.NEWS_QUERY_ORIGINS - 1, V.NEWS_QUERY_ORIGINS, HIGH]
)
def test_req_news_article(version):
    got = ibapi_request(
        version, lambda c: c.reqNewsArticle(10, "BRFG", "BRFG$0a1b2c", to_ibapi(_OPTIONS))
    )
    options = _OPTIONS if version >= V.NEWS_QUERY_ORIGINS else ()
    assert got == rq.ReqNewsArticle(
        reqId=10, providerCode="BRFG", articleId="BRFG$0a1b2c", newsArticleOptions=options
    )


_HISTORICAL_NEWS_ARGS = (
    11,
    8314,
    "BRFG+DJNL",
    "2025-01-01 00:00:00.0",
    "2025-01-02 00:00:00.0",
    10,
)


@pytest.mark.parametrize("version", [V.REQ_HISTORICAL_NEWS, V.NEWS_QUERY_ORIGINS, HIGH])
def test_req_historical_news(version):
    got = ibapi_request(
        version, lambda c: c.reqHistoricalNews(*_HISTORICAL_NEWS_ARGS, to_ibapi(_OPTIONS))
    )
    # ibapi never sends the options: it loops over the (empty) string it is building
    # instead of over the option list, so the field is always empty.
    assert got == rq.ReqHistoricalNews(
        reqId=11,
        conId=8314,
        providerCodes="BRFG+DJNL",
        startDateTime="2025-01-01 00:00:00.0",
        endDateTime="2025-01-02 00:00:00.0",
        totalResults=10,
    )


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_news_requests_with_options_from_ib_async(version):
    ib_options = to_ib_async(_OPTIONS)
    got = ib_async_request(
        version, lambda c: c.reqHistoricalNews(*_HISTORICAL_NEWS_ARGS, ib_options)
    )
    assert got.historicalNewsOptions == _OPTIONS
    assert got.totalResults == 10
    got = ib_async_request(version, lambda c: c.reqNewsArticle(10, "BRFG", "A1", ib_options))
    assert got == rq.ReqNewsArticle(
        reqId=10, providerCode="BRFG", articleId="A1", newsArticleOptions=_OPTIONS
    )


def test_malformed_tag_value_list_is_a_bad_field():
    payload = b"\0".join([b"84", b"10", b"BRFG", b"A1", b"origin-api;"]) + b"\0"
    with pytest.raises(BadField) as err:
        decode_request(payload, HIGH)
    assert (err.value.message, err.value.field) == ("reqNewsArticle", "newsArticleOptions")
    assert err.value.index == 4


# ---------------------------------------------------------------- scanner


_SUBSCRIPTION = ScannerSubscription(
    numberOfRows=25,
    instrument="STK",
    locationCode="STK.US.MAJOR",
    scanCode="TOP_PERC_GAIN",
    abovePrice=5.5,
    belowPrice=500.25,
    aboveVolume=100000,
    marketCapAbove=1e9,
    marketCapBelow=2.5e12,
    moodyRatingAbove="Baa1",
    moodyRatingBelow="Aaa",
    spRatingAbove="BBB",
    spRatingBelow="AAA",
    maturityDateAbove="20260101",
    maturityDateBelow="20300101",
    couponRateAbove=1.5,
    couponRateBelow=7.25,
    excludeConvertible=True,
    averageOptionVolumeAbove=5000,
    scannerSettingPairs="Annual,true",
    stockTypeFilter="CORP",
)
_FILTERS = (TagValue("priceAbove", "5"), TagValue("marketCapAbove1e6", "1000"))


@pytest.mark.parametrize("version", [LOW, V.SCANNER_GENERIC_OPTS - 1, V.SCANNER_GENERIC_OPTS, HIGH])
def test_req_scanner_subscription_reads_every_filter(version):
    filters = _FILTERS if version >= V.SCANNER_GENERIC_OPTS else ()
    got = ibapi_request(
        version,
        lambda c: c.reqScannerSubscription(
            12,
            to_ibapi(_SUBSCRIPTION),
            to_ibapi(_OPTIONS),
            to_ibapi(filters) if filters else None,
        ),
    )
    assert got == rq.ReqScannerSubscription(
        reqId=12,
        subscription=_SUBSCRIPTION,
        scannerSubscriptionOptions=_OPTIONS,
        scannerSubscriptionFilterOptions=filters,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_unset_scanner_filters_read_as_none(version):
    got = ibapi_request(
        version, lambda c: c.reqScannerSubscription(12, IbScannerSubscription(), [], None)
    )
    assert got == rq.ReqScannerSubscription(reqId=12, subscription=ScannerSubscription())


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_req_scanner_subscription_from_ib_async(version):
    got = ib_async_request(
        version,
        lambda c: c.reqScannerSubscription(
            12, to_ib_async(_SUBSCRIPTION), to_ib_async(_OPTIONS), to_ib_async(_FILTERS)
        ),
    )
    assert got == rq.ReqScannerSubscription(
        reqId=12,
        subscription=_SUBSCRIPTION,
        scannerSubscriptionOptions=_OPTIONS,
        scannerSubscriptionFilterOptions=_FILTERS,
    )
    unset = ib_async_request(
        version, lambda c: c.reqScannerSubscription(12, ia.ScannerSubscription(), [], [])
    )
    assert unset.subscription == ScannerSubscription()


def test_truncated_scanner_subscription_names_the_missing_field():
    (payload,) = ibapi_request_payloads(
        HIGH,
        lambda c: c.reqScannerSubscription(12, to_ibapi(_SUBSCRIPTION), [], None),
    )
    cut = b"\0".join(payload.split(b"\0")[:6]) + b"\0"  # id, reqId, rows, instr, loc, scan
    with pytest.raises(BadField) as err:
        decode_request(cut, HIGH)
    assert (err.value.message, err.value.field) == ("reqScannerSubscription", "abovePrice")


# ---------------------------------------------------------------- fundamentals

_FUND_CONTRACT = Contract(
    conId=8314,
    symbol="IBM",
    secType="STK",
    exchange="SMART",
    primaryExchange="NYSE",
    currency="USD",
    localSymbol="IBM",
)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("options", [_OPTIONS, ()], ids=["options", "none"])
def test_req_fundamental_data(version, options):
    got = ibapi_request(
        version,
        lambda c: c.reqFundamentalData(
            13, to_ibapi(_FUND_CONTRACT), "ReportSnapshot", to_ibapi(options)
        ),
    )
    assert got == rq.ReqFundamentalData(
        reqId=13,
        contract=_FUND_CONTRACT,
        reportType="ReportSnapshot",
        fundamentalDataOptions=options,
    )


# ---------------------------------------------------------------- WSH calendar

_WSH = WshEventData(
    conId=8314,
    filter='{"watchlist":["8314"]}',
    fillWatchlist=True,
    fillPortfolio=True,
    fillCompetitors=True,
    startDate="20260101",
    endDate="20261231",
    totalLimit=50,
)


def _wsh_carried(version: int) -> WshEventData:
    fields = {"conId": _WSH.conId}
    if version >= V.WSH_EVENT_DATA_FILTERS:
        fields.update(
            filter=_WSH.filter,
            fillWatchlist=True,
            fillPortfolio=True,
            fillCompetitors=True,
        )
    if version >= V.WSH_EVENT_DATA_FILTERS_DATE:
        fields.update(startDate=_WSH.startDate, endDate=_WSH.endDate, totalLimit=_WSH.totalLimit)
    return WshEventData(**fields)


@pytest.mark.parametrize(
    "version",
    [
        V.WSHE_CALENDAR,
        V.WSH_EVENT_DATA_FILTERS,
        V.WSH_EVENT_DATA_FILTERS_DATE,
        HIGH,
    ],
)
def test_req_wsh_event_data_follows_its_filter_gates(version):
    sent = _wsh_carried(version)
    theirs = to_ibapi(sent)
    # ibapi's reqWshEventData shadows its own version constant with a parameter that
    # defaults to None (a TypeError): callers must pass the real value.
    got = ibapi_request(
        version,
        lambda c: c.reqWshEventData(
            15, theirs, MIN_SERVER_VER_WSH_EVENT_DATA_FILTERS_DATE=V.WSH_EVENT_DATA_FILTERS_DATE
        ),
    )
    assert got == rq.ReqWshEventData(reqId=15, wshEventData=sent)


@pytest.mark.parametrize("version", [V.WSHE_CALENDAR, V.WSH_EVENT_DATA_FILTERS_DATE, HIGH])
def test_req_wsh_event_data_reads_unset_numbers_as_none(version):
    got = ibapi_request(
        version,
        lambda c: c.reqWshEventData(
            15,
            IbWshEventData(),
            MIN_SERVER_VER_WSH_EVENT_DATA_FILTERS_DATE=V.WSH_EVENT_DATA_FILTERS_DATE,
        ),
    )
    assert got == rq.ReqWshEventData(reqId=15, wshEventData=WshEventData())


@pytest.mark.parametrize("version", [V.WSHE_CALENDAR, V.WSH_EVENT_DATA_FILTERS, 178])
def test_req_wsh_event_data_from_ib_async(version):
    sent = _wsh_carried(version)
    got = ib_async_request(version, lambda c: c.reqWshEventData(15, to_ib_async(sent)))
    assert got == rq.ReqWshEventData(reqId=15, wshEventData=sent)


# ---------------------------------------------------------------- responses

_SCAN = rs.ScannerData(
    reqId=12,
    data=(
        ScanData(
            rank=0,
            contractDetails=ContractDetails(
                contract=Contract(
                    conId=512345,
                    symbol="AAPL",
                    secType="OPT",
                    lastTradeDateOrContractMonth="20260116",
                    strike=150.5,
                    right="C",
                    exchange="SMART",
                    currency="USD",
                    localSymbol="AAPL  260116C00150500",
                    tradingClass="AAPL",
                ),
                marketName="AAPL",
            ),
            distance="1.5",
            benchmark="bench",
            projection="proj",
            legsStr="legs",
        ),
        ScanData(
            rank=1,
            contractDetails=ContractDetails(
                contract=Contract(conId=8314, symbol="IBM", secType="STK", currency="USD"),
                marketName="IBM",
            ),
        ),
    ),
)


@pytest.mark.parametrize("version", VERSIONS)
def test_scanner_data_is_one_call_per_row_then_end_in_ibapi(version):
    calls = ibapi_decode(_SCAN, version)
    assert [name for name, _ in calls] == ["scannerData", "scannerData", "scannerDataEnd"]
    for (_, (req_id, rank, details, *strings)), row in zip(calls, _SCAN.data, strict=False):
        assert (req_id, rank) == (12, row.rank)
        assert_fields_match(details, row.contractDetails)
        assert strings == [row.distance, row.benchmark, row.projection, row.legsStr]
    assert calls[-1][1] == (12,)


# ContractDetails fields ib_async does not model, or defaults to 0.0 rather than unset.
_IB_ASYNC_IGNORED = frozenset(
    {
        "lastTradeDate",
        "ineligibilityReasonList",
        "minSize",
        "sizeIncrement",
        "suggestedSizeIncrement",
    }
    | {n for n in ContractDetails.__struct_fields__ if n.startswith("fund")}
)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_scanner_data_decodes_in_ib_async(version):
    calls = ib_async_decode(_SCAN, version)
    assert [name for name, _ in calls] == ["scannerData", "scannerData", "scannerDataEnd"]
    for (_, (req_id, rank, details, *strings)), row in zip(calls, _SCAN.data, strict=False):
        assert (req_id, rank) == (12, row.rank)
        assert_fields_match(details, row.contractDetails, ignore=_IB_ASYNC_IGNORED)
        assert strings == [row.distance, row.benchmark, row.projection, row.legsStr]


# (message, callback, args as ibapi passes them, first version)
_RESPONSES = [
    (
        rs.UpdateNewsBulletin(msgId=3, msgType=2, newsMessage="Exchange closed", originExch="NYSE"),
        "updateNewsBulletin",
        (3, 2, "Exchange closed", "NYSE"),
        LOW,
    ),
    (
        rs.ScannerParameters(xml="<ScanParameterResponse/>"),
        "scannerParameters",
        ("<ScanParameterResponse/>",),
        LOW,
    ),
    (
        rs.FundamentalData(reqId=13, data="<ReportSnapshot/>"),
        "fundamentalData",
        (13, "<ReportSnapshot/>"),
        LOW,
    ),
    (
        rs.NewsArticle(requestId=10, articleType=1, articleText="JVBERi0xLjQ="),
        "newsArticle",
        (10, 1, "JVBERi0xLjQ="),
        V.REQ_NEWS_ARTICLE,
    ),
    (
        rs.HistoricalNews(
            requestId=11,
            time="2025-01-01 09:30:00.0",
            providerCode="BRFG",
            articleId="BRFG$0a1b",
            headline="IBM beats estimates",
        ),
        "historicalNews",
        (11, "2025-01-01 09:30:00.0", "BRFG", "BRFG$0a1b", "IBM beats estimates"),
        V.REQ_HISTORICAL_NEWS,
    ),
    (
        rs.HistoricalNewsEnd(requestId=11, hasMore=True),
        "historicalNewsEnd",
        (11, True),
        V.REQ_HISTORICAL_NEWS,
    ),
    (
        rs.WshMetaData(reqId=14, dataJson='{"meta":1}'),
        "wshMetaData",
        (14, '{"meta":1}'),
        V.WSHE_CALENDAR,
    ),
    (
        rs.WshEventData(reqId=15, dataJson='{"events":[]}'),
        "wshEventData",
        (15, '{"events":[]}'),
        V.WSHE_CALENDAR,
    ),
]


@pytest.mark.parametrize(
    ("version", "msg", "name", "args"),
    [
        pytest.param(version, msg, name, args, id=f"{name}-{version}")
        for msg, name, args, first in _RESPONSES
        for version in sorted({first, HIGH})
    ],
)
def test_news_responses_decode_in_ibapi(version, msg, name, args):
    assert only_call(ibapi_decode(msg, version), name) == args


@pytest.mark.parametrize("version", [V.REQ_NEWS_PROVIDERS, HIGH])
def test_news_providers_decode_in_ibapi(version):
    providers = (
        NewsProvider(code="BRFG", name="Briefing.com"),
        NewsProvider(code="DJNL", name="DJ"),
    )
    (got,) = only_call(
        ibapi_decode(rs.NewsProviders(newsProviders=providers), version), "newsProviders"
    )
    assert_value(got, providers)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_news_responses_decode_in_ib_async(version):
    for msg, name, args, first in _RESPONSES:
        if version >= first:
            assert ib_async_decode(msg, version) == [(name, args)]
    providers = (NewsProvider(code="BRFG", name="Briefing.com"),)
    ((name, (got,)),) = ib_async_decode(rs.NewsProviders(newsProviders=providers), version)
    assert name == "newsProviders"
    assert_value(got, providers)


def test_news_responses_refuse_versions_before_they_exist():
    for msg, _, _, first in _RESPONSES:
        if first > LOW:
            with pytest.raises(VersionTooLow):
                response_fields(msg, first - 1)
    with pytest.raises(VersionTooLow):
        response_fields(rs.NewsProviders(), V.REQ_NEWS_PROVIDERS - 1)
