"""Top-of-book market data and depth: reqMktData (streams, snapshots, regulatory
snapshots), cancelMktData, reqMktDepth, cancelMktDepth, reqMktDepthExchanges,
reqSmartComponents. Tick-by-tick and real-time bars are in `ticks`.

A stream, as a Gateway sends it:

    marketDataType(reqId, 1)         the type the data is (1 live, 2 frozen, 3 delayed,
                                     4 delayed-frozen); again whenever it changes
    tickReqParams(reqId, minTick, bboExchange, snapshotPermissions)
    tickString 45 (last trade time), tickPrice LAST (+ size), tickGeneric 49 (halted),
    tickSize VOLUME, tickPrice HIGH, LOW, CLOSE, OPEN, BID (+ size), ASK (+ size),
    then the generic ticks asked for (165, 221, 233, 236, 293...)

then, as the clock moves, only what changed: a new price comes as tickPrice with its
size (which clients turn into a tickSize as well) followed by the size alone, as TWS
does; a size that changed on its own comes as tickSize. Forex has no trades: bid, ask,
high, low and close only. Delayed data uses the delayed tick types (66-76, 88, 90) and
is the world's quote of 15 minutes earlier. A snapshot is the same first batch
(without generic ticks) followed by tickSnapshotEnd; a regulatory snapshot too.

Which instruments lack real-time data is `ServerConfig.no_live_data` (see
`streams.Permissions`): a live request for them is refused with 10089, a delayed one
(reqMarketDataType 3 or 4) gets the warning 10167, then delayed ticks.

Depth answers with the world's book (`Market.depth`): the quote, then a tick worse
each level, sizes changing every second; `numRows` rows a side (at most 10), inserted
first and updated as they change. Three depth subscriptions at most, as TWS.
"""

from __future__ import annotations

import math
import statistics
import weakref
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice, pairwise
from typing import Any

from fake_tws.broker import Instrument, Quote, World
from fake_tws.broker.market import DELAY_SECONDS, Market
from fake_tws.ibtypes import DepthMktDataDescription, SmartComponent, TickAttrib
from fake_tws.protocol.messages import Response
from fake_tws.protocol.requests import market_data as rq
from fake_tws.protocol.responses import connection as rs_conn
from fake_tws.protocol.responses import market_data as rs
from fake_tws.session import Handlers, Session

from .streams import (
    DUPLICATE_TICKER,
    NO_API_SUBSCRIPTION,
    NO_API_SUBSCRIPTION_TEXT,
    Stream,
    cant_find,
    every_step,
    last_open,
    permissions,
    resolve,
    subscriptions,
    supports,
    validation_error,
)

HANDLERS = Handlers()

KIND = "mktData"
DEPTH_KIND = "mktDepth"
MAX_TICKERS = 100  # market data lines of a default account
MAX_DEPTH = 3
MAX_DEPTH_ROWS = 10
SNAPSHOT_PERMISSIONS = 3
SMART_BBO = "9c0001"  # the bboExchange code of SMART-routed US stocks
PRINTS_PER_STEP = 50  # RTVolume ticks sent at most per wake-up (the latest ones)
RECENT_WINDOW = 60  # seconds of prints a wake-up looks back at most

DELAYED_WARNING = 10167
DELAYED_WARNING_TEXT = "Requested market data is not subscribed. Displaying delayed market data."
MAX_TICKERS_CODE = 101
MAX_DEPTH_CODE = 309

# Tick types (IB's numbers).
BID_SIZE, BID, ASK, ASK_SIZE, LAST, LAST_SIZE = 0, 1, 2, 3, 4, 5
HIGH, LOW, VOLUME, CLOSE, OPEN = 6, 7, 8, 9, 14
LOW_13W, HIGH_13W, LOW_26W, HIGH_26W, LOW_52W, HIGH_52W, AVG_VOLUME = 15, 16, 17, 18, 19, 20, 21
HIST_VOLATILITY = 23
MARK_PRICE = 37
LAST_TIMESTAMP = 45
SHORTABLE = 46
RT_VOLUME = 48
HALTED = 49
TRADE_COUNT, TRADE_RATE, VOLUME_RATE, LAST_RTH_TRADE, RT_HIST_VOLATILITY = 54, 55, 56, 57, 58
SHORT_TERM_VOLUME = {63: 3, 64: 5, 65: 10}  # tick type: minutes
RT_TRADE_VOLUME = 77
FUTURES_OPEN_INTEREST = 86
SHORTABLE_SHARES = 89
DELAYED = {
    BID: 66,
    ASK: 67,
    LAST: 68,
    BID_SIZE: 69,
    ASK_SIZE: 70,
    LAST_SIZE: 71,
    HIGH: 72,
    LOW: 73,
    VOLUME: 74,
    CLOSE: 75,
    OPEN: 76,
    LAST_TIMESTAMP: 88,
    HALTED: 90,
}
SIZE_OF = {BID: BID_SIZE, ASK: ASK_SIZE, LAST: LAST_SIZE}

