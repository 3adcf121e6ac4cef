"""Historical data requests: bars, head timestamp, histogram, historical ticks."""

from __future__ import annotations

from typing import Self

from msgspec.structs import replace

from ...ibtypes.contract import Contract, TagValue
from .. import versions as V
from ..contract_fields import (
    HISTORICAL_CONTRACT,
    MARKET_DATA_COMBO_LEG,
    is_bag,
    read_combo_legs,
    read_contract,
)
from ..fields import FieldReader
from ..messages import Request
from ..order_fields import read_tag_values_text


class ReqHistoricalData(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    endDateTime: str = ""  # "" means now
    durationStr: str = ""  # e.g. "1 D"
    barSizeSetting: str = ""  # e.g. "5 mins"
    whatToShow: str = ""  # TRADES, MIDPOINT, BID, ASK, BID_ASK, ..., SCHEDULE
    useRTH: bool = False
    formatDate: int = 1  # 1 "yyyymmdd hh:mm:ss tz", 2 epoch seconds
    keepUpToDate: bool = False
    chartOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        if version < V.SYNT_REALTIME_BARS:
            r.skip("version")
        req_id = r.int("reqId")
        contract = read_contract(r, HISTORICAL_CONTRACT)
        end = r.str("endDateTime")
        bar_size = r.str("barSizeSetting")
        duration = r.str("durationStr")
        use_rth = r.bool("useRTH")
        what = r.str("whatToShow")
        format_date = r.int("formatDate")
        if is_bag(contract.secType):
            contract = replace(contract, comboLegs=read_combo_legs(r, MARKET_DATA_COMBO_LEG))
        keep = r.bool("keepUpToDate") if version >= V.SYNT_REALTIME_BARS else False
        options = read_tag_values_text(r, "chartOptions", lenient=True)
        return cls(
            reqId=req_id,
            contract=contract,
            endDateTime=end,
            durationStr=duration,
            barSizeSetting=bar_size,
            whatToShow=what,
            useRTH=use_rth,
            formatDate=format_date,
            keepUpToDate=keep,
            chartOptions=options,
        )


class CancelHistoricalData(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class ReqHeadTimeStamp(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    whatToShow: str = ""
    useRTH: bool = False
    formatDate: int = 1

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        req_id = r.int("reqId")
        contract = read_contract(r, HISTORICAL_CONTRACT)
        use_rth = r.bool("useRTH")
        return cls(
            reqId=req_id,
            contract=contract,
            useRTH=use_rth,
            whatToShow=r.str("whatToShow"),
            formatDate=r.int("formatDate"),
        )


class CancelHeadTimeStamp(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


class ReqHistogramData(Request, frozen=True, kw_only=True):
    tickerId: int
    contract: Contract
    useRTH: bool = False
    timePeriod: str = ""  # e.g. "3 days"

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        ticker_id = r.int("tickerId")
        contract = read_contract(r, HISTORICAL_CONTRACT)
        return cls(
            tickerId=ticker_id,
            contract=contract,
            useRTH=r.bool("useRTH"),
            timePeriod=r.str("timePeriod"),
        )


class CancelHistogramData(Request, frozen=True, kw_only=True):
    tickerId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(tickerId=r.int("tickerId"))


class ReqHistoricalTicks(Request, frozen=True, kw_only=True):
    reqId: int
    contract: Contract
    startDateTime: str = ""
    endDateTime: str = ""
    numberOfTicks: int = 0
    whatToShow: str = ""  # TRADES, MIDPOINT or BID_ASK
    useRth: bool = False
    ignoreSize: bool = False
    miscOptions: tuple[TagValue, ...] = ()

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        req_id = r.int("reqId")
        contract = read_contract(r, HISTORICAL_CONTRACT)
        return cls(
            reqId=req_id,
            contract=contract,
            startDateTime=r.str("startDateTime"),
            endDateTime=r.str("endDateTime"),
            numberOfTicks=r.int("numberOfTicks"),
            whatToShow=r.str("whatToShow"),
            useRth=r.bool("useRth"),
            ignoreSize=r.bool("ignoreSize"),
            miscOptions=read_tag_values_text(r, "miscOptions", lenient=True),
        )
