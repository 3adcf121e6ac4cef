"""Orders and executions: place, modify, cancel, and look up orders and fills.

What each request does (world calls; the world's events reach clients through
`order_events`, which knows who sees what and in which order):

- placeOrder(orderId, contract, order): a new order, a modification (same orderId), or
  the transmit of a staged one. Events: openOrder + orderStatus PreSubmitted/Submitted,
  fills as execDetails, openOrder (last fill), orderStatus, commissionReport. Refusals
  are errors with the orderId (103 duplicate id, 110 off-tick price, 201 rejected, 321
  invalid...). A rejected new order (201) then reads orderStatus Inactive, as on a live
  Gateway. Nothing is sent for a staged (transmit=false) order.
- cancelOrder(orderId): PendingCancel, Cancelled, error 202 "Order Canceled - reason:";
  10147 for an unknown id, 10148 for a finished order. A client may cancel another
  client's live order (it then gets the status and the 202 itself).
- reqGlobalCancel: cancels every open order of every client.
- reqOpenOrders: this client's open orders (client 0: every client's), reqAllOpenOrders:
  every client's; openOrder each, then openOrderEnd. As captured on a live Gateway no
  orderStatus follows an unfilled order; a partly filled one gets its orderStatus (the
  only message carrying the filled quantity).
- reqAutoOpenOrders(bAutoBind): client 0 only: from now on it also sees other clients'
  order events (fake-tws has no manual TWS orders to bind). Silently ignored otherwise.
- reqExecutions(reqId, filter): execDetails + commissionReport per matching execution of
  any client (a reconnecting client recovers the fills it missed), then execDetailsEnd.
- reqCompletedOrders(apiOnly): completedOrder per filled, cancelled or inactive order,
  then completedOrdersEnd (every order here is an API order).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import trio

from fake_tws.broker import OrderErrorEvent
from fake_tws.protocol.requests import orders as rq
from fake_tws.protocol.responses import orders as rs
from fake_tws.session import Gateway, Handler, Handlers, Session

from .order_events import MASTER_CLIENT_ID, close_router, open_order, order_status, router_for

HANDLERS = Handlers()

REJECTED = 201


def _client_id(session: Session) -> int:
    assert session.client_id is not None  # see _after_start_api
    return session.client_id


def _after_start_api(request_type: type) -> Callable[[Handler], Handler]:
    """Register a handler that ignores the request from a client not yet logged on
    (orders belong to a client id)."""

    def register(handler: Handler) -> Handler:
        def guarded(session: Session, request: Any) -> None:
            if not session.started:
                session.log(logging.WARNING, "%s before startApi ignored", request.api_name)
                return
            handler(session, request)

        HANDLERS.on(request_type)(guarded)
        return handler

    return register


@HANDLERS.service
async def route_order_events(gateway: Gateway) -> None:
    """Send the world's order events to clients for as long as the server runs."""
    router_for(gateway)
    try:
        await trio.sleep_forever()
    finally:
        close_router(gateway)


@_after_start_api(rq.PlaceOrder)
def place_order(session: Session, request: rq.PlaceOrder) -> None:
    router_for(session.gateway)
    client_id = _client_id(session)
    order_id = request.orderId
    session.gateway.order_ids.observe(order_id)
    world = session.gateway.world
    new = world.orders.record(client_id, order_id) is None and not request.order.whatIf
    events = world.place_order(client_id, order_id, request.contract, request.order)
    rejected = any(
        isinstance(e, OrderErrorEvent)
        and e.code == REJECTED
        and (e.client_id, e.order_id) == (client_id, order_id)
        for e in events
    )
    if new and rejected and world.orders.record(client_id, order_id) is None:
        # A live Gateway follows a rejection of a new order with its Inactive status.
        quantity = request.order.totalQuantity or Decimal(0)
        session.send(
            rs.OrderStatus(
                orderId=order_id,
                status="Inactive",
                filled=Decimal(0),
                remaining=quantity,
                clientId=client_id,
            )
        )


@_after_start_api(rq.CancelOrder)
def cancel_order(session: Session, request: rq.CancelOrder) -> None:
    router = router_for(session.gateway)
    client_id = _client_id(session)
    world = session.gateway.world
    owner = client_id
    if world.orders.record(client_id, request.orderId) is None:
        # Not ours: the world cancels another client's live order with that id, if only
        # one has it. The canceller then sees that order's outcome.
        others = [v.client_id for v in world.open_orders() if v.order_id == request.orderId]
        if len(others) == 1:
            owner = others[0]
    with router.acting_for(session, owner, request.orderId):
        world.cancel_order(client_id, request.orderId)


@_after_start_api(rq.ReqGlobalCancel)
def global_cancel(session: Session, request: rq.ReqGlobalCancel) -> None:
    router_for(session.gateway)
    session.gateway.world.global_cancel()


def _send_open_orders(session: Session, client_id: int | None) -> None:
    router_for(session.gateway)
    for view in session.gateway.world.open_orders(client_id):
        session.send(open_order(view))
        if view.filled > 0:
            session.send(order_status(view))
    session.send(rs.OpenOrderEnd())


@_after_start_api(rq.ReqOpenOrders)
def req_open_orders(session: Session, request: rq.ReqOpenOrders) -> None:
    client_id = _client_id(session)
    _send_open_orders(session, None if client_id == MASTER_CLIENT_ID else client_id)


@_after_start_api(rq.ReqAllOpenOrders)
def req_all_open_orders(session: Session, request: rq.ReqAllOpenOrders) -> None:
    _send_open_orders(session, None)


@_after_start_api(rq.ReqAutoOpenOrders)
def req_auto_open_orders(session: Session, request: rq.ReqAutoOpenOrders) -> None:
    if _client_id(session) != MASTER_CLIENT_ID:
        session.log(logging.INFO, "reqAutoOpenOrders ignored: only client 0 may bind orders")
        return
    router_for(session.gateway).set_auto_bind(session, request.bAutoBind)


@_after_start_api(rq.ReqExecutions)
def req_executions(session: Session, request: rq.ReqExecutions) -> None:
    router_for(session.gateway)
    for record in session.gateway.world.executions(request.execFilter):
        session.send(
            rs.ExecDetails(
                reqId=request.reqId, contract=record.contract, execution=record.execution
            )
        )
        session.send(rs.CommissionReport(commissionReport=record.commission_report))
    session.send(rs.ExecDetailsEnd(reqId=request.reqId))


@_after_start_api(rq.ReqCompletedOrders)
def req_completed_orders(session: Session, request: rq.ReqCompletedOrders) -> None:
    router_for(session.gateway)
    for view in session.gateway.world.completed_orders():
        session.send(
            rs.CompletedOrder(contract=view.contract, order=view.order, orderState=view.order_state)
        )
    session.send(rs.CompletedOrdersEnd())
