"""The trio transport: a TCP listener, two tasks per client, a bounded outbox per client.

    async with trio.open_nursery() as nursery:
        server = await nursery.start(Server(ServerConfig(port=0)).serve)
        ...  # clients connect to server.port
        server.stop()

`ServerThread` runs the same server in a background thread for synchronous and asyncio
callers (ibapi, ib_async, NautilusTrader):

    with ServerThread(accounts=("DU1",)) as gateway:
        client.connect("127.0.0.1", gateway.port, clientId=1)

Every task has an owner: the listener's nursery owns one task per client, and each client
task owns its reader and writer. `stop()` cancels the lot.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import socket
import struct
import threading
from collections import deque
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trio

from .config import ServerConfig, is_trusted, trusted_networks
from .handlers import ALL_HANDLERS
from .session import Gateway, Handlers, Session

if TYPE_CHECKING:
    from .scenario import Scenario
    from .scenario.engine import ScenarioEngine

log = logging.getLogger("fake_tws.server")

RECEIVE_SIZE = 64 * 1024
# The writer hands the socket at most this much at a time: a burst reaches the client
# as a stream it can keep up with, not as one huge write (ibapi's reader re-slices its
# buffer per message, so a giant read costs it quadratic time).
SEND_CHUNK = 64 * 1024
# After a close is requested, how long queued bytes may take to drain before the
# connection is cut anyway (a client that stopped reading must not hold a task forever).
CLOSE_GRACE = 5.0
# After a restart's downtime, how long to wait (wall seconds) between tries to listen on
# the port again if the OS does not give it back at once.
RELISTEN_RETRY = 0.1


class Outbox:
    """A client's queue of outgoing bytes, bounded in bytes; the session's `Link`.

    `send` never blocks: a session answering a request, or later a market-data stream,
    just queues. A client that does not read lets the queue grow past `limit`; it is then
    cut off at once instead of holding ever more memory.

    Small messages are copied into shared chunks of up to SEND_CHUNK bytes, so what is
    queued costs about its own size in memory (a tick is ~30 bytes; as a bytes object
    of its own it would cost twice that again).
    """

    def __init__(self, limit: int, cancel_scope: trio.CancelScope) -> None:
        self.limit = limit
        self.queued = 0
        self.close_reason: str | None = None
        self.reset = False  # close with RST (SO_LINGER 0) instead of FIN
        self.silenced = False  # write nothing more, but keep the socket open
        self._chunks: deque[bytearray] = deque()
        self._last = 0  # the size of the last message queued (at the end of the last chunk)
        self._cancel_scope = cancel_scope
        self._lot = trio.lowlevel.ParkingLot()

    def send(self, data: bytes) -> None:
        if self.close_reason is not None or self.silenced:
            return
        chunks = self._chunks
        if chunks and len(chunks[-1]) + len(data) <= SEND_CHUNK:
            chunks[-1] += data
        else:
            chunks.append(bytearray(data))
        self._last = len(data)
        self.queued += len(data)
        if self.queued > self.limit:
            chunks.clear()
            self.queued = 0
            self.close_reason = f"client is not reading: more than {self.limit} bytes queued for it"
            self._cancel_scope.cancel()
        if self._lot:  # the writer waits for bytes (unpark_all costs even when it does not)
            self._lot.unpark_all()

    def close(self, reason: str) -> None:
        if self.close_reason is None:
            self.close_reason = reason
            self._cancel_scope.deadline = min(
                self._cancel_scope.deadline, trio.current_time() + CLOSE_GRACE
            )
        self._lot.unpark_all()

    def abort(self, mode: str, reason: str, tail: bytes = b"") -> None:
        """A fault (Session.disconnect): "reset" drops what is queued and closes with RST
        now; "truncate" sends what is queued but only half of its last message (or half
        of `tail` when nothing is queued), then closes; "silence" drops what is queued and
        sends nothing more, leaving the connection open."""
        if self.close_reason is not None:
            return
        if mode == "reset":
            self._chunks.clear()
            self.queued = 0
            self.reset = True
            self.close_reason = reason
            self._cancel_scope.cancel()
        elif mode == "truncate":
            if self._chunks:
                last = self._chunks[-1]
                cut = len(last) - self._last + max(1, self._last // 2)
                self.queued -= len(last) - cut
                del last[cut:]
            elif tail:
                self._chunks.append(bytearray(tail[: max(1, len(tail) // 2)]))
                self.queued += len(self._chunks[-1])
            self.close(reason)
        elif mode == "silence":
            self._chunks.clear()
            self.queued = 0
            self.silenced = True
        else:
            self.close(reason)
        self._lot.unpark_all()

    async def next_chunk(self) -> bytes:
        """Up to SEND_CHUNK queued bytes (more only for one oversized message), or b""
        once closed and drained."""
        while not self._chunks or self.silenced:
            if self.close_reason is not None:
                return b""
            await self._lot.park()
        chunk = self._chunks.popleft()
        self.queued -= len(chunk)
        return bytes(chunk)


class NurseryTasks:
    """A session's TaskRunner: tasks in the client's nursery, each in its own cancel scope,
    so one subscription can be cancelled and all end with the connection."""

    def __init__(self, nursery: trio.Nursery) -> None:
        self._nursery = nursery

    def spawn(self, name: str, fn: Any) -> trio.CancelScope:
        scope = trio.CancelScope()

        async def run() -> None:
            with scope:
                await fn()

        self._nursery.start_soon(run, name=name)
        return scope


def _peer_name(stream: trio.abc.Stream) -> str:
    try:
        host, port = stream.socket.getpeername()[:2]  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return "?"
    return f"{host}:{port}"


def _linger_zero(stream: trio.abc.Stream) -> None:
    """Make closing `stream`'s socket send RST instead of FIN."""
    sock = getattr(stream, "socket", None)
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _warn_if_exposed(config: ServerConfig) -> None:
    """A warning when the listener may be reachable from other machines."""
    host = config.host
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if loopback:
        return
    who = (
        f"only from {', '.join(config.trusted_ips)} and localhost"
        if config.trusted_ips
        else "from any address that can reach it"
    )
    log.warning(
        "listening on %s, not on localhost: fake-tws has no login and accepts connections %s%s",
        host or "every interface",
        who,
        "" if config.trusted_ips else " (restrict them with trusted_ips / --trusted-ip)",
    )


