"""Orders between NautilusTrader and IB: order types, sides and TIFs both ways, a
Nautilus order as an ibapi ``Order`` (with ``IBOrderTags``), IB's order statuses, and
IB orders and executions as NautilusTrader reports.

``MAP_*`` tables, ``ORDER_SIDE_TO_ORDER_ACTION`` and ``timestring_to_timestamp`` have the
names of ``nautilus_trader.adapters.interactive_brokers.parsing.execution``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pandas as pd
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE
from ibapi.order import Order as IBOrder
from ibapi.order_condition import (
    ExecutionCondition,
    MarginCondition,
    OrderCondition,
    PercentChangeCondition,
    PriceCondition,
    TimeCondition,
    VolumeCondition,
)
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport, OrderStatusReport
from nautilus_trader.model.enums import (
    ContingencyType,
    LiquiditySide,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TrailingOffsetType,
    TriggerType,
)
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    TradeId,
    VenueOrderId,
)
from nautilus_trader.model.instruments import Instrument
from nautilus_trader.model.objects import Currency, Money, Price, Quantity
from nautilus_trader.model.orders import Order

from adapter.common import IBOrderTags
from adapter.parsing.price_conversion import (
    ib_price_to_nautilus_price,
    nautilus_price_to_ib_price,
)

MAP_TRIGGER_METHOD: dict[int, int] = {
    TriggerType.DEFAULT: 0,
    TriggerType.DOUBLE_BID_ASK: 1,
    TriggerType.LAST_PRICE: 2,
    TriggerType.DOUBLE_LAST: 3,
    TriggerType.BID_ASK: 4,
    TriggerType.LAST_OR_BID_ASK: 7,
    TriggerType.MID_POINT: 8,
}
MAP_TIME_IN_FORCE: dict[int, str] = {
    TimeInForce.DAY: "DAY",
    TimeInForce.GTC: "GTC",
    TimeInForce.IOC: "IOC",
    TimeInForce.GTD: "GTD",
    TimeInForce.AT_THE_OPEN: "OPG",
    TimeInForce.AT_THE_CLOSE: "DAY",  # with MOC / LOC
    TimeInForce.FOK: "FOK",
}
MAP_ORDER_ACTION: dict[int, str] = {OrderSide.BUY: "BUY", OrderSide.SELL: "SELL"}
ORDER_SIDE_TO_ORDER_ACTION: dict[str, str] = {"BOT": "BUY", "SLD": "SELL"}
MAP_ORDER_TYPE: dict[int | tuple[int, int], str] = {
    OrderType.LIMIT: "LMT",
    OrderType.LIMIT_IF_TOUCHED: "LIT",
    OrderType.MARKET: "MKT",
    OrderType.MARKET_IF_TOUCHED: "MIT",
    OrderType.MARKET_TO_LIMIT: "MTL",
    OrderType.STOP_LIMIT: "STP LMT",
    OrderType.STOP_MARKET: "STP",
    OrderType.TRAILING_STOP_LIMIT: "TRAIL LIMIT",
    OrderType.TRAILING_STOP_MARKET: "TRAIL",
    (OrderType.MARKET, TimeInForce.AT_THE_CLOSE): "MOC",
    (OrderType.LIMIT, TimeInForce.AT_THE_CLOSE): "LOC",
}
MAP_ORDER_STATUS: dict[str, OrderStatus] = {
    "ApiPending": OrderStatus.SUBMITTED,
    "PendingSubmit": OrderStatus.SUBMITTED,
    "PendingCancel": OrderStatus.PENDING_CANCEL,
    "PreSubmitted": OrderStatus.SUBMITTED,
    "Submitted": OrderStatus.ACCEPTED,
    "ApiCancelled": OrderStatus.CANCELED,
    "Cancelled": OrderStatus.CANCELED,
    "Filled": OrderStatus.FILLED,
    "Inactive": OrderStatus.DENIED,
}

IB_TO_NAUTILUS_ORDER_TYPE: dict[str, tuple[OrderType, TimeInForce | None]] = {
    "MKT": (OrderType.MARKET, None),
    "LMT": (OrderType.LIMIT, None),
    "STP": (OrderType.STOP_MARKET, None),
    "STP LMT": (OrderType.STOP_LIMIT, None),
    "MIT": (OrderType.MARKET_IF_TOUCHED, None),
    "LIT": (OrderType.LIMIT_IF_TOUCHED, None),
    "MTL": (OrderType.MARKET_TO_LIMIT, None),
    "TRAIL": (OrderType.TRAILING_STOP_MARKET, None),
    "TRAIL LIMIT": (OrderType.TRAILING_STOP_LIMIT, None),
    "MOC": (OrderType.MARKET, TimeInForce.AT_THE_CLOSE),
    "LOC": (OrderType.LIMIT, TimeInForce.AT_THE_CLOSE),
}
IB_TO_NAUTILUS_TIME_IN_FORCE: dict[str, TimeInForce] = {
    "DAY": TimeInForce.DAY,
    "GTC": TimeInForce.GTC,
    "IOC": TimeInForce.IOC,
    "GTD": TimeInForce.GTD,
    "OPG": TimeInForce.AT_THE_OPEN,
    "FOK": TimeInForce.FOK,
}
_TRIGGER_METHODS = {v: k for k, v in MAP_TRIGGER_METHOD.items()}
_OCA_TYPES = {ContingencyType.OCO: 1, ContingencyType.OUO: 2}  # cancel / reduce, with block
ORDER_TAGS_PREFIX = "IBOrderTags:"


def timestring_to_timestamp(timestring: str) -> pd.Timestamp:
    """IB's execution and order times: "20230223 00:43:36 America/New_York",
    "20230223 00:43:36 Universal", or "20250225-15:15:00" (UTC)."""
    text = timestring.strip()
    if " " in text:
        moment, zone = text.rsplit(" ", 1)
        if ":" in zone:  # no zone at all: "yyyymmdd HH:MM:SS"
            moment, zone = text, "UTC"
    else:
        moment, zone = text.replace("-", " "), "UTC"
    if zone in ("Universal", "GMT", "Etc/Universal"):
        zone = "UTC"
    return pd.Timestamp(moment, tz=zone)


def ib_time(moment: dt.datetime | pd.Timestamp) -> str:
    """A time IB reads unambiguously: "yyyymmdd-HH:MM:SS" in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y%m%d-%H:%M:%S")