# Generic tick lists TWS accepts, with the names its refusal lists them under (older
# numbers that ask for the same series after a slash), and the secTypes a series is
# limited to. Those fake-tws has data for are answered; the others are accepted quietly.
GENERIC_TICKS: dict[int, tuple[str, frozenset[str] | None]] = {
    100: ("Option Volume", None),
    101: ("Option Open Interest", None),
    104: ("Historical Volatility", None),
    105: ("Average Opt Volume", None),
    106: ("impvolat", None),
    162: ("Index Future Premium", frozenset({"IND"})),
    165: ("Misc. Stats", None),
    221: ("Creditman Mark Price", None),
    225: ("Auction", None),
    232: ("Pl Price", None),
    233: ("RTVolume", None),
    236: ("inventory", None),
    258: ("Fundamentals", None),
    293: ("TradeCount", None),
    294: ("TradeRate", None),
    295: ("VolumeRate", None),
    318: ("LastRTHTrade", None),
    375: ("RTTrdVolume", None),
    411: ("rthistvol", None),
    456: ("IBDividends", frozenset({"STK", "FUT", "OPT", "IND", "FOP", "CFD"})),
    460: ("Bond Factor Multiplier", None),
    577: ("EtfNavLast(navlast)", None),
    586: ("IPOHLMPRC", None),
    587: ("Pl Price Delayed", None),
    588: ("Futures Open Interest", None),
    595: (
        "Short-Term Volume X Mins",
        frozenset({"STK", "CFD", "OPT", "FOP", "WAR", "FUT", "BOND", "CRYPTO"}),
    ),
    614: ("EtfNavMisc(high/low)", None),
    619: ("Creditman Slow Mark Price", None),
    623: ("EtfFrozenNavLast(fznavlast)", None),
}
GENERIC_ALIASES = {47: 258, 59: 456, 220: 221}


class BadTickList(ValueError):
    pass


def parse_generic_ticks(text: str, sec_type: str) -> tuple[frozenset[int], bool]:
    """(generic ticks asked for, mdoff). BadTickList names TWS's refusal text."""
    wanted: set[int] = set()
    mdoff = False
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if token.lower() == "mdoff":
            mdoff = True
            continue
        number = token.split(":", 1)[0]
        tick = int(number) if number.isdigit() else -1
        tick = GENERIC_ALIASES.get(tick, tick)
        entry = GENERIC_TICKS.get(tick)
        if entry is None or (entry[1] is not None and sec_type not in entry[1]):
            raise BadTickList(_tick_list_refusal(text, sec_type))
        wanted.add(tick)
    return frozenset(wanted), mdoff


def _tick_list_refusal(text: str, sec_type: str) -> str:
    aliases = {v: k for k, v in GENERIC_ALIASES.items()}
    legal = ",".join(
        f"{tick}{'/' + str(aliases[tick]) if tick in aliases else ''}({name})"
        for tick, (name, types) in sorted(GENERIC_TICKS.items())
        if types is None or sec_type in types
    )
    return f"Incorrect generic tick list of {text}.  Legal ones for ({sec_type}) are: {legal}"


def stable_number(con_id: int, salt: str) -> int:
    """A number fixed for an instrument (shortable shares, open interest...)."""
    return zlib.crc32(f"{con_id}:{salt}".encode())


# --- what one ticker shows ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Field:
    """One value a ticker shows. kind "book": (price, size, stamp) sent as a price with
    its size; "price", "size", "string", "generic": one tick of that message type."""

    kind: str
    tick: int
    value: Any


