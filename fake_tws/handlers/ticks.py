"""Tick-by-tick data and real-time bars: reqTickByTickData, cancelTickByTickData,
reqRealTimeBars, cancelRealTimeBars.

Tick-by-tick ("Last", "AllLast", "BidAsk", "MidPoint") sends the world's tape as it
happens: every print (tickType 1 for Last, 2 for AllLast), every second the quote or its
sizes changed (BidAsk; with ignoreSize only price changes), every change of the midpoint.
With numberOfTicks > 0 the last that many ticks come first as historical ticks
(historicalTicksLast / historicalTicksBidAsk / historicalTicks, done=True), as TWS does.
Forex has no trades, so Last and AllLast are refused for it (10189). Without live data
permission Last gets 10189 and the others 10089, as a Gateway answers. Three tick-by-tick
subscriptions at most (10190).

Real-time bars are 5-second bars (TRADES, MIDPOINT, BID, ASK) sent as each one ends;
with useRTH only inside regular hours. Other bar sizes or whatToShow values are refused
with 321, missing permissions with 420 (TRADES) or 10089 (the others).

Both stream at most the last minute's worth of data per wake-up, so a clock that jumps
an hour ahead does not flood the client.
"""

from __future__ import annotations

import math

from fake_tws.broker import HistoricalDataError, Instrument, World
from fake_tws.ibtypes import HistoricalTick, HistoricalTickBidAsk
from fake_tws.protocol.messages import Response
from fake_tws.protocol.requests import market_data as rq
from fake_tws.protocol.responses import historical as rs_hist
from fake_tws.protocol.responses import market_data as rs
from fake_tws.session import Handlers, Session

from .streams import (
    DUPLICATE_TICKER,
    NO_API_SUBSCRIPTION,
    NO_API_SUBSCRIPTION_TEXT,
    Stream,
    cant_find,
    every_step,
    listing,
    permissions,
    resolve,
    subscriptions,
    validation_error,
)

HANDLERS = Handlers()

TBT_KIND = "tickByTick"
BARS_KIND = "realTimeBars"
MAX_TICK_BY_TICK = 3
MAX_HISTORICAL_TICKS = 1000
WINDOW = 60  # seconds of the tape one wake-up looks at, at most
TICKS_PER_STEP = 100  # trades sent at most per wake-up (the latest)
BAR_SECONDS = 5
BARS_PER_STEP = 12  # real-time bars sent at most per wake-up (the latest minute)

FAILED_TICK_BY_TICK = 10189
MAX_TICK_BY_TICK_CODE = 10190
INVALID_REALTIME_QUERY = 420

TICK_TYPES = {"last": "Last", "alllast": "AllLast", "bidask": "BidAsk", "midpoint": "MidPoint"}
REALTIME_WHAT = ("TRADES", "MIDPOINT", "BID", "ASK")


def _duplicate(session: Session, req_id: int) -> None:
    session.error(
        req_id, DUPLICATE_TICKER, "Error processing request.-'bQ' : cause - Duplicate ticker id"
    )


# --- tick-by-tick -------------------------------------------------------------------------


