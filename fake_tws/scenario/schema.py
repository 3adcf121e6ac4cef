"""The typed shape of a scenario file: `world` (the starting state) and `rules`.

A rule says "when this happens, do that":

    rules:
      - id: fill-aapl
        when: {request: placeOrder, where: {contract.symbol: AAPL}}
        do:
          - delay: 200ms
          - fill: {price: 150.25}

Field names borrowed from IB's API keep IB's spelling (`reqId`, `secType`); the
scenario's own words are snake_case (`partial_fill`, `server_version`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from fake_tws.ibtypes import Contract
from fake_tws.protocol import versions

from .actions import Step
from .durations import Duration, TimePoint
from .matchers import Matcher

RuleId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
# The names of events.EVENT_TYPES (a test keeps the two in step).
EventName = Literal[
    "connected",
    "disconnected",
    "order_submitted",
    "execution",
    "order_filled",
    "order_cancelled",
    "order_rejected",
    "bar_closed",
]

NonNegative = Annotated[float, msgspec.Meta(ge=0)]
ServerVersionNumber = Annotated[
    int, msgspec.Meta(ge=versions.MIN_SUPPORTED, le=versions.MAX_SUPPORTED)
]


class _Strict(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, repr_omit_defaults=True
):
    pass


# --- world -----------------------------------------------------------------------------


class Position(_Strict, frozen=True, kw_only=True):
    symbol: str
    quantity: float  # negative for a short position
    avgCost: NonNegative = 0.0


class Account(_Strict, frozen=True, kw_only=True):
    id: Annotated[str, msgspec.Meta(min_length=1)]
    currency: str = "USD"
    cash: float = 1_000_000.0
    positions: tuple[Position, ...] = ()


class Instrument(_Strict, frozen=True, kw_only=True):
    """A contract the world knows besides its built-in catalog, with its starting price."""

    contract: Contract
    price: Annotated[float, msgspec.Meta(gt=0)]
    minTick: Annotated[float, msgspec.Meta(gt=0)] = 0.01
    longName: str = ""


class MarketData(_Strict, frozen=True, kw_only=True):
    # random_walk: seeded synthetic prices; static: prices move only by move_price.
    mode: Literal["random_walk", "static"] = "random_walk"
    # 1 real-time, 2 frozen, 3 delayed, 4 delayed-frozen (what reqMarketDataType names).
    type: Annotated[int, msgspec.Meta(ge=1, le=4)] = 1
    tick_interval: Duration = msgspec.field(default_factory=lambda: Duration(seconds=0.25))


class ServerVersion(_Strict, frozen=True, kw_only=True):
    min: ServerVersionNumber = versions.MIN_SUPPORTED
    max: ServerVersionNumber = versions.MAX_SUPPORTED

    def __post_init__(self) -> None:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is above max ({self.max})")


class Pacing(_Strict, frozen=True, kw_only=True):
    # Above this many client messages per second the server sends error 100; 0 = no limit.
    max_messages_per_second: Annotated[int, msgspec.Meta(ge=0)] = 50
    disconnect_on_violation: bool = False
    # Enforce IB's historical-data pacing (error 162) on its own, without a rule.
    historical: bool = False


def _default_accounts() -> tuple[Account, ...]:
    return (Account(id="DU1234567"),)


class World(_Strict, frozen=True, kw_only=True):
    seed: int = 0
    start: Annotated[datetime, msgspec.Meta(tz=True)] = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
    clock: Literal["virtual", "realtime"] = "virtual"
    accounts: tuple[Account, ...] = msgspec.field(default_factory=_default_accounts)
    managed_accounts: tuple[str, ...] | None = None  # default: every account's id
    instruments: tuple[Instrument, ...] = ()
    market_data: MarketData = msgspec.field(default_factory=MarketData)
    server_version: ServerVersion = ServerVersion()
    pacing: Pacing = Pacing()
    next_order_id: Annotated[int, msgspec.Meta(ge=1)] = 1
    farms: tuple[str, ...] = ("usfarm", "ushmds", "secdefil")  # reported OK at connect

    @property
    def managed(self) -> tuple[str, ...]:
        if self.managed_accounts is not None:
            return self.managed_accounts
        return tuple(a.id for a in self.accounts)


# --- rules -----------------------------------------------------------------------------

TRIGGER_KINDS = ("request", "event", "at", "after")


class When(_Strict, frozen=True, kw_only=True):
    """The trigger: exactly one of request, event, at, after."""

    request: str | None = None  # an EClient api name: placeOrder, reqMktData...
    event: EventName | None = None
    at: TimePoint | None = None  # "+30s" from the world's start, or an ISO date-time
    after: RuleId | None = None  # another rule fired (inherits its bindings)
    where: dict[str, Matcher] = {}  # field matchers (request and event triggers)
    client: int | None = None  # only messages/events of this client id
    delay: Duration | None = None  # with `after`: how long after

    def __post_init__(self) -> None:
        given = [k for k in TRIGGER_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            got = " and ".join(given) if given else "none"
            raise ValueError(f"expected exactly one of request, event, at, after; got {got}")
        kind = given[0]
        if self.where and kind not in ("request", "event"):
            raise ValueError(f"`where` matches message fields; an `{kind}` trigger has none")
        if self.client is not None and kind not in ("request", "event"):
            raise ValueError(f"`client` applies to request and event triggers, not `{kind}`")
        if self.delay is not None and kind != "after":
            raise ValueError("`delay` goes with `after`; put a delay action in `do` instead")

    @property
    def kind(self) -> str:
        return next(k for k in TRIGGER_KINDS if getattr(self, k) is not None)


class Rule(_Strict, frozen=True, kw_only=True):
    id: RuleId
    when: When
    do: Annotated[tuple[Step, ...], msgspec.Meta(min_length=1)]
    # How many times the rule may fire; 0 = every time.
    times: Annotated[int, msgspec.Meta(ge=0)] = 1
    # Fire on the nth match (earlier matches pass by), then up to `times` times.
    nth: Annotated[int, msgspec.Meta(ge=1)] | None = None
    description: str = ""


class ScenarioFile(_Strict, frozen=True, kw_only=True):
    """One YAML file as written. `include`d files compose into a `Scenario`."""

    name: str = ""
    description: str = ""
    include: tuple[str, ...] = ()
    world: World | None = None
    rules: tuple[Rule, ...] = ()


# --- a loaded scenario -------------------------------------------------------------------


class Location(msgspec.Struct, frozen=True):
    file: Path
    line: int  # 1-based
    column: int  # 1-based

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Scenario(msgspec.Struct, frozen=True, kw_only=True):
    """A scenario with its includes composed: one world, all rules in include order.

    `where` keys are full dotted paths (`order.orderType`, never the bare `orderType`),
    so the engine can look values up without knowing the shorthand.
    """

    name: str
    description: str
    world: World
    rules: tuple[Rule, ...]
    files: tuple[Path, ...]  # every file read, includes first, the root last
    rule_locations: dict[str, Location]  # where each rule's `id` is written

    def rule(self, rule_id: str) -> Rule:
        return next(r for r in self.rules if r.id == rule_id)