def _price(tick: int, price: float | None) -> Field | None:
    return None if price is None else Field("price", tick, price)


Shown = tuple[tuple[str, int], Field]  # (kind, tick) and the field
_LAST_TIMESTAMP_KEY = ("string", LAST_TIMESTAMP)
_LAST_KEY = ("book", LAST)
_HALTED_KEY = ("generic", HALTED)
_VOLUME_KEY = ("size", VOLUME)
_HIGH_KEY, _LOW_KEY = ("price", HIGH), ("price", LOW)
_CLOSE_KEY, _OPEN_KEY = ("price", CLOSE), ("price", OPEN)
_BID_KEY, _ASK_KEY = ("book", BID), ("book", ASK)
_AUTO_EXECUTE = TickAttrib(canAutoExecute=True)
_NO_AUTO_EXECUTE = TickAttrib(canAutoExecute=False)


class _View:
    """What every ticker of one kind (instrument, live or not, requested type, mdoff)
    shows at one moment, apart from generic ticks: built once for all of them.

    A field equal to the one the previous view showed is that same object. So a ticker
    that showed the previous view (its every field is what the ticker has, or equal to
    it) need only look at `changed`: the fields that are not the previous view's, each
    with whether the previous view had that key at all (if not, the ticker may still
    have an equal value from earlier)."""

    __slots__ = ("at", "changed", "data_type", "fields", "now", "previous", "quote", "version")

    def __init__(
        self,
        now: float,
        version: int,
        data_type: int,
        at: float,
        quote: Quote,
        fields: list[Shown],
        changed: list[tuple[tuple[str, int], Field, bool]],
        previous: _View | None,
    ) -> None:
        self.now = now
        self.version = version
        self.data_type = data_type
        self.at = at
        self.quote = quote
        self.fields = fields
        self.changed = changed
        self.previous = previous  # (only the one before: each forgets its own previous)


# Per market (a world's reset makes a new one): the latest view of each kind of ticker.
_VIEWS: weakref.WeakKeyDictionary[Market, dict[tuple, _View]] = weakref.WeakKeyDictionary()


