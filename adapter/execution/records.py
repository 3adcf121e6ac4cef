"""What the execution client remembers of each order it placed, and what it has told
NautilusTrader about it (events go through the engine's queue, so the cache lags)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from ibapi.order import Order as IBOrder
from nautilus_trader.model.enums import OrderStatus
from nautilus_trader.model.identifiers import ClientOrderId

ACCOUNT_TAGS = ("NetLiquidation", "FullAvailableFunds", "FullInitMarginReq", "FullMaintMarginReq")
FILL_WAIT = 5.0  # seconds a terminal status waits for the fills it says happened
ACCOUNT_REFRESH_DELAY = 0.2  # seconds after the last fill before asking for the account


@dataclass
class Placed:
    """What we know of one of our orders at IB, and what we have told NautilusTrader."""

    client_order_id: ClientOrderId
    order_id: int
    ib_order: IBOrder | None
    accepted: bool = False
    closed: bool = False
    filled: Decimal = Decimal(0)  # the sum of fills generated
    cancel_requested: bool = False
    modify_requested: bool = False
    waiting: asyncio.Task | None = None  # a terminal event waiting for fills
    filled_changed: asyncio.Event = field(default_factory=asyncio.Event)
    exec_ids: set[str] = field(default_factory=set)
    told: tuple | None = None  # (quantity, price, trigger price) NautilusTrader was told


CLOSED = frozenset(
    {
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
        OrderStatus.REJECTED,
        OrderStatus.DENIED,
    },
)


def fills_by_order(executions: list[dict[str, Any]]) -> dict[int, tuple[Decimal, Decimal]]:
    """Per IB order id: filled quantity and notional (for the average price)."""
    fills: dict[int, tuple[Decimal, Decimal]] = {}
    for entry in executions:
        execution = entry["execution"]
        shares = Decimal(str(execution.shares))
        qty, notional = fills.get(execution.orderId, (Decimal(0), Decimal(0)))
        fills[execution.orderId] = (qty + shares, notional + shares * Decimal(str(execution.price)))
    return fills


def copy_order(order: IBOrder) -> IBOrder:
    copy = IBOrder()
    copy.__dict__.update(order.__dict__)
    return copy
