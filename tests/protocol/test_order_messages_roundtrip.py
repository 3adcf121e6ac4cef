"""Round trips: an order placed through the reference client, decoded by us, reported back
by us in openOrder and decoded by the same client, keeps every value both layouts carry."""

from decimal import Decimal

import pytest
from ibapi.const import UNSET_DOUBLE
from msgspec.structs import replace

from fake_tws.ibtypes import Contract, Order, OrderState, SoftDollarTier
from fake_tws.protocol import versions as V
from fake_tws.protocol.responses import orders as rs
from tests.ib_async_harness import ib_async_decode, ib_async_request
from tests.ibapi_harness import ibapi_decode_all, ibapi_request, only_call
from tests.protocol.object_compare import from_ibapi, normalise, to_ib_async, to_ibapi
from tests.protocol.order_support import (
    OPEN_ORDER_GATES,
    OPEN_ORDER_NEVER,
    PLACE_ORDER_CONTRACT_NEVER,
    PLACE_ORDER_GATES,
    PLACE_ORDER_NEVER,
    REPORTED_CONTRACT_NEVER,
    as_seen,
)
from tests.protocol.test_order_messages import (
    COMMON_ORDERS,
    STOCK,
    kitchen_sink_contract,
    kitchen_sink_order,
)

ORDER_ID = 31
VERSIONS = (100, 101, 102, 106, 111, 145, 151, 158, 162, 170, 177, 183, 184, 185, 187)
NO_TIER_NAME = SoftDollarTier(name="tierName", val="tierVal")  # displayName is not placed

SCENARIOS = {
    "every field, PEG BENCH combo": lambda v: (
        kitchen_sink_contract(),
        kitchen_sink_order(v, softDollarTier=NO_TIER_NAME),
    ),
    "PEG BEST up to mid": lambda v: (
        kitchen_sink_contract(),
        kitchen_sink_order(
            v,
            orderType="PEG BEST",
            competeAgainstBestOffset=float("inf"),
            minCompeteSize=7,
            midOffsetAtWhole=0.02,
            midOffsetAtHalf=0.01,
            softDollarTier=NO_TIER_NAME,
            referenceContractId=0,
            isPeggedChangeAmountDecrease=False,
            peggedChangeAmount=0.0,
            referenceChangeAmount=0.0,
            referenceExchangeId="",
        ),
    ),
    **{
        name: (lambda v, order=order: (STOCK, as_seen(order, v, PLACE_ORDER_GATES, ())))
        for name, order in COMMON_ORDERS.items()
    },
}


def _carried_by_both(version: int) -> list[str]:
    never = PLACE_ORDER_NEVER | OPEN_ORDER_NEVER
    return [
        name
        for name in Order.__struct_fields__
        if name not in never
        and version >= PLACE_ORDER_GATES.get(name, 0)
        and version >= OPEN_ORDER_GATES.get(name, 0)
    ]


CONTRACT_CARRIED = [
    n
    for n in Contract.__struct_fields__
    if n not in PLACE_ORDER_CONTRACT_NEVER | REPORTED_CONTRACT_NEVER
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_ibapi_order_survives_place_and_open_order(version, scenario):
    contract, order = SCENARIOS[scenario](version)
    order = replace(order, orderId=ORDER_ID)
    ib_contract, ib_order = to_ibapi(contract), to_ibapi(order)
    if version < V.CASH_QTY:
        ib_order.cashQty = 0.0  # ibapi refuses its own unset default below v111
    placed = ibapi_request(version, lambda c: c.placeOrder(ORDER_ID, ib_contract, ib_order))

    # The server fills in what a client cannot send.
    reported = replace(placed.order, clientId=3, permId=1_800_000_001)
    message = rs.OpenOrder(
        contract=placed.contract, order=reported, orderState=OrderState(status="Submitted")
    )
    order_id, contract_out, order_out, _ = only_call(
        ibapi_decode_all(message, version), "openOrder"
    )
    assert order_id == ORDER_ID
    assert (order_out.clientId, order_out.permId) == (3, 1_800_000_001)

    if version < V.CASH_QTY:
        ib_order.cashQty = UNSET_DOUBLE
    before, after = from_ibapi(ib_order, Order), from_ibapi(order_out, Order)
    if version >= V.PRICE_MGMT_ALGO and before.usePriceMgmtAlgo is None:
        before = replace(before, usePriceMgmtAlgo=False)  # openOrder carries a plain bool
    names = _carried_by_both(version)
    assert {n: getattr(after, n) for n in names} == {n: getattr(before, n) for n in names}
    before_c, after_c = from_ibapi(ib_contract, Contract), from_ibapi(contract_out, Contract)
    assert {n: getattr(after_c, n) for n in CONTRACT_CARRIED} == {
        n: getattr(before_c, n) for n in CONTRACT_CARRIED
    }


@pytest.mark.parametrize("version", [157, 170, 178])
@pytest.mark.parametrize("scenario", ["every field, PEG BENCH combo", "LMT GTC outside RTH"])
def test_ib_async_order_survives_place_and_open_order(version, scenario):
    contract, order = SCENARIOS[scenario](version)
    order = replace(order, orderId=ORDER_ID, totalQuantity=Decimal(500), usePriceMgmtAlgo=True)
    ia_contract, ia_order = to_ib_async(contract), to_ib_async(order)
    placed = ib_async_request(version, lambda c: c.placeOrder(ORDER_ID, ia_contract, ia_order))
    message = rs.OpenOrder(contract=placed.contract, order=placed.order)
    ((name, (order_id, contract_out, order_out, _)),) = ib_async_decode(message, version)
    assert (name, order_id) == ("openOrder", ORDER_ID)

    unread = {"customerAccount", "professionalCustomer", "bondAccruedInterest"}
    if version == V.DURATION:
        unread.add("duration")  # ib_async reads it from v159 only
    names = [n for n in _carried_by_both(version) if n not in unread]
    diff = {
        n: (normalise(getattr(ia_order, n)), normalise(getattr(order_out, n)))
        for n in names
        if normalise(getattr(ia_order, n)) != normalise(getattr(order_out, n))
    }
    assert not diff, diff
    diff = {
        n: (normalise(getattr(ia_contract, n)), normalise(getattr(contract_out, n)))
        for n in CONTRACT_CARRIED
        if normalise(getattr(ia_contract, n)) != normalise(getattr(contract_out, n))
    }
    assert not diff, diff
