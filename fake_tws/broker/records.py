"""Plain values the world answers queries with (account values, positions, orders...)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from fake_tws.ibtypes import CommissionReport, Contract, Execution, Order, OrderState


class AccountValue(msgspec.Struct, frozen=True, kw_only=True):
    """One reqAccountUpdates key; `value` is already the text IB sends."""

    account: str
    key: str
    value: str
    currency: str


class AccountSummaryItem(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    tag: str
    value: str
    currency: str


class PortfolioItem(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    contract: Contract
    position: Decimal
    market_price: float
    market_value: float
    average_cost: float
    unrealized_pnl: float
    realized_pnl: float


class PositionRow(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    contract: Contract
    position: Decimal
    avg_cost: float


class PnL(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    daily_pnl: float
    unrealized_pnl: float
    realized_pnl: float


class PnLSingle(msgspec.Struct, frozen=True, kw_only=True):
    account: str
    con_id: int
    position: Decimal
    daily_pnl: float
    unrealized_pnl: float
    realized_pnl: float
    value: float


class OrderView(msgspec.Struct, frozen=True, kw_only=True):
    """An order as openOrder / completedOrder and orderStatus describe it."""

    client_id: int
    order_id: int
    perm_id: int
    contract: Contract
    order: Order
    order_state: OrderState
    status: str
    filled: Decimal
    remaining: Decimal
    avg_fill_price: float
    last_fill_price: float
    parent_id: int
    why_held: str


class ExecutionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An execution with its contract and commission report (reqExecutions)."""

    contract: Contract
    execution: Execution
    commission_report: CommissionReport
    time: datetime  # aware UTC; `execution.time` is the text IB sends
    sec_type: str
