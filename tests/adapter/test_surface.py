"""Our public surface against NautilusTrader's: same names, fields, types and defaults.

Where ours departs on purpose, the difference is listed here and asserted exactly, so a
change on either side shows up.
"""

from __future__ import annotations

import inspect
import re
import types

import msgspec
import nautilus_trader.adapters.interactive_brokers.common as their_common
import nautilus_trader.adapters.interactive_brokers.config as their_config
import nautilus_trader.adapters.interactive_brokers.parsing.instruments as their_instruments
import pytest
from nautilus_trader.config import LiveDataClientConfig, LiveExecClientConfig, TradingNodeConfig

import adapter.common as our_common
import adapter.config as our_config
import adapter.parsing.instruments as our_instruments

STRUCTS = [
    (our_config, their_config, "DockerizedIBGatewayConfig"),
    (our_config, their_config, "InteractiveBrokersInstrumentProviderConfig"),
    (our_config, their_config, "InteractiveBrokersDataClientConfig"),
    (our_config, their_config, "InteractiveBrokersExecClientConfig"),
    (our_common, their_common, "ComboLeg"),
    (our_common, their_common, "DeltaNeutralContract"),
    (our_common, their_common, "IBContract"),
    (our_common, their_common, "IBOrderTags"),
    (our_common, their_common, "IBContractDetails"),
]

# (class, field) -> (our type, their type), as rendered by type_name().
DELIBERATE_TYPE_DIFFERENCES = {
    # Theirs is annotated with an ibapi attribute-bag instance, which msgspec cannot decode.
    ("InteractiveBrokersDataClientConfig", "market_data_type"): ("int", "<ibapi Enum>"),
    # Theirs says `list` yet defaults to None, so a null in JSON does not decode.
    ("IBContractDetails", "ineligibilityReasonList"): ("list | None", "list"),
}
# Fields theirs leaves unannotated (class constants that the constructor rejects).
DELIBERATE_EXTRA_FIELDS = {"IBOrderTags": ["blockOrder", "sweepToFill"]}

_MODULE_PREFIX = re.compile(r"\b(nautilus_trader\.adapters\.interactive_brokers|adapter)\.")


def type_name(tp: object) -> str:
    """A type written without the adapter's package, so both adapters' types compare."""
    if type(tp).__name__ == "Enum" and type(tp).__module__ == "ibapi.enum_implem":
        return "<ibapi Enum>"
    text = tp.__name__ if isinstance(tp, type) else repr(tp)
    return _MODULE_PREFIX.sub("", text).replace("typing.", "")


def qualified_name(tp: object) -> str:
    return f"{tp.__module__}.{tp.__qualname__}" if isinstance(tp, type) else repr(tp)


def plain(value: object) -> object:
    return msgspec.to_builtins(value, enc_hook=repr)


def struct_fields(cls: type) -> dict[str, msgspec.structs.FieldInfo]:
    return {f.name: f for f in msgspec.structs.fields(cls)}


@pytest.mark.parametrize(
    ("ours_module", "theirs_module", "name"), STRUCTS, ids=[s[2] for s in STRUCTS]
)
def test_struct_has_their_fields_types_and_defaults(ours_module, theirs_module, name):
    ours = struct_fields(getattr(ours_module, name))
    theirs = struct_fields(getattr(theirs_module, name))

    extra = DELIBERATE_EXTRA_FIELDS.get(name, [])
    assert [f for f in ours if f not in extra] == list(theirs)
    for field_name, their_field in theirs.items():
        our_field = ours[field_name]
        types_seen = (type_name(our_field.type), type_name(their_field.type))
        expected_types = DELIBERATE_TYPE_DIFFERENCES.get((name, field_name))
        assert types_seen == expected_types or types_seen[0] == types_seen[1], field_name
        assert plain(our_field.default) == plain(their_field.default), field_name
        # Same names would hide a field typed with their class: ours must use our own.
        assert "nautilus_trader.adapters" not in qualified_name(our_field.type), field_name


@pytest.mark.parametrize(
    ("ours_module", "theirs_module", "name"), STRUCTS, ids=[s[2] for s in STRUCTS]
)
def test_struct_is_configured_and_based_like_theirs(ours_module, theirs_module, name):
    ours, theirs = getattr(ours_module, name), getattr(theirs_module, name)
    options = ("frozen", "eq", "order", "omit_defaults", "repr_omit_defaults", "tag", "tag_field")
    for option in options:
        assert getattr(ours.__struct_config__, option) == getattr(theirs.__struct_config__, option)
    their_kinds = {p.kind for p in inspect.signature(theirs).parameters.values()}
    assert {p.kind for p in inspect.signature(ours).parameters.values()} == their_kinds

    def foreign_bases(cls):
        return [
            b
            for b in cls.__mro__
            if not b.__module__.startswith(("adapter", "nautilus_trader.adapters"))
        ]

    assert foreign_bases(ours) == foreign_bases(theirs)


