"""What the world tells the session, in the order a real Gateway would send it.

Every event names the client it belongs to (`client_id`, the order's owner) where
that applies; account events name the account. The session decides who else sees an
event (client 0, reqAutoOpenOrders, account subscriptions). Errors tied to an order
(`OrderErrorEvent`) carry IB's code and text: 103, 104, 105, 110, 200, 201, 202, 321,
387, 434, 10147, 10148.

A fill produces, in order: ExecutionEvent (execDetails + its commissionReport, which
the session may send straight after or after the status, both happen in real IB),
OpenOrderEvent (on the last fill, with status Filled and the commission),
OrderStatusEvent, then PositionEvent, PortfolioEvent and AccountValuesEvent.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from fake_tws.ibtypes import CommissionReport, Contract, Execution, Order, OrderState

from .records import AccountValue, PortfolioItem


class OpenOrderEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    client_id: int
    order_id: int
    contract: Contract
    order: Order
    order_state: OrderState


class OrderStatusEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    client_id: int
    order_id: int
    perm_id: int
    status: str
    filled: Decimal
    remaining: Decimal
    avg_fill_price: float
    last_fill_price: float
    parent_id: int
    why_held: str
    mkt_cap_price: float = 0.0


class ExecutionEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    client_id: int
    order_id: int
    contract: Contract
    execution: Execution
    commission_report: CommissionReport
    time: datetime


class OrderErrorEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    client_id: int
    order_id: int
    code: int
    message: str
    advanced_order_reject_json: str = ""


class PositionEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    account: str
    contract: Contract
    position: Decimal
    avg_cost: float


class PortfolioEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    item: PortfolioItem


class AccountValuesEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True):
    """The account values that changed since the last such event for this account."""

    account: str
    values: tuple[AccountValue, ...]


Event = (
    OpenOrderEvent
    | OrderStatusEvent
    | ExecutionEvent
    | OrderErrorEvent
    | PositionEvent
    | PortfolioEvent
    | AccountValuesEvent
)
