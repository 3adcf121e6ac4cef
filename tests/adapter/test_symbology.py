"""Instrument ids for contracts and contract queries for ids, both symbology methods."""

from __future__ import annotations

import msgspec
import nautilus_trader.adapters.interactive_brokers.config as their_config
import nautilus_trader.adapters.interactive_brokers.parsing.instruments as theirs
import pytest
from nautilus_trader.model.identifiers import InstrumentId

from adapter.common import IBContract
from adapter.config import SymbologyMethod
from adapter.parsing.symbology import ib_contract_to_instrument_id, instrument_id_to_ib_contract
from adapter.parsing.venues import exchanges_for_venue
from tests.adapter import samples
from tests.adapter.samples import Sample

SIMPLIFIED = SymbologyMethod.IB_SIMPLIFIED
RAW = SymbologyMethod.IB_RAW


def selects(query: IBContract, contract: IBContract) -> bool:
    """Whether IB would match ``contract`` to ``query``: every field the query sets agrees."""
    empty = IBContract()
    return all(
        getattr(query, name) == getattr(contract, name)
        for name in IBContract.__struct_fields__
        if getattr(query, name) != getattr(empty, name)
    )


def query_for(instrument_id: InstrumentId, method: SymbologyMethod) -> IBContract:
    """The query the provider would send: via the first exchange the venue stands for."""
    [exchange, *_] = exchanges_for_venue(instrument_id.venue.value)
    return instrument_id_to_ib_contract(instrument_id, exchange, method)


# (sample, venue that names it, simplified id): the venue is what the provider derives,
# except for CFDs and commodities, which need their pseudo-venue to be found again.
SIMPLIFIED_ROUND_TRIPS = [
    (samples.AAPL, "NASDAQ", "AAPL.NASDAQ"),
    (samples.BRK_B, "NYSE", "BRK-B.NYSE"),
    (samples.SPX, "CBOE", "^SPX.CBOE"),
    (samples.ES_FUTURE, "CME", "ESZ5.CME"),
    (samples.ES_CONTINUOUS, "CME", "ES.CME"),
    (samples.AAPL_OPTION, "SMART", "AAPL251219C00200000.SMART"),
    (samples.SPX_OPTION, "SMART", "SPX251219P05500000.SMART"),
    (samples.ES_FUTURE_OPTION, "CME", "ESZ5 C6000.CME"),
    (samples.NQ_FUTURE_OPTION, "CME", "NQZ5 P21000.CME"),
    (samples.EUR_USD, "IDEALPRO", "EUR/USD.IDEALPRO"),
    (samples.BTC_USD, "PAXOS", "BTC/USD.PAXOS"),
    (samples.INDEX_CFD, "IBCFD", "IBUS500.IBCFD"),
    (samples.FOREX_CFD, "IBCFD", "EUR/USD.IBCFD"),
    (samples.GOLD, "IBCMDTY", "XAUUSD.IBCMDTY"),
]


@pytest.mark.parametrize(
    ("sample", "venue", "expected"),
    SIMPLIFIED_ROUND_TRIPS,
    ids=[s[2] for s in SIMPLIFIED_ROUND_TRIPS],
)
def test_simplified_id_names_the_contract_and_leads_back_to_it(sample: Sample, venue, expected):
    contract = sample.build().contract
    instrument_id = ib_contract_to_instrument_id(contract, venue, SIMPLIFIED)
    assert instrument_id == InstrumentId.from_str(expected)

    query = query_for(instrument_id, SIMPLIFIED)
    assert query.secType == contract.secType
    assert selects(query, contract), query


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        (samples.FGBL_FUTURE, "FGBLZ5.EUREX"),
        (samples.NIFTY_FUTURE, "NIFTYZ5.NSE"),
        (samples.INDEX_CFD, "IBUS500.SMART"),
        (samples.FOREX_CFD, "EUR/USD.SMART"),
        (samples.GOLD, "XAUUSD.SMART"),
    ],
)
def test_simplified_id_of_contracts_named_one_way_only(sample: Sample, expected):
    assert str(ib_contract_to_instrument_id(sample.build().contract, sample.venue)) == expected


