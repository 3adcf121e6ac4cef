"""One client connection's logic, independent of sockets.

A `Session` owns the sans-IO `ServerConnection`, turns its events into responses and
hands the bytes to a `Link` (the transport: a trio stream in the server, a list in unit
tests). Which function answers which request type is a `Handlers` table, so new request
families plug in without touching the session or the transport:

    from fake_tws.session import Handlers

    BROKER_HANDLERS = Handlers()

    @BROKER_HANDLERS.on(ReqContractDetails)
    def contract_details(session: Session, request: ReqContractDetails) -> None:
        ...
        session.send(ContractDetailsEnd(reqId=request.reqId))

    Server(config, handlers=CONNECTION_HANDLERS | BROKER_HANDLERS)

What all sessions of one server share (settings, clock, client ids in use, order ids) is
the `Gateway`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from .broker import World
from .clock import Clock
from .config import ServerConfig
from .journal import Journal, RawMessage
from .protocol.connection import (
    BadRequest,
    Event,
    Greeting,
    RequestReceived,
    ServerConnection,
    VersionMismatch,
)
from .protocol.errors import ProtocolError, UnknownMessageId
from .protocol.framing import frame
from .protocol.messages import Request, Response
from .protocol.requests import connection as rq
from .protocol.requests import orders as order_rq
from .protocol.responses import connection as rs
from .scenario.ib_codes import farm_kind, farm_status

log = logging.getLogger("fake_tws.session")

# Error codes and texts as TWS sends them.
NOT_SUPPORTED = 321  # "Error validating request": here, a request fake-tws does not serve yet
BAD_REQUEST = 320  # "Error reading request": the frame arrived whole but its fields are bad
CLIENT_ID_IN_USE = 326
UNKNOWN_MESSAGE_ID = 505
CLIENT_ID_IN_USE_TEXT = (
    "Unable to connect as the client id is already in use. Retry with a unique client id."
)
UNKNOWN_MESSAGE_ID_TEXT = "Fatal Error: Unknown message id."
# What a Gateway whose API is read-only (ServerConfig.read_only) refuses, and how.
READ_ONLY_REFUSED: tuple[type[Request], ...] = (
    order_rq.PlaceOrder,
    order_rq.CancelOrder,
    order_rq.ReqGlobalCancel,
    order_rq.ExerciseOptions,
)
READ_ONLY_TEXT = (
    "Error validating request.-'bN' : cause - The API interface is currently in Read-Only mode."
)

DISCONNECT_MODES = ("close", "reset", "truncate", "silence")

NO_REQUEST_ID = -1
# Fields that carry a request's id, by the TWS API's own names, most common first.
_ID_FIELDS = ("reqId", "orderId", "tickerId")


def request_id_of(request: Request) -> int:
    """The id an error about `request` should carry: its reqId/orderId, else -1."""
    for name in _ID_FIELDS:
        value = getattr(request, name, None)
        if isinstance(value, int):
            return value
    return NO_REQUEST_ID


def connection_time(now: datetime, timezone: str) -> str:
    """TWS's connection-time text, `yyyymmdd HH:MM:SS <tz>`, e.g. `20260405 09:30:00 EST`."""
    local = now.astimezone(ZoneInfo(timezone))
    return f"{local:%Y%m%d %H:%M:%S} {local.tzname()}"


class Link(Protocol):
    """The transport under a session."""

    def send(self, data: bytes) -> None:
        """Queue bytes for the client."""

    def close(self, reason: str) -> None:
        """Close the connection once what is queued has been sent."""


Handler = Callable[["Session", Any], None]
# A gateway-wide background task (e.g. advancing the world as the clock moves), started
# with the server and cancelled when it stops.
Service = Callable[["Gateway"], Awaitable[None]]


@dataclass(frozen=True)
class Intercept:
    """What a request hook (the scenario engine) decided about one request."""

    replace: bool = False  # the default handler does not run (the hook answered)
    after: Callable[[], None] | None = None  # run once the default handling is done


