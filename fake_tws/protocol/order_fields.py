"""Pieces of an Order's wire form shared by placeOrder, openOrder and completedOrder, and
two wire forms that other families share with orders.

- Writing "unset" where a client reads a number *without* its unset convention: ibapi reads
  some openOrder fields (triggerPrice, volatilityType, cashQty...) as plain numbers, so an
  empty field would become 0 there; TWS sends Java's max values instead, and so do we
  (also mktDepthExchanges' aggGroup, which ib_async reads with a bare int()).
- Tag/value lists, in both of their wire forms: a count followed by pairs (algoParams,
  smartComboRoutingParams, contractDetails' secIdList) and a single "tag=value;tag=value;"
  text (orderMiscOptions, and the *Options parameters of market data, historical, news,
  scanner and fundamental-data requests).
- Order conditions: a count, then per condition its type code and fields, then two flags.
- The order-type predicates that switch optional runs on and off.
"""

from __future__ import annotations

from ..ibtypes.contract import TagValue
from ..ibtypes.order_conditions import (
    ExecutionCondition,
    MarginCondition,
    OrderCondition,
    PercentChangeCondition,
    PriceCondition,
    TimeCondition,
    VolumeCondition,
)
from .fields import FieldReader, FieldWriter

# Java's Double.MAX_VALUE and Integer.MAX_VALUE as TWS prints them.
UNSET_DOUBLE_TEXT = "1.7976931348623157E308"
UNSET_INT_TEXT = "2147483647"


def write_float_or_max(w: FieldWriter, value: float | None) -> None:
    """A double the client reads plainly: None goes out as the max-double sentinel."""
    if value is None:
        w.str(UNSET_DOUBLE_TEXT)
    else:
        w.float(value)


def write_int_or_max(w: FieldWriter, value: int | None) -> None:
    """An int the client reads plainly: None goes out as the max-int sentinel."""
    if value is None:
        w.str(UNSET_INT_TEXT)
    else:
        w.int(value)


# Order types that carry optional runs. ------------------------------------------------------


def is_peg_bench(order_type: str) -> bool:
    return order_type in ("PEG BENCH", "PEGBENCH")


def is_peg_best(order_type: str) -> bool:
    return order_type in ("PEG BEST", "PEGBEST")


def is_peg_mid(order_type: str) -> bool:
    return order_type in ("PEG MID", "PEGMID")


# Tag/value lists. ----------------------------------------------------------------------------


def read_tag_values(r: FieldReader, name: str) -> tuple[TagValue, ...]:
    """A count, then that many tag and value fields."""
    count = r.int(name + "Count")
    return tuple(
        TagValue(r.str(f"{name}[{i}].tag"), r.str(f"{name}[{i}].value")) for i in range(count)
    )


def write_tag_values(w: FieldWriter, values: tuple[TagValue, ...]) -> None:
    w.int(len(values))
    for tv in values:
        w.str(tv.tag).str(tv.value)


def read_tag_values_text(
    r: FieldReader, name: str, *, lenient: bool = False
) -> tuple[TagValue, ...]:
    """One field holding "tag=value;tag=value;" (empty: no options).

    An item without "=" is a BadField; with `lenient` it reads as a tag with an empty
    value instead (as the market data and historical requests have always read it).
    """
    text = r.str(name)
    values = []
    for item in text.split(";"):
        if not item:
            continue
        tag, sep, value = item.partition("=")
        if not sep and not lenient:
            raise r.invalid(name, f"expected tag=value items separated by ';', got {text!r}")
        values.append(TagValue(tag, value))
    return tuple(values)


def tag_values_text(values: tuple[TagValue, ...]) -> str:
    return "".join(f"{tv.tag}={tv.value};" for tv in values)


# Order conditions. ---------------------------------------------------------------------------

_CONJUNCTIONS = {"a": True, "o": False}


def _read_condition(r: FieldReader, p: str) -> OrderCondition:
    cond_type = r.int(p + "condType")
    if cond_type not in (1, 3, 4, 5, 6, 7):
        raise r.invalid(p + "condType", f"unknown condition type {cond_type}")
    conj_text = r.str(p + "conjunction")
    conjunction = _CONJUNCTIONS.get(conj_text.lower())
    if conjunction is None:
        raise r.invalid(p + "conjunction", f"expected 'a' or 'o', got {conj_text!r}")
    if cond_type == 5:
        return ExecutionCondition(
            conjunction=conjunction,
            secType=r.str(p + "secType"),
            exchange=r.str(p + "exchange"),
            symbol=r.str(p + "symbol"),
        )
    is_more = r.bool(p + "isMore")
    if cond_type == 3:
        return TimeCondition(conjunction=conjunction, isMore=is_more, time=r.str(p + "time"))
    if cond_type == 4:
        return MarginCondition(
            conjunction=conjunction, isMore=is_more, percent=r.int(p + "percent")
        )
    # The contract conditions: the value, then the contract it watches.
    if cond_type == 1:
        price = r.float(p + "price")
        return PriceCondition(
            conjunction=conjunction,
            isMore=is_more,
            price=price,
            conId=r.int(p + "conId"),
            exchange=r.str(p + "exchange"),
            triggerMethod=r.int(p + "triggerMethod"),
        )
    if cond_type == 6:
        volume = r.int(p + "volume")
        return VolumeCondition(
            conjunction=conjunction,
            isMore=is_more,
            volume=volume,
            conId=r.int(p + "conId"),
            exchange=r.str(p + "exchange"),
        )
    change = r.float(p + "changePercent")
    return PercentChangeCondition(
        conjunction=conjunction,
        isMore=is_more,
        changePercent=change,
        conId=r.int(p + "conId"),
        exchange=r.str(p + "exchange"),
    )


def read_conditions(r: FieldReader) -> tuple[tuple[OrderCondition, ...], bool, bool]:
    """(conditions, conditionsIgnoreRth, conditionsCancelOrder); the flags follow only a
    non-empty list."""
    count = r.int("conditionsCount")
    conditions = tuple(_read_condition(r, f"conditions[{i}].") for i in range(count))
    if not conditions:
        return (), False, False
    ignore_rth = r.bool("conditionsIgnoreRth")
    cancel_order = r.bool("conditionsCancelOrder")
    return conditions, ignore_rth, cancel_order


def _write_condition(w: FieldWriter, c: OrderCondition) -> None:
    w.int(type(c).__struct_config__.tag)  # type: ignore[arg-type]
    w.str("a" if c.conjunction else "o")
    match c:
        case ExecutionCondition():
            w.str(c.secType).str(c.exchange).str(c.symbol)
        case TimeCondition():
            w.bool(c.isMore).str(c.time)
        case MarginCondition():
            w.bool(c.isMore).int(c.percent)
        case PriceCondition():
            w.bool(c.isMore).float(c.price).int(c.conId).str(c.exchange).int(c.triggerMethod)
        case VolumeCondition():
            w.bool(c.isMore).int(c.volume).int(c.conId).str(c.exchange)
        case PercentChangeCondition():
            w.bool(c.isMore).float(c.changePercent).int(c.conId).str(c.exchange)


def write_conditions(
    w: FieldWriter,
    conditions: tuple[OrderCondition, ...],
    ignore_rth: bool,
    cancel_order: bool,
) -> None:
    w.int(len(conditions))
    for c in conditions:
        _write_condition(w, c)
    if conditions:
        w.bool(ignore_rth).bool(cancel_order)
