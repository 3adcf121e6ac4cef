"""Derivative chains: option series on a stock and futures months on a root.

Chains are listed relative to an as-of date (what is tradable that day) but every
contract's conId, price level and details depend only on what it is, so a contract
keeps its identity as days pass. Option levels come from Black-Scholes at the path's
reference date; futures levels add a small carry per month out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from fake_tws.ibtypes import Contract, ContractDetails

from . import schedule as sched
from .curated import (
    CURATED_STOCKS,
    FUTURE_ORDER_TYPES,
    OPTION_EXCHANGES,
    OPTION_ORDER_TYPES,
    rule_ids,
)
from .hashing import stable_key
from .instruments import (
    Accounting,
    Instrument,
    MarketProfile,
    future_local_symbol,
    increment_at,
    occ_symbol,
    third_friday,
)
from .pricepath import REFERENCE_DATE

OPTION_CON_IDS = (800_000_000, 99_000_000)  # base, span: hashed conIds land here
FUTURE_CON_IDS = (700_000_000, 99_000_000)


def hashed_con_id(span: tuple[int, int], *parts: object) -> int:
    base, size = span
    return base + stable_key("conId", *parts) % size


# --- options -------------------------------------------------------------------------


def option_expirations(as_of: date) -> list[date]:
    """Weeklies for a month, monthlies for six months, two January LEAPS."""
    out: set[date] = set()
    friday = as_of + timedelta(days=(4 - as_of.weekday()) % 7)
    for week in range(5):
        out.add(sched.previous_business_day(friday + timedelta(weeks=week)))
    monthlies: list[date] = []
    year, month = as_of.year, as_of.month
    while len(monthlies) < 6:
        expiry = sched.previous_business_day(third_friday(year, month))
        if expiry >= as_of:
            monthlies.append(expiry)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    out.update(monthlies)
    for years_out in (1, 2):
        out.add(sched.previous_business_day(third_friday(as_of.year + years_out, 1)))
    return sorted(d for d in out if d >= as_of)


def option_strikes(price: float) -> list[float]:
    """Strikes within about 30% of the underlying's level, on the usual spacing."""
    step = 0.5 if price < 25 else 1.0 if price < 50 else 2.5 if price < 200 else 5.0
    if price >= 1000:
        step = 10.0
    low = math.floor(price * 0.7 / step) * step
    high = math.ceil(price * 1.3 / step) * step
    count = round((high - low) / step)
    return [round(low + i * step, 2) for i in range(count + 1)]


def black_scholes(spot: float, strike: float, years: float, right: str, vol: float = 0.3) -> float:
    rate = 0.04
    years = max(years, 1 / 365)
    d1 = (math.log(spot / strike) + (rate + vol * vol / 2) * years) / (vol * math.sqrt(years))
    d2 = d1 - vol * math.sqrt(years)
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    discount = strike * math.exp(-rate * years)
    if right == "C":
        return spot * cdf(d1) - discount * cdf(d2)
    return discount * cdf(-d2) - spot * cdf(-d1)


def option(underlying: Instrument, expiry: date, strike: float, right: str) -> Instrument:
    symbol = underlying.symbol
    rule = 110 if underlying.details.stockType == "ETF" or _penny(underlying) else 32
    con_id = hashed_con_id(OPTION_CON_IDS, "OPT", symbol, expiry, strike, right)
    contract = Contract(
        conId=con_id,
        symbol=symbol,
        secType="OPT",
        lastTradeDateOrContractMonth=f"{expiry:%Y%m%d}",
        lastTradeDate=f"{expiry:%Y%m%d}",
        strike=strike,
        right=right,
        multiplier="100",
        exchange="SMART",
        currency=underlying.currency,
        localSymbol=occ_symbol(symbol, expiry, right, strike),
        tradingClass=symbol,
    )
    details = ContractDetails(
        contract=contract,
        marketName=symbol,
        minTick=0.01,
        orderTypes=OPTION_ORDER_TYPES,
        validExchanges=OPTION_EXCHANGES,
        priceMagnifier=1,
        underConId=underlying.con_id,
        longName=underlying.details.longName,
        contractMonth=f"{expiry:%Y%m}",
        industry=underlying.details.industry,
        category=underlying.details.category,
        subcategory=underlying.details.subcategory,
        timeZoneId=sched.US_OPTIONS.time_zone,
        aggGroup=2,
        underSymbol=symbol,
        underSecType=underlying.sec_type,
        marketRuleIds=rule_ids(rule, OPTION_EXCHANGES),
        realExpirationDate=f"{expiry:%Y%m%d}",
        lastTradeTime="16:00:00",
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(1),
    )
    years = max((expiry - REFERENCE_DATE).days, 7) / 365
    level = max(0.05, black_scholes(underlying.profile.price, strike, years, right))
    tick = increment_at(rule, level)
    level = max(tick, round(level / tick) * tick)
    profile = MarketProfile(
        price=level,
        volatility=0.05,
        spread_ticks=2 if tick >= 0.05 else 3,
        trades_per_minute=4,
        trade_size=5,
        size_unit=Decimal(1),
        quote_lot=1,
        quote_lots=60,
        venues=("CBOE", "ISE", "PHLX", "AMEX", "BOX", "MIAX"),
    )
    return Instrument(
        details=details,
        schedule=sched.US_OPTIONS,
        profile=profile,
        path_tick=tick,
        listed=expiry - timedelta(days=400),
        value_multiplier=100.0,
        init_margin=1.0,  # long options are paid in full
        maint_margin=1.0,
    )


def _penny(underlying: Instrument) -> bool:
    return any(s.symbol == underlying.symbol and s.penny_options for s in CURATED_STOCKS)


