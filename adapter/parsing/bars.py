"""Bar streams: IB's keep-up-to-date historical bars and 5-second real-time bars, as
NautilusTrader bars, each emitted once, in order.

``KeepUpToDateBars`` reads a ``reqHistoricalData(keepUpToDate=True)`` stream (the
client's ``BarUpdate``/``HistoricalBarsEnd`` events):

- The initial answer is history: bars that completed before the subscription are not
  emitted (unless ``start_ns`` asks for them), the last one is the bar still forming.
- Then TWS revises the forming bar every few seconds (same date), and moves on to the
  next bar (a later date). With ``handle_revised_bars=False`` a bar is emitted once, when
  complete: when the next bar starts, or when its period is over by the server's clock
  (``call_later``), whichever comes first. With ``handle_revised_bars=True`` the first
  version of a bar is emitted with ``is_revision=False`` and every changed version after
  it with ``is_revision=True``.
- After a reconnect the client sends the request again and the initial answer comes
  again: bars newer than the last one emitted fill the gap, older ones are dropped; if
  the history does not reach back to the last bar emitted, ``warn`` says which bars are
  missing.
- A bar dated before the one forming is out of sequence and dropped.

``ts_event`` is the bar's open (IB's bar date), as NautilusTrader's adapter has it with
``LiveDataEngineConfig(time_bars_timestamp_on_close=False)``; ``ts_init`` is the local
clock when the bar is emitted, so it never goes backwards.

``RealTimeBars`` reads ``reqRealTimeBars``: each bar arrives complete; a bar not newer
than the last is dropped, and a gap after a reconnect is reported to ``on_gap`` (which
the data client fills from history).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ibapi.common import BarData, RealTimeBar
from nautilus_trader.model.data import Bar, BarType
from nautilus_trader.model.instruments import Instrument

from adapter.parsing.data import NANOS, bar_close_ns, bar_open_ns, make_bar

GRACE_NS = NANOS  # how long after a bar's end its completion is assumed without a next bar


class KeepUpToDateBars:
    """One keep-up-to-date bar subscription (see the module docstring)."""

    def __init__(
        self,
        bar_type: BarType,
        instrument: Instrument,
        *,
        handle_revised_bars: bool,
        now: Callable[[], int],
        server_now: Callable[[], int],
        call_later: Callable[[float, Callable[[], None]], Any],
        emit: Callable[[Bar], None],
        warn: Callable[[str], None],
        price_magnifier: int = 1,
        start_ns: int | None = None,
    ) -> None:
        self.bar_type = bar_type
        self._instrument = instrument
        self._revised = handle_revised_bars
        self._now = now
        self._server_now = server_now
        self._call_later = call_later
        self._emit_bar = emit
        self._warn = warn
        self._magnifier = price_magnifier
        self._start_ns = start_ns
        self._initial: list[BarData] = []
        self._in_initial = True
        self._current: BarData | None = None
        self._current_open: int | None = None
        self._last_emitted_open: int | None = None  # open of the newest bar emitted
        self._last_emitted: tuple | None = None  # its values, to skip unchanged revisions
        self._timer: Any = None
        self.emitted = 0

    # -- events -------------------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        kind = type(event).__name__
        if kind == "BarUpdate":
            if event.is_update:
                self._on_update(event.bar)
            else:
                if not self._in_initial:  # the stream was sent again (reconnect)
                    self._in_initial = True
                    self._initial = []
                self._initial.append(event.bar)
        elif kind == "HistoricalBarsEnd":
            self._on_initial_end()

    def _on_initial_end(self) -> None:
        bars = sorted(self._initial, key=lambda b: self._open(b))
        self._initial = []
        self._in_initial = False
        if not bars:
            return
        *complete, forming = bars
        if self._last_emitted_open is None:
            self._first_answer(complete)
        else:
            self._answer_after_reconnect(complete)
        self._set_current(forming)
        if self._revised:
            self._emit_version(forming, revision=False)

    def _first_answer(self, complete: list[BarData]) -> None:
        start = self._start_ns
        for bar in complete:
            opened = self._open(bar)
            if start is not None and bar_close_ns(opened, self.bar_type) >= start:
                self._emit(bar, opened, revision=False)
        if complete and self._last_emitted_open is None:
            self._last_emitted_open = self._open(complete[-1])  # history: never emit it

    def _answer_after_reconnect(self, complete: list[BarData]) -> None:
        last = self._last_emitted_open
        assert last is not None
        newer = [b for b in complete if self._open(b) > last]
        if self._revised and self._current_open == last:
            # the bar that was forming when the stream broke: its final version
            for bar in complete:
                if self._open(bar) == last:
                    self._emit_version(bar, revision=True)
        step = int(self.bar_type.spec.timedelta.total_seconds() * NANOS)
        oldest = self._open(complete[0]) if complete else None
        if oldest is not None and oldest > last + step:
            self._warn(
                f"{self.bar_type}: history after the reconnect starts at {_iso(oldest)}; "
                f"bars from {_iso(last + step)} were not received",
            )
        for bar in newer:
            self._emit(bar, self._open(bar), revision=False)

    def _on_update(self, bar: BarData) -> None:
        opened = self._open(bar)
        if self._current_open is not None and opened < self._current_open:
            return  # out of sequence: older than the bar forming
        if opened == self._current_open:
            self._current = bar
            if self._revised:
                self._emit_version(bar, revision=True)
            else:
                self._schedule_completion()
            return
        previous, previous_open = self._current, self._current_open
        if (
            not self._revised
            and previous is not None
            and previous_open is not None
            and (self._last_emitted_open is None or previous_open > self._last_emitted_open)
        ):
            self._emit(previous, previous_open, revision=False)
        self._set_current(bar)
        if self._revised:
            self._emit_version(bar, revision=False)

    def _set_current(self, bar: BarData) -> None:
        self._current = bar
        self._current_open = self._open(bar)
        if not self._revised:
            self._schedule_completion()

    # -- completion by time ---------------------------------------------------------------------

    def _schedule_completion(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        opened = self._current_open
        if opened is None or (
            self._last_emitted_open is not None and opened <= self._last_emitted_open
        ):
            return
        due = bar_close_ns(opened, self.bar_type) + GRACE_NS - self._server_now()
        self._timer = self._call_later(max(due, 0) / NANOS, self._on_period_over)

    def _on_period_over(self) -> None:
        self._timer = None
        bar, opened = self._current, self._current_open
        if bar is None or opened is None:
            return
        if self._last_emitted_open is not None and opened <= self._last_emitted_open:
            return
        if bar_close_ns(opened, self.bar_type) > self._server_now():
            self._schedule_completion()  # the server's clock is behind ours: not yet
            return
        self._emit(bar, opened, revision=False)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- emitting -------------------------------------------------------------------------------

    def _emit_version(self, bar: BarData, revision: bool) -> None:
        opened = self._open(bar)
        if self._last_emitted_open is not None and opened < self._last_emitted_open:
            return
        if revision and opened != self._last_emitted_open:
            revision = False  # the first version of this bar we emit
        values = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        if revision and values == self._last_emitted:
            return
        self._emit(bar, opened, revision=revision)

    def _emit(self, bar: BarData, opened: int, *, revision: bool) -> None:
        self._last_emitted_open = opened
        self._last_emitted = (bar.open, bar.high, bar.low, bar.close, bar.volume)
        if bar.open == 0 and bar.high == 0 and bar.low == 0 and bar.close == 0:
            return  # IB's empty bar
        self.emitted += 1
        self._emit_bar(
            make_bar(
                self.bar_type,
                bar,
                self._instrument,
                ts_event=opened,
                ts_init=self._now(),
                is_revision=revision,
                price_magnifier=self._magnifier,
            ),
        )

    def _open(self, bar: BarData) -> int:
        return bar_open_ns(bar.date, self.bar_type)


class RealTimeBars:
    """One ``reqRealTimeBars`` subscription (5-second bars, each complete)."""

    def __init__(
        self,
        bar_type: BarType,
        instrument: Instrument,
        *,
        now: Callable[[], int],
        emit: Callable[[Bar], None],
        on_gap: Callable[[int, int], None] | None = None,
        price_magnifier: int = 1,
    ) -> None:
        self.bar_type = bar_type
        self._instrument = instrument
        self._now = now
        self._emit_bar = emit
        self._on_gap = on_gap
        self._magnifier = price_magnifier
        self.last_open: int | None = None
        self.reconnected = False  # set by the data client when the stream was sent again
        self._held: list[RealTimeBar] | None = None  # bars waiting while a gap is filled

    def __call__(self, bar: RealTimeBar) -> None:
        if self._held is not None:
            self._held.append(bar)
            return
        opened = int(bar.time) * NANOS
        last = self.last_open
        if last is not None and opened <= last:
            return  # already emitted (the stream restarted) or out of order
        if self.reconnected:
            self.reconnected = False
            if last is not None and opened > last + 5 * NANOS and self._on_gap is not None:
                self._held = [bar]
                self._on_gap(last, opened)
                return
        self._emit(bar, opened)

    def fill(self, bars: list[BarData | RealTimeBar]) -> None:
        """Bars of the gap (from history), then the live bars held meanwhile."""
        held, self._held = self._held or [], None
        for bar in sorted(bars, key=_bar_time):
            opened = _bar_time(bar) * NANOS
            if (self.last_open is None or opened > self.last_open) and (
                not held or opened < int(held[0].time) * NANOS
            ):
                self._emit(bar, opened)
        for bar in held:
            self(bar)

    def _emit(self, bar: BarData | RealTimeBar, opened: int) -> None:
        self.last_open = opened
        self._emit_bar(
            make_bar(
                self.bar_type,
                bar,
                self._instrument,
                ts_event=opened,
                ts_init=self._now(),
                price_magnifier=self._magnifier,
            ),
        )


def _bar_time(bar: BarData | RealTimeBar) -> int:
    return int(bar.time) if isinstance(bar, RealTimeBar) else int(bar.date)


def _iso(ns: int) -> str:
    import pandas as pd

    return pd.Timestamp(ns, tz="UTC").isoformat()