# Called with each request before its handler; None means "carry on as usual".
RequestHook = Callable[["Session", Request], Intercept | None]
# Called with each response about to be sent; returns what to send instead (the same
# message, a changed one), or None to drop it (not sent, not journaled).
SendFilter = Callable[["Session", Response], Response | None]
# Called with "connected" (after the bootstrap) or "disconnected" (the socket is gone).
SessionListener = Callable[[str, "Session"], None]


class Transport(Protocol):
    """What the server offers gateway-wide faults (a scenario's server_restart)."""

    def restart(self, down: float) -> None:
        """Drop every connection, refuse new ones for `down` clock seconds, then listen
        again on the same port."""


class TaskHandle(Protocol):
    def cancel(self) -> None:
        """Stop the task (a cancelled subscription); idempotent."""


class TaskRunner(Protocol):
    """Where a session's background tasks run: the client's nursery, in the server."""

    def spawn(self, name: str, fn: Callable[[], Awaitable[None]]) -> TaskHandle: ...


class Handlers:
    """Which function answers each request type. `a | b` is a new table; b's entries win."""

    def __init__(
        self,
        table: Mapping[type[Request], Handler] | None = None,
        services: tuple[Service, ...] = (),
    ) -> None:
        self._table: dict[type[Request], Handler] = dict(table or {})
        self.services: tuple[Service, ...] = services

    def on(self, *request_types: type[Request]) -> Callable[[Handler], Handler]:
        """Decorator: register a function `(session, request) -> None` for request types."""

        def register(handler: Handler) -> Handler:
            for request_type in request_types:
                self._table[request_type] = handler
            return handler

        return register

    def service(self, fn: Service) -> Service:
        """Decorator: run `fn(gateway)` in the background while the server runs."""
        self.services = (*self.services, fn)
        return fn

    def get(self, request_type: type[Request]) -> Handler | None:
        return self._table.get(request_type)

    def __contains__(self, request_type: object) -> bool:
        return request_type in self._table

    def __or__(self, other: Handlers) -> Handlers:
        services = self.services + tuple(s for s in other.services if s not in self.services)
        return Handlers({**self._table, **other._table}, services)


class OrderIds:
    """The gateway's next valid order id, shared by all its clients."""

    def __init__(self, first: int) -> None:
        self._next = first

    @property
    def next(self) -> int:
        """What nextValidId announces at bootstrap."""
        return self._next

    def reserve(self) -> int:
        """The answer to reqIds. TWS moves past the id it last announced (a live Gateway
        announced 1 at bootstrap, then 2 on reqIds)."""
        self._next += 1
        return self._next

    def observe(self, order_id: int) -> None:
        """An order used `order_id`: never announce it (or anything lower) again."""
        self._next = max(self._next, order_id + 1)


class Gateway:
    """What the sessions of one server share."""

    def __init__(self, config: ServerConfig, handlers: Handlers | None = None) -> None:
        self.config = config
        self.clock: Clock = config.clock
        self.handlers = handlers if handlers is not None else CONNECTION_HANDLERS
        self.order_ids = OrderIds(config.first_order_id)
        # Every request and response of every client, for tests to assert on.
        self.journal = Journal(clock=self.clock.now, limit=config.journal_limit)
        # The simulated broker: contracts, prices, orders, accounts. Knows no sessions.
        self.world = World(self.clock, config.world_config())
        self.sessions: set[Session] = set()  # those past startApi, for world event fan-out
        self._by_client_id: dict[int, Session] = {}
        # Each data farm's current notice (code, text), reported at every bootstrap; a
        # scenario's farm_status changes it.
        self.farms: dict[str, tuple[int, str]] = {
            farm: farm_status(farm_kind(farm), "ok", farm) for farm in config.farms
        }
        # Extension points for the scenario engine (fake_tws.scenario.engine); empty
        # unless a scenario runs. See Session._dispatch, Session.send and start_api.
        self.request_hooks: list[RequestHook] = []
        self.send_filters: list[SendFilter] = []
        self.session_listeners: list[SessionListener] = []
        self.transport: Transport | None = None  # set by the Server

    def notify(self, what: str, session: Session) -> None:
        """Tell the session listeners that `session` is "connected" or "disconnected"."""
        for listener in list(self.session_listeners):
            listener(what, session)

    def claim_client_id(self, session: Session, client_id: int) -> bool:
        """Take `client_id` for `session`; False if another live session holds it."""
        holder = self._by_client_id.get(client_id)
        if holder is not None and holder is not session:
            return False
        self._by_client_id[client_id] = session
        self.sessions.add(session)
        return True

    def release(self, session: Session) -> None:
        self.sessions.discard(session)
        if session.client_id is not None and self._by_client_id.get(session.client_id) is session:
            del self._by_client_id[session.client_id]

    def session_for(self, client_id: int) -> Session | None:
        """The live session of `client_id`, if connected."""
        return self._by_client_id.get(client_id)

    @property
    def client_ids(self) -> frozenset[int]:
        """Client ids of the sessions connected right now."""
        return frozenset(self._by_client_id)


