"""Cross-checks for the contract family (details, bond details, symbol search, option
chains) against ibapi, and against ib_async's decoder inside its version range."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest
from ib_async import Contract as IaContract

from fake_tws.ibtypes import (
    Contract,
    ContractDescription,
    ContractDetails,
    IneligibilityReason,
    TagValue,
)
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import VersionTooLow, decode_request, response_fields
from fake_tws.protocol.errors import BadField
from fake_tws.protocol.requests import contracts as rq
from fake_tws.protocol.responses import contracts as rs
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
from tests.protocol.object_compare import assert_fields_match, assert_value, to_ibapi

# ---------------------------------------------------------------- requests


_QUERY = dict(
    conId=265598,
    symbol="AAPL",
    secType="OPT",
    lastTradeDateOrContractMonth="20260116",
    strike=150.5,
    right="C",
    multiplier="100",
    exchange="SMART",
    primaryExchange="CBOE",
    currency="USD",
    localSymbol="AAPL  260116C00150500",
    tradingClass="AAPL",
    includeExpired=True,
    secIdType="ISIN",
    secId="US0378331005",
)


@pytest.mark.parametrize("version", [LOW, V.BOND_ISSUERID - 1, V.BOND_ISSUERID, HIGH])
def test_req_contract_details_reads_every_contract_field(version):
    fields = dict(_QUERY)
    if version >= V.BOND_ISSUERID:
        fields["issuerId"] = "e1234"
    got = ibapi_request(version, lambda c: c.reqContractDetails(7, to_ibapi(Contract(**fields))))
    assert got == rq.ReqContractDetails(reqId=7, contract=Contract(**fields))


@pytest.mark.parametrize("version", [V.REQ_MATCHING_SYMBOLS, HIGH])
def test_req_matching_symbols(version):
    got = ibapi_request(version, lambda c: c.reqMatchingSymbols(11, "app"))
    assert got == rq.ReqMatchingSymbols(reqId=11, pattern="app")


@pytest.mark.parametrize("version", [V.SEC_DEF_OPT_PARAMS_REQ, HIGH])
def test_req_sec_def_opt_params(version):
    got = ibapi_request(version, lambda c: c.reqSecDefOptParams(3, "IBM", "CBOE", "STK", 8314))
    assert got == rq.ReqSecDefOptParams(
        reqId=3,
        underlyingSymbol="IBM",
        futFopExchange="CBOE",
        underlyingSecType="STK",
        underlyingConId=8314,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_truncated_contract_details_request_names_the_missing_field(version):
    fields = dict(_QUERY, issuerId="e1" if version >= V.BOND_ISSUERID else "")
    (payload,) = ibapi_request_payloads(
        version, lambda c: c.reqContractDetails(7, to_ibapi(Contract(**fields)))
    )
    parts = payload.split(b"\0")[:-1]
    cut = b"\0".join(parts[:13]) + b"\0"  # id, version, reqId, conId ... currency
    with pytest.raises(BadField) as err:
        decode_request(cut, version)
    assert err.value.field == "localSymbol"
    assert err.value.message == "reqContractDetails"


# ---------------------------------------------------------------- contract details

_SEC_IDS = (TagValue("ISIN", "US0378331005"), TagValue("CUSIP", "037833100"))

_OPTION_DETAILS = ContractDetails(
    contract=Contract(
        conId=512345,
        symbol="AAPL",
        secType="OPT",
        lastTradeDateOrContractMonth="20260116",
        lastTradeDate="20260116",
        strike=150.5,
        right="C",
        multiplier="100",
        exchange="SMART",
        primaryExchange="CBOE",
        currency="USD",
        localSymbol="AAPL  260116C00150500",
        tradingClass="AAPL",
    ),
    marketName="AAPL",
    minTick=0.01,
    orderTypes="ACTIVETIM,LMT,MKT",
    validExchanges="SMART,CBOE,AMEX",
    priceMagnifier=1,
    underConId=265598,
    longName="APPLE INC",
    contractMonth="202601",
    industry="Technology",
    category="Computers",
    subcategory="Computers",
    timeZoneId="US/Eastern",
    tradingHours="20260115:0930-20260115:1600",
    liquidHours="20260115:0930-20260115:1600",
    evRule="aapl",
    evMultiplier=2,
    secIdList=_SEC_IDS,
    aggGroup=2,
    underSymbol="AAPL",
    underSecType="STK",
    marketRuleIds="32,109",
    realExpirationDate="20260116",
    lastTradeTime="16:00",
    stockType="COMMON",
    minSize=Decimal("1"),
    sizeIncrement=Decimal("1"),
    suggestedSizeIncrement=Decimal("100"),
    ineligibilityReasonList=(
        IneligibilityReason(id="4", description="no permission"),
        IneligibilityReason(id="7", description="closing only"),
    ),
)

_FUND_FIELDS = dict(
    fundName="Vanguard 500",
    fundFamily="Vanguard",
    fundType="Open-end",
    fundFrontLoad="0.5",
    fundBackLoad="0.25",
    fundBackLoadTimeInterval="1Y",
    fundManagementFee="0.04",
    fundClosed=True,
    fundClosedForNewInvestors=True,
    fundClosedForNewMoney=True,
    fundNotifyAmount="1000",
    fundMinimumInitialPurchase="3000",
    fundSubsequentMinimumPurchase="100",
    fundBlueSkyStates="CA,NY",
    fundBlueSkyTerritories="PR",
    fundDistributionPolicyIndicator="Y",
    fundAssetType="004",
)

_FUND_DETAILS = msgspec.structs.replace(
    _OPTION_DETAILS,
    contract=msgspec.structs.replace(_OPTION_DETAILS.contract, secType="FUND"),
    **_FUND_FIELDS,
)

_DEFAULTS = ContractDetails()


def _carried(details: ContractDetails, version: int) -> ContractDetails:
    """`details` with the fields that are not on the wire at `version` reset."""
    reset: dict = {}
    if version < V.AGG_GROUP:
        reset["aggGroup"] = 0
    if version < V.UNDERLYING_INFO:
        reset.update(underSymbol="", underSecType="")
    if version < V.MARKET_RULES:
        reset["marketRuleIds"] = ""
    if version < V.REAL_EXPIRATION_DATE:
        reset["realExpirationDate"] = ""
    if version < V.STOCK_TYPE:
        reset["stockType"] = ""
    if version < V.SIZE_RULES:
        reset.update(minSize=None, sizeIncrement=None, suggestedSizeIncrement=None)
    if version < V.FUND_DATA_FIELDS or details.contract.secType != "FUND":
        reset.update({name: getattr(_DEFAULTS, name) for name in _FUND_FIELDS})
    if version < V.INELIGIBILITY_REASONS:
        reset["ineligibilityReasonList"] = ()
    if version < V.LAST_TRADE_DATE:
        contract = msgspec.structs.replace(details.contract, lastTradeDate="")
        reset["contract"] = contract
    return msgspec.structs.replace(details, **reset)


_DETAIL_GATES = sorted(
    {
        LOW,
        V.MD_SIZE_MULTIPLIER,
        V.AGG_GROUP,
        V.UNDERLYING_INFO,
        V.MARKET_RULES,
        V.REAL_EXPIRATION_DATE,
        V.STOCK_TYPE,
        V.ENCODE_MSG_ASCII7,
        V.FRACTIONAL_SIZE_SUPPORT,
        V.SIZE_RULES,
        V.FUND_DATA_FIELDS,
        V.LAST_TRADE_DATE,
        V.INELIGIBILITY_REASONS,
        HIGH,
    }
)


@pytest.mark.parametrize("version", _DETAIL_GATES)
@pytest.mark.parametrize("details", [_OPTION_DETAILS, _FUND_DETAILS], ids=["option", "fund"])
def test_contract_details_decode_field_by_field_in_ibapi(details, version):
    sent = _carried(details, version)
    req_id, got = only_call(
        ibapi_decode(rs.ContractDetails(reqId=9, contractDetails=sent), version),
        "contractDetails",
    )
    assert req_id == 9
    assert_fields_match(got, sent)


def test_fund_fields_go_out_only_for_funds():
    msg = rs.ContractDetails(reqId=1, contractDetails=_carried(_FUND_DETAILS, HIGH))
    as_option = rs.ContractDetails(
        reqId=1,
        contractDetails=msgspec.structs.replace(
            msg.contractDetails,
            contract=msgspec.structs.replace(msg.contractDetails.contract, secType="OPT"),
        ),
    )
    assert len(response_fields(msg, HIGH)) == len(response_fields(as_option, HIGH)) + 17
    # What an option with fund fields set looks like to ibapi: no fund fields at all.
    _, got = only_call(ibapi_decode(as_option, HIGH), "contractDetails")
    assert got.fundName == ""
    assert got.ineligibilityReasonList[1].id_ == "7"


@pytest.mark.parametrize(
    ("date", "time"),
    [("20260116", "16:00"), ("20260116", ""), ("", "16:00"), ("", ""), ("202601", "")],
)
def test_expiry_and_last_trade_time_split_back_apart(date, time):
    contract = Contract(symbol="ES", secType="FUT", lastTradeDateOrContractMonth=date)
    sent = ContractDetails(contract=contract, lastTradeTime=time)
    for version in VERSIONS:
        _, got = only_call(
            ibapi_decode(rs.ContractDetails(reqId=1, contractDetails=sent), version),
            "contractDetails",
        )
        assert (got.contract.lastTradeDateOrContractMonth, got.lastTradeTime) == (date, time)


def test_non_ascii_long_name_reaches_ibapi_at_both_ends():
    sent = msgspec.structs.replace(_OPTION_DETAILS, longName="SOCIÉTÉ GÉNÉRALE SA")
    for version in (LOW, V.ENCODE_MSG_ASCII7, HIGH):
        _, got = only_call(
            ibapi_decode(rs.ContractDetails(reqId=1, contractDetails=sent), version),
            "contractDetails",
        )
        assert got.longName == "SOCIÉTÉ GÉNÉRALE SA"


# ---------------------------------------------------------------- bond details

_BOND_DETAILS = ContractDetails(
    contract=Contract(
        conId=1234567,
        symbol="IBM",
        secType="BOND",
        exchange="SMART",
        currency="USD",
        tradingClass="IBMBND",
    ),
    marketName="IBM 4.5 05/15/30",
    minTick=0.001,
    orderTypes="LMT",
    validExchanges="SMART,BONDDESK",
    longName="International Business Machines",
    evRule="ibm",
    evMultiplier=3,
    secIdList=_SEC_IDS,
    aggGroup=4,
    marketRuleIds="239",
    minSize=Decimal("1000"),
    sizeIncrement=Decimal("1000"),
    suggestedSizeIncrement=Decimal("10000"),
    cusip="459200HU8",
    ratings="A",
    descAppend="IBM 4 1/2 05/15/30",
    bondType="CORP",
    couponType="FIXED",
    callable=True,
    putable=True,
    coupon=4.5,
    convertible=True,
    maturity="20300515",
    lastTradeTime="16:00",
    timeZoneId="US/Eastern",
    issueDate="20200515",
    nextOptionDate="20280515",
    nextOptionType="Call",
    nextOptionPartial=True,
    notes="callable at par",
)


def _bond_carried(details: ContractDetails, version: int) -> ContractDetails:
    reset: dict = {}
    if version < V.AGG_GROUP:
        reset["aggGroup"] = 0
    if version < V.MARKET_RULES:
        reset["marketRuleIds"] = ""
    if version < V.SIZE_RULES:
        reset.update(minSize=None, sizeIncrement=None, suggestedSizeIncrement=None)
    return msgspec.structs.replace(details, **reset)


@pytest.mark.parametrize(
    "version",
    [LOW, V.MD_SIZE_MULTIPLIER, V.AGG_GROUP, V.MARKET_RULES, V.SIZE_RULES - 1, V.SIZE_RULES, HIGH],
)
def test_bond_contract_details_decode_field_by_field_in_ibapi(version):
    sent = _bond_carried(_BOND_DETAILS, version)
    req_id, got = only_call(
        ibapi_decode(rs.BondContractDetails(reqId=4, contractDetails=sent), version),
        "bondContractDetails",
    )
    assert req_id == 4
    assert_fields_match(got, sent)


@pytest.mark.parametrize(
    ("maturity", "time", "zone"),
    [("20300515", "", "US/Eastern"), ("20300515", "", ""), ("", "16:00", "")],
)
def test_bond_maturity_time_and_zone_split_back_apart(maturity, time, zone):
    sent = ContractDetails(
        contract=Contract(secType="BOND"), maturity=maturity, lastTradeTime=time, timeZoneId=zone
    )
    _, got = only_call(
        ibapi_decode(rs.BondContractDetails(reqId=1, contractDetails=sent), HIGH),
        "bondContractDetails",
    )
    assert (got.maturity, got.lastTradeTime, got.timeZoneId) == (maturity, time, zone)


@pytest.mark.parametrize("version", VERSIONS)
def test_contract_details_end(version):
    assert only_call(
        ibapi_decode(rs.ContractDetailsEnd(reqId=9), version), "contractDetailsEnd"
    ) == (9,)


# ---------------------------------------------------------------- symbol samples

_SAMPLES = (
    ContractDescription(
        contract=Contract(
            conId=265598,
            symbol="AAPL",
            secType="STK",
            primaryExchange="NASDAQ",
            currency="USD",
            description="APPLE INC",
            issuerId="e1359061",
        ),
        derivativeSecTypes=("OPT", "WAR", "BAG"),
    ),
    ContractDescription(
        contract=Contract(
            conId=38709539, symbol="APLE", secType="STK", primaryExchange="NYSE", currency="USD"
        ),
    ),
)


def _samples_carried(version: int) -> tuple[ContractDescription, ...]:
    if version >= V.BOND_ISSUERID:
        return _SAMPLES
    return tuple(
        msgspec.structs.replace(
            d, contract=msgspec.structs.replace(d.contract, description="", issuerId="")
        )
        for d in _SAMPLES
    )


@pytest.mark.parametrize(
    "version", [V.REQ_MATCHING_SYMBOLS, V.BOND_ISSUERID - 1, V.BOND_ISSUERID, HIGH]
)
def test_symbol_samples_decode_in_ibapi(version):
    sent = _samples_carried(version)
    req_id, got = only_call(
        ibapi_decode(rs.SymbolSamples(reqId=11, contractDescriptions=sent), version),
        "symbolSamples",
    )
    assert req_id == 11
    assert_value(got, sent)


def test_responses_refuse_versions_before_they_exist():
    with pytest.raises(VersionTooLow):
        response_fields(rs.SymbolSamples(reqId=1), V.REQ_MATCHING_SYMBOLS - 1)
    with pytest.raises(VersionTooLow):
        response_fields(rs.SecurityDefinitionOptionParameterEnd(reqId=1), LOW)


# ---------------------------------------------------------------- option chains

_CHAIN = rs.SecurityDefinitionOptionParameter(
    reqId=3,
    exchange="CBOE",
    underlyingConId=8314,
    tradingClass="IBM",
    multiplier="100",
    expirations=("20260116", "20260220", "20260320"),
    strikes=(140.0, 142.5, 145.0, 1000.25),
)


@pytest.mark.parametrize("version", [V.SEC_DEF_OPT_PARAMS_REQ, HIGH])
def test_option_chain_decodes_in_ibapi(version):
    got = only_call(ibapi_decode(_CHAIN, version), "securityDefinitionOptionParameter")
    assert got == (3, "CBOE", 8314, "IBM", "100", set(_CHAIN.expirations), set(_CHAIN.strikes))
    end = rs.SecurityDefinitionOptionParameterEnd(reqId=3)
    assert only_call(ibapi_decode(end, version), "securityDefinitionOptionParameterEnd") == (3,)


# ---------------------------------------------------------------- ib_async

# Fields ib_async's Contract / ContractDetails do not have (none is on the wire <= 178).
_IB_ASYNC_UNMODELLED = frozenset({"lastTradeDate", "ineligibilityReasonList", *_FUND_FIELDS})


@pytest.mark.parametrize("version", sorted({*IB_ASYNC_VERSIONS, V.FRACTIONAL_SIZE_SUPPORT, 164}))
def test_contract_details_decode_in_ib_async(version):
    sent = _carried(_OPTION_DETAILS, version)
    ignore = _IB_ASYNC_UNMODELLED
    if version < V.SIZE_RULES:
        # ib_async's sizes default to 0.0, not unset; at 163 it reads the obsolete
        # sizeMinTick as suggestedSizeIncrement (we send suggestedSizeIncrement there).
        ignore |= {"minSize", "sizeIncrement", "suggestedSizeIncrement"}
    calls = ib_async_decode(rs.ContractDetails(reqId=9, contractDetails=sent), version)
    assert [name for name, _ in calls] == ["contractDetails"]
    req_id, got = calls[0][1]
    assert req_id == 9
    assert_fields_match(got, sent, ignore=ignore)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_bond_contract_details_decode_in_ib_async(version):
    # ib_async parses `coupon` with int() (its default is the int 0), so only a whole
    # coupon survives (we send it as "5"); a fractional one makes it drop the message.
    sent = msgspec.structs.replace(_bond_carried(_BOND_DETAILS, version), coupon=5.0)
    ignore = _IB_ASYNC_UNMODELLED
    if version < V.SIZE_RULES:
        ignore |= {"minSize", "sizeIncrement", "suggestedSizeIncrement"}
    calls = ib_async_decode(rs.BondContractDetails(reqId=4, contractDetails=sent), version)
    assert [name for name, _ in calls] == ["bondContractDetails"]
    assert calls[0][1][0] == 4
    assert_fields_match(calls[0][1][1], sent, ignore=ignore)


def test_ib_async_cannot_read_a_fractional_bond_coupon():
    sent = _bond_carried(_BOND_DETAILS, 178)
    with pytest.raises(AssertionError, match="ib_async failed"):
        ib_async_decode(rs.BondContractDetails(reqId=4, contractDetails=sent), 178)


@pytest.mark.parametrize("version", [*IB_ASYNC_VERSIONS, V.BOND_ISSUERID])
def test_symbol_samples_and_option_chain_decode_in_ib_async(version):
    sent = _samples_carried(version)
    calls = ib_async_decode(rs.SymbolSamples(reqId=11, contractDescriptions=sent), version)
    ((name, (req_id, got)),) = calls
    assert (name, req_id) == ("symbolSamples", 11)
    assert_value(got, sent, ignore=_IB_ASYNC_UNMODELLED)

    ((name, args),) = ib_async_decode(_CHAIN, version)
    assert name == "securityDefinitionOptionParameter"
    # ib_async passes underlyingConId on as the raw text.
    assert args == (3, "CBOE", "8314", "IBM", "100", list(_CHAIN.expirations), list(_CHAIN.strikes))
    end = ib_async_decode(rs.SecurityDefinitionOptionParameterEnd(reqId=3), version)
    assert end == [("securityDefinitionOptionParameterEnd", (3,))]


@pytest.mark.parametrize("version", [*IB_ASYNC_VERSIONS, V.BOND_ISSUERID])
def test_contract_requests_decode_as_ib_async_meant(version):
    fields = dict(_QUERY, issuerId="e1234" if version >= V.BOND_ISSUERID else "")
    got = ib_async_request(version, lambda c: c.reqContractDetails(7, IaContract(**fields)))
    assert got == rq.ReqContractDetails(reqId=7, contract=Contract(**fields))
    got = ib_async_request(version, lambda c: c.reqMatchingSymbols(11, "app"))
    assert got == rq.ReqMatchingSymbols(reqId=11, pattern="app")
    got = ib_async_request(version, lambda c: c.reqSecDefOptParams(3, "IBM", "", "STK", 8314))
    assert got == rq.ReqSecDefOptParams(
        reqId=3, underlyingSymbol="IBM", underlyingSecType="STK", underlyingConId=8314
    )
