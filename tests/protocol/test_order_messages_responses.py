"""Order responses cross-checked against ibapi's Decoder (and ib_async's).

Each test encodes our struct, lets the reference client decode it, and compares the
EWrapper call's arguments with what we sent, field by field. `ibapi_decode_all` also fails
if ibapi leaves any of our fields unread, so a field we write too many is caught as well.
"""

from decimal import Decimal

import pytest
from msgspec.structs import replace

from fake_tws.ibtypes import (
    ComboLeg,
    CommissionReport,
    Contract,
    DeltaNeutralContract,
    Execution,
    Order,
    OrderComboLeg,
    OrderState,
    SoftDollarTier,
    TagValue,
)
from fake_tws.protocol import versions as V
from fake_tws.protocol.codec import VersionTooLow, response_fields
from fake_tws.protocol.responses import orders as rs
from tests.ib_async_harness import ib_async_decode
from tests.ibapi_harness import VERSIONS, ibapi_decode_all, only_call
from tests.protocol.object_compare import assert_same, from_ibapi, normalise
from tests.protocol.order_support import (
    COMPLETED_ORDER_GATES,
    COMPLETED_ORDER_NEVER,
    COMPLETED_ORDER_STATE_CARRIED,
    EXECUTION_GATES,
    OPEN_ORDER_GATES,
    OPEN_ORDER_NEVER,
    OPEN_ORDER_STATE_GATES,
    OPEN_ORDER_STATE_NEVER,
    REPORTED_CONTRACT_NEVER,
    all_conditions,
    as_seen,
    distinct,
    reset,
)

IB_ASYNC_VERSIONS = (157, 158, 169, 178)


def _around(*gates: int, floor: int = V.MIN_SUPPORTED) -> list[int]:
    versions = {floor, V.MAX_SUPPORTED}
    for gate in gates:
        versions |= {gate - 1, gate}
    return sorted(v for v in versions if floor <= v <= V.MAX_SUPPORTED)


# orderStatus. ------------------------------------------------------------------------------

ORDER_STATUS = rs.OrderStatus(
    orderId=12,
    status="Submitted",
    filled=Decimal("30.5"),
    remaining=Decimal("69.5"),
    avgFillPrice=187.26,
    permId=1234567890,
    parentId=11,
    lastFillPrice=187.3,
    clientId=7,
    whyHeld="locate",
    mktCapPrice=187.5,
)


@pytest.mark.parametrize("version", [100, V.MARKET_CAP_PRICE - 1, V.MARKET_CAP_PRICE, 187])
def test_order_status(version):
    args = only_call(ibapi_decode_all(ORDER_STATUS, version), "orderStatus")
    expected_cap = 187.5 if version >= V.MARKET_CAP_PRICE else None
    assert args == (12, "Submitted", Decimal("30.5"), Decimal("69.5"), 187.26, 1234567890, 11,
                    187.3, 7, "locate", expected_cap)  # fmt: skip


# openOrder. --------------------------------------------------------------------------------


def kitchen_sink_contract() -> Contract:
    return distinct(
        Contract,
        secType="BAG",
        comboLegsDescrip="1001|1,1002|-2",
        comboLegs=(
            ComboLeg(conId=1001, ratio=1, action="BUY", exchange="CBOE", openClose=1),
            ComboLeg(conId=1002, ratio=2, action="SELL", exchange="ISE", openClose=2,
                     shortSaleSlot=2, designatedLocation="LOC1", exemptCode=3),
        ),
        deltaNeutralContract=DeltaNeutralContract(conId=1003, delta=0.45, price=20.25),
    )  # fmt: skip


