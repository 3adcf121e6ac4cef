"""Factories a ``TradingNode`` builds the IB data and execution clients with.

Same names and signatures as ``nautilus_trader.adapters.interactive_brokers.factories``::

    node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
    node.add_exec_client_factory(IB, InteractiveBrokersLiveExecClientFactory)

Clients built for the same gateway and API client id share one connection
(``get_cached_ib_client``, keyed by host, port and client id: TWS allows one connection
per client id) and, for equal provider configs, one instrument provider.

Where ours departs from NautilusTrader's, each where theirs fails:

- The connection is shared per ``(host, port, client_id)``. Theirs keys it by
  ``fetch_all_open_orders`` too, and its data factory never passes that flag, so a data
  and an execution config with ``fetch_all_open_orders=True`` on one client id open two
  connections with one client id, and TWS refuses the second (error 326). Here the flag
  is a setting of the shared connection: any execution client asking for it turns it on.
- A cached connection or provider belonging to another node (another event loop or
  cache, e.g. a second ``TradingNode`` in the same process) is not reused.
- No port and no dockerized gateway is a clear ``ValueError`` naming the usual ports
  (theirs fails a bare ``PyCondition``); a missing account id likewise (theirs asserts).
"""

from __future__ import annotations

import asyncio
import os

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.live.factories import LiveDataClientFactory, LiveExecClientFactory
from nautilus_trader.model.identifiers import AccountId

from adapter.client import InteractiveBrokersClient
from adapter.common import IB_VENUE
from adapter.config import (
    DockerizedIBGatewayConfig,
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersExecClientConfig,
    InteractiveBrokersInstrumentProviderConfig,
)
from adapter.data import InteractiveBrokersDataClient
from adapter.execution import InteractiveBrokersExecutionClient
from adapter.gateway import DockerizedIBGateway
from adapter.providers import InteractiveBrokersInstrumentProvider

GATEWAYS: dict[tuple, DockerizedIBGateway] = {}
IB_CLIENTS: dict[tuple, InteractiveBrokersClient] = {}
IB_INSTRUMENT_PROVIDERS: dict[tuple, InteractiveBrokersInstrumentProvider] = {}


def get_cached_ib_client(
    loop: asyncio.AbstractEventLoop,
    msgbus: MessageBus,
    cache: Cache,
    clock: LiveClock,
    host: str = "127.0.0.1",
    port: int | None = None,
    client_id: int = 1,
    dockerized_gateway: DockerizedIBGatewayConfig | None = None,
    fetch_all_open_orders: bool = False,
) -> InteractiveBrokersClient:
    """The started ``InteractiveBrokersClient`` for ``(host, port, client_id)``: the one
    already made for this node, or a new one.

    With ``dockerized_gateway`` the gateway container is started first (one per trading
    mode) and ``host``/``port`` must be left at their defaults.
    """
    if dockerized_gateway is not None:
        if host != "127.0.0.1" or port is not None:
            raise ValueError(
                "With dockerized_gateway leave ibg_host at 127.0.0.1 and ibg_port unset: "
                "the gateway container decides them",
            )
        gateway_key = (dockerized_gateway.trading_mode,)
        gateway = GATEWAYS.get(gateway_key)
        if gateway is None:
            gateway = DockerizedIBGateway(dockerized_gateway)
            gateway.safe_start(wait=dockerized_gateway.timeout)
            GATEWAYS[gateway_key] = gateway
        port = gateway.port
    elif port is None:
        raise ValueError(
            "Set ibg_port to the API port of TWS or IB Gateway (Gateway: 4002 paper, 4001 "
            "live; TWS: 7497 paper, 7496 live), or configure dockerized_gateway",
        )
    if not host:
        raise ValueError("Set ibg_host to the address of TWS or IB Gateway")

    key = (host, port, client_id)
    client = IB_CLIENTS.get(key)
    if client is None or not _belongs_to(client, loop, cache):
        client = InteractiveBrokersClient(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            host=host,
            port=port,
            client_id=client_id,
            fetch_all_open_orders=fetch_all_open_orders,
        )
        IB_CLIENTS[key] = client
    if fetch_all_open_orders:
        client._fetch_all_open_orders = True
    if not client.is_running and not client.is_degraded:
        client.start()
    return client


def _belongs_to(
    client: InteractiveBrokersClient, loop: asyncio.AbstractEventLoop, cache: Cache
) -> bool:
    """The cached client serves this node: same loop and cache, not disposed."""
    return (
        client._loop is loop
        and client._cache is cache
        and not client.is_disposed
        and not loop.is_closed()
    )


def get_cached_interactive_brokers_instrument_provider(
    client: InteractiveBrokersClient,
    clock: LiveClock,
    config: InteractiveBrokersInstrumentProviderConfig,
) -> InteractiveBrokersInstrumentProvider:
    """The provider for this connection and config: shared by clients that ask for the
    same (configs compare on every field)."""
    key = ((client._host, client._port, client._client_id), hash(config))
    provider = IB_INSTRUMENT_PROVIDERS.get(key)
    if provider is None or provider._client is not client or provider.config != config:
        provider = InteractiveBrokersInstrumentProvider(client=client, clock=clock, config=config)
        IB_INSTRUMENT_PROVIDERS[key] = provider
    return provider


class InteractiveBrokersLiveDataClientFactory(LiveDataClientFactory):
    """Builds ``InteractiveBrokersDataClient``s for a ``TradingNode``."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: InteractiveBrokersDataClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> InteractiveBrokersDataClient:
        client = get_cached_ib_client(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            host=config.ibg_host,
            port=config.ibg_port,
            client_id=config.ibg_client_id,
            dockerized_gateway=config.dockerized_gateway,
        )
        provider = get_cached_interactive_brokers_instrument_provider(
            client=client,
            clock=clock,
            config=config.instrument_provider,
        )
        return InteractiveBrokersDataClient(
            loop=loop,
            client=client,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            ibg_client_id=config.ibg_client_id,
            config=config,
            name=name,
            connection_timeout=config.connection_timeout,
            request_timeout=config.request_timeout,
        )


class InteractiveBrokersLiveExecClientFactory(LiveExecClientFactory):
    """Builds ``InteractiveBrokersExecutionClient``s for a ``TradingNode``."""

    @staticmethod
    def create(  # type: ignore[override]
        loop: asyncio.AbstractEventLoop,
        name: str,
        config: InteractiveBrokersExecClientConfig,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
    ) -> InteractiveBrokersExecutionClient:
        ib_account = config.account_id or os.environ.get("TWS_ACCOUNT")
        if not ib_account:
            raise ValueError(
                f"Set {type(config).__name__}.account_id or the TWS_ACCOUNT environment "
                "variable to the IB account to trade",
            )
        client = get_cached_ib_client(
            loop=loop,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            host=config.ibg_host,
            port=config.ibg_port,
            client_id=config.ibg_client_id,
            dockerized_gateway=config.dockerized_gateway,
            fetch_all_open_orders=config.fetch_all_open_orders,
        )
        provider = get_cached_interactive_brokers_instrument_provider(
            client=client,
            clock=clock,
            config=config.instrument_provider,
        )
        return InteractiveBrokersExecutionClient(
            loop=loop,
            client=client,
            account_id=AccountId(f"{name or IB_VENUE.value}-{ib_account}"),
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            instrument_provider=provider,
            config=config,
            name=name,
            connection_timeout=config.connection_timeout,
            track_option_exercise_from_position_update=(
                config.track_option_exercise_from_position_update
            ),
        )
