"""`make demo` (`python -m fake_tws.demo`): a NautilusTrader node with our adapter trades
the scripted day of scenarios/demo/trading_day.yaml against an in-process fake-tws and
reports it. Run as a user runs it: in a subprocess, with a hard timeout."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECTIONS = (
    "connection",
    "instruments loaded",
    "subscriptions",
    "orders",
    "fills",
    "timeline",
    "the reconnect",
    "final positions and PnL",
    "plot",
)


def run_demo(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
    # The demo has its own watchdog (--timeout); subprocess's timeout is the backstop.
    return subprocess.run(
        [sys.executable, "-m", "fake_tws.demo", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_demo_trades_a_scripted_day_and_draws_it(tmp_path):
    result = run_demo("--output", str(tmp_path), "--timeout", "50")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    positions = [out.index(f"== {title} ==") for title in SECTIONS]
    assert positions == sorted(positions)  # every section, in order
    # connected, three instruments, four subscriptions
    assert "our adapter connected as client id 1, accounts ['DU123456']" in out
    for instrument in ("AAPL.NASDAQ", "MSFT.NASDAQ", "EUR/USD.IDEALPRO"):
        assert f"quotes  {instrument}" in out
    assert "bars    AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL" in out
    # the entry filled in two parts (40 at once, 60 while IB's link was down), then out
    assert "FILL BUY 40 AAPL.NASDAQ" in out and "FILL BUY 60 AAPL.NASDAQ" in out
    assert "FILL SELL 100 AAPL.NASDAQ" in out
    assert "filled while the link was down: BUY 60" in out
    # the link dropped and came back without new market data requests
    assert "IB link lost (1100)" in out
    assert "0 new reqMktData (streams resumed by themselves)" in out
    assert "IB link at the end: up" in out
    # bars revised as they formed (handle_revised_bars)
    assert "revised" in out.split("== timeline ==")[1]
    # flat on both sides
    assert "AAPL.NASDAQ closed: FLAT 0" in out
    assert "the server's positions for DU123456: flat" in out
    assert "strategy done: bought, sold, flat" in out
    png = tmp_path / "demo.png"
    assert png.read_bytes().startswith(PNG_SIGNATURE) and png.stat().st_size > 10_000


def test_realtime_serves_a_port_for_other_clients_and_stops_after_its_duration(tmp_path):
    result = run_demo("--realtime", "--duration", "2", "--output", str(tmp_path), timeout=40)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "wall clock" in out
    assert "your own client can connect too: host 127.0.0.1 port " in out
    assert "first quotes in: AAPL.NASDAQ" in out
    assert "== final positions and PnL ==" in out
    assert (tmp_path / "demo.png").read_bytes().startswith(PNG_SIGNATURE)


def test_duration_needs_realtime():
    result = run_demo("--duration", "5", timeout=30)
    assert result.returncode == 2
    assert "--duration goes with --realtime" in result.stdout
