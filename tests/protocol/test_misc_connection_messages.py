"""Cross-checks for the rest of the connection family (verification, display groups,
soft-dollar tiers, family codes, user info) against ibapi and ib_async's decoder."""

from __future__ import annotations

import pytest

from fake_tws.ibtypes import SoftDollarTier
from fake_tws.ibtypes.misc import FamilyCode
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import connection as rq
from fake_tws.protocol.responses import connection as rs
from tests.ib_async_harness import IB_ASYNC_VERSIONS, ib_async_decode, ib_async_request
from tests.ibapi_harness import (
    HIGH,
    LOW,
    ibapi_decode,
    ibapi_request,
    ibapi_request_payloads,
    only_call,
)
from tests.protocol.object_compare import assert_value


def _with_extra_auth(call):
    def run(c):
        c.extraAuth = True  # ibapi sends verify requests only after asking for it at connect
        call(c)

    return run


# (call, expected, first server version ibapi sends it at)
_REQUESTS = [
    (
        _with_extra_auth(lambda c: c.verifyRequest("fake-client", "1.2")),
        rq.VerifyRequest(apiName="fake-client", apiVersion="1.2"),
        LOW,
    ),
    (lambda c: c.verifyMessage("signed-data"), rq.VerifyMessage(apiData="signed-data"), LOW),
    (
        _with_extra_auth(lambda c: c.verifyAndAuthRequest("fake-client", "1.2", "isv-key")),
        rq.VerifyAndAuthRequest(apiName="fake-client", apiVersion="1.2", opaqueIsvKey="isv-key"),
        LOW,
    ),
    (
        lambda c: c.verifyAndAuthMessage("signed-data", "xyz-answer"),
        rq.VerifyAndAuthMessage(apiData="signed-data", xyzResponse="xyz-answer"),
        LOW,
    ),
    (lambda c: c.queryDisplayGroups(21), rq.QueryDisplayGroups(reqId=21), LOW),
    (
        lambda c: c.subscribeToGroupEvents(22, 4),
        rq.SubscribeToGroupEvents(reqId=22, groupId=4),
        LOW,
    ),
    (
        lambda c: c.updateDisplayGroup(22, "8314@SMART"),
        rq.UpdateDisplayGroup(reqId=22, contractInfo="8314@SMART"),
        LOW,
    ),
    (lambda c: c.unsubscribeFromGroupEvents(22), rq.UnsubscribeFromGroupEvents(reqId=22), LOW),
    (lambda c: c.reqSoftDollarTiers(23), rq.ReqSoftDollarTiers(reqId=23), LOW),
    (lambda c: c.reqFamilyCodes(), rq.ReqFamilyCodes(), V.REQ_FAMILY_CODES),
    (lambda c: c.reqUserInfo(24), rq.ReqUserInfo(reqId=24), V.USER_INFO),
]


@pytest.mark.parametrize(
    ("version", "call", "expected"),
    [
        pytest.param(version, call, expected, id=f"{expected.api_name}-{version}")
        for call, expected, first in _REQUESTS
        for version in sorted({first, HIGH})
    ],
)
def test_misc_connection_requests_decode_as_ibapi_meant(version, call, expected):
    assert ibapi_request(version, call) == expected


def test_truncated_verify_and_auth_request_names_the_missing_field():
    call = _with_extra_auth(lambda c: c.verifyAndAuthRequest("fake-client", "1.2", "isv-key"))
    (payload,) = ibapi_request_payloads(HIGH, call)
    cut = b"\0".join(payload.split(b"\0")[:4]) + b"\0"  # id, version, apiName, apiVersion
    with pytest.raises(BadField) as err:
        decode_request(cut, HIGH)
    assert (err.value.message, err.value.field) == ("verifyAndAuthRequest", "opaqueIsvKey")


