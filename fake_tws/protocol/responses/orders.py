"""Responses about orders and executions: status, open and completed orders, fills.

openOrder and completedOrder carry a whole Order in two related layouts; the runs they
share are written by the small `_write_*` helpers below. Where a client reads a number
without its "unset" convention (ibapi reads triggerPrice, cashQty, volatilityType... with
a plain float()/int()), None is written as Java's max value, as TWS does, so that the
client sees its own unset sentinel rather than 0.

Gates below v100 (the lowest version we speak) are always open and are not spelled out.
"""

from __future__ import annotations

from decimal import Decimal

from ...ibtypes.contract import Contract
from ...ibtypes.execution import CommissionReport as CommissionReportData
from ...ibtypes.execution import Execution
from ...ibtypes.order import Order, OrderState
from .. import versions as V
from ..contract_fields import (
    REPORTED_CONTRACT,
    write_combo_legs,
    write_contract,
    write_delta_neutral_contract,
)
from ..fields import FieldWriter
from ..messages import Response
from ..order_fields import (
    is_peg_bench,
    write_conditions,
    write_float_or_max,
    write_int_or_max,
    write_tag_values,
)

# The message versions clients last saw before these messages dropped their version field.
_OPEN_ORDER_VERSION = 34  # below ORDER_CONTAINER
_EXEC_DETAILS_VERSION = 10  # below LAST_LIQUIDITY
_ORDER_STATUS_VERSION = 6  # below MARKET_CAP_PRICE


class OrderStatus(Response, frozen=True, kw_only=True):
    orderId: int
    status: str  # PendingSubmit, PreSubmitted, Submitted, Filled, Cancelled, Inactive...
    filled: Decimal
    remaining: Decimal
    avgFillPrice: float = 0.0
    permId: int = 0
    parentId: int = 0
    lastFillPrice: float = 0.0
    clientId: int = 0
    whyHeld: str = ""
    mktCapPrice: float = 0.0

    def encode(self, w: FieldWriter, version: int) -> None:
        if version < V.MARKET_CAP_PRICE:
            w.int(_ORDER_STATUS_VERSION)
        w.int(self.orderId).str(self.status).decimal(self.filled).decimal(self.remaining)
        w.float(self.avgFillPrice).int(self.permId).int(self.parentId)
        w.float(self.lastFillPrice).int(self.clientId).str(self.whyHeld)
        if version >= V.MARKET_CAP_PRICE:
            w.float(self.mktCapPrice)


