"""The demo's example strategy: watch quotes and 1-minute bars, buy once on a simple
momentum signal with a limit order at the ask, hold a few bars, then sell at market.

Everything it sees and does is kept (``quotes``, ``bars``, ``log``) for the report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nautilus_trader.config import StrategyConfig
from nautilus_trader.model.data import Bar, BarType, QuoteTick
from nautilus_trader.model.enums import OrderSide, TimeInForce
from nautilus_trader.model.events import OrderFilled
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.model.objects import Quantity
from nautilus_trader.trading.strategy import Strategy


class DemoStrategyConfig(StrategyConfig, frozen=True):
    instrument_ids: tuple[str, ...] = ("AAPL.NASDAQ", "MSFT.NASDAQ", "EUR/USD.IDEALPRO")
    bar_types: tuple[str, ...] = ("AAPL.NASDAQ-1-MINUTE-LAST-EXTERNAL",)
    trade: str = "AAPL.NASDAQ"
    quantity: int = 100
    # Buy on the first bar that closes above the one before, at the latest on this bar.
    latest_entry_bar: int = 3
    hold_bars: int = 2  # complete bars to hold after the entry is filled


@dataclass
class Record:
    """What the strategy saw, for the report and the plot."""

    quotes: dict[InstrumentId, list[QuoteTick]] = field(default_factory=dict)
    bars: list[Bar] = field(default_factory=list)  # complete bars, as last revised
    versions: dict[BarType, dict[int, Bar]] = field(default_factory=dict)
    revisions: list[Bar] = field(default_factory=list)
    fills: list[OrderFilled] = field(default_factory=list)
    log: list[str] = field(default_factory=list)  # its decisions, in order


class DemoStrategy(Strategy):
    def __init__(self, config: DemoStrategyConfig) -> None:
        super().__init__(config)
        self.trade_id = InstrumentId.from_str(config.trade)
        self.record = Record()
        self.entry: Any = None
        self.exit: Any = None
        self._bars_since_fill = 0

    # -- what it asks for ---------------------------------------------------------------

    def on_start(self) -> None:
        for value in self.config.instrument_ids:
            instrument_id = InstrumentId.from_str(value)
            self.record.quotes[instrument_id] = []
            self.subscribe_quote_ticks(instrument_id)
        for value in self.config.bar_types:
            self.subscribe_bars(BarType.from_str(value))

    # -- what it receives ---------------------------------------------------------------

    def on_quote_tick(self, tick: QuoteTick) -> None:
        self.record.quotes.setdefault(tick.instrument_id, []).append(tick)

    def on_bar(self, bar: Bar) -> None:
        """With ``handle_revised_bars`` a bar arrives as soon as it opens and again, as a
        revision, whenever it changes (each update, late trades); a bar is complete once
        the next one opens, and its last version is the one that counts."""
        versions = self.record.versions.setdefault(bar.bar_type, {})
        if bar.is_revision:
            self.record.revisions.append(bar)
            versions[bar.ts_event] = bar
            return
        previous = versions.get(max(versions)) if versions else None
        versions[bar.ts_event] = bar
        if previous is None:
            return
        self.record.bars.append(previous)
        if bar.bar_type.instrument_id != self.trade_id:
            return
        if self.entry is None:
            self._maybe_enter(previous)
        elif self.entry.is_closed and self.exit is None:
            self._bars_since_fill += 1
            if self._bars_since_fill >= self.config.hold_bars:
                self._exit()

    def on_event(self, event: Any) -> None:
        if isinstance(event, OrderFilled):
            self.record.fills.append(event)

    # -- what it does -------------------------------------------------------------------

    def _maybe_enter(self, bar: Bar) -> None:
        bars = [b for b in self.record.bars if b.bar_type == bar.bar_type]
        rising = len(bars) >= 2 and bars[-1].close > bars[-2].close
        if not (rising or len(bars) >= self.config.latest_entry_bar):
            return
        quote = self.cache.quote_tick(self.trade_id)
        instrument = self.cache.instrument(self.trade_id)
        if quote is None or instrument is None:
            return
        why = (
            f"the {_minute(bar)} bar closed up ({bars[-2].close} -> {bar.close})"
            if rising
            else f"no rising bar by {_minute(bar)}"
        )
        self.entry = self.order_factory.limit(
            self.trade_id,
            OrderSide.BUY,
            Quantity.from_int(self.config.quantity),
            quote.ask_price,
            time_in_force=TimeInForce.DAY,
        )
        self._say(f"signal: {why}; BUY {self.config.quantity} LMT @ {quote.ask_price}")
        self.submit_order(self.entry)

    def _exit(self) -> None:
        quantity = self.entry.filled_qty
        self.exit = self.order_factory.market(self.trade_id, OrderSide.SELL, quantity)
        self._say(f"held {self.config.hold_bars} bars: SELL {quantity} MKT")
        self.submit_order(self.exit)

    def _say(self, text: str) -> None:
        self.record.log.append(text)

    @property
    def done(self) -> bool:
        """The round trip is over: bought, sold, flat."""
        return self.exit is not None and self.exit.is_closed


def _minute(bar: Bar) -> str:
    from zoneinfo import ZoneInfo

    from nautilus_trader.core.datetime import unix_nanos_to_dt

    return unix_nanos_to_dt(bar.ts_event).astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
