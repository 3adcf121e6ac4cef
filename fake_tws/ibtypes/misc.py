"""Smaller TWS API values: scanner, news, WSH calendar, family codes."""

from __future__ import annotations

import msgspec

from .contract_details import ContractDetails


class ScannerSubscription(msgspec.Struct, frozen=True, kw_only=True):
    """What reqScannerSubscription asks for. None means unset (no filter)."""

    numberOfRows: int = -1  # -1: TWS's default number of rows
    instrument: str = ""  # e.g. "STK"
    locationCode: str = ""  # e.g. "STK.US.MAJOR"
    scanCode: str = ""  # e.g. "TOP_PERC_GAIN"
    abovePrice: float | None = None
    belowPrice: float | None = None
    aboveVolume: int | None = None
    marketCapAbove: float | None = None
    marketCapBelow: float | None = None
    moodyRatingAbove: str = ""
    moodyRatingBelow: str = ""
    spRatingAbove: str = ""
    spRatingBelow: str = ""
    maturityDateAbove: str = ""
    maturityDateBelow: str = ""
    couponRateAbove: float | None = None
    couponRateBelow: float | None = None
    excludeConvertible: bool = False
    averageOptionVolumeAbove: int | None = None
    scannerSettingPairs: str = ""
    stockTypeFilter: str = ""


class ScanData(msgspec.Struct, frozen=True, kw_only=True):
    """One row of a scanner result. Of `contractDetails` the wire carries only the
    contract's identifying fields (conId, symbol, secType, lastTradeDateOrContractMonth,
    strike, right, exchange, currency, localSymbol, tradingClass) and `marketName`."""

    rank: int
    contractDetails: ContractDetails = ContractDetails()
    distance: str = ""
    benchmark: str = ""
    projection: str = ""
    legsStr: str = ""


class NewsProvider(msgspec.Struct, frozen=True, kw_only=True):
    code: str  # e.g. "BRFG"
    name: str = ""


class FamilyCode(msgspec.Struct, frozen=True, kw_only=True):
    accountID: str
    familyCodeStr: str = ""


class WshEventData(msgspec.Struct, frozen=True, kw_only=True):
    """The query of reqWshEventData (Wall Street Horizon corporate-event calendar)."""

    conId: int | None = None
    filter: str = ""  # a JSON filter, from server version 171
    fillWatchlist: bool = False
    fillPortfolio: bool = False
    fillCompetitors: bool = False
    startDate: str = ""  # yyyymmdd, from server version 173
    endDate: str = ""
    totalLimit: int | None = None
