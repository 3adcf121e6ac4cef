"""Historical data: reqHistoricalData (bars, the SCHEDULE, keepUpToDate streams),
cancelHistoricalData, reqHeadTimeStamp, reqHistoricalTicks, reqHistogramData and their
cancels.

reqHistoricalData answers with one historicalData message: every bar of the period
(the last one partial when the period ends now), then the period's start and end, as
"yyyymmdd HH:MM:SS <instrument zone>". Bar dates follow formatDate: 1 is
"yyyymmdd HH:MM:SS US/Eastern" in the instrument's zone ("yyyymmdd" for daily and longer
bars), 2 is epoch seconds. endDateTime may be empty (now), "yyyymmdd HH:MM:SS <zone>",
"yyyymmdd-HH:MM:SS" (UTC), or without a zone (the gateway's zone, with TWS's warning
2174). A period ending in the future ends now.

keepUpToDate=True then sends historicalDataUpdate every 5 seconds of clock time, as TWS
does: the bar still forming, revised in place (same date, growing volume and count,
moving high/low/close); when the clock has moved into the next bar, the finished bar's
final revision comes first, then the new bar. cancelHistoricalData stops it and TWS
confirms with error 162 "...API historical data query cancelled: <id>"; a cancel of
anything else is error 366.

Errors as TWS gives them: 200 unknown contract; 321 for a bad bar size (with TWS's list
of legal ones), duration, whatToShow or endDateTime, for more than 365 days asked in days
or more than 199 years, and for keepUpToDate with an end date; 162 for data that does not
exist (TRADES of forex, a period before the instrument's first day: "HMDS query
returned no data") and for too many bars of too small a size ("invalid step").
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from fake_tws.broker import Bar, BarRequestError, HistoricalDataError, Instrument, World
from fake_tws.broker.bars import months_before, parse_bar_size, parse_duration
from fake_tws.ibtypes import BarData, HistogramEntry
from fake_tws.protocol.requests import historical as rq
from fake_tws.protocol.responses import historical as rs
from fake_tws.session import Handlers, Session

from .streams import (
    IMPLIED_ZONE,
    IMPLIED_ZONE_TEXT,
    BadDateTime,
    Stream,
    parse_ib_datetime,
    resolve,
    subscriptions,
    supports,
    validation_error,
)

HANDLERS = Handlers()

KIND = "historicalData"
UPDATE_SECONDS = 5.0  # a keepUpToDate stream's pace, as TWS's
MAX_YEARS = 199
MAX_DAYS = 365
MAX_SECOND_BARS = 2000  # bars under a minute: beyond this many, TWS's "invalid step"
MAX_BARS = 100_000  # any bar size
MAX_HISTORICAL_TICKS = 1000

HMDS_ERROR = 162
HMDS_PREFIX = "Historical Market Data Service error message:"
NO_QUERY = 366

LEGAL_BAR_SIZES = (
    "1 secs, 5 secs, 10 secs, 15 secs, 30 secs, 1 min, 2 mins, 3 mins, 5 mins, 10 mins, "
    "15 mins, 20 mins, 30 mins, 1 hour, 2 hours, 3 hours, 4 hours, 8 hours, 1 day, 1W, 1M"
)
# whatToShow values TWS knows; those without data here answer "HMDS query returned no data".
WHAT_NAMES = {
    "TRADES": "Trades",
    "MIDPOINT": "Midpoint",
    "BID": "Bid",
    "ASK": "Ask",
    "BID_ASK": "Bid_Ask",
    "ADJUSTED_LAST": "Adjusted_Last",
    "HISTORICAL_VOLATILITY": "Historical_Volatility",
    "OPTION_IMPLIED_VOLATILITY": "Option_Implied_Volatility",
    "FEE_RATE": "Fee_Rate",
    "REBATE_RATE": "Rebate_Rate",
    "YIELD_BID": "Yield_Bid",
    "YIELD_ASK": "Yield_Ask",
    "YIELD_BID_ASK": "Yield_Bid_Ask",
    "YIELD_LAST": "Yield_Last",
    "AGGTRADES": "AggTrades",
    "SCHEDULE": "Schedule",
}
WITH_DATA = frozenset({"TRADES", "MIDPOINT", "BID", "ASK", "BID_ASK", "ADJUSTED_LAST", "SCHEDULE"})
WEEK_MONTH = {"1w": "1 week", "1m": "1 month"}


class Refused(Exception):
    """A request TWS refuses: the error to answer with."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


