"""What the market data and historical families share: subscriptions, contract
resolution, market data permissions and IB's date-time texts.

A subscription is a task spawned in the client's nursery (`Session.spawn`), filed under
(kind, reqId) so its cancel request finds it. A stream's loop checks `Stream.active`
after every wait, so nothing is sent once its cancel has been handled, even if the
task was already woken up when the cancel arrived.

Streams wake once per `STEP` seconds of clock time (a second of wall time with the real
clock; whenever a test advances the virtual clock past the next step) and send what
changed since their last wake-up, so a big jump of the clock costs one bounded batch.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fake_tws.broker import Instrument, NoSecurityDefinition, World
from fake_tws.ibtypes import Contract
from fake_tws.protocol.messages import Response
from fake_tws.session import Gateway, Session, TaskHandle

# How often, in clock seconds, a stream looks at the world.
STEP = 1.0

CANT_FIND_TICKER = 300  # "Can't find EId with tickerId:N"
DUPLICATE_TICKER = 322
INVALID_REQUEST = 321


def validation_error(session: Session, req_id: int, code: str, cause: str) -> None:
    """TWS's 321: "Error validating request.-'bQ' : cause - ..."."""
    session.error(req_id, INVALID_REQUEST, f"Error validating request.-'{code}' : cause - {cause}")


def cant_find(session: Session, req_id: int) -> None:
    """TWS's answer to the cancel of a subscription it does not have."""
    session.error(req_id, CANT_FIND_TICKER, f"Can't find EId with tickerId:{req_id}")


def supports(session: Session, message: type[Response]) -> bool:
    """Whether the negotiated version can carry `message`."""
    return session.version >= message.min_version


# --- subscriptions -------------------------------------------------------------------


@dataclass(eq=False)
class Stream:
    """One running subscription. `active` turns False when it is cancelled or ends."""

    kind: str
    req_id: int
    active: bool = True
    handle: TaskHandle | None = None
    state: dict = field(default_factory=dict)  # what the stream wants to remember

    def cancel(self) -> None:
        self.active = False
        if self.handle is not None:
            self.handle.cancel()