# -- Nautilus order -> IB order ---------------------------------------------------------------


class OrderConversionError(ValueError):
    """The order cannot be expressed at IB; the text says why."""


def order_tags(order: Order) -> IBOrderTags | None:
    """The order's ``IBOrderTags`` (a tag "IBOrderTags:{json}"), if it has one."""
    for tag in order.tags or ():
        if tag.startswith(ORDER_TAGS_PREFIX):
            try:
                return IBOrderTags.parse(tag[len(ORDER_TAGS_PREFIX) :])
            except Exception as e:
                raise OrderConversionError(f"Invalid IBOrderTags {tag!r}: {e}") from e
    return None


def to_ib_order(
    order: Order,
    instrument: Instrument,
    *,
    order_id: int,
    account: str,
    price_magnifier: int = 1,
    parent_id: int = 0,
    oca_group: str = "",
    oca_type: int = 0,
    transmit: bool = True,
) -> IBOrder:
    """The ibapi ``Order`` for a NautilusTrader order; ``OrderConversionError`` if IB
    cannot take it (post-only, quote quantity, a trailing offset IB has no unit for...)."""
    if order.is_post_only:
        raise OrderConversionError("post-only orders are not supported by Interactive Brokers")
    if order.is_quote_quantity and not instrument.is_inverse:
        raise OrderConversionError("UNSUPPORTED_QUOTE_QUANTITY")
    tif = order.time_in_force
    if tif not in MAP_TIME_IN_FORCE:
        raise OrderConversionError(f"time in force {tif!r} is not supported by IB")
    key: int | tuple[int, int] = order.order_type
    if tif == TimeInForce.AT_THE_CLOSE:
        key = (order.order_type, tif)
        if key not in MAP_ORDER_TYPE:
            raise OrderConversionError("AT_THE_CLOSE needs a MARKET (MOC) or LIMIT (LOC) order")
    if key not in MAP_ORDER_TYPE:
        raise OrderConversionError(f"order type {order.order_type!r} is not supported by IB")

    def ib_price(price: Price) -> float:
        return nautilus_price_to_ib_price(price.as_double(), price_magnifier)

    ib = IBOrder()
    ib.orderId = order_id
    ib.orderRef = order.client_order_id.value
    ib.account = account
    ib.action = MAP_ORDER_ACTION[order.side]
    ib.orderType = MAP_ORDER_TYPE[key]
    ib.tif = MAP_TIME_IN_FORCE[tif]
    ib.parentId = parent_id
    ib.transmit = transmit
    if instrument.is_inverse:
        # Inverse (crypto) instruments trade a cash amount, as NautilusTrader's adapter
        # does it (without its truncation of the amount to an integer).
        ib.cashQty = float(order.quantity.as_decimal())
        ib.totalQuantity = Decimal(0)
    else:
        ib.totalQuantity = order.quantity.as_decimal()
    if tif == TimeInForce.GTD:
        if order.expire_time is None:
            raise OrderConversionError("a GTD order needs an expire time")
        ib.goodTillDate = ib_time(order.expire_time)
    price = getattr(order, "price", None)
    if price is not None:
        ib.lmtPrice = ib_price(price)
    trigger = getattr(order, "trigger_price", None)
    trigger_type = getattr(order, "trigger_type", TriggerType.NO_TRIGGER)
    if trigger_type not in (TriggerType.NO_TRIGGER, TriggerType.DEFAULT):
        if trigger_type not in MAP_TRIGGER_METHOD:
            raise OrderConversionError(f"trigger type {trigger_type!r} is not supported by IB")
        ib.triggerMethod = MAP_TRIGGER_METHOD[trigger_type]
    if order.order_type in (OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT):
        offset = Decimal(str(order.trailing_offset))
        if order.trailing_offset_type == TrailingOffsetType.PRICE:
            ib.auxPrice = nautilus_price_to_ib_price(float(offset), price_magnifier)
        elif order.trailing_offset_type == TrailingOffsetType.BASIS_POINTS:
            ib.trailingPercent = float(offset / 100)
        else:
            raise OrderConversionError(
                f"trailing offset type {order.trailing_offset_type!r} is not supported by IB "
                "(PRICE or BASIS_POINTS)",
            )
        if trigger is not None:
            ib.trailStopPrice = ib_price(trigger)
        if order.order_type == OrderType.TRAILING_STOP_LIMIT:
            ib.lmtPrice = UNSET_DOUBLE
            ib.lmtPriceOffset = nautilus_price_to_ib_price(
                float(order.limit_offset),
                price_magnifier,
            )
    elif trigger is not None:
        ib.auxPrice = ib_price(trigger)
    display = getattr(order, "display_qty", None)
    if display is not None:
        ib.displaySize = int(display.as_double())
    if oca_group:
        ib.ocaGroup, ib.ocaType = oca_group, oca_type
    tags = order_tags(order)
    if tags is not None:
        apply_order_tags(ib, tags)
    return ib


