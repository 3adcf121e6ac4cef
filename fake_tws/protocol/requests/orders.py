"""Requests that place, cancel, exercise and look up orders and executions.

Gates below v100 (the lowest version we speak) are always open and are not spelled out.
"""

from __future__ import annotations

from typing import Any, Self

from ...ibtypes.contract import Contract
from ...ibtypes.execution import ExecutionFilter
from ...ibtypes.order import Order, OrderCancel, OrderComboLeg, SoftDollarTier
from .. import versions as V
from ..contract_fields import (
    EXERCISE_OPTIONS_CONTRACT,
    PLACE_ORDER_CONTRACT,
    is_bag,
    read_combo_legs,
    read_contract,
    read_contract_fields,
    read_delta_neutral_contract,
)
from ..fields import FieldReader
from ..messages import Request
from ..order_fields import (
    is_peg_bench,
    is_peg_best,
    is_peg_mid,
    read_conditions,
    read_tag_values,
    read_tag_values_text,
)


class PlaceOrder(Request, frozen=True, kw_only=True):
    """A new order or a modification of an open one (same orderId).

    `order.orderId` is set to `orderId`; the other identity fields a client cannot send
    (clientId, permId) keep their defaults for the session to fill in.
    """

    orderId: int
    contract: Contract
    order: Order

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        if version < V.ORDER_CONTAINER:
            r.skip("version")
        order_id = r.int("orderId")
        c = read_contract_fields(r, PLACE_ORDER_CONTRACT)
        o: dict[str, Any] = {"orderId": order_id}
        _read_main_fields(r, o)
        if is_bag(c["secType"]):
            c["comboLegs"] = read_combo_legs(r)
            count = r.int("orderComboLegsCount")
            o["orderComboLegs"] = tuple(
                OrderComboLeg(price=r.float_max(f"orderComboLegs[{i}].price")) for i in range(count)
            )
            o["smartComboRoutingParams"] = read_tag_values(r, "smartComboRoutingParams")
        _read_extended_fields(r, o, version)
        _read_volatility_fields(r, o)
        _read_scale_and_hedge_fields(r, o)
        o["optOutSmartRouting"] = r.bool("optOutSmartRouting")
        o["clearingAccount"] = r.str("clearingAccount")
        o["clearingIntent"] = r.str("clearingIntent")
        o["notHeld"] = r.bool("notHeld")
        c["deltaNeutralContract"] = read_delta_neutral_contract(r)
        o["algoStrategy"] = r.str("algoStrategy")
        if o["algoStrategy"]:
            o["algoParams"] = read_tag_values(r, "algoParams")
        o["algoId"] = r.str("algoId")
        o["whatIf"] = r.bool("whatIf")
        o["orderMiscOptions"] = read_tag_values_text(r, "orderMiscOptions")
        o["solicited"] = r.bool("solicited")
        o["randomizeSize"] = r.bool("randomizeSize")
        o["randomizePrice"] = r.bool("randomizePrice")
        if version >= V.PEGGED_TO_BENCHMARK:
            _read_pegged_and_conditional_fields(r, o)
        _read_late_fields(r, o, c, version)
        return cls(orderId=order_id, contract=Contract(**c), order=Order(**o))


def _read_main_fields(r: FieldReader, o: dict[str, Any]) -> None:
    o["action"] = r.str("action")
    # Before FRACTIONAL_POSITIONS clients send a whole number; it reads the same way.
    o["totalQuantity"] = r.decimal("totalQuantity")
    o["orderType"] = r.str("orderType")
    o["lmtPrice"] = r.float_max("lmtPrice")
    o["auxPrice"] = r.float_max("auxPrice")
    o["tif"] = r.str("tif")
    o["ocaGroup"] = r.str("ocaGroup")
    o["account"] = r.str("account")
    o["openClose"] = r.str("openClose")
    o["origin"] = r.int("origin")
    o["orderRef"] = r.str("orderRef")
    o["transmit"] = r.bool("transmit")
    o["parentId"] = r.int("parentId")
    o["blockOrder"] = r.bool("blockOrder")
    o["sweepToFill"] = r.bool("sweepToFill")
    o["displaySize"] = r.int("displaySize")
    o["triggerMethod"] = r.int("triggerMethod")
    o["outsideRth"] = r.bool("outsideRth")
    o["hidden"] = r.bool("hidden")