def _invalid(code: str, cause: str) -> Refused:
    return Refused(321, f"Error validating request.-'{code}' : cause - {cause}")


def _hmds(text: str) -> Refused:
    return Refused(HMDS_ERROR, HMDS_PREFIX + text)


def _no_data(instrument: Instrument, exchange: str, what: str) -> Refused:
    contract = instrument.contract
    name = contract.localSymbol if contract.secType in ("OPT", "FOP") else contract.symbol
    return _hmds(f"HMDS query returned no data: {name}@{exchange} {WHAT_NAMES.get(what, what)}")


def _zone(instrument: Instrument) -> str:
    return instrument.details.timeZoneId or instrument.schedule.time_zone


def _stamp(moment: datetime, zone: str) -> str:
    """TWS's "yyyymmdd HH:MM:SS US/Eastern"."""
    return f"{moment.astimezone(ZoneInfo(zone)):%Y%m%d %H:%M:%S} {zone}"


def _end_time(session: Session, req_id: int, text: str) -> float:
    """Where the request's period stops (exclusive), in epoch seconds. Empty: now, and
    the bar under way with the prints of this very second; else the given moment (a bar
    starting there is not in the period), at most now."""
    now = session.clock.time()
    if not text.strip():
        return math.floor(now) + 1
    try:
        parsed = parse_ib_datetime(text, session.gateway.config.timezone)
    except BadDateTime:
        raise _invalid(
            "bM",
            f"Historical data query end date/time string [{text}] is invalid.  Format is "
            "'YYYYMMDD{SPACE}hh:mm:ss[{SPACE}TMZ]'.",
        ) from None
    if not parsed.zone_given:
        session.error(req_id, IMPLIED_ZONE, IMPLIED_ZONE_TEXT)
    return min(parsed.moment.timestamp(), math.floor(now) + 1)


def _period_start(end: datetime, duration: str) -> datetime:
    d = parse_duration(duration)
    if d.unit == "S":
        return end - timedelta(seconds=d.count)
    if d.unit == "D":
        return end - timedelta(days=d.count)
    if d.unit == "W":
        return end - timedelta(weeks=d.count)
    if d.unit == "M":
        return months_before(end, d.count)
    return months_before(end, 12 * d.count)


_SPAN_SECONDS = {"S": 1, "D": 86400, "W": 7 * 86400, "M": 31 * 86400, "Y": 366 * 86400}


def _check_period(duration: str, bar_size: str) -> None:
    try:
        d = parse_duration(duration)
    except BarRequestError:
        raise _invalid("bM", f"Historical data query duration [{duration}] is invalid.") from None
    if d.unit == "D" and d.count > MAX_DAYS:
        raise _invalid(
            "bH",
            "Historical data requests for durations longer than 365 days must be made in years.",
        )
    if d.unit == "Y" and d.count > MAX_YEARS:
        raise _invalid(
            "bM",
            f"Historical data request for {d.count} year(s) rejected. Max API Backfill Years={MAX_YEARS}",
        )
    size = parse_bar_size(bar_size)
    if not size.intraday:
        return
    bars = d.count * _SPAN_SECONDS[d.unit] / size.seconds
    if (size.seconds < 60 and bars > MAX_SECOND_BARS) or bars > MAX_BARS:
        raise _hmds(f"invalid step: {size.seconds}")


