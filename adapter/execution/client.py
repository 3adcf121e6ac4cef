"""``InteractiveBrokersExecutionClient``: NautilusTrader orders at IB, and IB's order
events, executions and account values back as NautilusTrader events and reports.

Same class, constructor, client id (``INTERACTIVE_BROKERS``), venue, OMS (NETTING) and
account type (MARGIN, multi-currency) as NautilusTrader's adapter.

Orders: MKT, LMT, STP, STP LMT, MIT, LIT, MTL, TRAIL and TRAIL LIMIT (offset as a price or
in basis points), MOC/LOC (``AT_THE_CLOSE``); TIFs DAY, GTC, IOC, GTD, OPG, FOK. IB-only
settings come from an ``IBOrderTags`` tag (``outsideRth``, OCA groups, ``whatIf``,
conditions...). Order lists go out as IB wants them: children carry their parent's order
id, OCO/OUO siblings an OCA group, and only the last order transmits the group.

Events, from the client's ``openOrder``/``orderStatus``/``execDetails``/``orderError``:

=====================================  =======================================================
PreSubmitted / Submitted               accepted (once), updated when IB's order differs
Cancelled / ApiCancelled               canceled; expired when a GTD order's time is up
IB error naming a new order (201...)   rejected, with the IB code in the reason
Inactive                               rejected before acceptance, canceled after
refused cancel / modify                cancel rejected / modify rejected (with the code)
execDetails + commissionReport         filled (partial fills each), commission in the event;
                                       each execution id once, however often IB sends it
whatIf order                           rejected with IB's margin/commission preview as JSON
=====================================  =======================================================

A cancel or cancel-like status that overtakes fills IB has reported (``filled`` in the
status) waits for those fills, so no fill lands on a closed order.

Reports: order status (open orders, completed orders for our orders, filled quantities
from executions), fill reports (``reqExecutions``, with commissions; theirs are not
implemented in the version we match), position reports (average price per unit).
Reconciliation: NautilusTrader's own at start, and ours after every reconnect (a new
socket, 1101 or 1102): what changed while the link was down (fills, cancels) reaches
NautilusTrader through its reconciliation of a mass status, nothing lost or doubled.

Account: the account summary (NetLiquidation, FullAvailableFunds, FullInitMarginReq,
FullMaintMarginReq per currency) as reported account states; IB refreshes it every three
minutes, so after fills it is asked for again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from decimal import Decimal

from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import LiveClock, MessageBus
from nautilus_trader.common.enums import ComponentState, LogColor
from nautilus_trader.common.messages import ComponentStateChanged
from nautilus_trader.live.execution_client import LiveExecutionClient
from nautilus_trader.model.enums import AccountType, OmsType
from nautilus_trader.model.identifiers import AccountId, ClientId, ClientOrderId

from adapter.client import InteractiveBrokersClient
from adapter.common import IB_VENUE
from adapter.config import InteractiveBrokersExecClientConfig
from adapter.execution.account import ExecutionAccountMixin
from adapter.execution.events import ExecutionEventsMixin
from adapter.execution.orders import ExecutionOrdersMixin
from adapter.execution.records import Placed
from adapter.execution.reports import ExecutionReportsMixin
from adapter.providers import InteractiveBrokersInstrumentProvider


class InteractiveBrokersExecutionClient(
    ExecutionOrdersMixin,
    ExecutionEventsMixin,
    ExecutionAccountMixin,
    ExecutionReportsMixin,
    LiveExecutionClient,
):
    """Trades through IB (see the module docstring).

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop
    client : InteractiveBrokersClient
        The connection, possibly shared with a data client.
    account_id : AccountId
        ``{name}-{IB account}``; the IB account must be one the gateway manages.
    msgbus, cache, clock
    instrument_provider : InteractiveBrokersInstrumentProvider
    config : InteractiveBrokersExecClientConfig
    name : str, optional
        The client id; default ``INTERACTIVE_BROKERS``.
    connection_timeout : int, default 300
    track_option_exercise_from_position_update : bool, default False
        Subscribe to position updates and report positions that change without an
        execution of ours (option exercise, assignment) as position reports.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: InteractiveBrokersClient,
        account_id: AccountId,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        instrument_provider: InteractiveBrokersInstrumentProvider,
        config: InteractiveBrokersExecClientConfig,
        name: str | None = None,
        connection_timeout: int = 300,
        track_option_exercise_from_position_update: bool = False,
    ) -> None:
        super().__init__(
            loop=loop,
            client_id=ClientId(name or IB_VENUE.value),
            venue=IB_VENUE,
            oms_type=OmsType.NETTING,
            instrument_provider=instrument_provider,
            account_type=AccountType.MARGIN,
            base_currency=None,
            msgbus=msgbus,
            cache=cache,
            clock=clock,
            config=config,
        )
        self._client = client
        self._connection_timeout = connection_timeout
        self._track_option_exercise_from_position_update = (
            track_option_exercise_from_position_update
        )
        self._set_account_id(account_id)
        self._account = account_id.get_id()
        self._filter_sec_types = instrument_provider.filter_sec_types

        self._placed: dict[ClientOrderId, Placed] = {}
        self._by_order_id: dict[int, Placed] = {}
        self._exec_ids: set[str] = set()  # every execution turned into a fill
        self._account_values: dict[str, dict[str, float]] = defaultdict(dict)
        self._account_state_sent: tuple | None = None
        self._account_loaded = asyncio.Event()
        self._account_flush_scheduled = False
        self._account_refresh: asyncio.TimerHandle | None = None
        self._known_positions: dict[int, Decimal] = {}
        self._state_topic: str | None = None
        self._was_degraded = False
        self._reconciling: asyncio.Task | None = None

    @property
    def instrument_provider(self) -> InteractiveBrokersInstrumentProvider:
        return self._instrument_provider  # type: ignore[return-value]

    # -- connection ---------------------------------------------------------------------------

    async def _connect(self) -> None:
        client = self._client
        await client.wait_until_ready(self._connection_timeout)
        accounts = client.accounts()
        if self._account not in accounts:
            self.fault()
            raise ValueError(
                f"Account {self._account!r} is not managed by the TWS/Gateway at "
                f"{client._host}:{client._port}; it manages {sorted(accounts)}. Set "
                "InteractiveBrokersExecClientConfig.account_id (or TWS_ACCOUNT) to one of them",
            )
        await self.instrument_provider.initialize()
        client._instrument_provider = self._instrument_provider
        client.registered_nautilus_clients.add(self.id)
        account = self._account
        client.subscribe_event(f"accountSummary-{account}", self._on_account_summary)
        client.subscribe_event(f"openOrder-{account}", self._on_open_order)
        client.subscribe_event(f"orderStatus-{account}", self._on_order_status)
        client.subscribe_event(f"execDetails-{account}", self._on_exec_details)
        client.subscribe_event(f"orderError-{account}", self._on_order_error)
        if self._track_option_exercise_from_position_update:
            client.subscribe_event(f"positionUpdate-{account}", self._on_position_update)
            for position in await client.get_positions(account):
                self._known_positions[position.contract.conId] = position.quantity
            client.subscribe_positions()
        client.subscribe_account_summary()
        try:
            await asyncio.wait_for(self._account_loaded.wait(), self._connection_timeout)
        except TimeoutError:
            raise TimeoutError(
                f"No account summary for {account} within {self._connection_timeout}s",
            ) from None
        self._state_topic = f"events.system.{client.id}"
        self._msgbus.subscribe(self._state_topic, self._on_client_state)
        self._log.info(f"Trading account {account}", LogColor.GREEN)

    async def _disconnect(self) -> None:
        client = self._client
        if self._state_topic is not None:
            self._msgbus.unsubscribe(self._state_topic, self._on_client_state)
            self._state_topic = None
        if self._account_refresh is not None:
            self._account_refresh.cancel()
        for name in ("accountSummary", "openOrder", "orderStatus", "execDetails", "orderError"):
            client.unsubscribe_event(f"{name}-{self._account}")
        if self._track_option_exercise_from_position_update:
            client.unsubscribe_event(f"positionUpdate-{self._account}")
            if client.is_running:
                client.unsubscribe_positions()
        client.registered_nautilus_clients.discard(self.id)
        if client.is_running and not client.registered_nautilus_clients:
            client.stop()

    def _on_client_state(self, event: ComponentStateChanged) -> None:
        """Reconcile when the shared client is back after losing its connection."""
        if event.state == ComponentState.DEGRADED:
            self._was_degraded = True
        elif event.state == ComponentState.RUNNING and self._was_degraded:
            self._was_degraded = False
            if self._reconciling is None or self._reconciling.done():
                self._reconciling = self.create_task(
                    self._reconcile_after_reconnect(),
                    log_msg="reconcile after reconnect",
                )
