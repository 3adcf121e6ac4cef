"""The order engine: placing, modifying, cancelling and filling orders against the tape.

Lifecycle, as a paper Gateway shows it:

- transmit=False: the order is kept but nothing is sent until it (or the last child
  of its bracket) is transmitted; then the whole group is transmitted together.
- On transmit: openOrder + orderStatus PreSubmitted. Stops and other triggered types
  stay PreSubmitted (whyHeld "trigger") until their trigger prints; children of an
  unfilled parent and orders outside their trading hours stay PreSubmitted too.
- A working order goes Submitted; a marketable one fills at once against the quote
  and the synthetic depth behind it (a tick worse per level, sizes hashed), so a size
  larger than the quote fills in several executions at different prices. A market
  order that fills completely goes straight from PreSubmitted to Filled.
- Resting orders fill as time advances, when a print makes them marketable, each time
  up to the displayed size (so big resting orders fill in parts over several prints).
- IOC: what is not filled at once goes PendingCancel -> Cancelled. FOK: all or
  Inactive. DAY orders are cancelled at the end of their trading day, GTD at their
  time; OPG fills at the opening print, MOC/LOC at the closing print.
- Cancel: PendingCancel -> Cancelled + error 202; children of a cancelled parent are
  cancelled too. A filled bracket child cancels its siblings (IB's implicit OCA);
  OCA groups cancel (type 1) or reduce (types 2, 3) the other members on a fill.
- A `FillPlan` (attached to an order, or to the next order on a contract) replaces
  market matching with exact slices: quantity, price (or the market's), delay.

Execution ids look like IB's ("0000e0d5.69e02bfb.01.01"), perm ids are unique per
world, order ids are per client and orders remember their client.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

import msgspec

from fake_tws.ibtypes import (
    CommissionReport,
    Contract,
    Execution,
    ExecutionFilter,
    Order,
    OrderState,
)

from . import order_rules as rules
from .accounts import Accounts
from .catalog import Catalog, NoSecurityDefinition
from .commissions import schedule_for
from .events import Event, ExecutionEvent, OpenOrderEvent, OrderErrorEvent, OrderStatusEvent
from .hashing import stable_key
from .instruments import Instrument
from .market import Market
from .records import ExecutionRecord, OrderView
from .schedule import Session
from .timesource import from_epoch

FULL_SESSION_TYPES = {"FUT", "CONTFUT", "CASH", "CRYPTO", "CFD"}
ZERO = Decimal(0)


@dataclass(frozen=True)
class FillSlice:
    quantity: Decimal | int | float
    price: float | None = None  # None: the market's price at that moment
    after: timedelta = timedelta(0)  # from the moment the order becomes active


@dataclass(frozen=True)
class FillPlan:
    """Exact fills a scenario wants; `then` says what happens to any remainder."""

    slices: tuple[FillSlice, ...]
    then: Literal["market", "hold", "cancel"] = "market"


@dataclass(eq=False)
class OrderRecord:
    client_id: int
    order_id: int
    perm_id: int
    seq: int
    instrument: Instrument
    contract: Contract
    order: Order
    account: str
    transmitted: bool = False
    status: str = "PendingSubmit"
    filled: Decimal = ZERO
    notional: Decimal = ZERO  # sum of quantity x price over fills
    last_fill_price: float = 0.0
    commission: Decimal = ZERO
    why_held: str = ""
    triggered: bool = False
    trail_extreme: float | None = None
    active_since: float | None = None
    scan_from: float = 0.0
    expires_at: float | None = None
    plan: FillPlan | None = None
    plan_index: int = 0
    completed_at: float | None = None
    completed_status: str = ""
    version: int = 0
    _cache: tuple | None = field(default=None, repr=False)

    @property
    def kind(self) -> str:
        return rules.order_type(self.order)

    @property
    def buy(self) -> bool:
        return self.order.action.upper() == "BUY"

    @property
    def total(self) -> Decimal:
        return rules.quantity_of(self.order)

    @property
    def remaining(self) -> Decimal:
        return self.total - self.filled

    @property
    def done(self) -> bool:
        return self.status in rules.DONE

    @property
    def live(self) -> bool:
        return self.transmitted and not self.done

    @property
    def avg_fill_price(self) -> float:
        return float(self.notional / self.filled) if self.filled else 0.0

    @property
    def tif(self) -> str:
        return (self.order.tif or "DAY").upper()


@dataclass(frozen=True, slots=True)
class _Next:
    time: float
    kind: str  # "print", "expire", "auction", "plan"
    extreme: float | None = None


class OrderEngine:
    def __init__(
        self,
        catalog: Catalog,
        market: Market,
        accounts: Accounts,
        now: Callable[[], datetime],
        *,
        seed: int = 0,
        time_zone: str = "US/Eastern",
        check_margin: bool = True,
    ) -> None:
        self._catalog = catalog
        self._market = market
        self._accounts = accounts
        self._now = now
        self._zone_name = time_zone
        self._zone = ZoneInfo(time_zone)
        self._check_margin = check_margin
        self._orders: dict[tuple[int, int], OrderRecord] = {}
        self._executions: list[ExecutionRecord] = []
        self._next_perm = 1_000_000_000 + stable_key(seed, "perm") % 400_000_000
        self._next_exec = 0x69E00000 + stable_key(seed, "exec") % 0x100000
        self._exec_salt = stable_key(seed, "route")
        self._seq = 0
        self._cursor = now().timestamp()
        self._pending_plans: list[tuple[int | None, FillPlan]] = []
        self._planned: dict[tuple[int, int], FillPlan] = {}  # by (client, order id) to come
        # Indexes, so placing and advancing cost what the open orders cost, not what every
        # order ever placed does (`_orders` only grows):
        # orders not done yet, by seq (in seq order; done is final, so pruned lazily),
        self._open: dict[int, OrderRecord] = {}
        # orders filed under (client id, parentId), as their order said when placed or
        # modified (`_children` checks each against its order as it is now),
        self._by_parent: dict[tuple[int, int], dict[int, OrderRecord]] = {}
        # and the highest order id each client used.
        self._last_id: dict[int, int] = {}

    # --- ids and lookups -----------------------------------------------------------------

    def next_order_id(self, client_id: int) -> int:
        return self._last_id.get(client_id, 0) + 1

    def record(self, client_id: int, order_id: int) -> OrderRecord | None:
        return self._orders.get((client_id, order_id))

    def open_orders(self, client_id: int | None = None) -> list[OrderView]:
        """Live orders, of one client or (None) of all clients."""
        return [
            self._view(r)
            for r in self._open_records()
            if r.live and (client_id is None or r.client_id == client_id)
        ]

    def completed_orders(self) -> list[OrderView]:
        done = [r for r in self._orders.values() if r.done]
        return [self._view(r) for r in sorted(done, key=lambda r: (r.completed_at or 0, r.seq))]

    def executions(self, flt: ExecutionFilter | None = None) -> list[ExecutionRecord]:
        flt = flt or ExecutionFilter()
        since = rules.parse_good_till(flt.time, self._zone_name) if flt.time else None
        out = []
        for rec in self._executions:
            e = rec.execution
            if flt.clientId and e.clientId != flt.clientId:
                continue
            if flt.acctCode and e.acctNumber != flt.acctCode:
                continue
            if flt.symbol and rec.contract.symbol.upper() != flt.symbol.upper():
                continue
            if flt.secType and rec.sec_type != flt.secType.upper():
                continue
            if flt.exchange and e.exchange.upper() != flt.exchange.upper():
                continue
            if flt.side and {"BUY": "BOT", "SELL": "SLD"}.get(flt.side.upper()) != e.side:
                continue
            if since is not None and rec.time < since:
                continue
            out.append(rec)
        return out

    def plan_fills(self, client_id: int, order_id: int, plan: FillPlan) -> None:
        """Force the fills of an order already placed (from now on)."""
        rec = self._orders[(client_id, order_id)]
        rec.plan, rec.plan_index = plan, 0
        if rec.active_since is not None:
            rec.active_since = max(rec.active_since, self._now().timestamp())
        rec.version += 1

    def plan_next_fills(self, plan: FillPlan, con_id: int | None = None) -> None:
        """Force the fills of the next order placed (on `con_id`, or on anything)."""
        self._pending_plans.append((con_id, plan))

    # --- scenario controls: a scenario decides what happens to an order ----------------

    def plan_order(self, client_id: int, order_id: int, plan: FillPlan) -> None:
        """Force the fills of the order `order_id` that `client_id` is about to place
        (a plan with no slices and then="hold" keeps the market from filling it)."""
        self._planned[(client_id, order_id)] = plan

    def discard_planned(self, client_id: int, order_id: int) -> FillPlan | None:
        """Forget a plan_order plan no order took; returns it (None if it was taken)."""
        return self._planned.pop((client_id, order_id), None)

    def fill_now(
        self,
        client_id: int,
        order_id: int,
        quantity: Decimal | None = None,
        price: float | None = None,
    ) -> list[Event]:
        """Fill a live order now: `quantity` (default: all that remains) at `price`
        (default: its limit price, else the market's ask for a buy, bid for a sell)."""
        rec = self._orders.get((client_id, order_id))
        if rec is None or not rec.live:
            return []
        t = self._now().timestamp()
        wanted = rec.remaining if quantity is None else min(quantity, rec.remaining)
        if wanted <= 0:
            return []
        if price is None:
            price = self._limit(rec)
        if price is None:
            q = self._market.quote(rec.instrument.con_id, t)
            price = (q.ask if rec.buy else q.bid) or self._market.price(rec.instrument.con_id, t)
        if price is None:
            return []
        events: list[Event] = []
        if rec.status == "PreSubmitted" and wanted < rec.remaining:
            events += self._set_status(rec, "Submitted")
        return events + self._fill(rec, wanted, price, t, added_liquidity=True)

    def reject_order(self, client_id: int, order_id: int, code: int, message: str) -> list[Event]:
        """IB rejects a live order: the error, then orderStatus Inactive (its children
        are cancelled)."""
        rec = self._orders.get((client_id, order_id))
        if rec is None or rec.done:
            return []
        t = self._now().timestamp()
        rec.status = "Inactive"
        rec.why_held = ""
        self._complete(rec, t, "Rejected")
        events: list[Event] = [
            self._error(client_id, order_id, rules.OrderProblem(code, message)),
            self._status(rec),
        ]
        for child in self._children(rec):
            events += self._cancel(child, t, by_user=False, reason="parent cancelled")
        return events

    def system_cancel(self, client_id: int, order_id: int, code: int, message: str) -> list[Event]:
        """IB (or the exchange) cancels a live order: orderStatus Cancelled, then the
        error (202 "Order Canceled - reason:..." unless told otherwise)."""
        rec = self._orders.get((client_id, order_id))
        if rec is None or rec.done:
            return []
        events = self._cancel(rec, self._now().timestamp(), by_user=False)
        error = self._error(client_id, order_id, rules.OrderProblem(code, message))
        at = next(
            (
                i + 1
                for i, e in enumerate(events)
                if isinstance(e, OrderStatusEvent)
                and e.order_id == order_id
                and e.client_id == client_id
                and e.status == "Cancelled"
            ),
            len(events),
        )
        return [*events[:at], error, *events[at:]]

    # --- place, modify, cancel -----------------------------------------------------------

    def place(self, client_id: int, order_id: int, contract: Contract, order: Order) -> list[Event]:
        t = self._now().timestamp()
        key = (client_id, order_id)
        existing = self._orders.get(key)
        if existing is not None and existing.done:
            problem = rules.MODIFY_FILLED if existing.status == "Filled" else rules.DUPLICATE_ID
            return [self._error(client_id, order_id, problem)]
        resolved = self._catalog.resolve_one(contract)
        if isinstance(resolved, NoSecurityDefinition):
            return [self._error(client_id, order_id, rules.OrderProblem(200, resolved.message))]
        instrument, full_contract = resolved
        if existing is not None and (
            existing.instrument.con_id != instrument.con_id
            or existing.order.action.upper() != order.action.upper()
        ):
            return [self._error(client_id, order_id, rules.MODIFY_MISMATCH)]
        order = self._with_cash_quantity(order, instrument, t)
        problem = rules.validate(
            order, instrument, lambda p: self._catalog.price_increment(instrument, p)
        )
        problem = problem or self._check_account_and_parent(client_id, order, instrument)
        if problem is not None:
            return [self._error(client_id, order_id, problem)]
        account = order.account or self._accounts.default_account
        if order.whatIf:
            return [self._what_if(client_id, order_id, instrument, full_contract, order, account)]
        if self._check_margin:
            shortfall = self._margin_problem(existing, instrument, order, account)
            if shortfall is not None:
                return [self._error(client_id, order_id, shortfall)]
        if existing is not None:
            return self._modify(existing, order, t)
        self._seq += 1
        rec = OrderRecord(
            client_id=client_id,
            order_id=order_id,
            perm_id=self._next_perm,
            seq=self._seq,
            instrument=instrument,
            contract=full_contract,
            order=order,
            account=account,
        )
        self._next_perm += 1
        rec.order = self._normalized(rec, order)
        self._take_pending_plan(rec)
        self._orders[key] = rec
        self._open[rec.seq] = rec
        self._last_id[client_id] = max(self._last_id.get(client_id, order_id), order_id)
        self._file_child(rec)
        if not order.transmit:
            return []
        return self._transmit_group(rec, t)

    def _with_cash_quantity(self, order: Order, instrument: Instrument, t: float) -> Order:
        """Cash-quantity orders (crypto, forex) get the quantity the cash buys now."""
        if rules.quantity_of(order) > 0 or not order.cashQty or order.cashQty <= 0:
            return order
        q = self._market.quote(instrument.con_id, t)
        price = q.ask if order.action.upper() == "BUY" else q.bid
        if not price:
            return order
        increment = instrument.details.sizeIncrement or Decimal(1)
        units = (Decimal(repr(order.cashQty)) / Decimal(repr(price)) / increment).to_integral_value(
            rounding=ROUND_DOWN
        )
        return msgspec.structs.replace(order, totalQuantity=units * increment)

    def _check_account_and_parent(
        self, client_id: int, order: Order, instrument: Instrument
    ) -> rules.OrderProblem | None:
        if order.account and not self._accounts.has(order.account):
            return invalid_account(order.account)
        if order.parentId:
            parent = self._orders.get((client_id, order.parentId))
            if parent is None or (parent.done and parent.status != "Filled"):
                return rules.rejected("Parent order is not open")
        if instrument.sec_type == "CRYPTO" and order.action.upper() != "BUY":
            account = order.account or self._accounts.default_account
            held = self._accounts.position(account, instrument.con_id)
            if (held.quantity if held else ZERO) < rules.quantity_of(order):
                return rules.rejected("Short sales are not allowed for cryptocurrency")
        return None

    def _margin_problem(
        self, existing: OrderRecord | None, instrument: Instrument, order: Order, account: str
    ) -> rules.OrderProblem | None:
        if existing is not None and rules.quantity_of(order) <= existing.total:
            return None  # not adding exposure
        price = self._reference_price(instrument, order)
        if price is None:
            return None
        quantity = rules.quantity_of(order) - (existing.total if existing else ZERO)
        state = self._accounts.what_if(
            account,
            instrument,
            order.action.upper() == "BUY",
            quantity,
            price,
            ZERO,
            self._now(),
        )
        text = self._accounts.margin_shortfall(state)
        return rules.rejected(text) if text else None

    def _reference_price(self, instrument: Instrument, order: Order) -> float | None:
        if order.lmtPrice is not None:
            return order.lmtPrice
        return self._market.price(instrument.con_id, self._now())

    def _what_if(
        self,
        client_id: int,
        order_id: int,
        instrument: Instrument,
        contract: Contract,
        order: Order,
        account: str,
    ) -> Event:
        price = self._reference_price(instrument, order) or 0.0
        quantity = rules.quantity_of(order)
        schedule = schedule_for(instrument)
        value = quantity * Decimal(repr(price)) * Decimal(repr(instrument.value_multiplier))
        commission = schedule.total(quantity, value)
        state = self._accounts.what_if(
            account,
            instrument,
            order.action.upper() == "BUY",
            quantity,
            price,
            commission,
            self._now(),
        )
        shown = msgspec.structs.replace(
            order, orderId=order_id, clientId=client_id, account=account, tif=order.tif or "DAY"
        )
        return OpenOrderEvent(
            client_id=client_id,
            order_id=order_id,
            contract=contract,
            order=shown,
            order_state=state,
        )

    def _normalized(self, rec: OrderRecord, order: Order) -> Order:
        return msgspec.structs.replace(
            order,
            orderId=rec.order_id,
            clientId=rec.client_id,
            permId=rec.perm_id,
            account=rec.account,
            tif=order.tif or "DAY",
        )

    def _take_pending_plan(self, rec: OrderRecord) -> None:
        planned = self._planned.pop((rec.client_id, rec.order_id), None)
        if planned is not None:
            rec.plan = planned
            return
        for i, (con_id, plan) in enumerate(self._pending_plans):
            if con_id is None or con_id == rec.instrument.con_id:
                rec.plan = plan
                del self._pending_plans[i]
                return

    def _modify(self, rec: OrderRecord, order: Order, t: float) -> list[Event]:
        if rules.quantity_of(order) < rec.filled:
            return [self._error(rec.client_id, rec.order_id, rules.rejected(
                "The order size cannot be below the quantity already filled"
            ))]  # fmt: skip
        old = rec.order
        rec.order = self._normalized(rec, order)
        self._file_child(rec)
        rec.version += 1
        if rules.order_type(old) != rec.kind or old.auxPrice != order.auxPrice:
            rec.triggered = False
            rec.trail_extreme = None
        if not rec.transmitted:
            return self._transmit_group(rec, t) if order.transmit else []
        rec.expires_at = self._expiry(rec, t)
        events: list[Event] = [self._open_order(rec), self._status(rec)]
        if rec.active_since is not None:
            rec.scan_from = t
            events += self._evaluate(rec, t, placing=False)
        return events

    def cancel(self, client_id: int, order_id: int) -> list[Event]:
        """cancelOrder from `client_id`: its own order, or another client's live one."""
        rec = self._orders.get((client_id, order_id))
        if rec is None:
            others = [r for r in self._open_records() if r.order_id == order_id and r.live]
            rec = others[0] if len(others) == 1 else None
        if rec is None:
            return [self._error(client_id, order_id, rules.cancel_not_found(order_id))]
        if rec.done:
            problem = rules.cancel_not_cancellable(order_id, rec.status)
            return [self._error(client_id, order_id, problem)]
        return self._cancel(rec, self._now().timestamp(), by_user=True)

    def global_cancel(self) -> list[Event]:
        t = self._now().timestamp()
        events: list[Event] = []
        for rec in self._open_records():
            if rec.live or (not rec.transmitted and not rec.done):
                events += self._cancel(rec, t, by_user=True)
        return events

    def _cancel(
        self, rec: OrderRecord, t: float, *, by_user: bool, reason: str = ""
    ) -> list[Event]:
        if rec.done:
            return []
        events: list[Event] = []
        was_transmitted = rec.transmitted
        if by_user and was_transmitted:
            rec.status = "PendingCancel"
            events.append(self._status(rec))
        rec.status = "Cancelled"
        rec.transmitted = True  # a cancelled staged order is now known to everyone
        self._complete(rec, t, "Cancelled by Trader" if by_user else "Cancelled by System")
        events.append(self._status(rec))
        if by_user or reason:
            events.append(
                self._error(
                    rec.client_id, rec.order_id, rules.OrderProblem(202, rules.CANCELLED + reason)
                )
            )
        for child in self._children(rec):
            events += self._cancel(child, t, by_user=False, reason="parent cancelled")
        return events

    def _complete(self, rec: OrderRecord, t: float, status_text: str) -> None:
        rec.completed_at = t
        rec.completed_status = status_text
        rec.version += 1

    # --- transmitting and activating -----------------------------------------------------

    def _transmit_group(self, rec: OrderRecord, t: float) -> list[Event]:
        parent = (
            self._orders.get((rec.client_id, rec.order.parentId)) if rec.order.parentId else None
        )
        group = [rec]
        if parent is not None and not parent.transmitted:
            group = [parent, *[c for c in self._children(parent) if not c.transmitted or c is rec]]
        events: list[Event] = []
        for member in group:
            member.order = msgspec.structs.replace(member.order, transmit=True)
            member.transmitted = True
            member.status = "PreSubmitted"
            member.expires_at = self._expiry(member, t)
            member.why_held = "trigger" if member.kind in rules.TRIGGERED else ""
            events += [self._open_order(member), self._status(member)]
        for member in group:
            if self._waiting_for_parent(member):
                continue
            events += self._activate(member, t)
        return events

    def _waiting_for_parent(self, rec: OrderRecord) -> bool:
        if not rec.order.parentId:
            return False
        parent = self._orders.get((rec.client_id, rec.order.parentId))
        return parent is not None and parent.status != "Filled"

    def _children(self, rec: OrderRecord) -> list[OrderRecord]:
        filed = self._by_parent.get((rec.client_id, rec.order_id))
        if not filed:
            return []
        return sorted(
            (
                r
                for r in filed.values()
                if r.client_id == rec.client_id
                and r.order.parentId == rec.order_id
                and r is not rec
            ),
            key=lambda r: r.seq,
        )

    def _file_child(self, rec: OrderRecord) -> None:
        """File `rec` under its order's parentId (after its order was set or changed)."""
        self._by_parent.setdefault((rec.client_id, rec.order.parentId), {})[rec.seq] = rec

    def _open_records(self) -> list[OrderRecord]:
        """Orders not done yet, in seq order (forgetting those done since last asked)."""
        finished = [seq for seq, r in self._open.items() if r.done]
        for seq in finished:
            del self._open[seq]
        return list(self._open.values())

    def _activate(self, rec: OrderRecord, t: float) -> list[Event]:
        rec.active_since = t
        rec.scan_from = t
        rec.version += 1
        if rec.kind in ("TRAIL", "TRAIL LIMIT"):
            self._start_trailing(rec, t)
        return self._evaluate(rec, t, placing=True)

    def _start_trailing(self, rec: OrderRecord, t: float) -> None:
        price = self._market.price(rec.instrument.con_id, t)
        order = rec.order
        if order.trailStopPrice is not None and order.auxPrice is not None:
            # an explicit initial stop: the extreme it implies
            price = order.trailStopPrice + (order.auxPrice if not rec.buy else -order.auxPrice)
        rec.trail_extreme = price

    def _expiry(self, rec: OrderRecord, t: float) -> float | None:
        tif = rec.tif
        if tif == "GTD":
            moment = rules.parse_good_till(rec.order.goodTillDate, self._zone_name)
            return moment.timestamp() if moment else None
        if tif not in ("DAY", "OPG"):
            return None
        rth = not self._all_hours(rec)
        session = self._session_after(rec, t, lambda s: s.window(rth)[1])
        return session.window(rth)[1] if session else None

    def _session_after(self, rec: OrderRecord, t: float, moment: Callable[[Session], float]):
        """The first session whose `moment` (its close, its open...) is at or after t."""
        session = self._market.next_session(rec.instrument.con_id, t)
        for _ in range(400):
            if session is None or moment(session) >= t:
                return session
            session = self._market.next_session(rec.instrument.con_id, session.end)
        return None

    def _all_hours(self, rec: OrderRecord) -> bool:
        return rec.order.outsideRth or rec.instrument.sec_type in FULL_SESSION_TYPES

    def _eligible(self, rec: OrderRecord, t: float) -> bool:
        return self._market.is_open(rec.instrument.con_id, t, rth=not self._all_hours(rec))

    # --- acting at a moment ----------------------------------------------------------------

    def _evaluate(self, rec: OrderRecord, t: float, *, placing: bool) -> list[Event]:
        """Do whatever the order can do right now: trigger, fill, or wait."""
        if rec.done or rec.active_since is None:
            return []
        events: list[Event] = []
        if rec.plan is not None:
            events += self._run_plan(rec, t)
            if rec.done or rec.plan is not None:
                return events
        eligible = self._eligible(rec, t)
        if placing and rec.tif in ("IOC", "FOK") and not eligible:
            return events + self._expire_immediate(rec, t)
        if rec.kind in rules.AUCTION or rec.tif == "OPG":
            if eligible or rec.kind in rules.AUCTION:
                events += self._set_status(rec, "Submitted")
            return events
        if rec.kind in rules.TRIGGERED and not rec.triggered:
            if not (eligible and self._trigger_reached(rec, t)):
                return events
            rec.triggered = True
            rec.why_held = ""
        if not eligible:
            return events
        fills = self._marketable_fills(rec, t)
        available = sum((q for _, q in fills), ZERO)
        if rec.tif == "FOK" and available < rec.remaining:
            rec.status = "Inactive"
            self._complete(rec, t, "Inactive")
            return [*events, self._status(rec)]
        # only an order filling at once in one piece skips Submitted, as on a Gateway
        if available < rec.remaining or len(fills) > 1 or not placing:
            events += self._set_status(rec, "Submitted")
        for price, quantity in fills:
            resting = not placing and rec.kind in ("LMT", "MIDPRICE")
            events += self._fill(rec, quantity, price, t, added_liquidity=resting)
        if rec.tif == "IOC" and not rec.done:
            events += self._expire_immediate(rec, t)
        return events

    def _expire_immediate(self, rec: OrderRecord, t: float) -> list[Event]:
        if rec.tif == "FOK":
            rec.status = "Inactive"
            self._complete(rec, t, "Inactive")
            return [self._status(rec)]
        rec.status = "PendingCancel"
        events: list[Event] = [self._status(rec)]
        rec.status = "Cancelled"
        self._complete(rec, t, "Cancelled by System")
        events.append(self._status(rec))
        return events

    def _set_status(self, rec: OrderRecord, status: str) -> list[Event]:
        if rec.status == status:
            return []
        rec.status = status
        rec.why_held = "" if status == "Submitted" else rec.why_held
        return [self._open_order(rec), self._status(rec)]

    def _trigger_reached(self, rec: OrderRecord, t: float) -> bool:
        last = self._market.price(rec.instrument.con_id, t)
        if last is None:
            return False
        aux = rec.order.auxPrice
        kind = rec.kind
        if kind in ("STP", "STP LMT"):
            return last >= aux if rec.buy else last <= aux  # type: ignore[operator]
        if kind in ("MIT", "LIT"):
            return last <= aux if rec.buy else last >= aux  # type: ignore[operator]
        stop = self._trail_stop(rec)
        return stop is not None and (last >= stop if rec.buy else last <= stop)

    def _trail_stop(self, rec: OrderRecord) -> float | None:
        if rec.trail_extreme is None:
            return None
        return self._market.trailing_stop_price(
            rec.instrument.con_id,
            rec.trail_extreme,
            sell=not rec.buy,
            amount=rec.order.auxPrice,
            percent=rec.order.trailingPercent,
        )

    def _limit(self, rec: OrderRecord) -> float | None:
        """The price limit of the order as it works now (None for market-like)."""
        kind = rec.kind
        if kind in ("LMT", "STP LMT", "LIT", "LOC"):
            return rec.order.lmtPrice
        if kind == "TRAIL LIMIT":
            stop = self._trail_stop(rec)
            if rec.order.lmtPriceOffset is not None and stop is not None:
                offset = rec.order.lmtPriceOffset
                return stop + offset if rec.buy else stop - offset
            return rec.order.lmtPrice
        if kind == "MIDPRICE":
            return rec.order.lmtPrice
        return None

    def _marketable_fills(self, rec: OrderRecord, t: float) -> list[tuple[float, Decimal]]:
        con_id = rec.instrument.con_id
        limit = self._limit(rec)
        if rec.kind == "MIDPRICE":
            q = self._market.quote(con_id, t)
            if q.bid is None or q.ask is None:
                return []
            price = self._market.midprice_fill(con_id, t, buy=rec.buy)
            if limit is not None and (price > limit + 1e-9 if rec.buy else price < limit - 1e-9):
                return []
            size = q.ask_size if rec.buy else q.bid_size
            return [(price, min(size, rec.remaining))]
        fills: list[tuple[float, Decimal]] = []
        left = rec.remaining
        for price, size in self._market.depth(con_id, t, rec.buy):
            if limit is not None and (price > limit + 1e-9 if rec.buy else price < limit - 1e-9):
                break
            take = min(size, left)
            fills.append((price, take))
            left -= take
            if left <= 0:
                break
        return fills

    # --- fills ----------------------------------------------------------------------------

    def _fill(
        self, rec: OrderRecord, quantity: Decimal, price: float, t: float, *, added_liquidity: bool
    ) -> list[Event]:
        quantity = min(quantity, rec.remaining)
        if quantity <= 0:
            return []
        instrument = rec.instrument
        rec.filled += quantity
        rec.notional += quantity * Decimal(repr(price))
        rec.last_fill_price = price
        schedule = schedule_for(instrument)
        value = rec.notional * Decimal(repr(instrument.value_multiplier))
        total = schedule.total(rec.filled, value)
        commission = total - rec.commission
        rec.commission = total
        realized = self._accounts.apply_fill(
            rec.account, instrument, rec.buy, quantity, price, commission
        )
        exec_id, venue = self._exec_id(rec, t)
        moment = from_epoch(t)
        execution = Execution(
            execId=exec_id,
            time=f"{moment.astimezone(self._zone):%Y%m%d %H:%M:%S} {self._zone_name}",
            acctNumber=rec.account,
            exchange=venue,
            side="BOT" if rec.buy else "SLD",
            shares=quantity,
            price=price,
            permId=rec.perm_id,
            clientId=rec.client_id,
            orderId=rec.order_id,
            cumQty=rec.filled,
            avgPrice=rec.avg_fill_price,
            orderRef=rec.order.orderRef,
            modelCode=rec.order.modelCode,
            lastLiquidity=1 if added_liquidity else 2,
        )
        report = CommissionReport(
            execId=exec_id,
            commission=float(commission),
            currency=schedule.currency,
            # None (unset) for an opening fill; the codec writes IB's max-double for it.
            realizedPNL=float(round(realized, 2)) if realized is not None else None,
        )
        self._executions.append(
            ExecutionRecord(
                contract=rec.contract,
                execution=execution,
                commission_report=report,
                time=moment,
                sec_type=instrument.sec_type,
            )
        )
        events: list[Event] = [
            ExecutionEvent(
                client_id=rec.client_id,
                order_id=rec.order_id,
                contract=rec.contract,
                execution=execution,
                commission_report=report,
                time=moment,
            )
        ]
        if rec.remaining == 0:
            rec.status = "Filled"
            rec.why_held = ""
            self._complete(rec, t, "Filled")
            events.append(self._open_order(rec))
        rec.version += 1
        events.append(self._status(rec))
        events += self._accounts.fill_events(rec.account, instrument, moment)
        events += self._after_fill(rec, quantity, t)
        return events

    def _exec_id(self, rec: OrderRecord, t: float) -> tuple[str, str]:
        venue = self._market.tape(rec.instrument.con_id).venue(int(t), self._next_exec)
        route = 0xD000 + stable_key(self._exec_salt, venue) % 0x3000
        serial = self._next_exec
        self._next_exec += 1
        return f"{route:08x}.{serial:08x}.01.01", venue

    def _after_fill(self, rec: OrderRecord, quantity: Decimal, t: float) -> list[Event]:
        """Children wake up when a parent fills; OCA partners and siblings give way."""
        events: list[Event] = []
        if rec.status == "Filled":
            for child in self._children(rec):
                if child.transmitted and not child.done and child.active_since is None:
                    events += self._activate(child, t)
        partners: list[tuple[OrderRecord, int]] = []
        if rec.order.ocaGroup:
            partners += [
                (r, rec.order.ocaType or 1)
                for r in list(self._open.values())
                if r is not rec
                and r.live
                and r.account == rec.account
                and r.order.ocaGroup == rec.order.ocaGroup
            ]
        if rec.order.parentId:  # bracket siblings are OCA'd, reducing on partial fills
            parent = self._orders.get((rec.client_id, rec.order.parentId))
            if parent is not None:
                partners += [(s, 3) for s in self._children(parent) if s is not rec and s.live]
        seen: set[int] = set()
        for other, oca_type in partners:
            if id(other) in seen or other.done:
                continue
            seen.add(id(other))
            if oca_type == 1 or other.total - quantity <= other.filled:
                events += self._cancel(other, t, by_user=False, reason="OCA group")
            else:
                new_total = other.total - quantity
                other.order = msgspec.structs.replace(other.order, totalQuantity=new_total)
                other.version += 1
                events += [self._open_order(other), self._status(other)]
        return events

    # --- fill plans ---------------------------------------------------------------------------

    def _run_plan(self, rec: OrderRecord, t: float) -> list[Event]:
        plan = rec.plan
        assert plan is not None and rec.active_since is not None
        events: list[Event] = []
        while rec.plan_index < len(plan.slices) and not rec.done:
            piece = plan.slices[rec.plan_index]
            if rec.active_since + piece.after.total_seconds() > t + 1e-9:
                if rec.status == "PreSubmitted" and rec.kind not in rules.TRIGGERED:
                    events += self._set_status(rec, "Submitted")
                return events
            rec.plan_index += 1
            price = piece.price
            if price is None:
                q = self._market.quote(rec.instrument.con_id, t)
                price = q.ask if rec.buy else q.bid
            if price is None:
                continue
            quantity = (
                Decimal(repr(piece.quantity))
                if isinstance(piece.quantity, float)
                else Decimal(piece.quantity)
            )
            if rec.status == "PreSubmitted" and quantity < rec.remaining:
                events += self._set_status(rec, "Submitted")
            events += self._fill(rec, quantity, price, t, added_liquidity=True)
        if not rec.done:
            rec.plan = None
            if plan.then == "cancel":
                events += self._cancel(rec, t, by_user=False, reason="fill plan")
            elif plan.then == "hold":
                rec.plan = FillPlan(slices=(), then="hold")
                events += self._set_status(rec, "Submitted")
        return events

    # --- time passing -------------------------------------------------------------------------

    def advance(self, until: float) -> list[Event]:
        """Process everything resting orders do up to `until` (epoch seconds)."""
        events: list[Event] = []
        if until < self._cursor:
            return events
        for _ in range(1_000_000):
            best: tuple[_Next, OrderRecord] | None = None
            for rec in self._open_records():
                if not rec.live or rec.active_since is None:
                    continue
                nxt = self._next_event(rec, until)
                if nxt is not None and (best is None or nxt.time < best[0].time):
                    best = (nxt, rec)
            if best is None:
                break
            nxt, rec = best
            self._cursor = max(self._cursor, nxt.time)
            events += self._handle(rec, nxt)
        self._cursor = until
        return events

    def _next_event(self, rec: OrderRecord, until: float) -> _Next | None:
        start = max(self._cursor, rec.scan_from)
        cached = rec._cache
        if cached is not None:
            version, market_version, cached_until, cached_start, result = cached
            if (
                version == rec.version
                and market_version == self._market.version
                and cached_until == until
                and cached_start <= start
                and (result is None or result.time >= start)
            ):
                return result
        result = self._compute_next(rec, start, until)
        rec._cache = (rec.version, self._market.version, until, start, result)
        return result

    def _compute_next(self, rec: OrderRecord, start: float, until: float) -> _Next | None:
        candidates: list[_Next] = []
        auction = self._auction_time(rec, start)
        if auction is None and rec.expires_at is not None and rec.expires_at <= until:
            candidates.append(_Next(max(rec.expires_at, start), "expire"))
        if rec.plan is not None:
            if rec.plan_index < len(rec.plan.slices):
                due = rec.active_since + rec.plan.slices[rec.plan_index].after.total_seconds()  # type: ignore[operator]
                if due <= until:
                    candidates.append(_Next(max(due, start), "plan"))
            return min(candidates, key=lambda n: n.time, default=None)
        if auction is not None:
            if auction <= until:
                candidates.append(_Next(auction, "auction"))
            return min(candidates, key=lambda n: n.time, default=None)
        found = self._next_print(rec, start, until)
        if found is not None:
            candidates.append(found)
        return min(candidates, key=lambda n: n.time, default=None)

    def _auction_time(self, rec: OrderRecord, start: float) -> float | None:
        if rec.kind not in rules.AUCTION and rec.tif != "OPG":
            return None
        if rec.tif == "OPG":
            session = self._session_after(rec, start, lambda s: s.liquid_start)
            return session.liquid_start if session else None
        session = self._session_after(rec, start, lambda s: s.liquid_end)
        return session.liquid_end if session else None

    def _next_print(self, rec: OrderRecord, start: float, until: float) -> _Next | None:
        con_id = rec.instrument.con_id
        windows = self._market.windows(con_id, start, until, rth=not self._all_hours(rec))
        if rec.kind in ("TRAIL", "TRAIL LIMIT") and not rec.triggered:
            extreme = rec.trail_extreme
            if extreme is None:
                return None
            for a, b in windows:
                hit, extreme = self._market.trailing_trigger(
                    con_id,
                    a,
                    b,
                    sell=not rec.buy,
                    extreme=extreme,
                    amount=rec.order.auxPrice,
                    percent=rec.order.trailingPercent,
                )
                if hit is not None:
                    return _Next(hit.time, "print", extreme)
            rec.trail_extreme = extreme  # nothing can happen before `until`
            rec.scan_from = until
            return None
        below, above = self._print_levels(rec)
        if below is None and above is None and not self._fills_on_any_print(rec):
            return None
        for a, b in windows:
            hit = self._market.first_print(con_id, a, b, at_or_below=below, at_or_above=above)
            if hit is not None:
                return _Next(max(hit.time, start), "print")
        return None

    def _fills_on_any_print(self, rec: OrderRecord) -> bool:
        if rec.kind in rules.TRIGGERED and not rec.triggered:
            return False
        return self._limit(rec) is None

    def _print_levels(self, rec: OrderRecord) -> tuple[float | None, float | None]:
        """Print prices at which the order triggers or becomes marketable."""
        aux = rec.order.auxPrice
        con_id = rec.instrument.con_id
        if rec.kind in rules.TRIGGERED and not rec.triggered:
            if rec.kind in ("STP", "STP LMT"):
                return (None, aux) if rec.buy else (aux, None)
            return (aux, None) if rec.buy else (None, aux)
        limit = self._limit(rec)
        if limit is None:
            return None, None
        level = self._market.print_level_for_limit(
            con_id, limit, buy=rec.buy, midprice=rec.kind == "MIDPRICE"
        )
        return (level, None) if rec.buy else (None, level)

    def _handle(self, rec: OrderRecord, nxt: _Next) -> list[Event]:
        t = nxt.time
        if nxt.kind == "expire":
            return self._cancel(rec, t, by_user=False)
        if nxt.kind == "plan":
            return self._evaluate(rec, t, placing=False)
        if nxt.kind == "auction":
            return self._run_auction(rec, t)
        rec.scan_from = math.floor(t) + 1
        rec.version += 1
        if rec.kind in ("TRAIL", "TRAIL LIMIT") and not rec.triggered:
            rec.trail_extreme = nxt.extreme
            rec.triggered = True
            return self._set_status(rec, "Submitted") + self._evaluate(rec, t, placing=False)
        if rec.kind in rules.TRIGGERED and not rec.triggered:
            rec.triggered = True
            return self._set_status(rec, "Submitted") + self._evaluate(rec, t, placing=False)
        return self._evaluate(rec, t, placing=False)

    def _run_auction(self, rec: OrderRecord, t: float) -> list[Event]:
        """Opening (OPG) or closing (MOC/LOC) auction: all at one price, or nothing."""
        con_id = rec.instrument.con_id
        if rec.tif == "OPG":
            session = self._market.session_at(con_id, t)
            end = session.liquid_end if session else t + 60
            auction = self._market.first_print(con_id, t, end)
        else:
            auction = self._market.last_print(con_id, t - 1e-6)
        limit = self._limit(rec)
        rec.scan_from = t + 1
        if auction is None or (
            limit is not None
            and (auction.price > limit + 1e-9 if rec.buy else auction.price < limit - 1e-9)
        ):
            return self._cancel(rec, t, by_user=False, reason="auction not filled")
        moment = max(t, float(auction.time)) if rec.tif == "OPG" else t
        return self._fill(rec, rec.remaining, auction.price, moment, added_liquidity=True)

    # --- messages -------------------------------------------------------------------------

    def _order_state(self, rec: OrderRecord) -> OrderState:
        completed = ""
        if rec.completed_at is not None:
            local = from_epoch(rec.completed_at).astimezone(self._zone)
            completed = f"{local:%Y%m%d %H:%M:%S} {self._zone_name}"
        filled = rec.status == "Filled"
        return OrderState(
            status=rec.status,
            commission=float(rec.commission) if filled else None,
            minCommission=None,
            maxCommission=None,
            commissionCurrency=schedule_for(rec.instrument).currency if filled else "",
            completedTime=completed,
            completedStatus=rec.completed_status,
        )

    def _shown_order(self, rec: OrderRecord) -> Order:
        return msgspec.structs.replace(rec.order, filledQuantity=rec.filled)

    def _open_order(self, rec: OrderRecord) -> OpenOrderEvent:
        return OpenOrderEvent(
            client_id=rec.client_id,
            order_id=rec.order_id,
            contract=rec.contract,
            order=self._shown_order(rec),
            order_state=self._order_state(rec),
        )

    def _status(self, rec: OrderRecord) -> OrderStatusEvent:
        return OrderStatusEvent(
            client_id=rec.client_id,
            order_id=rec.order_id,
            perm_id=rec.perm_id,
            status=rec.status,
            filled=rec.filled,
            remaining=rec.remaining,
            avg_fill_price=rec.avg_fill_price,
            last_fill_price=rec.last_fill_price,
            parent_id=rec.order.parentId,
            why_held=rec.why_held,
        )

    def _view(self, rec: OrderRecord) -> OrderView:
        return OrderView(
            client_id=rec.client_id,
            order_id=rec.order_id,
            perm_id=rec.perm_id,
            contract=rec.contract,
            order=self._shown_order(rec),
            order_state=self._order_state(rec),
            status=rec.status,
            filled=rec.filled,
            remaining=rec.remaining,
            avg_fill_price=rec.avg_fill_price,
            last_fill_price=rec.last_fill_price,
            parent_id=rec.order.parentId,
            why_held=rec.why_held,
        )

    def _error(self, client_id: int, order_id: int, problem: rules.OrderProblem) -> OrderErrorEvent:
        return OrderErrorEvent(
            client_id=client_id, order_id=order_id, code=problem.code, message=problem.message
        )


def invalid_account(account: str) -> rules.OrderProblem:
    return rules.invalid(f"Invalid account code {account}")