def _bar_size(text: str) -> str:
    """The bar size in the broker's spelling ("1W" is "1 week"); 321 if TWS refuses it."""
    spelled = WEEK_MONTH.get(text.replace(" ", "").lower(), text)
    try:
        parse_bar_size(spelled)
    except BarRequestError:
        raise _invalid(
            "bM", f"Historical data bar size setting is invalid. Legal ones are: {LEGAL_BAR_SIZES}"
        ) from None
    return spelled


def _what(text: str) -> str:
    what = text.strip().upper()
    if what not in WHAT_NAMES:
        raise _invalid("bM", "What to show field is missing or incorrect.")
    return what


def _bars(
    world: World,
    instrument: Instrument,
    exchange: str,
    stop: float,
    duration: str,
    bar_size: str,
    what: str,
    use_rth: bool,
) -> list[Bar]:
    if what not in WITH_DATA:
        raise _no_data(instrument, exchange, what)
    try:
        bars = world.market.bars(instrument.con_id, stop, duration, bar_size, what, use_rth)
    except HistoricalDataError as exc:
        raise Refused(exc.code, exc.message) from None
    except BarRequestError as exc:
        raise _invalid("bM", str(exc)) from None
    if not bars:
        raise _no_data(instrument, exchange, what)
    return bars


def _bar_data(bar: Bar, format_date: int, zone: str) -> BarData:
    return bar.to_bar_data(2 if format_date == 2 else 1, zone)


@HANDLERS.on(rq.ReqHistoricalData)
def req_historical_data(session: Session, request: rq.ReqHistoricalData) -> None:
    req_id = request.reqId
    subs = subscriptions(session)
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    try:
        if request.keepUpToDate and request.endDateTime.strip():
            raise _invalid("bM", "End date not supported with live updates")
        what = _what(request.whatToShow)
        bar_size = _bar_size(request.barSizeSetting)
        _check_period(request.durationStr, bar_size)
        stop = _end_time(session, req_id, request.endDateTime)
        world = session.gateway.world
        world.advance()
        exchange = request.contract.exchange or instrument.contract.exchange
        if what == "SCHEDULE":
            if not supports(session, rs.HistoricalSchedule):
                raise _invalid("bM", "What to show field is missing or incorrect.")
            _send_schedule(session, req_id, instrument, stop, request)
            return
        bars = _bars(
            world, instrument, exchange, stop, request.durationStr, bar_size, what, request.useRTH
        )
    except Refused as refused:
        session.error(req_id, refused.code, refused.text)
        return
    zone = _zone(instrument)
    end = datetime.fromtimestamp(min(stop, session.clock.time()), UTC)
    start = _period_start(end, request.durationStr)
    session.send(
        rs.HistoricalData(
            reqId=req_id,
            bars=tuple(_bar_data(b, request.formatDate, zone) for b in bars),
            start=_stamp(start, zone),
            end=_stamp(end, zone),
        )
    )
    if not request.keepUpToDate:
        return
    if subs.get(KIND, req_id) is not None:
        subs.cancel(KIND, req_id)  # a new query under the same id replaces the old one
    updater = BarUpdater(
        world, req_id, instrument, bar_size, what, request.useRTH, request.formatDate, bars[-1]
    )

    async def stream(state: Stream) -> None:
        while True:
            await session.clock.sleep(UPDATE_SECONDS)
            if not state.active or session.closed:
                return
            for message in updater.update(session.clock.time()):
                session.send(message)

    subs.start(session, KIND, req_id, stream)


def _send_schedule(
    session: Session, req_id: int, instrument: Instrument, stop: float, request
) -> None:
    zone, sessions = session.gateway.world.market.schedule(
        instrument.con_id, stop, request.durationStr, request.useRTH
    )
    if not sessions:
        raise _no_data(instrument, instrument.contract.exchange, "SCHEDULE")
    session.send(
        rs.HistoricalSchedule(
            reqId=req_id,
            startDateTime=sessions[0].startDateTime,
            endDateTime=sessions[-1].endDateTime,
            timeZone=zone,
            sessions=tuple(sessions),
        )
    )


