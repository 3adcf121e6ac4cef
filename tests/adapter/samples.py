"""Contract details as IB sends them, one per kind of contract, for either adapter.

Values follow real TWS answers (conIds, ticks, multipliers, time zones). Each sample is
plain data so the same details can be built with our classes and with NautilusTrader's,
whose parsing serves as the oracle in ``test_oracle.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from types import ModuleType
from typing import Any

import nautilus_trader.adapters.interactive_brokers.common as their_common
from ibapi.tag_value import TagValue

import adapter.common as our_common


@dataclass(frozen=True)
class Sample:
    name: str
    venue: str  # the venue the provider gives it without MIC conversion
    contract: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    legs: tuple[dict[str, Any], ...] = ()  # ComboLeg fields, BAG only

    def build(self, common: ModuleType = our_common):
        """The details as ``common.IBContractDetails`` (ours by default)."""
        legs = [common.ComboLeg(**leg) for leg in self.legs] or None
        contract = common.IBContract(**self.contract, comboLegs=legs)
        return common.IBContractDetails(contract=contract, **self.details)

    def build_theirs(self):
        return self.build(their_common)


def _isin(isin: str) -> list[TagValue]:
    return [TagValue("ISIN", isin)]


WHOLE = {"minSize": Decimal("1"), "sizeIncrement": Decimal("1")}

AAPL = Sample(
    "stock",
    "NASDAQ",
    dict(
        secType="STK",
        conId=265598,
        symbol="AAPL",
        exchange="SMART",
        primaryExchange="NASDAQ",
        currency="USD",
        localSymbol="AAPL",
        tradingClass="NMS",
    ),
    dict(
        marketName="NMS",
        minTick=0.01,
        longName="APPLE INC",
        industry="Technology",
        category="Computers",
        subcategory="Computers",
        timeZoneId="US/Eastern",
        validExchanges="SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ",
        orderTypes="ACTIVETIM,AD,ALERT,ALGO,LMT,MKT,STP,TRAIL",
        aggGroup=1,
        marketRuleIds="26,26,26,26,26,26,26,26,26",
        secIdList=_isin("US0378331005"),
        stockType="COMMON",
        suggestedSizeIncrement=Decimal("100"),
        **WHOLE,
    ),
)

BRK_B = Sample(
    "stock with a space",
    "NYSE",
    dict(
        secType="STK",
        conId=72063691,
        symbol="BRK B",
        exchange="SMART",
        primaryExchange="NYSE",
        currency="USD",
        localSymbol="BRK B",
        tradingClass="BRK B",
    ),
    dict(
        minTick=0.01,
        longName="BERKSHIRE HATHAWAY INC-CL B",
        timeZoneId="US/Eastern",
        secIdList=_isin("US0846707026"),
        **WHOLE,
    ),
)

SPX = Sample(
    "index",
    "CBOE",
    dict(
        secType="IND",
        conId=416904,
        symbol="SPX",
        exchange="CBOE",
        currency="USD",
        localSymbol="SPX",
    ),
    dict(minTick=0.01, longName="S&P 500 Stock Index", timeZoneId="US/Central", **WHOLE),
)

ES_FUTURE = Sample(
    "future",
    "CME",
    dict(
        secType="FUT",
        conId=495512563,
        symbol="ES",
        lastTradeDateOrContractMonth="20251219",
        multiplier="50",
        exchange="CME",
        currency="USD",
        localSymbol="ESZ5",
        tradingClass="ES",
    ),
    dict(
        marketName="ES",
        minTick=0.25,
        longName="E-mini S&P 500",
        contractMonth="202512",
        timeZoneId="US/Central",
        underConId=11004968,
        underSymbol="ES",
        underSecType="IND",
        realExpirationDate="20251219",
        **WHOLE,
    ),
)

ES_CONTINUOUS = Sample(
    "continuous future",
    "CME",
    {**ES_FUTURE.contract, "secType": "CONTFUT"},
    ES_FUTURE.details,
)

FGBL_FUTURE = Sample(
    "future with a month name",
    "EUREX",
    dict(
        secType="FUT",
        conId=750359420,
        symbol="GBL",
        lastTradeDateOrContractMonth="20251208",
        multiplier="1000",
        exchange="EUREX",
        currency="EUR",
        localSymbol="FGBL DEC 25",
        tradingClass="FGBL",
    ),
    dict(
        minTick=0.01,
        longName="Euro Bund (10 Year Bond)",
        timeZoneId="MET",
        underSymbol="GBL",
        underSecType="IND",
        **WHOLE,
    ),
)

NIFTY_FUTURE = Sample(
    "future in NSE's naming",
    "NSE",
    dict(
        secType="FUT",
        conId=786405523,
        symbol="NIFTY50",
        lastTradeDateOrContractMonth="20251230",
        multiplier="1",
        exchange="NSE",
        currency="INR",
        localSymbol="NIFTY25DECFUT",
        tradingClass="NIFTY",
    ),
    dict(
        minTick=0.1,
        timeZoneId="Asia/Kolkata",
        underSymbol="NIFTY50",
        underSecType="IND",
        minSize=Decimal("75"),
        sizeIncrement=Decimal("75"),
    ),
)

AAPL_OPTION = Sample(
    "stock option",
    "SMART",
    dict(
        secType="OPT",
        conId=747298217,
        symbol="AAPL",
        lastTradeDateOrContractMonth="20251219",
        strike=200.0,
        right="C",
        multiplier="100",
        exchange="SMART",
        currency="USD",
        localSymbol="AAPL  251219C00200000",
        tradingClass="AAPL",
    ),
    dict(
        marketName="AAPL",
        minTick=0.01,
        longName="APPLE INC",
        contractMonth="202512",
        timeZoneId="US/Eastern",
        underConId=265598,
        underSymbol="AAPL",
        underSecType="STK",
        realExpirationDate="20251219",
        **WHOLE,
    ),
)

SPX_OPTION = Sample(
    "index option",
    "SMART",
    dict(
        secType="OPT",
        conId=767251102,
        symbol="SPX",
        lastTradeDateOrContractMonth="20251219",
        strike=5500.0,
        right="P",
        multiplier="100",
        exchange="SMART",
        currency="USD",
        localSymbol="SPX   251219P05500000",
        tradingClass="SPX",
    ),
    dict(
        minTick=0.05,
        timeZoneId="US/Central",
        underConId=416904,
        underSymbol="SPX",
        underSecType="IND",
        **WHOLE,
    ),
)

ES_FUTURE_OPTION = Sample(
    "future option",
    "CME",
    dict(
        secType="FOP",
        conId=752434519,
        symbol="ES",
        lastTradeDateOrContractMonth="20251219",
        strike=6000.0,
        right="C",
        multiplier="50",
        exchange="CME",
        currency="USD",
        localSymbol="ESZ5 C6000",
        tradingClass="ES",
    ),
    dict(
        minTick=0.25,
        timeZoneId="US/Central",
        underConId=495512563,
        underSymbol="ES",
        underSecType="FUT",
        **WHOLE,
    ),
)

NQ_FUTURE_OPTION = Sample(
    "future option with a five-digit strike",
    "CME",
    dict(
        secType="FOP",
        conId=752440145,
        symbol="NQ",
        lastTradeDateOrContractMonth="20251219",
        strike=21000.0,
        right="P",
        multiplier="20",
        exchange="CME",
        currency="USD",
        localSymbol="NQZ5 P21000",
        tradingClass="NQ",
    ),
    dict(
        minTick=0.25,
        timeZoneId="US/Central",
        underSymbol="NQ",
        underSecType="FUT",
        **WHOLE,
    ),
)

EUR_USD = Sample(
    "forex pair",
    "IDEALPRO",
    dict(
        secType="CASH",
        conId=12087792,
        symbol="EUR",
        exchange="IDEALPRO",
        currency="USD",
        localSymbol="EUR.USD",
        tradingClass="EUR.USD",
    ),
    dict(
        marketName="EUR.USD",
        minTick=5e-05,
        longName="European Monetary Union Euro",
        timeZoneId="US/Eastern",
        suggestedSizeIncrement=Decimal("1"),
        **WHOLE,
    ),
)

BTC_USD = Sample(
    "crypto",
    "PAXOS",
    dict(
        secType="CRYPTO",
        conId=479624278,
        symbol="BTC",
        exchange="PAXOS",
        currency="USD",
        localSymbol="BTC.USD",
        tradingClass="BTC",
    ),
    dict(
        minTick=0.25,
        longName="Bitcoin",
        timeZoneId="US/Eastern",
        minSize=Decimal("0.0001"),
        sizeIncrement=Decimal("0.0001"),
    ),
)

INDEX_CFD = Sample(
    "index CFD",
    "SMART",
    dict(
        secType="CFD",
        conId=109565837,
        symbol="IBUS500",
        exchange="SMART",
        currency="USD",
        localSymbol="IBUS500",
        tradingClass="IBUS500",
    ),
    dict(minTick=0.1, timeZoneId="US/Eastern", underSecType="IND", **WHOLE),
)

FOREX_CFD = Sample(
    "forex CFD",
    "SMART",
    dict(
        secType="CFD",
        conId=143916318,
        symbol="EUR",
        exchange="SMART",
        currency="USD",
        localSymbol="EUR.USD",
        tradingClass="EUR.USD",
    ),
    dict(minTick=5e-05, timeZoneId="US/Eastern", underSecType="CASH", **WHOLE),
)

GOLD = Sample(
    "commodity",
    "SMART",
    dict(
        secType="CMDTY",
        conId=69067924,
        symbol="XAUUSD",
        exchange="SMART",
        currency="USD",
        localSymbol="XAUUSD",
        tradingClass="XAUUSD",
    ),
    dict(minTick=0.01, longName="London Gold", timeZoneId="US/Eastern", **WHOLE),
)

SPY_SPREAD = Sample(
    "option spread",
    "SMART",
    dict(secType="BAG", conId=28812380, symbol="SPY", exchange="SMART", currency="USD"),
    dict(minTick=0.01, underSymbol="SPY", underSecType="STK"),
    legs=(
        dict(conId=747298301, ratio=1, action="BUY", exchange="SMART"),
        dict(conId=747298355, ratio=1, action="SELL", exchange="SMART"),
    ),
)

# The legs of SPY_SPREAD, as the provider would have loaded them.
SPY_CALL_600 = Sample(
    "spread leg",
    "SMART",
    {
        **AAPL_OPTION.contract,
        "conId": 747298301,
        "symbol": "SPY",
        "strike": 600.0,
        "localSymbol": "SPY   251219C00600000",
        "tradingClass": "SPY",
    },
    {**AAPL_OPTION.details, "underSymbol": "SPY", "underConId": 756733},
)
SPY_CALL_610 = Sample(
    "spread leg",
    "SMART",
    {
        **SPY_CALL_600.contract,
        "conId": 747298355,
        "strike": 610.0,
        "localSymbol": "SPY   251219C00610000",
    },
    SPY_CALL_600.details,
)

US_TREASURY = Sample(
    "bond",
    "SMART",
    dict(
        secType="BOND",
        conId=653478911,
        symbol="US-T",
        exchange="SMART",
        currency="USD",
        localSymbol="912810TM0",
        secIdType="ISIN",
        secId="US912810TM09",
    ),
    dict(minTick=0.0001, cusip="912810TM0", coupon=4.25, maturity="20530515", **WHOLE),
)

# Every contract NautilusTrader 1.221.0 has an instrument for.
INSTRUMENT_SAMPLES = (
    AAPL,
    BRK_B,
    SPX,
    ES_FUTURE,
    ES_CONTINUOUS,
    FGBL_FUTURE,
    NIFTY_FUTURE,
    AAPL_OPTION,
    SPX_OPTION,
    ES_FUTURE_OPTION,
    NQ_FUTURE_OPTION,
    EUR_USD,
    BTC_USD,
    INDEX_CFD,
    FOREX_CFD,
    GOLD,
    SPY_SPREAD,
)


def leg_details_by_con_id(*samples: Sample) -> dict[int, Any]:
    return {sample.contract["conId"]: sample.build() for sample in samples}