def _read_extended_fields(r: FieldReader, o: dict[str, Any], version: int) -> None:
    r.skip("sharesAllocation")  # deprecated, always empty
    o["discretionaryAmt"] = r.float("discretionaryAmt")
    o["goodAfterTime"] = r.str("goodAfterTime")
    o["goodTillDate"] = r.str("goodTillDate")
    o["faGroup"] = r.str("faGroup")
    o["faMethod"] = r.str("faMethod")
    o["faPercentage"] = r.str("faPercentage")
    if version < V.FA_PROFILE_DESUPPORT:
        r.skip("faProfile")
    if version >= V.MODELS_SUPPORT:
        o["modelCode"] = r.str("modelCode")
    o["shortSaleSlot"] = r.int("shortSaleSlot")
    o["designatedLocation"] = r.str("designatedLocation")
    o["exemptCode"] = r.int("exemptCode")
    o["ocaType"] = r.int("ocaType")
    o["rule80A"] = r.str("rule80A")
    o["settlingFirm"] = r.str("settlingFirm")
    o["allOrNone"] = r.bool("allOrNone")
    o["minQty"] = r.int_max("minQty")
    o["percentOffset"] = r.float_max("percentOffset")
    r.skip("eTradeOnly")  # deprecated
    r.skip("firmQuoteOnly")  # deprecated
    r.skip("nbboPriceCap")  # deprecated
    o["auctionStrategy"] = r.int("auctionStrategy")
    o["startingPrice"] = r.float_max("startingPrice")
    o["stockRefPrice"] = r.float_max("stockRefPrice")
    o["delta"] = r.float_max("delta")
    o["stockRangeLower"] = r.float_max("stockRangeLower")
    o["stockRangeUpper"] = r.float_max("stockRangeUpper")
    o["overridePercentageConstraints"] = r.bool("overridePercentageConstraints")


def _read_volatility_fields(r: FieldReader, o: dict[str, Any]) -> None:
    o["volatility"] = r.float_max("volatility")
    o["volatilityType"] = r.int_max("volatilityType")
    o["deltaNeutralOrderType"] = r.str("deltaNeutralOrderType")
    o["deltaNeutralAuxPrice"] = r.float_max("deltaNeutralAuxPrice")
    if o["deltaNeutralOrderType"]:
        o["deltaNeutralConId"] = r.int("deltaNeutralConId")
        o["deltaNeutralSettlingFirm"] = r.str("deltaNeutralSettlingFirm")
        o["deltaNeutralClearingAccount"] = r.str("deltaNeutralClearingAccount")
        o["deltaNeutralClearingIntent"] = r.str("deltaNeutralClearingIntent")
        o["deltaNeutralOpenClose"] = r.str("deltaNeutralOpenClose")
        o["deltaNeutralShortSale"] = r.bool("deltaNeutralShortSale")
        o["deltaNeutralShortSaleSlot"] = r.int("deltaNeutralShortSaleSlot")
        o["deltaNeutralDesignatedLocation"] = r.str("deltaNeutralDesignatedLocation")
    o["continuousUpdate"] = r.bool("continuousUpdate")
    o["referencePriceType"] = r.int_max("referencePriceType")
    o["trailStopPrice"] = r.float_max("trailStopPrice")
    o["trailingPercent"] = r.float_max("trailingPercent")


def _read_scale_and_hedge_fields(r: FieldReader, o: dict[str, Any]) -> None:
    o["scaleInitLevelSize"] = r.int_max("scaleInitLevelSize")
    o["scaleSubsLevelSize"] = r.int_max("scaleSubsLevelSize")
    increment = o["scalePriceIncrement"] = r.float_max("scalePriceIncrement")
    if increment is not None and increment > 0:
        o["scalePriceAdjustValue"] = r.float_max("scalePriceAdjustValue")
        o["scalePriceAdjustInterval"] = r.int_max("scalePriceAdjustInterval")
        o["scaleProfitOffset"] = r.float_max("scaleProfitOffset")
        o["scaleAutoReset"] = r.bool("scaleAutoReset")
        o["scaleInitPosition"] = r.int_max("scaleInitPosition")
        o["scaleInitFillQty"] = r.int_max("scaleInitFillQty")
        o["scaleRandomPercent"] = r.bool("scaleRandomPercent")
    o["scaleTable"] = r.str("scaleTable")
    o["activeStartTime"] = r.str("activeStartTime")
    o["activeStopTime"] = r.str("activeStopTime")
    o["hedgeType"] = r.str("hedgeType")
    if o["hedgeType"]:
        o["hedgeParam"] = r.str("hedgeParam")