@pytest.mark.parametrize(
    "local_symbol",
    ["ESZ5", "ES DEC 25", "ESDEC 25", "ES25DECFUT"],
)
def test_every_future_naming_becomes_root_month_code_and_year_digit(local_symbol):
    contract = IBContract(secType="FUT", symbol="ES", localSymbol=local_symbol, exchange="CME")
    assert str(ib_contract_to_instrument_id(contract, "CME")) == "ESZ5.CME"


@pytest.mark.parametrize(
    "contract",
    [
        IBContract(secType="FUT", symbol="ES", localSymbol="ES 20251219", exchange="CME"),
        IBContract(secType="FOP", symbol="ES", localSymbol="EW3Z5-C6000", exchange="CME"),
        IBContract(secType="OPT", symbol="AAPL", exchange="SMART"),
        IBContract(secType="WAR", symbol="X", localSymbol="X", exchange="FWB"),
    ],
    ids=["future", "future option", "option without local symbol", "warrant"],
)
def test_simplified_symbology_refuses_what_it_cannot_name(contract):
    with pytest.raises(ValueError, match="raw symbology"):
        ib_contract_to_instrument_id(contract, "CME")


@pytest.mark.parametrize("symbol", ["ESZ25", "ESZ5C6000", "ES-Z5"])
def test_futures_exchange_refuses_unreadable_symbols(symbol):
    with pytest.raises(ValueError, match="one-digit year"):
        instrument_id_to_ib_contract(InstrumentId.from_str(f"{symbol}.CME"), "CME")


def test_currency_pairs_without_local_symbol_are_named_from_symbol_and_currency():
    contract = IBContract(secType="CASH", symbol="GBP", currency="JPY", exchange="IDEALPRO")
    assert str(ib_contract_to_instrument_id(contract, "IDEALPRO")) == "GBP/JPY.IDEALPRO"


RAW_SAMPLES = [s for s in samples.INSTRUMENT_SAMPLES if s.contract["secType"] != "BAG"]


@pytest.mark.parametrize("sample", RAW_SAMPLES, ids=[s.name for s in RAW_SAMPLES])
def test_raw_id_names_any_contract_and_leads_back_to_it(sample: Sample):
    contract = sample.build().contract
    instrument_id = ib_contract_to_instrument_id(contract, sample.venue, RAW)
    assert instrument_id.symbol.value == f"{contract.localSymbol}={contract.secType}"
    assert InstrumentId.from_str(str(instrument_id)) == instrument_id

    query = query_for(instrument_id, RAW)
    assert query.secType == contract.secType
    assert selects(query, contract), query


def test_raw_id_keeps_a_dotted_venue_whole():
    contract = IBContract(secType="FUT", symbol="N225M", localSymbol="N225MZ5", exchange="OSE.JPN")
    instrument_id = ib_contract_to_instrument_id(contract, "OSE.JPN", RAW)
    assert str(instrument_id) == "N225MZ5=FUT.OSE/JPN"
    assert InstrumentId.from_str(str(instrument_id)) == instrument_id

    query = query_for(instrument_id, RAW)
    assert (query.secType, query.exchange, query.localSymbol) == ("FUT", "OSE.JPN", "N225MZ5")


def test_raw_query_uses_the_exchange_the_venue_stands_for():
    # With MIC venues the provider resolves XNAS to NASDAQ; the query must carry NASDAQ.
    instrument_id = InstrumentId.from_str("AAPL=STK.XNAS")
    query = query_for(instrument_id, RAW)
    assert (query.exchange, query.primaryExchange) == ("SMART", "NASDAQ")


def test_raw_symbology_refuses_ids_without_security_type():
    with pytest.raises(ValueError, match="not a raw symbol"):
        instrument_id_to_ib_contract(InstrumentId.from_str("AAPL.NASDAQ"), "NASDAQ", RAW)


# -- Spreads -----------------------------------------------------------------------------------

LEGS = samples.leg_details_by_con_id(samples.SPY_CALL_600, samples.SPY_CALL_610)
SPREAD_ID = "(1)SPY251219C00600000_((1))SPY251219C00610000.SMART"


