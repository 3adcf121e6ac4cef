"""Accounts: managed accounts, account summary, positions, PnL.

Streams reach the execution client as named events (as in NautilusTrader's adapter):
``accountSummary-{account}`` gets ``(tag, value, currency)``, ``positionUpdate-{account}``
an ``IBPosition``. PnL subscriptions take a handler of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from ibapi.account_summary_tags import AccountSummaryTags
from ibapi.const import UNSET_DECIMAL
from ibapi.contract import Contract

from adapter.client.codes import IBRequestError
from adapter.client.requests import Subscription
from adapter.common import IBContract
from adapter.parsing.contract_details import ib_contract_from_ibapi

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object

_ACCOUNT_SUMMARY = ("account summary",)
_POSITIONS = ("positions",)
_POSITION_UPDATES = ("position updates",)
_UNSET_DOUBLE = sys.float_info.max  # IB's "no value" for doubles


class IBPosition(NamedTuple):
    account_id: str
    contract: IBContract
    quantity: Decimal
    avg_cost: float


class AccountValue(NamedTuple):
    account_id: str
    tag: str
    value: str
    currency: str


class PnL(NamedTuple):
    """Account PnL (``reqPnL``); ``None`` where IB has no value."""

    daily: float | None
    unrealized: float | None
    realized: float | None


class PnLSingle(NamedTuple):
    """PnL of one position (``reqPnLSingle``); ``None`` where IB has no value."""

    position: Decimal | None
    daily: float | None
    unrealized: float | None
    realized: float | None
    value: float | None


class InteractiveBrokersClientAccountMixin(_Base):
    def _init_account(self) -> None:
        self._account_ids: set[str] = set()

    def accounts(self) -> set[str]:
        """The accounts this login manages (sent by TWS on connecting)."""
        return self._account_ids.copy()

    def _on_managedAccounts(self, accountsList: str) -> None:
        self._account_ids = {a for a in accountsList.split(",") if a}
        self._log.debug(f"Managed accounts: {sorted(self._account_ids)}")
        self._bootstrap_progress("accounts")

    # -- account summary -------------------------------------------------------------------------

    def subscribe_account_summary(self) -> None:
        """Stream every account's summary (all tags) to ``accountSummary-{account}``
        event handlers as ``(tag, value, currency)``; TWS updates it every 3 minutes."""
        self._subscribe(
            _ACCOUNT_SUMMARY,
            lambda req_id: self._eclient.reqAccountSummary(
                req_id, "All", AccountSummaryTags.AllTags
            ),
            self._eclient.cancelAccountSummary,
            self._emit_account_value,
        )

    def unsubscribe_account_summary(self, account_id: str | None = None) -> None:
        """Stop the summary stream (of every account: TWS streams them together)."""
        self._unsubscribe(_ACCOUNT_SUMMARY)

    def _emit_account_value(self, value: AccountValue) -> None:
        self._emit(f"accountSummary-{value.account_id}", value.tag, value.value, value.currency)

    async def get_account_summary(
        self,
        tags: str = AccountSummaryTags.AllTags,
        group: str = "All",
        timeout: float = 30.0,
    ) -> list[AccountValue]:
        """The current summary values of every account (one request, then cancelled)."""
        return await self._request(
            ("account summary request", tags, group),
            lambda req_id: self._eclient.reqAccountSummary(req_id, group, tags),
            timeout=timeout,
            cancel=self._eclient.cancelAccountSummary,
        )

    def _on_accountSummary(
        self,
        reqId: int,
        account: str,
        tag: str,
        value: str,
        currency: str,
    ) -> None:
        self._deliver(reqId, AccountValue(account, tag, value, currency))

    def _on_accountSummaryEnd(self, reqId: int) -> None:
        if (request := self._requests.get(reqId)) is not None:
            self._requests.finish(reqId)
            self._eclient.cancelAccountSummary(request.req_id)  # it is a stream at IB

    # -- positions ---------------------------------------------------------------------------------

    async def get_positions(self, account_id: str, timeout: float = 30.0) -> list[IBPosition]:
        """The account's positions (``reqPositions``: one answer shared by all callers)."""
        positions = await self._request(
            _POSITIONS,
            lambda req_id: self._eclient.reqPositions(),
            timeout=timeout,
        )
        return [p for p in positions if p.account_id == account_id]

    def subscribe_positions(self) -> None:
        """Stream position changes to ``positionUpdate-{account}`` event handlers."""
        self._subscribe(
            _POSITION_UPDATES,
            lambda req_id: self._eclient.reqPositions(),
            lambda req_id: self._eclient.cancelPositions(),
            lambda position: self._emit(f"positionUpdate-{position.account_id}", position),
        )

    def unsubscribe_positions(self) -> None:
        self._unsubscribe(_POSITION_UPDATES)

    def _on_position(
        self, account: str, contract: Contract, position: Decimal, avgCost: float
    ) -> None:
        ib_position = IBPosition(account, ib_contract_from_ibapi(contract), position, avgCost)
        if (request := self._requests.by_key(_POSITIONS)) is not None:
            request.results.append(ib_position)
        if (subscription := self._subscriptions.by_key(_POSITION_UPDATES)) is not None:
            subscription.handler(ib_position)

    def _on_positionEnd(self) -> None:
        if (request := self._requests.by_key(_POSITIONS)) is not None:
            self._requests.finish(request.req_id)
            if self._subscriptions.by_key(_POSITION_UPDATES) is None:
                self._eclient.cancelPositions()  # reqPositions streams until cancelled

    # -- PnL ---------------------------------------------------------------------------------------

    def subscribe_pnl(
        self,
        account_id: str,
        handler: Callable[[PnL], None],
        model_code: str = "",
        on_error: Callable[[IBRequestError], None] | None = None,
    ) -> Subscription:
        """Stream the account's daily, unrealized and realized PnL to ``handler``."""
        return self._subscribe(
            ("pnl", account_id, model_code),
            lambda req_id: self._eclient.reqPnL(req_id, account_id, model_code),
            self._eclient.cancelPnL,
            handler,
            on_error,
        )

    def unsubscribe_pnl(self, account_id: str, model_code: str = "") -> None:
        self._unsubscribe(("pnl", account_id, model_code))

    def subscribe_pnl_single(
        self,
        account_id: str,
        con_id: int,
        handler: Callable[[PnLSingle], None],
        model_code: str = "",
        on_error: Callable[[IBRequestError], None] | None = None,
    ) -> Subscription:
        """Stream one position's PnL to ``handler``."""
        return self._subscribe(
            ("pnl single", account_id, model_code, con_id),
            lambda req_id: self._eclient.reqPnLSingle(req_id, account_id, model_code, con_id),
            self._eclient.cancelPnLSingle,
            handler,
            on_error,
        )

    def unsubscribe_pnl_single(self, account_id: str, con_id: int, model_code: str = "") -> None:
        self._unsubscribe(("pnl single", account_id, model_code, con_id))

    def _on_pnl(
        self, reqId: int, dailyPnL: float, unrealizedPnL: float, realizedPnL: float
    ) -> None:
        self._deliver(reqId, PnL(_value(dailyPnL), _value(unrealizedPnL), _value(realizedPnL)))

    def _on_pnlSingle(
        self,
        reqId: int,
        pos: Decimal,
        dailyPnL: float,
        unrealizedPnL: float,
        realizedPnL: float,
        value: float,
    ) -> None:
        self._deliver(
            reqId,
            PnLSingle(
                _value(pos),
                _value(dailyPnL),
                _value(unrealizedPnL),
                _value(realizedPnL),
                _value(value),
            ),
        )


def _value(number: Any) -> Any:
    if number is None or number in (_UNSET_DOUBLE, UNSET_DECIMAL):
        return None
    return number
