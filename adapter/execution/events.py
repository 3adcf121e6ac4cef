"""IB's order messages as NautilusTrader order events, each told once."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ibapi.order import Order as IBOrder
from nautilus_trader.model.enums import TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId, TradeId, VenueOrderId
from nautilus_trader.model.orders import Order

from adapter.client import IBError, OrderEffect
from adapter.common import IBContract
from adapter.execution.records import FILL_WAIT, Placed
from adapter.parsing.execution import (
    commission,
    execution_side,
    ib_decimal,
    ib_double,
    liquidity_side,
    timestring_to_timestamp,
    what_if_reason,
)
from adapter.parsing.price_conversion import ib_price_to_nautilus_price

if TYPE_CHECKING:
    from adapter.execution.client import InteractiveBrokersExecutionClient

    _Base = InteractiveBrokersExecutionClient
else:
    _Base = object


class ExecutionEventsMixin(_Base):
    # -- events from IB -------------------------------------------------------------------------

    def _order_for(self, order_ref: str) -> tuple[Order, Placed] | None:
        if not order_ref:
            return None
        order = self._cache.order(ClientOrderId(order_ref))
        if order is None:
            return None
        return order, self._record(order)

    def _on_open_order(self, order_ref: str, order: IBOrder, order_state: Any) -> None:
        found = self._order_for(order_ref)
        if found is None:
            self._log.debug(f"openOrder for an order not ours: {order.orderId} {order_ref!r}")
            return
        nautilus_order, placed = found
        if placed.order_id < 0:
            placed.order_id = order.orderId
            self._by_order_id[order.orderId] = placed
        if placed.closed:
            return
        if order.whatIf or (placed.ib_order is not None and placed.ib_order.whatIf):
            self._reject(nautilus_order, what_if_reason(order_state))
            return
        if order_state.status not in ("PreSubmitted", "Submitted"):
            return
        self._accept(nautilus_order, placed)
        self._maybe_updated(nautilus_order, placed, order)

    def _on_order_status(
        self,
        order_ref: str,
        order_status: str,
        avg_fill_price: float = 0.0,
        filled: Decimal = Decimal(0),
        remaining: Decimal = Decimal(0),
        reason: str = "",
        error: IBError | None = None,
        **_: Any,
    ) -> None:
        found = self._order_for(order_ref)
        if found is None:
            return
        order, placed = found
        if placed.closed:
            return
        if error is not None:
            reason = f"{error.code}: {error.message}"
        if order_status in ("PreSubmitted", "Submitted"):
            self._accept(order, placed)
        elif order_status in ("Cancelled", "ApiCancelled"):
            self._close_after_fills(order, placed, "canceled", reason, ib_decimal(filled))
        elif order_status == "Rejected":
            self._close_after_fills(order, placed, "rejected", reason or "rejected by IB", None)
        elif order_status == "Inactive":
            self._close_after_fills(
                order,
                placed,
                "rejected" if not placed.accepted else "canceled",
                reason or "IB set the order Inactive",
                ib_decimal(filled),
            )

    def _on_order_error(
        self,
        order_ref: str,
        order_id: int,
        error: IBError,
        effect: OrderEffect,
    ) -> None:
        found = self._order_for(order_ref)
        if found is None:
            return
        order, placed = found
        reason = f"{error.code}: {error.message}"
        if placed.closed:
            self._log.warning(f"{order.client_order_id!r} (closed): IB refused a change: {reason}")
            return
        if effect is OrderEffect.CANCEL_REJECTED:
            placed.cancel_requested = False
            self.generate_order_cancel_rejected(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id=VenueOrderId(str(order_id)),
                reason=reason,
                ts_event=self._clock.timestamp_ns(),
            )
        elif effect is OrderEffect.MODIFY_REJECTED:
            self._modify_rejected(order, placed, reason)

    def _on_exec_details(
        self,
        order_ref: str,
        execution: Any,
        commission_report: Any,
        contract: IBContract,
    ) -> None:
        found = self._order_for(order_ref)
        if found is None:
            self._log.debug(f"Execution {execution.execId} of an order not ours ({order_ref!r})")
            return
        order, placed = found
        if order.instrument_id.is_spread() and contract.secType != "BAG":
            return  # a leg of a combo fill; the BAG execution fills the spread order
        self._fill(order, placed, execution, commission_report)

    def _fill(self, order: Order, placed: Placed, execution: Any, commission_report: Any) -> None:
        exec_id = execution.execId
        if exec_id in self._exec_ids:
            return
        instrument = self._cache.instrument(order.instrument_id)
        if instrument is None:
            self._log.error(f"Cannot fill {order.client_order_id!r}: no instrument")
            return
        self._exec_ids.add(exec_id)
        placed.exec_ids.add(exec_id)
        if placed.order_id < 0:
            placed.order_id = execution.orderId
            self._by_order_id[execution.orderId] = placed
        self._accept(order, placed)
        magnifier = self.instrument_provider.get_price_magnifier(order.instrument_id)
        quantity = instrument.make_qty(execution.shares)
        placed.filled += quantity.as_decimal()
        placed.filled_changed.set()
        self.generate_order_filled(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(str(execution.orderId)),
            venue_position_id=None,
            trade_id=TradeId(exec_id),
            order_side=execution_side(execution),
            order_type=order.order_type,
            last_qty=quantity,
            last_px=instrument.make_price(ib_price_to_nautilus_price(execution.price, magnifier)),
            quote_currency=instrument.quote_currency,
            commission=commission(commission_report, instrument),
            liquidity_side=liquidity_side(execution),
            ts_event=timestring_to_timestamp(execution.time).value,
        )
        if placed.filled >= order.quantity.as_decimal():
            placed.closed = True
        self._schedule_account_refresh()

    # -- telling NautilusTrader, once -----------------------------------------------------------

    def _accept(self, order: Order, placed: Placed) -> None:
        if placed.accepted or placed.closed:
            return
        placed.accepted = True
        self.generate_order_accepted(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(str(placed.order_id)),
            ts_event=self._clock.timestamp_ns(),
        )

    def _maybe_updated(self, order: Order, placed: Placed, ib_order: IBOrder) -> None:
        """Tell NautilusTrader what IB's copy of the order now says, if it differs from
        what it knows, or if it waits for the answer to a modify."""
        instrument = self._cache.instrument(order.instrument_id)
        if instrument is None:
            return
        magnifier = self.instrument_provider.get_price_magnifier(order.instrument_id)
        quantity = ib_decimal(ib_order.totalQuantity)
        new_qty = instrument.make_qty(quantity) if quantity else order.quantity
        price = getattr(order, "price", None)
        new_price = price
        if price is not None and (value := ib_double(ib_order.lmtPrice)) is not None:
            new_price = instrument.make_price(ib_price_to_nautilus_price(value, magnifier))
        trigger = getattr(order, "trigger_price", None)
        new_trigger = trigger
        ib_trigger = (
            ib_order.trailStopPrice
            if ib_order.orderType in ("TRAIL", "TRAIL LIMIT")
            else ib_order.auxPrice
        )
        if trigger is not None and (value := ib_double(ib_trigger)) is not None:
            new_trigger = instrument.make_price(ib_price_to_nautilus_price(value, magnifier))
        told = placed.told or (order.quantity, price, trigger)
        values = (new_qty, new_price, new_trigger)
        if values == told and not placed.modify_requested:
            return
        placed.modify_requested = False
        placed.told = values
        self.generate_order_updated(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=VenueOrderId(str(ib_order.orderId)),
            quantity=new_qty,
            price=new_price,
            trigger_price=new_trigger,
            ts_event=self._clock.timestamp_ns(),
        )

    def _modify_rejected(self, order: Order, placed: Placed, reason: str) -> None:
        placed.modify_requested = False
        self.generate_order_modify_rejected(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            reason=reason,
            ts_event=self._clock.timestamp_ns(),
        )

    def _reject(self, order: Order, reason: str) -> None:
        placed = self._placed.get(order.client_order_id)
        if placed is not None:
            if placed.closed:
                return
            placed.closed = True
        self.generate_order_rejected(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            reason=reason,
            ts_event=self._clock.timestamp_ns(),
        )

    def _close_after_fills(
        self,
        order: Order,
        placed: Placed,
        outcome: str,
        reason: str,
        reported_filled: Decimal | None,
    ) -> None:
        """End an order: at once, or once the fills IB reported have come in."""
        if placed.waiting is not None:
            return
        if reported_filled is not None and reported_filled > placed.filled:
            placed.waiting = self.create_task(
                self._close_when_filled(order, placed, outcome, reason, reported_filled),
                log_msg=f"close {order.client_order_id} after its fills",
            )
            return
        self._close(order, placed, outcome, reason)

    async def _close_when_filled(
        self,
        order: Order,
        placed: Placed,
        outcome: str,
        reason: str,
        filled: Decimal,
    ) -> None:
        deadline = self._loop.time() + FILL_WAIT
        while placed.filled < filled and not placed.closed:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                break
            placed.filled_changed.clear()
            try:
                await asyncio.wait_for(placed.filled_changed.wait(), remaining)
            except TimeoutError:
                break
        placed.waiting = None
        if placed.filled < filled:
            self._log.warning(
                f"{order.client_order_id!r}: IB reports {filled} filled, {placed.filled} "
                f"received; closing it {outcome}, reconciliation will recover the fills",
            )
        self._close(order, placed, outcome, reason)

    def _close(self, order: Order, placed: Placed, outcome: str, reason: str) -> None:
        if placed.closed:
            return
        if outcome == "rejected" and placed.filled > 0:
            outcome = "canceled"  # a partly filled order cannot be rejected
        if outcome == "rejected":
            self._reject(order, reason)
            return
        placed.closed = True
        venue_order_id = VenueOrderId(str(placed.order_id))
        if (
            outcome == "canceled"
            and not placed.cancel_requested
            and order.time_in_force == TimeInForce.GTD
            and order.expire_time_ns
        ):
            self.create_task(
                self._expired_or_canceled(order, venue_order_id),
                log_msg=f"expired or canceled {order.client_order_id}",
            )
            return
        self.generate_order_canceled(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=venue_order_id,
            ts_event=self._clock.timestamp_ns(),
        )

    async def _expired_or_canceled(self, order: Order, venue_order_id: VenueOrderId) -> None:
        """IB ended a GTD order without being asked: expired if its time is up by IB's
        clock, otherwise canceled."""
        try:
            server_ns = (await self._client.get_server_time()) * 1_000_000_000
        except Exception:
            server_ns = self._clock.timestamp_ns()
        args = {
            "strategy_id": order.strategy_id,
            "instrument_id": order.instrument_id,
            "client_order_id": order.client_order_id,
            "venue_order_id": venue_order_id,
            "ts_event": self._clock.timestamp_ns(),
        }
        if server_ns + 1_000_000_000 >= order.expire_time_ns:
            self.generate_order_expired(**args)
        else:
            self.generate_order_canceled(**args)
