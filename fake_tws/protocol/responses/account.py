"""Responses about accounts: values, portfolio, positions, summaries, PnL, FA config.

Account values travel as text (IB sends numbers, dates and flags alike as strings).
Unset PnL figures go out as Java's Double.MAX_VALUE, as TWS sends them.
"""

from __future__ import annotations

from decimal import Decimal

from ...ibtypes import Contract
from .. import versions as V
from ..contract_fields import PORTFOLIO_CONTRACT, REPORTED_CONTRACT, write_contract
from ..fields import FieldWriter
from ..messages import Response

UNSET_DOUBLE = 1.7976931348623157e308

_PORTFOLIO_VERSION = 8  # from 7 multiplier and primaryExchange, from 8 tradingClass
_POSITION_VERSION = 3  # from 2 tradingClass, from 3 avgCost


def _pnl(w: FieldWriter, value: float | None) -> None:
    w.float(UNSET_DOUBLE if value is None else value)


def _write_daily_unrealized_realized(w: FieldWriter, m: PnL | PnLSingle, version: int) -> None:
    _pnl(w, m.dailyPnL)
    if version >= V.UNREALIZED_PNL:
        _pnl(w, m.unrealizedPnL)
    if version >= V.REALIZED_PNL:
        _pnl(w, m.realizedPnL)


class UpdateAccountValue(Response, frozen=True, kw_only=True):
    key: str
    val: str
    currency: str = ""
    accountName: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(2).str(self.key).str(self.val).str(self.currency).str(self.accountName)


class UpdatePortfolio(Response, frozen=True, kw_only=True):
    """The contract carries PORTFOLIO_CONTRACT's fields (primaryExchange, no exchange)."""

    contract: Contract
    position: Decimal
    marketPrice: float
    marketValue: float
    averageCost: float
    unrealizedPNL: float
    realizedPNL: float
    accountName: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(_PORTFOLIO_VERSION)
        write_contract(w, self.contract, PORTFOLIO_CONTRACT)
        w.decimal(self.position).float(self.marketPrice).float(self.marketValue)
        w.float(self.averageCost).float(self.unrealizedPNL).float(self.realizedPNL)
        w.str(self.accountName)


class UpdateAccountTime(Response, frozen=True, kw_only=True):
    timeStamp: str  # "HH:MM"

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.timeStamp)


class AccountDownloadEnd(Response, frozen=True, kw_only=True):
    accountName: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).str(self.accountName)


class Position(Response, frozen=True, kw_only=True):
    """The contract carries REPORTED_CONTRACT's fields (exchange, no primaryExchange)."""

    account: str
    contract: Contract
    position: Decimal
    avgCost: float

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(_POSITION_VERSION).str(self.account)
        write_contract(w, self.contract, REPORTED_CONTRACT)
        w.decimal(self.position).float(self.avgCost)


class PositionEnd(Response, frozen=True, kw_only=True):
    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1)


class AccountSummary(Response, frozen=True, kw_only=True):
    reqId: int
    account: str
    tag: str
    value: str
    currency: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.account).str(self.tag).str(self.value)
        w.str(self.currency)


class AccountSummaryEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class PositionMulti(Response, frozen=True, kw_only=True):
    """The contract carries the same fields as in `Position`."""

    reqId: int
    account: str
    modelCode: str
    contract: Contract
    pos: Decimal
    avgCost: float

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.account)
        write_contract(w, self.contract, REPORTED_CONTRACT)
        w.decimal(self.pos).float(self.avgCost).str(self.modelCode)


class PositionMultiEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class AccountUpdateMulti(Response, frozen=True, kw_only=True):
    reqId: int
    account: str
    modelCode: str
    key: str
    value: str
    currency: str = ""

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId).str(self.account).str(self.modelCode)
        w.str(self.key).str(self.value).str(self.currency)


class AccountUpdateMultiEnd(Response, frozen=True, kw_only=True):
    reqId: int

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.reqId)


class PnL(Response, frozen=True, kw_only=True):
    """unrealizedPnL is on the wire from UNREALIZED_PNL, realizedPnL from REALIZED_PNL."""

    api_name = "pnl"
    min_version = V.PNL

    reqId: int
    dailyPnL: float | None
    unrealizedPnL: float | None = None
    realizedPnL: float | None = None

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId)
        _write_daily_unrealized_realized(w, self, version)


class PnLSingle(Response, frozen=True, kw_only=True):
    api_name = "pnlSingle"
    min_version = V.PNL

    reqId: int
    pos: Decimal | None
    dailyPnL: float | None
    unrealizedPnL: float | None = None
    realizedPnL: float | None = None
    value: float | None = None

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).decimal(self.pos)
        _write_daily_unrealized_realized(w, self, version)
        _pnl(w, self.value)


class ReceiveFA(Response, frozen=True, kw_only=True):
    faData: int
    cxml: str

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(1).int(self.faData).str(self.cxml)


class ReplaceFAEnd(Response, frozen=True, kw_only=True):
    reqId: int
    text: str = ""

    min_version = V.REPLACE_FA_END

    def encode(self, w: FieldWriter, version: int) -> None:
        w.int(self.reqId).str(self.text)
