"""NautilusTrader's own IB adapter in a process of its own, steered by a test.

    python -m tests.conformance.nautilus.child '<json spec>'

Why a process: NautilusTrader's logging is one global Rust logger (a second
`HistoricInteractiveBrokersClient` in one process panics: "attempted to set a logger
after the logging system was already initialized"), a `TradingNode` installs signal
handlers and owns its event loop, and a node stuck connecting does not stop on SIGTERM.
In a child process each run gets a clean runtime, and the test can always end it with
SIGKILL (`support.NautilusProcess`).

The channel: events go out as JSON lines on the stdout this process was started with
(NautilusTrader's own logs are moved to the file `spec["log"]`); commands come in as
JSON lines on stdin. Every event is `{"event": <kind>, ...}`.

spec["mode"] == "historic": a `HistoricInteractiveBrokersClient` connects (event
"connected"), then runs `spec["steps"]` in order, one "step" event each
(`{"name", "ok", "result" | "error"}`), writing what it got to the ParquetDataCatalog
at `spec["catalog"]`; then "done".

spec["mode"] == "node": a `TradingNode` with the IB data and execution clients and one
`Recorder` strategy. Events: "running" (once the strategy started), "quote", "bar",
"historical_bars", "order" (every order event), "position", "snapshot" (on command),
"error", "stopped". Commands: submit, cancel, snapshot, stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import threading
import traceback
from datetime import datetime, timedelta
from typing import Any

from nautilus_trader.adapters.interactive_brokers.common import IB, IB_VENUE, IBContract
from nautilus_trader.adapters.interactive_brokers.config import (
    InteractiveBrokersDataClientConfig,
    InteractiveBrokersExecClientConfig,
    InteractiveBrokersInstrumentProviderConfig,
)
from nautilus_trader.adapters.interactive_brokers.factories import (
    InteractiveBrokersLiveDataClientFactory,
    InteractiveBrokersLiveExecClientFactory,
)
from nautilus_trader.adapters.interactive_brokers.historical.client import (
    HistoricInteractiveBrokersClient,
)
from nautilus_trader.adapters.interactive_brokers.providers import (
    InteractiveBrokersInstrumentProvider,
)
from nautilus_trader.config import (
    LiveDataEngineConfig,
    LiveExecEngineConfig,
    LoggingConfig,
    RoutingConfig,
    StrategyConfig,
    TradingNodeConfig,
)
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.data import Bar, BarType, QuoteTick, TradeTick
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Price, Quantity
from nautilus_trader.persistence.catalog import ParquetDataCatalog
from nautilus_trader.trading.strategy import Strategy

# After this many seconds past its lifetime a child ends itself, whatever it is doing.
EXIT_GRACE = 10.0


class Channel:
    """JSON lines to the parent, on a copy of the original stdout."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "w", buffering=1, encoding="utf-8")
        self._lock = threading.Lock()

    def emit(self, event: str, **fields: Any) -> None:
        line = json.dumps({"event": event, **fields}, default=str)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()


def contract(spec: dict[str, Any]) -> IBContract:
    return IBContract(**spec)


def provider_config(spec: dict[str, Any] | None) -> InteractiveBrokersInstrumentProviderConfig:
    spec = dict(spec or {})
    if "load_contracts" in spec:
        spec["load_contracts"] = frozenset(contract(c) for c in spec["load_contracts"])
    if "load_ids" in spec:
        spec["load_ids"] = frozenset(InstrumentId.from_str(i) for i in spec["load_ids"])
    return InteractiveBrokersInstrumentProviderConfig(**spec)


# -- what goes over the channel ------------------------------------------------------------