class OpenOrder(Response, frozen=True, kw_only=True):
    """openOrder(orderId, contract, order, orderState); orderId is `order.orderId`."""

    contract: Contract
    order: Order
    orderState: OrderState = OrderState()

    @property
    def orderId(self) -> int:
        return self.order.orderId

    def encode(self, w: FieldWriter, version: int) -> None:
        c, o, state = self.contract, self.order, self.orderState
        if version < V.ORDER_CONTAINER:
            w.int(_OPEN_ORDER_VERSION)
        w.int(o.orderId)
        write_contract(w, c, REPORTED_CONTRACT)
        _write_order_head(w, o)
        w.int(o.clientId).int(o.permId)
        w.bool(o.outsideRth).bool(o.hidden).float(o.discretionaryAmt).str(o.goodAfterTime)
        w.str("")  # sharesAllocation, deprecated
        _write_fa_and_model(w, o, version)
        w.str(o.goodTillDate).str(o.rule80A).float_max(o.percentOffset).str(o.settlingFirm)
        _write_short_sale(w, o)
        w.int(o.auctionStrategy)
        _write_box_and_range(w, o)
        w.int(o.displaySize).bool(o.blockOrder).bool(o.sweepToFill).bool(o.allOrNone)
        w.int_max(o.minQty).int(o.ocaType)
        w.bool(False).bool(False).float_max(None)  # eTradeOnly, firmQuoteOnly, nbboPriceCap
        w.int(o.parentId).int(o.triggerMethod)
        _write_volatility(w, o, open_order=True)
        w.float_max(o.trailStopPrice).float_max(o.trailingPercent)
        w.float_max(o.basisPoints).int_max(o.basisPointsType)
        _write_combo(w, c, o)
        _write_scale_and_hedge(w, o)
        w.bool(o.optOutSmartRouting)
        w.str(o.clearingAccount).str(o.clearingIntent)
        w.bool(o.notHeld)
        write_delta_neutral_contract(w, c.deltaNeutralContract)
        _write_algo(w, o)
        w.bool(o.solicited)
        w.bool(o.whatIf)
        _write_order_state(w, state, version)
        w.bool(o.randomizeSize).bool(o.randomizePrice)
        if version >= V.PEGGED_TO_BENCHMARK:
            _write_peg_bench(w, o)
            write_conditions(w, o.conditions, o.conditionsIgnoreRth, o.conditionsCancelOrder)
            w.str(o.adjustedOrderType)
            write_float_or_max(w, o.triggerPrice)
            write_float_or_max(w, o.trailStopPrice)
            write_float_or_max(w, o.lmtPriceOffset)
            write_float_or_max(w, o.adjustedStopPrice)
            write_float_or_max(w, o.adjustedStopLimitPrice)
            write_float_or_max(w, o.adjustedTrailingAmount)
            w.int(o.adjustableTrailingUnit)
        if version >= V.SOFT_DOLLAR_TIER:
            tier = o.softDollarTier
            w.str(tier.name).str(tier.val).str(tier.displayName)
        if version >= V.CASH_QTY:
            write_float_or_max(w, o.cashQty)
        if version >= V.AUTO_PRICE_FOR_HEDGE:
            w.bool(o.dontUseAutoPriceForHedge)
        if version >= V.ORDER_CONTAINER:
            w.bool(o.isOmsContainer)
        if version >= V.D_PEG_ORDERS:
            w.bool(o.discretionaryUpToLimitPrice)
        if version >= V.PRICE_MGMT_ALGO:
            # Clients read a plain bool here: unset (empty) reads as False.
            w.str("" if o.usePriceMgmtAlgo is None else "1" if o.usePriceMgmtAlgo else "0")
        if version >= V.DURATION:
            w.int_max(o.duration)
        if version >= V.POST_TO_ATS:
            w.int_max(o.postToAts)
        if version >= V.AUTO_CANCEL_PARENT:
            w.bool(o.autoCancelParent)
        _write_peg_best_mid_and_customer(w, o, version)
        if version >= V.BOND_ACCRUED_INTEREST:
            w.str(o.bondAccruedInterest)


class OpenOrderEnd(Response, frozen=True, kw_only=True):
    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1)


class CompletedOrder(Response, frozen=True, kw_only=True):
    """completedOrder(contract, order, orderState): a filled or cancelled order, with
    `orderState.completedTime` / `completedStatus`. Carries no orderId or clientId."""

    contract: Contract
    order: Order
    orderState: OrderState = OrderState()

    min_version = V.COMPLETED_ORDERS

    def encode(self, w: FieldWriter, version: int) -> None:
        c, o, state = self.contract, self.order, self.orderState
        write_contract(w, c, REPORTED_CONTRACT)
        _write_order_head(w, o)
        w.int(o.permId)
        w.bool(o.outsideRth).bool(o.hidden).float(o.discretionaryAmt).str(o.goodAfterTime)
        _write_fa_and_model(w, o, version)
        w.str(o.goodTillDate).str(o.rule80A).float_max(o.percentOffset).str(o.settlingFirm)
        _write_short_sale(w, o)
        _write_box_and_range(w, o)
        w.int(o.displaySize).bool(o.sweepToFill).bool(o.allOrNone)
        w.int_max(o.minQty).int(o.ocaType).int(o.triggerMethod)
        _write_volatility(w, o, open_order=False)
        w.float_max(o.trailStopPrice).float_max(o.trailingPercent)
        _write_combo(w, c, o)
        _write_scale_and_hedge(w, o)
        w.str(o.clearingAccount).str(o.clearingIntent)
        w.bool(o.notHeld)
        write_delta_neutral_contract(w, c.deltaNeutralContract)
        _write_algo(w, o)
        w.bool(o.solicited)
        w.str(state.status)
        w.bool(o.randomizeSize).bool(o.randomizePrice)
        _write_peg_bench(w, o)
        write_conditions(w, o.conditions, o.conditionsIgnoreRth, o.conditionsCancelOrder)
        write_float_or_max(w, o.trailStopPrice)
        write_float_or_max(w, o.lmtPriceOffset)
        write_float_or_max(w, o.cashQty)
        w.bool(o.dontUseAutoPriceForHedge).bool(o.isOmsContainer)
        w.str(o.autoCancelDate).decimal(o.filledQuantity).int(o.refFuturesConId)
        w.bool(o.autoCancelParent).str(o.shareholder)
        w.bool(o.imbalanceOnly).bool(o.routeMarketableToBbo).int(o.parentPermId)
        w.str(state.completedTime).str(state.completedStatus)
        _write_peg_best_mid_and_customer(w, o, version)


