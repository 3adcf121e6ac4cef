"""`FakeTws`: a running fake gateway in a background thread, with the test-facing API the
pytest fixtures hand out (see fake_tws.pytest_plugin). Usable without pytest too:

    with FakeTws.start(accounts=("DU1",)) as tws:
        ...  # connect clients to tws.port; tws.advance(60); tws.journal.assert_received(...)
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import outcome
import sniffio
import trio

from fake_tws.clock import Clock
from fake_tws.config import ServerConfig
from fake_tws.journal import Direction, Entry, Expect, Journal
from fake_tws.scenario import Scenario
from fake_tws.server import Server, ServerThread
from fake_tws.session import NO_REQUEST_ID, Gateway, Handlers

from . import actions, settings
from .actions import TERMINAL_STATUSES

__all__ = ["TERMINAL_STATUSES", "FakeTws", "LeftBehind"]

CALL_TIMEOUT = 10.0  # seconds a call into the server's thread may take


class LeftBehind(AssertionError):
    """A stopped server left a thread, a connection or a listening port behind."""


class FakeTws:
    """A running fake gateway, as the `fake_tws` fixtures hand it to a test.

    Connect clients to `host`/`port`. `journal` records every message; `clock` is the
    server's clock (a `VirtualClock` unless the test asked for real time); `gateway` is
    the state the sessions share, and `world` the broker world once the gateway has one.
    The fault actions (`send_error`, `farm_status`, `disconnect`) run in the server's
    thread and are safe to call from any test: sync, asyncio or trio.

    Outside pytest: `with FakeTws.start(accounts=("DU1",)) as tws: ...`.
    """

    def __init__(self, thread: ServerThread, scenario: Scenario | None = None) -> None:
        self._thread = thread
        self.server: Server = thread.server
        self.scenario = scenario
        self.closed = False
        self._token: trio.lowlevel.TrioToken = thread.run_sync(trio.lowlevel.current_trio_token)
        self._server_thread: threading.Thread = thread.run_sync(threading.current_thread)

    @classmethod
    def start(
        cls,
        *,
        scenario: Scenario | None = None,
        handlers: Handlers | None = None,
        defaults: Mapping[str, Any] | None = None,
        **options: Any,
    ) -> FakeTws:
        """Start a server in a background thread. Settings come from `defaults`, then the
        scenario's world, then `options` (see fake_tws.control.settings); the clock is
        virtual unless `clock="real"` (or the scenario's world says "realtime").

        With a scenario, the server runs its rules; the Scenario is `self.scenario`."""
        config = settings.build_config(dict(defaults or {}), options, scenario=scenario)
        thread = ServerThread(config, handlers=handlers, scenario=scenario)
        return cls(thread.start(), scenario)

    def __enter__(self) -> FakeTws:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "running"
        return f"<FakeTws {self.host}:{self.port} {state}>"

    # -- what it is --------------------------------------------------------------------

    @property
    def host(self) -> str:
        return self.config.host

    @property
    def port(self) -> int:
        return self._thread.port

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    @property
    def config(self) -> ServerConfig:
        return self.server.config

    @property
    def gateway(self) -> Gateway:
        return self.server.gateway

    @property
    def clock(self) -> Clock:
        return self.server.gateway.clock

    @property
    def journal(self) -> Journal:
        return self.server.gateway.journal

    @property
    def world(self) -> Any:
        """The simulated broker world (`gateway.world`), or None before it is wired in."""
        return getattr(self.server.gateway, "world", None)

    @property
    def engine(self) -> Any:
        """The scenario engine running `scenario`'s rules, or None."""
        return getattr(self.server, "engine", None)

    @property
    def client_ids(self) -> frozenset[int]:
        """Client ids connected right now (past startApi)."""
        return frozenset(s.journal_id for s in self.call(actions.live_sessions, self.server))

    def clients(self) -> list[dict[str, Any]]:
        """Every open connection: clientId (None during the handshake), peer, version."""
        return self.call(actions.clients, self.server)

    def status(self) -> dict[str, Any]:
        """What GET /status of the control API says about this server."""
        return self.call(actions.status, self.server)

    # -- time --------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move the virtual clock on by `seconds`; returns the new time."""
        return actions.advance_clock(self.server, seconds)

    def set_time(self, when: datetime | str) -> datetime:
        """Jump the virtual clock to `when` (aware datetime or ISO text, not in the past)."""
        return actions.set_clock(self.server, settings.parse_time(when))

    # -- faults ------------------------------------------------------------------------

    def send_error(
        self,
        code: int,
        text: str | None = None,
        *,
        req_id: int = NO_REQUEST_ID,
        client_id: int | None = None,
    ) -> list[int]:
        """Send error/notice `code` (IB's text unless `text` is given) to one client or to
        every connected client; returns the client ids reached."""
        return self.call(
            actions.send_error, self.server, code, text, req_id=req_id, client_id=client_id
        )

    def farm_status(
        self, farm: str = "usfarm", state: str = "broken", *, client_id: int | None = None
    ) -> list[int]:
        """A data farm notice: ("usfarm", "broken") is 2103, ("ushmds", "ok") is 2106..."""
        return self.call(actions.send_farm_status, self.server, farm, state, client_id=client_id)

    def disconnect(self, client_id: int) -> None:
        """Close a client's connection from the server side, as a Gateway restart would."""
        self.call(actions.disconnect, self.server, client_id)

    # -- waiting and asserting ---------------------------------------------------------

    def wait_for(self, expect: Expect, timeout: float = 5.0) -> Entry:
        """Block until the journal has a matching message (`received(...)`/`sent(...)`
        from fake_tws.journal). For sync tests; async tests use `wait_for_async`."""
        return self.journal.wait_for(expect, timeout)

    async def wait_for_async(self, expect: Expect, timeout: float = 5.0) -> Entry:
        """`wait_for` for asyncio and trio tests: waits without blocking the event loop."""
        sleep = trio.sleep if sniffio.current_async_library() == "trio" else asyncio.sleep
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            entries = self.journal.entries
            if len(entries) < checked:  # the journal was cleared
                checked = 0
            for entry in entries[checked:]:
                if expect.matches(entry):
                    return entry
            checked = len(entries)
            if time.monotonic() >= deadline:
                raise AssertionError(
                    _with_transcript(
                        self.journal, [f"waited {timeout}s for {expect}, it did not come"], entries
                    )
                )
            await sleep(0.002)

    def assert_all_orders_terminal(self, *, client_id: int | None = None) -> dict:
        """Every order placed (a placeOrder received, or an orderStatus sent) ended in a
        terminal status: Filled, Cancelled, ApiCancelled or Inactive, judged by the last
        orderStatus each client was sent for it. Returns {(client id, order id): status};
        fails with the transcript otherwise."""
        entries = self.journal.entries
        orders: dict[tuple[int, int], Entry | None] = {}
        placed: dict[tuple[int, int], Entry] = {}
        for entry in entries:
            if client_id is not None and entry.client_id != client_id:
                continue
            if entry.direction is Direction.RECEIVED and entry.name == "placeOrder":
                key = (entry.client_id, entry.message.orderId)
                orders.setdefault(key, None)
                placed.setdefault(key, entry)
            elif entry.direction is Direction.SENT and entry.name == "orderStatus":
                orders[(entry.client_id, entry.message.orderId)] = entry
        open_orders = []
        for (client, order_id), last in sorted(orders.items()):
            if last is None:
                seq = placed[(client, order_id)].seq
                open_orders.append(
                    f"  order {order_id} (client {client}): placed (#{seq}), no orderStatus sent"
                )
            elif last.message.status not in TERMINAL_STATUSES:
                open_orders.append(
                    f"  order {order_id} (client {client}): last status "
                    f"{last.message.status} (#{last.seq})"
                )
        if open_orders:
            terminal = ", ".join(sorted(TERMINAL_STATUSES))
            lines = [
                f"{len(open_orders)} of {len(orders)} order(s) did not reach a terminal "
                f"status ({terminal}):",
                *open_orders,
            ]
            raise AssertionError(_with_transcript(self.journal, lines, entries))
        return {key: last.message.status for key, last in orders.items() if last is not None}

    def transcript(self) -> str:
        """The conversation so far, one line per message."""
        return self.journal.transcript()

    # -- plumbing ----------------------------------------------------------------------

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` in the server's trio thread and return its result
        (or raise its exception). Works from any thread, including a trio test's."""
        if self.closed:
            raise RuntimeError("this fake-tws server has stopped")
        if threading.current_thread() is self._server_thread:
            return fn(*args, **kwargs)
        done = threading.Event()
        box: list[outcome.Outcome] = []

        def run() -> None:
            box.append(outcome.capture(fn, *args, **kwargs))
            done.set()

        try:
            self._token.run_sync_soon(run)
        except trio.RunFinishedError:
            raise RuntimeError("the fake-tws server thread has ended") from None
        if not done.wait(CALL_TIMEOUT):
            raise TimeoutError(f"the fake-tws server thread did not answer in {CALL_TIMEOUT}s")
        return box[0].unwrap()

    def close(self) -> None:
        """Stop the server, then check it left nothing behind (raises LeftBehind)."""
        if self.closed:
            return
        self.closed = True
        self._thread.stop()
        problems = []
        if self._server_thread.is_alive():
            problems.append("its thread is still running")
        if self.server.sessions:
            problems.append(f"{len(self.server.sessions)} client connection(s) are still open")
        if _accepts_connections(self.host, self.port):
            problems.append(f"port {self.port} still accepts connections")
        if problems:
            raise LeftBehind(f"fake-tws on port {self.port} stopped, but " + "; ".join(problems))


def _accepts_connections(host: str, port: int) -> bool:
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _with_transcript(journal: Journal, lines: list[str], entries: list[Entry]) -> str:
    body = journal.transcript(entries) or "(no messages)"
    return "\n".join([*lines, "", f"transcript ({len(entries)} messages):", body])