class Session:
    def __init__(self, gateway: Gateway, link: Link, peer: str = "?") -> None:
        config = gateway.config
        self.gateway = gateway
        self.link = link
        self.peer = peer
        self.conn = ServerConnection(config.min_version, config.max_version, config.max_frame)
        self.client_id: int | None = None
        self.started = False  # startApi accepted and bootstrap sent
        self.closed = False
        self.market_data_type = 1  # real-time until the client asks otherwise
        self.server_log_level: int | None = None
        self.tasks: TaskRunner | None = None  # set by the transport
        self.closed_by_server = False  # closed from this side (a fault, a refusal)
        self._streams: dict[int, TaskHandle] = {}  # spawned tasks still running
        # Called when cancel_streams drops everything, so registries of subscriptions
        # forget them at once (the tasks' own cleanup runs later, at their next await).
        self._on_streams_cancelled: list[Callable[[], None]] = []
        self._stream_seq = 0

    # -- what handlers use -------------------------------------------------------

    @property
    def clock(self) -> Clock:
        return self.gateway.clock

    @property
    def version(self) -> int:
        """The negotiated server version (0 before the handshake)."""
        return self.conn.version

    @property
    def journal_id(self) -> int:
        """The client id the journal files this connection under (-1 before startApi)."""
        return NO_REQUEST_ID if self.client_id is None else self.client_id

    def send(self, message: Response) -> None:
        if self.closed:
            return
        for outgoing in self.gateway.send_filters:
            changed = outgoing(self, message)
            if changed is None:
                return
            message = changed
        self.link.send(self.conn.send(message))
        self.gateway.journal.log_sent(self.journal_id, message)

    def send_raw(self, fields: tuple[str, ...]) -> None:
        """One frame of text fields, outside the typed table (a scenario's `raw`)."""
        if self.closed:
            return
        self.link.send(frame("".join(f"{f}\0" for f in fields).encode()))
        self.gateway.journal.record_sent(self.journal_id, RawMessage(fields))

    def spawn(self, name: str, fn: Callable[[], Awaitable[None]]) -> TaskHandle:
        """Run `fn` in the background for as long as this connection lives (a market data
        stream, say); the returned handle cancels it early."""
        if self.tasks is None:
            raise RuntimeError("this session has no task runner (not served by a Server)")
        self._stream_seq += 1
        key = self._stream_seq

        async def run() -> None:
            try:
                await fn()
            finally:
                self._streams.pop(key, None)

        handle = self.tasks.spawn(name, run)
        self._streams[key] = handle
        return handle

    def cancel_streams(self) -> int:
        """Cancel every task this connection spawned (IB dropping the subscriptions, as
        after error 1101); returns how many were running."""
        handles = list(self._streams.values())
        self._streams.clear()
        for handle in handles:
            handle.cancel()
        for forget in self._on_streams_cancelled:
            forget()
        return len(handles)

    def on_streams_cancelled(self, forget: Callable[[], None]) -> None:
        """Call `forget()` whenever cancel_streams drops this connection's streams."""
        self._on_streams_cancelled.append(forget)

    def error(self, req_id: int, code: int, text: str) -> None:
        self.send(rs.Error(reqId=req_id, errorCode=code, errorString=text))

    def close(self, reason: str) -> None:
        """Close this connection (after what is queued has been sent)."""
        if self.closed:
            return
        self.closed = True
        self.closed_by_server = True
        self.gateway.release(self)
        self.link.close(reason)

    def disconnect(self, mode: str = "close", reason: str = "") -> None:
        """Drop this connection the way networks and dying Gateways do:

        - close: FIN once what is queued has been sent (same as `close`);
        - reset: RST now (SO_LINGER 0), whatever is queued is lost;
        - truncate: what is queued, then half of one more frame, then FIN;
        - silence: stop answering and sending but keep the socket open (a half-open
          connection): the client id stays taken until the client closes its end.
        """
        if mode not in DISCONNECT_MODES:
            raise ValueError(f"unknown disconnect mode {mode!r} (one of {DISCONNECT_MODES})")
        if self.closed:
            return
        reason = reason or f"disconnect ({mode})"
        self.gateway.journal.record_event(self.journal_id, f"{reason}: {mode}")
        abort = getattr(self.link, "abort", None)
        if mode == "close" or abort is None:
            self.close(reason)
            return
        self.closed = True
        self.closed_by_server = True
        self.cancel_streams()
        if mode != "silence":
            self.gateway.release(self)
        tail = b""
        if mode == "truncate" and self.version:
            tail = self.conn.send(rs.CurrentTime(time=int(self.clock.time())))
        abort(mode, reason, tail)

    def log(self, level: int, message: str, *args: object, exc_info: bool = False) -> None:
        """Log a line naming this client and its peer address."""
        client = "?" if self.client_id is None else self.client_id
        log.log(level, "client %s %s: " + message, client, self.peer, *args, exc_info=exc_info)

    # -- what the transport calls --------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        if self.closed:
            return
        try:
            events = self.conn.receive_data(data)
        except ProtocolError as exc:
            # The byte stream itself is broken (bad greeting, oversized frame): what came
            # whole before the break is answered, then the connection is dropped.
            for event in exc.events:
                if self.closed:
                    break
                self._on_event(event)
            if not self.closed:
                self.log(logging.WARNING, "protocol error, closing: %s", exc)
                self.close(f"protocol error: {exc}")
            return
        for event in events:
            if self.closed:
                break
            self._on_event(event)

    def connection_lost(self) -> None:
        """The client went away (or the server is stopping)."""
        self.gateway.journal.record_event(self.journal_id, "disconnected")
        self.closed = True
        self.gateway.release(self)
        self.conn.close()
        if self.started:
            self.gateway.notify("disconnected", self)

    # -- events ----------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        match event:
            case Greeting():
                self.link.send(self.conn.accept(self._connection_time()))
                self.log(
                    logging.DEBUG,
                    "handshake: client v%d..%d %r, speaking v%d",
                    event.greeting.min_version,
                    event.greeting.max_version,
                    event.greeting.connect_options,
                    event.version,
                )
            case VersionMismatch():
                # TWS answers with its own version and hangs up; the client reports it.
                self.link.send(self.conn.mismatch_reply(self._connection_time()))
                self.log(logging.WARNING, "closing: %s", event.error)
                self.close(event.error)
            case RequestReceived():
                self._dispatch(event.request)
            case BadRequest():
                self._on_bad_request(event)

    def _connection_time(self) -> str:
        return connection_time(self.clock.now(), self.gateway.config.timezone)

    def _dispatch(self, request: Request) -> None:
        if isinstance(request, rq.StartApi) and self.client_id is None:
            self.client_id = request.clientId  # file startApi under the id it claims
        self.gateway.journal.record_received(self.journal_id, request)
        if self.gateway.config.read_only and isinstance(request, READ_ONLY_REFUSED):
            # Refused before anything else sees it, scenario rules included: the order
            # never reaches the world, as with a read-only Gateway.
            self.log(logging.INFO, "%s refused: the API is read-only", request.api_name)
            self.error(request_id_of(request), NOT_SUPPORTED, READ_ONLY_TEXT)
            return
        if not self.gateway.request_hooks:
            self._handle(request)
            return
        replaced = False
        afters: list[Callable[[], None]] = []
        for hook in list(self.gateway.request_hooks):
            outcome = hook(self, request)
            if outcome is None:
                continue
            replaced = replaced or outcome.replace
            if outcome.after is not None:
                afters.append(outcome.after)
        if not replaced and not self.closed:
            self._handle(request)
        for after in afters:
            after()

    def _handle(self, request: Request) -> None:
        handler = self.gateway.handlers.get(type(request))
        if handler is not None:
            handler(self, request)
            return
        name = request.api_name
        self.log(logging.INFO, "%s is not supported yet", name)
        self.error(
            request_id_of(request),
            NOT_SUPPORTED,
            f"Error validating request.-'{name}' : cause - {name} is not supported by fake-tws yet",
        )

    def _on_bad_request(self, event: BadRequest) -> None:
        self.gateway.journal.record_event(self.journal_id, f"bad request: {event.error}")
        if isinstance(event.error, UnknownMessageId):
            self.log(logging.WARNING, "unknown message id %s, closing", event.message_id)
            self.error(NO_REQUEST_ID, UNKNOWN_MESSAGE_ID, UNKNOWN_MESSAGE_ID_TEXT)
            self.close(f"unknown message id {event.message_id}")
            return
        self.log(logging.WARNING, "bad request: %s", event.error)
        self.error(
            NO_REQUEST_ID,
            BAD_REQUEST,
            f"Error reading request.-'{event.message_id}' : cause - {event.error}",
        )