def _load_scenario(scenario: Any) -> Scenario:
    from .scenario import Scenario, load_scenario

    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


class Server:
    """The fake Gateway. With `scenario` (a loaded Scenario, a file, or a shipped
    scenario's name) its rules run against this server (see fake_tws.scenario.engine);
    the configuration then defaults to the scenario's world (`scenario_config`)."""

    def __init__(
        self,
        config: ServerConfig | None = None,
        handlers: Handlers | None = None,
        *,
        scenario: Scenario | str | Path | None = None,
    ):
        self.engine: ScenarioEngine | None = None
        if scenario is not None:
            from .scenario.engine import scenario_config

            scenario = _load_scenario(scenario)
            config = config or scenario_config(scenario)
        self.config = config or ServerConfig()
        # By default a server answers everything it can: connection requests and the
        # broker-backed families.
        self.gateway = Gateway(self.config, ALL_HANDLERS if handlers is None else handlers)
        self.gateway.transport = self
        self.sessions: set[Session] = set()
        self.port: int | None = None
        self._scope: trio.CancelScope | None = None
        self._stop_requested = False
        self._listen_scope: trio.CancelScope | None = None
        self._down_until = None  # while restarting: when the listener comes back
        self._trusted = trusted_networks(self.config.trusted_ips)
        if scenario is not None:
            from .scenario.engine import ScenarioEngine

            self.engine = ScenarioEngine(scenario).attach(self.gateway)

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Listen until `stop()`; reports itself to `nursery.start` once the port is bound."""
        with trio.CancelScope() as scope:
            self._scope = scope
            if self._stop_requested:
                scope.cancel()
            listeners = await trio.open_tcp_listeners(self.config.port, host=self.config.host)
            self.port = listeners[0].socket.getsockname()[1]
            log.info("listening on %s:%d", self.config.host, self.port)
            _warn_if_exposed(self.config)
            async with trio.open_nursery() as nursery:
                for service in self.gateway.handlers.services:
                    nursery.start_soon(service, self.gateway)
                await nursery.start(self._listen, listeners, nursery)
                task_status.started(self)
        log.info("stopped (port %s)", self.port)

    async def _listen(
        self,
        listeners: list,
        handlers: trio.Nursery,
        *,
        task_status: Any = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Accept clients (their tasks run in `handlers`); after a `restart`, close the
        listening socket (connecting clients are refused), wait, and listen again on the
        same port."""
        status = task_status
        while True:
            with trio.CancelScope() as scope:
                self._listen_scope = scope
                await trio.serve_listeners(
                    self._on_tcp_stream, listeners, handler_nursery=handlers, task_status=status
                )
            status = trio.TASK_STATUS_IGNORED
            if self._down_until is not None:
                await self.gateway.clock.sleep_until(self._down_until)
            self._down_until = None
            while True:
                try:
                    listeners = await trio.open_tcp_listeners(self.port, host=self.config.host)
                    break
                except OSError as exc:  # the port is briefly taken: try again shortly
                    log.warning("cannot listen again on port %s yet: %s", self.port, exc)
                    await trio.sleep(RELISTEN_RETRY)
            self.gateway.journal.record_event(-1, "server: listening again")
            log.info("listening again on %s:%d", self.config.host, self.port)

    def restart(self, down: float) -> None:
        """A Gateway restart (the nightly one, say): every client is dropped and new
        connections are refused for `down` seconds of the server's clock, then the server
        listens again on the same port. The world (orders, positions, ids) is kept.
        Call from the server's trio thread."""
        self.gateway.journal.record_event(-1, f"server: restarting, down for {down:g}s")
        self._down_until = self.gateway.clock.now() + timedelta(seconds=down)
        if self._listen_scope is not None:
            self._listen_scope.cancel()
        for session in list(self.sessions):
            session.close("server restart")

    def stop(self) -> None:
        """Close the listener and every session. Call from the server's trio thread."""
        self._stop_requested = True
        if self._scope is not None:
            self._scope.cancel()

    async def _on_tcp_stream(self, stream: trio.SocketStream) -> None:
        peer = _peer_name(stream)
        if not is_trusted(peer.rsplit(":", 1)[0], self._trusted):
            # TWS asks its user whether to accept an untrusted address; we refuse.
            log.warning(
                "connection from %s refused: not a trusted IP (trusted: localhost, %s)",
                peer,
                ", ".join(self.config.trusted_ips),
            )
            self.gateway.journal.record_event(-1, f"server: refused untrusted {peer}")
            await trio.aclose_forcefully(stream)
            return
        await self.serve_stream(stream, peer)

    async def serve_stream(self, stream: trio.abc.Stream, peer: str = "?") -> None:
        """Run one client over any trio stream (TCP, or an in-memory pair in tests)."""
        scope = trio.CancelScope()  # the client's reader and writer; closing cancels it
        outbox = Outbox(self.config.outbox_limit, scope)
        session = Session(self.gateway, outbox, peer)
        self.sessions.add(session)
        session.log(logging.INFO, "connection opened")
        try:
            with scope:
                async with trio.open_nursery() as nursery:
                    session.tasks = NurseryTasks(nursery)
                    nursery.start_soon(self._write, stream, outbox, scope)
                    await self._read(stream, session, outbox)
                    # The writer cancels `scope` once the outbox is closed and drained,
                    # which also ends the session's spawned tasks (its streams).
        finally:
            self.sessions.discard(session)
            session.connection_lost()
            session.log(logging.INFO, "closed: %s", outbox.close_reason or "server stopping")
            if outbox.reset:
                _linger_zero(stream)
            await trio.aclose_forcefully(stream)

    async def _read(self, stream: trio.abc.Stream, session: Session, outbox: Outbox) -> None:
        while outbox.close_reason is None:
            try:
                data = await stream.receive_some(RECEIVE_SIZE)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                outbox.close(f"connection lost: {exc!r}")
                return
            if not data:
                outbox.close("client disconnected")
                return
            try:
                session.receive_data(data)
            except Exception:
                # A bug in a handler ends this client's connection, not the server.
                session.log(logging.ERROR, "internal error, closing", exc_info=True)
                outbox.close("fake-tws internal error")
                return

    async def _write(
        self, stream: trio.abc.Stream, outbox: Outbox, scope: trio.CancelScope
    ) -> None:
        try:
            while chunk := await outbox.next_chunk():
                await stream.send_all(chunk)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            outbox.close(f"connection lost: {exc!r}")
        scope.cancel()  # closed and flushed (or broken): stop reading too


