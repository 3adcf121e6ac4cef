"""Base classes for typed messages.

A request knows how to read itself from a client's fields at a given server version; a
response knows how to write itself. Neither knows its numeric message id: that lives in
`table.py` alone. Field names follow the TWS API's own (camelCase) names so that
scenarios and assertions read like IB's documentation (`placeOrder`, `orderType`).
"""

from __future__ import annotations

from typing import ClassVar, Self

import msgspec

from .fields import FieldReader, FieldWriter


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class Message(msgspec.Struct, frozen=True, kw_only=True):
    # The API name: EClient method for requests, EWrapper callback for responses.
    api_name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "api_name" not in cls.__dict__:
            cls.api_name = _lower_first(cls.__name__)


class Request(Message, frozen=True, kw_only=True):
    """A message from a client. Subclasses implement `decode`."""

    @classmethod
    def decode(cls, r: FieldReader, version: int) -> Self:
        raise NotImplementedError(cls.__name__)


class Response(Message, frozen=True, kw_only=True):
    """A message to a client. Subclasses implement `encode` (fields after the id)."""

    # Lowest server version at which this message exists at all.
    min_version: ClassVar[int] = 0

    def encode(self, w: FieldWriter, version: int) -> None:
        raise NotImplementedError(type(self).__name__)
