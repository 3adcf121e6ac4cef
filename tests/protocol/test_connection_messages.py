"""Cross-checks for the connection family against ibapi, at the lowest and highest versions."""

import pytest

from fake_tws.protocol.requests import connection as rq
from fake_tws.protocol.responses import connection as rs
from tests.ibapi_harness import VERSIONS, ibapi_decode, ibapi_request, only_call


@pytest.mark.parametrize("version", VERSIONS)
def test_simple_requests_decode_as_ibapi_meant(version):
    assert ibapi_request(version, lambda c: c.reqCurrentTime()) == rq.ReqCurrentTime()
    assert ibapi_request(version, lambda c: c.reqIds(3)) == rq.ReqIds(numIds=3)
    assert ibapi_request(version, lambda c: c.reqManagedAccts()) == rq.ReqManagedAccts()
    assert ibapi_request(version, lambda c: c.setServerLogLevel(5)) == rq.SetServerLogLevel(
        logLevel=5
    )
    assert ibapi_request(version, lambda c: c.reqMarketDataType(4)) == rq.ReqMarketDataType(
        marketDataType=4
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_start_api_carries_client_id_and_capabilities(version):
    def start(c):
        c.clientId = 42
        c.optCapab = "cap"
        c.startApi()

    expected = rq.StartApi(clientId=42, optionalCapabilities="cap")
    assert ibapi_request(version, start) == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_bootstrap_responses_decode_in_ibapi(version):
    assert only_call(
        ibapi_decode(rs.ManagedAccounts(accountsList="DU1,DU2"), version), "managedAccounts"
    ) == ("DU1,DU2",)
    assert only_call(ibapi_decode(rs.NextValidId(orderId=17), version), "nextValidId") == (17,)
    assert only_call(ibapi_decode(rs.CurrentTime(time=1775931128), version), "currentTime") == (
        1775931128,
    )
    assert only_call(
        ibapi_decode(rs.MarketDataType(reqId=3, marketDataType=2), version), "marketDataType"
    ) == (3, 2)


@pytest.mark.parametrize("version", VERSIONS)
def test_error_carries_advanced_reject_only_where_the_version_has_it(version):
    msg = rs.Error(
        reqId=-1,
        errorCode=2104,
        errorString="Market data farm connection is OK:usfarm",
        advancedOrderRejectJson='{"x":1}',
    )
    args = only_call(ibapi_decode(msg, version), "error")
    assert args[:3] == (-1, 2104, "Market data farm connection is OK:usfarm")
    assert args[3] == ('{"x":1}' if version >= 166 else "")


def test_non_ascii_text_survives_ascii7_encoding():
    msg = rs.Error(reqId=1, errorCode=200, errorString="Keine Sicherheitsdefinition für Ä")
    args = only_call(ibapi_decode(msg, 187), "error")
    assert args[2] == "Keine Sicherheitsdefinition für Ä"
