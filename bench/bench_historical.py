"""Historical bars per second into a Parquet catalog: our HistoricInteractiveBrokersClient
against NautilusTrader's own, on the same fake-tws server in the same run.

Each side runs in its own process (theirs switches its event loop to debug mode and sets
up NautilusTrader's logging, which cannot be undone in a process), connects, loads the
instruments (not timed), then is timed for one ``request_bars`` call and writing its bars
to a fresh ``ParquetDataCatalog``. The server is a ServerThread in this process, on the
real clock, serving the simulated world to both.

Workload: 1-HOUR-LAST and 30-MINUTE-MID bars over one month ("1 M") for seven stocks:
one IB request per series for both clients (a month fits IB's step size for these bar
sizes), so both make the same 14 requests and the comparison is of what each client does
with the answers. Both must return the same number of bars. (On longer periods ours pages
into requests IB serves and paces them; theirs asks whole years of small bars at once,
which IB refuses, so such a workload would compare different things.)

The server's time to make the bars is inside both measurements (it dominates a single
request); what differs is how each client waits, decodes and converts: theirs asks one
series at a time and converts bar by bar in coroutines, on an event loop in debug mode;
ours keeps a few requests in flight (within IB's pacing) and converts each answer in one
pass.

Goal: ratio >= 1.0 (ours at least as fast as theirs). Best of REPEATS runs per side.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .harness import scaled
from .result import Result

STOCKS = scaled(
    (
        ("AAPL", "NASDAQ"),
        ("MSFT", "NASDAQ"),
        ("SPY", "ARCA"),
        ("QQQ", "NASDAQ"),
        ("AMZN", "NASDAQ"),
        ("TSLA", "NASDAQ"),
        ("NVDA", "NASDAQ"),
    ),
    (("AAPL", "NASDAQ"),),
)
SPECS = ["1-HOUR-LAST", "30-MINUTE-MID"]
DURATION = "1 M"
END = (2026, 3, 31, 16, 0)  # New York
REPEATS = scaled(3, 1)
WORKER_TIMEOUT = 120.0
ROOT = Path(__file__).resolve().parent.parent


def run() -> list[Result]:
    from fake_tws.server import ServerThread

    ours: list[float] = []
    theirs: list[float] = []
    counts: set[int] = set()
    with ServerThread() as server:
        sides = [("ours", ours), ("theirs", theirs)]
        for i in range(REPEATS):
            # Alternating who goes first: the world makes a path once and keeps it, so
            # the first request of the run is slower, whoever makes it.
            for side, rates in sides if i % 2 == 0 else sides[::-1]:
                bars, seconds = _measure(side, server.port, 20 + 2 * i + (side == "theirs"))
                counts.add(bars)
                rates.append(bars / seconds)
    if len(counts) != 1:
        raise RuntimeError(f"the clients returned different numbers of bars: {sorted(counts)}")
    value, base = max(ours), max(theirs)
    return [
        Result(
            "historical: bars/s into a catalog vs NautilusTrader's client",
            round(value, 1),
            "bars/s",
            round(base, 1),
            round(value / base, 4),
            1.0,
        ),
    ]


def _measure(side: str, port: int, client_id: int) -> tuple[int, float]:
    with tempfile.TemporaryDirectory() as catalog:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.bench_historical",
                side,
                str(port),
                str(client_id),
                catalog,
            ],
            capture_output=True,
            text=True,
            timeout=WORKER_TIMEOUT,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"bars"')]
    if done.returncode != 0 or not lines:
        raise RuntimeError(
            f"the {side} worker failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    result = json.loads(lines[-1])
    return result["bars"], result["seconds"]


# -- the worker (one process per measurement) ----------------------------------------------------


async def _work(side: str, port: int, client_id: int, catalog_path: str) -> None:
    import datetime

    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    if side == "ours":
        from adapter.common import IBContract
        from adapter.historical import HistoricInteractiveBrokersClient
    else:
        from nautilus_trader.adapters.interactive_brokers.common import IBContract
        from nautilus_trader.adapters.interactive_brokers.historical import (
            HistoricInteractiveBrokersClient,
        )

    client = HistoricInteractiveBrokersClient(port=port, client_id=client_id, log_level="ERROR")
    await asyncio.wait_for(client.connect(), 30)
    contracts = [
        IBContract(secType="STK", symbol=symbol, exchange="SMART", primaryExchange=primary)
        for symbol, primary in STOCKS
    ]
    await client.request_instruments(contracts=contracts)  # not timed

    t0 = time.perf_counter()
    bars = await client.request_bars(
        bar_specifications=SPECS,
        end_date_time=datetime.datetime(*END),
        tz_name="America/New_York",
        duration=DURATION,
        contracts=list(contracts),
    )
    ParquetDataCatalog(catalog_path).write_data(bars)
    seconds = time.perf_counter() - t0

    print(json.dumps({"bars": len(bars), "seconds": seconds}), flush=True)
    if side == "ours":
        await client.disconnect()
    else:
        client._client.stop()  # theirs has no disconnect


if __name__ == "__main__":
    side_, port_, client_id_, catalog_ = sys.argv[1:5]
    asyncio.run(_work(side_, int(port_), int(client_id_), catalog_))
