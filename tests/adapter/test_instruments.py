"""NautilusTrader instruments from IB contract details, one security type at a time."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pandas as pd
import pytest
from ibapi.const import UNSET_DECIMAL
from ibapi.contract import ContractDetails
from ibapi.tag_value import TagValue
from nautilus_trader.model.enums import AssetClass, InstrumentClass, OptionKind
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import (
    Cfd,
    Commodity,
    CryptoPerpetual,
    CurrencyPair,
    Equity,
    FuturesContract,
    IndexInstrument,
    OptionContract,
    OptionSpread,
)
from nautilus_trader.model.objects import Currency, Price, Quantity

from adapter.common import IBContract, IBContractDetails, dict_to_contract_details
from adapter.config import SymbologyMethod
from adapter.parsing.contract_details import (
    contract_details_to_dict,
    contract_details_to_ib_contract_details,
)
from adapter.parsing.instruments import (
    decimal_places,
    parse_instrument,
    parse_spread_instrument_id,
    sec_type_to_asset_class,
)
from tests.adapter import samples
from tests.adapter.samples import Sample

TS = 1_765_000_000_000_000_000


def parse(sample: Sample, **details_changes):
    details = sample.build()
    if details_changes:
        details = IBContractDetails(**{**details.dict(), **details_changes})
    return parse_instrument(details, sample.venue, ts_init=TS)


def comparable(details: IBContractDetails) -> object:
    """Details as plain data; ibapi's TagValue has no equality of its own."""

    def encode(value):
        return (value.tag, value.value) if isinstance(value, TagValue) else repr(value)

    return msgspec.to_builtins(details, enc_hook=encode)


def ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def test_stock_is_an_equity_with_its_isin():
    equity = parse(samples.AAPL)
    assert isinstance(equity, Equity)
    assert str(equity.id) == "AAPL.NASDAQ"
    assert equity.raw_symbol.value == "AAPL"
    assert equity.quote_currency == Currency.from_str("USD")
    assert (equity.price_precision, equity.price_increment) == (2, Price.from_str("0.01"))
    assert equity.lot_size == Quantity.from_int(100)
    assert equity.isin == "US0378331005"
    assert (equity.ts_event, equity.ts_init) == (TS, TS)


def test_stock_without_isin_still_parses():
    # IB sends secIdList only with some market data permissions; theirs raises here.
    assert parse(samples.AAPL, secIdList=None).isin is None


def test_index():
    index = parse(samples.SPX)
    assert isinstance(index, IndexInstrument)
    assert str(index.id) == "^SPX.CBOE"
    assert index.asset_class == AssetClass.INDEX
    assert (index.size_precision, index.size_increment) == (0, Quantity.from_int(1))


def test_future_expires_at_its_last_trade_time_in_its_zone():
    future = parse(samples.ES_FUTURE, lastTradeTime="08:30")
    assert isinstance(future, FuturesContract)
    assert str(future.id) == "ESZ5.CME"
    assert future.raw_symbol.value == "ESZ5"
    assert future.underlying == "ES"
    assert future.asset_class == AssetClass.INDEX
    assert future.multiplier == Quantity.from_int(50)
    assert future.price_increment == Price.from_str("0.25")
    assert future.expiration_ns == ns("2025-12-19 14:30")
    assert future.activation_ns == ns("2025-09-20 14:30")


def test_future_without_last_trade_time_expires_at_midnight_utc():
    assert parse(samples.ES_FUTURE).expiration_ns == ns("2025-12-19")


def test_future_given_a_contract_month_takes_the_day_from_real_expiration_date():
    changed = {**samples.ES_FUTURE.contract, "lastTradeDateOrContractMonth": "202512"}
    sample = Sample("month", "CME", changed, samples.ES_FUTURE.details)
    assert parse(sample).expiration_ns == ns("2025-12-19")


def test_continuous_future_is_named_by_its_root():
    future = parse(samples.ES_CONTINUOUS)
    assert isinstance(future, FuturesContract)
    assert (str(future.id), future.raw_symbol.value) == ("ES.CME", "ES")


def test_stock_option():
    option = parse(samples.AAPL_OPTION, lastTradeTime="16:00")
    assert isinstance(option, OptionContract)
    assert str(option.id) == "AAPL251219C00200000.SMART"
    assert option.raw_symbol.value == "AAPL  251219C00200000"
    assert option.option_kind == OptionKind.CALL
    assert option.strike_price == Price.from_str("200.00")
    assert option.asset_class == AssetClass.EQUITY
    assert option.underlying == "AAPL"
    assert (option.multiplier, option.lot_size) == (Quantity.from_int(100), Quantity.from_int(100))
    assert option.expiration_ns == ns("2025-12-19 21:00")


