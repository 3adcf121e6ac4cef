"""Responses for news, bulletins, scanners, fundamentals and the WSH event calendar."""

from __future__ import annotations

from ...ibtypes.misc import NewsProvider, ScanData
from .. import versions as V
from ..contract_fields import SCANNER_CONTRACT, write_contract
from ..fields import FieldWriter
from ..messages import Response

_SCANNER_DATA_VERSION = 3


class UpdateNewsBulletin(Response, frozen=True, kw_only=True):
    msgId: int
    msgType: int  # 1 regular, 2 exchange unavailable, 3 exchange available again
    newsMessage: str
    originExch: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.msgId).int(self.msgType).str(self.newsMessage).str(self.originExch)


class NewsProviders(Response, frozen=True, kw_only=True):
    newsProviders: tuple[NewsProvider, ...] = ()

    min_version = V.REQ_NEWS_PROVIDERS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(len(self.newsProviders))
        for provider in self.newsProviders:
            w.str(provider.code).str(provider.name)


class NewsArticle(Response, frozen=True, kw_only=True):
    requestId: int
    articleType: int  # 0 plain text or html, 1 binary data (e.g. PDF) in base64
    articleText: str

    min_version = V.REQ_NEWS_ARTICLE

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.requestId).int(self.articleType).str(self.articleText)


class HistoricalNews(Response, frozen=True, kw_only=True):
    requestId: int
    time: str  # "yyyy-MM-dd HH:mm:ss.0"
    providerCode: str
    articleId: str
    headline: str

    min_version = V.REQ_HISTORICAL_NEWS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.requestId).str(self.time).str(self.providerCode).str(self.articleId)
        w.str(self.headline)


class HistoricalNewsEnd(Response, frozen=True, kw_only=True):
    requestId: int
    hasMore: bool = False

    min_version = V.REQ_HISTORICAL_NEWS

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.requestId).bool(self.hasMore)


class ScannerParameters(Response, frozen=True, kw_only=True):
    xml: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.xml)


class ScannerData(Response, frozen=True, kw_only=True):
    """A whole scan result: clients call scannerData once per row, then scannerDataEnd."""

    reqId: int
    data: tuple[ScanData, ...] = ()

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(_SCANNER_DATA_VERSION).int(self.reqId).int(len(self.data))
        for row in self.data:
            d = row.contractDetails
            w.int(row.rank)
            write_contract(w, d.contract, SCANNER_CONTRACT)
            w.str(d.marketName).str(d.contract.tradingClass)
            w.str(row.distance).str(row.benchmark).str(row.projection).str(row.legsStr)


class FundamentalData(Response, frozen=True, kw_only=True):
    reqId: int
    data: str  # an XML report

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.data)


class WshMetaData(Response, frozen=True, kw_only=True):
    reqId: int
    dataJson: str

    min_version = V.WSHE_CALENDAR

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.dataJson)


class WshEventData(Response, frozen=True, kw_only=True):
    reqId: int
    dataJson: str

    min_version = V.WSHE_CALENDAR

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.dataJson)
