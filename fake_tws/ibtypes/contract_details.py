"""Contract details: the catalog's answer to reqContractDetails."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from .contract import Contract, TagValue


class IneligibilityReason(msgspec.Struct, frozen=True, kw_only=True):
    id: str = ""
    description: str = ""


class ContractDetails(msgspec.Struct, frozen=True, kw_only=True):
    contract: Contract = Contract()
    marketName: str = ""
    minTick: float = 0.0
    orderTypes: str = ""
    validExchanges: str = ""
    priceMagnifier: int = 0
    underConId: int = 0
    longName: str = ""
    contractMonth: str = ""
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    timeZoneId: str = ""
    tradingHours: str = ""
    liquidHours: str = ""
    evRule: str = ""
    evMultiplier: float = 0.0
    aggGroup: int = 0
    underSymbol: str = ""
    underSecType: str = ""
    marketRuleIds: str = ""
    secIdList: tuple[TagValue, ...] = ()
    realExpirationDate: str = ""
    lastTradeTime: str = ""
    stockType: str = ""
    minSize: Decimal | None = None
    sizeIncrement: Decimal | None = None
    suggestedSizeIncrement: Decimal | None = None
    cusip: str = ""
    ratings: str = ""
    descAppend: str = ""
    bondType: str = ""
    couponType: str = ""
    callable: bool = False
    putable: bool = False
    coupon: float = 0.0
    convertible: bool = False
    maturity: str = ""
    issueDate: str = ""
    nextOptionDate: str = ""
    nextOptionType: str = ""
    nextOptionPartial: bool = False
    notes: str = ""
    fundName: str = ""
    fundFamily: str = ""
    fundType: str = ""
    fundFrontLoad: str = ""
    fundBackLoad: str = ""
    fundBackLoadTimeInterval: str = ""
    fundManagementFee: str = ""
    fundClosed: bool = False
    fundClosedForNewInvestors: bool = False
    fundClosedForNewMoney: bool = False
    fundNotifyAmount: str = ""
    fundMinimumInitialPurchase: str = ""
    fundSubsequentMinimumPurchase: str = ""
    fundBlueSkyStates: str = ""
    fundBlueSkyTerritories: str = ""
    fundDistributionPolicyIndicator: str = ""  # wire code, e.g. "N" / "Y"
    fundAssetType: str = ""  # wire code, e.g. "001"
    ineligibilityReasonList: tuple[IneligibilityReason, ...] = ()


class ContractDescription(msgspec.Struct, frozen=True, kw_only=True):
    """One match of reqMatchingSymbols."""

    contract: Contract = Contract()
    derivativeSecTypes: tuple[str, ...] = ()
