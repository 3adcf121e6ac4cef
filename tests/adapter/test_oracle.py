"""Our instruments against NautilusTrader's adapter's, from the same contract details.

Their parsing functions are pure, so they serve as the oracle: every field of every
instrument they can parse must agree. Where theirs fails, or ours is more precise, the
tests below say so exactly.
"""

from __future__ import annotations

from decimal import Decimal

import msgspec
import nautilus_trader.adapters.interactive_brokers.config as their_config
import nautilus_trader.adapters.interactive_brokers.parsing.instruments as theirs
import pytest
from ibapi.const import UNSET_DECIMAL
from ibapi.tag_value import TagValue
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.instruments import Instrument

from adapter.config import SymbologyMethod
from adapter.parsing.instruments import parse_instrument, parse_spread_instrument_id
from tests.adapter import samples
from tests.adapter.samples import Sample

TS = 1_765_000_000_000_000_000
LEG_SAMPLES = (samples.SPY_CALL_600, samples.SPY_CALL_610)


def as_data(instrument: Instrument) -> dict:
    """Every field of the instrument, minus creation times, as comparable plain data."""
    data = type(instrument).to_dict(instrument)
    del data["ts_event"], data["ts_init"]

    def encode(value):
        return (value.tag, value.value) if isinstance(value, TagValue) else repr(value)

    return msgspec.to_builtins(data, enc_hook=encode)


def both(sample: Sample, method=SymbologyMethod.IB_SIMPLIFIED, **details_changes):
    """(their instrument, ours) from the same details."""
    their_details = sample.build_theirs()
    our_details = sample.build()
    if details_changes:
        their_details = type(their_details)(**{**their_details.dict(), **details_changes})
        our_details = type(our_details)(**{**our_details.dict(), **details_changes})
    their_legs = {leg.contract["conId"]: leg.build_theirs() for leg in LEG_SAMPLES}
    our_legs = {leg.contract["conId"]: leg.build() for leg in LEG_SAMPLES}
    their_method = their_config.SymbologyMethod(method.value)
    expected = theirs.parse_instrument(their_details, sample.venue, their_method, their_legs)
    ours = parse_instrument(our_details, sample.venue, method, our_legs, ts_init=TS)
    return expected, ours


def differences(expected: Instrument, ours: Instrument) -> dict:
    a, b = as_data(expected), as_data(ours)
    return {
        key: (a.get(key), b.get(key)) for key in a.keys() | b.keys() if a.get(key) != b.get(key)
    }


AGREEING = [s for s in samples.INSTRUMENT_SAMPLES if s is not samples.NQ_FUTURE_OPTION]
CASES = [
    (s, m)
    for s in AGREEING
    for m in SymbologyMethod
    if not (s is samples.SPY_SPREAD and m.value == "raw")
]


@pytest.mark.parametrize(("sample", "method"), CASES, ids=[f"{s.name}-{m.value}" for s, m in CASES])
def test_instrument_equals_theirs(sample: Sample, method):
    expected, ours = both(sample, method)
    assert type(ours) is type(expected)
    assert ours.id == expected.id
    assert differences(expected, ours) == {}


def test_timestamps_are_the_given_ones():
    _, ours = both(samples.AAPL)
    assert (ours.ts_event, ours.ts_init) == (TS, TS)


# -- Where theirs fails and ours does not ------------------------------------------------------


def refused_by_theirs(sample: Sample, **details_changes) -> Instrument:
    """Our instrument for details NautilusTrader's adapter cannot parse."""
    their_details = type(sample.build_theirs())(
        **{**sample.build_theirs().dict(), **details_changes}
    )
    with pytest.raises((ValueError, TypeError, ArithmeticError)):
        theirs.parse_instrument(their_details, sample.venue)
    our_details = type(sample.build())(**{**sample.build().dict(), **details_changes})
    return parse_instrument(our_details, sample.venue, ts_init=TS)


def test_five_digit_future_option_strike():
    assert str(refused_by_theirs(samples.NQ_FUTURE_OPTION).id) == "NQZ5 P21000.CME"


def test_stock_without_isin():
    assert refused_by_theirs(samples.AAPL, secIdList=None).isin is None


def test_size_increment_finer_than_minimum_size():
    pair = refused_by_theirs(samples.EUR_USD, minSize=Decimal(1), sizeIncrement=Decimal("0.01"))
    assert str(pair.size_increment) == "0.01"


def test_size_rules_not_sent_by_an_old_server():
    pair = refused_by_theirs(samples.EUR_USD, minSize=UNSET_DECIMAL, sizeIncrement=UNSET_DECIMAL)
    assert str(pair.size_increment) == "1"


# -- Where both parse and ours is more precise -----------------------------------------------


def test_expiry_uses_the_last_trade_time_where_theirs_takes_midnight_utc():
    expected, ours = both(samples.ES_FUTURE, lastTradeTime="08:30")
    hours = (ours.expiration_ns - expected.expiration_ns) / 3_600_000_000_000
    assert hours == 14.5  # 08:30 US/Central in December is 14:30 UTC
    assert set(differences(expected, ours)) == {"activation_ns", "expiration_ns"}


# -- Spreads synthesised from their legs ---------------------------------------------------------

SPREAD_ID = "(1)SPY251219C00600000_((1))SPY251219C00610000.SMART"


def spreads_from_legs(*legs: Sample):
    spread_id = InstrumentId.from_str(SPREAD_ID)
    their_legs = [(leg.build_theirs(), 1) for leg in legs]
    our_legs = [(leg.build(), 1) for leg in legs]
    expected = theirs.parse_spread_instrument_id(spread_id, their_legs, TS)
    return expected, parse_spread_instrument_id(spread_id, our_legs, TS)


def test_spread_from_legs_equals_theirs_but_for_the_stub_contract_in_info():
    expected, ours = spreads_from_legs(samples.SPY_CALL_600, samples.SPY_CALL_610)
    assert type(ours) is type(expected)
    assert set(differences(expected, ours)) == {"info"}
    assert ours.info is None  # theirs holds a four-field OPT contract no request can use


def test_spread_of_index_options_is_classed_as_index_unlike_theirs():
    expected, ours = spreads_from_legs(samples.SPX_OPTION)
    assert (expected.asset_class.name, ours.asset_class.name) == ("EQUITY", "INDEX")