class BarUpdater:
    """The keepUpToDate revisions of one request's last bar."""

    def __init__(
        self,
        world: World,
        req_id: int,
        instrument: Instrument,
        bar_size: str,
        what: str,
        use_rth: bool,
        format_date: int,
        last: Bar,
    ) -> None:
        self.world = world
        self.req_id = req_id
        self.instrument = instrument
        self.bar_size = bar_size
        self.what = what
        self.use_rth = use_rth
        self.format_date = format_date
        self.zone = _zone(instrument)
        self.last = last  # the newest bar the client has, as it has it

    def update(self, now: float) -> list[rs.HistoricalDataUpdate]:
        self.world.advance()
        market = self.world.market
        con_id = self.instrument.con_id
        current = market.current_bar(con_id, now, self.bar_size, self.what, self.use_rth)
        if current is None:
            return []
        out: list[Bar] = []
        if current.start > self.last.start:
            # The clock moved past the client's bar: its final revision first, then any
            # bars the clock skipped (at most a few), then the one forming now.
            stop = math.floor(current.start.timestamp())
            since = math.floor(self.last.start.timestamp())
            done = market.bars(
                con_id, stop, f"{max(stop - since, 1)} S", self.bar_size, self.what, self.use_rth
            )
            out += [b for b in done if b.start >= self.last.start][-10:]
        out.append(current)
        self.last = current
        return [
            rs.HistoricalDataUpdate(
                reqId=self.req_id, bar=_bar_data(bar, self.format_date, self.zone)
            )
            for bar in out
        ]


@HANDLERS.on(rq.CancelHistoricalData)
def cancel_historical_data(session: Session, request: rq.CancelHistoricalData) -> None:
    req_id = request.reqId
    if subscriptions(session).cancel(KIND, req_id) is None:
        session.error(req_id, NO_QUERY, f"No historical data query found for ticker id:{req_id}")
        return
    session.error(req_id, HMDS_ERROR, f"{HMDS_PREFIX}API historical data query cancelled: {req_id}")


# --- head timestamp -----------------------------------------------------------------------


@HANDLERS.on(rq.ReqHeadTimeStamp)
def req_head_timestamp(session: Session, request: rq.ReqHeadTimeStamp) -> None:
    req_id = request.reqId
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    market = session.gateway.world.market
    try:
        what = _what(request.whatToShow)
        if what not in WITH_DATA - {"SCHEDULE"}:
            raise _no_data(instrument, request.contract.exchange, what)
        # The same check bars make (no TRADES for forex, say).
        market.bars(
            instrument.con_id, market.head_timestamp(instrument.con_id), "1 D", "1 day", what
        )
    except Refused as refused:
        session.error(req_id, refused.code, refused.text)
        return
    except HistoricalDataError as exc:
        session.error(req_id, exc.code, exc.message)
        return
    head = market.head_timestamp(instrument.con_id)
    first = market.session_at(instrument.con_id, head)
    if first is not None:
        head = datetime.fromtimestamp(first.window(request.useRTH)[0], UTC)
    text = str(int(head.timestamp())) if request.formatDate == 2 else f"{head:%Y%m%d-%H:%M:%S}"
    session.send(rs.HeadTimestamp(reqId=req_id, headTimestamp=text))


@HANDLERS.on(rq.CancelHeadTimeStamp)
def cancel_head_timestamp(session: Session, request: rq.CancelHeadTimeStamp) -> None:
    """The head timestamp was answered at once: nothing left to cancel."""


# --- historical ticks ---------------------------------------------------------------------


