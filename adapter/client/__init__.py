"""The TWS API connection: ``InteractiveBrokersClient`` and what its methods raise.

One module per concern: ``connection`` (connect, reconnect, stop), ``error`` (routing of
IB errors, classified in ``codes``), ``account``, ``contract``, ``market_data``,
``order``; ``client`` puts them together around one message path. ``pacing`` keeps our
traffic inside IB's limits.
"""

from adapter.client.account import AccountValue, IBPosition, PnL, PnLSingle
from adapter.client.client import InteractiveBrokersClient
from adapter.client.codes import (
    ErrorKind,
    IBClientIdInUse,
    IBConnectionError,
    IBError,
    IBNoPermissions,
    IBNoSecurityDefinition,
    IBPacingViolation,
    IBRequestError,
    IBRequestTimeout,
    OrderEffect,
)
from adapter.client.connection import FarmStatus, ReconnectPolicy
from adapter.client.contract import OptionChain
from adapter.client.market_data import (
    BarUpdate,
    DepthUpdate,
    HistoricalBarsEnd,
    MarketDataTypeChanged,
    MarketSnapshot,
    TickGeneric,
    TickPrice,
    TickSize,
    TickString,
)

__all__ = [
    "AccountValue",
    "BarUpdate",
    "DepthUpdate",
    "ErrorKind",
    "FarmStatus",
    "HistoricalBarsEnd",
    "IBClientIdInUse",
    "IBConnectionError",
    "IBError",
    "IBNoPermissions",
    "IBNoSecurityDefinition",
    "IBPacingViolation",
    "IBPosition",
    "IBRequestError",
    "IBRequestTimeout",
    "InteractiveBrokersClient",
    "MarketDataTypeChanged",
    "MarketSnapshot",
    "OptionChain",
    "OrderEffect",
    "PnL",
    "PnLSingle",
    "ReconnectPolicy",
    "TickGeneric",
    "TickPrice",
    "TickSize",
    "TickString",
]