def oca_type_for(contingency: ContingencyType) -> int:
    """IB's ``ocaType`` for a NautilusTrader contingency (OCO cancels, OUO reduces)."""
    return _OCA_TYPES.get(contingency, 0)


def apply_order_tags(ib: IBOrder, tags: IBOrderTags) -> None:
    """Set every ``IBOrderTags`` field on the ibapi order (conditions built from their
    dicts; an OCA group without a type gets type 1, cancel with block)."""
    for name in tags.__struct_fields__:
        value = getattr(tags, name)
        if name == "conditions":
            ib.conditions = ib_conditions(value)
        elif name == "ocaGroup":
            if value:
                ib.ocaGroup = value
                ib.ocaType = tags.ocaType if tags.ocaType > 0 else 1
        elif name == "ocaType":
            continue  # set with the group
        else:
            setattr(ib, name, value)


def ib_conditions(conditions: list[dict[str, Any]]) -> list[OrderCondition]:
    """IB order conditions from the dicts of ``IBOrderTags.conditions`` (types "price",
    "time", "margin", "execution", "volume", "percent_change"; "conjunction" "and"/"or")."""
    built: list[OrderCondition] = []
    for spec in conditions:
        kind = spec.get("type")
        maker = _CONDITIONS.get(kind)
        if maker is None:
            raise OrderConversionError(f"unknown order condition type {kind!r}")
        condition = maker(spec)
        condition.isConjunctionConnection = str(spec.get("conjunction", "and")).lower() == "and"
        built.append(condition)
    return built


def _price_condition(spec: dict) -> OrderCondition:
    c = PriceCondition()
    c.conId, c.exchange = spec.get("conId", 0), spec.get("exchange", "SMART")
    c.isMore, c.price = spec.get("isMore", True), spec.get("price", 0.0)
    c.triggerMethod = spec.get("triggerMethod", 0)
    return c


