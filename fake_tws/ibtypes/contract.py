"""Contract and its parts, as the TWS API defines them."""

from __future__ import annotations

import msgspec


class TagValue(msgspec.Struct, frozen=True):
    tag: str
    value: str


class ComboLeg(msgspec.Struct, frozen=True, kw_only=True):
    conId: int = 0
    ratio: int = 0
    action: str = ""  # BUY / SELL / SSHORT
    exchange: str = ""
    openClose: int = 0  # 0 same as combo, 1 open, 2 close, 3 unknown
    shortSaleSlot: int = 0
    designatedLocation: str = ""
    exemptCode: int = -1


class DeltaNeutralContract(msgspec.Struct, frozen=True, kw_only=True):
    conId: int = 0
    delta: float = 0.0
    price: float = 0.0


class Contract(msgspec.Struct, frozen=True, kw_only=True):
    conId: int = 0
    symbol: str = ""
    secType: str = ""
    lastTradeDateOrContractMonth: str = ""
    lastTradeDate: str = ""
    strike: float = 0.0
    right: str = ""
    multiplier: str = ""
    exchange: str = ""
    primaryExchange: str = ""
    currency: str = ""
    localSymbol: str = ""
    tradingClass: str = ""
    includeExpired: bool = False
    secIdType: str = ""  # CUSIP, SEDOL, ISIN, RIC
    secId: str = ""
    description: str = ""
    issuerId: str = ""
    comboLegsDescrip: str = ""
    comboLegs: tuple[ComboLeg, ...] = ()
    deltaNeutralContract: DeltaNeutralContract | None = None