class Ticker:
    """The ticks of one reqMktData, built from the world as the clock moves."""

    def __init__(
        self,
        world: World,
        req_id: int,
        instrument: Instrument,
        requested_type: int,
        live: bool,
        generic: frozenset[int] = frozenset(),
        mdoff: bool = False,
        streaming: bool = True,
    ) -> None:
        self.world = world
        self.req_id = req_id
        self.instrument = instrument
        self.con_id = instrument.con_id
        self.requested_type = requested_type
        self.live = live
        self.generic = generic
        self.mdoff = mdoff
        self.streaming = streaming
        self.served_type: int | None = None
        self._shown: dict[tuple[str, int], Field] = {}
        self._seen_until: int | None = None  # prints at or before this second were sent
        self._daily: tuple[date, dict[int, float]] | None = None
        self._rt_volume_wanted = bool(generic & {233, 375}) and instrument.has_trades
        # Which shared views this ticker reads (see `_view`).
        self._view_key = (self.con_id, live, requested_type, mdoff)
        self._views_of: tuple[Market, dict[tuple, _View]] | None = None
        self._last_view: _View | None = None  # the shared view last shown

    # -- what type of data -------------------------------------------------------------

    def data_type(self, now: float) -> int:
        """1 live, 2 frozen (live asked as frozen, market closed), 3 delayed, 4
        delayed-frozen."""
        market = self.world.market
        if self.live:
            if self.requested_type in (2, 4) and not market.is_open(self.con_id, now):
                return 2
            return 1
        if self.requested_type == 4 and not market.is_open(self.con_id, now - DELAY_SECONDS):
            return 4
        return 3

    # -- messages ------------------------------------------------------------------------

    def update(self, now: float) -> list[Response]:
        """What the client should get now: everything the first time, then changes."""
        self.world.advance()
        out: list[Response] = []
        view = self._view(now)
        data_type = view.data_type
        first = self.served_type is None
        if data_type != self.served_type:
            out.append(rs_conn.MarketDataType(reqId=self.req_id, marketDataType=data_type))
            self.served_type = data_type
        delayed = data_type in (3, 4)
        at = now - DELAY_SECONDS if delayed else now
        if first:
            out.extend(self._params())
        shown = self._shown
        last, self._last_view = self._last_view, view
        if last is not None and view.previous is last:  # what changed since `last`
            for key, field, known in view.changed:
                before = shown.get(key)
                if not known and (before is field or (before is not None and before == field)):
                    continue
                shown[key] = field
                self._messages(field, before, delayed, out)
        elif view is not last:
            self._show(view.fields, delayed, out)
        if self.generic:
            extra = self._generic_fields(view.at, view.quote)
            self._show([((f.kind, f.tick), f) for f in extra if f is not None], delayed, out)
        if self._rt_volume_wanted:
            out.extend(self._rt_volume(at, first))
        return out

    def _show(self, fields: list[Shown], delayed: bool, out: list[Response]) -> None:
        """The messages for the fields that differ from what the client has."""
        shown = self._shown
        for key, field in fields:
            before = shown.get(key)
            if before is field or (before is not None and before == field):
                continue
            shown[key] = field
            self._messages(field, before, delayed, out)

    def _view(self, now: float) -> _View:
        """The shared part of what this ticker shows at `now` (see `_View`)."""
        market = self.world.market
        views_of = self._views_of
        if views_of is None or views_of[0] is not market:  # the first time, or a reset
            views = _VIEWS.get(market)
            if views is None:
                views = _VIEWS[market] = {}
            views_of = self._views_of = (market, views)
        views = views_of[1]
        key = self._view_key
        previous = views.get(key)
        if previous is not None and previous.now == now and previous.version == market.version:
            return previous
        data_type = self.data_type(now)
        delay = DELAY_SECONDS if data_type in (3, 4) else 0
        at = last_open(self.world, self.con_id, now - delay)
        quote = market.quote(self.con_id, at + delay, data_type)
        shown: list[Shown] = []
        changed: list[tuple[tuple[str, int], Field, bool]] = []
        if not self.mdoff:
            known = {} if previous is None else dict(previous.fields)
            shown = self._base_items(quote, known)
            for field_key, field in shown:
                old = known.get(field_key)
                if old is not field:
                    changed.append((field_key, field, old is not None))
        view = _View(now, market.version, data_type, at, quote, shown, changed, previous)
        if previous is not None:
            previous.previous = None
        views[key] = view
        return view

    def _params(self) -> list[Response]:
        details = self.instrument.details
        bbo = SMART_BBO if details.contract.exchange == "SMART" else ""
        return [
            rs.TickReqParams(
                tickerId=self.req_id,
                minTick=details.minTick,
                bboExchange=bbo,
                snapshotPermissions=SNAPSHOT_PERMISSIONS,
            )
        ]

    def _messages(
        self, field: Field, before: Field | None, delayed: bool, out: list[Response]
    ) -> None:
        """Append to `out` the messages that show `field` (which was `before`)."""
        tick = DELAYED.get(field.tick, field.tick) if delayed else field.tick
        req = self.req_id
        kind = field.kind
        if kind == "book":
            price, size, stamp = field.value
            size_tick = SIZE_OF[field.tick]
            if delayed:
                size_tick = DELAYED[size_tick]
            if before is None or before.value[0] != price or before.value[2] != stamp:
                auto = self.streaming and field.tick != LAST
                attrib = _AUTO_EXECUTE if auto else _NO_AUTO_EXECUTE
                out.append(
                    rs.TickPrice(reqId=req, tickType=tick, price=price, size=size, attrib=attrib)
                )
                if self.streaming:
                    # A stream repeats the size alone; a snapshot sends each tick once.
                    out.append(rs.TickSize(reqId=req, tickType=size_tick, size=size))
                return
            out.append(rs.TickSize(reqId=req, tickType=size_tick, size=size))
        elif kind == "price":
            out.append(rs.TickPrice(reqId=req, tickType=tick, price=field.value, size=Decimal(0)))
        elif kind == "size":
            out.append(rs.TickSize(reqId=req, tickType=tick, size=field.value))
        elif kind == "string":
            out.append(rs.TickString(reqId=req, tickType=tick, value=field.value))
        else:
            out.append(rs.TickGeneric(reqId=req, tickType=tick, value=field.value))

    # -- values ----------------------------------------------------------------------------

    def fields(self, now: float, data_type: int) -> list[Field]:
        """What the ticker shows at `now` (15 minutes earlier for delayed types; as the
        market closed, while it is closed)."""
        delay = DELAY_SECONDS if data_type in (3, 4) else 0
        at = last_open(self.world, self.con_id, now - delay)
        quote = self.world.market.quote(self.con_id, at + delay, data_type)
        out: list[Field | None] = []
        if not self.mdoff:
            out += self._base_fields(quote)
        if self.generic:
            out += self._generic_fields(at, quote)
        return [f for f in out if f is not None]

    def _base_fields(self, quote: Quote) -> list[Field | None]:
        """The top-of-book fields (all but generic ticks)."""
        return [field for _, field in self._base_items(quote, {})]

    def _base_items(self, quote: Quote, known: dict[tuple[str, int], Field]) -> list[Shown]:
        """The top-of-book fields with their keys, in the order they are sent; a field
        equal to the one in `known` (the previous view's) is that one."""
        out: list[Shown] = []

        def show(key: tuple[str, int], value: Any) -> None:
            old = known.get(key)
            if old is not None and old.value == value:
                out.append((key, old))
            else:
                out.append((key, Field(key[0], key[1], value)))

        trades = self.instrument.has_trades
        if trades and quote.last is not None and quote.last_time is not None:
            stamp = int(quote.last_time.timestamp())
            show(_LAST_TIMESTAMP_KEY, str(stamp))
            show(_LAST_KEY, (quote.last, quote.last_size, stamp))
        show(_HALTED_KEY, 0.0)
        if trades:
            show(_VOLUME_KEY, quote.volume)
        if quote.high is not None:
            show(_HIGH_KEY, quote.high)
        if quote.low is not None:
            show(_LOW_KEY, quote.low)
        if quote.close is not None:
            show(_CLOSE_KEY, quote.close)
        if trades and quote.open is not None:
            show(_OPEN_KEY, quote.open)
        if quote.bid is not None:
            show(_BID_KEY, (quote.bid, quote.bid_size, None))
        if quote.ask is not None:
            show(_ASK_KEY, (quote.ask, quote.ask_size, None))
        return out

    def _generic_fields(self, at: float, quote: Quote) -> list[Field | None]:
        out: list[Field | None] = []
        wanted = self.generic
        trades = self.instrument.has_trades
        if wanted & {104, 165, 411}:
            daily = self._daily_stats(at)
            if 165 in wanted:
                out += [
                    Field("price", t, daily[t]) for t in range(LOW_13W, HIGH_52W + 1) if t in daily
                ]
                if trades and AVG_VOLUME in daily:
                    out.append(Field("size", AVG_VOLUME, Decimal(round(daily[AVG_VOLUME]))))
            if HIST_VOLATILITY in daily:
                if 104 in wanted:
                    out.append(Field("generic", HIST_VOLATILITY, daily[HIST_VOLATILITY]))
                if 411 in wanted:
                    out.append(Field("generic", RT_HIST_VOLATILITY, daily[HIST_VOLATILITY]))
        if wanted & {221, 232} and quote.bid is not None and quote.ask is not None:
            mark = (
                quote.midpoint if quote.last is None else min(max(quote.last, quote.bid), quote.ask)
            )
            out.append(Field("price", MARK_PRICE, round(mark, 8)))
        if 236 in wanted and self.instrument.sec_type == "STK":
            out.append(Field("generic", SHORTABLE, 3.0))  # more than 1000 shares to borrow
            shares = 5_000_000 + stable_number(self.con_id, "shortable") % 95_000_000
            out.append(Field("size", SHORTABLE_SHARES, Decimal(shares)))
        if 588 in wanted and self.instrument.sec_type == "FUT":
            interest = 100_000 + stable_number(self.con_id, "open interest") % 2_000_000
            out.append(Field("size", FUTURES_OPEN_INTEREST, Decimal(interest)))
        if not trades:
            return out
        if wanted & {293, 318}:
            day = self.world.market.current_bar(self.con_id, at, "1 day", "TRADES", True)
            if day is not None:
                if 293 in wanted:
                    out.append(Field("generic", TRADE_COUNT, float(day.count)))
                if 318 in wanted:
                    out.append(Field("price", LAST_RTH_TRADE, day.close))
        if wanted & {294, 295, 595}:
            t = math.floor(at)
            minutes = 10 if 595 in wanted else 1
            prints = self.world.market.prints(self.con_id, t + 1 - 60 * minutes, t + 1)
            last_minute = [p for p in prints if p.time > t - 60]
            if 294 in wanted:
                out.append(Field("generic", TRADE_RATE, float(len(last_minute))))
            if 295 in wanted:
                out.append(Field("generic", VOLUME_RATE, float(sum(p.size for p in last_minute))))
            if 595 in wanted:
                for tick, span in SHORT_TERM_VOLUME.items():
                    volume = sum((p.size for p in prints if p.time > t - 60 * span), Decimal(0))
                    out.append(Field("size", tick, volume))
        return out

    def _daily_stats(self, at: float) -> dict[int, float]:
        """13/26/52-week lows and highs, 90-day average volume, 30-day volatility; once
        a day."""
        today = datetime.fromtimestamp(at, UTC).date()
        if self._daily is not None and self._daily[0] == today:
            return self._daily[1]
        what = "TRADES" if self.instrument.has_trades else "MIDPOINT"
        bars = self.world.market.bars(self.con_id, at, "1 Y", "1 day", what, True)
        stats: dict[int, float] = {}
        if bars:
            end = datetime.fromtimestamp(at, UTC)
            for (low, high), weeks in (((LOW_13W, HIGH_13W), 13), ((LOW_26W, HIGH_26W), 26)):
                since = end - timedelta(weeks=weeks)
                recent = [b for b in bars if b.start >= since] or bars[-1:]
                stats[low] = min(b.low for b in recent)
                stats[high] = max(b.high for b in recent)
            stats[LOW_52W] = min(b.low for b in bars)
            stats[HIGH_52W] = max(b.high for b in bars)
            if self.instrument.has_trades:
                stats[AVG_VOLUME] = float(statistics.fmean(float(b.volume) for b in bars[-90:]))
            closes = [b.close for b in bars[-31:]]
            returns = [math.log(b / a) for a, b in pairwise(closes) if a > 0]
            if len(returns) >= 2:
                stats[HIST_VOLATILITY] = round(statistics.stdev(returns) * math.sqrt(252), 6)
        self._daily = (today, stats)
        return stats

    def _rt_volume(self, at: float, first: bool) -> list[Response]:
        """RTVolume (233) and RTTrdVolume (375): one string per new print,
        "price;size;ms;volume;vwap;single"."""
        t = math.floor(at)
        start = t + 1 - RECENT_WINDOW if self._seen_until is None else self._seen_until + 1
        start = max(start, t + 1 - RECENT_WINDOW)
        self._seen_until = t
        prints = self.world.market.prints(self.con_id, start, t + 1)
        if first:
            prints = prints[-1:]
        prints = prints[-PRINTS_PER_STEP:]
        if not prints:
            return []
        day = self.world.market.current_bar(self.con_id, at, "1 day", "TRADES", True)
        volume = day.volume if day is not None else Decimal(0)
        vwap = day.wap if day is not None else Decimal(0)
        out: list[Response] = []
        for p in prints:
            text = f"{p.price};{p.size};{p.time * 1000};{volume};{vwap};true"
            for generic, tick in ((233, RT_VOLUME), (375, RT_TRADE_VOLUME)):
                if generic in self.generic:
                    out.append(rs.TickString(reqId=self.req_id, tickType=tick, value=text))
        return out