def test_index_option_is_classed_by_its_underlying():
    option = parse(samples.SPX_OPTION)
    assert option.option_kind == OptionKind.PUT
    assert option.asset_class == AssetClass.INDEX
    assert option.price_increment == Price.from_str("0.05")


def test_future_option():
    option = parse(samples.NQ_FUTURE_OPTION)
    assert isinstance(option, OptionContract)
    assert str(option.id) == "NQZ5 P21000.CME"
    assert option.strike_price == Price.from_str("21000.00")
    assert option.multiplier == Quantity.from_int(20)


def test_strike_finer_than_the_tick_keeps_its_digits():
    adjusted = {**samples.AAPL_OPTION.contract, "strike": 152.125}
    option = parse(Sample("adjusted option", "SMART", adjusted, samples.AAPL_OPTION.details))
    assert option.strike_price == Price.from_str("152.125")
    assert option.price_precision == 2


def test_forex_pair():
    pair = parse(samples.EUR_USD)
    assert isinstance(pair, CurrencyPair)
    assert str(pair.id) == "EUR/USD.IDEALPRO"
    assert (pair.base_currency.code, pair.quote_currency.code) == ("EUR", "USD")
    assert (pair.price_precision, pair.price_increment) == (5, Price.from_str("0.00005"))
    assert pair.size_increment == Quantity.from_int(1)


def test_crypto_is_an_inverse_perpetual_so_quantities_keep_their_meaning():
    crypto = parse(samples.BTC_USD)
    assert isinstance(crypto, CryptoPerpetual)
    assert str(crypto.id) == "BTC/USD.PAXOS"
    assert crypto.base_currency.code == "BTC"
    assert crypto.settlement_currency.code == "USD"
    assert crypto.is_inverse is True
    assert crypto.size_increment == Quantity.from_str("0.0001")
    assert crypto.min_quantity == Quantity.from_str("0.0001")


def test_index_cfd_has_no_base_currency():
    cfd = parse(samples.INDEX_CFD)
    assert isinstance(cfd, Cfd)
    assert cfd.instrument_class == InstrumentClass.CFD
    assert cfd.base_currency is None
    assert cfd.asset_class == AssetClass.INDEX


def test_forex_cfd_has_a_base_currency():
    cfd = parse(samples.FOREX_CFD)
    assert str(cfd.id) == "EUR/USD.SMART"
    assert cfd.base_currency.code == "EUR"
    assert cfd.asset_class == AssetClass.FX


def test_commodity():
    gold = parse(samples.GOLD)
    assert isinstance(gold, Commodity)
    assert str(gold.id) == "XAUUSD.SMART"
    assert gold.asset_class == AssetClass.COMMODITY


def test_combination_is_an_option_spread():
    legs = samples.leg_details_by_con_id(samples.SPY_CALL_600, samples.SPY_CALL_610)
    spread = parse_instrument(samples.SPY_SPREAD.build(), "SMART", contract_details_map=legs)
    assert isinstance(spread, OptionSpread)
    assert str(spread.id) == "(1)SPY251219C00600000_((1))SPY251219C00610000.SMART"
    assert spread.multiplier == Quantity.from_int(100)
    assert spread.underlying == "SPY"


def test_spread_built_from_its_legs():
    legs = [(samples.SPY_CALL_600.build(), 1), (samples.SPY_CALL_610.build(), -1)]
    spread_id = InstrumentId.from_str("(1)SPY251219C00600000_((1))SPY251219C00610000.SMART")
    spread = parse_spread_instrument_id(spread_id, legs, clock_timestamp_ns=TS)
    assert isinstance(spread, OptionSpread)
    assert spread.id == spread_id
    assert (spread.quote_currency.code, spread.underlying) == ("USD", "SPY")
    assert spread.multiplier == Quantity.from_int(100)
    assert spread.price_increment == Price.from_str("0.01")
    assert spread.ts_init == TS
    with pytest.raises(ValueError, match="No legs"):
        parse_spread_instrument_id(spread_id, [])


@pytest.mark.parametrize("sec_type", ["BOND", "WAR", "IOPT", "FUND", ""])
def test_contracts_without_a_nautilus_instrument_are_refused(sec_type):
    details = IBContractDetails(
        **{**samples.US_TREASURY.build().dict(), "contract": IBContract(secType=sec_type)}
    )
    with pytest.raises(ValueError, match="No NautilusTrader instrument"):
        parse_instrument(details, "SMART")