class ServerThread:
    """A `Server` in a background thread, for callers that are not trio.

    `start()` returns once the port is bound; `stop()` closes everything and joins.
    Keyword arguments override fields of `config` (e.g. `ServerThread(port=7497)`).
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        handlers: Handlers | None = None,
        scenario: Scenario | str | Path | None = None,
        **overrides: Any,
    ) -> None:
        if scenario is not None:
            from .scenario.engine import scenario_config

            scenario = _load_scenario(scenario)
            config = config or scenario_config(scenario)
        self.config = replace(config or ServerConfig(), **overrides)
        self.server = Server(self.config, handlers, scenario=scenario)
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def engine(self) -> ScenarioEngine | None:
        """The scenario engine, when started with a scenario."""
        return self.server.engine

    @property
    def port(self) -> int:
        if self.server.port is None:
            raise RuntimeError("the server is not started")
        return self.server.port

    def start(self, timeout: float = 10.0) -> ServerThread:
        if self._thread is not None:
            raise RuntimeError("a ServerThread can be started only once")
        self._thread = threading.Thread(target=self._run, name="fake-tws-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"fake-tws did not start within {timeout}s")
        if self._error is not None:
            self._thread.join()
            raise RuntimeError(f"fake-tws failed to start: {self._error!r}") from self._error
        return self

    def run_sync(self, fn: Any, *args: Any) -> Any:
        """Call `fn(*args)` in the server's thread (to read or change server state safely)."""
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def stop(self, timeout: float = 10.0) -> None:
        thread = self._thread
        if thread is None:
            return
        if thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):
                self.run_sync(self.server.stop)
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"fake-tws did not stop within {timeout}s")
        if self._error is not None:
            raise RuntimeError(f"fake-tws failed: {self._error!r}") from self._error

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:
            self._error = exc
            log.exception("fake-tws server thread failed")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.server.serve)
            self._ready.set()
