"""The control API: a small HTTP/1.1 JSON server on 127.0.0.1 that steers a running fake
gateway from another process while its clients stay connected.

It runs in the gateway's own trio run, next to `Server.serve` (see `fake-tws serve
--control-port`), so every action sees the server's state without locks:

    async with trio.open_nursery() as nursery:
        server = await nursery.start(Server(config).serve)
        control = await nursery.start(ControlServer(server).serve)
        ...  # control.port

Routes (bodies and answers are JSON; errors are {"error": "...", "status": n}):

    GET  /                    the routes
    GET  /status              port, clients, server versions, clock, journal size
    GET  /journal             entries, oldest first; ?since=SEQ (only later ones),
                              ?wait=SECONDS (wait up to that long for one), ?limit=N
    POST /clock/advance       {"seconds": 60}                      (virtual clock only)
    POST /clock/set           {"time": "2026-01-05T15:00:00Z"}     (virtual clock only)
    POST /faults/error        {"code": 1100, "text": ..., "reqId": -1, "clientId": ...}
    POST /faults/farm         {"farm": "usfarm", "state": "broken", "clientId": ...}
    POST /faults/disconnect   {"clientId": 1}

A POST body must be sent with `Content-Type: application/json`. Each connection carries
one request (the answer says `Connection: close`).

A new route is one function on a `Routes` table; a table joins the defaults with `|`
(world actions such as moving a price or firing a scenario rule will come this way):

    WORLD_ROUTES = Routes()

    class SetPrice(Body):
        symbol: str
        price: float

    @WORLD_ROUTES.post("/world/price", body=SetPrice)
    def set_price(ctx: ControlContext, request: ControlRequest) -> dict:
        ...
        return {"symbol": request.body.symbol}

    ControlServer(server, routes=CONTROL_ROUTES | WORLD_ROUTES)
"""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
import trio

from fake_tws.clock import Clock
from fake_tws.journal import Journal
from fake_tws.scenario import Scenario
from fake_tws.server import Server
from fake_tws.session import NO_REQUEST_ID, Gateway

from . import actions
from .actions import ActionError

log = logging.getLogger("fake_tws.control")

HOST = "127.0.0.1"  # never anything else: the API can disconnect clients and move time
MAX_HEAD = 16 * 1024
MAX_BODY = 1024 * 1024
READ_TIMEOUT = 10.0  # seconds a client may take to send its request
MAX_WAIT = 30.0  # the longest ?wait= a journal read may ask for
POLL_INTERVAL = 0.005


class ControlPortError(OSError):
    """The control port could not be bound."""


class Body(msgspec.Struct, forbid_unknown_fields=True):
    """Base for a route's JSON body: unknown fields are refused, so typos fail loudly."""


@dataclass
class ControlContext:
    """What routes act on: the server and what it was started with."""

    server: Server
    scenario: Scenario | None = None
    seed: int | None = None
    control_port: int | None = None
    routes: Routes | None = None  # what GET / lists

    @property
    def gateway(self) -> Gateway:
        return self.server.gateway

    @property
    def journal(self) -> Journal:
        return self.server.gateway.journal

    @property
    def clock(self) -> Clock:
        return self.server.gateway.clock

    @property
    def world(self) -> Any:
        """The broker world, once the gateway has one (else None)."""
        return getattr(self.server.gateway, "world", None)


@dataclass
class ControlRequest:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None  # the route's Body type, decoded

    def number(
        self, name: str, default: float, *, minimum: float = 0, maximum: float = math.inf
    ) -> float:
        """A numeric query parameter, checked."""
        return self._param(name, default, float, "a number", minimum, maximum)

    def integer(
        self, name: str, default: int | None, *, minimum: int = 0, maximum: float = math.inf
    ) -> int | None:
        return self._param(name, default, int, "an integer", minimum, maximum)

    def _param(
        self, name: str, default: Any, convert: type, kind: str, minimum: float, maximum: float
    ) -> Any:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = convert(text)
        except ValueError:
            raise ActionError(f"query parameter {name}: expected {kind}, got {text!r}") from None
        if not minimum <= value <= maximum:
            bounds = f">= {minimum}" if maximum == math.inf else f"from {minimum} to {maximum}"
            raise ActionError(f"query parameter {name}: expected {bounds}, got {text}")
        return value