@pytest.mark.parametrize("method", list(SymbologyMethod))
def test_spread_id_of_a_combination_names_its_legs_and_leads_back(method):
    bag = samples.SPY_SPREAD.build().contract
    spread_id = ib_contract_to_instrument_id(bag, "SMART", method, LEGS)
    assert spread_id.is_spread()
    leg_names = {
        leg_id: ib_contract_to_instrument_id(details.contract, "SMART", method)
        for leg_id, details in zip((600, 610), LEGS.values(), strict=True)
    }
    assert spread_id.to_list() == [(leg_names[600], 1), (leg_names[610], -1)]

    details_by_id = {leg_names[600]: LEGS[747298301], leg_names[610]: LEGS[747298355]}
    query = instrument_id_to_ib_contract(spread_id, "SMART", method, details_by_id)
    assert (query.secType, query.symbol, query.exchange, query.currency) == (
        "BAG",
        "SPY",
        "SMART",
        "USD",
    )
    assert [(leg.conId, leg.ratio, leg.action) for leg in query.comboLegs] == [
        (leg.conId, leg.ratio, leg.action) for leg in bag.comboLegs
    ]


def test_simplified_spread_id_reads_as_expected():
    bag = samples.SPY_SPREAD.build().contract
    assert str(ib_contract_to_instrument_id(bag, "SMART", SIMPLIFIED, LEGS)) == SPREAD_ID


def test_spread_needs_its_legs_loaded():
    bag = samples.SPY_SPREAD.build().contract
    with pytest.raises(ValueError, match="conId 747298355"):
        ib_contract_to_instrument_id(bag, "SMART", SIMPLIFIED, {747298301: LEGS[747298301]})
    with pytest.raises(ValueError, match="Load the leg"):
        instrument_id_to_ib_contract(InstrumentId.from_str(SPREAD_ID), "SMART", SIMPLIFIED, {})
    with pytest.raises(ValueError, match="without legs"):
        ib_contract_to_instrument_id(IBContract(secType="BAG"), "SMART", SIMPLIFIED, LEGS)


# -- Against NautilusTrader's rules ----------------------------------------------------------


def their_method(method: SymbologyMethod):
    return their_config.SymbologyMethod(method.value)


def as_data(contract) -> dict:
    return msgspec.to_builtins(contract)


NAMING_CASES = [(s, m) for s in samples.INSTRUMENT_SAMPLES for m in SymbologyMethod]


@pytest.mark.parametrize(
    ("sample", "method"), NAMING_CASES, ids=[f"{s.name}-{m.value}" for s, m in NAMING_CASES]
)
def test_ids_agree_with_theirs_wherever_theirs_names_the_contract(sample: Sample, method):
    their_legs = {
        con_id: leg.build_theirs()
        for con_id, leg in zip(LEGS, (samples.SPY_CALL_600, samples.SPY_CALL_610), strict=True)
    }
    try:
        expected = theirs.ib_contract_to_instrument_id(
            sample.build_theirs().contract, sample.venue, their_method(method), their_legs
        )
    except ValueError:
        pytest.skip("NautilusTrader's adapter cannot name this contract")
    if method is RAW and sample.contract["secType"] == "BAG":
        pytest.skip("NautilusTrader's adapter names raw spreads by the BAG's own local symbol")
    ours = ib_contract_to_instrument_id(sample.build().contract, sample.venue, method, LEGS)
    assert ours == expected


QUERY_CASES = [
    *[(SIMPLIFIED, i) for _, _, i in SIMPLIFIED_ROUND_TRIPS],
    (SIMPLIFIED, "FGBLZ5.EUREX"),
    (SIMPLIFIED, "EUR/USD.SMART"),
    (SIMPLIFIED, "ESZ5.SNFE"),
    (RAW, "AAPL=STK.NASDAQ"),
    (RAW, "ESZ5=FUT.CME"),
    (RAW, "EUR.USD=CASH.IDEALPRO"),
    (RAW, "IBUS500=CFD.SMART"),
    (RAW, "XAUUSD=CMDTY.SMART"),
    (RAW, "SPX=IND.CBOE"),
]


@pytest.mark.parametrize(("method", "instrument_id"), QUERY_CASES, ids=[c[1] for c in QUERY_CASES])
def test_queries_agree_with_theirs(method, instrument_id):
    instrument_id = InstrumentId.from_str(instrument_id)
    exchange = instrument_id.venue.value
    try:
        expected = theirs.instrument_id_to_ib_contract(
            instrument_id, exchange, their_method(method)
        )
    except ValueError:
        pytest.skip("NautilusTrader's adapter cannot read this id")
    ours = instrument_id_to_ib_contract(instrument_id, exchange, method)
    assert as_data(ours) == as_data(expected)
