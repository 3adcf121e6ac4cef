"""Responses about the connection itself: bootstrap, errors, time."""

from __future__ import annotations

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
