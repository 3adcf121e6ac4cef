"""What a rule does (`do:`), each action named after what IB really does.

A `do:` list holds steps; each step names exactly one action, e.g.
`- fill: {quantity: 40, price: 150.25}` or `- delay: 500ms`. Actions whose settings all
have defaults may be written bare: `- cancel`, `- disconnect`.

References to orders and requests are a number or a `$binding`. A rule's trigger binds
the matched message's top-level fields by name (`$orderId`, `$reqId`, `$clientId`), so
`fill`, `reject` and `cancel` act on the order that triggered the rule unless told
otherwise. `reqId` left unset means "the triggering request's id, else -1".
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from .durations import Duration
from .ib_codes import FARM_STATUS, FarmKind, FarmState, farm_kind
from .matchers import BINDING_PATTERN

Binding = Annotated[str, msgspec.Meta(pattern=BINDING_PATTERN)]
OrderRef = int | Binding
RequestRef = int | Binding
Quantity = Annotated[float, msgspec.Meta(gt=0)]
Price = Annotated[float, msgspec.Meta(gt=0)]

# A message written as {apiName: {field: value}}; values may be `$bindings`.
MessageSpec = dict[str, dict[str, Any]]


class _Action(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, repr_omit_defaults=True
):
    pass


class Fill(_Action, frozen=True, kw_only=True):
    """Execute the order: execDetails, commissionReport, orderStatus Filled (or partial)."""

    order: OrderRef = "$orderId"
    quantity: Quantity | None = None  # default: all that remains
    price: Price | None = None  # default: the limit price, else the market price


class Slice(_Action, frozen=True, kw_only=True):
    """One fill of a partial_fill; written `{quantity: 40, price: 150.1}` or "40@150.1"."""

    quantity: Quantity
    price: Price
    delay: Duration | None = None  # wait this long before this slice
    order: OrderRef = "$orderId"


class Reject(_Action, frozen=True, kw_only=True):
    """IB refuses the order: error `code` for the order id, then orderStatus Inactive."""

    order: OrderRef = "$orderId"
    code: int = 201
    text: str | None = None  # default: IB's text for the code


class Cancel(_Action, frozen=True, kw_only=True):
    """IB cancels the order (e.g. at the exchange): error `code`, orderStatus Cancelled."""

    order: OrderRef = "$orderId"
    code: int = 202
    text: str | None = None


class IbError(_Action, frozen=True, kw_only=True):
    """Send an error/notice message (any IB code: 162, 200, 354, 10089, 2103...)."""

    code: int
    text: str | None = None  # default: IB's text for the code
    reqId: RequestRef | None = None  # default: the triggering request's id, else -1
    client: int | None = None  # default: the triggering client, else every client


class FarmStatus(_Action, frozen=True, kw_only=True):
    """A data farm changes state: 2104/2103/2108, 2106/2105/2107, 2158/2157, to everyone."""

    farm: str
    state: FarmState
    kind: FarmKind | None = None  # default: from the name (…hmds…, secdef…, else market data)

    def __post_init__(self) -> None:
        if (self.farm_kind, self.state) not in FARM_STATUS:
            raise ValueError(f"a {self.farm_kind} farm has no {self.state!r} notice in IB")

    @property
    def farm_kind(self) -> str:
        return self.kind or farm_kind(self.farm)

    @property
    def code(self) -> int:
        return FARM_STATUS[(self.farm_kind, self.state)][0]


class Disconnect(_Action, frozen=True, kw_only=True):
    """Drop the connection: close (FIN), reset (RST), truncate (half a frame, then close),
    silence (keep the socket open, stop reading and writing)."""

    mode: Literal["close", "reset", "truncate", "silence"] = "close"
    client: int | None = None  # default: the triggering client, else every client


class ConnectivityLost(_Action, frozen=True, kw_only=True):
    """IB loses its link to the Gateway: 1100 to every client; data stops."""


class ConnectivityRestored(_Action, frozen=True, kw_only=True):
    """The link returns: 1102 (data maintained) or 1101 (data lost, resubscribe)."""

    data: Literal["maintained", "lost"] = "maintained"
    delay: Duration | None = None  # wait this long first

    @property
    def code(self) -> int:
        return 1102 if self.data == "maintained" else 1101


def _five_seconds() -> Duration:
    return Duration(seconds=5)


class ServerRestart(_Action, frozen=True, kw_only=True):
    """Drop every client, refuse connections for `down`, then accept again."""

    down: Duration = msgspec.field(default_factory=_five_seconds)
    keep_state: bool = True  # orders, positions and ids survive the restart


class PacingViolation(_Action, frozen=True, kw_only=True):
    """historical: error 162 (pacing violation) for the request;
    messages: error 100 (more than the allowed messages per second)."""

    kind: Literal["historical", "messages"] = "historical"
    reqId: RequestRef | None = None


class ReviseBar(_Action, frozen=True, kw_only=True):
    """Revise the current bar of keep-up-to-date bar streams by these deltas."""

    reqId: RequestRef | None = None  # default: every keep-up-to-date stream (or the trigger's)
    symbol: str | None = None
    high: float = 0.0
    low: float = 0.0
    close: float = 0.0
    volume: float = 0.0

    def __post_init__(self) -> None:
        if not (self.high or self.low or self.close or self.volume):
            raise ValueError("expected at least one non-zero delta of high, low, close, volume")


class Step(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, repr_omit_defaults=True
):
    """One entry of `do:`; exactly one field is set. `kind` and `spec` say which."""

    fill: Fill | None = None
    partial_fill: Annotated[tuple[Slice, ...], msgspec.Meta(min_length=1)] | None = None
    reject: Reject | None = None
    cancel: Cancel | None = None
    error: IbError | None = None
    farm_status: FarmStatus | None = None
    raw: Annotated[tuple[str | int, ...], msgspec.Meta(min_length=1)] | None = None
    delay: Duration | None = None
    disconnect: Disconnect | None = None
    connectivity_lost: ConnectivityLost | None = None
    connectivity_restored: ConnectivityRestored | None = None
    server_restart: ServerRestart | None = None
    pacing_violation: PacingViolation | None = None
    revise_bar: ReviseBar | None = None
    market_data_type: Annotated[int, msgspec.Meta(ge=1, le=4)] | None = None
    move_price: Annotated[dict[str, Price], msgspec.Meta(min_length=1)] | None = None
    advance_clock: Duration | None = None
    respond: tuple[MessageSpec, ...] | None = None  # replaces the default reply; [] = none
    send: Annotated[tuple[MessageSpec, ...], msgspec.Meta(min_length=1)] | None = None

    def __post_init__(self) -> None:
        named = [f for f in ACTION_NAMES if getattr(self, f) is not None]
        if not named:
            raise ValueError("expected an action, e.g. fill, reject, error, delay, disconnect")
        if len(named) > 1:
            raise ValueError(
                f"one action per step, got {' and '.join(named)}: write them as separate list items"
            )

    @property
    def kind(self) -> str:
        return next(f for f in ACTION_NAMES if getattr(self, f) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)


ACTION_NAMES: tuple[str, ...] = tuple(Step.__struct_fields__)

# Actions that may be written as a bare name: all their settings have defaults.
BARE_ACTIONS: frozenset[str] = frozenset(
    {
        "fill",
        "reject",
        "cancel",
        "disconnect",
        "connectivity_lost",
        "connectivity_restored",
        "server_restart",
        "pacing_violation",
    }
)

# Actions that act on an order, and so need `$orderId` (or an explicit order) to exist.
ORDER_ACTIONS: frozenset[str] = frozenset({"fill", "partial_fill", "reject", "cancel"})