@HANDLERS.on(rq.ReqHistoricalTicks)
def req_historical_ticks(session: Session, request: rq.ReqHistoricalTicks) -> None:
    req_id = request.reqId
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    if request.numberOfTicks <= 0:
        validation_error(session, req_id, "bP", "Number of ticks must be > 0")
        return
    what = request.whatToShow.strip().upper()
    if what not in ("TRADES", "BID_ASK", "MIDPOINT"):
        validation_error(session, req_id, "bP", "What to show field is missing or incorrect.")
        return
    if not request.startDateTime.strip() and not request.endDateTime.strip():
        validation_error(session, req_id, "bP", "Either start or end date/time must be specified.")
        return
    zone = session.gateway.config.timezone
    bounds: dict[str, float] = {}
    for name, text in (("start", request.startDateTime), ("end", request.endDateTime)):
        if not text.strip():
            continue
        try:
            parsed = parse_ib_datetime(text, zone)
        except BadDateTime:
            validation_error(session, req_id, "bP", f"Invalid date/time: {text}")
            return
        bounds[name] = parsed.moment.timestamp()
    now = session.clock.time()
    bounds = {k: min(v, math.floor(now) + 1) for k, v in bounds.items()}
    if what == "TRADES" and not instrument.has_trades:
        what = "MIDPOINT"  # forex has no trades: TWS answers with midpoints
    session.gateway.world.advance()
    count = min(request.numberOfTicks, MAX_HISTORICAL_TICKS)
    ticks = session.gateway.world.market.historical_ticks(
        instrument.con_id, what, **bounds, count=count, use_rth=request.useRth
    )
    if what == "TRADES":
        session.send(rs.HistoricalTicksLast(reqId=req_id, ticks=tuple(ticks), done=True))
    elif what == "BID_ASK":
        session.send(rs.HistoricalTicksBidAsk(reqId=req_id, ticks=tuple(ticks), done=True))
    else:
        session.send(rs.HistoricalTicks(reqId=req_id, ticks=tuple(ticks), done=True))


# --- histogram ----------------------------------------------------------------------------

_PERIOD = re.compile(r"^\s*(\d+)\s*(days?|d|weeks?|w|months?|m|years?|y)\s*$", re.IGNORECASE)
HISTOGRAM_BUCKETS = 100


def _histogram_duration(text: str) -> str:
    m = _PERIOD.match(text)
    if m is None or int(m.group(1)) <= 0:
        raise _invalid("bM", f"Invalid time period: {text}")
    return f"{m.group(1)} {m.group(2)[0].upper()}"


@HANDLERS.on(rq.ReqHistogramData)
def req_histogram_data(session: Session, request: rq.ReqHistogramData) -> None:
    req_id = request.tickerId
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    world = session.gateway.world
    world.advance()
    exchange = request.contract.exchange or instrument.contract.exchange
    try:
        duration = _histogram_duration(request.timePeriod)
        bar_size = "1 min" if duration.endswith(("D", "W")) else "30 mins"
        stop = math.floor(session.clock.time()) + 1
        bars = _bars(
            world, instrument, exchange, stop, duration, bar_size, "TRADES", request.useRTH
        )
    except Refused as refused:
        session.error(req_id, refused.code, refused.text)
        return
    session.send(rs.HistogramData(reqId=req_id, items=histogram(bars, instrument.details.minTick)))


def histogram(bars: list[Bar], tick: float) -> tuple[HistogramEntry, ...]:
    """Volume by price: each bar's volume at its average price, in about a hundred
    price buckets that are whole multiples of the tick."""
    low = min(b.low for b in bars)
    high = max(b.high for b in bars)
    step = max(tick, math.ceil((high - low) / HISTOGRAM_BUCKETS / tick) * tick)
    volumes: dict[int, Decimal] = {}
    for bar in bars:
        price = float(bar.wap) if bar.wap > 0 else bar.close
        bucket = round(price / step)
        volumes[bucket] = volumes.get(bucket, Decimal(0)) + bar.volume
    decimals = max(0, -Decimal(repr(tick)).normalize().as_tuple().exponent)  # type: ignore[operator]
    return tuple(
        HistogramEntry(price=round(bucket * step, decimals + 2), size=volume)
        for bucket, volume in sorted(volumes.items())
        if volume > 0
    )


@HANDLERS.on(rq.CancelHistogramData)
def cancel_histogram_data(session: Session, request: rq.CancelHistogramData) -> None:
    """The histogram was answered at once: nothing left to cancel."""