# -- the connection family's handlers ----------------------------------------------------

CONNECTION_HANDLERS = Handlers()


@CONNECTION_HANDLERS.on(rq.StartApi)
def start_api(session: Session, request: rq.StartApi) -> None:
    if session.started:
        session.log(logging.WARNING, "second startApi (clientId %d) ignored", request.clientId)
        return
    session.client_id = request.clientId  # named in the logs even if refused
    if not session.gateway.claim_client_id(session, request.clientId):
        session.log(logging.WARNING, "client id is already in use, refusing")
        session.error(NO_REQUEST_ID, CLIENT_ID_IN_USE, CLIENT_ID_IN_USE_TEXT)
        session.close(f"client id {request.clientId} in use")
        return
    session.started = True
    session.log(logging.INFO, "connected at v%d", session.version)
    session.gateway.journal.record_event(session.client_id, f"connected at v{session.version}")
    # The order a live Gateway bootstraps in: accounts, next id, then farm status.
    gateway = session.gateway
    session.send(rs.ManagedAccounts(accountsList=",".join(gateway.config.accounts)))
    session.send(rs.NextValidId(orderId=gateway.order_ids.next))
    for code, text in gateway.farms.values():
        session.error(NO_REQUEST_ID, code, text)
    gateway.notify("connected", session)


