"""The simulated broker world: catalog, market, orders and accounts behind one object.

The world is plain Python state. It knows no bytes, message ids, sockets or sessions;
a session turns client requests into calls here and the world's events into messages.
Time comes from an injected clock (anything with `now()`, or a zero-argument callable)
returning aware datetimes; everything is deterministic for a given seed.

    world = World(clock, WorldConfig(seed=7))
    unsubscribe = world.subscribe(on_event)         # or: queue = world.event_queue()
    world.place_order(client_id=1, order_id=1, contract=Contract(conId=265598),
                      order=Order(action="BUY", orderType="MKT", totalQuantity=Decimal(100)))
    world.advance()                                 # resting orders act as time moves

Every public call first catches up with the clock (`advance()`), so resting orders have
done whatever they would have done by now. Calls that change state return the events
they caused (the same events also go to subscribers, in the same order).

Contracts (see `catalog`):
    contract_details(contract) -> list[ContractDetails] | NoSecurityDefinition (error 200)
    option_chain_params(symbol, sec_type, con_id) -> list[OptionChainParams]
    matching_symbols(pattern) -> list[ContractDescription]          (at most 16)
    market_rule(rule_id) -> tuple[PriceIncrement, ...] | None
Market data (see `market`; these never look past the clock's now):
    quote(contract, market_data_type=1) -> Quote                    (at now)
    bars(contract, duration, bar_size, what_to_show, use_rth, end=None) -> list[Bar]
    current_bar(contract, bar_size, what_to_show, use_rth) -> Bar | None  (keepUpToDate)
    realtime_bar(contract, start, what_to_show, use_rth) -> RealTimeBar | None
    historical_ticks(contract, what_to_show, start=, end=, count=, use_rth=) -> ticks
    head_timestamp(contract) -> datetime
    set_price(contract, price)                  a scenario's "move AAPL to 190.00"
    `world.market` has the same and more with explicit times (and no clamping).
Orders (see `orders`):
    next_order_id(client_id) -> int
    place_order(client_id, order_id, contract, order) -> events    (also modifies)
    cancel_order(client_id, order_id) -> events
    global_cancel() -> events
    open_orders(client_id=None) / completed_orders() -> list[OrderView]
    executions(ExecutionFilter) -> list[ExecutionRecord]
    plan_fills(client_id, order_id, FillPlan) / plan_next_fills(FillPlan, contract=None)
Scenario controls (a scenario decides what happens to an order; each returns its events):
    order(client_id, order_id) -> OrderView | None
    plan_order(client_id, order_id, FillPlan) / discard_planned(client_id, order_id)
    fill_order(client_id, order_id, quantity=None, price=None)     fill now, in part or whole
    reject_order(client_id, order_id, code, text)                  error, then Inactive
    system_cancel(client_id, order_id, code, text)                 Cancelled, then error
    reset()                          back to the configured start (subscribers stay)
Accounts (see `accounts`):
    managed_accounts() -> list[str]
    account_values(account) -> list[AccountValue]                   (reqAccountUpdates)
    portfolio(account) -> list[PortfolioItem]
    positions(account=None) -> list[PositionRow]
    account_summary(group, tags) -> list[AccountSummaryItem]        (incl. $LEDGER)
    pnl(account) -> PnL;  pnl_single(account, con_id) -> PnLSingle | None

Events (see `events`): OpenOrderEvent, OrderStatusEvent, ExecutionEvent (execution +
commission report), OrderErrorEvent (IB code + text), PositionEvent, PortfolioEvent,
AccountValuesEvent (the values that changed). The P&L day rolls at midnight in
`WorldConfig.time_zone`, which is also the zone of execution and completion times.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fake_tws.ibtypes import (
    Contract,
    ContractDescription,
    ContractDetails,
    ExecutionFilter,
    Order,
    PriceIncrement,
    RealTimeBar,
)

from .accounts import AccountConfig, Accounts
from .bars import Bar
from .catalog import Catalog, NoSecurityDefinition, OptionChainParams
from .events import Event
from .instruments import Instrument
from .market import Market, Quote
from .orders import FillPlan, OrderEngine
from .records import (
    AccountSummaryItem,
    AccountValue,
    ExecutionRecord,
    OrderView,
    PnL,
    PnLSingle,
    PortfolioItem,
    PositionRow,
)
from .timesource import TimeSource, from_epoch, now_function, raw_now, to_epoch


@dataclass(frozen=True)
class WorldConfig:
    seed: int = 0
    accounts: tuple[AccountConfig, ...] = (AccountConfig(),)
    instruments: tuple[Instrument, ...] = ()  # extra instruments, beside the curated ones
    prices: Mapping[str, float] = field(default_factory=dict)  # stock symbol -> price level
    time_zone: str = "US/Eastern"
    generate_unknown_stocks: bool = True
    check_margin: bool = True
    # Prices stay at each instrument's level and move only by set_price (a scenario's
    # `market_data: {mode: static}`); False: seeded random walks.
    static_prices: bool = False
    # Every market trades at all hours, every day (regular hours stay as they are), so
    # quotes and prints move whenever a client looks: a demo works on a Sunday night.
    # None: not said (False here; a server decides with ServerConfig.around_the_clock).
    around_the_clock: bool | None = None


class EventQueue:
    """A pull-style subscription: events pile up until drained."""

    def __init__(self) -> None:
        self._items: deque[Event] = deque()
        self.close: Callable[[], None] = lambda: None

    def __call__(self, event: Event) -> None:
        self._items.append(event)

    def drain(self) -> list[Event]:
        items = list(self._items)
        self._items.clear()
        return items


class World:
    def __init__(self, clock: TimeSource, config: WorldConfig | None = None) -> None:
        self.config = config or WorldConfig()
        self._now = now_function(clock)
        self._raw_now = raw_now(clock)
        self._caught_up: datetime | None = None  # what the clock said when last caught up
        self._zone = ZoneInfo(self.config.time_zone)
        seed = self.config.seed
        self.catalog = Catalog(
            now=self._now,
            seed=seed,
            extra=self.config.instruments,
            prices=self.config.prices,
            generate_unknown_stocks=self.config.generate_unknown_stocks,
            around_the_clock=bool(self.config.around_the_clock),
        )
        self.market = Market(self.catalog.instrument, seed, static=self.config.static_prices)
        self.accounts = Accounts(self.config.accounts, self.catalog, self.market, self._now)
        self.orders = OrderEngine(
            self.catalog,
            self.market,
            self.accounts,
            self._now,
            seed=seed,
            time_zone=self.config.time_zone,
            check_margin=self.config.check_margin,
        )
        self._processed = to_epoch(self._now())
        self._subscribers: list[Callable[[Event], None]] = []

    # --- time and events -----------------------------------------------------------------

    def now(self) -> datetime:
        return self._now()

    def subscribe(self, callback: Callable[[Event], None]) -> Callable[[], None]:
        """Call `callback` with every event; returns the function that unsubscribes."""
        self._subscribers.append(callback)

        def unsubscribe() -> None:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

        return unsubscribe

    def event_queue(self) -> EventQueue:
        queue = EventQueue()
        queue.close = self.subscribe(queue)
        return queue

    def _emit(self, events: list[Event]) -> list[Event]:
        for event in events:
            for callback in list(self._subscribers):
                callback(event)
        return events

    def advance(self, until: datetime | None = None) -> list[Event]:
        """Let resting orders act up to `until` (default: the clock's now)."""
        raw = None
        if until is None:
            # Every stream asks, each step: the very moment the clock gave when the world
            # last caught up with it is caught up with.
            raw = self._raw_now()
            if raw is self._caught_up:
                return []
            end = to_epoch(raw)
        else:
            end = to_epoch(until)
        if end <= self._processed:
            if raw is not None:
                self._caught_up = raw
            return []
        events: list[Event] = []
        for midnight in self._midnights(self._processed, end):
            events += self.orders.advance(midnight)
            self.accounts.roll_day(from_epoch(midnight))
        events += self.orders.advance(end)
        self._processed = end
        if raw is not None:
            self._caught_up = raw
        return self._emit(events)

    def _midnights(self, start: float, end: float) -> list[float]:
        out = []
        day = from_epoch(start).astimezone(self._zone).date() + timedelta(days=1)
        while True:
            moment = datetime.combine(day, datetime.min.time(), self._zone).timestamp()
            if moment > end:
                return out
            if moment > start:
                out.append(moment)
            day += timedelta(days=1)

    # --- contracts -------------------------------------------------------------------------

    def contract_details(self, contract: Contract) -> list[ContractDetails] | NoSecurityDefinition:
        return self.catalog.contract_details(contract)

    def option_chain_params(
        self, symbol: str, sec_type: str = "STK", con_id: int = 0
    ) -> list[OptionChainParams]:
        return self.catalog.option_chain_params(symbol, sec_type, con_id)

    def matching_symbols(self, pattern: str) -> list[ContractDescription]:
        return self.catalog.matching_symbols(pattern)

    def market_rule(self, rule_id: int) -> tuple[PriceIncrement, ...] | None:
        return self.catalog.market_rule(rule_id)

    def con_id(self, contract: Contract | int) -> int:
        """The conId a (possibly partial) contract resolves to; ValueError if none."""
        if isinstance(contract, int):
            return contract
        resolved = self.catalog.resolve_one(contract)
        if isinstance(resolved, NoSecurityDefinition):
            raise ValueError(f"{contract.symbol or contract.conId}: {resolved.message}")
        return resolved[0].con_id

    # --- market ----------------------------------------------------------------------------

    def quote(self, contract: Contract | int, market_data_type: int = 1) -> Quote:
        self.advance()
        return self.market.quote(self.con_id(contract), self._now(), market_data_type)

    def bars(
        self,
        contract: Contract | int,
        duration: str,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
        end: datetime | None = None,
    ) -> list[Bar]:
        """reqHistoricalData; `end` defaults to now and never goes past it."""
        self.advance()
        now = self._now()
        end = now if end is None or end > now else end
        return self.market.bars(
            self.con_id(contract), end, duration, bar_size, what_to_show, use_rth
        )

    def current_bar(
        self,
        contract: Contract | int,
        bar_size: str,
        what_to_show: str = "TRADES",
        use_rth: bool = True,
    ) -> Bar | None:
        self.advance()
        return self.market.current_bar(
            self.con_id(contract), self._now(), bar_size, what_to_show, use_rth
        )

    def realtime_bar(
        self,
        contract: Contract | int,
        start: datetime,
        what_to_show: str = "TRADES",
        use_rth: bool = False,
    ) -> RealTimeBar | None:
        """The 5-second bar from `start`, once it is complete (None before, or closed)."""
        self.advance()
        if to_epoch(start) // 5 * 5 + 5 > to_epoch(self._now()):
            return None
        return self.market.realtime_bar(self.con_id(contract), start, what_to_show, use_rth)

    def historical_ticks(
        self,
        contract: Contract | int,
        what_to_show: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        count: int = 1000,
        use_rth: bool = True,
    ) -> list:
        """reqHistoricalTicks, never past now."""
        self.advance()
        now = self._now()
        end = now if end is None or end > now else end
        return self.market.historical_ticks(
            self.con_id(contract), what_to_show, start=start, end=end, count=count, use_rth=use_rth
        )

    def head_timestamp(self, contract: Contract | int) -> datetime:
        return self.market.head_timestamp(self.con_id(contract))

    def set_price(self, contract: Contract | int, price: float) -> list[Event]:
        """From now on the instrument trades from `price`; resting orders react."""
        events = self.advance()
        self.market.set_price(self.con_id(contract), price, self._now())
        return events

    # --- orders ----------------------------------------------------------------------------

    def next_order_id(self, client_id: int) -> int:
        return self.orders.next_order_id(client_id)

    def place_order(
        self, client_id: int, order_id: int, contract: Contract, order: Order
    ) -> list[Event]:
        """placeOrder: a new order, a modification, or the transmit of a staged one."""
        events = self.advance()
        return events + self._emit(self.orders.place(client_id, order_id, contract, order))

    def cancel_order(self, client_id: int, order_id: int) -> list[Event]:
        events = self.advance()
        return events + self._emit(self.orders.cancel(client_id, order_id))

    def global_cancel(self) -> list[Event]:
        events = self.advance()
        return events + self._emit(self.orders.global_cancel())

    def open_orders(self, client_id: int | None = None) -> list[OrderView]:
        self.advance()
        return self.orders.open_orders(client_id)

    def completed_orders(self) -> list[OrderView]:
        self.advance()
        return self.orders.completed_orders()

    def executions(self, flt: ExecutionFilter | None = None) -> list[ExecutionRecord]:
        self.advance()
        return self.orders.executions(flt)

    def plan_fills(self, client_id: int, order_id: int, plan: FillPlan) -> None:
        self.advance()
        self.orders.plan_fills(client_id, order_id, plan)

    def plan_next_fills(self, plan: FillPlan, contract: Contract | int | None = None) -> None:
        con_id = None if contract is None else self.con_id(contract)
        self.orders.plan_next_fills(plan, con_id)

    # --- scenario controls -------------------------------------------------------------

    def order(self, client_id: int, order_id: int) -> OrderView | None:
        """One order of one client, live or done (None if there is none)."""
        self.advance()
        rec = self.orders.record(client_id, order_id)
        return None if rec is None else self.orders._view(rec)

    def plan_order(self, client_id: int, order_id: int, plan: FillPlan) -> None:
        """Force the fills of an order about to be placed (see OrderEngine.plan_order)."""
        self.orders.plan_order(client_id, order_id, plan)

    def discard_planned(self, client_id: int, order_id: int) -> FillPlan | None:
        return self.orders.discard_planned(client_id, order_id)

    def fill_order(
        self,
        client_id: int,
        order_id: int,
        quantity: Decimal | None = None,
        price: float | None = None,
    ) -> list[Event]:
        """Fill a live order now (default: all of it, at its limit else the market)."""
        events = self.advance()
        return events + self._emit(self.orders.fill_now(client_id, order_id, quantity, price))

    def reject_order(self, client_id: int, order_id: int, code: int, text: str) -> list[Event]:
        events = self.advance()
        return events + self._emit(self.orders.reject_order(client_id, order_id, code, text))

    def system_cancel(self, client_id: int, order_id: int, code: int, text: str) -> list[Event]:
        events = self.advance()
        return events + self._emit(self.orders.system_cancel(client_id, order_id, code, text))

    def reset(self) -> None:
        """Start over from the configuration (a Gateway restart without saved state);
        subscribers stay subscribed."""
        subscribers = self._subscribers
        self.__init__(self._now, self.config)  # type: ignore[misc]
        self._subscribers = subscribers

    # --- accounts --------------------------------------------------------------------------

    def managed_accounts(self) -> list[str]:
        return self.accounts.managed_accounts()

    def account_values(self, account: str) -> list[AccountValue]:
        self.advance()
        return self.accounts.account_values(account, self._now())

    def portfolio(self, account: str) -> list[PortfolioItem]:
        self.advance()
        return self.accounts.portfolio(account, self._now())

    def positions(self, account: str | None = None) -> list[PositionRow]:
        self.advance()
        return self.accounts.positions(account)

    def account_summary(self, group: str, tags: str) -> list[AccountSummaryItem]:
        self.advance()
        return self.accounts.summary(group, tags, self._now())

    def pnl(self, account: str) -> PnL:
        self.advance()
        return self.accounts.pnl(account, self._now())

    def pnl_single(self, account: str, con_id: int) -> PnLSingle | None:
        self.advance()
        return self.accounts.pnl_single(account, con_id, self._now())