class CompletedOrdersEnd(Response, frozen=True, kw_only=True):
    min_version = V.COMPLETED_ORDERS

    def encode(self, w: FieldWriter, version: int) -> None:
        pass


class ExecDetails(Response, frozen=True, kw_only=True):
    """execDetails(reqId, contract, execution); reqId is -1 for unsolicited fills."""

    reqId: int
    contract: Contract
    execution: Execution

    def encode(self, w: FieldWriter, version: int) -> None:
        e = self.execution
        if version < V.LAST_LIQUIDITY:
            w.int(_EXEC_DETAILS_VERSION)
        w.int(self.reqId).int(e.orderId)
        write_contract(w, self.contract, REPORTED_CONTRACT)
        w.str(e.execId).str(e.time).str(e.acctNumber).str(e.exchange).str(e.side)
        w.decimal(e.shares).float(e.price).int(e.permId).int(e.clientId).int(e.liquidation)
        w.decimal(e.cumQty).float(e.avgPrice).str(e.orderRef).str(e.evRule).float(e.evMultiplier)
        if version >= V.MODELS_SUPPORT:
            w.str(e.modelCode)
        if version >= V.LAST_LIQUIDITY:
            w.int(e.lastLiquidity)
        if version >= V.PENDING_PRICE_REVISION:
            w.bool(e.pendingPriceRevision)


class ExecDetailsEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class CommissionReport(Response, frozen=True, kw_only=True):
    commissionReport: CommissionReportData

    def encode(self, w: FieldWriter, version: int) -> None:
        report = self.commissionReport
        w.int(1).str(report.execId).float(report.commission).str(report.currency)
        write_float_or_max(w, report.realizedPNL)
        write_float_or_max(w, report.yield_)
        w.int(report.yieldRedemptionDate)


class OrderBound(Response, frozen=True, kw_only=True):
    """An order placed outside the API, bound to an API client and order id.

    `reqId` is the order's permId (the EWrapper parameter's name is reqId)."""

    reqId: int
    apiClientId: int
    apiOrderId: int

    min_version = V.API_BIND_ORDER

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(self.apiClientId).int(self.apiOrderId)


# Runs shared by openOrder and completedOrder. ----------------------------------------------


def _write_order_head(w: FieldWriter, o: Order) -> None:
    """action through orderRef."""
    w.str(o.action).decimal(o.totalQuantity).str(o.orderType)
    w.float_max(o.lmtPrice).float_max(o.auxPrice)
    w.str(o.tif).str(o.ocaGroup).str(o.account).str(o.openClose).int(o.origin).str(o.orderRef)


def _write_fa_and_model(w: FieldWriter, o: Order, version: int) -> None:
    w.str(o.faGroup).str(o.faMethod).str(o.faPercentage)
    if version < V.FA_PROFILE_DESUPPORT:
        w.str("")  # faProfile, deprecated
    if version >= V.MODELS_SUPPORT:
        w.str(o.modelCode)


def _write_short_sale(w: FieldWriter, o: Order) -> None:
    w.int(o.shortSaleSlot).str(o.designatedLocation).int(o.exemptCode)


