"""The simulated broker world: contracts, prices, orders and accounts as plain state.

Knows nothing of bytes, message ids or sessions (see DESIGN.md). Start at `World`
(world.py documents the whole API); the modules underneath can be used on their own.
"""

from .accounts import AccountConfig, StartPosition
from .bars import Bar, BarRequestError
from .catalog import Catalog, NoSecurityDefinition, OptionChainParams
from .events import (
    AccountValuesEvent,
    Event,
    ExecutionEvent,
    OpenOrderEvent,
    OrderErrorEvent,
    OrderStatusEvent,
    PortfolioEvent,
    PositionEvent,
)
from .instruments import Instrument
from .market import HistoricalDataError, Market, MarketDataType, Quote, TradePrint
from .orders import FillPlan, FillSlice
from .records import (
    AccountSummaryItem,
    AccountValue,
    ExecutionRecord,
    OrderView,
    PnL,
    PnLSingle,
    PortfolioItem,
    PositionRow,
)
from .timesource import Clock, TimeSource
from .world import EventQueue, World, WorldConfig

__all__ = [
    "AccountConfig",
    "AccountSummaryItem",
    "AccountValue",
    "AccountValuesEvent",
    "Bar",
    "BarRequestError",
    "Catalog",
    "Clock",
    "Event",
    "EventQueue",
    "ExecutionEvent",
    "ExecutionRecord",
    "FillPlan",
    "FillSlice",
    "HistoricalDataError",
    "Instrument",
    "Market",
    "MarketDataType",
    "NoSecurityDefinition",
    "OpenOrderEvent",
    "OptionChainParams",
    "OrderErrorEvent",
    "OrderStatusEvent",
    "OrderView",
    "PnL",
    "PnLSingle",
    "PortfolioEvent",
    "PortfolioItem",
    "PositionEvent",
    "PositionRow",
    "Quote",
    "StartPosition",
    "TimeSource",
    "TradePrint",
    "World",
    "WorldConfig",
]
