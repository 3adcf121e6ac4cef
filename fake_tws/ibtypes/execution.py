"""Executions, their filter and commission reports."""

from __future__ import annotations

from decimal import Decimal

import msgspec


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    execId: str = ""
    time: str = ""
    acctNumber: str = ""
    exchange: str = ""
    side: str = ""
    shares: Decimal | None = None
    price: float = 0.0
    permId: int = 0
    clientId: int = 0
    orderId: int = 0
    liquidation: int = 0
    cumQty: Decimal | None = None
    avgPrice: float = 0.0
    orderRef: str = ""
    evRule: str = ""
    evMultiplier: float = 0.0
    modelCode: str = ""
    lastLiquidity: int = 0
    pendingPriceRevision: bool = False


class ExecutionFilter(msgspec.Struct, frozen=True, kw_only=True):
    clientId: int = 0
    acctCode: str = ""
    time: str = ""
    symbol: str = ""
    secType: str = ""
    exchange: str = ""
    side: str = ""


class CommissionReport(msgspec.Struct, frozen=True, kw_only=True):
    execId: str = ""
    commission: float = 0.0
    currency: str = ""
    # None (IB's max-double on the wire) when the fill realised nothing, as on an opening fill.
    realizedPNL: float | None = None
    yield_: float | None = None
    yieldRedemptionDate: int = 0
