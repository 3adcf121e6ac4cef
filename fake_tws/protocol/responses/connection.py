"""Responses about the connection itself: bootstrap, errors, time."""

from __future__ import annotations

from ...ibtypes import SoftDollarTier
from ...ibtypes.misc import FamilyCode
from .. import versions as V
from ..fields import FieldWriter
from ..messages import Response


class ManagedAccounts(Response, frozen=True, kw_only=True):
    accountsList: str  # comma-separated account ids

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.accountsList)


class NextValidId(Response, frozen=True, kw_only=True):
    orderId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.orderId)


class Error(Response, frozen=True, kw_only=True):
    """errMsg: both request failures (reqId >= 0) and notices (reqId -1, e.g. 2104)."""

    reqId: int
    errorCode: int
    errorString: str
    advancedOrderRejectJson: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(2).int(self.reqId).int(self.errorCode).str(self.errorString)
        if version >= V.ADVANCED_ORDER_REJECT:
            w.str(self.advancedOrderRejectJson)


class CurrentTime(Response, frozen=True, kw_only=True):
    time: int  # epoch seconds

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.time)


class MarketDataType(Response, frozen=True, kw_only=True):
    reqId: int
    marketDataType: int

    min_version = V.REQ_MARKET_DATA_TYPE

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).int(self.marketDataType)


class VerifyMessageAPI(Response, frozen=True, kw_only=True):
    apiData: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.apiData)


class VerifyCompleted(Response, frozen=True, kw_only=True):
    """ibapi hands isSuccessful to the wrapper as the raw text "1"/"0" (its generic
    decoder converts only int- and float-annotated parameters)."""

    isSuccessful: bool
    errorText: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).bool(self.isSuccessful).str(self.errorText)


class VerifyAndAuthMessageAPI(Response, frozen=True, kw_only=True):
    apiData: str
    xyzChallange: str  # sic, IB's spelling

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.apiData).str(self.xyzChallange)


class VerifyAndAuthCompleted(Response, frozen=True, kw_only=True):
    isSuccessful: bool
    errorText: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).bool(self.isSuccessful).str(self.errorText)


class DisplayGroupList(Response, frozen=True, kw_only=True):
    reqId: int
    groups: str  # "|"-separated group ids, e.g. "1|2|3"

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.groups)


class DisplayGroupUpdated(Response, frozen=True, kw_only=True):
    reqId: int
    contractInfo: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.contractInfo)


class SoftDollarTiers(Response, frozen=True, kw_only=True):
    reqId: int
    tiers: tuple[SoftDollarTier, ...] = ()

    min_version = V.SOFT_DOLLAR_TIER

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).int(len(self.tiers))
        for tier in self.tiers:
            w.str(tier.name).str(tier.val).str(tier.displayName)


class FamilyCodes(Response, frozen=True, kw_only=True):
    familyCodes: tuple[FamilyCode, ...] = ()

    min_version = V.REQ_FAMILY_CODES

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(len(self.familyCodes))
        for code in self.familyCodes:
            w.str(code.accountID).str(code.familyCodeStr)


class UserInfo(Response, frozen=True, kw_only=True):
    reqId: int
    whiteBrandingId: str = ""

    min_version = V.USER_INFO

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.whiteBrandingId)
