"""A NautilusTrader Interactive Brokers adapter.

Its public names, configs and defaults match
``nautilus_trader.adapters.interactive_brokers``, so switching is a change of imports;
``adapter/SURFACE.md`` lists that surface and where this adapter departs from it. A
``TradingNodeConfig`` is built exactly as with NautilusTrader's adapter::

    from adapter.common import IB
    from adapter.config import InteractiveBrokersDataClientConfig, InteractiveBrokersExecClientConfig
    from adapter.factories import (
        InteractiveBrokersLiveDataClientFactory,
        InteractiveBrokersLiveExecClientFactory,
    )

The module paths are theirs (``adapter.config`` for ``...interactive_brokers.config``);
the main names are also importable from the package itself (``from adapter import
InteractiveBrokersDataClientConfig``), loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "IB": "adapter.common",
    "IB_VENUE": "adapter.common",
    "IB_CLIENT_ID": "adapter.common",
    "IBContract": "adapter.common",
    "IBContractDetails": "adapter.common",
    "IBOrderTags": "adapter.common",
    "ComboLeg": "adapter.common",
    "SymbologyMethod": "adapter.config",
    "IBMarketDataTypeEnum": "adapter.config",
    "DockerizedIBGatewayConfig": "adapter.config",
    "InteractiveBrokersInstrumentProviderConfig": "adapter.config",
    "InteractiveBrokersDataClientConfig": "adapter.config",
    "InteractiveBrokersExecClientConfig": "adapter.config",
    "InteractiveBrokersClient": "adapter.client",
    "InteractiveBrokersInstrumentProvider": "adapter.providers",
    "InteractiveBrokersDataClient": "adapter.data",
    "InteractiveBrokersExecutionClient": "adapter.execution",
    "InteractiveBrokersLiveDataClientFactory": "adapter.factories",
    "InteractiveBrokersLiveExecClientFactory": "adapter.factories",
    "DockerizedIBGateway": "adapter.gateway",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'adapter' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
