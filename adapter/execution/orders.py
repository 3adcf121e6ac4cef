"""Submitting, modifying and cancelling orders: NautilusTrader commands as IB requests."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ibapi.order import Order as IBOrder
from ibapi.order_cancel import OrderCancel
from nautilus_trader.execution.messages import (
    BatchCancelOrders,
    CancelAllOrders,
    CancelOrder,
    ModifyOrder,
    SubmitOrder,
    SubmitOrderList,
)
from nautilus_trader.model.enums import ContingencyType, OrderSide, OrderStatus
from nautilus_trader.model.orders import Order

from adapter.common import IBContract
from adapter.execution.records import Placed, copy_order
from adapter.parsing.execution import OrderConversionError, oca_type_for, to_ib_order
from adapter.parsing.price_conversion import nautilus_price_to_ib_price

if TYPE_CHECKING:
    from adapter.execution.client import InteractiveBrokersExecutionClient

    _Base = InteractiveBrokersExecutionClient
else:
    _Base = object


class ExecutionOrdersMixin(_Base):
    # -- orders -------------------------------------------------------------------------------

    def _record(self, order: Order) -> Placed:
        """Our record of an order, made from the cache for orders of an earlier session."""
        placed = self._placed.get(order.client_order_id)
        if placed is None:
            order_id = int(order.venue_order_id.value) if order.venue_order_id else -1
            placed = Placed(order.client_order_id, order_id, None)
            placed.accepted = order.status not in (
                OrderStatus.INITIALIZED,
                OrderStatus.SUBMITTED,
            )
            placed.closed = order.is_closed
            placed.filled = order.filled_qty.as_decimal()
            placed.exec_ids = {t.value for t in order.trade_ids}
            self._exec_ids.update(placed.exec_ids)
            self._placed[order.client_order_id] = placed
            if order_id >= 0:
                self._by_order_id[order_id] = placed
        return placed

    def _build(
        self,
        order: Order,
        order_id: int,
        *,
        parent_id: int = 0,
        oca_group: str = "",
        oca_type: int = 0,
        transmit: bool = True,
    ) -> tuple[IBOrder, IBContract]:
        instrument = self._cache.instrument(order.instrument_id) or self.instrument_provider.find(
            order.instrument_id,
        )
        contract = self.instrument_provider.contract.get(order.instrument_id)
        if instrument is None or contract is None:
            raise OrderConversionError(f"instrument {order.instrument_id} is not loaded")
        ib_order = to_ib_order(
            order,
            instrument,
            order_id=order_id,
            account=self._account,
            price_magnifier=self.instrument_provider.get_price_magnifier(order.instrument_id),
            parent_id=parent_id,
            oca_group=oca_group,
            oca_type=oca_type,
            transmit=transmit,
        )
        ib_order.contract = contract
        return ib_order, contract

    async def _ensure_instrument(self, order: Order) -> None:
        if order.instrument_id not in self.instrument_provider.contract:
            await self.instrument_provider.fetch_instrument_id(order.instrument_id)

    async def _submit_order(self, command: SubmitOrder) -> None:
        order = command.order
        if order.is_closed:
            return
        await self._ensure_instrument(order)
        try:
            order_id = self._client.next_order_id()
            ib_order, contract = self._build(order, order_id)
        except (OrderConversionError, ConnectionError) as e:
            self._reject(order, str(e))
            return
        self._send(order, ib_order, contract)

    def _send(self, order: Order, ib_order: IBOrder, contract: IBContract) -> None:
        placed = Placed(order.client_order_id, ib_order.orderId, ib_order)
        self._placed[order.client_order_id] = placed
        self._by_order_id[ib_order.orderId] = placed
        self.generate_order_submitted(
            strategy_id=order.strategy_id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            ts_event=self._clock.timestamp_ns(),
        )
        try:
            self._client.place_order(ib_order, contract)
        except ConnectionError as e:
            self._reject(order, f"not sent: {e}")

    async def _submit_order_list(self, command: SubmitOrderList) -> None:
        orders = [o for o in command.order_list.orders if not o.is_closed]
        for order in orders:
            await self._ensure_instrument(order)
        try:
            ids = {o.client_order_id: self._client.next_order_id() for o in orders}
        except ConnectionError as e:
            for order in orders:
                self._reject(order, f"not sent: {e}")
            return
        grouped = any(o.parent_order_id in ids for o in orders)
        built: list[tuple[Order, IBOrder, IBContract]] = []
        for i, order in enumerate(orders):
            parent_id = ids.get(order.parent_order_id, 0) if order.parent_order_id else 0
            oca_group, oca_type = "", 0
            if (
                not parent_id
                and order.contingency_type in (ContingencyType.OCO, ContingencyType.OUO)
                and order.linked_order_ids
            ):
                oca_group = f"OCA-{command.order_list.id.value}"
                oca_type = oca_type_for(order.contingency_type)
            try:
                ib_order, contract = self._build(
                    order,
                    ids[order.client_order_id],
                    parent_id=parent_id,
                    oca_group=oca_group,
                    oca_type=oca_type,
                    transmit=(i == len(orders) - 1) or not grouped,
                )
            except OrderConversionError as e:
                # One order IB cannot take sinks the list: none of it is sent.
                for other in orders:
                    self._reject(
                        other,
                        str(e)
                        if other is order
                        else f"not sent: {order.client_order_id!r} of the list was rejected: {e}",
                    )
                return
            built.append((order, ib_order, contract))
        for order, ib_order, contract in built:
            self._send(order, ib_order, contract)

    async def _modify_order(self, command: ModifyOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None:
            self._log.error(f"Cannot modify {command.client_order_id!r}: not in the cache")
            return
        placed = self._record(order)
        if placed.closed:
            return
        if placed.ib_order is None:
            try:
                placed.ib_order, _ = self._build(order, placed.order_id)
            except OrderConversionError as e:
                self._modify_rejected(order, placed, str(e))
                return
        ib_order = copy_order(placed.ib_order)
        magnifier = self.instrument_provider.get_price_magnifier(order.instrument_id)
        if command.quantity is not None:
            ib_order.totalQuantity = command.quantity.as_decimal()
        if command.price is not None:
            ib_order.lmtPrice = nautilus_price_to_ib_price(command.price.as_double(), magnifier)
        if command.trigger_price is not None:
            trigger = nautilus_price_to_ib_price(command.trigger_price.as_double(), magnifier)
            if ib_order.orderType in ("TRAIL", "TRAIL LIMIT"):
                ib_order.trailStopPrice = trigger
            else:
                ib_order.auxPrice = trigger
        ib_order.transmit = True
        placed.modify_requested = True
        try:
            self._client.modify_order(ib_order, getattr(ib_order, "contract", None))
        except ConnectionError as e:
            placed.modify_requested = False
            self._modify_rejected(order, placed, f"not sent: {e}")
            return
        placed.ib_order = ib_order

    async def _cancel_order(self, command: CancelOrder) -> None:
        order = self._cache.order(command.client_order_id)
        if order is None:
            self._log.error(f"Cannot cancel {command.client_order_id!r}: not in the cache")
            return
        self._cancel(order)

    def _cancel(self, order: Order) -> None:
        placed = self._record(order)
        if placed.order_id < 0:
            self._log.error(f"Cannot cancel {order.client_order_id!r}: no IB order id")
            return
        if placed.closed:
            return
        placed.cancel_requested = True
        try:
            self._client.cancel_order(placed.order_id, OrderCancel())
        except ConnectionError as e:
            placed.cancel_requested = False
            self.generate_order_cancel_rejected(
                strategy_id=order.strategy_id,
                instrument_id=order.instrument_id,
                client_order_id=order.client_order_id,
                venue_order_id=order.venue_order_id,
                reason=f"not sent: {e}",
                ts_event=self._clock.timestamp_ns(),
            )

    async def _cancel_all_orders(self, command: CancelAllOrders) -> None:
        side = command.order_side
        for order in self._cache.orders_open(instrument_id=command.instrument_id):
            if side != OrderSide.NO_ORDER_SIDE and order.side != side:
                continue
            if self._cache.client_id(order.client_order_id) not in (None, self.id):
                continue
            self._cancel(order)

    async def _batch_cancel_orders(self, command: BatchCancelOrders) -> None:
        for cancel in command.cancels:
            await self._cancel_order(cancel)
