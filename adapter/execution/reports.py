"""Order status, fill and position reports, and reconciliation after a reconnect."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd
from ibapi.execution import ExecutionFilter
from ibapi.order import Order as IBOrder
from nautilus_trader.common.enums import LogColor
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import (
    GenerateFillReports,
    GenerateOrderStatusReport,
    GenerateOrderStatusReports,
    GeneratePositionStatusReports,
)
from nautilus_trader.execution.reports import (
    ExecutionMassStatus,
    FillReport,
    OrderStatusReport,
    PositionStatusReport,
)
from nautilus_trader.model.enums import OrderStatus, PositionSide
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Quantity

from adapter.common import IBContract
from adapter.execution.records import CLOSED, fills_by_order
from adapter.parsing.execution import fill_report, order_status_report

if TYPE_CHECKING:
    from adapter.execution.client import InteractiveBrokersExecutionClient

    _Base = InteractiveBrokersExecutionClient
else:
    _Base = object


class ExecutionReportsMixin(_Base):
    # -- reports --------------------------------------------------------------------------------

    async def _executions(self) -> list[dict[str, Any]]:
        """Today's executions of the account (``reqExecutions``), commissions included."""
        execution_filter = ExecutionFilter()
        execution_filter.acctCode = self._account
        return await self._client.get_executions(self._account, execution_filter)

    async def _instrument_of(self, contract: IBContract) -> Instrument | None:
        try:
            instrument = await self.instrument_provider.get_instrument(contract)
        except ValueError as e:
            self._log.warning(f"No instrument for {contract!r}: {e}")
            return None
        if instrument is not None and self._cache.instrument(instrument.id) is None:
            self._cache.add_instrument(instrument)
        return instrument

    async def _ib_order_report(
        self,
        ib_order: IBOrder,
        status: str,
        fills: dict[int, tuple[Decimal, Decimal]],
    ) -> OrderStatusReport | None:
        instrument = await self._instrument_of(ib_order.contract)
        if instrument is None:
            return None
        order_id = ib_order.orderId or self._known_order_id(ib_order.orderRef)
        filled_qty, notional = fills.get(order_id, (Decimal(0), Decimal(0)))
        avg = float(notional / filled_qty) if filled_qty else None
        return order_status_report(
            ib_order,
            instrument,
            self.account_id,
            status=status,
            filled=filled_qty,
            avg_fill_price=avg,
            ts_init=self._clock.timestamp_ns(),
            price_magnifier=self.instrument_provider.get_price_magnifier(instrument.id),
            order_id=order_id,
        )

    def _known_order_id(self, order_ref: str) -> int:
        """The IB order id of one of our orders (completed orders come without one)."""
        if not order_ref:
            return 0
        placed = self._placed.get(ClientOrderId(order_ref))
        if placed is not None and placed.order_id >= 0:
            return placed.order_id
        order = self._cache.order(ClientOrderId(order_ref))
        if order is not None and order.venue_order_id is not None:
            try:
                return int(order.venue_order_id.value)
            except ValueError:
                return 0
        return 0

    async def _all_order_reports(
        self,
        only_ours: bool = False,
    ) -> tuple[list[OrderStatusReport], list[dict[str, Any]]]:
        """Reports of the account's open orders, and of our orders IB has completed; with
        ``only_ours`` just the orders NautilusTrader knows. Also returns the executions."""
        open_orders, executions = await asyncio.gather(
            self._client.get_open_orders(self._account),
            self._executions(),
        )
        fills = fills_by_order(executions)
        reports: list[OrderStatusReport] = []
        seen_refs: set[str] = set()
        for ib_order in open_orders:
            if only_ours and not self._is_ours(ib_order.orderRef):
                continue
            status = ib_order.order_state.status
            report = await self._ib_order_report(ib_order, status, fills)
            if report is not None:
                reports.append(report)
                seen_refs.add(ib_order.orderRef)
        missing = [
            o
            for o in self._cache.orders_open()
            if o.client_order_id.value not in seen_refs
            and self._cache.client_id(o.client_order_id) in (None, self.id)
        ]
        if missing:
            completed = {
                o.orderRef: o for o in await self._client.get_completed_orders(api_only=False)
            }
            for order in missing:
                ib_order = completed.get(order.client_order_id.value)
                if ib_order is None:
                    continue
                report = await self._ib_order_report(ib_order, ib_order.order_state.status, fills)
                if report is not None:
                    reports.append(report)
        return reports, executions

    def _is_ours(self, order_ref: str) -> bool:
        return bool(order_ref) and self._cache.order(ClientOrderId(order_ref)) is not None

    async def generate_order_status_report(
        self,
        command: GenerateOrderStatusReport,
    ) -> OrderStatusReport | None:
        if command.client_order_id is None and command.venue_order_id is None:
            return None
        wanted_ref = command.client_order_id.value if command.client_order_id else None
        wanted_id = command.venue_order_id.value if command.venue_order_id else None

        def matches(ib_order: IBOrder) -> bool:
            return (wanted_ref is not None and ib_order.orderRef == wanted_ref) or (
                wanted_id is not None and str(ib_order.orderId) == wanted_id
            )

        open_orders, executions = await asyncio.gather(
            self._client.get_open_orders(self._account),
            self._executions(),
        )
        fills = fills_by_order(executions)
        for ib_order in open_orders:
            if matches(ib_order):
                return await self._ib_order_report(ib_order, ib_order.order_state.status, fills)
        for ib_order in await self._client.get_completed_orders(api_only=False):
            if matches(ib_order):
                return await self._ib_order_report(ib_order, ib_order.order_state.status, fills)
        self._log.warning(
            f"No order {command.client_order_id!r} / {command.venue_order_id!r} at IB",
        )
        return None

    async def generate_order_status_reports(
        self,
        command: GenerateOrderStatusReports,
    ) -> list[OrderStatusReport]:
        reports, _ = await self._all_order_reports()
        if command.instrument_id is not None:
            reports = [r for r in reports if r.instrument_id == command.instrument_id]
        if command.open_only:
            reports = [r for r in reports if r.order_status not in CLOSED]
        self._log.info(f"Generated {len(reports)} OrderStatusReport(s)")
        return reports

    async def generate_fill_reports(self, command: GenerateFillReports) -> list[FillReport]:
        # One request for the day's executions (shared with the order reports of a mass
        # status); the time window is applied here.
        reports = await self._fill_reports(await self._executions())
        if command.start is not None:
            start = pd.Timestamp(command.start).value
            reports = [r for r in reports if r.ts_event >= start]
        if command.instrument_id is not None:
            reports = [r for r in reports if r.instrument_id == command.instrument_id]
        if command.venue_order_id is not None:
            reports = [r for r in reports if r.venue_order_id == command.venue_order_id]
        if command.end is not None:
            end = pd.Timestamp(command.end).value
            reports = [r for r in reports if r.ts_event <= end]
        self._log.info(f"Generated {len(reports)} FillReport(s)")
        return reports

    async def _fill_reports(self, executions: list[dict[str, Any]]) -> list[FillReport]:
        reports = []
        ts_init = self._clock.timestamp_ns()
        for entry in executions:
            execution, contract = entry["execution"], entry["contract"]
            if contract.secType != "BAG" and self._is_spread_order(execution.orderRef):
                continue  # a leg of one of our spread orders: the BAG execution fills it
            instrument = await self._instrument_of(contract)
            if instrument is None:
                continue
            if entry.get("commission_report") is None:
                self._log.warning(f"Execution {execution.execId} has no commission report yet")
            reports.append(
                fill_report(
                    execution,
                    entry.get("commission_report"),
                    instrument,
                    self.account_id,
                    ts_init=ts_init,
                    price_magnifier=self.instrument_provider.get_price_magnifier(instrument.id),
                ),
            )
        return reports

    def _is_spread_order(self, order_ref: str) -> bool:
        order = self._cache.order(ClientOrderId(order_ref)) if order_ref else None
        return order is not None and order.instrument_id.is_spread()

    async def generate_position_status_reports(
        self,
        command: GeneratePositionStatusReports,
    ) -> list[PositionStatusReport]:
        positions = await self._client.get_positions(self._account)
        reports = []
        for position in positions:
            report = await self._position_report(position, command.instrument_id)
            if report is not None:
                reports.append(report)
        if command.instrument_id is not None and not any(
            r.instrument_id == command.instrument_id for r in reports
        ):
            now = self._clock.timestamp_ns()
            reports.append(
                PositionStatusReport(
                    account_id=self.account_id,
                    instrument_id=command.instrument_id,
                    position_side=PositionSide.FLAT,
                    quantity=Quantity.zero(),
                    report_id=UUID4(),
                    ts_last=now,
                    ts_init=now,
                ),
            )
        self._log.info(f"Generated {len(reports)} PositionStatusReport(s)")
        return reports

    async def _position_report(
        self,
        position: Any,
        instrument_id: InstrumentId | None,
    ) -> PositionStatusReport | None:
        if position.contract.secType in self._filter_sec_types:
            return None
        instrument = await self._instrument_of(position.contract)
        if instrument is None or (instrument_id is not None and instrument.id != instrument_id):
            return None
        quantity = Decimal(position.quantity)
        if quantity == 0 and instrument_id is None:
            return None  # IB lists positions closed today with 0
        side = (
            PositionSide.LONG
            if quantity > 0
            else PositionSide.SHORT
            if quantity < 0
            else PositionSide.FLAT
        )
        avg_px = None
        if position.avg_cost and quantity != 0:
            per_unit = position.avg_cost / (
                float(instrument.multiplier)
                * max(self.instrument_provider.get_price_magnifier(instrument.id), 1)
            )
            avg_px = instrument.make_price(per_unit).as_decimal()
        now = self._clock.timestamp_ns()
        return PositionStatusReport(
            account_id=self.account_id,
            instrument_id=instrument.id,
            position_side=side,
            quantity=instrument.make_qty(abs(quantity)),
            report_id=UUID4(),
            ts_last=now,
            ts_init=now,
            avg_px_open=avg_px,
        )

    # -- reconciliation after a reconnect ---------------------------------------------------------

    async def _reconcile_after_reconnect(self) -> None:
        """What happened while the connection was down reaches NautilusTrader: fills of
        our orders (each execution once), cancels, positions."""
        self._log.info("Reconnected: reconciling orders, fills and positions", LogColor.BLUE)
        await self._client.wait_until_ready(self._connection_timeout)
        reports, executions = await self._all_order_reports(only_ours=True)
        ours = {r.venue_order_id for r in reports}
        fills = [
            f
            for f in await self._fill_reports(executions)
            if f.trade_id.value not in self._exec_ids
        ]
        for fill in fills:
            if fill.venue_order_id not in ours and fill.client_order_id is not None:
                order = self._cache.order(fill.client_order_id)
                if order is not None and order.venue_order_id == fill.venue_order_id:
                    self._log.warning(f"Fill {fill.trade_id} of an order IB no longer lists")
        positions = await self.generate_position_status_reports(
            GeneratePositionStatusReports(
                instrument_id=None,
                start=None,
                end=None,
                command_id=UUID4(),
                ts_init=self._clock.timestamp_ns(),
            ),
        )
        mass_status = ExecutionMassStatus(
            client_id=self.id,
            account_id=self.account_id,
            venue=self.venue,
            report_id=UUID4(),
            ts_init=self._clock.timestamp_ns(),
        )
        mass_status.add_order_reports(reports)
        mass_status.add_fill_reports([f for f in fills if f.venue_order_id in ours])
        mass_status.add_position_reports(positions)
        for fill in fills:
            if fill.venue_order_id in ours:
                self._exec_ids.add(fill.trade_id.value)
        self._send_mass_status_report(mass_status)
        self._resync_records()
        self._schedule_account_refresh()

    def _resync_records(self) -> None:
        """After NautilusTrader reconciled: our records follow the cache."""
        for client_order_id, placed in self._placed.items():
            order = self._cache.order(client_order_id)
            if order is None:
                continue
            placed.filled = max(placed.filled, order.filled_qty.as_decimal())
            placed.exec_ids.update(t.value for t in order.trade_ids)
            self._exec_ids.update(placed.exec_ids)
            if order.is_closed:
                placed.closed = True
            if order.status not in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED):
                placed.accepted = True
