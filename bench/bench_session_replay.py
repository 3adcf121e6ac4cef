"""Replaying a whole regular trading session on the virtual clock: wall time for 6.5 virtual
hours (09:30-16:00 New York, Thursday 2026-04-16) with a client watching 1-minute bars
and quotes, against a 2-second goal and against the bare clock.

Ours: a `BenchServer` (capped journal) in its own process (`--serve`), its clock set to
09:30:00. One client asks, at 09:30, for 1-minute TRADES bars kept up to date
(reqHistoricalData keepUpToDate=True, "1800 S", formatDate 2) and streaming quotes
(reqMktData) of four stocks, and places three GTC limit orders that rest all day (BUY far
below the market). Then the clock is driven through the session's 23,400 seconds, one
stream step (1 s) at a time, as fast as the client reads (`BenchServer.drive`: the
clock waits while more than LOW_WATER bytes are queued for the client). The wall time
runs from telling the server to go to the client having read every message the server
sent in those 23,400 steps (counted by both). After it, not timed, the clock goes on
for CLOSE_OUT seconds: a bar is only known finished when a later bar's update comes (at
16:00:00 itself the 16:00 bar may have had no trade yet, and then that update waits
for the next 5 s), and the check needs the 15:59 bar finished.

The server has a process of its own so that its time, CPU and profile are its own: with
the client in its process, every socket send becomes a wait for the client's thread to
give back the GIL (a quarter of the profiled replay was `socket.send`). The client is a bare
trio connection in a thread of this process (ibapi's bytes for the requests; replies
only framed and counted, bar updates parsed): ibapi's reader would dominate a burst of
this size (~370k quote ticks and ~19k bar updates).

Rows:
- "session replay: wall s vs 2 s goal": value = wall seconds, baseline = 2.0 s (the
  issue: a full trading day of bars "well under two seconds"), ratio = 2.0 / value,
  goal 1.0.
- "session replay: wall s vs bare clock": baseline = the same replay with the client
  connected but asking nothing: what the clock and the driver cost alone (~20 us a
  step). ratio = baseline / value; goal 0.25: a session with a client watching may cost
  at most four bare sessions, which is what the 2 s goal means where the bare clock
  takes ~0.5 s.
- "session replay: 1-min bars complete": every one of the 390 bars per instrument
  (09:30 ... 15:59) arrived, was revised in between (two updates or more) and was closed
  by a later bar; value = bars that did, baseline = 390 x instruments, ratio = value /
  baseline, goal 1.0. The resting orders must still be Submitted at the end, no error
  may have come and the client must have read exactly what the server sent, or the
  benchmark fails.

`python -m bench.bench_session_replay` also replays with bars only (no quotes, no
orders) and prints, for each load, the server's CPU time and peak RSS, and the full
load's wall time and server CPU time per virtual hour (does a step get dearer as the
day goes on?);
`--profile` adds the server thread's cProfile of the full load's replay.
"""

from __future__ import annotations

import cProfile
import json
import pstats
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import trio

from .harness import TIMEOUT, BenchServer, TrioThread, peak_rss, scaled, wait_until
from .result import Result

NEW_YORK = ZoneInfo("America/New_York")
OPEN = datetime(2026, 4, 16, 9, 30, tzinfo=NEW_YORK)  # a Thursday
SECONDS = scaled(23_400, 600)  # 09:30-16:00; quick: 10 minutes
BARS = SECONDS // 60  # 1-minute bars per instrument
SYMBOLS = ("AAPL", "MSFT", "SPY", "QQQ")
RESTING = (("AAPL", 1.0), ("MSFT", 2.0), ("SPY", 3.0))  # BUY LMT far below the market
GOAL_SECONDS = 2.0
CLOSE_OUT = 60  # virtual seconds driven after the session, not timed (see replay)
VERSION = 187
MKT_ID = 1  # reqMktData ids 1..n
BARS_ID = 101  # reqHistoricalData ids 101..100+n
ORDER_ID = 1  # order ids from the first nextValidId
ROOT = Path(__file__).resolve().parent.parent
LOADS = {  # what the client asks for: load -> description
    "full": "quotes + 1-min bars + resting orders",
    "bars": "1-min bars only",
    "none": "bare clock (connected, nothing asked)",
}