# --- reqMktData / cancelMktData ---------------------------------------------------------


def _permission_refusal(instrument: Instrument) -> str:
    contract = instrument.contract
    where = contract.primaryExchange or contract.exchange
    return (
        f"{NO_API_SUBSCRIPTION_TEXT}Delayed market data is available."
        f"{contract.localSymbol or contract.symbol} {where}/TOP/ALL"
    )


@HANDLERS.on(rq.ReqMktData)
def req_mkt_data(session: Session, request: rq.ReqMktData) -> None:
    req_id = request.reqId
    subs = subscriptions(session)
    if subs.get(KIND, req_id) is not None:
        session.error(
            req_id,
            DUPLICATE_TICKER,
            "Error processing request.-'bQ' : cause - Duplicate ticker id",
        )
        return
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    snapshot = request.snapshot or request.regulatorySnapshot
    try:
        generic, mdoff = parse_generic_ticks(request.genericTickList, instrument.sec_type)
    except BadTickList as exc:
        validation_error(session, req_id, "bQ", str(exc))
        return
    if snapshot and (generic or mdoff):
        validation_error(
            session,
            req_id,
            "bQ",
            "Snapshot market data subscription is not applicable to generic ticks",
        )
        return
    if not snapshot and subs.count(KIND) >= MAX_TICKERS:
        session.error(req_id, MAX_TICKERS_CODE, "Max number of tickers has been reached")
        return
    live = permissions(session.gateway).live(instrument)
    requested = session.market_data_type
    if not live:
        if requested in (1, 2):
            session.error(req_id, NO_API_SUBSCRIPTION, _permission_refusal(instrument))
            return
        session.error(req_id, DELAYED_WARNING, DELAYED_WARNING_TEXT)
    ticker = Ticker(
        session.gateway.world,
        req_id,
        instrument,
        requested,
        live,
        generic,
        mdoff,
        streaming=not snapshot,
    )
    for message in ticker.update(session.clock.time()):
        if isinstance(message, rs.TickReqParams) and not supports(session, rs.TickReqParams):
            continue
        session.send(message)
    if snapshot:
        session.send(rs.TickSnapshotEnd(reqId=req_id))
        return

    async def stream(state: Stream) -> None:
        while await every_step(session, state):
            for message in ticker.update(session.clock.time()):
                session.send(message)

    subs.start(session, KIND, req_id, stream)


