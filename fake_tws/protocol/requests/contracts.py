"""Requests that look contracts up: details, symbol search, option chains."""

from __future__ import annotations

from typing import Self

from ...ibtypes import Contract
from .. import versions as V
from ..contract_fields import (
    CONTRACT_DETAILS_CONTRACT,
    CONTRACT_DETAILS_CONTRACT_ISSUER,
    read_contract,
)
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
        if version >= V.BOND_ISSUERID:
            contract = read_contract(r, CONTRACT_DETAILS_CONTRACT_ISSUER)
        else:
            contract = read_contract(r, CONTRACT_DETAILS_CONTRACT)
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