@CONNECTION_HANDLERS.on(rq.ReqCurrentTime)
def current_time(session: Session, request: rq.ReqCurrentTime) -> None:
    session.send(rs.CurrentTime(time=int(session.clock.time())))


@CONNECTION_HANDLERS.on(rq.ReqIds)
def req_ids(session: Session, request: rq.ReqIds) -> None:
    # TWS ignores numIds: one id comes back however many were asked for.
    session.send(rs.NextValidId(orderId=session.gateway.order_ids.reserve()))


@CONNECTION_HANDLERS.on(rq.ReqManagedAccts)
def managed_accounts(session: Session, request: rq.ReqManagedAccts) -> None:
    session.send(rs.ManagedAccounts(accountsList=",".join(session.gateway.config.accounts)))


@CONNECTION_HANDLERS.on(rq.SetServerLogLevel)
def set_server_log_level(session: Session, request: rq.SetServerLogLevel) -> None:
    session.server_log_level = request.logLevel  # TWS does not answer


@CONNECTION_HANDLERS.on(rq.ReqMarketDataType)
def market_data_type(session: Session, request: rq.ReqMarketDataType) -> None:
    # No reply now: TWS announces marketDataType(reqId, type) per market data request,
    # when that request starts ticking; the market data handler reads this value.
    session.market_data_type = request.marketDataType