@HANDLERS.on(rq.CancelMktData)
def cancel_mkt_data(session: Session, request: rq.CancelMktData) -> None:
    if subscriptions(session).cancel(KIND, request.reqId) is None:
        cant_find(session, request.reqId)


# --- depth ----------------------------------------------------------------------------------


class Book:
    """The depth rows a client has, and the updates that bring them to the world's."""

    def __init__(self, world: World, req_id: int, instrument: Instrument, rows: int, smart: bool):
        self.world = world
        self.req_id = req_id
        self.instrument = instrument
        self.rows = rows
        self.smart = smart
        self._shown: dict[tuple[int, int], tuple[float, Decimal]] = {}

    def update(self, now: float) -> list[Response]:
        self.world.advance()
        market = self.world.market
        out: list[Response] = []
        at = last_open(self.world, self.instrument.con_id, now)
        for side, buy in ((0, True), (1, False)):  # side 0: ask (what a buyer meets)
            levels = list(islice(market.depth(self.instrument.con_id, at, buy), self.rows))
            for position in range(self.rows):
                key = (side, position)
                before = self._shown.get(key)
                if position >= len(levels):
                    if before is not None:
                        del self._shown[key]
                        out.append(self._row(position, 2, side, before))
                    continue
                level = levels[position]
                if before == level:
                    continue
                self._shown[key] = level
                out.append(self._row(position, 0 if before is None else 1, side, level))
        return out

    def _row(self, position: int, operation: int, side: int, level: tuple[float, Decimal]):
        price, size = level
        if self.smart:
            venues = self.instrument.profile.venues
            return rs.UpdateMktDepthL2(
                reqId=self.req_id,
                position=position,
                marketMaker=venues[position % len(venues)],
                operation=operation,
                side=side,
                price=price,
                size=size,
                isSmartDepth=True,
            )
        return rs.UpdateMktDepth(
            reqId=self.req_id,
            position=position,
            operation=operation,
            side=side,
            price=price,
            size=size,
        )


