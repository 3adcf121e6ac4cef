"""The TWS API's vocabulary as plain value types: Contract, Order, Execution, Bar...

Both the wire codec (`protocol/`) and the simulated world (`broker/`) speak in these
types, so neither has to translate a 140-field Order into its own twin. This package
knows no bytes, no message ids and no world state. Field names follow IB's API; None
means "unset" (IB's max-value sentinels on the wire); quantities are Decimal.
"""

from .contract import ComboLeg, Contract, DeltaNeutralContract, TagValue
from .contract_details import ContractDescription, ContractDetails, IneligibilityReason
from .execution import CommissionReport, Execution, ExecutionFilter
from .market_data import (
    BarData,
    DepthMktDataDescription,
    HistogramEntry,
    HistoricalSession,
    HistoricalTick,
    HistoricalTickBidAsk,
    HistoricalTickLast,
    PriceIncrement,
    RealTimeBar,
    SmartComponent,
    TickAttrib,
    TickAttribBidAsk,
    TickAttribLast,
)
from .misc import FamilyCode, NewsProvider, ScanData, ScannerSubscription, WshEventData
from .order import Order, OrderCancel, OrderComboLeg, OrderState, SoftDollarTier
from .order_conditions import OrderCondition

__all__ = [
    "BarData",
    "ComboLeg",
    "CommissionReport",
    "Contract",
    "ContractDescription",
    "ContractDetails",
    "DeltaNeutralContract",
    "DepthMktDataDescription",
    "Execution",
    "ExecutionFilter",
    "FamilyCode",
    "HistogramEntry",
    "HistoricalSession",
    "HistoricalTick",
    "HistoricalTickBidAsk",
    "HistoricalTickLast",
    "IneligibilityReason",
    "NewsProvider",
    "Order",
    "OrderCancel",
    "OrderComboLeg",
    "OrderCondition",
    "OrderState",
    "PriceIncrement",
    "RealTimeBar",
    "ScanData",
    "ScannerSubscription",
    "SmartComponent",
    "SoftDollarTier",
    "TagValue",
    "TickAttrib",
    "TickAttribBidAsk",
    "TickAttribLast",
    "WshEventData",
]