RouteFn = Callable[[ControlContext, ControlRequest], Any]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    fn: RouteFn
    body: type[Body] | None = None

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.fn) or ""
        return doc.splitlines()[0] if doc else ""


class Routes:
    """Which function answers each (method, path). `a | b` is a new table; b's entries win."""

    def __init__(self, routes: dict[tuple[str, str], Route] | None = None) -> None:
        self._routes: dict[tuple[str, str], Route] = dict(routes or {})

    def get(self, path: str) -> Callable[[RouteFn], RouteFn]:
        return self._register("GET", path, None)

    def post(self, path: str, *, body: type[Body]) -> Callable[[RouteFn], RouteFn]:
        return self._register("POST", path, body)

    def _register(
        self, method: str, path: str, body: type[Body] | None
    ) -> Callable[[RouteFn], RouteFn]:
        def register(fn: RouteFn) -> RouteFn:
            self._routes[(method, path)] = Route(method, path, fn, body)
            return fn

        return register

    def __or__(self, other: Routes) -> Routes:
        return Routes({**self._routes, **other._routes})

    def __iter__(self) -> Iterator[Route]:
        return iter(sorted(self._routes.values(), key=lambda r: (r.path, r.method)))

    def find(self, method: str, path: str) -> Route:
        route = self._routes.get((method, path))
        if route is not None:
            return route
        allowed = sorted(m for (m, p) in self._routes if p == path)
        if allowed:
            raise HttpError(
                405,
                f"{method} {path} is not allowed; use {' or '.join(allowed)}",
                {"Allow": ", ".join(allowed)},
            )
        known = ", ".join(f"{r.method} {r.path}" for r in self)
        raise HttpError(404, f"no route {method} {path} (routes: {known})")


class HttpError(ActionError):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message, status)
        self.headers = headers or {}


# -- the default routes ----------------------------------------------------------------------

CONTROL_ROUTES = Routes()


class Advance(Body):
    seconds: float


class SetTime(Body):
    time: Annotated[datetime, msgspec.Meta(tz=True)]


class InjectError(Body):
    code: int
    text: str | None = None
    reqId: int = NO_REQUEST_ID
    clientId: int | None = None


class FarmStatus(Body):
    farm: str
    state: str = "broken"
    clientId: int | None = None


class Disconnect(Body):
    clientId: int


@CONTROL_ROUTES.get("/")
def index(ctx: ControlContext, request: ControlRequest) -> dict:
    """The routes of this control API."""
    routes = ctx.routes or CONTROL_ROUTES
    return {"routes": [{"method": r.method, "path": r.path, "summary": r.summary} for r in routes]}


@CONTROL_ROUTES.get("/status")
def status(ctx: ControlContext, request: ControlRequest) -> dict:
    """Ports, connected clients, server versions, clock time, journal size."""
    out = actions.status(ctx.server)
    out["control_port"] = ctx.control_port
    out["seed"] = ctx.seed
    scenario = ctx.scenario
    engine = getattr(ctx.server, "engine", None)
    out["scenario"] = (
        None
        if scenario is None
        else {
            "name": scenario.name,
            "files": [str(f) for f in scenario.files],
            "rules": [r.id for r in scenario.rules],
            "rules_run": engine is not None,
            "fired": [
                {"rule": rule, "time": actions.iso_time(when)}
                for rule, when in getattr(engine, "fired", ())
            ],
        }
    )
    return out