def _requests(load: str) -> tuple[bytes, bytes]:
    """ibapi's bytes for startApi, and for what `load` asks (see LOADS)."""
    from ibapi.order import Order

    from .ibapi_client import request_bytes, stock

    def start(c: Any) -> None:
        c.clientId = 1
        c.startApi()

    def subscribe(c: Any) -> None:
        for i, symbol in enumerate(SYMBOLS if load != "none" else ()):
            if load == "full":
                c.reqMktData(MKT_ID + i, stock(symbol), "", False, False, [])
            c.reqHistoricalData(
                BARS_ID + i, stock(symbol), "", "1800 S", "1 min", "TRADES", 0, 2, True, []
            )
        for i, (symbol, price) in enumerate(RESTING if load == "full" else ()):
            o = Order()
            o.action, o.totalQuantity, o.orderType = "BUY", Decimal(10), "LMT"
            o.lmtPrice, o.tif = price, "GTC"
            c.placeOrder(ORDER_ID + i, stock(symbol), o)

    return request_bytes(start, VERSION), request_bytes(subscribe, VERSION)


def _msg_id(name: str) -> bytes:
    from fake_tws.protocol.table import RESPONSE_IDS, RESPONSES_BY_NAME

    return str(RESPONSE_IDS[RESPONSES_BY_NAME[name]]).encode()


FARM_NOTICES = {b"2104", b"2106", b"2158"}


class ReplayClient:
    """A bare trio client in its own thread: connects, subscribes (or not), then reads and
    counts until stopped. `frames` is every message read since the greeting."""

    def __init__(self, port: int, load: str) -> None:
        self.port = port
        self.load = load
        self.frames = 0
        self.ticks = 0
        # per bars request: [bar start (epoch s), updates seen, wall time of first update]
        self.bars: dict[int, list[list[Any]]] = defaultdict(list)
        self.statuses: dict[int, str] = {}
        self.errors: list[tuple[str, ...]] = []
        self._thread = TrioThread(self._main, "replay-client")

    def start(self) -> ReplayClient:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> ReplayClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _main(self, task_status: Any = trio.TASK_STATUS_IGNORED) -> None:
        from fake_tws.protocol.framing import FrameBuffer, frame

        start_api, subscribe = _requests(self.load)
        ids = {
            name: _msg_id(name)
            for name in (
                "tickPrice",
                "tickSize",
                "tickReqParams",
                "historicalData",
                "historicalDataUpdate",
                "orderStatus",
                "nextValidId",
                "error",
            )
        }
        ticks = {ids["tickPrice"], ids["tickSize"]}
        update, status, error = ids["historicalDataUpdate"], ids["orderStatus"], ids["error"]
        # What must have come before the clock may move.
        pending = {ids["nextValidId"]: 1}
        if self.load != "none":
            pending[ids["historicalData"]] = len(SYMBOLS)
        if self.load == "full":
            pending[ids["tickReqParams"]] = len(SYMBOLS)
        submitted = len(RESTING) if self.load == "full" else 0
        started = False
        bars = self.bars
        stream = await trio.open_tcp_stream("127.0.0.1", self.port)
        await stream.send_all(b"API\0" + frame(f"v100..{VERSION}".encode()))
        frames = FrameBuffer()
        greeted = False
        async with stream:
            while data := await stream.receive_some(256 * 1024):
                for payload in frames.feed(data):
                    if not greeted:  # the server's version and time: not a message
                        greeted = True
                        await stream.send_all(start_api)
                        continue
                    self.frames += 1
                    kind = payload[: payload.index(b"\0")]
                    if kind in ticks:
                        self.ticks += 1
                    elif kind == update:
                        f = payload.split(b"\0", 5)
                        seen = bars[int(f[1])]
                        at = int(f[3])
                        if seen and seen[-1][0] == at:
                            seen[-1][1] += 1
                        else:
                            seen.append([at, 1, time.perf_counter()])
                    elif kind == status:
                        f = payload.split(b"\0", 3)
                        self.statuses[int(f[1])] = f[2].decode()
                    elif kind == error:
                        f = payload.split(b"\0")
                        if f[3] not in FARM_NOTICES:
                            self.errors.append(tuple(x.decode() for x in f[2:5]))
                    if not started:
                        if kind in pending:
                            pending[kind] -= 1
                            if kind == ids["nextValidId"]:
                                await stream.send_all(subscribe)
                        live = sum(s == "Submitted" for s in self.statuses.values())
                        if all(n <= 0 for n in pending.values()) and live >= submitted:
                            started = True
                            task_status.started()

    def completed_bars(self, open_at: float, bars: int) -> int:
        """Bars in [open_at, open_at + 60*bars) of every request that were revised (two
        updates or more) and closed by a later bar."""
        want = {open_at + 60 * i for i in range(bars)}
        done = 0
        for seen in self.bars.values():
            done += sum(1 for at, n, _ in seen[:-1] if at in want and n >= 2)
        return done


