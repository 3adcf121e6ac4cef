"""Running NautilusTrader's own IB adapter against fake-tws, from a test.

The server runs here, in the test's process (a `ServerThread` on a `VirtualClock` the
test moves); NautilusTrader runs in a child process (`child.py`, which says why) that
the test steers and can always kill:

    with Gateway.start(WORLD) as gw, NautilusProcess.node(gw.port, tmp_path, ...) as nt:
        nt.expect("running")
        nt.send("submit", instrument="AAPL.NASDAQ", side="BUY", type="MARKET", quantity=100)
        fill = nt.expect("order", lambda e: e["type"] == "OrderFilled")
        gw.advance(10)

Every wait is bounded, and every process is killed at the latest `lifetime` + a few
seconds after it started, so a stuck node cannot hang the suite.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from fake_tws.broker import WorldConfig
from fake_tws.broker.world import World
from fake_tws.clock import VirtualClock
from fake_tws.server import ServerThread

REPO = Path(__file__).resolve().parents[3]
ACCOUNT = "DU123456"
# How long a child may take to stop after being told, before it is killed.
STOP_TIMEOUT = 15.0
# The child kills itself this long after its lifetime; the parent kills it a little later.
KILL_GRACE = 12.0

Event = dict[str, Any]


@dataclass
class Gateway:
    """A fake-tws ServerThread on a virtual clock, and a hand on its world."""

    thread: ServerThread
    clock: VirtualClock

    @classmethod
    @contextlib.contextmanager
    def start(cls, world: WorldConfig, start: datetime | None = None) -> Iterator[Gateway]:
        # NautilusTrader keeps wall time (it drops bars older than its subscription and
        # refuses requests ending in the future), so the server's time starts at the wall's
        # and only moves ahead of it when the test says so.
        clock = VirtualClock(start or datetime.now(UTC).replace(microsecond=0))
        accounts = tuple(a.account_id for a in world.accounts)
        with ServerThread(clock=clock, accounts=accounts, world=world) as thread:
            yield cls(thread, clock)

    @property
    def port(self) -> int:
        return self.thread.port

    @property
    def world(self) -> World:
        return self.thread.server.gateway.world

    @property
    def journal(self) -> Any:
        """Every message in and out (thread-safe to read)."""
        return self.thread.server.gateway.journal

    def subscribed(self, client_id: int, quotes: int = 0, bars: int = 0) -> bool:
        """Whether the server has `quotes` market data lines and `bars` keepUpToDate bar
        requests of the client, each bar request answered with its first batch."""
        journal = self.journal
        lines = journal.requests("reqMktData", client_id=client_id)
        live = [
            r for r in journal.requests("reqHistoricalData", client_id=client_id) if r.keepUpToDate
        ]
        answered = {m.reqId for m in journal.responses("historicalData", client_id=client_id)}
        return len(lines) >= quotes and len(live) >= bars and all(r.reqId in answered for r in live)

    def first_trade(self, con_id: int, start: float) -> int:
        """When the world's first print at or after `start` (epoch seconds) happens: a
        minute has no bar before its first trade."""
        for minute in range(10):
            a = start + 60 * minute
            prints = self.call(self.world.market.prints, con_id, a, a + 60)
            if prints:
                return prints[0].time
        raise AssertionError(f"no trade of {con_id} in ten minutes after {start}")

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call into the server's state from its own thread."""
        return self.thread.run_sync(fn, *args)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def now(self) -> datetime:
        return self.clock.now()

    def client_ids(self) -> frozenset[int]:
        return self.call(lambda: self.thread.server.gateway.client_ids)

    def session_of(self, client_id: int) -> Any:
        return self.call(lambda: self.thread.server.gateway.session_for(client_id))

    def disconnect(self, client_id: int, mode: str = "close") -> None:
        """Drop a client's connection from the server's side."""

        def drop() -> None:
            session = self.thread.server.gateway.session_for(client_id)
            assert session is not None, f"client {client_id} is not connected"
            session.disconnect(mode, "conformance test: server-side disconnect")

        self.call(drop)


class ChildFailed(AssertionError):
    pass