def instrument_row(instrument: Instrument) -> dict[str, Any]:
    info = instrument.info or {}
    row: dict[str, Any] = {
        "id": str(instrument.id),
        "class": type(instrument).__name__,
        "raw_symbol": str(instrument.raw_symbol),
        "con_id": info.get("contract", {}).get("conId"),
        "sec_type": info.get("contract", {}).get("secType"),
        "currency": str(instrument.quote_currency),
        "price_increment": str(instrument.price_increment),
        "size_increment": str(instrument.size_increment),
        "multiplier": str(instrument.multiplier),
        "lot_size": None if instrument.lot_size is None else str(instrument.lot_size),
    }
    for name in ("expiration_ns", "strike_price", "option_kind", "underlying", "isin"):
        value = getattr(instrument, name, None)
        if value is not None:
            row[name] = str(value) if not isinstance(value, int) else value
    return row


def bar_row(bar: Bar) -> dict[str, Any]:
    return {
        "bar_type": str(bar.bar_type),
        "open": float(bar.open),
        "high": float(bar.high),
        "low": float(bar.low),
        "close": float(bar.close),
        "volume": str(bar.volume),
        "ts_event": bar.ts_event,
        "ts_init": bar.ts_init,
        "is_revision": bar.is_revision,
    }


def quote_row(tick: QuoteTick) -> dict[str, Any]:
    return {
        "instrument": str(tick.instrument_id),
        "bid": float(tick.bid_price),
        "ask": float(tick.ask_price),
        "bid_size": str(tick.bid_size),
        "ask_size": str(tick.ask_size),
        "ts_event": tick.ts_event,
    }


def trade_row(tick: TradeTick) -> dict[str, Any]:
    return {
        "instrument": str(tick.instrument_id),
        "price": float(tick.price),
        "size": str(tick.size),
        "ts_event": tick.ts_event,
    }


def tick_row(tick: QuoteTick | TradeTick) -> dict[str, Any]:
    return quote_row(tick) if isinstance(tick, QuoteTick) else trade_row(tick)


# -- historic mode ---------------------------------------------------------------------------


def naive_utc(text: str) -> datetime:
    """Their client takes naive datetimes plus a `tz_name` (an aware one raises)."""
    return datetime.fromisoformat(text).replace(tzinfo=None)


async def historic_step(
    client: HistoricInteractiveBrokersClient, catalog: ParquetDataCatalog, step: dict[str, Any]
) -> Any:
    op = step["op"]
    if op == "instruments":
        instruments = await client.request_instruments(
            contracts=[contract(c) for c in step["contracts"]],
            instrument_provider_config=provider_config(step.get("provider")),
        )
        if instruments:
            catalog.write_data(instruments)
        return [instrument_row(i) for i in instruments]
    if op == "instruments_by_id":
        instruments = await client.request_instruments(instrument_ids=step["instrument_ids"])
        return [instrument_row(i) for i in instruments]
    if op == "contract_details":
        # Their historic client has no public call for raw details; their provider does.
        provider = InteractiveBrokersInstrumentProvider(
            client._client, client._clock, provider_config(step.get("provider"))
        )
        details = await provider.get_contract_details(contract(step["contract"]))
        return [
            {
                "con_id": d.contract.conId,
                "sec_type": d.contract.secType,
                "symbol": d.contract.symbol,
                "currency": d.contract.currency,
                "cusip": getattr(d, "cusip", ""),
                "maturity": getattr(d, "maturity", ""),
                "coupon": getattr(d, "coupon", 0),
            }
            for d in details or []
        ]
    if op == "bars":
        bars = await client.request_bars(
            bar_specifications=step["bar_specs"],
            end_date_time=naive_utc(step["end"]),
            tz_name="UTC",
            duration=step.get("duration"),
            start_date_time=naive_utc(step["start"]) if step.get("start") else None,
            contracts=[contract(c) for c in step.get("contracts", [])],
            instrument_ids=step.get("instrument_ids"),
            use_rth=step.get("use_rth", False),
            timeout=step.get("request_timeout", 10),
        )
        if bars:
            catalog.write_data(bars)
        return [bar_row(b) for b in bars]
    if op == "ticks":
        ticks = await client.request_ticks(
            step["tick_type"],
            start_date_time=naive_utc(step["start"]),
            end_date_time=naive_utc(step["end"]),
            tz_name="UTC",
            contracts=[contract(c) for c in step.get("contracts", [])],
            instrument_ids=step.get("instrument_ids"),
            use_rth=step.get("use_rth", False),
            timeout=step.get("request_timeout", 10),
        )
        if ticks:
            catalog.write_data(ticks)
        return [tick_row(t) for t in ticks]
    raise ValueError(f"unknown step {op!r}")


