"""The factories a TradingNode builds our clients with, and the surface of the data and
execution modules against NautilusTrader's (names, signatures, defaults)."""

from __future__ import annotations

import asyncio
import inspect

import nautilus_trader.adapters.interactive_brokers.data as their_data
import nautilus_trader.adapters.interactive_brokers.execution as their_execution
import nautilus_trader.adapters.interactive_brokers.factories as their_factories
import nautilus_trader.adapters.interactive_brokers.parsing.data as their_parsing_data
import nautilus_trader.adapters.interactive_brokers.parsing.execution as their_parsing_execution
import nautilus_trader.adapters.interactive_brokers.parsing.price_conversion as their_prices
import pytest
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.model.identifiers import TraderId

import adapter
import adapter.data as our_data
import adapter.execution as our_execution
import adapter.factories as our_factories
import adapter.parsing.data as our_parsing_data
import adapter.parsing.execution as our_parsing_execution
import adapter.parsing.price_conversion as our_prices
from adapter.config import (
    DockerizedIBGatewayConfig,
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersExecClientConfig,
)
from adapter.factories import (
    InteractiveBrokersLiveDataClientFactory,
    InteractiveBrokersLiveExecClientFactory,
    get_cached_ib_client,
)
from tests.adapter.node.support import ACCOUNT

# -- surface -------------------------------------------------------------------------------------

CALLABLES = [
    (our_data.InteractiveBrokersDataClient, their_data.InteractiveBrokersDataClient),
    (
        our_execution.InteractiveBrokersExecutionClient,
        their_execution.InteractiveBrokersExecutionClient,
    ),
    (our_factories.get_cached_ib_client, their_factories.get_cached_ib_client),
    (
        our_factories.get_cached_interactive_brokers_instrument_provider,
        their_factories.get_cached_interactive_brokers_instrument_provider,
    ),
    (
        our_factories.InteractiveBrokersLiveDataClientFactory.create,
        their_factories.InteractiveBrokersLiveDataClientFactory.create,
    ),
    (
        our_factories.InteractiveBrokersLiveExecClientFactory.create,
        their_factories.InteractiveBrokersLiveExecClientFactory.create,
    ),
    (our_parsing_data.what_to_show, their_parsing_data.what_to_show),
    (our_parsing_data.bar_spec_to_bar_size, their_parsing_data.bar_spec_to_bar_size),
    (our_parsing_data.timedelta_to_duration_str, their_parsing_data.timedelta_to_duration_str),
    (our_parsing_data.generate_trade_id, their_parsing_data.generate_trade_id),
    (
        our_parsing_execution.timestring_to_timestamp,
        their_parsing_execution.timestring_to_timestamp,
    ),
    (our_prices.ib_price_to_nautilus_price, their_prices.ib_price_to_nautilus_price),
    (our_prices.nautilus_price_to_ib_price, their_prices.nautilus_price_to_ib_price),
    (
        our_prices.get_price_magnifier_for_instrument,
        their_prices.get_price_magnifier_for_instrument,
    ),
]


def _parameters(fn) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


@pytest.mark.parametrize(
    ("ours", "theirs"), CALLABLES, ids=lambda f: getattr(f, "__qualname__", "")
)
def test_signatures_are_theirs(ours, theirs):
    assert _parameters(ours) == _parameters(theirs)


def test_module_names_are_theirs():
    for name in ("GATEWAYS", "IB_CLIENTS", "IB_INSTRUMENT_PROVIDERS"):
        assert isinstance(getattr(our_factories, name), dict)
    for name in ("MKT_DEPTH_OPERATIONS", "IB_SIDE"):
        assert getattr(our_parsing_data, name) == getattr(their_parsing_data, name)
    assert issubclass(
        our_factories.InteractiveBrokersLiveDataClientFactory, their_factories.LiveDataClientFactory
    )
    assert issubclass(
        our_factories.InteractiveBrokersLiveExecClientFactory, their_factories.LiveExecClientFactory
    )
    assert (
        adapter.InteractiveBrokersLiveExecClientFactory is InteractiveBrokersLiveExecClientFactory
    )
    with pytest.raises(AttributeError):
        adapter.NoSuchThing  # noqa: B018


# -- one connection per client id -------------------------------------------------------------------


class _Node:
    """What a node hands the factories."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.clock = LiveClock()
        self.msgbus = MessageBus(TraderId("TESTER-001"), self.clock)
        self.cache = Cache()

    def kwargs(self) -> dict:
        return {"loop": self.loop, "msgbus": self.msgbus, "cache": self.cache, "clock": self.clock}


@pytest.mark.asyncio
async def test_data_and_exec_clients_share_one_connection_whatever_fetch_all_open_orders(fake_tws):
    node = _Node(asyncio.get_running_loop())
    data_config = InteractiveBrokersDataClientConfig(ibg_port=fake_tws.port, ibg_client_id=7)
    exec_config = InteractiveBrokersExecClientConfig(
        ibg_port=fake_tws.port,
        ibg_client_id=7,
        account_id=ACCOUNT,
        fetch_all_open_orders=True,
    )
    clients = []
    try:
        data = InteractiveBrokersLiveDataClientFactory.create(
            name="IB", config=data_config, **node.kwargs()
        )
        execution = InteractiveBrokersLiveExecClientFactory.create(
            name="IB", config=exec_config, **node.kwargs()
        )
        clients.append(data._client)
        assert data._client is execution._client
        assert data._client._fetch_all_open_orders  # the exec client's wish holds
        assert data.instrument_provider is execution.instrument_provider  # equal configs
        assert (str(data.id), str(execution.id), str(execution.account_id)) == (
            "IB",
            "IB",
            f"IB-{ACCOUNT}",
        )
        await data._client.wait_until_ready(5)
        assert fake_tws.client_ids == frozenset({7})

        other = _Node(node.loop)  # a second node in this process gets its own client
        again = InteractiveBrokersLiveDataClientFactory.create(
            name="IB", config=data_config, **other.kwargs()
        )
        clients.append(again._client)
        assert again._client is not data._client
        assert our_factories.IB_CLIENTS[("127.0.0.1", fake_tws.port, 7)] is again._client
    finally:
        for client in clients:
            client.stop()
            await client.wait_until_stopped()
        for key in [k for k in our_factories.IB_CLIENTS if k[1] == fake_tws.port]:
            del our_factories.IB_CLIENTS[key]
        for key in [k for k in our_factories.IB_INSTRUMENT_PROVIDERS if k[0][1] == fake_tws.port]:
            del our_factories.IB_INSTRUMENT_PROVIDERS[key]


def test_missing_settings_are_clear_errors(monkeypatch):
    monkeypatch.delenv("TWS_ACCOUNT", raising=False)
    loop = asyncio.new_event_loop()
    try:
        node = _Node(loop)
        with pytest.raises(ValueError, match=r"ibg_port .* 4002 paper"):
            get_cached_ib_client(**node.kwargs())
        with pytest.raises(ValueError, match="dockerized_gateway"):
            get_cached_ib_client(
                port=4002, dockerized_gateway=DockerizedIBGatewayConfig(), **node.kwargs()
            )
        with pytest.raises(ValueError, match="account_id or the TWS_ACCOUNT"):
            InteractiveBrokersLiveExecClientFactory.create(
                name="IB",
                config=InteractiveBrokersExecClientConfig(ibg_port=4002),
                **node.kwargs(),
            )
    finally:
        loop.close()