@HANDLERS.on(rq.ReqMktDepth)
def req_mkt_depth(session: Session, request: rq.ReqMktDepth) -> None:
    req_id = request.reqId
    subs = subscriptions(session)
    if subs.get(DEPTH_KIND, req_id) is not None:
        session.error(
            req_id, DUPLICATE_TICKER, "Error processing request.-'bQ' : cause - Duplicate ticker id"
        )
        return
    instrument = resolve(session, req_id, request.contract)
    if instrument is None:
        return
    if not permissions(session.gateway).live(instrument):
        session.error(req_id, NO_API_SUBSCRIPTION, NO_API_SUBSCRIPTION_TEXT)
        return
    if subs.count(DEPTH_KIND) >= MAX_DEPTH:
        session.error(
            req_id,
            MAX_DEPTH_CODE,
            f"Max number ({MAX_DEPTH}) of market depth requests has been reached",
        )
        return
    rows = min(max(request.numRows, 1), MAX_DEPTH_ROWS)
    book = Book(session.gateway.world, req_id, instrument, rows, request.isSmartDepth)
    for message in book.update(session.clock.time()):
        session.send(message)

    async def stream(state: Stream) -> None:
        while await every_step(session, state):
            for message in book.update(session.clock.time()):
                session.send(message)

    subs.start(session, DEPTH_KIND, req_id, stream)