async def run_historic(spec: dict[str, Any], channel: Channel) -> None:
    client = HistoricInteractiveBrokersClient(
        host="127.0.0.1", port=spec["port"], client_id=spec["client_id"], log_level="INFO"
    )
    await asyncio.wait_for(client.connect(), spec.get("connect_timeout", 10))
    ib = client._client
    if not ib._is_client_ready.is_set():
        raise ConnectionError("HistoricInteractiveBrokersClient.connect() returned unready")
    channel.emit(
        "connected",
        accounts=sorted(ib.accounts()),
        server_version=ib._eclient.serverVersion(),
        next_order_id=ib._next_valid_order_id,
    )
    catalog = ParquetDataCatalog(spec["catalog"])
    for step in spec["steps"]:
        try:
            result = await asyncio.wait_for(
                historic_step(client, catalog, step), step.get("timeout", 15)
            )
        except Exception as exc:
            channel.emit(
                "step", name=step["name"], ok=False, error=repr(exc), trace=traceback.format_exc()
            )
        else:
            channel.emit("step", name=step["name"], ok=True, result=result)
    ib.stop()
    channel.emit("done")


# -- node mode --------------------------------------------------------------------------------


class Recorder(Strategy):
    """Subscribes to what the spec names, tells the parent everything that arrives, and
    submits or cancels orders when told."""

    def __init__(self, spec: dict[str, Any], channel: Channel) -> None:
        super().__init__(StrategyConfig(strategy_id="RECORDER-001", order_id_tag="001"))
        self.spec = spec
        self.channel = channel
        self.quiet: set[str] = set()  # bar types requested as barriers: not reported

    def on_start(self) -> None:
        for instrument_id in self.spec.get("quotes", []):
            self.subscribe_quote_ticks(InstrumentId.from_str(instrument_id))
        for bar_type in self.spec.get("bars", []):
            self.subscribe_bars(BarType.from_str(bar_type))
        for request in self.spec.get("request_bars", []):
            self.request(request["bar_type"], request["seconds"], tag=request["bar_type"])
        self.channel.emit("running", **snapshot(self))

    def request(self, bar_type: str, seconds: float, tag: str, *, quiet: bool = False) -> None:
        """request_bars; "request_done" once the response has been handled."""
        end = self.clock.utc_now()
        if quiet:
            self.quiet.add(bar_type)

        def done(request_id: Any) -> None:
            self.channel.emit("request_done", tag=tag, request_id=str(request_id))

        self.request_bars(
            BarType.from_str(bar_type),
            start=end - timedelta(seconds=seconds),
            end=end,
            callback=done,
        )

    def barrier(self, tag: str) -> None:
        """A round trip through the Gateway: its "request_done" comes after every message
        the server sent before answering, since their client handles messages in order."""
        instrument = self.spec["barrier_instrument"]
        self.request(f"{instrument}-1-MINUTE-MID-EXTERNAL", 120, tag=tag, quiet=True)

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.channel.emit("quote", **quote_row(tick))

    def on_bar(self, bar: Bar) -> None:
        self.channel.emit("bar", **bar_row(bar))

    def on_historical_data(self, data: Any) -> None:
        if isinstance(data, Bar) and str(data.bar_type) not in self.quiet:
            self.channel.emit("historical_bar", **bar_row(data))

    def on_order_event(self, event: Any) -> None:
        fields = {
            "type": type(event).__name__,
            "client_order_id": str(event.client_order_id),
            "venue_order_id": str(getattr(event, "venue_order_id", None) or ""),
        }
        if hasattr(event, "last_qty"):
            fields |= {
                "last_qty": str(event.last_qty),
                "last_px": float(event.last_px),
                "commission": str(event.commission),
                "trade_id": str(event.trade_id),
            }
        if hasattr(event, "reason"):
            fields["reason"] = str(event.reason)
        self.channel.emit("order", **fields)

    def on_position_event(self, event: Any) -> None:
        self.channel.emit(
            "position",
            type=type(event).__name__,
            instrument=str(event.instrument_id),
            signed_qty=float(event.signed_qty),
            avg_px_open=float(event.avg_px_open),
        )

    # -- commands from the parent ----------------------------------------------------------

    def submit(self, cmd: dict[str, Any]) -> str:
        instrument_id = InstrumentId.from_str(cmd["instrument"])
        side = OrderSide[cmd["side"]]
        quantity = Quantity.from_str(str(cmd["quantity"]))
        if cmd["type"] == "MARKET":
            order = self.order_factory.market(instrument_id, side, quantity)
        elif cmd["type"] == "LIMIT":
            order = self.order_factory.limit(
                instrument_id,
                side,
                quantity,
                Price.from_str(str(cmd["price"])),
                time_in_force=TimeInForce[cmd.get("tif", "DAY")],
            )
        else:
            raise ValueError(f"unknown order type {cmd['type']!r}")
        self.submit_order(order)
        return str(order.client_order_id)

    def cancel(self, cmd: dict[str, Any]) -> None:
        order = self.cache.order(ClientOrderId(cmd["client_order_id"]))
        if order is None:
            raise KeyError(cmd["client_order_id"])
        self.cancel_order(order)