def _write_box_and_range(w: FieldWriter, o: Order) -> None:
    w.float_max(o.startingPrice).float_max(o.stockRefPrice).float_max(o.delta)
    w.float_max(o.stockRangeLower).float_max(o.stockRangeUpper)


def _write_volatility(w: FieldWriter, o: Order, *, open_order: bool) -> None:
    """Volatility-order fields; completedOrder leaves out the delta-neutral clearing and
    open/close attributes."""
    w.float_max(o.volatility)
    write_int_or_max(w, o.volatilityType)
    w.str(o.deltaNeutralOrderType).float_max(o.deltaNeutralAuxPrice)
    if o.deltaNeutralOrderType:
        w.int(o.deltaNeutralConId)
        if open_order:
            w.str(o.deltaNeutralSettlingFirm).str(o.deltaNeutralClearingAccount)
            w.str(o.deltaNeutralClearingIntent).str(o.deltaNeutralOpenClose)
        w.bool(o.deltaNeutralShortSale).int(o.deltaNeutralShortSaleSlot)
        w.str(o.deltaNeutralDesignatedLocation)
    w.bool(o.continuousUpdate)
    write_int_or_max(w, o.referencePriceType)


def _write_combo(w: FieldWriter, c: Contract, o: Order) -> None:
    """Combo description, legs, per-leg prices and smart combo routing parameters (sent
    for every order, empty for non-combos)."""
    w.str(c.comboLegsDescrip)
    write_combo_legs(w, c.comboLegs)
    w.int(len(o.orderComboLegs))
    for leg in o.orderComboLegs:
        w.float_max(leg.price)
    write_tag_values(w, o.smartComboRoutingParams)


def _write_scale_and_hedge(w: FieldWriter, o: Order) -> None:
    w.int_max(o.scaleInitLevelSize).int_max(o.scaleSubsLevelSize)
    w.float_max(o.scalePriceIncrement)
    if o.scalePriceIncrement is not None and o.scalePriceIncrement > 0:
        w.float_max(o.scalePriceAdjustValue).int_max(o.scalePriceAdjustInterval)
        w.float_max(o.scaleProfitOffset).bool(o.scaleAutoReset)
        w.int_max(o.scaleInitPosition).int_max(o.scaleInitFillQty)
        w.bool(o.scaleRandomPercent)
    w.str(o.hedgeType)
    if o.hedgeType:
        w.str(o.hedgeParam)


def _write_algo(w: FieldWriter, o: Order) -> None:
    w.str(o.algoStrategy)
    if o.algoStrategy:
        write_tag_values(w, o.algoParams)


def _write_order_state(w: FieldWriter, s: OrderState, version: int) -> None:
    w.str(s.status)
    if version >= V.WHAT_IF_EXT_FIELDS:
        w.str(s.initMarginBefore).str(s.maintMarginBefore).str(s.equityWithLoanBefore)
        w.str(s.initMarginChange).str(s.maintMarginChange).str(s.equityWithLoanChange)
    w.str(s.initMarginAfter).str(s.maintMarginAfter).str(s.equityWithLoanAfter)
    w.float_max(s.commission).float_max(s.minCommission).float_max(s.maxCommission)
    w.str(s.commissionCurrency).str(s.warningText)


def _write_peg_bench(w: FieldWriter, o: Order) -> None:
    if is_peg_bench(o.orderType):
        w.int(o.referenceContractId).bool(o.isPeggedChangeAmountDecrease)
        w.float(o.peggedChangeAmount).float(o.referenceChangeAmount).str(o.referenceExchangeId)


def _write_peg_best_mid_and_customer(w: FieldWriter, o: Order, version: int) -> None:
    """The gated fields both messages end with (openOrder adds one more after them)."""
    if version >= V.PEGBEST_PEGMID_OFFSETS:
        w.int_max(o.minTradeQty).int_max(o.minCompeteSize).float_max(o.competeAgainstBestOffset)
        w.float_max(o.midOffsetAtWhole).float_max(o.midOffsetAtHalf)
    if version >= V.CUSTOMER_ACCOUNT:
        w.str(o.customerAccount)
    if version >= V.PROFESSIONAL_CUSTOMER:
        w.bool(o.professionalCustomer)