@HANDLERS.on(rq.CancelMktDepth)
def cancel_mkt_depth(session: Session, request: rq.CancelMktDepth) -> None:
    if subscriptions(session).cancel(DEPTH_KIND, request.reqId) is None:
        cant_find(session, request.reqId)


DEPTH_EXCHANGES = (
    DepthMktDataDescription(
        exchange="NASDAQ", secType="STK", listingExch="NASDAQ", serviceDataType="Deep2", aggGroup=1
    ),
    DepthMktDataDescription(
        exchange="ARCA", secType="STK", listingExch="ARCA", serviceDataType="Deep", aggGroup=4
    ),
    DepthMktDataDescription(
        exchange="NYSE", secType="STK", listingExch="NYSE", serviceDataType="Deep", aggGroup=1
    ),
    DepthMktDataDescription(
        exchange="IEX", secType="STK", listingExch="", serviceDataType="Deep", aggGroup=2
    ),
    DepthMktDataDescription(
        exchange="BATS", secType="STK", listingExch="", serviceDataType="Deep", aggGroup=3
    ),
    DepthMktDataDescription(
        exchange="IDEALPRO", secType="CASH", listingExch="", serviceDataType="Deep", aggGroup=4
    ),
    DepthMktDataDescription(
        exchange="CME", secType="FUT", listingExch="", serviceDataType="Deep2", aggGroup=2
    ),
    DepthMktDataDescription(
        exchange="NYMEX", secType="FUT", listingExch="", serviceDataType="Deep2", aggGroup=2
    ),
    DepthMktDataDescription(
        exchange="PAXOS", secType="CRYPTO", listingExch="", serviceDataType="Deep", aggGroup=4
    ),
)


@HANDLERS.on(rq.ReqMktDepthExchanges)
def req_mkt_depth_exchanges(session: Session, request: rq.ReqMktDepthExchanges) -> None:
    if not supports(session, rs.MktDepthExchanges):  # no client asks below its version
        return
    session.send(rs.MktDepthExchanges(depthMktDataDescriptions=DEPTH_EXCHANGES))


# The venues behind SMART_BBO, with the letters the consolidated tape uses for them.
SMART_COMPONENTS = tuple(
    SmartComponent(bitNumber=bit, exchange=exchange, exchangeLetter=letter)
    for bit, (exchange, letter) in enumerate(
        (
            ("AMEX", "A"),
            ("ARCA", "P"),
            ("BATS", "Z"),
            ("BYX", "Y"),
            ("CHX", "M"),
            ("DRCTEDGE", "J"),
            ("EDGEA", "J"),
            ("EDGX", "K"),
            ("IEX", "V"),
            ("ISE", "I"),
            ("LTSE", "L"),
            ("MEMX", "U"),
            ("NASDAQ", "Q"),
            ("NYSE", "N"),
            ("NYSENAT", "C"),
            ("PEARL", "H"),
            ("PSX", "X"),
        ),
        start=1,
    )
)


@HANDLERS.on(rq.ReqSmartComponents)
def req_smart_components(session: Session, request: rq.ReqSmartComponents) -> None:
    if not supports(session, rs.SmartComponents):  # no client asks below its version
        return
    if request.bboExchange != SMART_BBO:
        validation_error(session, request.reqId, "V", "Invalid BBO exchange/security type code")
        return
    session.send(rs.SmartComponents(reqId=request.reqId, smartComponentMap=SMART_COMPONENTS))
