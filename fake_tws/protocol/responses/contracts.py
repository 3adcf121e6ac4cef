"""Responses about contracts: details (plain and bond), symbol samples, option chains.

Layout notes (what clients read, see ibapi's decoder):
- Below SIZE_RULES a message version (8 for plain, 6 for bond details) leads, and from
  MD_SIZE_MULTIPLIER to SIZE_RULES an obsolete mdSizeMultiplier follows minTick.
- The expiry travels as one field "date[ time[ zone]]" that clients split on "-" if it
  has one, else on whitespace; for bonds the date is the maturity and the third part is
  the only place timeZoneId travels.
- Clients read evMultiplier as an integer (ibapi and ib_async both use int()), and
  ib_async reads a bond's coupon with int() too, so an integral value of either goes
  out without a decimal point ("5", not "5.0"). A fractional coupon still reaches
  ibapi; ib_async drops that bond message (its bug).
"""

from __future__ import annotations

from ...ibtypes import ContractDescription
from ...ibtypes import ContractDetails as Details
from .. import versions as V
from ..contract_fields import CONTRACT_DESCRIPTION_CONTRACT, write_contract
from ..fields import FieldWriter
from ..messages import Response
from ..order_fields import write_tag_values

_CONTRACT_DATA_VERSION = 8
_BOND_CONTRACT_DATA_VERSION = 6
_MD_SIZE_MULTIPLIER = 1  # obsolete field, ignored by clients


def _joined_expiry(parts: list[str]) -> str:
    """One field for "date time zone" that both ibapi and ib_async split back apart."""
    while parts and not parts[-1]:
        parts.pop()
    if all(p and not any(ch.isspace() for ch in p) for p in parts):
        return " ".join(parts)
    if not any("-" in p for p in parts):
        return "-".join(parts)  # keeps empty parts in place
    return " ".join(parts)  # cannot be represented exactly; best effort


