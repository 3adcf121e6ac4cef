"""A Contract's fields as they recur inside messages, and the parts that trail them.

Many messages carry a Contract as a run of its fields, but not always the same run:
placeOrder sends `primaryExchange`, `secIdType` and `secId`; openOrder, completedOrder and
execDetails send none of those; exerciseOptions sends neither `primaryExchange` nor the
security id. A *layout* is the tuple of Contract attribute names in wire order, and
`read_contract` / `write_contract` walk it, so a new message only has to name its layout:

    contract = read_contract(r, PLACE_ORDER_CONTRACT)
    write_contract(w, contract, REPORTED_CONTRACT)

A layout is plain data (a tuple of names), so a message with its own run can spell one out
in place. Types follow the Contract attribute: `conId` is an int, `strike` a float,
`includeExpired` a bool, everything else text.

Combo legs and the delta-neutral contract travel later in order messages (after some of the
order's own fields), so they have helpers of their own.
"""

from __future__ import annotations

from typing import Any

from ..ibtypes.contract import ComboLeg, Contract, DeltaNeutralContract
from .fields import FieldReader, FieldWriter

# Layouts, in wire order. -------------------------------------------------------------------

# The contract a client describes when it trades: placeOrder (from v100 on, every part of
# this run is always present).
PLACE_ORDER_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "primaryExchange",
    "currency",
    "localSymbol",
    "tradingClass",
    "secIdType",
    "secId",
)

# The contract as the server reports it back: openOrder, completedOrder, execDetails.
REPORTED_CONTRACT: tuple[str, ...] = (
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "currency",
    "localSymbol",
    "tradingClass",
)

# exerciseOptions: the reported run (no primaryExchange, no security id).
EXERCISE_OPTIONS_CONTRACT: tuple[str, ...] = REPORTED_CONTRACT


# Contract runs. -----------------------------------------------------------------------------

_INT_FIELDS = frozenset({"conId"})
_FLOAT_FIELDS = frozenset({"strike"})
_BOOL_FIELDS = frozenset({"includeExpired"})
_KNOWN = frozenset(Contract.__struct_fields__) - {"comboLegs", "deltaNeutralContract"}


def _check_layout(layout: tuple[str, ...]) -> None:
    unknown = [name for name in layout if name not in _KNOWN]
    if unknown:
        raise ValueError(f"not scalar Contract fields: {unknown}")


for _layout in (PLACE_ORDER_CONTRACT, REPORTED_CONTRACT, EXERCISE_OPTIONS_CONTRACT):
    _check_layout(_layout)


def read_contract_fields(r: FieldReader, layout: tuple[str, ...]) -> dict[str, Any]:
    """Read a contract run into a dict of attributes (for callers that add more later)."""
    values: dict[str, Any] = {}
    for name in layout:
        if name in _INT_FIELDS:
            values[name] = r.int(name)
        elif name in _FLOAT_FIELDS:
            values[name] = r.float(name)
        elif name in _BOOL_FIELDS:
            values[name] = r.bool(name)
        else:
            values[name] = r.str(name)
    return values


def read_contract(r: FieldReader, layout: tuple[str, ...]) -> Contract:
    """Read a contract run; attributes outside the layout keep their defaults."""
    return Contract(**read_contract_fields(r, layout))


def write_contract(w: FieldWriter, contract: Contract, layout: tuple[str, ...]) -> None:
    """Write the attributes of `contract` named by `layout`, in order."""
    for name in layout:
        value = getattr(contract, name)
        if name in _INT_FIELDS:
            w.int(value)
        elif name in _FLOAT_FIELDS:
            w.float(value)
        elif name in _BOOL_FIELDS:
            w.bool(value)
        else:
            w.str(value)


# Combo legs: a count, then eight fields per leg. ---------------------------------------------


def read_combo_legs(r: FieldReader) -> tuple[ComboLeg, ...]:
    count = r.int("comboLegsCount")
    legs = []
    for i in range(count):
        p = f"comboLegs[{i}]."
        legs.append(
            ComboLeg(
                conId=r.int(p + "conId"),
                ratio=r.int(p + "ratio"),
                action=r.str(p + "action"),
                exchange=r.str(p + "exchange"),
                openClose=r.int(p + "openClose"),
                shortSaleSlot=r.int(p + "shortSaleSlot"),
                designatedLocation=r.str(p + "designatedLocation"),
                exemptCode=r.int(p + "exemptCode"),
            )
        )
    return tuple(legs)


def write_combo_legs(w: FieldWriter, legs: tuple[ComboLeg, ...]) -> None:
    w.int(len(legs))
    for leg in legs:
        w.int(leg.conId).int(leg.ratio).str(leg.action).str(leg.exchange)
        w.int(leg.openClose).int(leg.shortSaleSlot).str(leg.designatedLocation)
        w.int(leg.exemptCode)


# Delta-neutral contract: a presence flag, then conId, delta, price. --------------------------


def read_delta_neutral_contract(r: FieldReader) -> DeltaNeutralContract | None:
    if not r.bool("deltaNeutralContractPresent"):
        return None
    return DeltaNeutralContract(
        conId=r.int("deltaNeutralContract.conId"),
        delta=r.float("deltaNeutralContract.delta"),
        price=r.float("deltaNeutralContract.price"),
    )


def write_delta_neutral_contract(w: FieldWriter, dnc: DeltaNeutralContract | None) -> None:
    if dnc is None:
        w.bool(False)
    else:
        w.bool(True).int(dnc.conId).float(dnc.delta).float(dnc.price)
