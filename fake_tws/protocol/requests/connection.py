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
