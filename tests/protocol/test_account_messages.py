"""Cross-checks for the account family (account values, portfolio, positions, summaries,
PnL, FA configuration) against ibapi, and against ib_async's decoder in its range."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fake_tws.ibtypes import Contract
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import account as rq
from fake_tws.protocol.responses import account as rs
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
from tests.protocol.object_compare import assert_fields_match

UNSET_DOUBLE = 1.7976931348623157e308

# ---------------------------------------------------------------- requests

_ALWAYS = [
    (
        lambda c: c.reqAccountUpdates(True, "DU123"),
        rq.ReqAccountUpdates(subscribe=True, acctCode="DU123"),
    ),
    (lambda c: c.reqAccountUpdates(False, ""), rq.ReqAccountUpdates(subscribe=False)),
    (
        lambda c: c.reqAccountSummary(5, "All", "NetLiquidation,$LEDGER:USD"),
        rq.ReqAccountSummary(reqId=5, groupName="All", tags="NetLiquidation,$LEDGER:USD"),
    ),
    (lambda c: c.cancelAccountSummary(5), rq.CancelAccountSummary(reqId=5)),
    (lambda c: c.reqPositions(), rq.ReqPositions()),
    (lambda c: c.cancelPositions(), rq.CancelPositions()),
    (lambda c: c.requestFA(3), rq.RequestFA(faData=3)),
]

_FROM_MODELS_SUPPORT = [
    (
        lambda c: c.reqPositionsMulti(6, "DU123", "Growth"),
        rq.ReqPositionsMulti(reqId=6, account="DU123", modelCode="Growth"),
    ),
    (lambda c: c.cancelPositionsMulti(6), rq.CancelPositionsMulti(reqId=6)),
    (
        lambda c: c.reqAccountUpdatesMulti(7, "DU123", "Growth", True),
        rq.ReqAccountUpdatesMulti(reqId=7, account="DU123", modelCode="Growth", ledgerAndNLV=True),
    ),
    (lambda c: c.cancelAccountUpdatesMulti(7), rq.CancelAccountUpdatesMulti(reqId=7)),
]

_FROM_PNL = [
    (
        lambda c: c.reqPnL(8, "DU123", "Growth"),
        rq.ReqPnL(reqId=8, account="DU123", modelCode="Growth"),
    ),
    (lambda c: c.cancelPnL(8), rq.CancelPnL(reqId=8)),
    (
        lambda c: c.reqPnLSingle(9, "DU123", "Growth", 265598),
        rq.ReqPnLSingle(reqId=9, account="DU123", modelCode="Growth", conid=265598),
    ),
    (lambda c: c.cancelPnLSingle(9), rq.CancelPnLSingle(reqId=9)),
]


def _cases(cases, first_version):
    return [
        pytest.param(version, call, expected, id=f"{expected.api_name}-{version}")
        for call, expected in cases
        for version in sorted({max(first_version, LOW), HIGH})
    ]


@pytest.mark.parametrize(
    ("version", "call", "expected"),
    _cases(_ALWAYS, LOW)
    + _cases(_FROM_MODELS_SUPPORT, V.MODELS_SUPPORT)
    + _cases(_FROM_PNL, V.PNL),
)
def test_account_requests_decode_as_ibapi_meant(version, call, expected):
    assert ibapi_request(version, call) == expected


@pytest.mark.parametrize("version", [LOW, V.REPLACE_FA_END - 1, V.REPLACE_FA_END, HIGH])
def test_replace_fa_carries_a_request_id_from_replace_fa_end(version):
    got = ibapi_request(version, lambda c: c.replaceFA(12, 1, "<ListOfGroups/>"))
    req_id = 12 if version >= V.REPLACE_FA_END else 0
    assert got == rq.ReplaceFA(reqId=req_id, faData=1, cxml="<ListOfGroups/>")


@pytest.mark.parametrize("version", [V.PNL, HIGH])
def test_truncated_pnl_single_request_names_the_missing_field(version):
    (payload,) = ibapi_request_payloads(version, lambda c: c.reqPnLSingle(9, "DU1", "", 42))
    cut = b"\0".join(payload.split(b"\0")[:4]) + b"\0"  # id, reqId, account, modelCode
    with pytest.raises(BadField) as err:
        decode_request(cut, version)
    assert (err.value.message, err.value.field) == ("reqPnLSingle", "conid")


# ---------------------------------------------------------------- responses

_PORTFOLIO_CONTRACT = Contract(
    conId=512345,
    symbol="AAPL",
    secType="OPT",
    lastTradeDateOrContractMonth="20260116",
    strike=150.5,
    right="C",
    multiplier="100",
    primaryExchange="CBOE",
    currency="USD",
    localSymbol="AAPL  260116C00150500",
    tradingClass="AAPL",
)
_POSITION_CONTRACT = Contract(
    conId=512345,
    symbol="AAPL",
    secType="OPT",
    lastTradeDateOrContractMonth="20260116",
    strike=150.5,
    right="C",
    multiplier="100",
    exchange="SMART",
    currency="USD",
    localSymbol="AAPL  260116C00150500",
    tradingClass="AAPL",
)

_PORTFOLIO = rs.UpdatePortfolio(
    contract=_PORTFOLIO_CONTRACT,
    position=Decimal("-3"),
    marketPrice=4.25,
    marketValue=-1275.0,
    averageCost=401.5,
    unrealizedPNL=-70.5,
    realizedPNL=12.25,
    accountName="DU123",
)
_POSITION = rs.Position(
    account="DU123", contract=_POSITION_CONTRACT, position=Decimal("0.5"), avgCost=401.5
)
_POSITION_MULTI = rs.PositionMulti(
    reqId=6,
    account="DU123",
    modelCode="Growth",
    contract=_POSITION_CONTRACT,
    pos=Decimal("12.5"),
    avgCost=99.75,
)

# (message, callback, args as ibapi passes them)
_SIMPLE = [
    (
        rs.UpdateAccountValue(
            key="NetLiquidation", val="100250.5", currency="USD", accountName="DU123"
        ),
        "updateAccountValue",
        ("NetLiquidation", "100250.5", "USD", "DU123"),
    ),
    (rs.UpdateAccountTime(timeStamp="15:42"), "updateAccountTime", ("15:42",)),
    (rs.AccountDownloadEnd(accountName="DU123"), "accountDownloadEnd", ("DU123",)),
    (rs.PositionEnd(), "positionEnd", ()),
    (
        rs.AccountSummary(
            reqId=5, account="DU123", tag="BuyingPower", value="400000.0", currency="USD"
        ),
        "accountSummary",
        (5, "DU123", "BuyingPower", "400000.0", "USD"),
    ),
    (rs.AccountSummaryEnd(reqId=5), "accountSummaryEnd", (5,)),
    (rs.PositionMultiEnd(reqId=6), "positionMultiEnd", (6,)),
    (
        rs.AccountUpdateMulti(
            reqId=7,
            account="DU123",
            modelCode="Growth",
            key="CashBalance",
            value="5.5",
            currency="EUR",
        ),
        "accountUpdateMulti",
        (7, "DU123", "Growth", "CashBalance", "5.5", "EUR"),
    ),
    (rs.AccountUpdateMultiEnd(reqId=7), "accountUpdateMultiEnd", (7,)),
    (rs.ReceiveFA(faData=1, cxml="<ListOfGroups/>"), "receiveFA", (1, "<ListOfGroups/>")),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("msg", "name", "args"), _SIMPLE, ids=[c[1] for c in _SIMPLE])
def test_simple_account_responses_decode_in_ibapi(msg, name, args, version):
    assert only_call(ibapi_decode(msg, version), name) == args


@pytest.mark.parametrize("version", VERSIONS)
def test_update_portfolio_decodes_field_by_field_in_ibapi(version):
    contract, *rest = only_call(ibapi_decode(_PORTFOLIO, version), "updatePortfolio")
    assert_fields_match(contract, _PORTFOLIO.contract)
    assert rest == [Decimal("-3"), 4.25, -1275.0, 401.5, -70.5, 12.25, "DU123"]


@pytest.mark.parametrize("version", VERSIONS)
def test_positions_decode_field_by_field_in_ibapi(version):
    account, contract, position, avg_cost = only_call(ibapi_decode(_POSITION, version), "position")
    assert_fields_match(contract, _POSITION_CONTRACT)
    assert (account, position, avg_cost) == ("DU123", Decimal("0.5"), 401.5)

    req_id, account, model, contract, pos, avg_cost = only_call(
        ibapi_decode(_POSITION_MULTI, version), "positionMulti"
    )
    assert_fields_match(contract, _POSITION_CONTRACT)
    assert (req_id, account, model, pos, avg_cost) == (6, "DU123", "Growth", Decimal("12.5"), 99.75)


@pytest.mark.parametrize(
    "version", [V.PNL, V.UNREALIZED_PNL - 1, V.UNREALIZED_PNL, V.REALIZED_PNL, HIGH]
)
def test_pnl_fields_follow_their_version_gates(version):
    unrealized = 250.5 if version >= V.UNREALIZED_PNL else None
    realized = -10.25 if version >= V.REALIZED_PNL else None
    msg = rs.PnL(reqId=8, dailyPnL=1.5, unrealizedPnL=250.5, realizedPnL=-10.25)
    assert only_call(ibapi_decode(msg, version), "pnl") == (8, 1.5, unrealized, realized)

    single = rs.PnLSingle(
        reqId=9,
        pos=Decimal("100"),
        dailyPnL=3.5,
        unrealizedPnL=250.5,
        realizedPnL=-10.25,
        value=17050.0,
    )
    assert only_call(ibapi_decode(single, version), "pnlSingle") == (
        9,
        Decimal("100"),
        3.5,
        unrealized,
        realized,
        17050.0,
    )


@pytest.mark.parametrize("version", [V.PNL, HIGH])
def test_unset_pnl_goes_out_as_tws_max_double(version):
    msg = rs.PnLSingle(reqId=9, pos=None, dailyPnL=None, unrealizedPnL=None, realizedPnL=None)
    unrealized = UNSET_DOUBLE if version >= V.UNREALIZED_PNL else None
    realized = UNSET_DOUBLE if version >= V.REALIZED_PNL else None
    unset_decimal = Decimal(2**127 - 1)  # ibapi's UNSET_DECIMAL, from an empty quantity
    assert only_call(ibapi_decode(msg, version), "pnlSingle") == (
        9,
        unset_decimal,
        UNSET_DOUBLE,
        unrealized,
        realized,
        UNSET_DOUBLE,
    )


@pytest.mark.parametrize("version", [V.REPLACE_FA_END, HIGH])
def test_replace_fa_end_decodes_in_ibapi(version):
    msg = rs.ReplaceFAEnd(reqId=12, text="FA configuration replaced")
    assert only_call(ibapi_decode(msg, version), "replaceFAEnd") == (
        12,
        "FA configuration replaced",
    )


def test_version_gated_account_responses_refuse_older_versions():
    with pytest.raises(VersionTooLow):
        response_fields(rs.PnL(reqId=1, dailyPnL=0.0), V.PNL - 1)
    with pytest.raises(VersionTooLow):
        response_fields(rs.ReplaceFAEnd(reqId=1), V.REPLACE_FA_END - 1)


# ---------------------------------------------------------------- ib_async


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
@pytest.mark.parametrize(("msg", "name", "args"), _SIMPLE, ids=[c[1] for c in _SIMPLE])
def test_simple_account_responses_decode_in_ib_async(msg, name, args, version):
    assert ib_async_decode(msg, version) == [(name, args)]


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_portfolio_and_positions_decode_in_ib_async(version):
    ((name, (contract, *rest)),) = ib_async_decode(_PORTFOLIO, version)
    assert name == "updatePortfolio"
    assert_fields_match(contract, _PORTFOLIO_CONTRACT, ignore=frozenset({"lastTradeDate"}))
    assert rest == [-3.0, 4.25, -1275.0, 401.5, -70.5, 12.25, "DU123"]

    ((name, (account, contract, position, avg_cost)),) = ib_async_decode(_POSITION, version)
    assert (name, account, position, avg_cost) == ("position", "DU123", 0.5, 401.5)
    assert_fields_match(contract, _POSITION_CONTRACT, ignore=frozenset({"lastTradeDate"}))

    ((name, (req_id, account, model, contract, pos, avg_cost)),) = ib_async_decode(
        _POSITION_MULTI, version
    )
    assert (name, req_id, account, model, pos, avg_cost) == (
        "positionMulti",
        6,
        "DU123",
        "Growth",
        12.5,
        99.75,
    )
    assert_fields_match(contract, _POSITION_CONTRACT, ignore=frozenset({"lastTradeDate"}))


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_pnl_and_fa_end_decode_in_ib_async(version):
    msg = rs.PnL(reqId=8, dailyPnL=1.5, unrealizedPnL=None, realizedPnL=-10.25)
    assert ib_async_decode(msg, version) == [("pnl", (8, 1.5, UNSET_DOUBLE, -10.25))]
    single = rs.PnLSingle(
        reqId=9,
        pos=Decimal("100"),
        dailyPnL=3.5,
        unrealizedPnL=250.5,
        realizedPnL=-10.25,
        value=17050.0,
    )
    # ib_async reads pnlSingle's position as a float.
    assert ib_async_decode(single, version) == [
        ("pnlSingle", (9, 100.0, 3.5, 250.5, -10.25, 17050.0))
    ]
    end = rs.ReplaceFAEnd(reqId=12, text="done")
    assert ib_async_decode(end, version) == [("replaceFAEnd", (12, "done"))]


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_account_requests_decode_as_ib_async_meant(version):
    for call, expected in _ALWAYS + _FROM_MODELS_SUPPORT + _FROM_PNL:
        assert ib_async_request(version, call) == expected
    got = ib_async_request(version, lambda c: c.replaceFA(12, 1, "<ListOfGroups/>"))
    assert got == rq.ReplaceFA(reqId=12, faData=1, cxml="<ListOfGroups/>")
