"""Orders: ids, place, modify, cancel, open and completed orders, executions.

Order events reach the execution client as named events, with NautilusTrader's
adapter's arguments so its expectations carry over:

- ``openOrder-{account}``: ``(order_ref, order, order_state)``
- ``orderStatus-{account}``: ``(order_ref, order_status, avg_fill_price, filled,
  remaining)``; also ``order_status="Rejected"``/``"Cancelled"`` with ``reason`` for an
  IB error that rejected or cancelled the order (and ``error``, the ``IBError`` with its code)
- ``execDetails-{account}``: ``(order_ref, execution, commission_report, contract)``, once
  per live fill, when both the execution and its commission report are in
- ``orderError-{account}``: ``(order_ref, order_id, error, effect)`` for a refused cancel
  or modify (``codes.OrderEffect``): the order lives on

``orderRef`` carries the NautilusTrader client order id. Orders placed by
NautilusTrader's adapter carry ``"{client_order_id}:{order_id}"``; the suffix is removed
on the way in, so their open orders reconcile with this adapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ibapi.commission_report import CommissionReport
from ibapi.contract import Contract
from ibapi.execution import Execution, ExecutionFilter
from ibapi.order import Order
from ibapi.order_cancel import OrderCancel
from ibapi.order_state import OrderState

from adapter.client.codes import IBConnectionError, IBError, OrderEffect, order_effect
from adapter.common import IBContract
from adapter.parsing.contract_details import ib_contract_from_ibapi

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object

_OPEN_ORDERS = ("open orders",)


@dataclass
class OrderRecord:
    """What the client remembers of an order, to route its events and errors."""

    account: str
    order_ref: str
    pending_action: str | None = None  # "place", "modify" or "cancel": what IB may refuse


def strip_order_ref(order_ref: str, order_id: int) -> str:
    """The client order id in an ``orderRef`` (drops the ``:{order_id}`` suffix that
    NautilusTrader's adapter appends)."""
    suffix = f":{order_id}"
    return order_ref[: -len(suffix)] if order_id and order_ref.endswith(suffix) else order_ref


class InteractiveBrokersClientOrderMixin(_Base):
    def _init_orders(self) -> None:
        self._next_valid_order_id = -1
        self._orders: dict[int, OrderRecord] = {}
        self._executions: dict[str, dict[str, Any]] = {}  # by execId, until complete

    # -- ids -----------------------------------------------------------------------------------------

    def next_order_id(self) -> int:
        """A fresh order id (and ask TWS for its next one, to stay in step)."""
        if self._next_valid_order_id < 0:
            raise IBConnectionError("No order id yet: the client has not connected")
        order_id = self._next_valid_order_id
        while order_id in self._requests or order_id in self._subscriptions:
            order_id += 1  # keeps errors about it unambiguous
        self._next_valid_order_id = order_id + 1
        if self._api_ready:
            self._eclient.reqIds(-1)
        return order_id

    def _on_nextValidId(self, orderId: int) -> None:
        self._next_valid_order_id = max(self._next_valid_order_id, orderId)
        self._bootstrap_progress("order id")

    # -- placing -------------------------------------------------------------------------------------

    def place_order(self, order: Order, contract: IBContract | Contract | None = None) -> None:
        """Place ``order`` (its ``orderId`` from ``next_order_id()``) for ``contract``
        (default ``order.contract``, as NautilusTrader's execution client sets it)."""
        self._send_order(order, contract, "place")

    def place_order_list(self, orders: list[Order]) -> None:
        """Place orders in the given order (a parent first, ``transmit`` on the last)."""
        for order in orders:
            self.place_order(order)

    def modify_order(self, order: Order, contract: IBContract | Contract | None = None) -> None:
        """Change a working order: IB takes a new order under the same ``orderId``."""
        self._send_order(order, contract, "modify")

    def _send_order(self, order: Order, contract: Any, action: str) -> None:
        self._require_connected()
        contract = contract if contract is not None else order.contract
        account = order.account or self._single_account()
        order_ref = strip_order_ref(order.orderRef, order.orderId)
        record = self._orders.get(order.orderId)
        if record is None:
            record = self._orders[order.orderId] = OrderRecord(account, order_ref)
        record.account, record.order_ref, record.pending_action = account, order_ref, action
        self._next_valid_order_id = max(self._next_valid_order_id, order.orderId + 1)
        self._eclient.placeOrder(order.orderId, contract, order)

    def cancel_order(self, order_id: int, order_cancel: OrderCancel | None = None) -> None:
        self._require_connected()
        if (record := self._orders.get(order_id)) is not None:
            record.pending_action = "cancel"
        self._eclient.cancelOrder(order_id, order_cancel or OrderCancel())

    def cancel_all_orders(self) -> None:
        """Cancel every open order of the account, however it was placed (reqGlobalCancel)."""
        self._require_connected()
        self._log.warning("Cancelling all open orders, whoever placed them")
        self._eclient.reqGlobalCancel()

    def _single_account(self) -> str:
        return next(iter(self._account_ids)) if len(self._account_ids) == 1 else ""

    # -- order events --------------------------------------------------------------------------------

    def _on_openOrder(
        self,
        orderId: int,
        contract: Contract,
        order: Order,
        orderState: OrderState,
    ) -> None:
        order_ref = strip_order_ref(order.orderRef, orderId)
        order.orderRef = order_ref
        order.contract = ib_contract_from_ibapi(contract)
        order.order_state = orderState
        record = self._orders.setdefault(orderId, OrderRecord(order.account, order_ref))
        record.account = order.account or record.account
        if (request := self._requests.by_key(_OPEN_ORDERS)) is not None:
            request.results.append(order)
        self._emit(
            f"openOrder-{record.account}",
            order_ref=order_ref,
            order=order,
            order_state=orderState,
        )

    def _on_orderStatus(
        self,
        orderId: int,
        status: str,
        filled: Decimal,
        remaining: Decimal,
        avgFillPrice: float,
        permId: int,
        parentId: int,
        lastFillPrice: float,
        clientId: int,
        whyHeld: str,
        mktCapPrice: float,
    ) -> None:
        if (record := self._orders.get(orderId)) is None:
            self._log.debug(f"Status {status} of unknown order {orderId}")
            return
        self._emit(
            f"orderStatus-{record.account}",
            order_ref=record.order_ref,
            order_status=status,
            avg_fill_price=avgFillPrice,
            filled=filled,
            remaining=remaining,
        )

    def _on_order_error(self, order_id: int, error: IBError) -> None:
        """An IB error naming an order (routed here by the error mixin)."""
        record = self._orders[order_id]
        effect = order_effect(error.code, record.pending_action)
        record.pending_action = None
        if effect in (OrderEffect.REJECTED, OrderEffect.CANCELLED):
            status = "Rejected" if effect is OrderEffect.REJECTED else "Cancelled"
            self._emit(
                f"orderStatus-{record.account}",
                order_ref=record.order_ref,
                order_status=status,
                reason=error.message,
                error=error,
            )
        elif not self._emit(
            f"orderError-{record.account}",
            order_ref=record.order_ref,
            order_id=order_id,
            error=error,
            effect=effect,
        ):
            self._log.warning(f"Order {order_id} ({record.order_ref}): {effect.value}: {error}")

    # -- open and completed orders -----------------------------------------------------------------

    async def get_open_orders(self, account_id: str, timeout: float = 30.0) -> list[Order]:
        """The account's open orders, each with ``.contract`` (``IBContract``) and
        ``.order_state``. Placed by this client only, or by every client and TWS itself
        with ``fetch_all_open_orders``."""
        fetch = self._eclient.reqAllOpenOrders if self._fetch_all_open_orders else None
        orders = await self._request(
            _OPEN_ORDERS,
            lambda req_id: (fetch or self._eclient.reqOpenOrders)(),
            timeout=timeout,
        )
        return [order for order in orders if order.account == account_id]

    def _on_openOrderEnd(self) -> None:
        if (request := self._requests.by_key(_OPEN_ORDERS)) is not None:
            self._requests.finish(request.req_id)

    async def get_completed_orders(
        self, api_only: bool = True, timeout: float = 30.0
    ) -> list[Order]:
        """Today's filled and cancelled orders (``reqCompletedOrders``), each with
        ``.contract`` and ``.order_state``."""
        return await self._request(
            ("completed orders", api_only),
            lambda req_id: self._eclient.reqCompletedOrders(api_only),
            timeout=timeout,
        )

    def _completed_request(self) -> Any:
        return self._requests.by_key(("completed orders", True)) or self._requests.by_key(
            ("completed orders", False),
        )

    def _on_completedOrder(self, contract: Contract, order: Order, orderState: OrderState) -> None:
        order.orderRef = strip_order_ref(order.orderRef, order.orderId)
        order.contract = ib_contract_from_ibapi(contract)
        order.order_state = orderState
        if (request := self._completed_request()) is not None:
            request.results.append(order)

    def _on_completedOrdersEnd(self) -> None:
        if (request := self._completed_request()) is not None:
            self._requests.finish(request.req_id)

    # -- executions ----------------------------------------------------------------------------------

    async def get_executions(
        self,
        account_id: str,
        execution_filter: ExecutionFilter | None = None,
        timeout: float = 30.0,
    ) -> list[dict[str, Any]]:
        """Today's executions of the account: dicts with ``execution``, ``contract``
        (``IBContract``) and ``commission_report`` (``None`` if IB sent none)."""
        if execution_filter is None:
            execution_filter = ExecutionFilter()
            execution_filter.acctCode = account_id
        exec_ids: list[str] = await self._request(
            ("executions", account_id, repr(vars(execution_filter))),
            lambda req_id: self._eclient.reqExecutions(req_id, execution_filter),
            timeout=timeout,
        )
        reports = []
        for exec_id in exec_ids:
            entry = self._executions.pop(exec_id, {})
            execution = entry.get("execution")
            if execution is not None and execution.acctNumber == account_id:
                reports.append(
                    {
                        "execution": execution,
                        "contract": entry["contract"],
                        "commission_report": entry.get("commission_report"),
                    },
                )
        return reports

    def _on_execDetails(self, reqId: int, contract: Contract, execution: Execution) -> None:
        execution.orderRef = strip_order_ref(execution.orderRef, execution.orderId)
        entry = self._executions.setdefault(execution.execId, {})
        entry.update(execution=execution, contract=ib_contract_from_ibapi(contract))
        if (request := self._requests.get(reqId)) is not None:
            request.results.append(execution.execId)  # an answer to get_executions
            entry["requested"] = True
        else:
            entry["live"] = True
            self._emit_fill(execution.execId)

    def _on_commissionReport(self, commissionReport: CommissionReport) -> None:
        entry = self._executions.setdefault(commissionReport.execId, {})
        entry["commission_report"] = commissionReport
        if entry.get("live"):
            self._emit_fill(commissionReport.execId)

    def _on_execDetailsEnd(self, reqId: int) -> None:
        self._requests.finish(reqId)

    def _emit_fill(self, exec_id: str) -> None:
        entry = self._executions[exec_id]
        if "execution" not in entry or "commission_report" not in entry:
            return  # the other half is still to come
        execution = entry["execution"]
        if not entry.get("requested"):
            del self._executions[exec_id]
        self._emit(
            f"execDetails-{execution.acctNumber}",
            order_ref=execution.orderRef,
            execution=execution,
            commission_report=entry["commission_report"],
            contract=entry["contract"],
        )
