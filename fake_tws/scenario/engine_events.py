"""The broker world's events as scenario events (`events.EVENT_TYPES`).

The world tells its subscribers about openOrder, orderStatus, executions and order
errors; a scenario speaks of what they mean:

- order_submitted: an order is working for the first time (PreSubmitted or Submitted);
- execution: one fill, partial or final;
- order_filled: the order filled completely;
- order_cancelled: the order ended cancelled (by the client, IB, or an expiry);
- order_rejected: IB refused the order (error 201) or it went Inactive.

Each fires once per order (executions once per fill).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fake_tws.broker import (
    Event,
    ExecutionEvent,
    OpenOrderEvent,
    OrderErrorEvent,
    OrderStatusEvent,
)

from . import events as ev

WORKING = frozenset({"PreSubmitted", "Submitted"})
CANCELLED = frozenset({"Cancelled", "ApiCancelled"})
REJECTION_CODES = frozenset({201, 203})
_BIG = 1e300  # IB's unset double (Double.MAX_VALUE) and friends


@dataclass
class _OrderFacts:
    account: str = ""
    symbol: str = ""
    action: str = ""
    order_type: str = ""
    total: Decimal = Decimal(0)
    limit: float | None = None
    submitted: bool = False
    finished: bool = False
    error_code: int = 0


class WorldEventMapper:
    """Turns the world's event stream into scenario events, remembering what it needs
    (each order's symbol and size from its openOrder, what already fired)."""

    def __init__(self) -> None:
        self._orders: dict[tuple[int, int], _OrderFacts] = {}

    def facts(self, client_id: int, order_id: int) -> _OrderFacts:
        key = (client_id, order_id)
        found = self._orders.get(key)
        if found is None:
            found = self._orders[key] = _OrderFacts()
        return found

    def reset(self) -> None:
        self._orders.clear()

    def map(self, event: Event) -> list[ev.ScenarioEvent]:
        match event:
            case OpenOrderEvent():
                if event.order.whatIf:
                    return []
                f = self.facts(event.client_id, event.order_id)
                limit = event.order.lmtPrice
                f.account = event.order.account
                f.symbol = event.contract.symbol
                f.action = event.order.action
                f.order_type = event.order.orderType
                f.total = event.order.totalQuantity or Decimal(0)
                f.limit = limit if limit is not None and abs(limit) < _BIG else None
                return []
            case OrderStatusEvent():
                return self._status(event)
            case ExecutionEvent():
                f = self.facts(event.client_id, event.order_id)
                x = event.execution
                cum = x.cumQty or Decimal(0)
                return [
                    ev.ExecutionEvent(
                        clientId=event.client_id,
                        orderId=event.order_id,
                        account=x.acctNumber,
                        symbol=event.contract.symbol,
                        side=x.side,
                        shares=x.shares or Decimal(0),
                        price=x.price,
                        cumQty=cum,
                        remaining=max(f.total - cum, Decimal(0)),
                    )
                ]
            case OrderErrorEvent():
                f = self.facts(event.client_id, event.order_id)
                f.error_code = event.code
                if event.code in REJECTION_CODES and not f.finished:
                    f.finished = True
                    return [self.rejected(event.client_id, event.order_id, event.code)]
                return []
            case _:
                return []

    def rejected(self, client_id: int, order_id: int, code: int) -> ev.OrderRejected:
        f = self.facts(client_id, order_id)
        f.finished = True
        return ev.OrderRejected(clientId=client_id, orderId=order_id, symbol=f.symbol, code=code)

    def _status(self, event: OrderStatusEvent) -> list[ev.ScenarioEvent]:
        f = self.facts(event.client_id, event.order_id)
        out: list[ev.ScenarioEvent] = []
        status = event.status
        if status in WORKING and not f.submitted:
            f.submitted = True
            out.append(
                ev.OrderSubmitted(
                    clientId=event.client_id,
                    orderId=event.order_id,
                    account=f.account,
                    symbol=f.symbol,
                    action=f.action,
                    orderType=f.order_type,
                    totalQuantity=f.total,
                    lmtPrice=f.limit,
                )
            )
        if f.finished:
            return out
        if status == "Filled":
            f.finished = True
            out.append(
                ev.OrderFilled(
                    clientId=event.client_id,
                    orderId=event.order_id,
                    account=f.account,
                    symbol=f.symbol,
                    action=f.action,
                    filled=event.filled,
                    avgFillPrice=event.avg_fill_price,
                )
            )
        elif status in CANCELLED:
            f.finished = True
            out.append(
                ev.OrderCancelled(
                    clientId=event.client_id,
                    orderId=event.order_id,
                    account=f.account,
                    symbol=f.symbol,
                    filled=event.filled,
                    remaining=event.remaining,
                )
            )
        elif status == "Inactive":
            out.append(self.rejected(event.client_id, event.order_id, f.error_code))
        return out