def _number(value: float) -> str:
    """A double written as an int when integral (evMultiplier, bond coupon)."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _write_size_rules(w: FieldWriter, d: Details, version: int) -> None:
    if version >= V.SIZE_RULES:
        w.decimal(d.minSize).decimal(d.sizeIncrement).decimal(d.suggestedSizeIncrement)


class ContractDetails(Response, frozen=True, kw_only=True):
    reqId: int
    contractDetails: Details

    def encode(self, w: FieldWriter, version: int) -> None:
        d = self.contractDetails
        c = d.contract
        if version < V.SIZE_RULES:
            w.int(_CONTRACT_DATA_VERSION)
        w.int(self.reqId).str(c.symbol).str(c.secType)
        w.str(_joined_expiry([c.lastTradeDateOrContractMonth, d.lastTradeTime]))
        if version >= V.LAST_TRADE_DATE:
            w.str(c.lastTradeDate)
        w.float(c.strike).str(c.right).str(c.exchange).str(c.currency).str(c.localSymbol)
        w.str(d.marketName).str(c.tradingClass).int(c.conId).float(d.minTick)
        if V.MD_SIZE_MULTIPLIER <= version < V.SIZE_RULES:
            w.int(_MD_SIZE_MULTIPLIER)
        w.str(c.multiplier).str(d.orderTypes).str(d.validExchanges)
        w.int(d.priceMagnifier).int(d.underConId).str(d.longName).str(c.primaryExchange)
        w.str(d.contractMonth).str(d.industry).str(d.category).str(d.subcategory)
        w.str(d.timeZoneId).str(d.tradingHours).str(d.liquidHours)
        w.str(d.evRule).str(_number(d.evMultiplier))
        write_tag_values(w, d.secIdList)
        if version >= V.AGG_GROUP:
            w.int(d.aggGroup)
        if version >= V.UNDERLYING_INFO:
            w.str(d.underSymbol).str(d.underSecType)
        if version >= V.MARKET_RULES:
            w.str(d.marketRuleIds)
        if version >= V.REAL_EXPIRATION_DATE:
            w.str(d.realExpirationDate)
        if version >= V.STOCK_TYPE:
            w.str(d.stockType)
        if V.FRACTIONAL_SIZE_SUPPORT <= version < V.SIZE_RULES:
            # sizeMinTick: ibapi skips it, ib_async reads it as suggestedSizeIncrement.
            w.decimal(d.suggestedSizeIncrement)
        _write_size_rules(w, d, version)
        if version >= V.FUND_DATA_FIELDS and c.secType == "FUND":
            w.str(d.fundName).str(d.fundFamily).str(d.fundType)
            w.str(d.fundFrontLoad).str(d.fundBackLoad).str(d.fundBackLoadTimeInterval)
            w.str(d.fundManagementFee)
            w.bool(d.fundClosed).bool(d.fundClosedForNewInvestors).bool(d.fundClosedForNewMoney)
            w.str(d.fundNotifyAmount).str(d.fundMinimumInitialPurchase)
            w.str(d.fundSubsequentMinimumPurchase)
            w.str(d.fundBlueSkyStates).str(d.fundBlueSkyTerritories)
            w.str(d.fundDistributionPolicyIndicator).str(d.fundAssetType)
        if version >= V.INELIGIBILITY_REASONS:
            w.int(len(d.ineligibilityReasonList))
            for reason in d.ineligibilityReasonList:
                w.str(reason.id).str(reason.description)


class BondContractDetails(Response, frozen=True, kw_only=True):
    reqId: int
    contractDetails: Details

    def encode(self, w: FieldWriter, version: int) -> None:
        d = self.contractDetails
        c = d.contract
        if version < V.SIZE_RULES:
            w.int(_BOND_CONTRACT_DATA_VERSION)
        w.int(self.reqId).str(c.symbol).str(c.secType).str(d.cusip).str(_number(d.coupon))
        w.str(_joined_expiry([d.maturity, d.lastTradeTime, d.timeZoneId]))
        w.str(d.issueDate).str(d.ratings).str(d.bondType).str(d.couponType)
        w.bool(d.convertible).bool(d.callable).bool(d.putable).str(d.descAppend)
        w.str(c.exchange).str(c.currency).str(d.marketName).str(c.tradingClass)
        w.int(c.conId).float(d.minTick)
        if V.MD_SIZE_MULTIPLIER <= version < V.SIZE_RULES:
            w.int(_MD_SIZE_MULTIPLIER)
        w.str(d.orderTypes).str(d.validExchanges)
        w.str(d.nextOptionDate).str(d.nextOptionType).bool(d.nextOptionPartial).str(d.notes)
        w.str(d.longName).str(d.evRule).str(_number(d.evMultiplier))
        write_tag_values(w, d.secIdList)
        if version >= V.AGG_GROUP:
            w.int(d.aggGroup)
        if version >= V.MARKET_RULES:
            w.str(d.marketRuleIds)
        _write_size_rules(w, d, version)


class ContractDetailsEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class SymbolSamples(Response, frozen=True, kw_only=True):
    reqId: int
    contractDescriptions: tuple[ContractDescription, ...] = ()

    min_version = V.REQ_MATCHING_SYMBOLS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.contractDescriptions))
        for desc in self.contractDescriptions:
            write_contract(w, desc.contract, CONTRACT_DESCRIPTION_CONTRACT)
            w.int(len(desc.derivativeSecTypes))
            for sec_type in desc.derivativeSecTypes:
                w.str(sec_type)
            if version >= V.BOND_ISSUERID:
                w.str(desc.contract.description).str(desc.contract.issuerId)


class SecurityDefinitionOptionParameter(Response, frozen=True, kw_only=True):
    """One exchange's slice of an option chain (clients receive sets; order is ours)."""

    reqId: int
    exchange: str
    underlyingConId: int
    tradingClass: str
    multiplier: str
    expirations: tuple[str, ...] = ()
    strikes: tuple[float, ...] = ()

    min_version = V.SEC_DEF_OPT_PARAMS_REQ

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.exchange).int(self.underlyingConId)
        w.str(self.tradingClass).str(self.multiplier)
        w.int(len(self.expirations))
        for expiration in self.expirations:
            w.str(expiration)
        w.int(len(self.strikes))
        for strike in self.strikes:
            w.float(strike)


class SecurityDefinitionOptionParameterEnd(Response, frozen=True, kw_only=True):
    reqId: int

    min_version = V.SEC_DEF_OPT_PARAMS_REQ

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId)
