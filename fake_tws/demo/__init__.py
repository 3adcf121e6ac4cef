"""`make demo` (`python -m fake_tws.demo`): a NautilusTrader TradingNode with our IB
adapter trades a scripted day against an in-process fake-tws.

The server plays `scenarios/demo/trading_day.yaml` (AAPL, MSFT and EUR.USD from the New
York open; a limit buy that fills in two parts; IB's link lost and restored; a revised
bar). By default the server's clock is virtual and moves one second at a time in step
with the node, so ten minutes of the day take a few seconds; `--realtime` runs it at
wall-clock pace on a port a user's own client can reach too, until Ctrl-C or
`--duration`. The demo prints what happened in sections and draws a PNG of prices with
the strategy's fills into `demo-output/`.

This package is the one part of fake_tws that imports clients (NautilusTrader and our
adapter, in `node` and `strategy`): nothing else in fake_tws imports it.

It never hangs: each step of the node has a time limit, and a watchdog ends the process
(exit 3) if the whole demo outlives `--timeout`.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from fake_tws.clock import RealClock
from fake_tws.server import ServerThread

from .report import Printer, Timeline, clock_time, plot

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "demo" / "trading_day.yaml"
OUTPUT = Path("demo-output")
ACCOUNT = "DU123456"
SESSION = timedelta(minutes=12)  # the most virtual time the demo plays
AFTER_DONE = timedelta(seconds=30)  # a little more day once the strategy is flat
STEP_WALL = 0.004  # wall seconds the node runs per virtual second (then until idle)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make demo ARGS=...", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="wall-clock pace, on a port your own client can reach too (until Ctrl-C)",
    )
    parser.add_argument("--duration", type=float, help="with --realtime: stop after N seconds")
    parser.add_argument("--host", default="127.0.0.1", help="with --realtime: listen here")
    parser.add_argument("--port", type=int, default=0, help="with --realtime: 0 = any free")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the PNG goes")
    parser.add_argument("--scenario", type=Path, default=SCENARIO)
    parser.add_argument(
        "--timeout", type=float, default=None, help="hard limit in seconds (default 90)"
    )
    parser.add_argument("--log-level", default="ERROR", help="NautilusTrader's log level")
    return parser.parse_args(argv)


def watchdog(seconds: float, out: TextIO) -> threading.Timer:
    """End the process if the demo is still running after `seconds` (a NautilusTrader
    node stuck connecting ignores SIGTERM, so the demo needs its own way out)."""

    def fire() -> None:
        out.write(f"\ndemo: still running after {seconds:g}s; giving up\n")
        out.flush()
        os._exit(3)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return timer


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    if args.duration is not None and not args.realtime:
        out.write("--duration goes with --realtime\n")
        return 2
    limit = args.timeout
    if limit is None:
        limit = 90.0 if not args.realtime else (args.duration + 60 if args.duration else 0)
    timer = watchdog(limit, out) if limit else None
    try:
        return Demo(args, out).run()
    finally:
        if timer is not None:
            timer.cancel()


class Demo:
    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.p = Printer(out)
        self.timeline = Timeline()
        self.started = time.monotonic()
        overrides: dict[str, Any] = {}
        if args.realtime:
            # Wall-clock time; markets open whatever the hour, so there is data to see.
            overrides = {
                "clock": RealClock(),
                "around_the_clock": True,
                "host": args.host,
                "port": args.port,
            }
        self.server = ServerThread(scenario=args.scenario, **overrides)
        # How far observe() has looked, and the IB link's changes:
        # (when, up, quotes received so far, reqMktData the server has seen).
        self._seen = {"log": 0, "bars": 0, "price_counts": {}}
        self._link_marks: list[tuple[datetime, bool, int, int]] = []

    # -- the server's side --------------------------------------------------------------

    def now(self) -> datetime:
        return self.server.config.clock.now()

    def advance(self, seconds: float) -> None:
        self.server.run_sync(self.server.config.clock.advance, seconds)

    def requests(self, name: str) -> int:
        entries = self.server.server.gateway.journal.entries
        return sum(1 for e in entries if e.name == name)

    # -- the run ------------------------------------------------------------------------

    def run(self) -> int:
        from .node import DemoNode, DemoTimeout, node_config
        from .strategy import DemoStrategy, DemoStrategyConfig

        p = self.p
        with self.server:
            engine = self.server.engine
            mode = "wall clock" if self.args.realtime else "virtual clock"
            p.section("connection")
            p.line(f"fake-tws listening on {self.server.config.host}:{self.server.port}")
            p.line(
                f"scenario '{engine.scenario.name if engine else self.args.scenario}', "
                f"{mode} at {self.now().astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')} "
                f"({clock_time(self.now())} New York)"
            )
            strategy = DemoStrategy(DemoStrategyConfig())
            config = node_config(
                self.server.config.host,
                self.server.port,
                ACCOUNT,
                strategy.config.instrument_ids,
                log_level=self.args.log_level,
                # at wall-clock time New York may be closed: bars from every hour
                regular_hours=not self.args.realtime,
            )
            try:
                with DemoNode(config, strategy) as node:
                    self.node, self.strategy = node, strategy
                    self.client_id = config.exec_clients["INTERACTIVE_BROKERS"].ibg_client_id
                    return self.play()
            except DemoTimeout as e:
                p.section("failed")
                p.line(str(e))
                return 1
            except KeyboardInterrupt:
                p.line("interrupted")
                return 130

    def play(self) -> int:
        p, node, s = self.p, self.node, self.strategy
        t0 = time.monotonic()
        node.start()
        ib = node.ib_client
        p.line(
            f"TradingNode {node.node.trader_id} running after {(time.monotonic() - t0) * 1000:.0f} ms: "
            f"our adapter connected as client id {self.client_id}, accounts {sorted(ib.accounts())}"
        )
        farms = getattr(ib, "farm_status", {})
        if farms:
            p.line(
                "data farms: "
                + ", ".join(f"{k} {'ok' if v.ok else 'down'}" for k, v in farms.items())
            )

        p.section("instruments loaded")
        for instrument in sorted(node.cache.instruments(), key=lambda i: str(i.id)):
            p.line(
                f"{instrument.id!s:18} {type(instrument).__name__:14} "
                f"tick {instrument.price_increment}  {instrument.quote_currency}"
            )

        p.section("subscriptions")
        for value in s.config.instrument_ids:
            p.line(f"quotes  {value}")
        for value in s.config.bar_types:
            p.line(f"bars    {value}")
        if self.args.realtime:
            p.line()
            p.line(
                f"your own client can connect too: host {self.server.config.host} "
                f"port {self.server.port} (another client id); Ctrl-C to stop"
            )
        self.step(1)
        node.run_until(lambda: all(s.record.quotes.values()), "a quote of every instrument")
        p.line(
            "first quotes in: "
            + ", ".join(
                f"{i} {q[-1].bid_price}/{q[-1].ask_price}" for i, q in s.record.quotes.items()
            )
        )
        p.line(
            f"server saw {self.requests('reqMktData')} reqMktData, "
            f"{self.requests('reqHistoricalData')} reqHistoricalData (keepUpToDate)"
        )

        self.drive()
        self.report()
        # A realtime run ends when the user says so, wherever the strategy is.
        return 0 if s.done or self.args.realtime else 1

    # -- moving through the day -----------------------------------------------------------

    def drive(self) -> None:
        """Play the day: a second at a time (virtual), or in real time until the end."""
        s = self.strategy
        start = self.now()
        done_at: datetime | None = None
        deadline = time.monotonic() + (self.args.duration or 0)
        while True:
            if self.args.realtime:
                try:
                    self.node.run_for(0.25)
                except KeyboardInterrupt:
                    self.p.line("stopped by Ctrl-C")
                    break
                self.observe()
                if self.args.duration and time.monotonic() >= deadline:
                    break
                continue
            self.step(1)
            now = self.now()
            if s.done and done_at is None:
                done_at = now
            if done_at is not None and now - done_at >= AFTER_DONE:
                break
            if now - start >= SESSION:
                self.timeline.note(now, "the session's time is up before the strategy was flat")
                break

    def step(self, seconds: int) -> None:
        """One virtual second, then let the node read what it brought."""
        if not self.args.realtime:
            self.advance(seconds)
            self.node.run_for(STEP_WALL)
        self.observe()

    def observe(self) -> None:
        """Note what changed since the last look, at the server's time."""
        now, s, t = self.now(), self.strategy, self.timeline
        counts = self._seen["price_counts"]
        for instrument_id, quotes in s.record.quotes.items():
            if quotes and len(quotes) != counts.get(instrument_id):
                counts[instrument_id] = len(quotes)
                q = quotes[-1]
                mid = (q.bid_price.as_double() + q.ask_price.as_double()) / 2
                t.prices.setdefault(str(instrument_id), []).append((now, mid))
        for text in s.record.log[self._seen["log"] :]:
            t.note(now, f"strategy: {text}")
        self._seen["log"] = len(s.record.log)
        while len(t.fills) < len(s.record.fills):
            fill = s.record.fills[len(t.fills)]
            t.fills.append((now, fill))
            t.note(
                now,
                f"FILL {fill.order_side.name} {fill.last_qty} {fill.instrument_id} "
                f"@ {fill.last_px}",
            )
        for bar in s.record.bars[self._seen["bars"] :]:
            opened = datetime.fromtimestamp(bar.ts_event / 1e9).astimezone()
            revisions = [
                r
                for r in s.record.revisions
                if r.ts_event == bar.ts_event and r.bar_type == bar.bar_type
            ]
            t.note(
                now,
                f"bar {clock_time(opened)[:5]} {bar.bar_type.instrument_id}: O {bar.open} "
                f"H {bar.high} L {bar.low} C {bar.close} V {bar.volume}"
                + (
                    f" (complete; revised {len(revisions)} times as it formed)" if revisions else ""
                ),
            )
        self._seen["bars"] = len(s.record.bars)
        up = self.node.ib_client.is_ib_connected
        if not t.link or t.link[-1][1] != up:
            if t.link or not up:
                quotes = sum(len(q) for q in s.record.quotes.values())
                t.note(now, f"IB link {'restored' if up else 'LOST'} (quotes so far: {quotes})")
                self._link_marks.append((now, up, quotes, self.requests("reqMktData")))
            t.link.append((now, up))

    # -- the report -----------------------------------------------------------------------

    def report(self) -> None:
        p, node, s, t = self.p, self.node, self.strategy, self.timeline
        end = self.now()

        p.section("orders")
        for order in node.cache.orders():
            price = f" @ {order.price}" if order.has_price else ""
            avg = f", avg px {order.avg_px:.2f}" if order.filled_qty else ""
            p.line(
                f"{order.client_order_id}  {order.side.name} {order.quantity} "
                f"{order.instrument_id} {order.order_type.name}{price}: "
                f"{order.status.name}, filled {order.filled_qty}{avg}"
            )

        p.section("fills")
        for when, fill in t.fills:
            p.line(
                f"{clock_time(when)}  {fill.client_order_id}  {fill.order_side.name} "
                f"{fill.last_qty} @ {fill.last_px}  commission {fill.commission}  "
                f"(execution {fill.trade_id})"
            )
        if not t.fills:
            p.line("none")

        p.section("timeline")
        for when, text in t.events:
            p.line(f"{clock_time(when)}  {text}")

        p.section("the reconnect")
        marks = self._link_marks
        if not marks:
            p.line("the IB link never dropped")
        for (lost, _, q1, r1), (back, _, q2, r2) in zip(marks[::2], marks[1::2], strict=False):
            p.line(f"{clock_time(lost)}  IB link lost (1100): the client degraded, data stopped")
            p.line(
                f"{clock_time(back)}  restored after {(back - lost).seconds}s (1102, data "
                f"maintained): {q2 - q1} quotes while down, "
                f"{r2 - r1} new reqMktData (streams resumed by themselves)"
            )
            during = [f for w, f in t.fills if lost < w < back]
            for fill in during:
                p.line(
                    f"filled while the link was down: {fill.order_side.name} {fill.last_qty} @ {fill.last_px}"
                )
        quotes_after = [w for w, _ in t.prices.get("AAPL.NASDAQ", []) if marks and w > marks[-1][0]]
        if marks and marks[-1][1]:
            p.line(f"quotes after the restore: {len(quotes_after)} price changes of AAPL")
        if t.link:
            p.line(f"IB link at the end: {'up' if t.link[-1][1] else 'DOWN'}")

        p.section("final positions and PnL")
        positions = node.cache.positions()
        for position in positions:
            state = "open" if position.is_open else "closed"
            p.line(
                f"{position.instrument_id} {state}: {position.side.name} {position.quantity}, "
                f"avg open {position.avg_px_open:.4f}, avg close {position.avg_px_close or 0:.4f}, "
                f"realized PnL {position.realized_pnl}"
            )
        if not positions:
            p.line("no positions")
        total = sum((Decimal(str(f.commission.as_double())) for _, f in t.fills), Decimal(0))
        p.line(f"commissions paid: {total} USD")
        accounts = node.cache.accounts()
        for account in accounts:
            for currency, balance in account.balances().items():
                p.line(
                    f"account {account.id} {currency} (IB's last account summary): "
                    f"total {balance.total}, free {balance.free}"
                )
        server_positions = self.server.run_sync(self.server.server.gateway.world.positions, ACCOUNT)
        held = {r.contract.symbol: r.position for r in server_positions if r.position}
        p.line(f"the server's positions for {ACCOUNT}: {held or 'flat'}")

        p.section("plot")
        try:
            path = plot(t, s.record.bars, self.args.output / "demo.png", end)
            p.line(f"{path}  ({len(s.record.bars)} bars, {len(t.fills)} fills)")
        except ImportError:
            p.line("no plot: matplotlib is not installed (pip install matplotlib)")
        p.line(
            f"played {clock_time(self.start_time(end))}-{clock_time(end)} New York in "
            f"{time.monotonic() - self.started:.1f}s of wall time; strategy "
            f"{'done: bought, sold, flat' if s.done else 'NOT done'}"
        )

    def start_time(self, end: datetime) -> datetime:
        series = next(iter(self.timeline.prices.values()), [])
        return series[0][0] if series else end
