from datetime import date

import pytest

from fake_tws.broker.catalog import Catalog, NoSecurityDefinition
from fake_tws.broker.chains import option_expirations, option_strikes
from fake_tws.broker.instruments import cusip_with_check, isin_with_check
from fake_tws.ibtypes import Contract

from .conftest import MIDDAY


@pytest.fixture
def catalog() -> Catalog:
    return Catalog(now=lambda: MIDDAY, seed=5)


def only(result):
    assert not isinstance(result, NoSecurityDefinition), result
    assert len(result) == 1, [d.contract for d in result]
    return result[0]


def test_stock_details_look_like_a_gateways(catalog):
    d = only(catalog.contract_details(Contract(symbol="AAPL", secType="STK", exchange="SMART")))
    c = d.contract
    assert (c.conId, c.primaryExchange, c.tradingClass, c.localSymbol) == (
        265598,
        "NASDAQ",
        "NMS",
        "AAPL",
    )
    assert d.longName == "APPLE INC" and d.minTick == 0.01 and d.timeZoneId == "US/Eastern"
    assert d.tradingHours.startswith("20260415:0400-20260415:2000")
    assert d.liquidHours.startswith("20260415:0930-20260415:1600")
    assert ("ISIN", "US0378331005") in [(t.tag, t.value) for t in d.secIdList]
    assert d.marketRuleIds.split(",")[0] == "26"
    assert len(d.marketRuleIds.split(",")) == len(d.validExchanges.split(","))
    assert "LMT" in d.orderTypes.split(",") and d.stockType == "COMMON"
    spy = only(catalog.contract_details(Contract(symbol="SPY", secType="STK", currency="USD")))
    assert spy.contract.primaryExchange == "ARCA" and spy.stockType == "ETF"


def test_conid_alone_resolves_and_the_requested_exchange_is_echoed(catalog):
    assert only(catalog.contract_details(Contract(conId=272093))).contract.symbol == "MSFT"
    d = only(catalog.contract_details(Contract(symbol="MSFT", secType="STK", exchange="ARCA")))
    assert d.contract.exchange == "ARCA"


def test_unknown_contracts_are_no_security_definition(catalog):
    for query in (
        Contract(symbol="AAPL", secType="STK", exchange="NOWHERE"),
        Contract(symbol="AAPL", secType="STK", currency="EUR"),
        Contract(conId=1),
        Contract(symbol="XX", secType="FUT"),
        Contract(symbol="this is not a ticker", secType="STK"),
    ):
        result = catalog.contract_details(query)
        assert isinstance(result, NoSecurityDefinition) and result.code == 200


def test_partial_contracts_match_several(catalog):
    euros = catalog.contract_details(Contract(symbol="EUR", secType="CASH"))
    assert {d.contract.localSymbol for d in euros} == {"EUR.USD", "EUR.GBP"}
    assert len(catalog.contract_details(Contract(symbol="ES", secType="FUT"))) == 5


def test_futures_chain_quarterly_with_holiday_adjusted_expiries(catalog):
    chain = catalog.contract_details(Contract(symbol="ES", secType="FUT", exchange="CME"))
    assert [d.contract.localSymbol for d in chain] == ["ESM6", "ESU6", "ESZ6", "ESH7", "ESM7"]
    june = chain[0]
    assert june.contract.lastTradeDateOrContractMonth == "20260618"  # Juneteenth Friday
    assert (june.contract.multiplier, june.minTick, june.contractMonth) == ("50", 0.25, "202606")
    assert (june.underSymbol, june.underSecType, june.timeZoneId) == ("ES", "IND", "US/Central")
    by_month = only(
        catalog.contract_details(
            Contract(symbol="ES", secType="FUT", lastTradeDateOrContractMonth="202609")
        )
    )
    assert by_month.contract.localSymbol == "ESU6"
    # the conId stays the same on other days
    later = Catalog(now=lambda: MIDDAY.replace(month=5), seed=99)
    assert (
        only(later.contract_details(Contract(conId=june.contract.conId))).contract == june.contract
    )


def test_expired_futures_need_include_expired(catalog):
    march = Contract(symbol="ES", secType="FUT", lastTradeDateOrContractMonth="202603")
    assert isinstance(catalog.contract_details(march), NoSecurityDefinition)
    found = only(catalog.contract_details(Contract(**{**_fields(march), "includeExpired": True})))
    assert found.contract.localSymbol == "ESH6"


def _fields(contract):
    return {f: getattr(contract, f) for f in contract.__struct_fields__}


def test_contfut_resolves_to_the_front_month(catalog):
    d = only(catalog.contract_details(Contract(symbol="ES", secType="CONTFUT", exchange="CME")))
    assert d.contract.secType == "CONTFUT" and d.contract.localSymbol == "ESM6"
    front = only(catalog.contract_details(Contract(symbol="ES", secType="FUT", localSymbol="ESM6")))
    assert d.contract.conId == front.contract.conId


def test_option_chain_details(catalog):
    d = only(
        catalog.contract_details(
            Contract(
                symbol="AAPL",
                secType="OPT",
                lastTradeDateOrContractMonth="20260515",
                strike=250.0,
                right="C",
                exchange="SMART",
            )
        )
    )
    c = d.contract
    assert c.localSymbol == "AAPL  260515C00250000"
    assert (c.multiplier, c.tradingClass, d.underConId, d.underSecType) == (
        "100",
        "AAPL",
        265598,
        "STK",
    )
    assert d.realExpirationDate == "20260515" and d.contractMonth == "202605"
    puts = catalog.contract_details(
        Contract(symbol="AAPL", secType="OPT", lastTradeDateOrContractMonth="20260515", right="PUT")
    )
    assert {p.contract.right for p in puts} == {"P"} and len(puts) == len(option_strikes(255.0))
    by_local = catalog.contract_details(
        Contract(secType="OPT", localSymbol="AAPL  260515C00250000")
    )
    assert only(by_local).contract.conId == c.conId