def _time_condition(spec: dict) -> OrderCondition:
    c = TimeCondition()
    c.time, c.isMore = spec.get("time", ""), spec.get("isMore", True)
    return c


def _margin_condition(spec: dict) -> OrderCondition:
    c = MarginCondition()
    c.percent, c.isMore = spec.get("percent", 0), spec.get("isMore", True)
    return c


def _execution_condition(spec: dict) -> OrderCondition:
    c = ExecutionCondition()
    c.symbol, c.secType = spec.get("symbol", ""), spec.get("secType", "STK")
    c.exchange = spec.get("exchange", "SMART")
    return c


def _volume_condition(spec: dict) -> OrderCondition:
    c = VolumeCondition()
    c.conId, c.exchange = spec.get("conId", 0), spec.get("exchange", "SMART")
    c.isMore, c.volume = spec.get("isMore", True), spec.get("volume", 0)
    return c


def _percent_change_condition(spec: dict) -> OrderCondition:
    c = PercentChangeCondition()
    c.conId, c.exchange = spec.get("conId", 0), spec.get("exchange", "SMART")
    c.isMore, c.changePercent = spec.get("isMore", True), spec.get("changePercent", 0.0)
    return c


_CONDITIONS = {
    "price": _price_condition,
    "time": _time_condition,
    "margin": _margin_condition,
    "execution": _execution_condition,
    "volume": _volume_condition,
    "percent_change": _percent_change_condition,
}


# -- IB -> Nautilus ---------------------------------------------------------------------------


def ib_decimal(value: Any) -> Decimal | None:
    """IB's decimals with "unset" as None."""
    if value is None or value == UNSET_DECIMAL:
        return None
    return Decimal(str(value))


def ib_double(value: Any) -> float | None:
    if value is None or value == UNSET_DOUBLE or value != value:  # NaN too
        return None
    return float(value)


def what_if_reason(order_state: Any) -> str:
    """The reason text a what-if order is rejected with: its margin and commission
    preview as JSON (as NautilusTrader's adapter reports it)."""
    state = {k: v for k, v in vars(order_state).items() if not k.startswith("_")}
    return json.dumps({"whatIf": state}, default=str)