class TickTape:
    """The ticks of one tick-by-tick subscription, second by second."""

    def __init__(
        self, world: World, req_id: int, instrument: Instrument, tick_type: str, ignore_size: bool
    ) -> None:
        self.world = world
        self.req_id = req_id
        self.con_id = instrument.con_id
        self.tick_type = tick_type
        self.ignore_size = ignore_size
        self._seen_until: int | None = None  # the last second already looked at
        self._last_state: tuple | None = None

    @property
    def what(self) -> str:
        return {"Last": "TRADES", "AllLast": "TRADES", "BidAsk": "BID_ASK"}.get(
            self.tick_type, "MIDPOINT"
        )

    def history(self, now: float, count: int) -> Response:
        """The `count` ticks up to now, as one historical ticks message."""
        ticks = self.world.market.historical_ticks(
            self.con_id, self.what, end=math.floor(now) + 1, count=count, use_rth=False
        )
        if self.what == "TRADES":
            return rs_hist.HistoricalTicksLast(reqId=self.req_id, ticks=tuple(ticks), done=True)
        if self.what == "BID_ASK":
            return rs_hist.HistoricalTicksBidAsk(reqId=self.req_id, ticks=tuple(ticks), done=True)
        return rs_hist.HistoricalTicks(reqId=self.req_id, ticks=tuple(ticks), done=True)

    def update(self, now: float) -> list[Response]:
        """Ticks of the seconds since the last call (the first call only sets the start,
        and remembers the quote so the first change is news)."""
        self.world.advance()
        t = math.floor(now)
        if self._seen_until is None:
            self._seen_until = t
            if self.what != "TRADES":
                ticks = self._quote_ticks(t, t + 1)
                if ticks:
                    self._last_state = self._state(ticks[-1])
            return []
        start = max(self._seen_until + 1, t + 1 - WINDOW)
        self._seen_until = t
        if start > t:
            return []
        if self.what == "TRADES":
            return self._trades(start, t + 1)
        out: list[Response] = []
        for tick in self._quote_ticks(start, t + 1):
            state = self._state(tick)
            if state == self._last_state:
                continue
            self._last_state = state
            out.append(self._message(tick))
        return out

    def _trades(self, start: int, end: int) -> list[Response]:
        prints = self.world.market.prints(self.con_id, start, end)[-TICKS_PER_STEP:]
        kind = rs.TICK_BY_TICK_LAST if self.tick_type == "Last" else rs.TICK_BY_TICK_ALL_LAST
        return [
            rs.TickByTickAllLast(
                reqId=self.req_id,
                tickType=kind,
                time=p.time,
                price=p.price,
                size=p.size,
                exchange=p.exchange,
            )
            for p in prints
        ]

    def _quote_ticks(self, start: int, end: int) -> list:
        return self.world.market.historical_ticks(
            self.con_id, self.what, start=start, end=end, count=10 * WINDOW, use_rth=False
        )

    def _state(self, tick) -> tuple:
        if isinstance(tick, HistoricalTickBidAsk):
            if self.ignore_size:
                return (tick.priceBid, tick.priceAsk)
            return (tick.priceBid, tick.priceAsk, tick.sizeBid, tick.sizeAsk)
        return (tick.price,)

    def _message(self, tick: HistoricalTick | HistoricalTickBidAsk) -> Response:
        if isinstance(tick, HistoricalTickBidAsk):
            return rs.TickByTickBidAsk(
                reqId=self.req_id,
                time=tick.time,
                bidPrice=tick.priceBid,
                askPrice=tick.priceAsk,
                bidSize=tick.sizeBid,
                askSize=tick.sizeAsk,
            )
        return rs.TickByTickMidPoint(reqId=self.req_id, time=tick.time, midPoint=tick.price)


@HANDLERS.on(rq.ReqTickByTickData)
def req_tick_by_tick(session: Session, request: rq.ReqTickByTickData) -> None:
    req_id = request.reqId
    subs = subscriptions(session)
    if subs.get(TBT_KIND, req_id) is not None:
        _duplicate(session, req_id)
        return
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    tick_type = TICK_TYPES.get(request.tickType.lower())
    if tick_type is None:
        session.error(
            req_id,
            FAILED_TICK_BY_TICK,
            f"Failed to request tick-by-tick data.Unknown tick type: {request.tickType}",
        )
        return
    if not permissions(session.gateway).live(instrument):
        if tick_type == "Last":
            session.error(
                req_id,
                FAILED_TICK_BY_TICK,
                "Failed to request tick-by-tick data.No market data permissions for "
                f"{listing(instrument)}. {NO_API_SUBSCRIPTION_TEXT}",
            )
        else:
            session.error(req_id, NO_API_SUBSCRIPTION, NO_API_SUBSCRIPTION_TEXT)
        return
    if tick_type in ("Last", "AllLast") and not instrument.has_trades:
        contract = instrument.contract
        session.error(
            req_id,
            FAILED_TICK_BY_TICK,
            f"Failed to request tick-by-tick data.{tick_type} tick-by-tick requests are not "
            f"supported for {contract.localSymbol or contract.symbol}.",
        )
        return
    if subs.count(TBT_KIND) >= MAX_TICK_BY_TICK:
        session.error(
            req_id, MAX_TICK_BY_TICK_CODE, "Max number of tick-by-tick requests has been reached."
        )
        return
    tape = TickTape(session.gateway.world, req_id, instrument, tick_type, request.ignoreSize)
    now = session.clock.time()
    if request.numberOfTicks > 0:
        session.send(tape.history(now, min(request.numberOfTicks, MAX_HISTORICAL_TICKS)))
    tape.update(now)

    async def stream(state: Stream) -> None:
        while await every_step(session, state):
            for message in tape.update(session.clock.time()):
                session.send(message)

    subs.start(session, TBT_KIND, req_id, stream)


