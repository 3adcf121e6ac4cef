"""Requests that look contracts up: details, symbol search, option chains."""

from __future__ import annotations

from typing import Self

from ...ibtypes import Contract
from .. import versions as V
from ..fields import FieldReader
from ..messages import Request


class ReqContractDetails(Request, frozen=True, kw_only=True):
    """The contract is a query: every field left empty matches anything."""

    reqId: int
    contract: Contract

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        # Every server version we speak is past CONTRACT_DATA_CHAIN, PRIMARYEXCH,
        # TRADING_CLASS and SEC_ID_TYPE, so only issuerId is gated.
        r.skip("version")
        req_id = r.int("reqId")
        contract = Contract(
            conId=r.int("conId"),
            symbol=r.str("symbol"),
            secType=r.str("secType"),
            lastTradeDateOrContractMonth=r.str("lastTradeDateOrContractMonth"),
            strike=r.float("strike"),
            right=r.str("right"),
            multiplier=r.str("multiplier"),
            exchange=r.str("exchange"),
            primaryExchange=r.str("primaryExchange"),
            currency=r.str("currency"),
            localSymbol=r.str("localSymbol"),
            tradingClass=r.str("tradingClass"),
            includeExpired=r.bool("includeExpired"),
            secIdType=r.str("secIdType"),
            secId=r.str("secId"),
            issuerId=r.str("issuerId") if version >= V.BOND_ISSUERID else "",
        )
        return cls(reqId=req_id, contract=contract)


class ReqMatchingSymbols(Request, frozen=True, kw_only=True):
    reqId: int
    pattern: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"), pattern=r.str("pattern"))


class ReqSecDefOptParams(Request, frozen=True, kw_only=True):
    reqId: int
    underlyingSymbol: str
    futFopExchange: str = ""  # "" for every exchange
    underlyingSecType: str = ""
    underlyingConId: int = 0

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(
            reqId=r.int("reqId"),
            underlyingSymbol=r.str("underlyingSymbol"),
            futFopExchange=r.str("futFopExchange"),
            underlyingSecType=r.str("underlyingSecType"),
            underlyingConId=r.int("underlyingConId"),
        )
