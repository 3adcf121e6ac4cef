"""The account: IB's account summary as reported account states, refreshed after fills;
position changes no execution explains (exercise, assignment)."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from nautilus_trader.model.objects import AccountBalance, Currency, MarginBalance, Money

from adapter.execution.records import ACCOUNT_REFRESH_DELAY, ACCOUNT_TAGS

if TYPE_CHECKING:
    from adapter.execution.client import InteractiveBrokersExecutionClient

    _Base = InteractiveBrokersExecutionClient
else:
    _Base = object


class ExecutionAccountMixin(_Base):
    # -- account --------------------------------------------------------------------------------

    def _on_account_summary(self, tag: str, value: str, currency: str) -> None:
        if tag not in ACCOUNT_TAGS or not currency:
            return
        try:
            self._account_values[currency][tag] = float(value)
        except ValueError:
            return
        if not self._account_flush_scheduled:
            self._account_flush_scheduled = True
            self._loop.call_soon(self._flush_account_state)

    def _flush_account_state(self) -> None:
        self._account_flush_scheduled = False
        balances, margins = [], []
        for code, values in sorted(self._account_values.items()):
            if any(tag not in values for tag in ACCOUNT_TAGS):
                continue
            currency = Currency.from_str(code)
            total = values["NetLiquidation"]
            free = min(values["FullAvailableFunds"], total)  # never a negative lock
            balances.append(
                AccountBalance(
                    total=Money(total, currency),
                    locked=Money(total - free, currency),
                    free=Money(free, currency),
                ),
            )
            margins.append(
                MarginBalance(
                    initial=Money(values["FullInitMarginReq"], currency),
                    maintenance=Money(values["FullMaintMarginReq"], currency),
                ),
            )
        if not balances:
            return
        state = tuple(
            sorted((c, tuple(sorted(v.items()))) for c, v in self._account_values.items())
        )
        if state == self._account_state_sent and self._account_loaded.is_set():
            return
        self._account_state_sent = state
        self.generate_account_state(
            balances=balances,
            margins=margins,
            reported=True,
            ts_event=self._clock.timestamp_ns(),
        )
        self._cache.add(
            f"accountSummary:{self._account}",
            json.dumps(self._account_values).encode(),
        )
        self._account_loaded.set()

    def _schedule_account_refresh(self) -> None:
        """IB pushes its account summary every three minutes; after fills, ask now."""
        if self._account_refresh is not None:
            self._account_refresh.cancel()
        self._account_refresh = self._loop.call_later(
            ACCOUNT_REFRESH_DELAY,
            lambda: self.create_task(self._refresh_account(), log_msg="refresh account"),
        )

    async def _refresh_account(self) -> None:
        self._account_refresh = None
        try:
            values = await self._client.get_account_summary(",".join(ACCOUNT_TAGS))
        except Exception as e:
            self._log.warning(f"Account summary refresh failed: {e!r}")
            return
        self._account_state_sent = None  # report it, even if nothing changed
        for value in values:
            if value.account_id == self._account:
                self._on_account_summary(value.tag, value.value, value.currency)

    def _on_position_update(self, position: Any) -> None:
        """A position changed at IB (with ``track_option_exercise_from_position_update``):
        report it when no execution of ours explains it (exercise, assignment)."""
        con_id = position.contract.conId
        before = self._known_positions.get(con_id)
        self._known_positions[con_id] = position.quantity
        if before is None or before == position.quantity:
            return
        self.create_task(self._report_position(position), log_msg="report position")

    async def _report_position(self, position: Any) -> None:
        await asyncio.sleep(0.5)  # executions of ours come first; reconciliation sorts it out
        report = await self._position_report(position, None)
        if report is not None:
            self._send_position_status_report(report)
