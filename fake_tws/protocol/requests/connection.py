"""Requests that set up and look after a connection."""

from __future__ import annotations

from typing import Self

from .. import versions as V
from ..fields import FieldReader
from ..messages import Request


class StartApi(Request, frozen=True, kw_only=True):
    clientId: int
    optionalCapabilities: str = ""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        client_id = r.int("clientId")
        caps = r.str("optionalCapabilities") if version >= V.OPTIONAL_CAPABILITIES else ""
        return cls(clientId=client_id, optionalCapabilities=caps)


class ReqCurrentTime(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class ReqIds(Request, frozen=True, kw_only=True):
    numIds: int = 1

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(numIds=r.int("numIds"))


class ReqManagedAccts(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls()


class SetServerLogLevel(Request, frozen=True, kw_only=True):
    logLevel: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(logLevel=r.int("logLevel"))


class ReqMarketDataType(Request, frozen=True, kw_only=True):
    marketDataType: int  # 1 real-time, 2 frozen, 3 delayed, 4 delayed-frozen

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(marketDataType=r.int("marketDataType"))


class VerifyRequest(Request, frozen=True, kw_only=True):
    apiName: str
    apiVersion: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(apiName=r.str("apiName"), apiVersion=r.str("apiVersion"))


class VerifyMessage(Request, frozen=True, kw_only=True):
    apiData: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(apiData=r.str("apiData"))


class VerifyAndAuthRequest(Request, frozen=True, kw_only=True):
    apiName: str
    apiVersion: str
    opaqueIsvKey: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(
            apiName=r.str("apiName"),
            apiVersion=r.str("apiVersion"),
            opaqueIsvKey=r.str("opaqueIsvKey"),
        )


class VerifyAndAuthMessage(Request, frozen=True, kw_only=True):
    apiData: str
    xyzResponse: str

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(apiData=r.str("apiData"), xyzResponse=r.str("xyzResponse"))


class QueryDisplayGroups(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class SubscribeToGroupEvents(Request, frozen=True, kw_only=True):
    reqId: int
    groupId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"), groupId=r.int("groupId"))


class UpdateDisplayGroup(Request, frozen=True, kw_only=True):
    reqId: int
    contractInfo: str  # "none", "combo" or "conId@exchange"

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"), contractInfo=r.str("contractInfo"))


class UnsubscribeFromGroupEvents(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        r.skip("version")
        return cls(reqId=r.int("reqId"))


class ReqSoftDollarTiers(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))


class ReqFamilyCodes(Request, frozen=True, kw_only=True):
    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls()


class ReqUserInfo(Request, frozen=True, kw_only=True):
    reqId: int

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        return cls(reqId=r.int("reqId"))
