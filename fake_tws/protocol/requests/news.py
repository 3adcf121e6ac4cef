"""Requests for news, bulletins, scanners, fundamentals and the WSH event calendar."""

from __future__ import annotations

from typing import Self

from ...ibtypes import Contract, TagValue
from ...ibtypes.misc import ScannerSubscription, WshEventData
from .. import versions as V
from ..contract_fields import FUNDAMENTAL_DATA_CONTRACT, read_contract
from ..fields import FieldReader
from ..messages import Request
from ..order_fields import read_tag_values_text


class ReqNewsBulletins(Request, frozen=True, kw_only=True):
    allMsgs: bool

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(allMsgs=r.bool("allMsgs"))


class CancelNewsBulletins(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqNewsProviders(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls()


class ReqNewsArticle(Request, frozen=True, kw_only=True):
    reqId: int
    providerCode: str
    articleId: str
    newsArticleOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        req_id = r.int("reqId")
        provider = r.str("providerCode")
        article = r.str("articleId")
        options = (
            read_tag_values_text(r, "newsArticleOptions") if version >= V.NEWS_QUERY_ORIGINS else ()
        )
        return cls(
            reqId=req_id, providerCode=provider, articleId=article, newsArticleOptions=options
        )


class ReqHistoricalNews(Request, frozen=True, kw_only=True):
    reqId: int
    conId: int
    providerCodes: str  # "+"-separated, e.g. "BRFG+DJNL"
    startDateTime: str = ""
    endDateTime: str = ""
    totalResults: int = 0
    historicalNewsOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(
            reqId=r.int("reqId"),
            conId=r.int("conId"),
            providerCodes=r.str("providerCodes"),
            startDateTime=r.str("startDateTime"),
            endDateTime=r.str("endDateTime"),
            totalResults=r.int("totalResults"),
            historicalNewsOptions=(
                read_tag_values_text(r, "historicalNewsOptions")
                if version >= V.NEWS_QUERY_ORIGINS
                else ()
            ),
        )


class ReqScannerSubscription(Request, frozen=True, kw_only=True):
    reqId: int
    subscription: ScannerSubscription
    scannerSubscriptionOptions: tuple[TagValue, ...] = ()
    scannerSubscriptionFilterOptions: tuple[TagValue, ...] = ()  # from SCANNER_GENERIC_OPTS

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        if version < V.SCANNER_GENERIC_OPTS:
            r.skip("version")
        req_id = r.int("reqId")
        number_of_rows = r.int_max("numberOfRows")
        subscription = ScannerSubscription(
            numberOfRows=-1 if number_of_rows is None else number_of_rows,
            instrument=r.str("instrument"),
            locationCode=r.str("locationCode"),
            scanCode=r.str("scanCode"),
            abovePrice=r.float_max("abovePrice"),
            belowPrice=r.float_max("belowPrice"),
            aboveVolume=r.int_max("aboveVolume"),
            marketCapAbove=r.float_max("marketCapAbove"),
            marketCapBelow=r.float_max("marketCapBelow"),
            moodyRatingAbove=r.str("moodyRatingAbove"),
            moodyRatingBelow=r.str("moodyRatingBelow"),
            spRatingAbove=r.str("spRatingAbove"),
            spRatingBelow=r.str("spRatingBelow"),
            maturityDateAbove=r.str("maturityDateAbove"),
            maturityDateBelow=r.str("maturityDateBelow"),
            couponRateAbove=r.float_max("couponRateAbove"),
            couponRateBelow=r.float_max("couponRateBelow"),
            excludeConvertible=r.bool("excludeConvertible"),
            averageOptionVolumeAbove=r.int_max("averageOptionVolumeAbove"),
            scannerSettingPairs=r.str("scannerSettingPairs"),
            stockTypeFilter=r.str("stockTypeFilter"),
        )
        filter_options: tuple[TagValue, ...] = ()
        if version >= V.SCANNER_GENERIC_OPTS:
            filter_options = read_tag_values_text(r, "scannerSubscriptionFilterOptions")
        options = read_tag_values_text(r, "scannerSubscriptionOptions")
        return cls(
            reqId=req_id,
            subscription=subscription,
            scannerSubscriptionOptions=options,
            scannerSubscriptionFilterOptions=filter_options,
        )


class CancelScannerSubscription(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class ReqScannerParameters(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqFundamentalData(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    reportType: str  # ReportSnapshot, ReportsFinSummary, ReportRatios, ...
    fundamentalDataOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, FUNDAMENTAL_DATA_CONTRACT)
        report_type = r.str("reportType")
        r.int("fundamentalDataOptionsCount")  # the pairs' count; the next field has them all
        options = read_tag_values_text(r, "fundamentalDataOptions")
        return cls(
            reqId=req_id, contract=contract, reportType=report_type, fundamentalDataOptions=options
        )


class CancelFundamentalData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class ReqWshMetaData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


class CancelWshMetaData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


class ReqWshEventData(Request, frozen=True, kw_only=True):
    reqId: int
    wshEventData: WshEventData

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        req_id = r.int("reqId")
        con_id = r.int_max("conId")
        filters = {}
        if version >= V.WSH_EVENT_DATA_FILTERS:
            filters.update(
                filter=r.str("filter"),
                fillWatchlist=r.bool("fillWatchlist"),
                fillPortfolio=r.bool("fillPortfolio"),
                fillCompetitors=r.bool("fillCompetitors"),
            )
        if version >= V.WSH_EVENT_DATA_FILTERS_DATE:
            filters.update(
                startDate=r.str("startDate"),
                endDate=r.str("endDate"),
                totalLimit=r.int_max("totalLimit"),
            )
        return cls(reqId=req_id, wshEventData=WshEventData(conId=con_id, **filters))


class CancelWshEventData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))