def test_every_deliberate_difference_is_still_a_difference():
    for (name, field_name), (ours_type, theirs_type) in DELIBERATE_TYPE_DIFFERENCES.items():
        module = our_config if hasattr(our_config, name) else our_common
        their_module = their_config if hasattr(their_config, name) else their_common
        assert type_name(struct_fields(getattr(module, name))[field_name].type) == ours_type
        assert type_name(struct_fields(getattr(their_module, name))[field_name].type) == theirs_type
    for name, fields in DELIBERATE_EXTRA_FIELDS.items():
        assert set(fields) <= set(struct_fields(getattr(our_common, name)))
        assert not set(fields) & set(struct_fields(getattr(their_common, name)))


def public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


@pytest.mark.parametrize(
    ("ours", "theirs"), [(our_common, their_common), (our_config, their_config)]
)
def test_module_offers_every_public_name_of_theirs(ours, theirs):
    assert public_names(theirs) - public_names(ours) == set()


def test_constants_and_enums_are_theirs():
    assert our_common.IB == their_common.IB
    assert our_common.IB_VENUE == their_common.IB_VENUE
    assert our_common.IB_CLIENT_ID == their_common.IB_CLIENT_ID
    assert our_common.TickTypeMapping == their_common.TickTypeMapping
    assert issubclass(our_common.ContractId, int)
    assert our_config.IBMarketDataTypeEnum is their_config.IBMarketDataTypeEnum
    assert {m.name: m.value for m in our_config.SymbologyMethod} == {
        m.name: m.value for m in their_config.SymbologyMethod
    }


PARSING_FUNCTIONS = [
    "parse_instrument",
    "parse_spread_instrument_id",
    "ib_contract_to_instrument_id",
    "instrument_id_to_ib_contract",
    "contract_details_to_ib_contract_details",
    "contract_details_to_dict",
    "sec_type_to_asset_class",
    "expiry_timestring_to_datetime",
]


@pytest.mark.parametrize("name", PARSING_FUNCTIONS)
def test_parsing_function_takes_their_arguments(name):
    ours = inspect.signature(getattr(our_instruments, name)).parameters
    theirs = inspect.signature(getattr(their_instruments, name)).parameters
    their_shape = [(p.name, p.kind, plain(p.default)) for p in theirs.values()]
    our_shape = [(p.name, p.kind, plain(p.default)) for p in ours.values()]
    assert our_shape[: len(their_shape)] == their_shape
    # Anything we add must not disturb their calls: keyword-only with a default.
    for extra in list(ours.values())[len(their_shape) :]:
        assert extra.kind is inspect.Parameter.KEYWORD_ONLY
        assert extra.default is not inspect.Parameter.empty


def test_venue_members_lists_every_venue_of_theirs():
    assert set(our_instruments.VENUE_MEMBERS) == set(their_instruments.VENUE_MEMBERS)


def test_configs_slot_into_a_trading_node_config():
    data = our_config.InteractiveBrokersDataClientConfig(ibg_port=4002)
    execution = our_config.InteractiveBrokersExecClientConfig(ibg_port=4002, account_id="DU123")
    assert isinstance(data, LiveDataClientConfig)
    assert isinstance(execution, LiveExecClientConfig)
    node = TradingNodeConfig(data_clients={"IB": data}, exec_clients={"IB": execution})
    assert node.data_clients["IB"].instrument_provider.symbology_method.value == "simplified"


def test_data_client_config_survives_json_unlike_theirs():
    Config = our_config.InteractiveBrokersDataClientConfig
    config = Config(
        ibg_port=4002,
        market_data_type=our_config.IBMarketDataTypeEnum.DELAYED_FROZEN,
        instrument_provider=our_config.InteractiveBrokersInstrumentProviderConfig(
            load_contracts=frozenset({our_common.IBContract(secType="STK", symbol="AAPL")}),
            symbology_method=our_config.SymbologyMethod.IB_RAW,
        ),
    )
    assert Config.parse(config.json()) == config
    assert config.validate()

    theirs = their_config.InteractiveBrokersDataClientConfig(ibg_port=4002)
    with pytest.raises(TypeError, match="not supported"):
        their_config.InteractiveBrokersDataClientConfig.parse(theirs.json())
