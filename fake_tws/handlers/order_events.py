"""World order events -> messages, to the sessions that should see them.

The world emits an order's events in the order a Gateway shows them; this module turns
each into its message and decides who gets it:

- the order's owner (the client that placed it), if connected. A disconnected client's
  orders keep working in the world; it finds their fills later with reqExecutions.
- client 0, if it asked for reqAutoOpenOrders(true): it observes every other client's
  orders (openOrder, orderStatus, execDetails, commissionReport), not their errors.
- the client acting on the order right now, if it is not the owner (a cancelOrder of an
  order placed by another client, as `acting_for` declares): it gets the order's status
  changes and errors, and the statuses carry its own client id, as a live Gateway does.

A fill is execDetails, then (on the last fill) openOrder, then orderStatus, then the
commissionReport of the execution: a live Gateway sends the commission report after the
status (captured twice on a paper Gateway, server version 200), so each session holds
the report back until the order's next orderStatus has gone out.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

from fake_tws.broker import (
    Event,
    ExecutionEvent,
    OpenOrderEvent,
    OrderErrorEvent,
    OrderStatusEvent,
    OrderView,
)
from fake_tws.protocol.responses.connection import Error
from fake_tws.protocol.responses.orders import (
    CommissionReport,
    ExecDetails,
    OpenOrder,
    OrderStatus,
)
from fake_tws.session import Gateway, Session

UNSOLICITED = -1  # execDetails' reqId for a live fill
MASTER_CLIENT_ID = 0


def order_status(event: OrderStatusEvent | OrderView, client_id: int | None = None) -> OrderStatus:
    """orderStatus for a world status event or order view (`client_id` overrides)."""
    mkt_cap = 0.0 if isinstance(event, OrderView) else event.mkt_cap_price
    return OrderStatus(
        orderId=event.order_id,
        status=event.status,
        filled=event.filled,
        remaining=event.remaining,
        avgFillPrice=event.avg_fill_price,
        permId=event.perm_id,
        parentId=event.parent_id,
        lastFillPrice=event.last_fill_price,
        clientId=event.client_id if client_id is None else client_id,
        whyHeld=event.why_held,
        mktCapPrice=mkt_cap,
    )


def open_order(event: OpenOrderEvent | OrderView) -> OpenOrder:
    return OpenOrder(contract=event.contract, order=event.order, orderState=event.order_state)


@dataclass
class _SessionState:
    auto_bind: bool = False  # reqAutoOpenOrders(true) from client 0
    # Commission reports waiting for their order's next orderStatus, by (client, order).
    held_reports: dict[tuple[int, int], list[CommissionReport]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Actor:
    session: Session
    client_id: int  # the order's owner
    order_id: int


class OrderEventRouter:
    """Subscribed to one gateway's world; sends order events to the right sessions."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._states: weakref.WeakKeyDictionary[Session, _SessionState] = (
            weakref.WeakKeyDictionary()
        )
        self._actor: _Actor | None = None
        self._unsubscribe = gateway.world.subscribe(self.on_event)

    def close(self) -> None:
        self._unsubscribe()

    # -- per-session settings --------------------------------------------------------------

    def state(self, session: Session) -> _SessionState:
        state = self._states.get(session)
        if state is None:
            state = self._states[session] = _SessionState()
        return state

    def set_auto_bind(self, session: Session, on: bool) -> None:
        self.state(session).auto_bind = on

    @contextlib.contextmanager
    def acting_for(self, session: Session, client_id: int, order_id: int) -> Iterator[None]:
        """While the world handles `session`'s request about the order `order_id` of
        client `client_id`, that session also sees the order's statuses and errors."""
        previous, self._actor = self._actor, _Actor(session, client_id, order_id)
        try:
            yield
        finally:
            self._actor = previous

    # -- routing ---------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        match event:
            case OpenOrderEvent():
                observers = not event.order.whatIf
                message = open_order(event)
                for session in self._recipients(event.client_id, observers=observers):
                    session.send(message)
            case OrderStatusEvent():
                self._on_status(event)
            case ExecutionEvent():
                details = ExecDetails(
                    reqId=UNSOLICITED, contract=event.contract, execution=event.execution
                )
                report = CommissionReport(commissionReport=event.commission_report)
                key = (event.client_id, event.order_id)
                for session in self._recipients(event.client_id):
                    session.send(details)
                    self.state(session).held_reports.setdefault(key, []).append(report)
            case OrderErrorEvent():
                error = Error(
                    reqId=event.order_id,
                    errorCode=event.code,
                    errorString=event.message,
                    advancedOrderRejectJson=event.advanced_order_reject_json,
                )
                owner = self._owner(event.client_id)
                if owner is not None:
                    owner.send(error)
                actor = self._actor_for(event.client_id, event.order_id, owner)
                if actor is not None:
                    actor.send(error)
            case _:
                pass  # account events belong to the accounts family

    def _on_status(self, event: OrderStatusEvent) -> None:
        message = order_status(event)
        key = (event.client_id, event.order_id)
        recipients = self._recipients(event.client_id)
        for session in recipients:
            session.send(message)
            for report in self.state(session).held_reports.pop(key, ()):
                session.send(report)
        actor = self._actor_for(event.client_id, event.order_id, *recipients)
        # The acting client sees the outcome, not the PendingCancel step (as captured).
        if actor is not None and event.status != "PendingCancel":
            actor.send(order_status(event, client_id=actor.client_id))

    def _owner(self, client_id: int) -> Session | None:
        session = self.gateway.session_for(client_id)
        return session if session is not None and session.started else None

    def _recipients(self, client_id: int, *, observers: bool = True) -> list[Session]:
        owner = self._owner(client_id)
        out = [] if owner is None else [owner]
        if observers and client_id != MASTER_CLIENT_ID:
            master = self._owner(MASTER_CLIENT_ID)
            if master is not None and self.state(master).auto_bind:
                out.append(master)
        return out

    def _actor_for(self, client_id: int, order_id: int, *already: Session | None) -> Session | None:
        actor = self._actor
        if actor is None or (actor.client_id, actor.order_id) != (client_id, order_id):
            return None
        if actor.session in already:
            return None
        if actor.session.closed:
            return None
        return actor.session


_ROUTERS: weakref.WeakKeyDictionary[Gateway, OrderEventRouter] = weakref.WeakKeyDictionary()


def router_for(gateway: Gateway) -> OrderEventRouter:
    """The gateway's router, subscribed to its world on first use."""
    router = _ROUTERS.get(gateway)
    if router is None:
        router = _ROUTERS[gateway] = OrderEventRouter(gateway)
    return router


def close_router(gateway: Gateway) -> None:
    router = _ROUTERS.pop(gateway, None)
    if router is not None:
        router.close()