def test_option_chain_params_match_the_chain(catalog):
    params = catalog.option_chain_params("AAPL")
    assert {p.exchange for p in params} >= {"SMART", "CBOE"}
    smart = next(p for p in params if p.exchange == "SMART")
    assert smart.underlyingConId == 265598 and smart.multiplier == "100"
    assert list(smart.expirations) == [f"{d:%Y%m%d}" for d in option_expirations(date(2026, 4, 15))]
    assert smart.strikes[0] < 255 < smart.strikes[-1]
    assert catalog.option_chain_params("AAPL", underlying_con_id=1) == []


def test_option_expirations_weeklies_monthlies_and_leaps():
    found = option_expirations(date(2026, 4, 15))
    assert found[0] == date(2026, 4, 17)
    assert date(2026, 4, 24) in found  # weekly
    assert date(2026, 6, 18) in found  # June monthly, moved off Juneteenth
    assert date(2027, 1, 15) in found and date(2028, 1, 21) in found  # LEAPS


def test_bond_by_isin_has_bond_fields(catalog):
    cusip = cusip_with_check("037833DX")
    isin = isin_with_check("US", cusip)
    d = only(catalog.contract_details(Contract(secIdType="ISIN", secId=isin)))
    assert d.contract.secType == "BOND" and d.cusip == cusip
    assert (d.coupon, d.maturity, d.bondType, d.descAppend) == (
        2.2,
        "20290911",
        "CORP",
        "AAPL 2.2 09/11/29",
    )


def test_identifier_check_digits():
    assert cusip_with_check("03783310") == "037833100"  # Apple's common stock
    assert isin_with_check("US", "037833100") == "US0378331005"


def test_cash_crypto_and_cfd(catalog):
    eur_gbp = only(catalog.contract_details(Contract(symbol="EUR", currency="GBP", secType="CASH")))
    assert eur_gbp.contract.exchange == "IDEALPRO" and eur_gbp.minTick == 0.00005
    btc = only(catalog.contract_details(Contract(symbol="BTC", secType="CRYPTO", exchange="PAXOS")))
    assert btc.minSize < 1 and btc.sizeIncrement < btc.minSize
    assert btc.tradingHours.split(";")[0] == "20260415:0000-20260416:0000"
    cfd = only(catalog.contract_details(Contract(symbol="IBUS30", secType="CFD")))
    assert cfd.contract.exchange == "SMART" and cfd.minTick == 1.0


def test_generated_stocks_are_stable_per_seed(catalog):
    first = only(catalog.contract_details(Contract(symbol="QWRTY", secType="STK")))
    again = Catalog(now=lambda: MIDDAY, seed=5).contract_details(
        Contract(symbol="QWRTY", secType="STK")
    )
    assert only(again) == first
    other = only(
        Catalog(now=lambda: MIDDAY, seed=6).contract_details(
            Contract(symbol="QWRTY", secType="STK")
        )
    )
    assert other.longName != first.longName or other.contract.conId != first.contract.conId
    assert first.longName and first.industry and first.contract.primaryExchange
    assert only(catalog.contract_details(Contract(conId=first.contract.conId))) == first
    no_generation = Catalog(now=lambda: MIDDAY, generate_unknown_stocks=False)
    assert isinstance(
        no_generation.contract_details(Contract(symbol="QWRTY", secType="STK")),
        NoSecurityDefinition,
    )


def test_price_levels_can_be_configured():
    catalog = Catalog(now=lambda: MIDDAY, prices={"AAPL": 190.0, "NEWCO": 12.5})
    assert catalog.instrument(265598).profile.price == 190.0
    newco = only(catalog.contract_details(Contract(symbol="NEWCO", secType="STK")))
    assert catalog.instrument(newco.contract.conId).profile.price == 12.5


def test_matching_symbols(catalog):
    found = catalog.matching_symbols("A")
    symbols = [d.contract.symbol for d in found]
    assert symbols[0] == "AAPL" and "AMZN" in symbols and len(found) <= 16
    assert "OPT" in found[0].derivativeSecTypes
    assert found[0].contract.description == "APPLE INC"
    by_name = [d.contract.symbol for d in catalog.matching_symbols("MICROSOFT")]
    assert by_name == ["MSFT"]
    unknown = catalog.matching_symbols("ZQXV")
    assert [d.contract.symbol for d in unknown] == ["ZQXV"]


def test_market_rules_and_increments(catalog):
    assert catalog.market_rule(26)[0].increment == 0.01
    ibm_call = catalog.contract_details(
        Contract(symbol="IBM", secType="OPT", right="C", lastTradeDateOrContractMonth="20260515")
    )[0]
    instrument = catalog.instrument(ibm_call.contract.conId)
    assert catalog.price_increment(instrument, 2.5) == 0.01
    assert catalog.price_increment(instrument, 4.0) == 0.05
    assert catalog.market_rule(12345) is None


def test_cash_and_crypto_resolve_by_their_dotted_local_symbol(catalog):
    # How NautilusTrader's own adapter asks for ETH/USD.PAXOS and EUR/GBP.IDEALPRO.
    eth = only(
        catalog.contract_details(
            Contract(localSymbol="ETH.USD", secType="CRYPTO", exchange="PAXOS")
        )
    )
    assert (eth.contract.symbol, eth.contract.currency) == ("ETH", "USD")
    eur = only(catalog.contract_details(Contract(localSymbol="EUR.GBP", secType="CASH")))
    assert (eur.contract.symbol, eur.contract.currency) == ("EUR", "GBP")
