"""Test helpers for the market data and historical cross-checks.

- `assert_same`: an ibapi object against one of our structs, field by field (None on
  our side must be ibapi's UNSET_* on theirs).
- `ib_async_decode`: the wrapper calls ib_async's Decoder makes from our encoding. Its
  decoder logs (and swallows) exceptions, so a layout it cannot read shows up as a
  missing call.
- `ib_async_request`: our decoding of what ib_async's Client sends for a request (its
  encoder is separate from ibapi's and differs in places, e.g. it sends option lists).
- `ib_contract` / `OUR_CONTRACT`: one contract with a non-default value in every field
  market data requests send.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC
from typing import Any

import msgspec
from ib_async.client import Client as IbAsyncClient
from ib_async.contract import ComboLeg as IbAsyncComboLeg
from ib_async.contract import Contract as IbAsyncContract
from ib_async.decoder import Decoder as IbAsyncDecoder
from ibapi.const import UNSET_DECIMAL, UNSET_DOUBLE, UNSET_INTEGER
from ibapi.contract import ComboLeg as IbComboLeg
from ibapi.contract import Contract as IbContract

from fake_tws.ibtypes.contract import Contract
from fake_tws.protocol.codec import decode_request, response_fields
from fake_tws.protocol.messages import Request, Response

_UNSET = (UNSET_INTEGER, UNSET_DOUBLE, UNSET_DECIMAL)


def assert_same(theirs: Any, ours: msgspec.Struct, *, renames: dict[str, str] | None = None):
    """Each field of `ours` equals the same-named attribute of ibapi's object `theirs`."""
    renames = renames or {}
    for name in ours.__struct_fields__:
        mine = getattr(ours, name)
        other = getattr(theirs, renames.get(name, name))
        where = f"{type(ours).__name__}.{name}"
        if isinstance(mine, msgspec.Struct):
            assert_same(other, mine)
        elif isinstance(mine, tuple):
            assert len(other) == len(mine), where
            for a, b in zip(other, mine, strict=True):
                if isinstance(b, msgspec.Struct):
                    assert_same(a, b)
                else:
                    assert a == b, where
        elif mine is None:
            assert other is None or other in _UNSET, f"{where}: {other!r} is not unset"
        else:
            assert other == mine, f"{where}: ibapi has {other!r}, we have {mine!r}"


class _IbAsyncRecorder:
    defaultTimezone = UTC

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str):
        def record(*args: Any) -> None:
            self.calls.append((name, args))

        return record


def ib_async_decode(message: Response, version: int) -> list[tuple[str, tuple[Any, ...]]]:
    fields = response_fields(message, version)
    recorder = _IbAsyncRecorder()
    logging.getLogger("ib_async.Decoder").disabled = True  # it logs what it swallows
    IbAsyncDecoder(recorder, version).interpret(list(fields))
    return recorder.calls


def ib_async_request(version: int, call: Callable[[IbAsyncClient], None]) -> Request:
    client = IbAsyncClient.__new__(IbAsyncClient)  # no event loop, no socket
    sent: list[str] = []
    client.sendMsg = sent.append
    client.isConnected = lambda: True
    client._serverVersion = version
    call(client)
    (payload,) = sent
    return decode_request(payload.encode(), version)


def ib_async_contract(**changes: Any) -> IbAsyncContract:
    """The same contract as `ib_contract`, as ib_async spells it."""
    c = IbAsyncContract(**{k: getattr(ib_contract(), k) for k in _CONTRACT_FIELDS})
    for key, value in changes.items():
        setattr(c, key, value)
    return c


def ib_async_legs() -> list[IbAsyncComboLeg]:
    return [
        IbAsyncComboLeg(conId=leg.conId, ratio=leg.ratio, action=leg.action, exchange=leg.exchange)
        for leg in ib_legs()
    ]


def ib_contract(**changes: Any) -> IbContract:
    c = IbContract()
    c.conId = 416904
    c.symbol = "ES"
    c.secType = "FOP"
    c.lastTradeDateOrContractMonth = "20260320"
    c.strike = 5125.5
    c.right = "C"
    c.multiplier = "50"
    c.exchange = "CME"
    c.primaryExchange = "GLOBEX"
    c.currency = "USD"
    c.localSymbol = "ESH6 C5125"
    c.tradingClass = "ES"
    c.includeExpired = True
    for key, value in changes.items():
        setattr(c, key, value)
    return c


_CONTRACT_FIELDS = [
    "conId",
    "symbol",
    "secType",
    "lastTradeDateOrContractMonth",
    "strike",
    "right",
    "multiplier",
    "exchange",
    "primaryExchange",
    "currency",
    "localSymbol",
    "tradingClass",
    "includeExpired",
]

OUR_CONTRACT = Contract(
    conId=416904,
    symbol="ES",
    secType="FOP",
    lastTradeDateOrContractMonth="20260320",
    strike=5125.5,
    right="C",
    multiplier="50",
    exchange="CME",
    primaryExchange="GLOBEX",
    currency="USD",
    localSymbol="ESH6 C5125",
    tradingClass="ES",
)


def ib_legs() -> list[IbComboLeg]:
    legs = []
    for con_id, ratio, action, exchange in ((11, 1, "BUY", "CBOE"), (12, 2, "SELL", "ISE")):
        leg = IbComboLeg()
        leg.conId, leg.ratio, leg.action, leg.exchange = con_id, ratio, action, exchange
        leg.openClose = 2  # not sent by market data requests
        legs.append(leg)
    return legs