# --- the server's side (its own process) ----------------------------------------------------


def serve(seconds: int, profile_path: str | None) -> None:
    """Serve from OPEN; on each line of stdin ("go": the session, "close-out": past its
    end) drive the clock, wait for the queues to drain and report on stdout."""
    server = BenchServer()
    server.clock.set(OPEN)
    profile = cProfile.Profile() if profile_path else None
    with server:
        print(json.dumps({"port": server.port}), flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command not in ("go", "close-out"):
                break
            timed = command == "go"
            if profile is not None and timed:
                server.run_sync(profile.enable)  # the server's thread is the one profiled
            cpu0, t0 = time.process_time(), time.perf_counter()
            target = seconds if timed else seconds + CLOSE_OUT
            cpu_hours = []  # the server's CPU seconds for each virtual hour
            while server.steps < target and not server.stalled:
                server.drive(min(target, server.steps + 3600))
                server.wait_driven()
                cpu_hours.append(time.process_time() - cpu0 - sum(cpu_hours))
            wait_until(server.drained, what="the queues to drain")
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
            if profile is not None and timed:
                server.run_sync(profile.disable)
                profile.dump_stats(profile_path)
            report = {
                "sent": server.frames_sent,
                "stalled": server.stalled,
                "cpu": cpu,
                "cpu_hours": cpu_hours,
                "wall": wall,
                "now": server.clock.time(),
                "peak_rss": peak_rss(),
            }
            print(json.dumps(report), flush=True)


# --- the client's side ----------------------------------------------------------------------


def replay(seconds: int, load: str, profile_path: str | None = None) -> dict:
    """A server process replaying `seconds` from OPEN to one client; what it took and saw."""
    command = [sys.executable, "-m", "bench.bench_session_replay", "--serve", str(seconds)]
    if profile_path is not None:
        command += ["--profile", profile_path]
    with subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            port = json.loads(proc.stdout.readline())["port"]
            with ReplayClient(port, load) as client:

                def drive(command: str) -> dict:
                    proc.stdin.write(command + "\n")  # type: ignore[union-attr]
                    proc.stdin.flush()  # type: ignore[union-attr]
                    line = proc.stdout.readline()  # type: ignore[union-attr]
                    if not line:
                        raise RuntimeError("the replay server ended without a report")
                    report = json.loads(line)
                    if report["stalled"]:
                        raise RuntimeError(f"the clock driver stopped: {report['stalled']}")
                    sent = report["sent"]
                    wait_until(lambda: client.frames >= sent, what="the client to read")
                    if client.frames != sent:
                        raise RuntimeError(f"the server sent {sent} messages, read {client.frames}")
                    return report

                frames0 = client.frames
                t0 = time.perf_counter()
                server = drive("go")
                wall = time.perf_counter() - t0
                out = {
                    "wall": wall,
                    "t0": t0,
                    "server": server,
                    "messages": client.frames - frames0,
                    "ticks": client.ticks,
                    "bar_updates": sum(n for seen in client.bars.values() for _, n, _ in seen),
                }
                # Not timed: on to the first update after the close, which closes the last
                # bar (an update comes every 5 s, once the new minute has had a trade).
                end = drive("close-out")["now"]
                if end != (OPEN + timedelta(seconds=seconds + CLOSE_OUT)).timestamp():
                    raise RuntimeError(f"the clock ended at {end}")
                out |= {
                    "bars": client.completed_bars(OPEN.timestamp(), seconds // 60),
                    "first_bars": list(client.bars.get(BARS_ID, [])),
                    "statuses": dict(client.statuses),
                    "errors": list(client.errors),
                }
        finally:
            proc.stdin.close()
            if proc.wait(TIMEOUT) != 0:
                raise RuntimeError(f"the replay server exited with {proc.returncode}")
    resting = {ORDER_ID + i for i in range(len(RESTING))} if load == "full" else set()
    if out["errors"] or any(out["statuses"].get(i) != "Submitted" for i in resting):
        raise RuntimeError(
            f"the replay went wrong: statuses {out['statuses']}, errors {out['errors'][:3]}"
        )
    return out


def run() -> list[Result]:
    ours = replay(SECONDS, "full")
    bare = replay(SECONDS, "none")
    hours = SECONDS / 3600
    what = (
        f"{hours:.3g} virtual h, {len(SYMBOLS)} x (1-min bars + quotes), "
        f"{len(RESTING)} resting orders"
    )
    expected = BARS * len(SYMBOLS)
    return [
        Result(
            f"session replay: wall s vs 2 s goal ({what})",
            round(ours["wall"], 3),
            "s",
            GOAL_SECONDS,
            round(GOAL_SECONDS / ours["wall"], 4),
            1.0,
        ),
        Result(
            f"session replay: wall s vs bare clock ({what})",
            round(ours["wall"], 3),
            "s",
            round(bare["wall"], 3),
            round(bare["wall"] / ours["wall"], 4),
            0.25,
        ),
        Result(
            f"session replay: 1-min bars complete ({len(SYMBOLS)} x {BARS})",
            float(ours["bars"]),
            "bars",
            float(expected),
            round(ours["bars"] / expected, 6),
            1.0,
        ),
    ]


def _describe(name: str, r: dict) -> str:
    server = r["server"]
    return (
        f"{name}: {r['wall']:.3f} s wall, server CPU {server['cpu']:.3f} s, server peak RSS "
        f"{server['peak_rss'] / 2**20:.1f} MB; {r['messages']:,} messages "
        f"({r['ticks']:,} quote ticks, {r['bar_updates']:,} bar updates), {r['bars']} bars "
        "complete"
    )


def main(argv: list[str]) -> int:
    """The replay in detail: `--profile` prints the server thread's cProfile of the full
    load's replay (its wall time is then the profiler's, not the benchmark's)."""
    if argv[:1] == ["--serve"]:
        serve(int(argv[1]), argv[3] if argv[2:3] == ["--profile"] else None)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        profile_path = str(Path(tmp) / "replay.prof") if "--profile" in argv else None
        print(f"replay of {SECONDS} virtual s from {OPEN:%Y-%m-%d %H:%M %Z}:")
        runs = {}
        for load, name in LOADS.items():
            runs[load] = replay(SECONDS, load, profile_path if load == "full" else None)
            print(" ", _describe(name, runs[load]), flush=True)
        # Wall time per virtual hour, from when the first instrument's bars arrived.
        ours = runs["full"]
        open_at = OPEN.timestamp()
        marks = [ours["t0"]]
        for hour in range(1, SECONDS // 3600 + 1):
            arrived = [wall for at, _, wall in ours["first_bars"] if at >= open_at + 3600 * hour]
            if arrived:
                marks.append(arrived[0])
        marks.append(ours["t0"] + ours["wall"])
        spans = [f"{(b - a) * 1e3:.0f}" for a, b in pairwise(marks)]
        print("full load, wall ms per virtual hour from 09:30:", " ".join(spans))
        cpu = [f"{c * 1e3:.0f}" for c in ours["server"]["cpu_hours"]]
        print("full load, server CPU ms per virtual hour from 09:30:", " ".join(cpu))
        if profile_path is not None:
            stats = pstats.Stats(profile_path)
            stats.sort_stats("tottime").print_stats(30)
            stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