@CONTROL_ROUTES.get("/journal")
async def journal(ctx: ControlContext, request: ControlRequest) -> dict:
    """Journal entries, oldest first: ?since=SEQ, ?wait=SECONDS, ?limit=N."""
    since = request.integer("since", 0)
    wait = request.number("wait", 0.0, maximum=MAX_WAIT)
    limit = request.integer("limit", None, minimum=1)
    deadline = trio.current_time() + wait
    while True:
        entries = [e for e in ctx.journal.entries if e.seq > since]
        remaining = deadline - trio.current_time()
        if entries or remaining <= 0:
            break
        await trio.sleep(min(POLL_INTERVAL, remaining))
    if limit is not None:
        entries = entries[:limit]
    return {
        "entries": [actions.entry_json(e) for e in entries],
        "next": entries[-1].seq if entries else since,  # pass as ?since= to read on
    }


@CONTROL_ROUTES.post("/clock/advance", body=Advance)
def clock_advance(ctx: ControlContext, request: ControlRequest) -> dict:
    """Move the virtual clock on by {"seconds": n}."""
    now = actions.advance_clock(ctx.server, request.body.seconds)
    return {"time": actions.iso_time(now)}


@CONTROL_ROUTES.post("/clock/set", body=SetTime)
def clock_set(ctx: ControlContext, request: ControlRequest) -> dict:
    """Jump the virtual clock to {"time": iso} (not into the past)."""
    now = actions.set_clock(ctx.server, request.body.time)
    return {"time": actions.iso_time(now)}


@CONTROL_ROUTES.post("/faults/error", body=InjectError)
def fault_error(ctx: ControlContext, request: ControlRequest) -> dict:
    """Send an error/notice code to one client ("clientId") or to all."""
    body: InjectError = request.body
    sent_to = actions.send_error(
        ctx.server,
        body.code,
        body.text,
        req_id=body.reqId,
        client_id=body.clientId,
        source="the control API",
    )
    return {"sent_to": sent_to}


@CONTROL_ROUTES.post("/faults/farm", body=FarmStatus)
def fault_farm(ctx: ControlContext, request: ControlRequest) -> dict:
    """Announce a data farm's state ("ok", "broken", "inactive") to one client or all."""
    body: FarmStatus = request.body
    sent_to = actions.send_farm_status(
        ctx.server, body.farm, body.state, client_id=body.clientId, source="the control API"
    )
    return {"sent_to": sent_to}


@CONTROL_ROUTES.post("/faults/disconnect", body=Disconnect)
def fault_disconnect(ctx: ControlContext, request: ControlRequest) -> dict:
    """Close a client's connection from the server side."""
    actions.disconnect(ctx.server, request.body.clientId, source="the control API")
    return {"disconnected": request.body.clientId}


# -- HTTP ------------------------------------------------------------------------------------


class _ClientGone(Exception):
    """The client closed the connection before sending a whole request."""


@dataclass
class HttpRequest:
    method: str
    target: str
    headers: dict[str, str]
    body: bytes


async def read_request(stream: trio.abc.ReceiveStream) -> HttpRequest:
    """One HTTP/1.x request with a Content-Length body (no chunked encoding)."""
    buffer = bytearray()
    while (end := buffer.find(b"\r\n\r\n")) < 0:
        if len(buffer) > MAX_HEAD:
            raise HttpError(431, f"request head larger than {MAX_HEAD} bytes")
        data = await stream.receive_some(65536)
        if not data:
            if buffer:
                raise HttpError(400, "the request ended before its head did")
            raise _ClientGone
        buffer += data
    lines = buffer[:end].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"not an HTTP/1.x request line: {lines[0][:100]!r}")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise HttpError(400, f"bad header line: {line[:100]!r}")
        headers[name.strip().lower()] = value.strip()
    if "transfer-encoding" in headers:
        raise HttpError(501, "chunked request bodies are not supported; send Content-Length")
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise HttpError(400, f"bad Content-Length: {headers['content-length']!r}") from None
    if length < 0:
        raise HttpError(400, f"bad Content-Length: {length}")
    if length > MAX_BODY:
        raise HttpError(413, f"request body larger than {MAX_BODY} bytes")
    body = bytearray(buffer[end + 4 :])
    while len(body) < length:
        data = await stream.receive_some(65536)
        if not data:
            raise HttpError(400, f"the body ended after {len(body)} of {length} bytes")
        body += data
    return HttpRequest(method, target, headers, bytes(body[:length]))