def option_chain(underlying: Instrument, as_of: date) -> list[Instrument]:
    out = []
    for expiry in option_expirations(as_of):
        for strike in option_strikes(underlying.profile.price):
            for right in ("C", "P"):
                out.append(option(underlying, expiry, strike, right))
    return out


# --- futures -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FutureRoot:
    symbol: str
    exchange: str
    multiplier: int
    rule: int
    months: str  # contract months, as month numbers "3,6,9,12"
    long_name: str
    price: float
    volatility: float
    schedule: sched.SessionRule
    under_con_id: int
    fee: float  # commission + exchange fees per contract
    listed_count: int
    margin: float  # initial margin as a fraction of notional
    last_trade_time: str
    path_family: str = ""  # roots sharing one price path (ES and MES)
    expiry_rule: str = "third_friday"

    @property
    def month_numbers(self) -> list[int]:
        return [int(m) for m in self.months.split(",")]


FUTURE_ROOTS: dict[str, FutureRoot] = {
    r.symbol: r
    for r in (
        FutureRoot(
            "ES", "CME", 50, 67, "3,6,9,12", "E-mini S&P 500", 7000.0, 0.011,
            sched.CME_EQUITY, 11004968, 2.25, 5, 0.06, "08:30:00", "ES",
        ),
        FutureRoot(
            "MES", "CME", 5, 67, "3,6,9,12", "Micro E-Mini S&P 500 Stock Price Index",
            7000.0, 0.011, sched.CME_EQUITY, 11004968, 0.62, 5, 0.06, "08:30:00", "ES",
        ),
        FutureRoot(
            "NQ", "CME", 20, 67, "3,6,9,12", "E-mini NASDAQ 100", 25000.0, 0.014,
            sched.CME_EQUITY, 11004958, 2.25, 5, 0.07, "08:30:00", "NQ",
        ),
        FutureRoot(
            "CL", "NYMEX", 1000, 85, ",".join(str(m) for m in range(1, 13)),
            "Light Sweet Crude Oil", 65.0, 0.022, sched.NYMEX_ENERGY, 17340715, 2.27, 12,
            0.10, "14:30:00", "CL", expiry_rule="crude",
        ),
    )
}  # fmt: skip


def future_last_trade(root: FutureRoot, year: int, month: int) -> date:
    if root.expiry_rule == "crude":
        # three business days before the 25th of the month before the contract month
        y, m = (year - 1, 12) if month == 1 else (year, month - 1)
        day = sched.previous_business_day(date(y, m, 25))
        for _ in range(3):
            day = sched.previous_business_day(day - timedelta(days=1))
        return day
    return sched.previous_business_day(third_friday(year, month))


def future_months(root: FutureRoot, as_of: date, include_expired: bool) -> list[tuple[int, int]]:
    """Listed (year, month)s: the next `listed_count`, plus a year of expired ones."""
    live: list[tuple[int, int]] = []
    expired: list[tuple[int, int]] = []
    year = as_of.year - 1
    while len(live) < root.listed_count:
        for month in root.month_numbers:
            last = future_last_trade(root, year, month)
            if last >= as_of:
                if len(live) < root.listed_count:
                    live.append((year, month))
            elif (as_of - last).days <= 366:
                expired.append((year, month))
        year += 1
    return (expired if include_expired else []) + live


def future(root: FutureRoot, year: int, month: int) -> Instrument:
    last = future_last_trade(root, year, month)
    con_id = hashed_con_id(FUTURE_CON_IDS, "FUT", root.symbol, year, month)
    exchanges = f"{root.exchange},QBALGO"
    contract = Contract(
        conId=con_id,
        symbol=root.symbol,
        secType="FUT",
        lastTradeDateOrContractMonth=f"{last:%Y%m%d}",
        lastTradeDate=f"{last:%Y%m%d}",
        multiplier=str(root.multiplier),
        exchange=root.exchange,
        currency="USD",
        localSymbol=future_local_symbol(root.symbol, year, month),
        tradingClass=root.symbol,
    )
    tick = increment_at(root.rule, root.price)
    details = ContractDetails(
        contract=contract,
        marketName=root.symbol,
        minTick=tick,
        orderTypes=FUTURE_ORDER_TYPES,
        validExchanges=exchanges,
        priceMagnifier=1,
        underConId=root.under_con_id,
        longName=root.long_name,
        contractMonth=f"{year}{month:02d}",
        timeZoneId=root.schedule.time_zone,
        aggGroup=2,
        underSymbol=root.symbol,
        underSecType="IND",
        marketRuleIds=rule_ids(root.rule, exchanges),
        realExpirationDate=f"{last:%Y%m%d}",
        lastTradeTime=root.last_trade_time,
        minSize=Decimal(1),
        sizeIncrement=Decimal(1),
        suggestedSizeIncrement=Decimal(1),
    )
    months_out = (year - REFERENCE_DATE.year) * 12 + month - REFERENCE_DATE.month
    level = round(root.price * (1 + 0.003 * months_out) / tick) * tick
    family = root.path_family or root.symbol
    profile = MarketProfile(
        price=level,
        volatility=root.volatility,
        spread_ticks=1,
        trades_per_minute=30,
        trade_size=max(1, 60 // root.multiplier),
        size_unit=Decimal(1),
        quote_lot=1,
        quote_lots=60,
        venues=(root.exchange,),
    )
    return Instrument(
        details=details,
        schedule=root.schedule,
        profile=profile,
        path_tick=tick,
        listed=last - timedelta(days=450),
        accounting=Accounting.MARGIN,
        value_multiplier=float(root.multiplier),
        fee_per_contract=root.fee,
        init_margin=root.margin,
        maint_margin=root.margin * 0.8,
        path_key=stable_key("future-path", family, year, month) % (1 << 40) + (1 << 40),
    )