def test_bond_details_are_refused_by_security_type():
    with pytest.raises(ValueError, match="'BOND'"):
        parse_instrument(samples.US_TREASURY.build(), "SMART")


def test_raw_symbology_names_the_instrument():
    instrument = parse_instrument(samples.EUR_USD.build(), "IDEALPRO", SymbologyMethod.IB_RAW)
    assert str(instrument.id) == "EUR.USD=CASH.IDEALPRO"


def test_option_right_must_be_call_or_put():
    contract = IBContract(**{**samples.AAPL_OPTION.contract, "right": "?"})
    with pytest.raises(ValueError, match="right"):
        parse_instrument(
            IBContractDetails(**{**samples.AAPL_OPTION.build().dict(), "contract": contract}),
            "SMART",
        )


def test_details_without_min_tick_are_refused():
    with pytest.raises(ValueError, match="minTick"):
        parse(samples.AAPL, minTick=0.0)


# -- Sizes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("min_size", "size_increment", "expected_increment"),
    [
        ("1", "1", "1"),
        ("0.0001", "0.0001", "0.0001"),
        ("1", "0.01", "0.01"),  # theirs builds a zero increment from these and fails
        ("0.01", "1", "1.00"),
        ("25000", None, "25000"),
        (None, None, "1"),  # servers before version 164 send neither
    ],
)
def test_size_increment_and_precision(min_size, size_increment, expected_increment):
    unset = UNSET_DECIMAL
    pair = parse(
        samples.EUR_USD,
        minSize=Decimal(min_size) if min_size else unset,
        sizeIncrement=Decimal(size_increment) if size_increment else unset,
    )
    assert pair.size_increment == Quantity.from_str(expected_increment)
    assert pair.size_precision == Quantity.from_str(expected_increment).precision


@pytest.mark.parametrize(
    ("value", "places"),
    [(0.01, 2), (0.25, 2), (5e-05, 5), (0.03125, 5), (1.0, 0), (100.0, 0), (Decimal("0.0001"), 4)],
)
def test_decimal_places(value, places):
    assert decimal_places(value) == places


@pytest.mark.parametrize(
    ("sec_type", "asset_class"),
    [
        ("STK", AssetClass.EQUITY),
        ("IND", AssetClass.INDEX),
        ("CASH", AssetClass.FX),
        ("BOND", AssetClass.DEBT),
        ("CMDTY", AssetClass.COMMODITY),
        ("FUT", AssetClass.INDEX),
        ("", AssetClass.EQUITY),
        ("CRYPTO", AssetClass.EQUITY),
    ],
)
def test_asset_class_of_an_underlying(sec_type, asset_class):
    assert sec_type_to_asset_class(sec_type) == asset_class


# -- Contract details in other forms ---------------------------------------------------------


@pytest.mark.parametrize(
    "sample", samples.INSTRUMENT_SAMPLES, ids=[s.name for s in samples.INSTRUMENT_SAMPLES]
)
def test_info_holds_the_details_in_a_form_that_rebuilds_them(sample: Sample):
    details = sample.build()
    info = contract_details_to_dict(details)
    assert isinstance(info["contract"], dict)
    assert comparable(dict_to_contract_details(info)) == comparable(details)


def test_info_lists_security_ids_by_tag():
    info = parse(samples.AAPL).info
    assert info["secIdList"] == {"ISIN": "US0378331005"}
    assert info["contract"]["conId"] == 265598


def test_ibapi_details_convert_without_being_changed():
    ib_details = ContractDetails()
    ib_details.contract.secType = "STK"
    ib_details.contract.symbol = "AAPL"
    ib_details.contract.conId = 265598
    ib_details.minTick = 0.01
    ib_details.secIdList = [TagValue("ISIN", "US0378331005")]
    ib_details.contract.someFutureField = "ignored"  # a newer ibapi may add attributes

    details = contract_details_to_ib_contract_details(ib_details)
    assert isinstance(details, IBContractDetails)
    assert isinstance(details.contract, IBContract)
    assert (details.contract.symbol, details.contract.conId, details.minTick) == (
        "AAPL",
        265598,
        0.01,
    )
    assert details.secIdList[0].value == "US0378331005"
    assert type(ib_details.contract).__name__ == "Contract"  # the ibapi object is untouched
