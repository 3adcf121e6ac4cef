"""What the demo prints and draws: readable sections, and a PNG of prices with fills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
GAP = 10.0  # seconds without a price change drawn as a gap


@dataclass
class Timeline:
    """What the demo's driver saw, stamped with the server's time (virtual or real)."""

    prices: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    events: list[tuple[datetime, str]] = field(default_factory=list)
    fills: list[tuple[datetime, Any]] = field(default_factory=list)  # (when, OrderFilled)
    link: list[tuple[datetime, bool]] = field(default_factory=list)  # IB link down/up

    def note(self, when: datetime, text: str) -> None:
        self.events.append((when, text))

    def outages(self, end: datetime) -> list[tuple[datetime, datetime]]:
        spans, down = [], None
        for when, up in self.link:
            if not up and down is None:
                down = when
            elif up and down is not None:
                spans.append((down, when))
                down = None
        if down is not None:
            spans.append((down, end))
        return spans


def clock_time(when: datetime) -> str:
    return when.astimezone(NEW_YORK).strftime("%H:%M:%S")


class Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def section(self, title: str) -> None:
        self.out.write(f"\n== {title} ==\n")
        self.out.flush()

    def line(self, text: str = "") -> None:
        self.out.write(f"  {text}\n" if text else "\n")
        self.out.flush()


def plot(timeline: Timeline, bars: list[Any], path: Path, end: datetime) -> Path:
    """Each instrument's mid price over the session, the trade's bars' closes, the
    strategy's fills (green buys, red sells) and the IB link outage shaded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    names = [name for name, points in timeline.prices.items() if points]
    fig, axes = plt.subplots(len(names), 1, figsize=(10, 2.6 * len(names)), sharex=True)
    axes = [axes] if len(names) == 1 else list(axes)
    outages = timeline.outages(end)
    for ax, name in zip(axes, names, strict=True):
        xs: list[datetime] = []
        ys: list[float] = []
        for when, price in timeline.prices[name]:
            if xs and (when - xs[-1]).total_seconds() > GAP:
                xs.append(when)
                ys.append(float("nan"))  # no quotes for a while: a gap, not a line
            xs.append(when)
            ys.append(price)
        ax.plot(xs, ys, lw=0.8, label=f"{name} mid")
        mine = [b for b in bars if str(b.bar_type.instrument_id) == name]
        if mine:
            ax.step(
                [datetime.fromtimestamp(b.ts_event / 1e9, NEW_YORK) for b in mine],
                [b.close.as_double() for b in mine],
                where="post",
                lw=1.2,
                alpha=0.7,
                label="1-minute bar close",
            )
        for when, fill in timeline.fills:
            if str(fill.instrument_id) != name:
                continue
            buy = fill.order_side.name == "BUY"
            ax.scatter(
                [when],
                [fill.last_px.as_double()],
                marker="^" if buy else "v",
                s=90,
                color="tab:green" if buy else "tab:red",
                zorder=5,
            )
            ax.annotate(
                f"{'BUY' if buy else 'SELL'} {fill.last_qty}",
                (when, fill.last_px.as_double()),
                textcoords="offset points",
                xytext=(5, 8 if buy else -14),
                fontsize=8,
            )
        for start, stop in outages:
            ax.axvspan(start, stop, color="tab:orange", alpha=0.2, label="IB link down")
        ax.set_ylabel(name)
        ax.legend(loc="upper left", fontsize=7)
        ax.grid(alpha=0.3)
    axes[-1].xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz=NEW_YORK))
    axes[-1].set_xlabel("New York time")
    fig.suptitle("fake-tws demo: prices and the strategy's fills")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
