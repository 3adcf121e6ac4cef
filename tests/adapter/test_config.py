"""Behaviour of the config and common types beyond their fields."""

from __future__ import annotations

import msgspec
import nautilus_trader.adapters.interactive_brokers.common as their_common
import pytest
from nautilus_trader.model.identifiers import InstrumentId

from adapter.common import ComboLeg, IBContract, IBOrderTags
from adapter.config import (
    DockerizedIBGatewayConfig,
    InteractiveBrokersInstrumentProviderConfig,
    SymbologyMethod,
)

ProviderConfig = InteractiveBrokersInstrumentProviderConfig


@pytest.mark.parametrize(
    "change",
    [
        {"symbology_method": SymbologyMethod.IB_RAW},
        {"convert_exchange_to_mic_venue": True},
        {"symbol_to_mic_venue": {"ES": "XCME"}},
        {"cache_validity_days": 1},
        {"pickle_path": "/tmp/details.pkl"},
        {"filter_callable": "strategies.filters:liquid_only"},
        {"load_all": True},
        {"filters": {"venue": "NASDAQ"}},
    ],
)
def test_provider_configs_differing_in_any_field_are_not_equal(change):
    assert ProviderConfig(**change) != ProviderConfig()


def test_equal_provider_configs_hash_alike_whatever_their_insertion_order():
    contracts = [IBContract(secType="STK", symbol=s, exchange="SMART") for s in ("AAPL", "MSFT")]
    first = ProviderConfig(
        load_ids=frozenset({InstrumentId.from_str("AAPL.NASDAQ")}),
        load_contracts=frozenset(contracts),
        symbol_to_mic_venue={"ES": "XCME", "NQ": "XCME"},
        filters={"sec_types": ["STK", "OPT"], "min_volume": 10},
        filter_sec_types=frozenset({"WAR", "IOPT"}),
    )
    second = ProviderConfig(
        load_ids=frozenset({InstrumentId.from_str("AAPL.NASDAQ")}),
        load_contracts=frozenset(reversed(contracts)),
        symbol_to_mic_venue={"NQ": "XCME", "ES": "XCME"},
        filters={"min_volume": 10, "sec_types": ["STK", "OPT"]},
        filter_sec_types=frozenset({"IOPT", "WAR"}),
    )
    assert first == second
    assert hash(first) == hash(second)
    assert len({first, second, ProviderConfig()}) == 2


def test_provider_config_holding_unhashable_values_still_hashes():
    combo = IBContract(secType="BAG", symbol="SPY", comboLegs=[ComboLeg(conId=1, ratio=1)])
    assert ProviderConfig(filters={"combo": combo}) == ProviderConfig(filters={"combo": combo})
    assert isinstance(hash(ProviderConfig(filters={"combo": combo})), int)


def test_provider_config_is_not_equal_to_other_types():
    assert ProviderConfig() != object()
    assert ProviderConfig() != their_common.IBContract()


@pytest.mark.parametrize(
    ("username", "shown"),
    [("trader42", "t******2"), ("ab", "**"), (None, "None")],
)
def test_gateway_config_repr_hides_credentials(username, shown):
    text = repr(DockerizedIBGatewayConfig(username=username, password="hunter2-secret"))
    assert f"username={shown}" in text
    assert "hunter2" not in text
    assert "password=********" in text


def test_order_tags_value_is_a_tag_their_execution_client_can_read():
    tags = IBOrderTags(ocaGroup="g1", ocaType=2, outsideRth=True, blockOrder=True)
    assert tags.value.startswith("IBOrderTags:")
    assert str(tags) == tags.value
    decoded = IBOrderTags.parse(tags.value.removeprefix("IBOrderTags:"))
    assert decoded == tags
    # NautilusTrader's struct reads our tag; it lacks the blockOrder field and drops it.
    theirs = their_common.IBOrderTags.parse(tags.value.removeprefix("IBOrderTags:"))
    assert (theirs.ocaGroup, theirs.ocaType, theirs.outsideRth) == ("g1", 2, True)


def test_order_tags_take_block_order_and_sweep_to_fill_unlike_theirs():
    tags = IBOrderTags(blockOrder=True, sweepToFill=True)
    assert msgspec.json.decode(tags.json())["sweepToFill"] is True
    with pytest.raises(TypeError):
        their_common.IBOrderTags(blockOrder=True)