def snapshot(strategy: Strategy) -> dict[str, Any]:
    """What the node's cache holds: instruments, account, positions, orders."""
    cache = strategy.cache
    account = cache.account_for_venue(IB_VENUE)
    balances, margins = [], []
    if account is not None:
        balances = [
            {
                "currency": str(b.currency),
                "total": float(b.total),
                "free": float(b.free),
                "locked": float(b.locked),
            }
            for b in account.balances().values()
        ]
        # The margins IB reported last: MarginAccount.apply() keeps only the first
        # state's margins in account.margins(), later states update the balances only.
        margins = [
            {
                "instrument": str(m.instrument_id),
                "initial": float(m.initial),
                "maintenance": float(m.maintenance),
            }
            for m in account.last_event.margins
        ]
    positions: dict[str, float] = {}
    for position in cache.positions_open():
        key = str(position.instrument_id)
        positions[key] = positions.get(key, 0.0) + float(position.signed_qty)
    return {
        "instruments": [instrument_row(i) for i in cache.instruments()],
        "account_id": None if account is None else str(account.id),
        "balances": balances,
        "margins": margins,
        "positions": positions,
        "orders": [
            {
                "client_order_id": str(o.client_order_id),
                "venue_order_id": str(o.venue_order_id or ""),
                "status": o.status_string(),
                "side": str(o.side_string()),
                "quantity": str(o.quantity),
                "filled_qty": str(o.filled_qty),
                "avg_px": float(o.avg_px or 0.0),
            }
            for o in cache.orders()
        ],
    }


def node_config(spec: dict[str, Any]) -> TradingNodeConfig:
    provider = provider_config(spec.get("provider"))
    return TradingNodeConfig(
        trader_id="CONFORMANCE-001",
        logging=LoggingConfig(log_level=spec.get("log_level", "INFO"), log_colors=False),
        data_clients={
            IB: InteractiveBrokersDataClientConfig(
                ibg_host="127.0.0.1",
                ibg_port=spec["port"],
                ibg_client_id=spec["client_id"],
                use_regular_trading_hours=False,
                handle_revised_bars=spec.get("handle_revised_bars", False),
                instrument_provider=provider,
                connection_timeout=spec.get("connect_timeout", 10),
                request_timeout=10,
                routing=RoutingConfig(default=True),
            ),
        },
        exec_clients={
            IB: InteractiveBrokersExecClientConfig(
                ibg_host="127.0.0.1",
                ibg_port=spec["port"],
                ibg_client_id=spec["client_id"],
                account_id=spec["account"],
                instrument_provider=provider,
                connection_timeout=spec.get("connect_timeout", 10),
                routing=RoutingConfig(default=True),
            ),
        },
        data_engine=LiveDataEngineConfig(
            time_bars_timestamp_on_close=False,
            validate_data_sequence=True,
        ),
        exec_engine=LiveExecEngineConfig(reconciliation=True),
        timeout_connection=spec.get("connect_timeout", 10),
        timeout_reconciliation=5.0,
        timeout_portfolio=5.0,
        timeout_disconnection=2.0,
        timeout_post_stop=0.0,
        timeout_shutdown=2.0,
    )


