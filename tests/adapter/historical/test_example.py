"""examples/historical_download.py, run as a user would: `fake-tws serve` in one process,
the example in another, then the catalog it wrote is read back."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from nautilus_trader.persistence.catalog import ParquetDataCatalog

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "historical_download.py"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def ready_port(server: subprocess.Popen, timeout: float = 20.0) -> int:
    """The port from serve's JSON ready line, read by a helper thread so a silent server
    cannot block the test."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in server.stdout],
        daemon=True,
    ).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line.startswith("{"):
            ready = json.loads(line)
            assert ready["fake_tws"] == "ready"
            return ready["port"]
    raise AssertionError(f"fake-tws serve printed no ready line within {timeout}s")


def test_the_example_downloads_into_a_catalog(tmp_path):
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "fake_tws.cli", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,  # a file: a full pipe would block the server
        text=True,
        env=ENV,
    )
    try:
        port = ready_port(server)
        catalog_path = tmp_path / "catalog"
        run = subprocess.run(
            [sys.executable, str(EXAMPLE), "--port", str(port), "--catalog", str(catalog_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env=ENV,
            cwd=tmp_path,
        )
        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        finally:
            server.kill()
            server.wait()
            server.stdout.close()
            log.close()

    catalog = ParquetDataCatalog(str(catalog_path))
    assert sorted(i.id.value for i in catalog.instruments()) == ["AAPL.NASDAQ", "TSLA.NASDAQ"]
    bars = catalog.bars()
    per_type: dict[str, int] = {}
    for bar in bars:
        per_type[str(bar.bar_type)] = per_type.get(str(bar.bar_type), 0) + 1
    # 2023-11-06, regular hours: 7 hourly bars (09:30 is a half hour), 13 half-hour bars.
    assert per_type == {
        "AAPL.NASDAQ-1-HOUR-LAST-EXTERNAL": 7,
        "TSLA.NASDAQ-1-HOUR-LAST-EXTERNAL": 7,
        "AAPL.NASDAQ-30-MINUTE-MID-EXTERNAL": 13,
        "TSLA.NASDAQ-30-MINUTE-MID-EXTERNAL": 13,
    }
    trades, quotes = catalog.trade_ticks(), catalog.quote_ticks()
    assert {str(t.instrument_id) for t in trades} == {"AAPL.NASDAQ", "TSLA.NASDAQ"}
    assert {str(q.instrument_id) for q in quotes} == {"AAPL.NASDAQ", "TSLA.NASDAQ"}
    assert "wrote 2 instruments, 40 bars" in run.stdout
