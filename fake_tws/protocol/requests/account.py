"""Requests about accounts: values, portfolio, positions, summaries, PnL, FA config."""

from __future__ import annotations

from typing import Self

from .. import versions as V
from ..fields import FieldReader
from ..messages import Request


class ReqAccountUpdates(Request, frozen=True, kw_only=True):
    subscribe: bool
    acctCode: str = ""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(subscribe=r.bool("subscribe"), acctCode=r.str("acctCode"))


class ReqAccountSummary(Request, frozen=True, kw_only=True):
    reqId: int
    groupName: str  # "All" or an FA group
    tags: str  # comma-separated, e.g. "NetLiquidation,$LEDGER:USD"

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"), groupName=r.str("groupName"), tags=r.str("tags"))


class _ReqIdOnly(Request, frozen=True, kw_only=True):
    """A versioned message whose only content is a request id."""

    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class _Unversioned(Request, frozen=True, kw_only=True):
    """A message with a request id and no message version."""

    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


class _VersionOnly(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class CancelAccountSummary(_ReqIdOnly, frozen=True, kw_only=True):
    pass


class ReqPositions(_VersionOnly, frozen=True, kw_only=True):
    pass


class CancelPositions(_VersionOnly, frozen=True, kw_only=True):
    pass


class ReqPositionsMulti(Request, frozen=True, kw_only=True):
    reqId: int
    account: str = ""
    modelCode: str = ""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"), account=r.str("account"), modelCode=r.str("modelCode"))


class CancelPositionsMulti(_ReqIdOnly, frozen=True, kw_only=True):
    pass


class ReqAccountUpdatesMulti(Request, frozen=True, kw_only=True):
    reqId: int
    account: str = ""
    modelCode: str = ""
    ledgerAndNLV: bool = False

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(
            reqId=r.int("reqId"),
            account=r.str("account"),
            modelCode=r.str("modelCode"),
            ledgerAndNLV=r.bool("ledgerAndNLV"),
        )


class CancelAccountUpdatesMulti(_ReqIdOnly, frozen=True, kw_only=True):
    pass


class ReqPnL(Request, frozen=True, kw_only=True):
    reqId: int
    account: str
    modelCode: str = ""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"), account=r.str("account"), modelCode=r.str("modelCode"))


class CancelPnL(_Unversioned, frozen=True, kw_only=True):
    pass


class ReqPnLSingle(Request, frozen=True, kw_only=True):
    reqId: int
    account: str
    modelCode: str = ""
    conid: int = 0

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(
            reqId=r.int("reqId"),
            account=r.str("account"),
            modelCode=r.str("modelCode"),
            conid=r.int("conid"),
        )


class CancelPnLSingle(_Unversioned, frozen=True, kw_only=True):
    pass


class RequestFA(Request, frozen=True, kw_only=True):
    faData: int  # 1 groups, 2 profiles (gone from FA_PROFILE_DESUPPORT), 3 aliases

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(faData=r.int("faData"))


class ReplaceFA(Request, frozen=True, kw_only=True):
    reqId: int  # on the wire only from REPLACE_FA_END; 0 before
    faData: int
    cxml: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        fa_data = r.int("faData")
        cxml = r.str("cxml")
        req_id = r.int("reqId") if version >= V.REPLACE_FA_END else 0
        return cls(reqId=req_id, faData=fa_data, cxml=cxml)
