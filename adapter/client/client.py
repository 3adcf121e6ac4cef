"""``InteractiveBrokersClient``: one TWS API connection, shared by the data and execution
clients, the instrument provider and the historical client.

Incoming messages take one path, all on the event loop's thread::

    socket -> IBProtocol (frames) -> _process_message -> ibapi Decoder
           -> ClientWrapper -> _on_callback -> _on_<ibapi callback name> (a mixin)

so ``_process_message`` is where to start when troubleshooting: ``set_message_trace()``
(or ``IB_TRACE_MESSAGES=1``) logs every message in and every request out, at run time.

Outgoing requests are ibapi ``EClient`` calls; its ``sendMsg`` is replaced so every
message passes the ``MessageThrottle`` (50 per second).

Awaitable requests (``get_contract_details`` ...) are matched to their answers by
request id; an IB error for that id raises ``IBRequestError`` (code and text) from the
await, a lost connection ``IBConnectionError``, no answer in time ``IBRequestTimeout``.
Subscriptions hand their stream to a handler and are sent again after a reconnect.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

from ibapi import comm
from ibapi.client import EClient
from ibapi.message import IN
from nautilus_trader.cache.cache import Cache
from nautilus_trader.common.component import Component, LiveClock, MessageBus
from nautilus_trader.model.identifiers import ClientId

from adapter.client.account import InteractiveBrokersClientAccountMixin
from adapter.client.codes import IBConnectionError, IBRequestTimeout
from adapter.client.connection import InteractiveBrokersClientConnectionMixin, ReconnectPolicy
from adapter.client.contract import InteractiveBrokersClientContractMixin
from adapter.client.error import InteractiveBrokersClientErrorMixin
from adapter.client.market_data import InteractiveBrokersClientMarketDataMixin
from adapter.client.order import InteractiveBrokersClientOrderMixin
from adapter.client.requests import Request, Requests, Send, Subscription, Subscriptions
from adapter.client.wrapper import ClientWrapper
from adapter.common import IB_VENUE

FIRST_REQUEST_ID = 10_000
_MESSAGE_NAMES: dict[int, str] = {
    value: name for name, value in vars(IN).items() if not name.startswith("_")
}


class InteractiveBrokersClient(
    Component,
    InteractiveBrokersClientConnectionMixin,
    InteractiveBrokersClientAccountMixin,
    InteractiveBrokersClientMarketDataMixin,
    InteractiveBrokersClientOrderMixin,
    InteractiveBrokersClientContractMixin,
    InteractiveBrokersClientErrorMixin,
):
    """A component owning one connection to TWS or IB Gateway.

    ``start()`` connects (and keeps reconnecting with backoff, see ``ReconnectPolicy``);
    ``await wait_until_ready()`` returns once the API is up. ``stop()`` closes the
    connection and ends every task the client started, at once.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        msgbus: MessageBus,
        cache: Cache,
        clock: LiveClock,
        host: str = "127.0.0.1",
        port: int = 7497,
        client_id: int = 1,
        fetch_all_open_orders: bool = False,
        *,
        reconnect: ReconnectPolicy | None = None,
    ) -> None:
        super().__init__(
            clock=clock,
            component_id=ClientId(f"{IB_VENUE.value}-{client_id:03d}"),
            component_name=f"{type(self).__name__}-{client_id:03d}",
            msgbus=msgbus,
        )
        self._loop = loop
        self._cache = cache
        self._host = host
        self._port = port
        self._client_id = client_id
        self._fetch_all_open_orders = fetch_all_open_orders

        self._eclient = EClient(wrapper=ClientWrapper(self))
        self._eclient.sendMsg = self._send_message  # every request passes the throttle
        self._eclient.logRequest = self._log_request

        # What the data and execution clients use
        self.registered_nautilus_clients: set = set()
        self._event_subscriptions: dict[str, Callable[..., Any]] = {}
        self._instrument_provider: Any = None  # set by the data/execution clients

        self._requests = Requests()
        self._subscriptions = Subscriptions()
        self._request_id_seq = FIRST_REQUEST_ID
        self._tasks: set[asyncio.Task] = set()
        self._trace: Callable[[str], None] | None = None
        if os.getenv("IB_TRACE_MESSAGES", "").lower() in ("1", "true", "yes"):
            self.set_message_trace(True)

        self._init_connection(reconnect)
        self._init_account()
        self._init_market_data()
        self._init_orders()
        self._init_contracts()

    # -- Component hooks (defined here: Component's own come first in the MRO) --------------

    def _start(self) -> None:
        self._start_connection()

    def _stop(self) -> None:
        self._stop_connection()

    def _reset(self) -> None:
        self._reset_connection()

    def _dispose(self) -> None:
        if not self._stopping:
            self._stop_connection()

    def _degrade(self) -> None:
        self._log.warning("Degraded: the connection to IB is down")

    def _resume(self) -> None:
        self._log.info("Resumed: the connection to IB is back")

    # -- incoming messages ------------------------------------------------------------------

    def _process_message(self, frame: bytes) -> None:
        """Every message from TWS passes here, in order, on the event loop's thread."""
        fields = comm.read_fields(frame)
        if self._trace is not None:
            self._trace(
                f"<- {_message_name(fields)} {[f.decode(errors='replace') for f in fields]}"
            )
        if self._eclient.decoder is None:  # the handshake reply comes before any decoder
            self._on_server_version(fields)
            return
        try:
            self._eclient.decoder.interpret(fields)
        except Exception as e:
            self._log.exception(f"Failed to process {_message_name(fields)} {fields!r}", e)

    def _on_callback(self, name: str, args: tuple[Any, ...]) -> None:
        """The decoder's call of EWrapper ``name``, routed to ``_on_<name>``."""
        if self._trace is not None:
            self._trace(f"   {name}{args!r}")
        handler = getattr(self, f"_on_{name}", None)
        if handler is None:
            self._log.debug(f"Unhandled TWS callback {name}{args!r}")
            return
        handler(*args)

    def set_message_trace(
        self,
        enabled: bool = True,
        sink: Callable[[str], None] | None = None,
    ) -> None:
        """Log every message in (raw fields, then the decoded callback) and every request
        out, from now on; ``sink`` receives the lines (default: this client's log)."""
        self._trace = (sink or self._log.info) if enabled else None

    @property
    def is_message_trace_enabled(self) -> bool:
        return self._trace is not None

    # -- outgoing messages ------------------------------------------------------------------

    def _send_message(self, msg: str | bytes) -> None:
        """EClient's ``sendMsg``: frame the message and queue it in the throttle."""
        if self._throttle is None:
            self._log.warning("Request dropped: not connected")
            return
        self._throttle.send(comm.make_msg(msg))

    def _log_request(self, fn_name: str, fn_params: dict[str, Any]) -> None:
        """EClient's ``logRequest``: called with each request's name and arguments."""
        if self._trace is not None:
            params = {k: v for k, v in fn_params.items() if k != "self"}
            self._trace(f"-> {fn_name} {params}")

    # -- requests and subscriptions -----------------------------------------------------------

    def _next_req_id(self) -> int:
        """A request id used by no request, subscription or known order."""
        req_id = self._request_id_seq
        while req_id in self._requests or req_id in self._subscriptions or req_id in self._orders:
            req_id += 1
        self._request_id_seq = req_id + 1
        return req_id

    async def _request(
        self,
        key: Hashable,
        send: Callable[[int], None],
        *,
        timeout: float,
        cancel: Callable[[int], None] | None = None,
        pace: Callable[[], Awaitable[None]] | None = None,
    ) -> Any:
        """Send a request and await its answer.

        ``send(req_id)`` makes the EClient call; the ``_on_*`` callbacks collect results
        and end the request. A request for a ``key`` already in flight is not sent again:
        the caller shares its answer. ``pace`` waits for the pacer before sending.
        ``cancel(req_id)`` tells IB to stop when the request times out or is abandoned.
        """
        while True:
            if (existing := self._requests.by_key(key)) is not None:
                return await self._await_request(existing, timeout)
            self._require_connected()
            if pace is None:
                break
            await pace()
            pace = None  # the wait may have let an identical request in: look again
        request = Request(self._next_req_id(), key, self._loop.create_future(), cancel)
        self._requests.add(request)
        try:
            send(request.req_id)
        except BaseException:
            self._requests.remove(request)
            raise
        return await self._await_request(request, timeout)

    async def _await_request(self, request: Request, timeout: float) -> Any:
        request.waiters += 1
        try:
            return await asyncio.wait_for(asyncio.shield(request.future), timeout)
        except TimeoutError:
            raise IBRequestTimeout(
                f"No answer to {request.key!r} (req {request.req_id}) within {timeout}s",
            ) from None
        finally:
            request.waiters -= 1
            if request.waiters == 0 and not request.future.done():
                self._abandon(request)

    def _abandon(self, request: Request) -> None:
        """Forget a request nobody waits for any more, and tell IB to stop it."""
        self._requests.remove(request)
        request.future.cancel()
        if request.cancel is not None and self._eclient.isConnected():
            self._log.debug(f"Cancelling abandoned {request}")
            request.cancel(request.req_id)

    def _subscribe(
        self,
        key: Hashable,
        send: Send,
        cancel: Callable[[int], None],
        handler: Callable[[Any], None],
        on_error: Callable[[Any], None] | None = None,
    ) -> Subscription:
        """Register a stream and send its request now (or on connecting). Subscribing to
        a key that is already live returns the existing subscription."""
        if (existing := self._subscriptions.by_key(key)) is not None:
            self._log.debug(f"Reusing {existing}")
            return existing
        subscription = Subscription(self._next_req_id(), key, send, cancel, handler, on_error)
        self._subscriptions.add(subscription)
        if self._api_ready:
            self._send_subscription(subscription)
        return subscription

    def _send_subscription(self, subscription: Subscription) -> None:
        result = subscription.subscribe(subscription.req_id)
        if inspect.isawaitable(result):
            self._spawn(result, f"subscribe {subscription.key!r}")

    def _unsubscribe(self, key: Hashable) -> Subscription | None:
        if (subscription := self._subscriptions.by_key(key)) is None:
            self._log.debug(f"No subscription for {key!r}")
            return None
        self._subscriptions.remove(subscription)
        if self._eclient.isConnected():
            subscription.cancel(subscription.req_id)
        return subscription

    def _deliver(self, req_id: int, event: Any) -> None:
        """A streamed message: to its subscription's handler, or into its request."""
        if (subscription := self._subscriptions.get(req_id)) is not None:
            subscription.handler(event)
        elif (request := self._requests.get(req_id)) is not None:
            request.results.append(event)
        else:
            self._log.debug(f"Dropped {type(event).__name__} for unknown req {req_id}")

    def _require_connected(self) -> None:
        if not self._api_ready:
            raise IBConnectionError(
                f"Not connected to TWS/Gateway at {self._host}:{self._port} "
                f"(client id {self._client_id})",
            )

    def _spawn(self, coro: Coroutine[Any, Any, Any] | Awaitable[Any], name: str) -> asyncio.Task:
        """A background task owned by the client: logged if it fails, cancelled on stop."""
        task = asyncio.ensure_future(coro, loop=self._loop)
        task.set_name(name)
        self._tasks.add(task)
        task.add_done_callback(self._on_task_done)
        return task

    def _on_task_done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            self._log.error(f"Task {task.get_name()!r} failed: {error!r}")

    # -- events for the data and execution clients ------------------------------------------------

    def subscribe_event(self, name: str, handler: Callable[..., Any]) -> None:
        """Call ``handler`` for the named event: ``accountSummary-{account}``,
        ``openOrder-{account}``, ``orderStatus-{account}``, ``execDetails-{account}``,
        ``positionUpdate-{account}``, ``orderError-{account}``."""
        self._event_subscriptions[name] = handler

    def unsubscribe_event(self, name: str) -> None:
        self._event_subscriptions.pop(name, None)

    def _emit(self, name: str, *args: Any, **kwargs: Any) -> bool:
        if (handler := self._event_subscriptions.get(name)) is None:
            return False
        handler(*args, **kwargs)
        return True


def _message_name(fields: tuple[bytes, ...]) -> str:
    try:
        return _MESSAGE_NAMES.get(int(fields[0]), f"message {fields[0]!r}")
    except (IndexError, ValueError):
        return "handshake"
