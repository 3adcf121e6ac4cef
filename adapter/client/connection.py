"""Connecting, staying connected, and stopping.

One supervisor task per started client runs the loop::

    connect (socket, handshake, startApi, wait for managedAccounts + nextValidId)
      -> ready -> wait until the socket drops -> degrade -> back off -> connect ...

Every attempt has a hard time limit (``ReconnectPolicy.attempt_timeout``), failures back
off exponentially, and ``stop()`` cancels the supervisor and closes the socket
synchronously: a client stuck connecting still stops at once.

While connected, TWS reports its own link to IB: 1100 lost (the client degrades and
waits), 1101 restored with data lost (every subscription is sent again), 1102 restored
with data kept. Data farm notices (2103-2108, 2119, 2157, 2158) only update
``farm_status``: a farm dropping and coming back fails nothing.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ibapi.client import EClient
from ibapi.decoder import Decoder

from adapter.client.codes import (
    CLIENT_ID_IN_USE,
    CONNECTIVITY_LOST,
    CONNECTIVITY_RESTORED_DATA_KEPT,
    CONNECTIVITY_RESTORED_DATA_LOST,
    FARM_CODES,
    IBClientIdInUse,
    IBConnectionError,
    IBError,
)
from adapter.client.pacing import MessageThrottle
from adapter.client.transport import EClientConnection, IBProtocol, handshake_bytes

if TYPE_CHECKING:
    from adapter.client.client import InteractiveBrokersClient

    _Base = InteractiveBrokersClient
else:
    _Base = object


@dataclass(frozen=True)
class ReconnectPolicy:
    """How the client (re)connects.

    After the n-th failed attempt in a row it waits ``first_delay * factor**(n-1)``
    seconds, at most ``max_delay``; after a lost connection it waits ``first_delay``.
    ``max_attempts`` failed attempts in a row end the client (``None``: never give up;
    the environment variable ``IB_MAX_CONNECTION_ATTEMPTS`` sets it, as for
    NautilusTrader's adapter). One attempt (socket, handshake, API start) may take at
    most ``attempt_timeout`` seconds.
    """

    first_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 30.0
    max_attempts: int | None = None
    attempt_timeout: float = 15.0

    @classmethod
    def from_env(cls) -> ReconnectPolicy:
        attempts = int(os.getenv("IB_MAX_CONNECTION_ATTEMPTS", "0") or 0)
        return cls(max_attempts=attempts or None)

    def delay(self, failures: int) -> float:
        return min(self.first_delay * self.factor ** max(failures - 1, 0), self.max_delay)


@dataclass(frozen=True)
class FarmStatus:
    kind: str  # "market data", "historical data" or "security definition"
    ok: bool
    code: int
    message: str


class InteractiveBrokersClientConnectionMixin(_Base):
    def _init_connection(self, policy: ReconnectPolicy | None) -> None:
        self.reconnect_policy = policy or ReconnectPolicy.from_env()
        self.farm_status: dict[str, FarmStatus] = {}  # by farm name, e.g. "usfarm"
        self._transport: asyncio.Transport | None = None
        self._throttle: MessageThrottle | None = None
        self._connection_gen = 0
        self._server_info: asyncio.Future | None = None
        self._bootstrap: asyncio.Future | None = None
        self._bootstrap_seen: set[str] = set()
        self._api_ready = False  # socket up, handshake done, accounts and order id received
        self._is_ib_connected = asyncio.Event()  # api ready and TWS connected to IB
        self._is_client_ready = asyncio.Event()
        self._connection_lost = asyncio.Event()
        self._supervisor: asyncio.Task | None = None
        self._stopping = False
        self._last_error: BaseException | None = None
        self._connection_attempts = 0
        self._last_disconnection_ns: int | None = None

    # -- lifecycle (the client's Component hooks call these) --------------------------------------------------------------------

    def _start_connection(self) -> None:
        self._stopping = False
        if self._supervisor is None or self._supervisor.done():
            self._supervisor = self._loop.create_task(
                self._run_connection(),
                name=f"IB connection {self._host}:{self._port} client {self._client_id}",
            )

    def _stop_connection(self) -> None:
        """Close everything now; nothing here waits on the network."""
        self._log.info(f"Stopping InteractiveBrokersClient ({self._client_id})")
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
        for task in list(self._tasks):
            task.cancel()
        self._close_transport()
        self._mark_disconnected(IBConnectionError("The client was stopped"))
        self._account_ids = set()
        self.registered_nautilus_clients = set()

    def _reset_connection(self) -> None:
        self._subscriptions = type(self._subscriptions)()
        self._requests = type(self._requests)()
        self.farm_status.clear()
        self._last_error = None
        self._init_orders()

    async def wait_until_ready(self, timeout: float = 300) -> None:
        """Return once the client can make requests; raise ``TimeoutError`` if it cannot
        within ``timeout`` seconds, ``IBConnectionError`` if it gave up connecting."""
        if self._is_client_ready.is_set():
            return
        ready = asyncio.ensure_future(self._is_client_ready.wait())
        waiting = {ready}
        if self._supervisor is not None:
            waiting.add(self._supervisor)
        try:
            done, _ = await asyncio.wait(waiting, timeout=timeout, return_when="FIRST_COMPLETED")
        finally:
            ready.cancel()
        if ready in done:
            return
        if self._supervisor is not None and self._supervisor in done:
            if self._stopping:
                raise IBConnectionError("The client was stopped")
            raise IBConnectionError(f"The client gave up connecting: {self._last_error}")
        raise TimeoutError(
            f"Not connected to {self._host}:{self._port} within {timeout}s"
            + (f" (last error: {self._last_error})" if self._last_error else ""),
        )

    async def wait_until_stopped(self, timeout: float = 5.0) -> None:
        """After ``stop()``: wait (bounded) until the client's tasks have ended."""
        tasks = [t for t in (self._supervisor, *self._tasks) if t is not None]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    @property
    def is_ib_connected(self) -> bool:
        """Connected to TWS, and TWS to IB."""
        return self._is_ib_connected.is_set()

    # -- the supervisor ---------------------------------------------------------------------------

    async def _run_connection(self) -> None:
        policy = self.reconnect_policy
        failures = 0
        while not self._stopping:
            self._connection_attempts += 1
            try:
                await self._connect_once()
            except Exception as e:
                if not isinstance(e, OSError | TimeoutError | IBConnectionError):
                    self._log.exception("Unexpected error while connecting", e)
                failures += 1
                self._last_error = e
                if policy.max_attempts is not None and failures >= policy.max_attempts:
                    self._log.error(
                        f"Giving up connecting to {self._host}:{self._port} after "
                        f"{failures} attempts: {e!r}",
                    )
                    return
                delay = policy.delay(failures)
                level = self._log.error if isinstance(e, IBClientIdInUse) else self._log.warning
                level(f"Connection attempt {failures} failed: {e!r}; retrying in {delay:.2f}s")
                await asyncio.sleep(delay)
                continue
            failures = 0
            self._last_error = None
            self._on_connected()
            await self._connection_lost.wait()
            if self._stopping:
                return
            await asyncio.sleep(policy.first_delay)

    async def _connect_once(self) -> None:
        loop = asyncio.get_running_loop()
        self._connection_lost.clear()
        self._connection_gen += 1
        gen = self._connection_gen
        self._server_info = loop.create_future()
        self._bootstrap = loop.create_future()
        self._bootstrap_seen = set()
        self._log.info(
            f"Connecting to {self._host}:{self._port} with client id {self._client_id}",
        )
        try:
            async with asyncio.timeout(self.reconnect_policy.attempt_timeout):
                transport, _ = await loop.create_connection(
                    lambda: IBProtocol(
                        self._process_message,
                        functools.partial(self._on_transport_lost, gen),
                    ),
                    self._host,
                    self._port,
                )
                self._transport = transport
                transport.write(handshake_bytes(self._eclient.connectOptions or ""))
                version, conn_time = await self._server_info
                self._start_api(transport, version, conn_time)
                await self._bootstrap
        except BaseException:
            self._close_transport()
            self._mark_disconnected(IBConnectionError("Connection attempt failed"))
            raise
        finally:
            self._server_info = self._bootstrap = None
        self._log.info(
            f"Connected to {self._host}:{self._port} (server v{version}, {conn_time}) "
            f"with client id {self._client_id}",
        )

    def _on_server_version(self, fields: tuple[bytes, ...]) -> None:
        """The handshake reply: (server version, connection time)."""
        if len(fields) != 2 or self._server_info is None or self._server_info.done():
            self._log.debug(f"Ignored before handshake: {fields!r}")
            return
        try:
            version = int(fields[0])
        except ValueError:
            self._server_info.set_exception(IBConnectionError(f"Bad handshake reply {fields!r}"))
            return
        self._server_info.set_result((version, fields[1].decode(errors="replace")))

    def _start_api(self, transport: asyncio.Transport, version: int, conn_time: str) -> None:
        eclient = self._eclient
        options = eclient.connectOptions
        eclient.reset()
        eclient.connectOptions = options
        eclient.host, eclient.port, eclient.clientId = self._host, self._port, self._client_id
        eclient.conn = EClientConnection(transport, self._host, self._port)
        eclient.serverVersion_ = version
        eclient.connTime = conn_time
        eclient.decoder = Decoder(eclient.wrapper, version)
        eclient.setConnState(EClient.CONNECTED)
        self._throttle = MessageThrottle(_writer(transport), self._loop)
        eclient.startApi()

    def _bootstrap_progress(self, what: str) -> None:
        """managedAccounts and nextValidId, both sent after startApi, complete a connect."""
        self._bootstrap_seen.add(what)
        complete = {"accounts", "order id"} <= self._bootstrap_seen
        if complete and self._bootstrap is not None and not self._bootstrap.done():
            self._bootstrap.set_result(None)

    def _on_connected(self) -> None:
        self._api_ready = True
        self._is_ib_connected.set()
        self._is_client_ready.set()
        if self.is_degraded:
            self.resume()
        self._resend_subscriptions()

    def _resend_subscriptions(self) -> None:
        """A new connection (or 1101): TWS knows none of our streams, send them all."""
        if self._market_data_type is not None:
            self._eclient.reqMarketDataType(self._market_data_type)
        subscriptions = list(self._subscriptions)
        if subscriptions:
            self._log.info(f"Subscribing {len(subscriptions)} subscriptions again")
        for subscription in subscriptions:
            self._send_subscription(subscription)

    # -- losing the connection ------------------------------------------------------------------

    def _on_transport_lost(self, gen: int, exc: BaseException | None) -> None:
        if gen != self._connection_gen or self._transport is None:
            return  # an old connection, or one we closed ourselves
        self._transport = None
        reason = f"Connection to {self._host}:{self._port} lost" + (f": {exc!r}" if exc else "")
        error = IBConnectionError(reason)
        was_ready = self._api_ready
        self._mark_disconnected(error)
        if was_ready:
            self._log.error(reason)
            self._last_disconnection_ns = self._clock.timestamp_ns()
            if self.is_running:
                self.degrade()
            self._connection_lost.set()

    def _mark_disconnected(self, error: IBConnectionError) -> None:
        """Socket gone: every request in flight fails with ``error``."""
        self._api_ready = False
        self._is_ib_connected.clear()
        self._is_client_ready.clear()
        self._eclient.setConnState(EClient.DISCONNECTED)
        self._eclient.decoder = None
        if self._throttle is not None:
            self._throttle.clear()
            self._throttle = None
        for waiter in (self._server_info, self._bootstrap):
            if waiter is not None and not waiter.done():
                waiter.set_exception(error)
                waiter.exception()  # whoever awaits it still gets it; no "never retrieved"
        self._requests.fail_all(error)

    def _close_transport(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.abort()
        self._connection_lost.set()

    # -- TWS's notices about connectivity -------------------------------------------------------

    def _on_connectivity(self, error: IBError) -> None:
        code = error.code
        if code == CLIENT_ID_IN_USE:
            if self._bootstrap is not None and not self._bootstrap.done():
                self._bootstrap.set_exception(
                    IBClientIdInUse(f"Client id {self._client_id} is in use: {error.message}"),
                )
        elif code == CONNECTIVITY_LOST:
            self._is_ib_connected.clear()
            self._is_client_ready.clear()
            if self.is_running:
                self.degrade()
        elif code in (CONNECTIVITY_RESTORED_DATA_LOST, CONNECTIVITY_RESTORED_DATA_KEPT):
            if self._api_ready:
                self._is_ib_connected.set()
                self._is_client_ready.set()
                if self.is_degraded:
                    self.resume()
            if code == CONNECTIVITY_RESTORED_DATA_LOST:
                self._resend_subscriptions()

    def _on_farm_status(self, error: IBError) -> None:
        kind, ok = FARM_CODES[error.code]
        self.farm_status[_farm_name(error.message, kind)] = FarmStatus(
            kind,
            ok,
            error.code,
            error.message,
        )

    # -- small requests ---------------------------------------------------------------------------

    async def get_server_time(self, timeout: float = 5.0) -> int:
        """TWS's clock, in epoch seconds (``reqCurrentTime``)."""
        return await self._request(
            ("current time",),
            lambda req_id: self._eclient.reqCurrentTime(),
            timeout=timeout,
        )

    def _on_currentTime(self, time: int) -> None:
        if (request := self._requests.by_key(("current time",))) is not None:
            self._requests.finish(request.req_id, time)

    def _on_connectAck(self) -> None:
        pass  # ibapi's asynchronous-connect acknowledgement; our connect is already async


def _farm_name(message: str, default: str) -> str:
    """The farm a notice is about: "...is OK:usfarm.nj", "...available upon demand.ushmds"."""
    for separator in (":", "demand."):
        if separator in message:
            return message.rsplit(separator, 1)[-1].strip() or default
    return default


def _writer(transport: asyncio.Transport) -> Any:
    def write(data: bytes) -> None:
        if not transport.is_closing():
            transport.write(data)

    return write