def _read_pegged_and_conditional_fields(r: FieldReader, o: dict[str, Any]) -> None:
    if is_peg_bench(o["orderType"]):
        o["referenceContractId"] = r.int("referenceContractId")
        o["isPeggedChangeAmountDecrease"] = r.bool("isPeggedChangeAmountDecrease")
        o["peggedChangeAmount"] = r.float("peggedChangeAmount")
        o["referenceChangeAmount"] = r.float("referenceChangeAmount")
        o["referenceExchangeId"] = r.str("referenceExchangeId")
    conditions, ignore_rth, cancel_order = read_conditions(r)
    o["conditions"] = conditions
    o["conditionsIgnoreRth"] = ignore_rth
    o["conditionsCancelOrder"] = cancel_order
    o["adjustedOrderType"] = r.str("adjustedOrderType")
    o["triggerPrice"] = r.float_max("triggerPrice")
    o["lmtPriceOffset"] = r.float_max("lmtPriceOffset")
    o["adjustedStopPrice"] = r.float_max("adjustedStopPrice")
    o["adjustedStopLimitPrice"] = r.float_max("adjustedStopLimitPrice")
    o["adjustedTrailingAmount"] = r.float_max("adjustedTrailingAmount")
    o["adjustableTrailingUnit"] = r.int("adjustableTrailingUnit")


def _read_late_fields(r: FieldReader, o: dict[str, Any], c: dict[str, Any], version: int) -> None:
    """Fields appended one version at a time since v105."""
    if version >= V.EXT_OPERATOR:
        o["extOperator"] = r.str("extOperator")
    if version >= V.SOFT_DOLLAR_TIER:
        o["softDollarTier"] = SoftDollarTier(
            name=r.str("softDollarTier.name"), val=r.str("softDollarTier.val")
        )
    if version >= V.CASH_QTY:
        o["cashQty"] = r.float_max("cashQty")
    if version >= V.DECISION_MAKER:
        o["mifid2DecisionMaker"] = r.str("mifid2DecisionMaker")
        o["mifid2DecisionAlgo"] = r.str("mifid2DecisionAlgo")
    if version >= V.MIFID_EXECUTION:
        o["mifid2ExecutionTrader"] = r.str("mifid2ExecutionTrader")
        o["mifid2ExecutionAlgo"] = r.str("mifid2ExecutionAlgo")
    if version >= V.AUTO_PRICE_FOR_HEDGE:
        o["dontUseAutoPriceForHedge"] = r.bool("dontUseAutoPriceForHedge")
    if version >= V.ORDER_CONTAINER:
        o["isOmsContainer"] = r.bool("isOmsContainer")
    if version >= V.D_PEG_ORDERS:
        o["discretionaryUpToLimitPrice"] = r.bool("discretionaryUpToLimitPrice")
    if version >= V.PRICE_MGMT_ALGO:
        use_algo = r.int_max("usePriceMgmtAlgo")  # empty: let TWS decide
        o["usePriceMgmtAlgo"] = None if use_algo is None else use_algo != 0
    if version >= V.DURATION:
        o["duration"] = r.int_max("duration")
    if version >= V.POST_TO_ATS:
        o["postToAts"] = r.int_max("postToAts")
    if version >= V.AUTO_CANCEL_PARENT:
        o["autoCancelParent"] = r.bool("autoCancelParent")
    if version >= V.ADVANCED_ORDER_REJECT:
        o["advancedErrorOverride"] = r.str("advancedErrorOverride")
    if version >= V.MANUAL_ORDER_TIME:
        o["manualOrderTime"] = r.str("manualOrderTime")
    if version >= V.PEGBEST_PEGMID_OFFSETS:
        _read_peg_best_mid_fields(r, o, c)
    if version >= V.CUSTOMER_ACCOUNT:
        o["customerAccount"] = r.str("customerAccount")
    if version >= V.PROFESSIONAL_CUSTOMER:
        o["professionalCustomer"] = r.bool("professionalCustomer")
    if version >= V.RFQ_FIELDS:
        o["externalUserId"] = r.str("externalUserId")
        o["manualOrderIndicator"] = r.int_max("manualOrderIndicator")


