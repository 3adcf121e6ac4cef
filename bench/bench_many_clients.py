"""50 clients with 20 market data subscriptions each for N virtual seconds: nothing may be
lost, and the server's peak memory against the same server with one client.

The server runs in its own process (`python -m bench.bench_many_clients --serve`), so its
peak resident memory (VmHWM) is its own; its clock moves one stream step at a time as fast
as the clients read (bench.harness.BenchServer.drive). The clients are bare trio
connections in this process (ibapi's own bytes for startApi and reqMktData; replies are
only framed and counted), so the load generator stays cheap.

Lost messages: the server counts what each session sent (every message, and tickPrice +
tickSize per subscription) as its journal records them; once the steps are made and the
queues drained it closes every connection (what is queued still goes out) and reports
its counts. Each client counts what it read until the server closed it. Lost = the sum,
over clients and subscriptions, of |sent - received|: a connection cut off for not
reading, a message journaled but never written, a stream that ran after its client went
would all show. ratio = 1 - lost / sent: 1.0 when every subscription's sequence arrived
whole; goal 1.0.

Memory: value and baseline are peak RSS in MB of the server with 50 clients and with one
(20 subscriptions, same steps); ratio = baseline / ours (bigger is better). The server's
journal is capped (`ServerConfig.journal_limit`), as it must be for any long run: it
keeps every message otherwise, and then it alone grows without bound (see the report of
`python -m bench.bench_many_clients --unbounded`). Goal 0.5: a thousand streams may cost
at most as much memory again as a server with one client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import trio

from .harness import JOURNAL_LIMIT, TIMEOUT, scaled
from .result import Result

CLIENTS = scaled(50, 5)
SUBSCRIPTIONS = scaled(20, 4)
STEPS = scaled(30, 2)  # virtual seconds (one stream step each)
VERSION = 187
SYMBOLS = (
    *("AAPL", "MSFT", "SPY", "QQQ", "AMZN", "TSLA", "NVDA", "GOOGL", "IBM"),
    *("BENCHA", "BENCHB", "BENCHC", "BENCHD", "BENCHE", "BENCHF", "BENCHG", "BENCHH"),
    *("BENCHI", "BENCHJ", "BENCHK"),
)  # 20 stocks: the curated ones and made-up ones (generated on first request)
ROOT = Path(__file__).resolve().parent.parent


# --- the server's side (its own process) ----------------------------------------------------


def serve(steps: int, journal_limit: int | None) -> None:
    """Serve until told "go" on stdin, make `steps` steps, close every client, report."""
    from fake_tws.journal import Direction, Entry
    from fake_tws.protocol.table import RESPONSES_BY_NAME

    from .harness import BenchServer, peak_rss, wait_until

    ticks = (RESPONSES_BY_NAME["tickPrice"], RESPONSES_BY_NAME["tickSize"])
    sent: Counter[int] = Counter()
    sent_ticks: Counter[str] = Counter()

    def count(entry: Entry) -> None:
        if entry.direction is Direction.SENT:
            sent[entry.client_id] += 1
            if type(entry.message) in ticks:
                sent_ticks[f"{entry.client_id}:{entry.message.reqId}"] += 1  # type: ignore[attr-defined]

    server = BenchServer(journal_limit=journal_limit)
    server.gateway.journal.listen(count)
    with server:
        print(json.dumps({"port": server.port}), flush=True)
        if sys.stdin.readline().strip() != "go":
            return
        server.drive(steps)
        server.wait_driven()
        wait_until(server.drained, what="the queues to drain")
        sessions = server.run_sync(lambda: list(server.server.sessions))
        cut_off = {
            s.journal_id: s.link.close_reason for s in sessions if s.link.close_reason is not None
        }

        def close_all() -> None:
            for session in server.server.sessions:
                session.close("benchmark over")

        server.run_sync(close_all)
        wait_until(lambda: not server.run_sync(lambda: len(server.server.sessions)), what="closing")
        journal = server.gateway.journal
        report = {
            "steps": server.steps,
            "stalled": server.stalled,
            "sent": {str(k): v for k, v in sent.items()},
            "sent_ticks": dict(sent_ticks),
            "cut_off": {str(k): v for k, v in cut_off.items()},
            "peak_rss": peak_rss(),
            "journal_kept": len(journal),
            "journal_dropped": journal.dropped,
        }
        print(json.dumps(report), flush=True)


# --- the clients' side ------------------------------------------------------------------------


class Tally:
    """What one client read: every message, and ticks per request id."""

    def __init__(self) -> None:
        self.messages = 0
        self.ticks: Counter[int] = Counter()
        self.subscribed = 0  # tickReqParams seen: streams started


def _client_bytes(client_id: int, subscriptions: int) -> bytes:
    from .ibapi_client import request_bytes, stock

    def calls(c: Any) -> None:
        c.clientId = client_id
        c.startApi()
        for i in range(subscriptions):
            c.reqMktData(i + 1, stock(SYMBOLS[i % len(SYMBOLS)]), "", False, False, [])

    return request_bytes(calls, VERSION)


async def _client(
    port: int, requests: bytes, subscriptions: int, tally: Tally, subscribed: trio.Semaphore
) -> None:
    from fake_tws.protocol.framing import FrameBuffer, frame
    from fake_tws.protocol.table import RESPONSE_IDS, RESPONSES_BY_NAME

    def msg_id(name: str) -> bytes:
        return str(RESPONSE_IDS[RESPONSES_BY_NAME[name]]).encode()

    tick_ids = {msg_id("tickPrice"), msg_id("tickSize")}
    params_id = msg_id("tickReqParams")
    stream = await trio.open_tcp_stream("127.0.0.1", port)
    await stream.send_all(b"API\0" + frame(f"v100..{VERSION}".encode()))
    frames = FrameBuffer()
    greeted = False
    async with stream:
        while data := await stream.receive_some(256 * 1024):
            for payload in frames.feed(data):
                if not greeted:  # the server's version and time: not a message
                    greeted = True
                    await stream.send_all(requests)
                    continue
                tally.messages += 1
                fields = payload.split(b"\0", 3)
                if fields[0] in tick_ids:
                    tally.ticks[int(fields[2])] += 1
                elif fields[0] == params_id:
                    tally.subscribed += 1
                    if tally.subscribed == subscriptions:
                        subscribed.release()


async def _clients(port: int, clients: int, subscriptions: int, go: Any) -> list[Tally]:
    tallies = [Tally() for _ in range(clients)]
    subscribed = trio.Semaphore(0, max_value=clients)
    with trio.fail_after(TIMEOUT * 4):
        async with trio.open_nursery() as nursery:
            for i, tally in enumerate(tallies):
                requests = _client_bytes(i + 1, subscriptions)
                nursery.start_soon(_client, port, requests, subscriptions, tally, subscribed)
            for _ in range(clients):
                await subscribed.acquire()
            go()
    return tallies


def measure(
    clients: int, subscriptions: int, steps: int, journal_limit: int | None = JOURNAL_LIMIT
) -> dict[str, Any]:
    """Run a server process and the clients; the server's report plus `lost`."""
    command = [sys.executable, "-m", "bench.bench_many_clients", "--serve", str(steps)]
    if journal_limit is not None:
        command += ["--journal-limit", str(journal_limit)]
    with subprocess.Popen(
        command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            port = json.loads(proc.stdout.readline())["port"]

            def go() -> None:
                proc.stdin.write("go\n")  # type: ignore[union-attr]
                proc.stdin.flush()  # type: ignore[union-attr]

            tallies = trio.run(_clients, port, clients, subscriptions, go)
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError("the benchmark server ended without a report")
            report = json.loads(line)
        finally:
            proc.stdin.close()
            if proc.wait(TIMEOUT) != 0:
                raise RuntimeError(f"the benchmark server exited with {proc.returncode}")
    if report["stalled"]:
        raise RuntimeError(f"the clock driver stopped: {report['stalled']}")
    # A lost tick shows in its client's total and in its subscription's count: take, per
    # client, the larger of the two mismatches (the second also catches one subscription
    # getting another's ticks).
    lost = 0
    for i, tally in enumerate(tallies):
        client_id = i + 1
        messages = abs(report["sent"].get(str(client_id), 0) - tally.messages)
        ticks = sum(
            abs(report["sent_ticks"].get(f"{client_id}:{req_id}", 0) - tally.ticks[req_id])
            for req_id in range(1, subscriptions + 1)
        )
        lost += max(messages, ticks)
    report["lost"] = lost
    report["total_sent"] = sum(report["sent"].values())
    return report


def run() -> list[Result]:
    ours = measure(CLIENTS, SUBSCRIPTIONS, STEPS)
    base = measure(1, SUBSCRIPTIONS, STEPS)
    sent = ours["total_sent"]
    mb = 1024 * 1024
    streams = f"{CLIENTS}x{SUBSCRIPTIONS} streams, {STEPS} virtual s"
    return [
        Result(
            f"many clients: messages lost ({streams})",
            float(ours["lost"]),
            "msgs lost",
            float(sent),
            round(1 - ours["lost"] / sent, 6),
            1.0,
        ),
        Result(
            f"many clients: server peak RSS vs 1 client ({streams})",
            round(ours["peak_rss"] / mb, 1),
            "MB",
            round(base["peak_rss"] / mb, 1),
            round(base["peak_rss"] / ours["peak_rss"], 4),
            0.5,
        ),
    ]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--serve"]:
        limit = int(argv[3]) if argv[2:3] == ["--journal-limit"] else None
        serve(int(argv[1]), limit)
        return 0
    # A look at the journal's weight: the same runs with the journal unbounded.
    limit = None if "--unbounded" in argv else JOURNAL_LIMIT
    for clients in (CLIENTS, 1):
        report = measure(clients, SUBSCRIPTIONS, STEPS, limit)
        print(
            f"{clients} clients x {SUBSCRIPTIONS}, {STEPS} steps, journal limit {limit}: "
            f"peak RSS {report['peak_rss'] / 2**20:.1f} MB, {report['total_sent']:,} counted, "
            f"lost {report['lost']}, journal kept {report['journal_kept']:,}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