@HANDLERS.on(rq.CancelTickByTickData)
def cancel_tick_by_tick(session: Session, request: rq.CancelTickByTickData) -> None:
    if subscriptions(session).cancel(TBT_KIND, request.reqId) is None:
        cant_find(session, request.reqId)


# --- real-time bars -----------------------------------------------------------------------


class BarClock:
    """The 5-second bars of one subscription, each sent once it has ended."""

    def __init__(
        self,
        world: World,
        req_id: int,
        instrument: Instrument,
        what: str,
        use_rth: bool,
        now: float,
    ) -> None:
        self.world = world
        self.req_id = req_id
        self.con_id = instrument.con_id
        self.what = what
        self.use_rth = use_rth
        # The first bar is the one that starts at the next 5-second boundary.
        self.next_start = math.ceil(now / BAR_SECONDS) * BAR_SECONDS

    def update(self, now: float) -> list[Response]:
        self.world.advance()
        ended = math.floor(now / BAR_SECONDS) * BAR_SECONDS  # bars before this have ended
        first = max(self.next_start, ended - BARS_PER_STEP * BAR_SECONDS)
        out: list[Response] = []
        for start in range(first, ended, BAR_SECONDS):
            bar = self.world.market.realtime_bar(self.con_id, start, self.what, self.use_rth)
            if bar is not None:
                out.append(rs.RealtimeBar(reqId=self.req_id, bar=bar))
        self.next_start = max(self.next_start, ended)
        return out


@HANDLERS.on(rq.ReqRealTimeBars)
def req_real_time_bars(session: Session, request: rq.ReqRealTimeBars) -> None:
    req_id = request.reqId
    subs = subscriptions(session)
    if subs.get(BARS_KIND, req_id) is not None:
        _duplicate(session, req_id)
        return
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    what = request.whatToShow.upper()
    if what not in REALTIME_WHAT:
        validation_error(session, req_id, "bQ", "What to show field is missing or incorrect.")
        return
    if request.barSize != BAR_SECONDS:
        validation_error(
            session,
            req_id,
            "bQ",
            f"Invalid bar size {request.barSize}. Only 5 seconds is supported.",
        )
        return
    if not permissions(session.gateway).live(instrument):
        if what == "TRADES":
            session.error(
                req_id,
                INVALID_REALTIME_QUERY,
                f"Invalid Real-time Query:No market data permissions for {listing(instrument)}. "
                f"{NO_API_SUBSCRIPTION_TEXT}",
            )
        else:
            session.error(req_id, NO_API_SUBSCRIPTION, NO_API_SUBSCRIPTION_TEXT)
        return
    world = session.gateway.world
    try:
        world.market.realtime_bar(instrument.con_id, session.clock.time(), what, False)
    except HistoricalDataError as exc:
        reason = exc.message.split("error message:", 1)[-1]
        session.error(req_id, INVALID_REALTIME_QUERY, f"Invalid Real-time Query:{reason}")
        return
    bars = BarClock(world, req_id, instrument, what, request.useRTH, session.clock.time())

    async def stream(state: Stream) -> None:
        while await every_step(session, state):
            for message in bars.update(session.clock.time()):
                session.send(message)

    subs.start(session, BARS_KIND, req_id, stream)


@HANDLERS.on(rq.CancelRealTimeBars)
def cancel_real_time_bars(session: Session, request: rq.CancelRealTimeBars) -> None:
    # TWS answers nothing to the cancel of a subscription it does not know.
    subscriptions(session).cancel(BARS_KIND, request.reqId)