def kitchen_sink_order(**overrides) -> Order:
    fields = dict(
        orderType="PEG BENCH",
        softDollarTier=SoftDollarTier(name="tierName", val="tierVal", displayName="Tier 1"),
        algoStrategy="Adaptive",
        algoParams=(TagValue("adaptivePriority", "Urgent"),),
        smartComboRoutingParams=(TagValue("NonGuaranteed", "1"),),
        orderComboLegs=(OrderComboLeg(price=1.5), OrderComboLeg(price=None)),
        orderMiscOptions=(TagValue("misc", "1"),),
        conditions=all_conditions(),
        hedgeType="D",
        deltaNeutralOrderType="LMT",
        usePriceMgmtAlgo=True,
        competeAgainstBestOffset=float("inf"),
    )
    fields.update(overrides)
    return distinct(Order, **fields)


def kitchen_sink_state() -> OrderState:
    return distinct(OrderState, status="PreSubmitted")


def _decoded_open_order(message, version):
    order_id, contract, order, state = only_call(ibapi_decode_all(message, version), "openOrder")
    assert order_id == message.orderId
    return (
        from_ibapi(contract, Contract),
        from_ibapi(order, Order),
        from_ibapi(state, OrderState),
    )


def assert_open_order_seen(message: rs.OpenOrder, version: int, *, not_carried=()):
    contract, order, state = _decoded_open_order(message, version)
    assert_same(reset(message.contract, REPORTED_CONTRACT_NEVER), contract)
    expected = as_seen(message.order, version, OPEN_ORDER_GATES, OPEN_ORDER_NEVER)
    if version >= V.PRICE_MGMT_ALGO and expected.usePriceMgmtAlgo is None:
        expected = replace(expected, usePriceMgmtAlgo=False)  # clients read a plain bool
    assert_same(reset(expected, not_carried), order)
    expected_state = as_seen(
        message.orderState, version, OPEN_ORDER_STATE_GATES, OPEN_ORDER_STATE_NEVER
    )
    assert_same(expected_state, state)


OPEN_ORDER_VERSIONS = _around(
    *OPEN_ORDER_GATES.values(),
    *OPEN_ORDER_STATE_GATES.values(),
    V.ORDER_CONTAINER,
    V.FA_PROFILE_DESUPPORT,
)


@pytest.mark.parametrize("version", OPEN_ORDER_VERSIONS)
def test_open_order_carries_every_field_at_every_layout_change(version):
    message = rs.OpenOrder(
        contract=kitchen_sink_contract(),
        order=kitchen_sink_order(),
        orderState=kitchen_sink_state(),
    )
    assert_open_order_seen(message, version)


@pytest.mark.parametrize("version", VERSIONS)
def test_open_order_of_a_plain_limit_order_keeps_unset_fields_unset(version):
    order = Order(
        orderId=5, clientId=1, permId=99, action="BUY", totalQuantity=Decimal(100),
        orderType="LMT", lmtPrice=187.25, tif="DAY",
    )  # fmt: skip
    stock = Contract(conId=265598, symbol="AAPL", secType="STK", exchange="SMART", currency="USD")
    message = rs.OpenOrder(contract=stock, order=order, orderState=OrderState(status="Submitted"))
    assert_open_order_seen(message, version)


OPEN_ORDER_OPTIONAL_RUNS = {
    "no scale increment": dict(scalePriceIncrement=None),
    "no hedge": dict(hedgeType=""),
    "no delta-neutral order type": dict(deltaNeutralOrderType=""),
    "no algo": dict(algoStrategy=""),
    "no conditions": dict(conditions=()),
    "not pegged to a benchmark": dict(orderType="LMT"),
}
# The fields the switched-off run leaves out (the client keeps its defaults).
OPEN_ORDER_RUN_FIELDS = {
    "no scale increment": (
        "scalePriceAdjustValue", "scalePriceAdjustInterval", "scaleProfitOffset",
        "scaleAutoReset", "scaleInitPosition", "scaleInitFillQty", "scaleRandomPercent"),
    "no hedge": ("hedgeParam",),
    "no delta-neutral order type": (
        "deltaNeutralConId", "deltaNeutralSettlingFirm", "deltaNeutralClearingAccount",
        "deltaNeutralClearingIntent", "deltaNeutralOpenClose", "deltaNeutralShortSale",
        "deltaNeutralShortSaleSlot", "deltaNeutralDesignatedLocation"),
    "no algo": ("algoParams",),
    "no conditions": ("conditionsIgnoreRth", "conditionsCancelOrder"),
    "not pegged to a benchmark": (
        "referenceContractId", "isPeggedChangeAmountDecrease", "peggedChangeAmount",
        "referenceChangeAmount", "referenceExchangeId"),
}  # fmt: skip


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("case", OPEN_ORDER_OPTIONAL_RUNS)
def test_open_order_optional_runs(version, case):
    message = rs.OpenOrder(
        contract=kitchen_sink_contract(),
        order=kitchen_sink_order(**OPEN_ORDER_OPTIONAL_RUNS[case]),
        orderState=kitchen_sink_state(),
    )
    assert_open_order_seen(message, version, not_carried=OPEN_ORDER_RUN_FIELDS[case])


