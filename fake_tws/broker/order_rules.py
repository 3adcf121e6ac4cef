"""What makes an order acceptable, and IB's words when it is not.

`validate` checks an order against its instrument the way TWS does before accepting
it and returns the first problem as an `OrderProblem` (code + IB's message text).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import msgspec

from fake_tws.ibtypes import Order

from .instruments import Instrument, on_grid

# API order type -> the token in ContractDetails.orderTypes
ORDER_TYPES = {
    "MKT": "MKT",
    "LMT": "LMT",
    "STP": "STP",
    "STP LMT": "STPLMT",
    "MIT": "MIT",
    "LIT": "LIT",
    "TRAIL": "TRAIL",
    "TRAIL LIMIT": "TRAILLMT",
    "MOC": "MOC",
    "LOC": "LOC",
    "MIDPRICE": "MIDPX",
}
TRIGGERED = {"STP", "STP LMT", "MIT", "LIT", "TRAIL", "TRAIL LIMIT"}
NEEDS_LIMIT = {"LMT", "STP LMT", "LIT", "LOC"}
NEEDS_AUX = {"STP", "STP LMT", "MIT", "LIT"}
AUCTION = {"MOC", "LOC"}
TIFS = {"DAY", "GTC", "IOC", "FOK", "GTD", "OPG"}
ACTIONS = {"BUY", "SELL", "SSHORT"}

LIVE = ("PreSubmitted", "Submitted", "PendingCancel")
DONE = ("Filled", "Cancelled", "Inactive")


class OrderProblem(msgspec.Struct, frozen=True):
    code: int
    message: str


def rejected(reason: str) -> OrderProblem:
    return OrderProblem(201, f"Order rejected - reason:{reason}")


def invalid(cause: str) -> OrderProblem:
    return OrderProblem(321, f"Error validating request.-'bF' : cause - {cause}")


DUPLICATE_ID = OrderProblem(103, "Duplicate order id")
MODIFY_FILLED = OrderProblem(104, "Can't modify a filled order.")
MODIFY_MISMATCH = OrderProblem(105, "Order being modified does not match original order.")
OFF_TICK = OrderProblem(
    110, "The price does not conform to the minimum price variation for this contract."
)
UNSUPPORTED_TYPE = OrderProblem(387, "Unsupported order type for this exchange and security type.")
ZERO_SIZE = OrderProblem(434, "The order size cannot be zero.")
CANCELLED = "Order Canceled - reason:"


def cancel_not_found(order_id: int) -> OrderProblem:
    return OrderProblem(10147, f"OrderId {order_id} that needs to be cancelled is not found.")


def cancel_not_cancellable(order_id: int, status: str) -> OrderProblem:
    return OrderProblem(
        10148,
        f"OrderId {order_id} that needs to be cancelled cannot be cancelled, state: {status}.",
    )


def order_type(order: Order) -> str:
    return " ".join(order.orderType.upper().split())


def quantity_of(order: Order) -> Decimal:
    return order.totalQuantity if order.totalQuantity is not None else Decimal(0)


def validate(order: Order, instrument: Instrument, increment_at) -> OrderProblem | None:
    """The first reason TWS would refuse `order` for `instrument`, or None.

    `increment_at(price)` is the price increment the instrument's market rule
    requires at that price.
    """
    kind = order_type(order)
    action = order.action.upper()
    if action not in ACTIONS:
        return invalid("Invalid action")
    if kind not in ORDER_TYPES:
        return invalid("Invalid order type was entered")
    allowed = set(instrument.details.orderTypes.split(","))
    if ORDER_TYPES[kind] not in allowed or not instrument.tradable:
        return UNSUPPORTED_TYPE
    tif = (order.tif or "DAY").upper()
    if tif not in TIFS:
        return invalid("Invalid time in force")
    if tif == "OPG" and (kind not in ("MKT", "LMT") or instrument.sec_type != "STK"):
        return rejected("OPG time in force is only for market and limit stock orders")
    if tif in ("IOC", "FOK") and kind in AUCTION:
        return rejected(f"{tif} is not allowed for {kind} orders")
    quantity = quantity_of(order)
    if quantity <= 0 and not (order.cashQty and order.cashQty > 0):
        return ZERO_SIZE
    if quantity > 0:
        details = instrument.details
        increment = details.sizeIncrement or Decimal(1)
        if quantity % increment:
            return rejected(f"The order size must be a multiple of {increment:f}")
        if details.minSize is not None and quantity < details.minSize:
            return rejected(f"The order size is below the minimum of {details.minSize:f}")
    if kind in NEEDS_LIMIT and order.lmtPrice is None:
        return rejected("A limit price is required for this order type")
    if kind in NEEDS_AUX and order.auxPrice is None:
        return rejected("A stop (trigger) price is required for this order type")
    if (
        kind in ("TRAIL", "TRAIL LIMIT")
        and order.auxPrice is None
        and order.trailingPercent is None
    ):
        return rejected("A trailing amount or trailing percent is required")
    if kind == "TRAIL LIMIT" and order.lmtPriceOffset is None and order.lmtPrice is None:
        return rejected("A limit price offset is required for trailing limit orders")
    if tif == "GTD" and parse_good_till(order.goodTillDate) is None:
        return rejected("Good-till-date orders need a valid goodTillDate")
    prices = [order.lmtPrice]
    if kind in NEEDS_AUX or (kind in ("TRAIL", "TRAIL LIMIT") and order.trailingPercent is None):
        prices.append(order.auxPrice)
    if kind in ("TRAIL", "TRAIL LIMIT"):
        prices += [order.trailStopPrice, order.lmtPriceOffset]
    for price in prices:
        if price is None:
            continue
        if price <= 0 and instrument.sec_type not in ("FUT", "CFD"):
            return rejected("The price must be positive")
        if not on_grid(price, increment_at(price)):
            return OFF_TICK
    return None


_GTD = re.compile(r"^(\d{8})[ -](\d{2}:\d{2}:\d{2})(?:\s+(\S+))?$")


def parse_good_till(text: str, default_zone: str = "US/Eastern") -> datetime | None:
    """IB date-times: "yyyymmdd HH:MM:SS [zone]" (local) or "yyyymmdd-HH:MM:SS" (UTC)."""
    m = _GTD.match(text.strip())
    if not m:
        return None
    moment = datetime.strptime(f"{m.group(1)} {m.group(2)}", "%Y%m%d %H:%M:%S")
    if "-" in text.strip()[8:9]:
        return moment.replace(tzinfo=UTC)
    try:
        zone = ZoneInfo(m.group(3) or default_zone)
    except (KeyError, ValueError):
        return None
    return moment.replace(tzinfo=zone).astimezone(UTC)
