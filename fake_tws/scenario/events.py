"""The world events a scenario can trigger on, and the fields each carries.

This is the contract between the scenario language and the engine: the engine turns
broker and connection happenings into these structs, rules match their fields with
`where:`, and every field is bound by name (`$orderId`, `$symbol`) for the rule's actions.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

import msgspec


class ScenarioEvent(msgspec.Struct, frozen=True, kw_only=True):
    name: ClassVar[str]
    clientId: int = 0  # the client the event concerns (its order, its connection)


class Connected(ScenarioEvent, frozen=True, kw_only=True):
    name = "connected"
    serverVersion: int = 0


class Disconnected(ScenarioEvent, frozen=True, kw_only=True):
    name = "disconnected"
    reason: str = ""  # "client" (the client closed) or "server" (a scenario/fault did)


class OrderSubmitted(ScenarioEvent, frozen=True, kw_only=True):
    """The world accepted an order (it is working: PreSubmitted/Submitted)."""

    name = "order_submitted"
    orderId: int = 0
    account: str = ""
    symbol: str = ""
    action: str = ""
    orderType: str = ""
    totalQuantity: Decimal = Decimal(0)
    lmtPrice: float | None = None


class ExecutionEvent(ScenarioEvent, frozen=True, kw_only=True):
    """One fill (partial or final) of an order."""

    name = "execution"
    orderId: int = 0
    account: str = ""
    symbol: str = ""
    side: str = ""  # BOT / SLD
    shares: Decimal = Decimal(0)
    price: float = 0.0
    cumQty: Decimal = Decimal(0)
    remaining: Decimal = Decimal(0)


class OrderFilled(ScenarioEvent, frozen=True, kw_only=True):
    """An order filled completely."""

    name = "order_filled"
    orderId: int = 0
    account: str = ""
    symbol: str = ""
    action: str = ""
    filled: Decimal = Decimal(0)
    avgFillPrice: float = 0.0


class OrderCancelled(ScenarioEvent, frozen=True, kw_only=True):
    name = "order_cancelled"
    orderId: int = 0
    account: str = ""
    symbol: str = ""
    filled: Decimal = Decimal(0)
    remaining: Decimal = Decimal(0)


class OrderRejected(ScenarioEvent, frozen=True, kw_only=True):
    name = "order_rejected"
    orderId: int = 0
    symbol: str = ""
    code: int = 0


class BarClosed(ScenarioEvent, frozen=True, kw_only=True):
    """A bar of a keep-up-to-date historical or real-time bar subscription closed."""

    name = "bar_closed"
    reqId: int = 0
    symbol: str = ""
    barSize: str = ""
    open: float = 0.0
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: Decimal = Decimal(0)


EVENT_TYPES: dict[str, type[ScenarioEvent]] = {
    cls.name: cls
    for cls in (
        Connected,
        Disconnected,
        OrderSubmitted,
        ExecutionEvent,
        OrderFilled,
        OrderCancelled,
        OrderRejected,
        BarClosed,
    )
}
