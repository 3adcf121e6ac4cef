"""Configuration of the Interactive Brokers data client, execution client and provider.

Class names, field names, defaults and base classes match
``nautilus_trader.adapters.interactive_brokers.config``, so these configs drop into a
``TradingNodeConfig`` in place of NautilusTrader's. Two deliberate differences, both
invisible to code that builds configs in Python:

- ``market_data_type`` is annotated ``int`` (its values are ints already: ibapi's
  ``MarketDataTypeEnum`` is a plain attribute bag, not a type). NautilusTrader annotates
  it with that instance, which makes its data client config impossible to decode from
  JSON; ours decodes.
- ``InteractiveBrokersInstrumentProviderConfig`` equality and hashing cover every field,
  so two configs are equal exactly when they configure the same provider.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

import msgspec
from ibapi.common import MarketDataTypeEnum as IBMarketDataTypeEnum
from nautilus_trader.config import (
    InstrumentProviderConfig,
    LiveDataClientConfig,
    LiveExecClientConfig,
    NautilusConfig,
)

from adapter.common import IBContract


class SymbologyMethod(Enum):
    """How IB contracts are named as NautilusTrader instrument ids.

    See ``adapter.parsing.symbology`` for the rules of each method.
    """

    IB_SIMPLIFIED = "simplified"  # readable ids: AAPL.NASDAQ, ESZ5.CME, EUR/USD.IDEALPRO
    IB_RAW = "raw"  # IB's own local symbol and security type: EUR.USD=CASH.IDEALPRO


class DockerizedIBGatewayConfig(NautilusConfig, frozen=True):
    """Configuration of an IB Gateway run in a Docker container.

    Parameters
    ----------
    username : str, optional
        IB account user name; ``None`` reads the ``TWS_USERNAME`` environment variable.
    password : str, optional
        IB account password; ``None`` reads the ``TWS_PASSWORD`` environment variable.
    trading_mode : "paper" or "live"
    read_only_api : bool, default True
        When True the gateway refuses orders; set False to trade.
    timeout : int, default 300
        Seconds to wait for the container to log in.
    container_image : str
        The IB Gateway image to run.
    vnc_port : int, optional
        Host port for VNC access to the gateway's screen; ``None`` disables VNC.
    """

    username: str | None = None
    password: str | None = None
    trading_mode: Literal["paper", "live"] = "paper"
    read_only_api: bool = True
    timeout: int = 300
    container_image: str = "ghcr.io/gnzsnz/ib-gateway:stable"
    vnc_port: int | None = None

    def __repr__(self) -> str:
        # Credentials end up in logs through repr; show only their outline.
        return (
            f"{type(self).__name__}(username={_mask(self.username)}, password=********, "
            f"trading_mode={self.trading_mode!r}, read_only_api={self.read_only_api}, "
            f"timeout={self.timeout}, container_image={self.container_image!r}, "
            f"vnc_port={self.vnc_port})"
        )


def _mask(secret: str | None) -> str:
    if secret is None:
        return "None"
    if len(secret) <= 2:
        return "*" * len(secret)
    return f"{secret[0]}{'*' * (len(secret) - 2)}{secret[-1]}"


class InteractiveBrokersInstrumentProviderConfig(InstrumentProviderConfig, frozen=True):
    """Configuration of ``InteractiveBrokersInstrumentProvider``.

    ``load_ids`` (instrument ids) and ``load_contracts`` (``IBContract`` queries, which
    can expand to whole futures or options chains) choose what loads at start; more
    instruments can be requested at run time. ``load_all`` is not supported by IB.

    Parameters
    ----------
    symbology_method : SymbologyMethod, default IB_SIMPLIFIED
        How contracts are named as instrument ids (see ``adapter.parsing.symbology``).
    load_contracts : frozenset[IBContract], optional
        Contract queries loaded at start.
    build_options_chain, build_futures_chain : bool, optional
        Expand every applicable loaded contract into its options or futures chain.
    min_expiry_days, max_expiry_days : int, optional
        Keep only chain members expiring in this many days from now (the provider
        defaults to 0 and 90).
    convert_exchange_to_mic_venue : bool, default False
        Name venues by ISO 10383 MIC (XNAS, XCME) instead of IB exchange (NASDAQ, CME).
    symbol_to_mic_venue : dict[str, str], default {}
        MIC overrides by symbol prefix, e.g. ``{"ES": "XCME"}`` for ES futures and options.
    cache_validity_days : int, optional
        Reload instruments at this interval while the node runs; ``None`` loads once.
    pickle_path : str, optional
        Where to keep contract details between runs while they are valid.
    filter_sec_types : frozenset[str], default frozenset()
        IB security types to skip, e.g. ``frozenset({"WAR", "IOPT"})``.
    """

    symbology_method: SymbologyMethod = SymbologyMethod.IB_SIMPLIFIED
    load_contracts: frozenset[IBContract] | None = None
    build_options_chain: bool | None = None
    build_futures_chain: bool | None = None
    min_expiry_days: int | None = None
    max_expiry_days: int | None = None
    convert_exchange_to_mic_venue: bool = False
    symbol_to_mic_venue: dict = {}

    cache_validity_days: int | None = None
    pickle_path: str | None = None
    filter_sec_types: frozenset[str] = frozenset()

    # The base class compares only three of its own fields; a provider config must be
    # equal exactly when every field is, since factories share providers by config.
    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__struct_fields__)

    def __hash__(self) -> int:
        return hash(_hashable(self))


def _hashable(value: Any) -> Any:
    """A hashable stand-in for ``value`` that is equal whenever the values are equal."""
    if isinstance(value, msgspec.Struct):
        return (
            type(value).__qualname__,
            *(_hashable(getattr(value, f)) for f in value.__struct_fields__),
        )
    if isinstance(value, dict):
        return frozenset((key, _hashable(item)) for key, item in value.items())
    if isinstance(value, set | frozenset):
        return frozenset(_hashable(item) for item in value)
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return value


class InteractiveBrokersDataClientConfig(LiveDataClientConfig, frozen=True):
    """Configuration of ``InteractiveBrokersDataClient``.

    Parameters
    ----------
    ibg_host : str, default "127.0.0.1"
        Host of the IB Gateway or TWS.
    ibg_port : int, optional
        Its API port (by convention Gateway 4002 paper / 4001 live, TWS 7497 / 7496).
        Must be ``None`` when ``dockerized_gateway`` is set.
    ibg_client_id : int, default 1
        The API client id of the connection.
    use_regular_trading_hours : bool, default True
        Bars from regular trading hours only (no effect on ticks).
    market_data_type : int, default IBMarketDataTypeEnum.REALTIME
        One of ``IBMarketDataTypeEnum``'s values; ``DELAYED_FROZEN`` works without a
        market data subscription.
    ignore_quote_tick_size_updates : bool, default False
        Skip quote updates where only a size changed.
    dockerized_gateway : DockerizedIBGatewayConfig, optional
        Run and connect to a gateway container.
    connection_timeout : int, default 300
        Seconds to wait for the connection.
    request_timeout : int, default 60
        Seconds to wait for a historical data response.
    """

    instrument_provider: InteractiveBrokersInstrumentProviderConfig = (
        InteractiveBrokersInstrumentProviderConfig()
    )

    ibg_host: str = "127.0.0.1"
    ibg_port: int | None = None
    ibg_client_id: int = 1
    use_regular_trading_hours: bool = True
    market_data_type: int = IBMarketDataTypeEnum.REALTIME
    ignore_quote_tick_size_updates: bool = False
    dockerized_gateway: DockerizedIBGatewayConfig | None = None
    connection_timeout: int = 300
    request_timeout: int = 60


class InteractiveBrokersExecClientConfig(LiveExecClientConfig, frozen=True):
    """Configuration of ``InteractiveBrokersExecutionClient``.

    Parameters
    ----------
    ibg_host, ibg_port, ibg_client_id, dockerized_gateway, connection_timeout
        As for ``InteractiveBrokersDataClientConfig``.
    account_id : str, optional
        The IB account to trade; ``None`` reads the ``TWS_ACCOUNT`` environment variable.
        It must be one of the accounts the gateway is logged in to.
    fetch_all_open_orders : bool, default False
        Reconcile with ``reqAllOpenOrders`` (orders of every API client and the TWS
        screen) instead of ``reqOpenOrders`` (this client's orders only).
    track_option_exercise_from_position_update : bool, default False
        Subscribe to position updates to notice option exercises and assignments.
    """

    instrument_provider: InteractiveBrokersInstrumentProviderConfig = (
        InteractiveBrokersInstrumentProviderConfig()
    )
    ibg_host: str = "127.0.0.1"
    ibg_port: int | None = None
    ibg_client_id: int = 1
    account_id: str | None = None
    dockerized_gateway: DockerizedIBGatewayConfig | None = None
    connection_timeout: int = 300
    fetch_all_open_orders: bool = False
    track_option_exercise_from_position_update: bool = False