async def command_loop(recorder: Recorder, channel: Channel, commands: asyncio.Queue) -> None:
    while True:
        cmd = await commands.get()
        if cmd is None or cmd.get("cmd") == "stop":
            return
        try:
            if cmd["cmd"] == "submit":
                channel.emit("submitted", tag=cmd.get("tag"), client_order_id=recorder.submit(cmd))
            elif cmd["cmd"] == "cancel":
                recorder.cancel(cmd)
            elif cmd["cmd"] == "barrier":
                recorder.barrier(cmd["tag"])
            elif cmd["cmd"] == "snapshot":
                channel.emit("snapshot", tag=cmd.get("tag"), **snapshot(recorder))
            else:
                raise ValueError(f"unknown command {cmd!r}")
        except Exception as exc:
            channel.emit("error", command=cmd, error=repr(exc), trace=traceback.format_exc())


def read_commands(loop: asyncio.AbstractEventLoop, commands: asyncio.Queue) -> None:
    """stdin lines to `commands` (a thread: stdin is blocking); EOF is a stop."""
    for line in sys.stdin:
        if line.strip():
            loop.call_soon_threadsafe(commands.put_nowait, json.loads(line))
    with contextlib.suppress(RuntimeError):  # the loop may be closed by then
        loop.call_soon_threadsafe(commands.put_nowait, None)


def run_node(spec: dict[str, Any], channel: Channel) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    node = TradingNode(config=node_config(spec), loop=loop)
    recorder = Recorder(spec, channel)
    node.trader.add_strategy(recorder)
    node.add_data_client_factory(IB, InteractiveBrokersLiveDataClientFactory)
    node.add_exec_client_factory(IB, InteractiveBrokersLiveExecClientFactory)
    commands: asyncio.Queue = asyncio.Queue()
    threading.Thread(target=read_commands, args=(loop, commands), daemon=True).start()

    async def body() -> None:
        node.build()  # their clients connect here, on a loop not yet running
        run = asyncio.ensure_future(node.run_async())
        try:
            await command_loop(recorder, channel, commands)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(node.stop_async(), 10)
            run.cancel()
            await asyncio.gather(run, return_exceptions=True)

    try:
        loop.run_until_complete(asyncio.wait_for(body(), spec["lifetime"]))
    finally:
        # Bounded: their client's connect swallows CancelledError ("Connection cancelled")
        # and carries on waiting 15 s for managedAccounts, so a cancel alone may not end it.
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=1))
        node.dispose()
        channel.emit("stopped")


def main(argv: list[str]) -> None:
    spec = json.loads(argv[1])
    channel = Channel(os.dup(1))
    log = os.open(spec["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    # The last word is ours: whatever hangs, this process ends.
    threading.Timer(spec["lifetime"] + EXIT_GRACE, os._exit, args=(3,)).start()
    code = 0
    try:
        if spec["mode"] == "historic":
            asyncio.run(asyncio.wait_for(run_historic(spec, channel), spec["lifetime"]))
        elif spec["mode"] == "node":
            run_node(spec, channel)
        else:
            raise ValueError(f"unknown mode {spec['mode']!r}")
    except BaseException as exc:
        channel.emit("error", error=repr(exc), trace=traceback.format_exc())
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # leave no executor thread or socket reader to wait for


if __name__ == "__main__":
    main(sys.argv)