def _read_peg_best_mid_fields(r: FieldReader, o: dict[str, Any], c: dict[str, Any]) -> None:
    if c["exchange"] == "IBKRATS":
        o["minTradeQty"] = r.int_max("minTradeQty")
    with_mid_offsets = is_peg_mid(o["orderType"])
    if is_peg_best(o["orderType"]):
        o["minCompeteSize"] = r.int_max("minCompeteSize")
        offset = o["competeAgainstBestOffset"] = r.float_max("competeAgainstBestOffset")
        # An infinite offset means "compete up to mid", which then needs the mid offsets.
        with_mid_offsets = offset == float("inf")
    if with_mid_offsets:
        o["midOffsetAtWhole"] = r.float_max("midOffsetAtWhole")
        o["midOffsetAtHalf"] = r.float_max("midOffsetAtHalf")


class CancelOrder(Request, frozen=True, kw_only=True):
    orderId: int
    orderCancel: OrderCancel = OrderCancel()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        order_id = r.int("orderId")
        fields: dict[str, Any] = {}
        if version >= V.MANUAL_ORDER_TIME:
            fields["manualOrderCancelTime"] = r.str("manualOrderCancelTime")
        if version >= V.RFQ_FIELDS:
            fields["extOperator"] = r.str("extOperator")
            fields["externalUserId"] = r.str("externalUserId")
            fields["manualOrderIndicator"] = r.int_max("manualOrderIndicator")
        return cls(orderId=order_id, orderCancel=OrderCancel(**fields))


class ReqOpenOrders(Request, frozen=True, kw_only=True):
    """Open orders of this client (client 0 also gets TWS's own, bound to it)."""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqAllOpenOrders(Request, frozen=True, kw_only=True):
    """Open orders of every client and of TWS, without binding them."""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqAutoOpenOrders(Request, frozen=True, kw_only=True):
    """Client 0 only: bind orders later placed in TWS to this client."""

    bAutoBind: bool

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(bAutoBind=r.bool("bAutoBind"))


class ReqGlobalCancel(Request, frozen=True, kw_only=True):
    # Up to v187 a bare message; later versions (CME tagging, v192) add OrderCancel fields.
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqExecutions(Request, frozen=True, kw_only=True):
    reqId: int
    execFilter: ExecutionFilter = ExecutionFilter()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        execution_filter = ExecutionFilter(
            clientId=r.int("execFilter.clientId"),
            acctCode=r.str("execFilter.acctCode"),
            time=r.str("execFilter.time"),
            symbol=r.str("execFilter.symbol"),
            secType=r.str("execFilter.secType"),
            exchange=r.str("execFilter.exchange"),
            side=r.str("execFilter.side"),
        )
        return cls(reqId=req_id, execFilter=execution_filter)


class ReqCompletedOrders(Request, frozen=True, kw_only=True):
    apiOnly: bool

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        # No version field: the message is newer than message versions.
        return cls(apiOnly=r.bool("apiOnly"))


class ExerciseOptions(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    exerciseAction: int  # 1 exercise, 2 lapse
    exerciseQuantity: int
    account: str
    override: int  # 1: exercise/lapse even against the natural action
    manualOrderTime: str = ""
    customerAccount: str = ""
    professionalCustomer: bool = False

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, EXERCISE_OPTIONS_CONTRACT)
        fields: dict[str, Any] = {
            "exerciseAction": r.int("exerciseAction"),
            "exerciseQuantity": r.int("exerciseQuantity"),
            "account": r.str("account"),
            "override": r.int("override"),
        }
        if version >= V.MANUAL_ORDER_TIME_EXERCISE_OPTIONS:
            fields["manualOrderTime"] = r.str("manualOrderTime")
        if version >= V.CUSTOMER_ACCOUNT:
            fields["customerAccount"] = r.str("customerAccount")
        if version >= V.PROFESSIONAL_CUSTOMER:
            fields["professionalCustomer"] = r.bool("professionalCustomer")
        return cls(reqId=req_id, contract=contract, **fields)