def render(status: int, data: Any, headers: dict[str, str] | None = None) -> bytes:
    body = msgspec.json.encode(data) + b"\n"
    lines = [
        f"HTTP/1.1 {status} {HTTPStatus(status).phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _error(exc: ActionError) -> bytes:
    return render(
        exc.status,
        {"error": exc.message, "status": exc.status},
        getattr(exc, "headers", None),
    )


class ControlServer:
    """The control API of one `Server`, served in the same trio run."""

    def __init__(
        self,
        server: Server,
        *,
        port: int = 0,
        routes: Routes = CONTROL_ROUTES,
        scenario: Scenario | None = None,
        seed: int | None = None,
    ) -> None:
        self.requested_port = port
        self.routes = routes
        self.context = ControlContext(server, scenario=scenario, seed=seed, routes=routes)
        self.port: int | None = None
        self._scope: trio.CancelScope | None = None
        self._stop_requested = False

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until `stop()`; reports itself to `nursery.start` once bound."""
        with trio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            try:
                listeners = await trio.open_tcp_listeners(self.requested_port, host=HOST)
            except OSError as exc:
                raise ControlPortError(
                    exc.errno, f"cannot listen on {HOST}:{self.requested_port}: {exc.strerror}"
                ) from exc
            self.port = listeners[0].socket.getsockname()[1]
            self.context.control_port = self.port
            log.info("control API on %s", self.url)
            async with trio.open_nursery() as nursery:
                await nursery.start(trio.serve_listeners, self._on_stream, listeners)
                task_status.started(self)

    def stop(self) -> None:
        self._stop_requested = True
        if self._scope is not None:
            self._scope.cancel()

    async def _on_stream(self, stream: trio.SocketStream) -> None:
        try:
            with trio.move_on_after(READ_TIMEOUT) as timer:
                try:
                    request = await read_request(stream)
                except HttpError as exc:
                    await stream.send_all(_error(exc))
                    return
            if timer.cancelled_caught:
                await stream.send_all(_error(HttpError(408, "no whole request in time")))
                return
            await stream.send_all(await self.respond(request))
        except (_ClientGone, trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        finally:
            await trio.aclose_forcefully(stream)

    async def respond(self, request: HttpRequest) -> bytes:
        """The whole HTTP response to one request."""
        url = urlsplit(request.target)
        path = url.path.rstrip("/") or "/"
        where = f"{request.method} {path}"
        try:
            route = self.routes.find(request.method, path)
            body = None
            if route.body is not None:
                body = self._decode_body(route, request)
            query = dict(parse_qsl(url.query, keep_blank_values=True))
            result = route.fn(self.context, ControlRequest(request.method, path, query, body))
            if inspect.isawaitable(result):
                result = await result
            response = render(200, result)
            log.info("%s -> 200", where)
            return response
        except ActionError as exc:
            log.info("%s -> %d %s", where, exc.status, exc.message)
            return _error(exc)
        except Exception as exc:
            log.exception("%s failed", where)
            return _error(ActionError(f"internal error: {exc!r}", 500))

    @staticmethod
    def _decode_body(route: Route, request: HttpRequest) -> Body:
        where = f"{route.method} {route.path}"
        raw = request.body
        if raw.strip():
            content_type = request.headers.get("content-type", "").split(";")[0].strip()
            if content_type != "application/json":
                raise HttpError(
                    415,
                    f"{where}: send the body as JSON with Content-Type: application/json "
                    f"(got {content_type or 'no Content-Type'})",
                )
        try:
            return msgspec.json.decode(raw.strip() or b"{}", type=route.body)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise HttpError(400, f"{where}: bad body: {exc}") from None