class Subscriptions:
    """A session's running streams by (kind, reqId)."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, int], Stream] = {}

    def get(self, kind: str, req_id: int) -> Stream | None:
        return self._streams.get((kind, req_id))

    def count(self, kind: str) -> int:
        return sum(1 for k, _ in self._streams if k == kind)

    def start(
        self,
        session: Session,
        kind: str,
        req_id: int,
        body: Callable[[Stream], Awaitable[None]],
    ) -> Stream:
        """File a new stream and run `body(stream)` in the background until it returns,
        is cancelled, or the connection ends."""
        stream = Stream(kind, req_id)
        self._streams[(kind, req_id)] = stream

        async def run() -> None:
            try:
                await body(stream)
            finally:
                stream.active = False
                self.forget(stream)

        stream.handle = session.spawn(f"{kind}-{req_id}", run)
        return stream

    def forget(self, stream: Stream) -> None:
        if self._streams.get((stream.kind, stream.req_id)) is stream:
            del self._streams[(stream.kind, stream.req_id)]

    def forget_all(self) -> None:
        """Every stream was cancelled at once (IB dropping subscriptions with 1101): a
        client resubscribing right away reuses its ids, so none may linger here."""
        for stream in self._streams.values():
            stream.active = False
        self._streams.clear()

    def cancel(self, kind: str, req_id: int) -> Stream | None:
        """Stop a stream; None if there was none."""
        stream = self._streams.pop((kind, req_id), None)
        if stream is not None:
            stream.cancel()
        return stream


_SUBSCRIPTIONS: weakref.WeakKeyDictionary[Session, Subscriptions] = weakref.WeakKeyDictionary()


def subscriptions(session: Session) -> Subscriptions:
    found = _SUBSCRIPTIONS.get(session)
    if found is None:
        found = _SUBSCRIPTIONS[session] = Subscriptions()
        session.on_streams_cancelled(found.forget_all)
    return found


async def every_step(session: Session, stream: Stream) -> bool:
    """Wait for the next step of the clock; False once the stream is no longer wanted."""
    await session.clock.sleep(STEP)
    return stream.active and not session.closed


def last_open(world: World, con_id: int, t: float) -> float:
    """`t` if the instrument trades then, else the last moment it traded: a closed market
    stands still (its quote sizes do not change every second as an open one's do)."""
    market = world.market
    if market.is_open(con_id, t):
        return t
    before = market.tape(con_id).schedule.previous_session(t, limit_days=60)
    return t if before is None else min(t, before.end - 1)


# --- contracts -----------------------------------------------------------------------

NO_SECURITY_DEFINITION = 200


def resolve(session: Session, req_id: int, contract: Contract) -> Instrument | None:
    """The one instrument `contract` describes, or None after answering error 200."""
    world: World = session.gateway.world
    found = world.catalog.resolve_one(contract)
    if isinstance(found, NoSecurityDefinition):
        session.error(req_id, found.code, found.message)
        return None
    return found[0]


# --- market data permissions -----------------------------------------------------------


class Permissions:
    """Which instruments lack real-time market data, by symbol or secType ("*": all).
    Starts from `ServerConfig.no_live_data`; a scenario may change it while running."""

    def __init__(self, denied: tuple[str, ...] = ()) -> None:
        self.denied = {d.upper() for d in denied}

    def live(self, instrument: Instrument) -> bool:
        if not self.denied:
            return True
        keys = {"*", instrument.symbol.upper(), instrument.sec_type.upper()}
        return not keys & self.denied

    def deny(self, *names: str) -> None:
        self.denied |= {n.upper() for n in names}

    def allow(self, *names: str) -> None:
        self.denied -= {n.upper() for n in names}


_PERMISSIONS: weakref.WeakKeyDictionary[Gateway, Permissions] = weakref.WeakKeyDictionary()


def permissions(gateway: Gateway) -> Permissions:
    found = _PERMISSIONS.get(gateway)
    if found is None:
        found = _PERMISSIONS[gateway] = Permissions(gateway.config.no_live_data)
    return found


def listing(instrument: Instrument) -> str:
    """How IB names where an instrument's data comes from in permission errors:
    "ISLAND STK" for a NASDAQ stock, "IDEALPRO CASH", "CME FUT"..."""
    contract = instrument.contract
    exchange = contract.primaryExchange or contract.exchange
    if exchange == "NASDAQ":
        exchange = "ISLAND"
    return f"{exchange} {contract.secType}"


NO_API_SUBSCRIPTION = 10089
NO_API_SUBSCRIPTION_TEXT = (
    "Requested market data requires additional subscription for API. "
    "See link in 'Market Data Connections' dialog for more details."
)


# --- date-time texts ---------------------------------------------------------------------


class BadDateTime(ValueError):
    """A date-time text TWS would not read."""


_DATE_TIME = re.compile(
    r"^\s*(\d{8})(?:(?:\s+|-)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?)?(?:\s+(\S+))?\s*$"
)


@dataclass(frozen=True)
class ParsedTime:
    moment: datetime  # aware
    zone_given: bool  # False: read in the gateway's zone (TWS warns with 2174)


def parse_ib_datetime(text: str, default_zone: str) -> ParsedTime:
    """TWS's request date-times: "yyyymmdd HH:MM:SS US/Eastern" (any zone name, "UTC"
    too), "yyyymmdd-HH:MM:SS" (UTC), "yyyymmdd HH:MM:SS" (the gateway's own zone) or
    "yyyymmdd" (midnight ending that day, in the gateway's zone)."""
    m = _DATE_TIME.match(text)
    if m is None:
        raise BadDateTime(text)
    day, hour, minute, second, zone = m.groups()
    utc_dash = "-" in text.strip()[8:9]
    try:
        base = datetime.strptime(day, "%Y%m%d")
        if hour is not None:
            base = base.replace(hour=int(hour), minute=int(minute), second=int(second or 0))
        else:
            base = base.replace(hour=23, minute=59, second=59)
    except ValueError as exc:
        raise BadDateTime(text) from exc
    if zone is not None:
        try:
            tz = UTC if zone.upper() in ("UTC", "GMT", "Z") else ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise BadDateTime(text) from exc
        return ParsedTime(base.replace(tzinfo=tz), True)
    if utc_dash:
        return ParsedTime(base.replace(tzinfo=UTC), True)
    return ParsedTime(base.replace(tzinfo=ZoneInfo(default_zone)), False)


IMPLIED_ZONE = 2174
IMPLIED_ZONE_TEXT = (
    "You submitted request with date-time attributes without explicit time zone. Please "
    "switch to use yyyymmdd-hh:mm:ss in UTC or use instrument time zone, like US/Eastern. "
    "Implied time zone functionality will be removed in the next API release"
)