@pytest.mark.parametrize("version", VERSIONS)
def test_open_order_unset_trail_stop_price_stays_unset(version):
    """trailStopPrice is sent twice from v102; ibapi reads the second copy with a plain
    float(), so an empty field there would turn unset into 0.0."""
    message = rs.OpenOrder(
        contract=kitchen_sink_contract(),
        order=kitchen_sink_order(trailStopPrice=None, lmtPriceOffset=None, cashQty=None),
    )
    _, order, _ = _decoded_open_order(message, version)
    assert (order.trailStopPrice, order.lmtPriceOffset, order.cashQty) == (None, None, None)


@pytest.mark.parametrize("version", VERSIONS)
def test_open_order_end(version):
    assert only_call(ibapi_decode_all(rs.OpenOrderEnd(), version), "openOrderEnd") == ()


# completedOrder. ---------------------------------------------------------------------------

COMPLETED_VERSIONS = _around(
    *COMPLETED_ORDER_GATES.values(), V.FA_PROFILE_DESUPPORT, floor=V.COMPLETED_ORDERS
)


def completed_message(**order_overrides) -> rs.CompletedOrder:
    state = kitchen_sink_state()
    state = replace(
        state, status="Filled", completedTime="20250102 10:31:07 UTC", completedStatus="Filled"
    )
    return rs.CompletedOrder(
        contract=kitchen_sink_contract(),
        order=kitchen_sink_order(**order_overrides),
        orderState=state,
    )


@pytest.mark.parametrize("version", COMPLETED_VERSIONS)
def test_completed_order_carries_every_field_at_every_layout_change(version):
    message = completed_message()
    contract, order, state = only_call(ibapi_decode_all(message, version), "completedOrder")
    assert_same(reset(message.contract, REPORTED_CONTRACT_NEVER), from_ibapi(contract, Contract))
    expected = as_seen(message.order, version, COMPLETED_ORDER_GATES, COMPLETED_ORDER_NEVER)
    assert_same(expected, from_ibapi(order, Order))
    state_never = set(OrderState.__struct_fields__) - COMPLETED_ORDER_STATE_CARRIED
    assert_same(reset(message.orderState, state_never), from_ibapi(state, OrderState))


@pytest.mark.parametrize("version", [V.COMPLETED_ORDERS, V.MAX_SUPPORTED])
@pytest.mark.parametrize("case", OPEN_ORDER_OPTIONAL_RUNS)
def test_completed_order_optional_runs(version, case):
    message = completed_message(**OPEN_ORDER_OPTIONAL_RUNS[case])
    _, order, _ = only_call(ibapi_decode_all(message, version), "completedOrder")
    never = COMPLETED_ORDER_NEVER | set(OPEN_ORDER_RUN_FIELDS[case])
    expected = as_seen(message.order, version, COMPLETED_ORDER_GATES, never)
    assert_same(expected, from_ibapi(order, Order))


