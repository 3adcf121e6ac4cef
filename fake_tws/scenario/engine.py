"""The scenario engine: runs a loaded `Scenario`'s rules against a running server.

    from fake_tws.server import ServerThread
    with ServerThread(scenario="faults/connectivity_lost_data_lost") as server:
        ...   # clients connect to server.port; server.engine is the engine
        server.config.clock.advance(60)   # the virtual clock: rules happen as it moves

    # or by hand, from a config of your own:
    config = scenario_config(scenario, port=7497)
    server = Server(config, scenario=scenario)      # Server.engine

`scenario_config(scenario, **overrides) -> ServerConfig` builds the server's settings
from the scenario's world (see engine_config); `ScenarioEngine(scenario).attach(gateway)`
hooks the rules in. A `Server` or `ServerThread` given `scenario=` does both.

How rules run
-------------
Triggers:
- `request: placeOrder` (+ `where`, `client`): when a client's request arrives. The
  rule's steps run as the request arrives, before the server's own reply, up to the
  first `delay`; on placeOrder the reply (the world taking the order) comes right before
  the first step acting on that order, so `fill`, `cancel`, ... find it. `respond`,
  `reject` of the new order and `pacing_violation` for the request replace the reply.
  A placeOrder rule that acts on its order keeps the market from filling that order on
  its own: the scenario says what fills (fills right at the reply happen as the world
  takes the order, so a market order goes PreSubmitted -> Filled as on IB).
- `event: order_filled` ...: after the world event (never inside it), and before the
  client can see the reply to the request that caused it; `connected` runs right after
  the client's bootstrap, before its next request. bar_closed and revise_bar work on
  keep-up-to-date bar streams as seen on the wire (see engine_bars).
- `at: "+30s"` (from the world's start; the real clock: from the server's start).
- `after: <rule id>` (+ `delay`): once that rule's steps are all done, with its bindings.
`nth` skips the matches before the nth; then a rule fires up to `times` times (0: always).

Time: `delay`s, slice delays and `at` run on the server's clock, so with the virtual
clock nothing happens until a test advances it. When the clock jumps past several
steps, they all run at once, in time order, and each delay counts from when its step
was due (not from when it ran), so a schedule stays exact; what the world does at those
steps happens at the clock's time. Ties run in the order they were scheduled.

Targets: `client` unset means the triggering client (for `at` rules: every client);
`reqId` unset means the triggering request's id, else -1; `order` defaults to
`$orderId`. A step that cannot act (an order already filled, a client not connected)
leaves a note in the journal and the rule goes on. Every firing leaves a note too
("scenario: rule <id> fires"); `fired` lists (rule id, time).

World settings applied at attach: each instrument's starting price (static prices hold
back in time too, for history and delayed data), the clients' default market data type,
pacing (engine_pacing). `market_data_type` (the action) applies to requests made after
it; `market_data.tick_interval` is not used (streams tick once per clock second).

Hooks this uses (documented where they live): `Gateway.request_hooks` (see
Session._dispatch), `Gateway.send_filters` (the data blackout of connectivity_lost),
`Gateway.session_listeners` (connected/disconnected), `Gateway.farms` (farm states at
bootstrap), `Gateway.transport.restart` (server_restart), `Session.disconnect` (the
disconnect modes), `Session.cancel_streams` (1101 drops subscriptions), the world's
event subscription and its scenario controls (fill_order, reject_order, system_cancel,
plan_order, set_price, reset).
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import msgspec
import trio

from fake_tws.broker import Event as WorldEvent
from fake_tws.broker import FillPlan, FillSlice
from fake_tws.clock import VirtualClock
from fake_tws.ibtypes import Contract
from fake_tws.protocol import table
from fake_tws.protocol.messages import Request, Response
from fake_tws.protocol.requests import historical as hq
from fake_tws.protocol.requests import orders as oq
from fake_tws.protocol.responses import historical as hs
from fake_tws.protocol.responses import market_data as ms
from fake_tws.protocol.responses import orders as os_
from fake_tws.protocol.responses.account import PnL, PnLSingle
from fake_tws.session import NO_REQUEST_ID, Gateway, Handlers, Intercept, Session, request_id_of

from . import actions as A
from . import events as ev
from .engine_bars import BarWatch, Deltas
from .engine_config import decimal, instrument_contract, scenario_config, scenario_instruments
from .engine_events import WorldEventMapper
from .engine_pacing import (
    HISTORICAL_CODE,
    MESSAGES_CODE,
    HistoricalPacing,
    MessageRate,
    messages_text,
)
from .ib_codes import default_text, farm_status
from .matchers import implicit_bindings, match_fields
from .schema import Rule, Scenario

__all__ = ["ScenarioEngine", "scenario_config"]

log = logging.getLogger("fake_tws.scenario")

SERVER_NOTE = -1  # the journal's client id for notes about no client in particular
# What stops flowing while IB's link is down (connectivity_lost until restored): the
# streaming data. Orders, accounts and answers to requests still flow.
DATA_MESSAGES: tuple[type[Response], ...] = (
    ms.TickPrice,
    ms.TickSize,
    ms.TickGeneric,
    ms.TickString,
    ms.TickEFP,
    ms.TickOptionComputation,
    ms.TickNews,
    ms.UpdateMktDepth,
    ms.UpdateMktDepthL2,
    ms.RealtimeBar,
    ms.TickByTickAllLast,
    ms.TickByTickBidAsk,
    ms.TickByTickMidPoint,
    hs.HistoricalDataUpdate,
    PnL,
    PnLSingle,
)
STATIC_HISTORY_DAYS = 400  # how far back a static price holds (history, delayed data)
# Steps that act on an order (partial_fill's slices run one by one as "slice").
ORDER_STEPS = frozenset({"fill", "slice", "reject", "cancel"})
_UNSET_PRICE = 1e300  # IB's "no price" (Double.MAX_VALUE) and anything near it


class StepSkipped(Exception):
    """A step cannot act (unknown binding, no such order); noted, the rule goes on."""


# --- compiled rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Op:
    """One thing a rule does: wait `seconds`, or act (`kind`, `spec`)."""

    kind: str  # "wait" or an action name ("slice" for one partial_fill slice)
    spec: Any = None
    seconds: float = 0.0


def compile_steps(rule: Rule) -> tuple[Op, ...]:
    ops: list[Op] = []
    for step in rule.do:
        kind, spec = step.kind, step.spec
        if kind == "delay":
            ops.append(Op("wait", seconds=spec.total_seconds()))
        elif kind == "partial_fill":
            for piece in spec:
                if piece.delay is not None:
                    ops.append(Op("wait", seconds=piece.delay.total_seconds()))
                ops.append(Op("slice", piece))
        elif kind == "connectivity_restored" and spec.delay is not None:
            ops.append(Op("wait", seconds=spec.delay.total_seconds()))
            ops.append(Op(kind, spec))
        elif kind == "server_restart":
            ops.append(Op(kind, spec))
            ops.append(Op("wait", seconds=spec.down.total_seconds()))
        else:
            ops.append(Op(kind, spec))
    return tuple(ops)


def _sync_end(ops: tuple[Op, ...]) -> int:
    """Index of the first wait (the end of what runs at once)."""
    return next((i for i, op in enumerate(ops) if op.kind == "wait" and op.seconds > 0), len(ops))


@dataclass
class RuleState:
    matches: int = 0
    fired: int = 0


@dataclass
class Firing:
    """One firing of a rule: what triggered it and what its steps see."""

    rule: Rule
    ops: tuple[Op, ...]
    bindings: dict[str, Any]
    session: Session | None = None  # the client connection a request came on
    client_id: int | None = None  # the triggering client (request or event)
    request: Request | None = None
    replaced: bool = False  # the server's own reply was replaced
    preplanned: frozenset[int] = frozenset()  # slice ops the world does as it takes the order
    plan_taken: bool = False

    @property
    def note_client(self) -> int:
        return SERVER_NOTE if self.client_id is None else self.client_id


# --- the engine ----------------------------------------------------------------------------


class ScenarioEngine:
    """Runs one scenario's rules against one gateway. Build, then `attach(gateway)`
    before the server starts (a Server given `scenario=` does this)."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.world_spec = scenario.world
        self.gateway: Gateway | None = None
        # Explicit `$name` captures, shared by every rule: first match captures.
        self.bindings: dict[str, Any] = {}
        self.states: dict[str, RuleState] = {r.id: RuleState() for r in scenario.rules}
        self._ops = {r.id: compile_steps(r) for r in scenario.rules}
        self._by_request: dict[str, list[Rule]] = {}
        self._by_event: dict[str, list[Rule]] = {}
        self._after: dict[str, list[Rule]] = {}
        self._timed: list[Rule] = []
        for rule in scenario.rules:
            when = rule.when
            if when.request is not None:
                self._by_request.setdefault(when.request, []).append(rule)
            elif when.event is not None:
                self._by_event.setdefault(when.event, []).append(rule)
            elif when.after is not None:
                self._after.setdefault(when.after, []).append(rule)
            else:
                self._timed.append(rule)
        # The scheduler: callables to run soon (FIFO), and timers on the server clock.
        self._ready: deque[tuple[Callable[[], None], datetime | None]] = deque()
        self._logical: datetime | None = None  # when the step running now was due
        self._timers: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._wait_scope: trio.CancelScope | None = None
        self._started_at: datetime | None = None
        self._mapper = WorldEventMapper()
        self._bars = BarWatch(self._bar_closed)
        self._symbols: dict[str, int] = {}  # a scenario instrument's symbol -> conId
        self._rates: dict[Session, MessageRate] = {}
        self._historical = HistoricalPacing() if self.world_spec.pacing.historical else None
        self.outage = False  # connectivity_lost until connectivity_restored
        self._draining = False
        self._drain_after = Intercept(after=self._drain)
        self.fired: list[tuple[str, datetime]] = []  # (rule id, when) for tests and logs

    # -- wiring -----------------------------------------------------------------------------

    def attach(self, gateway: Gateway) -> ScenarioEngine:
        """Hook into `gateway` (before its server starts) and set up the world."""
        if self.gateway is not None:
            raise RuntimeError("a ScenarioEngine attaches to one gateway only")
        self.gateway = gateway
        gateway.request_hooks.append(self._on_request)
        gateway.send_filters.append(self._outgoing)
        gateway.session_listeners.append(self._on_session)
        gateway.handlers = gateway.handlers | Handlers(services=(self.run,))
        gateway.world.subscribe(self._on_world_event)
        self._set_prices()
        self._started_at = gateway.clock.now()
        start = self._time_base()
        for rule in self._timed:
            assert rule.when.at is not None
            moment = rule.when.at.resolve(start)
            self.call_at(moment, lambda rule=rule: self._fire_timed(rule))
        gateway.journal.record_event(SERVER_NOTE, f"scenario: {self.scenario.name}")
        return self

    def _set_prices(self) -> None:
        """Each scenario instrument starts at its price (exactly, from the start)."""
        specs = self.world_spec.instruments
        for spec, (_, known) in zip(specs, scenario_instruments(self.world_spec), strict=True):
            contract = spec.contract if known else instrument_contract(spec)
            con_id = self._world.con_id(contract)
            self._symbols.setdefault(spec.contract.symbol.upper(), con_id)
            if self.world_spec.market_data.mode == "static":
                # static: the price holds in the past too (delayed data, history)
                since = self._clock.now() - timedelta(days=STATIC_HISTORY_DAYS)
                self._world.market.set_price(con_id, spec.price, since)
            self._world.set_price(con_id, spec.price)

    @property
    def _world(self):
        assert self.gateway is not None, "the engine is not attached"
        return self.gateway.world

    @property
    def _clock(self):
        assert self.gateway is not None, "the engine is not attached"
        return self.gateway.clock

    def _note(self, client_id: int, text: str) -> None:
        assert self.gateway is not None
        self.gateway.journal.record_event(client_id, f"scenario: {text}")

    # -- the scheduler -----------------------------------------------------------------------

    async def run(self, gateway: Gateway) -> None:
        """The engine's background task (a gateway service): time triggers, delays,
        event-triggered rules."""
        while True:
            self._drain()
            deadline = self._timers[0][0] if self._timers else None
            with trio.CancelScope() as scope:
                self._wait_scope = scope
                if self._ready:
                    pass
                elif deadline is None:
                    await trio.sleep_forever()
                else:
                    await self._clock.sleep_until(deadline)
            self._wait_scope = None
            await trio.lowlevel.checkpoint()

    def _time_base(self) -> datetime:
        if isinstance(self._clock, VirtualClock):
            return self.world_spec.start
        return self._started_at or self._clock.now()

    def run_pending(self) -> int:
        """Run what is due now: queued work first, then timers whose time has come (in
        time order, ties in scheduling order). Returns how many ran. The background task
        calls this; tests without a server may too."""
        ran = 0
        outer = self._logical
        try:
            while True:
                if self._ready:
                    fn, self._logical = self._ready.popleft()
                elif self._timers and self._timers[0][0] <= self._clock.now():
                    self._logical, _, fn = heapq.heappop(self._timers)
                else:
                    return ran
                ran += 1
                try:
                    fn()
                except Exception:
                    log.exception("scenario %s: a step failed", self.scenario.name)
                    self._note(SERVER_NOTE, "a step failed (see the log)")
        finally:
            self._logical = outer

    def _drain(self) -> None:
        """Run what is queued now, unless already running (not re-entrant)."""
        if not self._draining:
            self._draining = True
            try:
                self.run_pending()
            finally:
                self._draining = False

    def soon(self, fn: Callable[[], None]) -> None:
        """Run `fn` after whatever is running now (never inside a world call)."""
        self._ready.append((fn, self._logical))
        self._wake()

    def call_at(self, moment: datetime, fn: Callable[[], None]) -> None:
        heapq.heappush(self._timers, (moment, next(self._seq), fn))
        self._wake()

    def call_later(self, seconds: float, fn: Callable[[], None]) -> None:
        """`seconds` after now: after the moment the running step was due, so a chain of
        delays keeps its schedule even when a test jumps the clock past several steps."""
        self.call_at(self.now() + timedelta(seconds=seconds), fn)

    def now(self) -> datetime:
        """Scenario time: when the step running now was due (else the clock's now)."""
        return self._logical if self._logical is not None else self._clock.now()

    def _wake(self) -> None:
        if self._wait_scope is not None:
            self._wait_scope.cancel()

    # -- triggers ------------------------------------------------------------------------------

    def _try_fire(
        self,
        rule: Rule,
        message: msgspec.Struct | None,
        *,
        client_id: int | None,
        session: Session | None = None,
        request: Request | None = None,
        inherited: dict[str, Any] | None = None,
    ) -> Firing | None:
        """Match `rule` against a message or event; a Firing if the rule fires now."""
        when = rule.when
        if when.client is not None and client_id != when.client:
            return None
        captured: dict[str, Any] = {}
        if message is not None and when.where:
            got = match_fields(when.where, message, self.bindings)
            if got is None:
                return None
            captured = got
        state = self.states[rule.id]
        state.matches += 1
        for name, value in captured.items():
            self.bindings.setdefault(name, value)
        if rule.nth is not None and state.matches < rule.nth:
            return None
        if rule.times and state.fired >= rule.times:
            return None
        state.fired += 1
        bindings = dict(inherited or {})
        bindings.update(self.bindings)
        if message is not None:
            bindings.update(implicit_bindings(message, client_id))
        firing = Firing(
            rule=rule,
            ops=self._ops[rule.id],
            bindings=bindings,
            session=session,
            client_id=client_id,
            request=request,
        )
        self.fired.append((rule.id, self._clock.now()))
        self._note(firing.note_client, f"rule {rule.id} fires")
        return firing

    def _on_request(self, session: Session, request: Request) -> Intercept | None:
        if self._paced_out(session, request):
            return Intercept(replace=True)
        if self._historical_paced_out(session, request):
            return Intercept(replace=True)
        self._bars.on_request(session, request)
        rules = self._by_request.get(request.api_name)
        if not rules:
            # Rules triggered by what the request causes (world events) run before the
            # client can see its reply, so a test that saw the reply may move time on.
            return self._drain_after
        client_id = session.client_id
        firings = [
            f
            for rule in rules
            if (
                f := self._try_fire(
                    rule, request, client_id=client_id, session=session, request=request
                )
            )
        ]
        if not firings:
            return self._drain_after
        splits = [self._reply_point(f) for f in firings]
        replace = False
        for f in firings:
            f.replaced = self._replaces(f)
            replace = replace or f.replaced
        if isinstance(request, oq.PlaceOrder) and not replace and client_id is not None:
            self._plan_fills(firings, splits, request, client_id)
        for f, split in zip(firings, splits, strict=True):
            self._run_ops(f, 0, split)

        def after() -> None:
            if isinstance(request, oq.PlaceOrder) and client_id is not None:
                taken = self._world.discard_planned(client_id, request.orderId) is None
                for f in firings:
                    f.plan_taken = taken
                if replace:
                    self.gateway.order_ids.observe(request.orderId)  # type: ignore[union-attr]
            for f, split in zip(firings, splits, strict=True):
                self._run(f, split)
            self._drain()

        return Intercept(replace=replace, after=after)

    def _reply_point(self, f: Firing) -> int:
        """Where the server's own reply goes among the firing's steps (see the module
        docstring): before the first step on the order a placeOrder creates, else after
        the steps that run at once."""
        end = _sync_end(f.ops)
        if isinstance(f.request, oq.PlaceOrder):
            for i, op in enumerate(f.ops[:end]):
                if op.kind in ORDER_STEPS and self._targets_trigger_order(f, op.spec):
                    return i
        return end

    def _targets_trigger_order(self, f: Firing, spec: Any) -> bool:
        if not isinstance(f.request, oq.PlaceOrder):
            return False
        ref = spec.order
        if isinstance(ref, int):
            return ref == f.request.orderId
        return ref == "$orderId" or f.bindings.get(ref[1:]) == f.request.orderId

    def _replaces(self, f: Firing) -> bool:
        end = _sync_end(f.ops)
        for i, op in enumerate(f.ops):
            if op.kind == "respond":
                return True
            if op.kind == "pacing_violation" and op.spec.kind == "historical" and not op.spec.reqId:
                return True
            if op.kind == "reject" and i < end and self._targets_trigger_order(f, op.spec):
                return True
        return False

    def _plan_fills(
        self, firings: list[Firing], splits: list[int], request: oq.PlaceOrder, client_id: int
    ) -> None:
        """Before the world takes the order: hold it for the scenario, and let the fills
        due right at the reply happen as the world takes it (IB's own sequence)."""
        for f, split in zip(firings, splits, strict=True):
            if not any(
                op.kind in ORDER_STEPS and self._targets_trigger_order(f, op.spec) for op in f.ops
            ):
                continue
            slices: list[FillSlice] = []
            planned: list[int] = []
            total = request.order.totalQuantity or Decimal(0)
            limit = request.order.lmtPrice
            limit = limit if limit is not None and abs(limit) < _UNSET_PRICE else None
            used = Decimal(0)
            for i in range(split, len(f.ops)):
                op = f.ops[i]
                if op.kind not in ("fill", "slice") or not self._targets_trigger_order(f, op.spec):
                    break
                wanted = op.spec.quantity
                quantity = total - used if wanted is None else decimal(wanted)
                if quantity <= 0 or total <= 0:
                    break
                price = op.spec.price if op.spec.price is not None else limit
                slices.append(FillSlice(quantity=quantity, price=price))
                planned.append(i)
                used += quantity
            self._world.plan_order(client_id, request.orderId, FillPlan(tuple(slices), "hold"))
            f.preplanned = frozenset(planned)
            return  # one plan per order: later rules act on it step by step

    # -- running steps ---------------------------------------------------------------------

    def _run(self, f: Firing, index: int) -> None:
        """Run the firing's steps from `index`; a wait schedules the rest."""
        ops = f.ops
        while index < len(ops):
            op = ops[index]
            if op.kind == "wait":
                if op.seconds > 0:
                    self.call_later(op.seconds, lambda f=f, i=index + 1: self._run(f, i))
                    return
            else:
                self._step(f, index)
            index += 1
        self._finished(f)

    def _run_ops(self, f: Firing, start: int, end: int) -> None:
        for i in range(start, end):
            if f.ops[i].kind != "wait":
                self._step(f, i)

    def _step(self, f: Firing, index: int) -> None:
        op = f.ops[index]
        if index in f.preplanned and f.plan_taken:
            return  # the world did this one as it took the order
        try:
            getattr(self, f"_do_{op.kind}")(f, op.spec)
        except StepSkipped as skipped:
            self._note(f.note_client, f"rule {f.rule.id}: {op.kind} skipped: {skipped}")

    def _finished(self, f: Firing) -> None:
        for rule in self._after.get(f.rule.id, ()):
            follow = self._try_fire(
                rule,
                None,
                client_id=f.client_id,
                session=f.session,
                request=f.request,
                inherited=f.bindings,
            )
            if follow is None:
                continue
            follow.replaced = f.replaced
            delay = rule.when.delay.total_seconds() if rule.when.delay is not None else 0.0
            if delay > 0:
                self.call_later(delay, lambda follow=follow: self._run(follow, 0))
            else:
                self._run(follow, 0)

    def _fire_timed(self, rule: Rule) -> None:
        firing = self._try_fire(rule, None, client_id=None)
        if firing is not None:
            self._run(firing, 0)

    def _fire_event(
        self, event: ev.ScenarioEvent, *, session: Session | None = None, now: bool = False
    ) -> None:
        rules = self._by_event.get(event.name)
        if not rules:
            return

        def fire() -> None:
            for rule in rules:
                firing = self._try_fire(rule, event, client_id=event.clientId, session=session)
                if firing is not None:
                    self._run(firing, 0)

        if now:
            fire()
        else:
            self.soon(fire)

    # -- hooks -------------------------------------------------------------------------------

    def _on_world_event(self, event: WorldEvent) -> None:
        for scenario_event in self._mapper.map(event):
            self._fire_event(scenario_event)

    def _on_session(self, what: str, session: Session) -> None:
        client_id = session.client_id if session.client_id is not None else NO_REQUEST_ID
        if what == "connected":
            session.market_data_type = self.world_spec.market_data.type
            if self.world_spec.pacing.max_messages_per_second:
                self._rates[session] = MessageRate(self.world_spec.pacing.max_messages_per_second)
            connected = ev.Connected(clientId=client_id, serverVersion=session.version)
            self._fire_event(connected, session=session, now=True)
        elif what == "disconnected":
            self._rates.pop(session, None)
            self._bars.forget(session)
            reason = "server" if session.closed_by_server else "client"
            self._fire_event(ev.Disconnected(clientId=client_id, reason=reason))

    def _outgoing(self, session: Session, message: Response) -> Response | None:
        if self.outage and isinstance(message, DATA_MESSAGES):
            return None  # IB's link is down: no streaming data
        return self._bars.outgoing(session, message)

    def _bar_closed(self, session: Session, event: ev.BarClosed) -> None:
        self._fire_event(event, session=session)

    def _paced_out(self, session: Session, request: Request) -> bool:
        rate = self._rates.get(session)
        if rate is None:
            return False
        ok, received = rate.admit()
        if ok:
            return False
        if rate.first_violation():
            session.error(NO_REQUEST_ID, MESSAGES_CODE, messages_text(rate.limit, received))
            if self.world_spec.pacing.disconnect_on_violation:
                session.close("message rate exceeded")
        return True

    def _historical_paced_out(self, session: Session, request: Request) -> bool:
        if self._historical is None or not isinstance(request, hq.ReqHistoricalData):
            return False
        why = self._historical.violation(request, self._clock.now())
        if why is None:
            return False
        self._note(session.journal_id, f"historical pacing: {why}")
        session.error(request.reqId, HISTORICAL_CODE, default_text(HISTORICAL_CODE))
        return True

    # -- targets ---------------------------------------------------------------------------

    def _sessions(self, f: Firing, client: int | None) -> list[Session]:
        """The sessions a step talks to: `client`, else the triggering client, else all."""
        assert self.gateway is not None
        if client is not None:
            found = self.gateway.session_for(client)
            return [found] if found is not None and found.started else []
        if f.session is not None:
            return [] if f.session.closed else [f.session]
        if f.client_id is not None:
            found = self.gateway.session_for(f.client_id)
            return [found] if found is not None and found.started else []
        return self._everyone()

    def _everyone(self) -> list[Session]:
        assert self.gateway is not None
        live = [s for s in self.gateway.sessions if s.started and not s.closed]
        return sorted(live, key=lambda s: s.client_id or 0)

    def _ref(self, f: Firing, ref: int | str) -> Any:
        if isinstance(ref, int):
            return ref
        name = ref[1:]
        if name not in f.bindings:
            raise StepSkipped(f"nothing bound to {ref}")
        return f.bindings[name]

    def _req_id(self, f: Firing, ref: int | str | None) -> int:
        if ref is not None:
            return int(self._ref(f, ref))
        if f.request is not None:
            return request_id_of(f.request)
        return NO_REQUEST_ID

    def _order(self, f: Firing, ref: int | str) -> tuple[int, int]:
        """(client id, order id) of a live order the step acts on."""
        order_id = int(self._ref(f, ref))
        world = self._world
        if f.client_id is not None:
            view = world.order(f.client_id, order_id)
            if view is not None:
                if view.status in ("Filled", "Cancelled", "ApiCancelled", "Inactive"):
                    raise StepSkipped(f"order {order_id} is already {view.status}")
                return f.client_id, order_id
        owners = [v.client_id for v in world.open_orders() if v.order_id == order_id]
        if len(owners) != 1:
            why = "no live order" if not owners else "several live orders"
            raise StepSkipped(f"{why} with id {order_id}")
        return owners[0], order_id

    def _text(self, code: int, text: str | None, f: Firing, **values: Any) -> str:
        if text is not None:
            return text
        values.setdefault("orderId", f.bindings.get("orderId", ""))
        values.setdefault("farm", "")
        limit = self.world_spec.pacing.max_messages_per_second
        values.setdefault("max", limit)
        values.setdefault("received", limit + 1)
        return default_text(code).format_map(_Blank(values))

    def _send_error(self, sessions: Iterable[Session], req_id: int, code: int, text: str) -> None:
        for session in sessions:
            session.error(req_id, code, text)

    # -- actions -----------------------------------------------------------------------------

    def _do_fill(self, f: Firing, spec: A.Fill) -> None:
        self._fill(f, spec.order, spec.quantity, spec.price)

    def _do_slice(self, f: Firing, spec: A.Slice) -> None:
        self._fill(f, spec.order, spec.quantity, spec.price)

    def _fill(self, f: Firing, ref: int | str, quantity: float | None, price: float | None):
        client_id, order_id = self._order(f, ref)
        amount = None if quantity is None else decimal(quantity)
        events = self._world.fill_order(client_id, order_id, amount, price)
        if not events:
            raise StepSkipped(f"order {order_id} could not be filled")

    def _do_reject(self, f: Firing, spec: A.Reject) -> None:
        text = self._text(spec.code, spec.text, f)
        request = f.request
        if (
            f.replaced
            and isinstance(request, oq.PlaceOrder)
            and self._targets_trigger_order(f, spec)
            and f.client_id is not None
        ):
            # The world never saw the order: answer as IB does a refused new order.
            for session in self._sessions(f, None):
                session.error(request.orderId, spec.code, text)
                session.send(
                    os_.OrderStatus(
                        orderId=request.orderId,
                        status="Inactive",
                        filled=Decimal(0),
                        remaining=request.order.totalQuantity or Decimal(0),
                        parentId=request.order.parentId,
                        clientId=f.client_id,
                    )
                )
            symbol = request.contract.symbol
            rejected = ev.OrderRejected(
                clientId=f.client_id, orderId=request.orderId, symbol=symbol, code=spec.code
            )
            self._fire_event(rejected)
            return
        client_id, order_id = self._order(f, spec.order)
        self._world.reject_order(client_id, order_id, spec.code, text)

    def _do_cancel(self, f: Firing, spec: A.Cancel) -> None:
        client_id, order_id = self._order(f, spec.order)
        text = self._text(spec.code, spec.text, f, orderId=order_id)
        self._world.system_cancel(client_id, order_id, spec.code, text)

    def _do_error(self, f: Firing, spec: A.IbError) -> None:
        req_id = self._req_id(f, spec.reqId)
        text = self._text(spec.code, spec.text, f, orderId=req_id)
        self._send_error(self._sessions(f, spec.client), req_id, spec.code, text)

    def _do_farm_status(self, f: Firing, spec: A.FarmStatus) -> None:
        assert self.gateway is not None
        code, text = farm_status(spec.farm_kind, spec.state, spec.farm)
        self.gateway.farms[spec.farm] = (code, text)
        self._send_error(self._everyone(), NO_REQUEST_ID, code, text)

    def _do_raw(self, f: Firing, fields: tuple[str | int, ...]) -> None:
        texts = tuple(str(self._ref(f, v)) if _is_binding(v) else str(v) for v in fields)
        for session in self._sessions(f, None):
            session.send_raw(texts)

    def _do_send(self, f: Firing, specs: tuple[A.MessageSpec, ...]) -> None:
        messages = [self._message(f, spec) for spec in specs]
        for session in self._sessions(f, None):
            for message in messages:
                session.send(message)

    def _do_respond(self, f: Firing, specs: tuple[A.MessageSpec, ...]) -> None:
        messages = [self._message(f, spec) for spec in specs]
        session = f.session
        if session is None or session.closed:
            raise StepSkipped("the requesting client is gone")
        for message in messages:
            session.send(message)

    def _message(self, f: Firing, spec: A.MessageSpec) -> Response:
        ((name, fields),) = spec.items()
        data = _substitute(fields, f.bindings)
        return msgspec.convert(data, table.RESPONSES_BY_NAME[name], strict=False)

    def _do_disconnect(self, f: Firing, spec: A.Disconnect) -> None:
        sessions = self._sessions(f, spec.client)
        if not sessions:
            raise StepSkipped("no client to disconnect")
        for session in sessions:
            session.disconnect(spec.mode, reason="scenario disconnect")

    def _do_connectivity_lost(self, f: Firing, spec: A.ConnectivityLost) -> None:
        self.outage = True
        self._send_error(self._everyone(), NO_REQUEST_ID, 1100, default_text(1100))

    def _do_connectivity_restored(self, f: Firing, spec: A.ConnectivityRestored) -> None:
        self.outage = False
        sessions = self._everyone()
        if spec.data == "lost":
            # IB dropped every market data and account subscription: clients resubscribe.
            for session in sessions:
                session.cancel_streams()
        self._send_error(sessions, NO_REQUEST_ID, spec.code, default_text(spec.code))

    def _do_server_restart(self, f: Firing, spec: A.ServerRestart) -> None:
        assert self.gateway is not None
        transport = self.gateway.transport
        if transport is None:
            raise StepSkipped("no server transport to restart")
        if not spec.keep_state:
            self._world.reset()
            self._mapper.reset()
            self.gateway.order_ids.__init__(self.gateway.config.first_order_id)  # type: ignore[misc]
            self._set_prices()
        self.outage = False
        transport.restart(spec.down.total_seconds())

    def _do_pacing_violation(self, f: Firing, spec: A.PacingViolation) -> None:
        if spec.kind == "historical":
            req_id = self._req_id(f, spec.reqId)
            code = HISTORICAL_CODE
            text = default_text(code)
            sessions = self._sessions(f, None)
        else:
            req_id = NO_REQUEST_ID if spec.reqId is None else int(self._ref(f, spec.reqId))
            code = MESSAGES_CODE
            limit = self.world_spec.pacing.max_messages_per_second
            text = messages_text(limit, limit + 1)
            sessions = self._sessions(f, None)
        self._send_error(sessions, req_id, code, text)

    def _do_revise_bar(self, f: Firing, spec: A.ReviseBar) -> None:
        streams = self._bars.streams()
        if spec.reqId is not None:
            req_id = int(self._ref(f, spec.reqId))
            mine = set(self._sessions(f, None))
            streams = [(s, b) for s, b in streams if b.req_id == req_id and s in mine]
        elif spec.symbol is not None:
            streams = [(s, b) for s, b in streams if b.symbol.upper() == spec.symbol.upper()]
        elif isinstance(f.request, hq.ReqHistoricalData) and f.session is not None:
            req_id = f.request.reqId
            streams = [(s, b) for s, b in streams if s is f.session and b.req_id == req_id]
        deltas = Deltas(spec.high, spec.low, spec.close, spec.volume)
        updates = self._bars.revise(streams, deltas)
        if not updates:
            raise StepSkipped("no keep-up-to-date bar stream to revise")
        for session, update in updates:
            session.send(update)

    def _do_market_data_type(self, f: Firing, data_type: int) -> None:
        for session in self._sessions(f, None):
            session.market_data_type = data_type

    def _do_move_price(self, f: Firing, prices: dict[str, float]) -> None:
        for symbol, price in prices.items():
            self._world.set_price(self._contract_for(symbol), price)

    def _contract_for(self, symbol: str) -> Contract | int:
        """What `move_price: {SYMBOL: ...}` moves: a scenario instrument of that symbol,
        else the one stock (or the one instrument) the catalog has by that name."""
        con_id = self._symbols.get(symbol.upper())
        if con_id is not None:
            return con_id
        for sec_type in ("STK", ""):
            contract = Contract(symbol=symbol, secType=sec_type)
            if len(self._world.catalog.resolve(contract)) == 1:
                return contract
        raise StepSkipped(f"no single instrument is called {symbol}")

    def _do_advance_clock(self, f: Firing, duration: timedelta) -> None:
        clock = self._clock
        if not isinstance(clock, VirtualClock):
            raise StepSkipped("advance_clock needs the virtual clock")
        clock.advance(duration.total_seconds())

    def _do_delay(self, f: Firing, duration: timedelta) -> None:  # compiled to waits
        pass


class _Blank(dict):
    """format_map values where an unknown placeholder stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _is_binding(value: object) -> bool:
    return isinstance(value, str) and value.startswith("$") and len(value) > 1


def _substitute(value: Any, bindings: dict[str, Any]) -> Any:
    if _is_binding(value):
        name = value[1:]
        if name not in bindings:
            raise StepSkipped(f"nothing bound to {value}")
        return msgspec.to_builtins(bindings[name])
    if isinstance(value, dict):
        return {k: _substitute(v, bindings) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_substitute(v, bindings) for v in value]
    return value
