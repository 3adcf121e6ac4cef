"""An instrument: one contract's static description plus how its simulated market behaves.

`Instrument.details` is the ContractDetails the catalog answers with (minus the
tradingHours/liquidHours strings, which depend on "now"); `MarketProfile` tells the
price path its level, volatility, spread and tape activity. Also here: IB's market
rules (price increments by price level) and identifier helpers (CUSIP/ISIN check
digits, OCC option symbols, futures month codes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from fake_tws.ibtypes import Contract, ContractDetails, PriceIncrement

from .schedule import SessionRule


class Accounting(StrEnum):
    """How a fill moves money: paid in full, margined (only P&L moves cash), or currency."""

    CASH = "cash"
    MARGIN = "margin"
    FX = "fx"


@dataclass(frozen=True, slots=True)
class MarketProfile:
    price: float  # price level at the path's reference date
    volatility: float  # daily, in log terms
    spread_ticks: int  # ask - bid, in path ticks
    trades_per_minute: float  # prints per minute in regular hours (at least 4 always)
    trade_size: int  # average print size, in size units
    size_unit: Decimal  # granularity of tape and quote sizes (e.g. 0.0001 BTC)
    quote_lot: int  # displayed sizes are multiples of this many size units...
    quote_lots: int  # ...up to this many lots
    venues: tuple[str, ...]  # where prints and fills are reported


@dataclass(frozen=True, slots=True)
class Instrument:
    details: ContractDetails
    schedule: SessionRule
    profile: MarketProfile
    path_tick: float  # the price grid of the simulated tape (a multiple of minTick)
    listed: date  # first day with market data (head timestamp)
    accounting: Accounting = Accounting.CASH
    value_multiplier: float = 1.0  # currency per (price unit x quantity unit)
    fee_per_contract: float = 0.0  # futures: IB commission + exchange fees per contract
    init_margin: float = 0.30  # fraction of position value
    maint_margin: float = 0.25
    path_key: int = 0  # instruments sharing a path (ES and MES of one month); 0 = conId
    tradable: bool = True
    has_trades: bool = True  # False for forex: IB has no TRADES data there

    @property
    def contract(self) -> Contract:
        return self.details.contract

    @property
    def con_id(self) -> int:
        return self.details.contract.conId

    @property
    def sec_type(self) -> str:
        return self.details.contract.secType

    @property
    def symbol(self) -> str:
        return self.details.contract.symbol

    @property
    def currency(self) -> str:
        return self.details.contract.currency

    @property
    def key(self) -> int:
        return self.path_key or self.con_id

    @property
    def expiry(self) -> date | None:
        text = self.details.contract.lastTradeDateOrContractMonth
        if len(text) >= 8:
            return datetime.strptime(text[:8], "%Y%m%d").date()
        return None

    def expired(self, today: date) -> bool:
        expiry = self.expiry
        return expiry is not None and expiry < today

    @property
    def rule_id(self) -> int:
        first = self.details.marketRuleIds.split(",")[0]
        return int(first) if first else 0


# IB market rules: price increments from a price level upwards. Ids are our own.
MARKET_RULES: dict[int, tuple[PriceIncrement, ...]] = {
    26: (PriceIncrement(lowEdge=0.0, increment=0.01),),  # US stocks and ETFs
    32: (  # US options outside the penny program
        PriceIncrement(lowEdge=0.0, increment=0.01),
        PriceIncrement(lowEdge=3.0, increment=0.05),
    ),
    110: (PriceIncrement(lowEdge=0.0, increment=0.01),),  # penny-program options
    67: (PriceIncrement(lowEdge=0.0, increment=0.25),),  # CME equity index futures
    85: (PriceIncrement(lowEdge=0.0, increment=0.01),),  # NYMEX crude oil
    239: (PriceIncrement(lowEdge=0.0, increment=0.00005),),  # IDEALPRO majors
    240: (PriceIncrement(lowEdge=0.0, increment=0.005),),  # IDEALPRO yen crosses
    1561: (PriceIncrement(lowEdge=0.0, increment=0.25),),  # PAXOS BTC
    1562: (PriceIncrement(lowEdge=0.0, increment=0.01),),  # PAXOS ETH
    1563: (PriceIncrement(lowEdge=0.0, increment=1.0),),  # IB index CFDs
    1564: (PriceIncrement(lowEdge=0.0, increment=0.001),),  # US bonds (percent of par)
}


def increment_at(rule_id: int, price: float) -> float:
    """The price increment a market rule requires at `price`."""
    steps = MARKET_RULES[rule_id]
    chosen = steps[0].increment
    for step in steps:
        if abs(price) >= step.lowEdge:
            chosen = step.increment
    return chosen


def on_grid(price: float, increment: float) -> bool:
    """Whether `price` is a whole multiple of `increment` (within float noise); an
    infinite or NaN price never is."""
    steps = price / increment
    return math.isfinite(steps) and abs(steps - round(steps)) < 1e-6


def decimals_of(increment: float) -> int:
    exponent = Decimal(repr(increment)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


# --- identifiers -----------------------------------------------------------------------


def _luhn_digits(digits: list[int]) -> int:
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
        total += d // 10 + d % 10
    return (10 - total % 10) % 10


def _char_value(ch: str) -> int:
    if ch.isdigit():
        return int(ch)
    if ch.isalpha():
        return ord(ch.upper()) - ord("A") + 10
    return {"*": 36, "@": 37, "#": 38}[ch]


def cusip_with_check(base8: str) -> str:
    """Append the CUSIP check digit to an 8-character issuer+issue code."""
    total = 0
    for i, ch in enumerate(base8):
        v = _char_value(ch)
        if i % 2 == 1:
            v *= 2
        total += v // 10 + v % 10
    return base8 + str((10 - total % 10) % 10)


def isin_with_check(country: str, nsin: str) -> str:
    """Build an ISIN from a country code and a 9-character national id."""
    body = country + nsin
    digits = [int(c) for ch in body for c in str(_char_value(ch))]
    return body + str(_luhn_digits(digits))


def occ_symbol(root: str, expiry: date, right: str, strike: float) -> str:
    """OCC option symbol as IB shows it in localSymbol: 'AAPL  260417C00190000'."""
    return f"{root:<6}{expiry:%y%m%d}{right}{round(strike * 1000):08d}"


FUTURE_MONTH_CODES = "FGHJKMNQUVXZ"


def future_local_symbol(root: str, year: int, month: int) -> str:
    return f"{root}{FUTURE_MONTH_CODES[month - 1]}{year % 10}"


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)