# (message, callback, args as ibapi passes them)
_VERSIONED = [
    (rs.VerifyMessageAPI(apiData="challenge"), "verifyMessageAPI", ("challenge",)),
    # ibapi's generic decoder converts only int/float-annotated parameters: the boolean
    # arrives as its wire text.
    (rs.VerifyCompleted(isSuccessful=True, errorText=""), "verifyCompleted", ("1", "")),
    (
        rs.VerifyCompleted(isSuccessful=False, errorText="bad key"),
        "verifyCompleted",
        ("0", "bad key"),
    ),
    (
        rs.VerifyAndAuthMessageAPI(apiData="challenge", xyzChallange="xyz"),
        "verifyAndAuthMessageAPI",
        ("challenge", "xyz"),
    ),
    (
        rs.VerifyAndAuthCompleted(isSuccessful=True, errorText="ok"),
        "verifyAndAuthCompleted",
        ("1", "ok"),
    ),
    (rs.DisplayGroupList(reqId=21, groups="1|2|3"), "displayGroupList", (21, "1|2|3")),
    (
        rs.DisplayGroupUpdated(reqId=22, contractInfo="8314@SMART"),
        "displayGroupUpdated",
        (22, "8314@SMART"),
    ),
]


@pytest.mark.parametrize("version", [LOW, HIGH])
@pytest.mark.parametrize(("msg", "name", "args"), _VERSIONED, ids=[c[1] for c in _VERSIONED])
def test_misc_connection_responses_decode_in_ibapi(msg, name, args, version):
    assert only_call(ibapi_decode(msg, version), name) == args


_TIERS = rs.SoftDollarTiers(
    reqId=23,
    tiers=(
        SoftDollarTier(name="Tier1", val="0.01", displayName="One cent"),
        SoftDollarTier(name="Tier2", val="0.02", displayName="Two cents"),
    ),
)
_FAMILY = rs.FamilyCodes(
    familyCodes=(
        FamilyCode(accountID="DU123", familyCodeStr="F1"),
        FamilyCode(accountID="DU456", familyCodeStr=""),
    )
)


@pytest.mark.parametrize("version", [V.SOFT_DOLLAR_TIER, V.REQ_FAMILY_CODES, V.USER_INFO, HIGH])
def test_tiers_family_codes_and_user_info_decode_in_ibapi(version):
    req_id, tiers = only_call(ibapi_decode(_TIERS, version), "softDollarTiers")
    assert req_id == 23
    assert_value(tiers, _TIERS.tiers)
    if version >= V.REQ_FAMILY_CODES:
        (codes,) = only_call(ibapi_decode(_FAMILY, version), "familyCodes")
        assert_value(codes, _FAMILY.familyCodes)
    if version >= V.USER_INFO:
        msg = rs.UserInfo(reqId=24, whiteBrandingId="brand-7")
        assert only_call(ibapi_decode(msg, version), "userInfo") == (24, "brand-7")


def test_misc_connection_responses_refuse_versions_before_they_exist():
    with pytest.raises(VersionTooLow):
        response_fields(_TIERS, V.SOFT_DOLLAR_TIER - 1)
    with pytest.raises(VersionTooLow):
        response_fields(_FAMILY, V.REQ_FAMILY_CODES - 1)
    with pytest.raises(VersionTooLow):
        response_fields(rs.UserInfo(reqId=1), V.USER_INFO - 1)


# ---------------------------------------------------------------- ib_async


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_misc_connection_responses_decode_in_ib_async(version):
    # ib_async converts the verification booleans itself.
    expected_bool = {"1": True, "0": False}
    for msg, name, args in _VERSIONED:
        if name in ("verifyCompleted", "verifyAndAuthCompleted"):
            args = (expected_bool[args[0]], *args[1:])
        assert ib_async_decode(msg, version) == [(name, args)]

    ((name, (req_id, tiers)),) = ib_async_decode(_TIERS, version)
    assert (name, req_id) == ("softDollarTiers", 23)
    assert_value(tiers, _TIERS.tiers)
    ((name, (codes,)),) = ib_async_decode(_FAMILY, version)
    assert name == "familyCodes"
    assert_value(codes, _FAMILY.familyCodes)
    if version >= V.USER_INFO:
        msg = rs.UserInfo(reqId=24, whiteBrandingId="brand-7")
        assert ib_async_decode(msg, version) == [("userInfo", (24, "brand-7"))]


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_misc_connection_requests_decode_as_ib_async_meant(version):
    for call, expected, first in _REQUESTS:
        if version >= first:
            assert ib_async_request(version, call) == expected
