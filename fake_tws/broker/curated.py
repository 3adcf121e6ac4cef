"""Well-known instruments with realistic details, and the builders that make them.

Real conIds are used where they are well known (AAPL 265598, MSFT 272093, SPY 756733,
EUR.USD 12087792...); the others are stable made-up numbers. Prices are levels around
the price path's reference date, not quotes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from fake_tws.ibtypes import Contract, ContractDetails, TagValue

from . import schedule as sched
from .instruments import (
    Accounting,
    Instrument,
    MarketProfile,
    cusip_with_check,
    increment_at,
    isin_with_check,
)

STOCK_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AON,AVGCOST,BASKET,BENCHPX,CASHQTY,COND,"
    "CONDORDER,DARKONLY,DARKPOLL,DAY,DEACT,DEACTDIS,DEACTEOD,DIS,DUR,FOK,GAT,GTC,GTD,GTT,"
    "HID,IBKRATS,ICE,IMB,IOC,LIT,LMT,LOC,MIDPX,MIT,MKT,MOC,MTL,NGCOMB,NODARK,NONALGO,OCA,"
    "OPG,OPGREROUT,PEGBENCH,PEGMID,POSTATS,POSTONLY,PREOPGRTH,PRICECHK,REL,REL2MID,"
    "RELPCTOFS,RPI,RTH,SCALE,SCALEODD,SCALERST,SIZECHK,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,"
    "SWEEP,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
STOCK_EXCHANGES = (
    "SMART,AMEX,NYSE,CBOE,PHLX,ISE,CHX,ARCA,NASDAQ,DRCTEDGE,BEX,BATS,EDGEA,BYX,IEX,EDGX,"
    "FOXRIVER,PEARL,NYSENAT,LTSE,MEMX,IBEOS,OVERNIGHT,TPLUS0,PSX"
)
STOCK_VENUES = ("NASDAQ", "ARCA", "NYSE", "IEX", "BATS", "EDGX", "DRCTEDGE", "MEMX")
OPTION_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,"
    "DEACTEOD,DIS,FOK,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,MIT,MKT,MTL,NGCOMB,NONALGO,OCA,"
    "OPENCLOSE,PEGMID,PRICECHK,REL,REL2MID,RELPCTOFS,SCALE,SCALERST,SIZECHK,SMARTSTG,"
    "SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
OPTION_EXCHANGES = (
    "SMART,AMEX,CBOE,PHLX,PSE,ISE,BOX,BATS,NASDAQOM,CBOE2,NASDAQBX,MIAX,GEMINI,EDGX,"
    "MERCURY,PEARL,EMERALD,MEMX,IBUSOPT"
)
FUTURE_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,BENCHPX,COND,CONDORDER,DAY,DEACT,"
    "DEACTDIS,DEACTEOD,FOK,GAT,GTC,GTD,GTT,HID,ICE,IOC,LIT,LMT,LTH,MIT,MKT,MTL,NGCOMB,"
    "NONALGO,OCA,PEGBENCH,SCALE,SCALERST,SNAPMID,SNAPMKT,SNAPREL,STP,STPLMT,TRAIL,TRAILLIT,"
    "TRAILLMT,TRAILMIT,WHATIF"
)
FOREX_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALGO,ALLOC,AVGCOST,BASKET,CASHQTY,COND,CONDORDER,DAY,DEACT,"
    "DEACTDIS,DEACTEOD,FOK,GAT,GTC,GTD,GTT,HID,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,REL,"
    "RELPCTOFS,SCALE,SCALERST,STP,STPLMT,TRAIL,TRAILLIT,TRAILLMT,TRAILMIT,WHATIF"
)
CRYPTO_ORDER_TYPES = "ALERT,CASHQTY,DAY,GTC,IOC,LMT,MKT,STPLMT,WHATIF"
CFD_ORDER_TYPES = (
    "ACTIVETIM,AD,ADJUST,ALERT,ALLOC,AVGCOST,BASKET,COND,CONDORDER,DAY,DEACT,DEACTDIS,"
    "DEACTEOD,GAT,GTC,GTD,GTT,IOC,LIT,LMT,MIT,MKT,NONALGO,OCA,STP,STPLMT,TRAIL,TRAILLIT,"
    "TRAILLMT,TRAILMIT,WHATIF"
)
BOND_ORDER_TYPES = "ALERT,DAY,GTC,GTD,IOC,LMT,NONALGO,OCA,WHATIF"


def rule_ids(rule: int, exchanges: str) -> str:
    return ",".join([str(rule)] * len(exchanges.split(",")))


@dataclass(frozen=True, slots=True)
class StockSpec:
    symbol: str
    con_id: int
    name: str
    primary: str
    price: float
    isin: str
    industry: str = ""
    category: str = ""
    subcategory: str = ""
    stock_type: str = "COMMON"
    listed: date = date(1990, 1, 2)
    volatility: float = 0.018
    trades_per_minute: float = 40.0
    trade_size: int = 120
    penny_options: bool = True


def stock(spec: StockSpec) -> Instrument:
    trading_class = "NMS" if spec.primary == "NASDAQ" else spec.symbol
    contract = Contract(
        conId=spec.con_id,
        symbol=spec.symbol,
        secType="STK",
        exchange="SMART",
        primaryExchange=spec.primary,
        currency="USD",
        localSymbol=spec.symbol,
        tradingClass=trading_class,
    )
    details = ContractDetails(
        contract=contract,
        marketName=trading_class,
        minTick=0.01,
        orderTypes=STOCK_ORDER_TYPES,
        validExchanges=STOCK_EXCHANGES,
        priceMagnifier=1,
        longName=spec.name,
        industry=spec.industry,
        category=spec.category,
        subcategory=spec.subcategory,
        timeZoneId=sched.US_STOCKS.time_zone,
        aggGroup=1,
        marketRuleIds=rule_ids(26, STOCK_EXCHANGES),
        secIdList=(TagValue(tag="ISIN", value=spec.isin),),
        stockType=spec.stock_type,
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(100),
    )
    profile = MarketProfile(
        price=spec.price,
        volatility=spec.volatility,
        spread_ticks=1 if spec.price < 300 else 2,
        trades_per_minute=spec.trades_per_minute,
        trade_size=spec.trade_size,
        size_unit=Decimal(1),
        quote_lot=100,
        quote_lots=30,
        venues=STOCK_VENUES,
    )
    return Instrument(
        details=details,
        schedule=sched.US_STOCKS,
        profile=profile,
        path_tick=0.01,
        listed=spec.listed,
        init_margin=0.30,
        maint_margin=0.25,
    )


CURATED_STOCKS: tuple[StockSpec, ...] = (
    StockSpec(
        "AAPL", 265598, "APPLE INC", "NASDAQ", 255.0, "US0378331005",
        "Technology", "Computers", "Computers", listed=date(1980, 12, 12), volatility=0.017,
    ),
    StockSpec(
        "MSFT", 272093, "MICROSOFT CORP", "NASDAQ", 410.0, "US5949181045",
        "Technology", "Software", "Software", listed=date(1986, 3, 13), volatility=0.016,
    ),
    StockSpec(
        "SPY", 756733, "SPDR S&P 500 ETF TRUST", "ARCA", 650.0, "US78462F1030",
        stock_type="ETF", listed=date(1993, 1, 29), volatility=0.010, trades_per_minute=60,
    ),
    StockSpec(
        "QQQ", 320227571, "INVESCO QQQ TRUST SERIES 1", "NASDAQ", 580.0, "US46090E1038",
        stock_type="ETF", listed=date(1999, 3, 10), volatility=0.013, trades_per_minute=50,
    ),
    StockSpec(
        "AMZN", 3691937, "AMAZON.COM INC", "NASDAQ", 220.0, "US0231351067",
        "Communications", "Internet", "E-Commerce/Products", listed=date(1997, 5, 15),
        volatility=0.020,
    ),
    StockSpec(
        "TSLA", 76792991, "TESLA INC", "NASDAQ", 400.0, "US88160R1014",
        "Consumer, Cyclical", "Auto Manufacturers", "Auto-Cars/Light Trucks",
        listed=date(2010, 6, 29), volatility=0.035,
    ),
    StockSpec(
        "NVDA", 4815747, "NVIDIA CORP", "NASDAQ", 180.0, "US67066G1040",
        "Technology", "Semiconductors", "Electronic Compo-Semicon", listed=date(1999, 1, 22),
        volatility=0.028,
    ),
    StockSpec(
        "GOOGL", 208813719, "ALPHABET INC-CL A", "NASDAQ", 240.0, "US02079K3059",
        "Communications", "Internet", "Web Portals/ISP", listed=date(2004, 8, 19),
        volatility=0.019,
    ),
    StockSpec(
        "IBM", 8314, "INTL BUSINESS MACHINES CORP", "NYSE", 290.0, "US4592001014",
        "Technology", "Computers", "Computer Services", listed=date(1980, 1, 2),
        volatility=0.014, penny_options=False,
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class BondSpec:
    con_id: int
    issuer: str  # IB shows the issuer ticker as the bond's symbol
    cusip8: str
    coupon: float
    maturity: date
    issued: date
    bond_type: str
    long_name: str
    price: float  # percent of par
    ratings: str = ""


def bond(spec: BondSpec) -> Instrument:
    cusip = cusip_with_check(spec.cusip8)
    isin = isin_with_check("US", cusip)
    desc = f"{spec.issuer} {spec.coupon:g} {spec.maturity:%m/%d/%y}"
    exchanges = "SMART"
    contract = Contract(
        conId=spec.con_id,
        symbol=spec.issuer,
        secType="BOND",
        exchange="SMART",
        currency="USD",
        localSymbol=cusip,
        tradingClass=spec.issuer,
        description=desc,
    )
    details = ContractDetails(
        contract=contract,
        marketName=spec.bond_type,
        minTick=0.001,
        orderTypes=BOND_ORDER_TYPES,
        validExchanges=exchanges,
        priceMagnifier=1,
        longName=spec.long_name,
        timeZoneId=sched.US_BONDS.time_zone,
        marketRuleIds=rule_ids(1564, exchanges),
        secIdList=(TagValue(tag="ISIN", value=isin), TagValue(tag="CUSIP", value=cusip)),
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(1),
        cusip=cusip,
        ratings=spec.ratings,
        descAppend=desc,
        bondType=spec.bond_type,
        couponType="FIXED",
        coupon=spec.coupon,
        maturity=f"{spec.maturity:%Y%m%d}",
        issueDate=f"{spec.issued:%Y%m%d}",
        notes="",
    )
    profile = MarketProfile(
        price=spec.price,
        volatility=0.003,
        spread_ticks=50,
        trades_per_minute=4,
        trade_size=10,
        size_unit=Decimal(1),
        quote_lot=10,
        quote_lots=50,
        venues=("BONDDESK", "TRADEWEB", "IBBOND"),
    )
    return Instrument(
        details=details,
        schedule=sched.US_BONDS,
        profile=profile,
        path_tick=0.001,
        listed=spec.issued,
        value_multiplier=10.0,  # price is percent of a 1,000 face value
        init_margin=0.10,
        maint_margin=0.08,
    )


CURATED_BONDS: tuple[BondSpec, ...] = (
    BondSpec(
        610100001, "AAPL", "037833DX", 2.2, date(2029, 9, 11), date(2019, 9, 11), "CORP",
        "Apple Inc", 95.5, "AA+",
    ),
    BondSpec(
        610100002, "US-T", "91282CJL", 4.5, date(2033, 11, 15), date(2023, 11, 15), "GOVT",
        "United States Treasury", 101.25, "AA+",
    ),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ForexSpec:
    con_id: int
    base: str
    quote: str
    long_name: str
    price: float
    rule: int = 239


def forex(spec: ForexSpec) -> Instrument:
    pair = f"{spec.base}.{spec.quote}"
    contract = Contract(
        conId=spec.con_id,
        symbol=spec.base,
        secType="CASH",
        exchange="IDEALPRO",
        currency=spec.quote,
        localSymbol=pair,
        tradingClass=pair,
    )
    tick = increment_at(spec.rule, spec.price)
    details = ContractDetails(
        contract=contract,
        marketName=pair,
        minTick=tick,
        orderTypes=FOREX_ORDER_TYPES,
        validExchanges="IDEALPRO",
        priceMagnifier=1,
        longName=spec.long_name,
        timeZoneId=sched.IDEALPRO.time_zone,
        marketRuleIds=str(spec.rule),
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(1),
    )
    profile = MarketProfile(
        price=spec.price,
        volatility=0.005,
        spread_ticks=2,
        trades_per_minute=30,
        trade_size=100_000,
        size_unit=Decimal(1),
        quote_lot=100_000,
        quote_lots=50,
        venues=("IDEALPRO",),
    )
    return Instrument(
        details=details,
        schedule=sched.IDEALPRO,
        profile=profile,
        path_tick=tick,
        listed=date(2000, 1, 3),
        accounting=Accounting.FX,
        init_margin=0.03,
        maint_margin=0.025,
        has_trades=False,
    )


CURATED_FOREX: tuple[ForexSpec, ...] = (
    ForexSpec(12087792, "EUR", "USD", "European Monetary Union Euro", 1.08),
    ForexSpec(12087807, "EUR", "GBP", "European Monetary Union Euro", 0.85),
    ForexSpec(12087797, "GBP", "USD", "British pound", 1.27),
    ForexSpec(15016059, "USD", "JPY", "US dollar", 150.0, rule=240),
    ForexSpec(12087820, "USD", "CHF", "US dollar", 0.88),
    ForexSpec(15016062, "USD", "CAD", "US dollar", 1.37),
    ForexSpec(14433401, "AUD", "USD", "Australian dollar", 0.66),
)


@dataclass(frozen=True, slots=True)
class CryptoSpec:
    con_id: int
    symbol: str
    long_name: str
    price: float
    rule: int
    listed: date


def crypto(spec: CryptoSpec) -> Instrument:
    contract = Contract(
        conId=spec.con_id,
        symbol=spec.symbol,
        secType="CRYPTO",
        exchange="PAXOS",
        currency="USD",
        localSymbol=f"{spec.symbol}.USD",
        tradingClass=spec.symbol,
    )
    tick = increment_at(spec.rule, spec.price)
    details = ContractDetails(
        contract=contract,
        marketName=spec.symbol,
        minTick=tick,
        orderTypes=CRYPTO_ORDER_TYPES,
        validExchanges="PAXOS",
        priceMagnifier=1,
        longName=spec.long_name,
        timeZoneId=sched.CRYPTO.time_zone,
        marketRuleIds=str(spec.rule),
        minSize=Decimal("0.0001"),
        sizeIncrement=Decimal("0.00000001"),
        suggestedSizeIncrement=Decimal("0.0001"),
    )
    profile = MarketProfile(
        price=spec.price,
        volatility=0.03,
        spread_ticks=2,
        trades_per_minute=8,
        trade_size=2_000,  # 0.2 coins
        size_unit=Decimal("0.0001"),
        quote_lot=100,  # 0.01 coins
        quote_lots=200,
        venues=("PAXOS",),
    )
    return Instrument(
        details=details,
        schedule=sched.CRYPTO,
        profile=profile,
        path_tick=tick,
        listed=spec.listed,
        init_margin=1.0,  # crypto is paid in full
        maint_margin=1.0,
    )


CURATED_CRYPTO: tuple[CryptoSpec, ...] = (
    CryptoSpec(479624278, "BTC", "Bitcoin", 100_000.0, 1561, date(2021, 6, 1)),
    CryptoSpec(495759171, "ETH", "Ethereum", 3_500.0, 1562, date(2021, 6, 1)),
)


def index_cfd(con_id: int, symbol: str, long_name: str, price: float) -> Instrument:
    contract = Contract(
        conId=con_id,
        symbol=symbol,
        secType="CFD",
        exchange="SMART",
        currency="USD",
        localSymbol=symbol,
        tradingClass=symbol,
    )
    exchanges = "SMART,IBCFD"
    details = ContractDetails(
        contract=contract,
        marketName=symbol,
        minTick=1.0,
        orderTypes=CFD_ORDER_TYPES,
        validExchanges=exchanges,
        priceMagnifier=1,
        longName=long_name,
        timeZoneId=sched.IB_INDEX_CFD.time_zone,
        marketRuleIds=rule_ids(1563, exchanges),
        underSecType="IND",
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(1),
    )
    profile = MarketProfile(
        price=price,
        volatility=0.011,
        spread_ticks=2,
        trades_per_minute=20,
        trade_size=3,
        size_unit=Decimal(1),
        quote_lot=1,
        quote_lots=100,
        venues=("IBCFD",),
    )
    return Instrument(
        details=details,
        schedule=sched.IB_INDEX_CFD,
        profile=profile,
        path_tick=1.0,
        listed=date(2017, 1, 3),
        accounting=Accounting.MARGIN,
        init_margin=0.05,
        maint_margin=0.04,
    )


def curated_instruments() -> list[Instrument]:
    """Every hand-described instrument (derivative chains are built in `chains`)."""
    out = [stock(s) for s in CURATED_STOCKS]
    out += [bond(b) for b in CURATED_BONDS]
    out += [forex(f) for f in CURATED_FOREX]
    out += [crypto(c) for c in CURATED_CRYPTO]
    out.append(index_cfd(620730920, "IBUS30", "US 30", 46_000.0))
    return out
