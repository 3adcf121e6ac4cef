"""Venues of contracts, and the IB exchanges a venue stands for."""

from __future__ import annotations

from collections import Counter

import pytest
from nautilus_trader.adapters.interactive_brokers.parsing.instruments import (
    VENUE_MEMBERS as THEIR_VENUE_MEMBERS,
)

from adapter.common import IBContract
from adapter.parsing import venues
from adapter.parsing.venues import VENUE_MEMBERS, exchanges_for_venue, venue_for_contract

AAPL = IBContract(secType="STK", symbol="AAPL", exchange="SMART", primaryExchange="NASDAQ")
ES = IBContract(secType="FUT", symbol="ES", exchange="CME", localSymbol="ESZ5")


def test_venue_is_the_primary_exchange_of_smart_routed_contracts():
    assert venue_for_contract(AAPL) == "NASDAQ"


def test_venue_is_the_listing_exchange_otherwise():
    assert venue_for_contract(ES) == "CME"


def test_smart_routed_contract_without_primary_exchange_is_at_smart():
    option = IBContract(secType="OPT", symbol="AAPL", exchange="SMART")
    assert venue_for_contract(option) == "SMART"


def test_venue_converts_to_mic_on_request():
    assert venue_for_contract(AAPL, convert_exchange_to_mic_venue=True) == "XNAS"
    assert venue_for_contract(ES, convert_exchange_to_mic_venue=True) == "XCME"


def test_symbol_prefix_overrides_the_mic():
    overrides = {"ES": "GLBX", "AA": "XNYS"}
    assert venue_for_contract(ES, True, overrides) == "GLBX"
    assert venue_for_contract(AAPL, True, overrides) == "XNYS"
    assert venue_for_contract(ES, False, overrides) == "CME"  # only with conversion on


def test_exchange_without_mic_keeps_its_name():
    contract = IBContract(secType="STK", exchange="SMART", primaryExchange="PINK")
    assert venue_for_contract(contract, convert_exchange_to_mic_venue=True) == "PINK"


def test_exchanges_for_venue():
    assert exchanges_for_venue("XNAS") == ["NASDAQ"]
    assert exchanges_for_venue("GLBX") == ["CBOT", "CME", "NYBOT", "NYMEX"]
    assert exchanges_for_venue("XCEC") == ["CME"]
    assert exchanges_for_venue("NASDAQ") == ["NASDAQ"]  # not a MIC: the exchange itself


def test_every_exchange_converts_to_one_mic():
    counts = Counter(e for mic, es in venues._EXCHANGES_BY_MIC.items() for e in es)
    assert [e for e, n in counts.items() if n > 1] == []


def test_group_mics_are_accepted_but_never_produced():
    for mic, exchanges in venues._GROUP_MICS.items():
        assert mic not in venues._EXCHANGES_BY_MIC
        assert all(venues.mic_for_exchange(e) != mic for e in exchanges)


# Where NautilusTrader lists one IB code under two MICs and the first listed wins wrongly.
CORRECTED_MICS = {"EBS": ("XBRU", "XSWX"), "TASE": ("XTAI", "XTAE")}


def their_mic_for(exchange: str) -> str | None:
    """NautilusTrader's conversion: the first MIC whose members include the exchange."""
    return next((mic for mic, es in THEIR_VENUE_MEMBERS.items() if exchange in es), None)


def test_mic_conversion_agrees_with_theirs_but_for_corrected_codes():
    their_exchanges = {e for es in THEIR_VENUE_MEMBERS.values() for e in es}
    for exchange in sorted(their_exchanges):
        if exchange in CORRECTED_MICS:
            assert (their_mic_for(exchange), venues.mic_for_exchange(exchange)) == CORRECTED_MICS[
                exchange
            ]
        else:
            assert venues.mic_for_exchange(exchange) == their_mic_for(exchange), exchange


@pytest.mark.parametrize("mic", sorted(THEIR_VENUE_MEMBERS))
def test_venue_members_agree_with_theirs_but_for_corrected_codes(mic):
    corrected = {"XBRU": ["ENEXT.BE"], "XTAI": ["TWSE"]}
    assert VENUE_MEMBERS[mic] == corrected.get(mic, THEIR_VENUE_MEMBERS[mic])