def test_completed_orders_exist_from_their_version_on():
    with pytest.raises(VersionTooLow):
        response_fields(completed_message(), V.COMPLETED_ORDERS - 1)
    with pytest.raises(VersionTooLow):
        response_fields(rs.CompletedOrdersEnd(), V.COMPLETED_ORDERS - 1)


@pytest.mark.parametrize("version", [V.COMPLETED_ORDERS, V.MAX_SUPPORTED])
def test_completed_orders_end(version):
    calls = ibapi_decode_all(rs.CompletedOrdersEnd(), version)
    assert only_call(calls, "completedOrdersEnd") == ()


# execDetails and commissionReport. ---------------------------------------------------------

EXECUTION = distinct(Execution, time="20250102 10:30:00 US/Eastern", side="BOT")
STOCK = Contract(
    conId=265598, symbol="AAPL", secType="STK", exchange="ISLAND", currency="USD",
    localSymbol="AAPL", tradingClass="NMS", multiplier="1",
)  # fmt: skip


# execDetails has no combo section: the combo description and legs stay behind.
EXEC_CONTRACT_NEVER = REPORTED_CONTRACT_NEVER | {
    "comboLegsDescrip",
    "comboLegs",
    "deltaNeutralContract",
}


@pytest.mark.parametrize("version", _around(*EXECUTION_GATES.values()))
def test_exec_details(version):
    message = rs.ExecDetails(reqId=31, contract=distinct(Contract), execution=EXECUTION)
    req_id, contract, execution = only_call(ibapi_decode_all(message, version), "execDetails")
    assert req_id == 31
    assert_same(reset(message.contract, EXEC_CONTRACT_NEVER), from_ibapi(contract, Contract))
    assert_same(as_seen(EXECUTION, version, EXECUTION_GATES, ()), from_ibapi(execution, Execution))


@pytest.mark.parametrize("version", VERSIONS)
def test_exec_details_end(version):
    assert only_call(ibapi_decode_all(rs.ExecDetailsEnd(reqId=31), version), "execDetailsEnd") == (
        31,
    )


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "report",
    [
        CommissionReport(execId="0001f4e8.6771a2b3.01.01", commission=1.0, currency="USD"),
        CommissionReport(
            execId="0001f4e8.6771a2b3.01.02", commission=0.35, currency="EUR",
            realizedPNL=-12.5, yield_=0.031, yieldRedemptionDate=20301231,
        ),
    ],
)  # fmt: skip
def test_commission_report(version, report):
    message = rs.CommissionReport(commissionReport=report)
    (decoded,) = only_call(ibapi_decode_all(message, version), "commissionReport")
    # ibapi's own CommissionReport defaults realizedPNL/yield_ to 0.0, so compare by value:
    # None must arrive as ibapi's unset sentinel (what TWS sends for an opening fill).
    assert from_ibapi(decoded, CommissionReport | None) is not None
    got = CommissionReport(
        execId=decoded.execId,
        commission=decoded.commission,
        currency=decoded.currency,
        realizedPNL=from_ibapi(decoded.realizedPNL, float | None),
        yield_=from_ibapi(decoded.yield_, float | None),
        yieldRedemptionDate=decoded.yieldRedemptionDate,
    )
    assert got == report


@pytest.mark.parametrize("version", [V.API_BIND_ORDER, V.MAX_SUPPORTED])
def test_order_bound(version):
    message = rs.OrderBound(reqId=1234567890123, apiClientId=3, apiOrderId=77)
    assert only_call(ibapi_decode_all(message, version), "orderBound") == (1234567890123, 3, 77)
    with pytest.raises(VersionTooLow):
        response_fields(message, V.API_BIND_ORDER - 1)


# ib_async reads the same bytes (it speaks v157..178). --------------------------------------

# Fields ib_async never reads from openOrder / completedOrder (it ignores trailing fields).
IB_ASYNC_UNREAD = {"customerAccount", "professionalCustomer", "bondAccruedInterest"}


