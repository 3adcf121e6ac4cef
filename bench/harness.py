"""What the end-to-end benchmarks share: sizes, a fake-tws server on a virtual clock
driven as fast as its clients read, a counting ibapi client, and latency percentiles.

Sizes: `FAKE_TWS_BENCH_QUICK=1` makes every benchmark run for a fraction of a second
(the smoke test in tests/test_bench.py); its numbers mean nothing.

Back-pressure: fake-tws queues what a session sends without ever blocking (Outbox), so
whoever moves a VirtualClock decides how fast ticks are made. `BenchServer.drive` moves
it one stream step at a time, and only while the bytes queued for clients stay under
`LOW_WATER`: the server produces as fast as it can *and* the clients can take, and no
client is ever cut off for not reading.

That is not enough for a client in the same machine: the kernel's socket buffers (up to
tens of MB on loopback) fill too, and ibapi's reader then re-slices one huge buffer, so a
server that writes whenever the socket lets it drives ibapi from ~100k down to ~10k msg/s,
erratically. When a benchmark can see what its client has consumed, both fake-tws
(`drive(consumed=...)`) and the baseline (`FrameBlaster(consumed=...)`) therefore also
keep at most `IN_FLIGHT` frames written but not yet decoded: the same, ideal, back-pressure
for both, so the baseline measures what the client can take, not how it collapses.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import trio
import trio.testing

from fake_tws.clock import VirtualClock
from fake_tws.config import ServerConfig
from fake_tws.handlers.streams import STEP
from fake_tws.server import Server

QUICK = os.environ.get("FAKE_TWS_BENCH_QUICK", "") not in ("", "0")
START = datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # a Wednesday, 11:00 New York
LOW_WATER = 256 * 1024  # queued bytes (all clients) under which the clock may move on
POLL = 0.001  # seconds between looks at the queues while they drain
IN_FLIGHT = 4000  # frames written but not yet decoded by the client, at most (about 130 KB)
# A long benchmark must not keep every message it ever sent (see Journal.limit).
JOURNAL_LIMIT = 10_000
TIMEOUT = 30.0


def scaled(normal: Any, quick: Any) -> Any:
    """`normal`, or `quick` under FAKE_TWS_BENCH_QUICK."""
    return quick if QUICK else normal


def percentile(samples: list[float], p: float) -> float:
    """The p-th percentile (0..100), nearest rank."""
    ordered = sorted(samples)
    rank = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class TrioThread:
    """A trio loop in a background thread running `main(task_status)` until `stop()`."""

    def __init__(self, main: Callable[..., Awaitable[None]], name: str = "bench-trio") -> None:
        self._main = main
        self._name = name
        self._token: trio.lowlevel.TrioToken | None = None
        self._scope: trio.CancelScope | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> TrioThread:
        self._thread.start()
        if not self._ready.wait(TIMEOUT):
            raise TimeoutError(f"{self._name} did not start")
        if self._error is not None:
            raise RuntimeError(f"{self._name} failed to start") from self._error
        return self

    def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        return trio.from_thread.run(fn, *args, trio_token=self._token)

    def stop(self) -> None:
        if self._thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):
                self.run_sync(self._scope.cancel)  # type: ignore[union-attr]
        self._thread.join(TIMEOUT)
        if self._error is not None:
            raise RuntimeError(f"{self._name} failed") from self._error

    def __enter__(self) -> TrioThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            trio.run(self._outer)
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    async def _outer(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        with trio.CancelScope() as self._scope:
            async with trio.open_nursery() as nursery:
                await nursery.start(self._main)
                self._ready.set()


class BenchServer:
    """fake-tws on a VirtualClock in a background trio thread, with a clock driver.

    `drive()` (from any thread) starts moving the clock as fast as the clients read;
    `halt()` stops it and returns how many steps it made."""

    def __init__(self, **config: Any) -> None:
        self.clock = VirtualClock(START)
        config.setdefault("journal_limit", JOURNAL_LIMIT)
        self.server = Server(ServerConfig(clock=self.clock, **config))
        self.steps = 0
        self.frames_sent = 0  # messages sessions sent (one frame each)
        self.stalled: str | None = None  # why a drive gave up
        self.server.gateway.send_filters.append(self._count)
        self._driving = False
        self._drive_done: trio.Event | None = None
        self._nursery: trio.Nursery | None = None
        self._thread = TrioThread(self._main, "fake-tws-bench")

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    @property
    def gateway(self) -> Any:
        return self.server.gateway

    def backlog(self) -> int:
        """Bytes queued for clients and not yet handed to the sockets."""
        return sum(getattr(s.link, "queued", 0) for s in self.server.sessions)

    async def _main(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await nursery.start(self.server.serve)
            task_status.started()

    def _count(self, session: Any, message: Any) -> Any:
        self.frames_sent += 1
        return message

    async def _drive(self, steps: int | None, consumed: Callable[[], int] | None) -> None:
        assert self._drive_done is not None
        sent0 = self.frames_sent
        consumed0 = consumed() if consumed is not None else 0

        def held() -> bool:
            if self.backlog() > LOW_WATER:
                return True
            if consumed is None:
                return False
            return (self.frames_sent - sent0) - (consumed() - consumed0) > IN_FLIGHT

        try:
            while self._driving and (steps is None or self.steps < steps):
                deadline = trio.current_time() + TIMEOUT
                while held():
                    if trio.current_time() > deadline:
                        self.stalled = f"clients took nothing for {TIMEOUT}s"
                        return
                    await trio.sleep(POLL)
                self.clock.advance(STEP)
                self.steps += 1
                # Let every stream woken by this step run (and the writers start)
                # before the queues are looked at again.
                await trio.testing.wait_all_tasks_blocked()
        finally:
            self._driving = False
            self._drive_done.set()

    def drive(self, steps: int | None = None, consumed: Callable[[], int] | None = None) -> None:
        """Start moving the clock (for `steps` steps, or until `halt`). With `consumed`
        (how many frames the client has decoded so far), keep at most IN_FLIGHT frames
        sent from now on and not yet decoded."""

        def start() -> None:
            assert self._nursery is not None
            self._driving = True
            self._drive_done = trio.Event()
            self._nursery.start_soon(self._drive, steps, consumed)

        self.run_sync(start)

    def wait_driven(self) -> int:
        """Block until a `drive(steps)` has made its steps; how many it made."""
        done = self._drive_done
        assert done is not None
        self._thread.run(done.wait)
        return self.steps

    def halt(self) -> int:
        def stop() -> None:
            self._driving = False

        self.run_sync(stop)
        steps = self.wait_driven()
        if self.stalled:
            raise RuntimeError(f"the clock driver stopped: {self.stalled}")
        return steps

    def drained(self) -> bool:
        """Nothing queued for any client (the writers may still hold their last chunk)."""
        return self.run_sync(self.backlog) == 0

    def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self._thread.run_sync(fn, *args)

    def start(self) -> BenchServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def peak_rss() -> int:
    """This process's peak resident set size, bytes (Linux's VmHWM; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def wait_until(predicate: Callable[[], bool], timeout: float = TIMEOUT, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        time.sleep(0.002)


def shutdown_socket(sock: socket.socket | None) -> None:
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


# --- the baseline: a server that only writes frames ---------------------------------------


class FrameBlaster:
    """The least a server can do: greet a client (version 187, managedAccounts,
    nextValidId), then write the same pre-encoded frames to it, over and over, in
    `SEND_CHUNK` pieces as fake-tws's writer does, until the client goes or `stop()`.
    The socket's own flow control is its only back-pressure, as for fake-tws."""

    VERSION = 187

    def __init__(self, frames: list[bytes], consumed: Callable[[], int] | None = None) -> None:
        from fake_tws.server import SEND_CHUNK

        self._chunks: list[tuple[bytes, int]] = []  # (bytes, how many frames)
        chunk, count = b"", 0
        for f in frames:
            if chunk and len(chunk) + len(f) > SEND_CHUNK:
                self._chunks.append((chunk, count))
                chunk, count = b"", 0
            chunk += f
            count += 1
        self._chunks.append((chunk, count))
        self._consumed = consumed
        self.port = 0
        self._thread = TrioThread(self._main, "frame-blaster")

    async def _main(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        listeners = await trio.open_tcp_listeners(0, host="127.0.0.1")
        self.port = listeners[0].socket.getsockname()[1]
        async with trio.open_nursery() as nursery:
            await nursery.start(trio.serve_listeners, self._serve, listeners)
            task_status.started()

    async def _serve(self, stream: trio.SocketStream) -> None:
        from fake_tws.protocol.codec import encode_response
        from fake_tws.protocol.framing import FrameBuffer, frame
        from fake_tws.protocol.handshake import server_hello
        from fake_tws.protocol.table import RESPONSES_BY_NAME

        buffer = FrameBuffer()
        needed = 2  # the greeting's version range, then startApi
        raw_prefix = None
        while needed:
            data = await stream.receive_some(65536)
            if not data:
                return
            buffer.append(data)
            if raw_prefix is None:
                raw_prefix = buffer.take_raw(4)
                if raw_prefix is None:
                    continue
            for _ in buffer.drain():
                needed -= 1
                if needed == 1:
                    hello = server_hello(self.VERSION, "20260415 15:00:00 UTC")
                    await stream.send_all(frame(hello))
        bootstrap = (
            RESPONSES_BY_NAME["managedAccounts"](accountsList="DU123456"),
            RESPONSES_BY_NAME["nextValidId"](orderId=1),
        )
        await stream.send_all(b"".join(encode_response(m, self.VERSION) for m in bootstrap))
        consumed = self._consumed
        written = 0
        consumed0 = consumed() if consumed is not None else 0
        try:
            while True:
                for chunk, count in self._chunks:
                    if consumed is not None:
                        while written - (consumed() - consumed0) > IN_FLIGHT:
                            await trio.sleep(POLL)
                    await stream.send_all(chunk)
                    written += count
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return

    def start(self) -> FrameBlaster:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> FrameBlaster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def tick_price_frames(count: int, subscriptions: int, version: int = 187) -> list[bytes]:
    """`count` tickPrice frames (bid and ask with their sizes) as fake-tws encodes them,
    over `subscriptions` request ids."""
    from decimal import Decimal

    from fake_tws.ibtypes import TickAttrib
    from fake_tws.protocol.codec import encode_response
    from fake_tws.protocol.table import RESPONSES_BY_NAME

    tick_price = RESPONSES_BY_NAME["tickPrice"]
    attrib = TickAttrib(canAutoExecute=True)
    return [
        encode_response(
            tick_price(
                reqId=i % subscriptions + 1,
                tickType=1 + i % 2,
                price=round(250.0 + (i % 97) * 0.01, 2),
                size=Decimal(100 + i % 13 * 100),
                attrib=attrib,
            ),
            version,
        )
        for i in range(count)
    ]
