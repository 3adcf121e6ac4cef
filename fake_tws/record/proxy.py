"""The recording proxy: clients connect to it as to TWS; it connects each one to the real
TWS / IB Gateway (the upstream) and forwards every byte both ways unchanged, reading a
copy of each direction (capture.py) to write the conversation as a scenario (writer.py).

    recorder = Recorder(("127.0.0.1", 4002), Path("session.yaml"), port=7490)
    async with trio.open_nursery() as nursery:
        await nursery.start(recorder.serve)
        ...
        recorder.stop()            # writes the file (also written after each connection)

`RecorderThread` runs one in a background thread for synchronous callers (tests,
scripts), like `ServerThread`.

Progress is logged on "fake_tws.record" at INFO: connections, each request by its API
name, counts. Logs never show field values (accounts, order details), only names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trio

from .capture import ClientFrame, ConnectionCapture, ServerFrame
from .writer import Summary, WriterOptions, render

log = logging.getLogger("fake_tws.record")

RECEIVE_SIZE = 64 * 1024
CONNECT_TIMEOUT = 5.0  # seconds to reach the upstream
LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class UpstreamUnreachable(Exception):
    """The upstream TWS / Gateway does not accept connections."""


def parse_upstream(text: str) -> tuple[str, int]:
    """HOST:PORT (or just PORT, on 127.0.0.1) -> (host, port); raises ValueError."""
    host, sep, port_text = text.rpartition(":")
    if not sep:
        host, port_text = "127.0.0.1", text
    host = host.strip("[]") or "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        raise ValueError(f"expected HOST:PORT, e.g. 127.0.0.1:4002; got {text!r}") from None
    if not 0 < port <= 65535:
        raise ValueError(f"a port is 1..65535, got {port}")
    return host, port


async def check_upstream(upstream: tuple[str, int], timeout: float = CONNECT_TIMEOUT) -> None:
    """Open and close one TCP connection to the upstream; UpstreamUnreachable if it fails."""
    host, port = upstream
    with trio.move_on_after(timeout) as scope:
        try:
            stream = await trio.open_tcp_stream(host, port)
        except OSError as exc:
            raise UpstreamUnreachable(f"cannot reach {host}:{port}: {_reason(exc)}") from exc
        await trio.aclose_forcefully(stream)
    if scope.cancelled_caught:
        raise UpstreamUnreachable(f"cannot reach {host}:{port}: no answer in {timeout:g}s")


class Recorder:
    def __init__(
        self,
        upstream: tuple[str, int],
        out: Path | str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        options: WriterOptions | None = None,
        once: bool = False,
    ) -> None:
        self.upstream = upstream
        self.out = Path(out)
        self.host = host
        self.port: int | None = None
        self._listen_port = port
        self.options = options or WriterOptions(
            name=self.out.stem, upstream=f"{upstream[0]}:{upstream[1]}"
        )
        if not self.options.upstream:
            self.options.upstream = f"{upstream[0]}:{upstream[1]}"
        self.once = once
        self.connections: list[ConnectionCapture] = []
        self.summary: Summary | None = None
        self.written = 0  # how many times the file was written
        self._scope: trio.CancelScope | None = None
        self._stop_requested = False
        self._started_at = datetime.now(UTC)

    # -- running ------------------------------------------------------------------------------

    async def serve(self, *, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        """Check the upstream, listen, proxy until `stop()`; then write the file."""
        await check_upstream(self.upstream)
        if self.host not in LOOPBACK:
            log.warning(
                "listening on %s: anyone who can reach this port talks to the upstream TWS "
                "through it, around TWS's own Trusted IPs",
                self.host,
            )
        try:
            with trio.CancelScope() as scope:
                self._scope = scope
                if self._stop_requested:
                    scope.cancel()
                listeners = await trio.open_tcp_listeners(self._listen_port, host=self.host)
                self.port = listeners[0].socket.getsockname()[1]
                log.info(
                    "recording on %s:%d, upstream %s:%d, writing %s",
                    self.host,
                    self.port,
                    *self.upstream,
                    self.out,
                )
                async with trio.open_nursery() as nursery:
                    await nursery.start(trio.serve_listeners, self._handle, listeners)
                    task_status.started(self)
        finally:
            self.write()

    def stop(self) -> None:
        """Stop listening and drop the connections (call from the recorder's trio thread)."""
        self._stop_requested = True
        if self._scope is not None:
            self._scope.cancel()

    # -- one client ---------------------------------------------------------------------------

    async def _handle(self, client: trio.SocketStream) -> None:
        capture = ConnectionCapture(
            index=len(self.connections) + 1, peer=_peer(client), started_at=time.time()
        )
        self.connections.append(capture)
        t0 = trio.current_time()
        n = capture.index
        log.info("#%d: client %s connected; connecting to %s:%d", n, capture.peer, *self.upstream)
        try:
            with trio.fail_after(CONNECT_TIMEOUT):
                upstream = await trio.open_tcp_stream(*self.upstream)
        except (OSError, trio.TooSlowError) as exc:
            why = _reason(exc) if isinstance(exc, OSError) else "no answer"
            log.error(
                "#%d: cannot reach upstream %s:%d (%s); closing the client", n, *self.upstream, why
            )
            capture.problems.append(f"upstream unreachable: {why}")
            await trio.aclose_forcefully(client)
            return
        closed_by: list[str] = []
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(
                    self._pump, client, upstream, capture, "client", t0, closed_by, nursery
                )
                nursery.start_soon(
                    self._pump, upstream, client, capture, "server", t0, closed_by, nursery
                )
        finally:
            by = closed_by[0] if closed_by else "recorder"
            capture.closed(by, trio.current_time() - t0)  # type: ignore[arg-type]
            await trio.aclose_forcefully(client)
            await trio.aclose_forcefully(upstream)
            requests = sum(1 for i in capture.items if isinstance(i, ClientFrame))
            messages = sum(1 for i in capture.items if isinstance(i, ServerFrame))
            log.info("#%d: closed by %s: %d request(s), %d message(s)", n, by, requests, messages)
            for problem in capture.problems:
                log.warning("#%d: %s", n, problem)
            if not self._stop_requested:
                self.write()
                if self.once and capture.started:
                    self.stop()

    async def _pump(
        self,
        source: trio.abc.Stream,
        sink: trio.abc.Stream,
        capture: ConnectionCapture,
        side: str,
        t0: float,
        closed_by: list[str],
        nursery: trio.Nursery,
    ) -> None:
        """Forward `source` to `sink` unchanged; read a copy. When either side ends, the
        connection ends (both sockets close)."""
        try:
            while True:
                data = await source.receive_some(RECEIVE_SIZE)
                if not data:
                    break
                now = trio.current_time() - t0
                await sink.send_all(data)
                self._observe(capture, side, data, now)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            pass
        # The stream ended or broke (a cancellation, when the recorder stops or the other
        # side ended first, does not get here).
        if not closed_by:
            closed_by.append(side)
        nursery.cancel_scope.cancel()

    def _observe(self, capture: ConnectionCapture, side: str, data: bytes, now: float) -> None:
        """Read a copy; whatever goes wrong here must not stop the forwarding."""
        try:
            if side == "client":
                frames: list[Any] = capture.client_data(data, now)
            else:
                had_version = capture.version is not None
                frames = capture.server_data(data, now)
                if not had_version and capture.version is not None:
                    log.info("#%d: server version %d", capture.index, capture.version)
            for frame in frames:
                if isinstance(frame, ClientFrame):
                    self._progress(capture, frame)
        except Exception:  # a bug in reading must not break the proxy
            log.exception(
                "#%d: could not read the %s's bytes (still forwarding)", capture.index, side
            )
            capture.problems.append(f"internal error reading the {side}'s bytes")

    def _progress(self, capture: ConnectionCapture, frame: ClientFrame) -> None:
        n = capture.index
        if frame.api_name == "startApi":
            log.info("#%d: startApi, client id %s", n, capture.client_id)
            return
        requests = sum(1 for i in capture.items if isinstance(i, ClientFrame)) - 1
        messages = sum(1 for i in capture.items if isinstance(i, ServerFrame))
        log.info(
            "#%d → %s (%d request(s), %d message(s) so far)", n, frame.api_name, requests, messages
        )
        if frame.request is None and frame.problem:
            log.warning("#%d: request not decoded: %s", n, frame.problem)

    # -- writing ------------------------------------------------------------------------------

    def write(self) -> Summary | None:
        """Write the scenario file (atomically) from every connection so far."""
        if not any(c.started for c in self.connections):
            if self.written == 0:
                log.warning(
                    "nothing recorded yet (no client got past startApi); %s not written", self.out
                )
            return None
        self.options.recorded_at = self.options.recorded_at or self._started_at
        try:
            text, summary = render(self.connections, self.options)
        except Exception:
            log.exception("could not write the recording")
            return None
        _atomic_write(self.out, text)
        self.summary = summary
        self.written += 1
        log.info("wrote %s: %s", self.out, summary)
        for note in summary.notes:
            log.warning("%s", note)
        return summary


class RecorderThread:
    """A `Recorder` in a background thread; `start()` returns once it listens."""

    def __init__(self, upstream: tuple[str, int], out: Path | str, **kwargs: Any) -> None:
        self.recorder = Recorder(upstream, out, **kwargs)
        self._thread: threading.Thread | None = None
        self._token: trio.lowlevel.TrioToken | None = None
        self._ready = threading.Event()
        self.error: BaseException | None = None

    @property
    def port(self) -> int:
        assert self.recorder.port is not None, "not started"
        return self.recorder.port

    def start(self, timeout: float = 10.0) -> RecorderThread:
        self._thread = threading.Thread(target=self._run, name="fake-tws-recorder", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the recorder did not start within {timeout}s")
        if self.error is not None:
            self._thread.join(timeout)
            raise self.error
        return self

    def run_sync(self, fn: Any, *args: Any) -> Any:
        return trio.from_thread.run_sync(fn, *args, trio_token=self._token)

    def stop(self, timeout: float = 10.0) -> Summary | None:
        if self._thread is None:
            return None
        if self._thread.is_alive():
            with contextlib.suppress(trio.RunFinishedError):
                self.run_sync(self.recorder.stop)
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the recorder did not stop within {timeout}s")
        return self.recorder.summary

    def __enter__(self) -> RecorderThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            trio.run(self._main)
        except BaseException as exc:
            self.error = exc.exceptions[0] if isinstance(exc, BaseExceptionGroup) else exc
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._token = trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            await nursery.start(self.recorder.serve)
            self._ready.set()


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _peer(stream: trio.SocketStream) -> str:
    try:
        host, port, *_ = stream.socket.getpeername()
        return f"{host}:{port}"
    except (OSError, ValueError):
        return "?"


def _reason(exc: OSError) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