def order_status_report(
    ib_order: IBOrder,
    instrument: Instrument,
    account_id: AccountId,
    *,
    status: str,
    filled: Decimal | None,
    avg_fill_price: float | None,
    ts_init: int,
    price_magnifier: int = 1,
    client_order_id: ClientOrderId | None = None,
    order_id: int | None = None,
) -> OrderStatusReport:
    """A report of an IB order (from ``openOrder`` or ``completedOrder``), its status
    text and, where known, its filled quantity and average price. ``order_id`` names the
    order when IB does not (completed orders come with order id 0)."""
    order_type, tif = IB_TO_NAUTILUS_ORDER_TYPE.get(ib_order.orderType, (OrderType.LIMIT, None))
    tif = tif or IB_TO_NAUTILUS_TIME_IN_FORCE.get((ib_order.tif or "DAY").upper(), TimeInForce.DAY)
    quantity = ib_decimal(ib_order.totalQuantity) or Decimal(0)
    if quantity == 0 and (cash := ib_double(ib_order.cashQty)):
        quantity = Decimal(str(cash))
    filled = filled if filled is not None else (ib_decimal(ib_order.filledQuantity) or Decimal(0))
    order_status = MAP_ORDER_STATUS.get(status, OrderStatus.ACCEPTED)
    if order_status == OrderStatus.DENIED:
        order_status = OrderStatus.REJECTED  # an order IB turned down after taking it
    if order_status in (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED) and 0 < filled < quantity:
        order_status = OrderStatus.PARTIALLY_FILLED
    elif order_status == OrderStatus.SUBMITTED:
        order_status = OrderStatus.ACCEPTED  # working at IB (PreSubmitted: held or untriggered)

    def price(value: Any) -> Price | None:
        value = ib_double(value)
        if value is None:
            return None
        return instrument.make_price(ib_price_to_nautilus_price(value, price_magnifier))

    is_trailing = order_type in (OrderType.TRAILING_STOP_MARKET, OrderType.TRAILING_STOP_LIMIT)
    trigger_price = price(ib_order.trailStopPrice if is_trailing else ib_order.auxPrice)
    trailing_offset = None
    trailing_offset_type = TrailingOffsetType.NO_TRAILING_OFFSET
    if is_trailing:
        if (percent := ib_double(ib_order.trailingPercent)) is not None:
            trailing_offset = Decimal(str(percent)) * 100
            trailing_offset_type = TrailingOffsetType.BASIS_POINTS
        elif (amount := ib_double(ib_order.auxPrice)) is not None:
            trailing_offset = Decimal(str(ib_price_to_nautilus_price(amount, price_magnifier)))
            trailing_offset_type = TrailingOffsetType.PRICE
    limit_offset = ib_double(ib_order.lmtPriceOffset)
    expire_time = None
    if tif == TimeInForce.GTD and ib_order.goodTillDate:
        expire_time = timestring_to_timestamp(ib_order.goodTillDate).to_pydatetime()
    avg_px = None
    if avg_fill_price is not None and avg_fill_price > 0 and filled > 0:
        avg_px = Decimal(str(ib_price_to_nautilus_price(avg_fill_price, price_magnifier)))
    ref = ib_order.orderRef
    return OrderStatusReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(str(order_id or ib_order.orderId or ib_order.permId)),
        order_side=OrderSide.BUY if ib_order.action.upper() == "BUY" else OrderSide.SELL,
        order_type=order_type,
        time_in_force=tif,
        order_status=order_status,
        quantity=instrument.make_qty(quantity),
        filled_qty=instrument.make_qty(filled),
        report_id=UUID4(),
        ts_accepted=ts_init,
        ts_last=ts_init,
        ts_init=ts_init,
        client_order_id=client_order_id or (ClientOrderId(ref) if ref else None),
        expire_time=expire_time,
        price=price(ib_order.lmtPrice) if order_type != OrderType.TRAILING_STOP_LIMIT else None,
        trigger_price=trigger_price,
        trigger_type=_TRIGGER_METHODS.get(ib_order.triggerMethod, TriggerType.DEFAULT)
        if trigger_price is not None or is_trailing
        else TriggerType.NO_TRIGGER,
        limit_offset=Decimal(str(limit_offset)) if limit_offset is not None else None,
        trailing_offset=trailing_offset,
        trailing_offset_type=trailing_offset_type,
        avg_px=avg_px,
    )


def fill_report(
    execution: Any,
    commission_report: Any,
    instrument: Instrument,
    account_id: AccountId,
    *,
    ts_init: int,
    price_magnifier: int = 1,
) -> FillReport:
    """A fill report of an IB execution (and its commission report, if IB sent one)."""
    ref = execution.orderRef
    return FillReport(
        account_id=account_id,
        instrument_id=instrument.id,
        venue_order_id=VenueOrderId(str(execution.orderId or execution.permId)),
        trade_id=TradeId(execution.execId),
        order_side=execution_side(execution),
        last_qty=instrument.make_qty(execution.shares),
        last_px=instrument.make_price(ib_price_to_nautilus_price(execution.price, price_magnifier)),
        commission=commission(commission_report, instrument),
        liquidity_side=liquidity_side(execution),
        report_id=UUID4(),
        ts_event=timestring_to_timestamp(execution.time).value,
        ts_init=ts_init,
        client_order_id=ClientOrderId(ref) if ref else None,
    )


def liquidity_side(execution: Any) -> LiquiditySide:
    """IB's ``lastLiquidity``: 1 added liquidity (maker), 2 removed it (taker)."""
    value = getattr(execution, "lastLiquidity", 0)
    value = getattr(value, "value", value)
    return {1: LiquiditySide.MAKER, 2: LiquiditySide.TAKER}.get(
        value,
        LiquiditySide.NO_LIQUIDITY_SIDE,
    )


def execution_side(execution: Any) -> OrderSide:
    side = ORDER_SIDE_TO_ORDER_ACTION.get(execution.side, execution.side).upper()
    return OrderSide.BUY if side == "BUY" else OrderSide.SELL


def commission(commission_report: Any, instrument: Instrument) -> Money:
    """An execution's commission (zero in the quote currency when IB sent none)."""
    if commission_report is None or ib_double(commission_report.commission) is None:
        return Money(0, instrument.quote_currency)
    code = commission_report.currency or instrument.quote_currency.code
    return Money(commission_report.commission, Currency.from_str(code))


def quantity_of(value: Decimal | float, instrument: Instrument) -> Quantity:
    return instrument.make_qty(value)