class NautilusProcess:
    """One NautilusTrader child process: its events as they arrive, commands to it."""

    def __init__(self, spec: dict[str, Any], workdir: Path, lifetime: float) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / f"nautilus-{spec['mode']}.log"
        self.events: list[Event] = []
        self.started = time.monotonic()
        self._changed = threading.Condition()
        self._ended = False
        spec = {**spec, "log": str(self.log_path), "lifetime": lifetime}
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "tests.conformance.nautilus.child", json.dumps(spec)],
                cwd=REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                encoding="utf-8",
            )
        self._reader = threading.Thread(target=self._read, name="nautilus-events", daemon=True)
        self._reader.start()
        self._killer = threading.Timer(lifetime + KILL_GRACE, self._proc.kill)
        self._killer.daemon = True
        self._killer.start()

    # -- the two modes ---------------------------------------------------------------------

    @classmethod
    def historic(
        cls,
        port: int,
        workdir: Path,
        steps: list[dict[str, Any]],
        *,
        client_id: int = 5,
        lifetime: float = 25.0,
    ) -> NautilusProcess:
        spec = {
            "mode": "historic",
            "port": port,
            "client_id": client_id,
            "catalog": str(workdir / "catalog"),
            "steps": steps,
        }
        return cls(spec, workdir, lifetime)

    @classmethod
    def node(
        cls,
        port: int,
        workdir: Path,
        *,
        client_id: int = 1,
        account: str = ACCOUNT,
        lifetime: float = 30.0,
        **options: Any,
    ) -> NautilusProcess:
        """A TradingNode; options: provider (InteractiveBrokersInstrumentProviderConfig
        fields, contracts as dicts), handle_revised_bars, quotes (instrument ids), bars
        (bar types), request_bars ([{"bar_type", "seconds"}]), connect_timeout."""
        spec = {"mode": "node", "port": port, "client_id": client_id, "account": account}
        spec["barrier_instrument"] = options.pop("barrier_instrument", "AAPL.NASDAQ")
        return cls(spec | options, workdir, lifetime)

    # -- events ------------------------------------------------------------------------------

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = {"event": "garbage", "line": line}
            with self._changed:
                event["t"] = round(time.monotonic() - self.started, 3)
                self.events.append(event)
                self._changed.notify_all()
        with self._changed:
            self._ended = True
            self._changed.notify_all()

    def mark(self) -> int:
        """A position in the events: `expect(..., after=mark)` looks only past it."""
        with self._changed:
            return len(self.events)

    def of(self, kind: str, where: Callable[[Event], bool] | None = None) -> list[Event]:
        with self._changed:
            return [e for e in self.events if e["event"] == kind and (where is None or where(e))]

    def expect(
        self,
        kind: str,
        where: Callable[[Event], bool] | None = None,
        *,
        timeout: float = 10.0,
        after: int = 0,
    ) -> Event:
        """The first `kind` event (from index `after`) that `where` accepts; waits for it
        at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        seen = after
        with self._changed:
            while True:
                for event in self.events[seen:]:
                    if event["event"] == kind and (where is None or where(event)):
                        return event
                    if event["event"] == "error" and "command" not in event:
                        raise ChildFailed(self._report(f"NautilusTrader failed: {event['error']}"))
                seen = len(self.events)
                remaining = deadline - time.monotonic()
                if self._ended:
                    raise ChildFailed(self._report(f"the process ended before {kind!r}"))
                if remaining <= 0:
                    raise ChildFailed(self._report(f"no {kind!r} event within {timeout}s"))
                self._changed.wait(remaining)

    def send(self, cmd: str, **fields: Any) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.write(json.dumps({"cmd": cmd, **fields}) + "\n")
        self._proc.stdin.flush()

    def snapshot(self, timeout: float = 5.0) -> Event:
        """What the node's cache holds now (instruments, account, positions, orders)."""
        tag = f"snap-{self.mark()}"
        self.send("snapshot", tag=tag)
        return self.expect("snapshot", lambda e: e["tag"] == tag, timeout=timeout)

    def barrier(self, timeout: float = 10.0) -> None:
        """Wait until the node has handled every message the server sent it so far: a
        request_bars round trip (their client handles Gateway messages in order)."""
        tag = f"barrier-{self.mark()}"
        self.send("barrier", tag=tag)
        self.expect("request_done", lambda e: e["tag"] == tag, timeout=timeout)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _report(self, headline: str) -> str:
        recent = [
            {k: v for k, v in e.items() if k != "trace"}
            for e in self.events[-12:]
            if e["event"] != "quote"
        ]
        traces = [e["trace"] for e in self.events if "trace" in e][-2:]
        return "\n".join(
            [
                headline,
                f"recent events: {json.dumps(recent, default=str)[:3000]}",
                *traces,
                f"--- log tail ({self.log_path}) ---",
                self.log_tail(),
            ]
        )

    # -- ending -----------------------------------------------------------------------------

    def close(self, timeout: float = STOP_TIMEOUT) -> None:
        """Ask the child to stop; kill it if it has not ended within `timeout`."""
        if self._proc.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                self.send("stop")
                assert self._proc.stdin is not None
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._killer.cancel()
        self._reader.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> NautilusProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode


def stock(symbol: str, primary: str) -> dict[str, Any]:
    return {
        "secType": "STK",
        "symbol": symbol,
        "exchange": "SMART",
        "primaryExchange": primary,
        "currency": "USD",
    }


class Phases:
    """A scripted session in named phases. Each phase keeps its facts, or the error that
    stopped it, so that one test per checklist item can report on its own phase while the
    session itself runs once:

        with phases.phase("quotes") as facts:
            facts["last"] = nt.expect("quote")
        ...
        def test_quotes(session):
            facts = session.phases["quotes"]   # fails with the phase's error, if any
    """

    def __init__(self) -> None:
        self.facts: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, str] = {}

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[dict[str, Any]]:
        facts = self.facts.setdefault(name, {})
        try:
            yield facts
        except Exception:
            self.errors[name] = traceback.format_exc()

    def __getitem__(self, name: str) -> dict[str, Any]:
        if name in self.errors:
            pytest.fail(f"the session's {name!r} phase failed:\n{self.errors[name]}", pytrace=False)
        return self.facts[name]


def wait_until(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll `condition` (every 20 ms, at most `timeout` seconds) until it is truthy."""
    deadline = time.monotonic() + timeout
    pause = threading.Event()
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        pause.wait(0.02)
    return result
