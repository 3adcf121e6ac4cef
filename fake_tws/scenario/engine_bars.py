"""Bar streams as the scenario engine sees them: on the wire, with no hook in the
historical or market data families.

The engine watches requests (reqHistoricalData with keepUpToDate, reqRealTimeBars, and
their cancels) and the messages going out (historicalData, historicalDataUpdate,
realtimeBar) through the session's send filter:

- bar_closed: a keep-up-to-date stream's bar is final when an update for a later bar
  goes out (its last revision is the closed bar); every realtimeBar is a closed 5-second
  bar.
- revise_bar: the stream's current bar (the newest the client was sent) goes out again
  at once, same date, with the deltas added; the stream's later updates of that bar carry
  the deltas too, so volume keeps growing from the revised value instead of snapping
  back. Deltas end with their bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import msgspec

from fake_tws.ibtypes import BarData
from fake_tws.protocol.messages import Request, Response
from fake_tws.protocol.requests import historical as hq
from fake_tws.protocol.requests import market_data as mq
from fake_tws.protocol.responses import historical as hs
from fake_tws.protocol.responses import market_data as ms
from fake_tws.session import Session

from . import events as ev
from .engine_config import decimal


@dataclass(frozen=True)
class Deltas:
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: float = 0.0

    def __add__(self, other: Deltas) -> Deltas:
        return Deltas(
            self.high + other.high,
            self.low + other.low,
            self.close + other.close,
            self.volume + other.volume,
        )


@dataclass
class BarStream:
    req_id: int
    symbol: str
    bar_size: str
    realtime: bool = False
    last: BarData | None = None  # the newest bar sent, as sent
    raw_last: BarData | None = None  # the same before any revision
    deltas: dict[str, Deltas] = field(default_factory=dict)  # by bar date


def revised(bar: BarData, deltas: Deltas) -> BarData:
    close = round(bar.close + deltas.close, 10)
    high = max(round(bar.high + deltas.high, 10), close, bar.open)
    low = min(round(bar.low + deltas.low, 10), close, bar.open)
    volume = bar.volume
    if deltas.volume:
        volume = (volume or Decimal(0)) + decimal(deltas.volume)
    return msgspec.structs.replace(bar, high=high, low=low, close=close, volume=volume)


class BarWatch:
    def __init__(self, on_closed: Callable[[Session, ev.BarClosed], None]) -> None:
        self._streams: dict[tuple[Session, int], BarStream] = {}
        self._on_closed = on_closed

    def streams(self, session: Session | None = None) -> list[tuple[Session, BarStream]]:
        return [
            (s, stream)
            for (s, _), stream in self._streams.items()
            if session is None or s is session
        ]

    def forget(self, session: Session) -> None:
        for key in [k for k in self._streams if k[0] is session]:
            del self._streams[key]

    # -- requests ----------------------------------------------------------------------

    def on_request(self, session: Session, request: Request) -> None:
        match request:
            case hq.ReqHistoricalData(keepUpToDate=True):
                self._streams[(session, request.reqId)] = BarStream(
                    request.reqId, request.contract.symbol, request.barSizeSetting
                )
            case mq.ReqRealTimeBars():
                self._streams[(session, request.reqId)] = BarStream(
                    request.reqId,
                    request.contract.symbol,
                    f"{request.barSize} secs",
                    realtime=True,
                )
            case hq.CancelHistoricalData() | mq.CancelRealTimeBars():
                self._streams.pop((session, request.reqId), None)
            case _:
                pass

    # -- messages going out --------------------------------------------------------------

    def outgoing(self, session: Session, message: Response) -> Response:
        if not self._streams:
            return message
        match message:
            case hs.HistoricalData():
                stream = self._streams.get((session, message.reqId))
                if stream is not None and message.bars:
                    stream.last = stream.raw_last = message.bars[-1]
            case hs.HistoricalDataUpdate():
                stream = self._streams.get((session, message.reqId))
                if stream is not None:
                    bar = stream.raw_last = message.bar
                    deltas = stream.deltas.get(bar.date)
                    if deltas is not None:
                        bar = revised(bar, deltas)
                        message = msgspec.structs.replace(message, bar=bar)
                    last = stream.last
                    if last is not None and last.date != bar.date:
                        stream.deltas.pop(last.date, None)
                        self._closed(session, stream, last)
                    stream.last = bar
            case ms.RealtimeBar():
                stream = self._streams.get((session, message.reqId))
                if stream is not None:
                    b = message.bar
                    as_bar = BarData(
                        date=str(b.time),
                        open=b.open,
                        high=b.high,
                        low=b.low,
                        close=b.close,
                        volume=b.volume,
                        wap=b.wap,
                        barCount=b.count,
                    )
                    self._closed(session, stream, as_bar)
            case _:
                pass
        return message

    def _closed(self, session: Session, stream: BarStream, bar: BarData) -> None:
        self._on_closed(
            session,
            ev.BarClosed(
                clientId=session.client_id or 0,
                reqId=stream.req_id,
                symbol=stream.symbol,
                barSize=stream.bar_size,
                open=bar.open,
                high=bar.high,
                low=bar.low,
                close=bar.close,
                volume=bar.volume or Decimal(0),
            ),
        )

    # -- revisions ----------------------------------------------------------------------

    def revise(
        self, targets: list[tuple[Session, BarStream]], deltas: Deltas
    ) -> list[tuple[Session, hs.HistoricalDataUpdate]]:
        """Add `deltas` to each target stream's current bar; the updates to send now."""
        out = []
        for session, stream in targets:
            if stream.realtime or stream.raw_last is None:
                continue
            date = stream.raw_last.date
            stream.deltas[date] = stream.deltas.get(date, Deltas()) + deltas
            # the bar as the stream made it: going out, it gets every delta of its date
            update = hs.HistoricalDataUpdate(reqId=stream.req_id, bar=stream.raw_last)
            out.append((session, update))
        return out
