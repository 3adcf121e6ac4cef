"""Order, its state and its parts, as the TWS API defines them.

None means "unset" (IB's max-value sentinels on the wire); quantities are Decimal."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .contract import TagValue
from .order_conditions import OrderCondition


class SoftDollarTier(msgspec.Struct, frozen=True, kw_only=True):
    name: str = ""
    val: str = ""
    displayName: str = ""


class OrderComboLeg(msgspec.Struct, frozen=True, kw_only=True):
    price: float | None = None


class Order(msgspec.Struct, frozen=True, kw_only=True):
    softDollarTier: SoftDollarTier = SoftDollarTier()
    orderId: int = 0
    clientId: int = 0
    permId: int = 0
    action: str = ""
    totalQuantity: Decimal | None = None
    orderType: str = ""
    lmtPrice: float | None = None
    auxPrice: float | None = None
    tif: str = ""
    activeStartTime: str = ""
    activeStopTime: str = ""
    ocaGroup: str = ""
    ocaType: int = 0
    orderRef: str = ""
    transmit: bool = True
    parentId: int = 0
    blockOrder: bool = False
    sweepToFill: bool = False
    displaySize: int = 0
    triggerMethod: int = 0
    outsideRth: bool = False
    hidden: bool = False
    goodAfterTime: str = ""
    goodTillDate: str = ""
    rule80A: str = ""
    allOrNone: bool = False
    minQty: int | None = None
    percentOffset: float | None = None
    overridePercentageConstraints: bool = False
    trailStopPrice: float | None = None
    trailingPercent: float | None = None
    faGroup: str = ""
    faMethod: str = ""
    faPercentage: str = ""
    designatedLocation: str = ""
    openClose: str = ""
    origin: int = 0
    shortSaleSlot: int = 0
    exemptCode: int = -1
    discretionaryAmt: float = 0.0  # a price offset (a double in IB's API)
    optOutSmartRouting: bool = False
    auctionStrategy: int = 0
    startingPrice: float | None = None
    stockRefPrice: float | None = None
    delta: float | None = None
    stockRangeLower: float | None = None
    stockRangeUpper: float | None = None
    randomizePrice: bool = False
    randomizeSize: bool = False
    volatility: float | None = None
    volatilityType: int | None = None
    deltaNeutralOrderType: str = ""
    deltaNeutralAuxPrice: float | None = None
    deltaNeutralConId: int = 0
    deltaNeutralSettlingFirm: str = ""
    deltaNeutralClearingAccount: str = ""
    deltaNeutralClearingIntent: str = ""
    deltaNeutralOpenClose: str = ""
    deltaNeutralShortSale: bool = False
    deltaNeutralShortSaleSlot: int = 0
    deltaNeutralDesignatedLocation: str = ""
    continuousUpdate: bool = False
    referencePriceType: int | None = None
    basisPoints: float | None = None
    basisPointsType: int | None = None
    scaleInitLevelSize: int | None = None
    scaleSubsLevelSize: int | None = None
    scalePriceIncrement: float | None = None
    scalePriceAdjustValue: float | None = None
    scalePriceAdjustInterval: int | None = None
    scaleProfitOffset: float | None = None
    scaleAutoReset: bool = False
    scaleInitPosition: int | None = None
    scaleInitFillQty: int | None = None
    scaleRandomPercent: bool = False
    scaleTable: str = ""
    hedgeType: str = ""
    hedgeParam: str = ""
    account: str = ""
    settlingFirm: str = ""
    clearingAccount: str = ""
    clearingIntent: str = ""
    algoStrategy: str = ""
    algoParams: tuple[TagValue, ...] = ()
    smartComboRoutingParams: tuple[TagValue, ...] = ()
    algoId: str = ""
    whatIf: bool = False
    notHeld: bool = False
    solicited: bool = False
    modelCode: str = ""
    orderComboLegs: tuple[OrderComboLeg, ...] = ()
    orderMiscOptions: tuple[TagValue, ...] = ()
    referenceContractId: int = 0
    peggedChangeAmount: float = 0.0
    isPeggedChangeAmountDecrease: bool = False
    referenceChangeAmount: float = 0.0
    referenceExchangeId: str = ""
    adjustedOrderType: str = ""
    triggerPrice: float | None = None
    adjustedStopPrice: float | None = None
    adjustedStopLimitPrice: float | None = None
    adjustedTrailingAmount: float | None = None
    adjustableTrailingUnit: int = 0
    lmtPriceOffset: float | None = None
    conditions: tuple[OrderCondition, ...] = ()
    conditionsCancelOrder: bool = False
    conditionsIgnoreRth: bool = False
    extOperator: str = ""
    cashQty: float | None = None
    mifid2DecisionMaker: str = ""
    mifid2DecisionAlgo: str = ""
    mifid2ExecutionTrader: str = ""
    mifid2ExecutionAlgo: str = ""
    dontUseAutoPriceForHedge: bool = False
    isOmsContainer: bool = False
    discretionaryUpToLimitPrice: bool = False
    autoCancelDate: str = ""
    filledQuantity: Decimal | None = None
    refFuturesConId: int = 0
    autoCancelParent: bool = False
    shareholder: str = ""
    imbalanceOnly: bool = False
    routeMarketableToBbo: bool = False
    parentPermId: int = 0
    usePriceMgmtAlgo: bool | None = None
    duration: int | None = None
    postToAts: int | None = None
    advancedErrorOverride: str = ""
    manualOrderTime: str = ""
    minTradeQty: int | None = None
    minCompeteSize: int | None = None
    competeAgainstBestOffset: float | None = None
    midOffsetAtWhole: float | None = None
    midOffsetAtHalf: float | None = None
    customerAccount: str = ""
    professionalCustomer: bool = False
    bondAccruedInterest: str = ""
    externalUserId: str = ""
    manualOrderIndicator: int | None = None


class OrderCancel(msgspec.Struct, frozen=True, kw_only=True):
    """The attributes a client may attach to cancelOrder (ibapi's OrderCancel)."""

    manualOrderCancelTime: str = ""
    extOperator: str = ""
    externalUserId: str = ""
    manualOrderIndicator: int | None = None


class OrderState(msgspec.Struct, frozen=True, kw_only=True):
    status: str = ""
    initMarginBefore: str = ""
    maintMarginBefore: str = ""
    equityWithLoanBefore: str = ""
    initMarginChange: str = ""
    maintMarginChange: str = ""
    equityWithLoanChange: str = ""
    initMarginAfter: str = ""
    maintMarginAfter: str = ""
    equityWithLoanAfter: str = ""
    commission: float | None = None
    minCommission: float | None = None
    maxCommission: float | None = None
    commissionCurrency: str = ""
    warningText: str = ""
    completedTime: str = ""
    completedStatus: str = ""