def _compare_ib_async(ours, theirs, names):
    diff = {
        n: (normalise(getattr(ours, n)), normalise(getattr(theirs, n)))
        for n in names
        if normalise(getattr(ours, n)) != normalise(getattr(theirs, n))
    }
    assert not diff, diff


def _carried(cls, version, gates, never) -> list[str]:
    return [
        n
        for n in cls.__struct_fields__
        if n not in never and n not in IB_ASYNC_UNREAD and version >= gates.get(n, 0)
    ]


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_ib_async_reads_open_order(version):
    message = rs.OpenOrder(
        contract=kitchen_sink_contract(),
        order=kitchen_sink_order(),
        orderState=kitchen_sink_state(),
    )
    ((name, (order_id, contract, order, state)),) = ib_async_decode(message, version)
    assert (name, order_id) == ("openOrder", message.orderId)
    # ib_async reads `duration` only from v159 (ibapi: DURATION = 158).
    never = OPEN_ORDER_NEVER | ({"duration"} if version == V.DURATION else set())
    _compare_ib_async(message.order, order, _carried(Order, version, OPEN_ORDER_GATES, never))
    _compare_ib_async(
        message.contract,
        contract,
        [n for n in Contract.__struct_fields__ if n not in REPORTED_CONTRACT_NEVER],
    )
    _compare_ib_async(
        message.orderState, state, _carried(OrderState, version, {}, OPEN_ORDER_STATE_NEVER)
    )


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_ib_async_reads_completed_order(version):
    message = completed_message()
    ((name, (contract, order, state)),) = ib_async_decode(message, version)
    assert name == "completedOrder"
    _compare_ib_async(
        message.order, order, _carried(Order, version, COMPLETED_ORDER_GATES, COMPLETED_ORDER_NEVER)
    )
    _compare_ib_async(
        message.contract,
        contract,
        [n for n in Contract.__struct_fields__ if n not in REPORTED_CONTRACT_NEVER],
    )
    _compare_ib_async(message.orderState, state, sorted(COMPLETED_ORDER_STATE_CARRIED))


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_ib_async_reads_exec_details_and_commissions(version):
    message = rs.ExecDetails(reqId=31, contract=STOCK, execution=EXECUTION)
    ((name, (req_id, contract, execution)),) = ib_async_decode(message, version)
    assert (name, req_id) == ("execDetails", 31)
    names = [n for n in _carried(Execution, version, EXECUTION_GATES, ()) if n != "time"]
    _compare_ib_async(EXECUTION, execution, names)
    assert execution.time.isoformat() == "2025-01-02T15:30:00+00:00"  # US/Eastern -> UTC
    _compare_ib_async(
        STOCK, contract, [n for n in Contract.__struct_fields__ if n not in EXEC_CONTRACT_NEVER]
    )

    report = CommissionReport(execId="e1", commission=1.25, currency="USD")
    ((name, (decoded,)),) = ib_async_decode(rs.CommissionReport(commissionReport=report), version)
    assert name == "commissionReport"
    _compare_ib_async(report, decoded, CommissionReport.__struct_fields__)


@pytest.mark.parametrize("version", IB_ASYNC_VERSIONS)
def test_ib_async_reads_status_and_small_messages(version):
    calls = ib_async_decode(ORDER_STATUS, version)
    assert calls == [
        ("orderStatus", (12, "Submitted", 30.5, 69.5, 187.26, 1234567890, 11, 187.3, 7,
                         "locate", 187.5)),
    ]  # fmt: skip
    assert ib_async_decode(rs.OpenOrderEnd(), version) == [("openOrderEnd", ())]
    assert ib_async_decode(rs.ExecDetailsEnd(reqId=4), version) == [("execDetailsEnd", (4,))]
    assert ib_async_decode(rs.CompletedOrdersEnd(), version) == [("completedOrdersEnd", ())]
    assert ib_async_decode(rs.OrderBound(reqId=5, apiClientId=6, apiOrderId=7), version) == [
        ("orderBound", (5, 6, 7))
    ]
