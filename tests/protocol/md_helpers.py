"""Test data shared by the market data and historical cross-checks.

`OUR_CONTRACT` has a non-default value in every field market data requests send, and
`OUR_LEGS` in every field of the combo legs they send: what we decode. `ib_contract` /
`ib_legs` (ibapi) and `ib_async_contract` / `ib_async_legs` (ib_async) are what a client
is given: the same values, plus includeExpired (only historical requests send it) and, for
ibapi's legs, an openClose (which no market data request sends).
"""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from fake_tws.ibtypes.contract import ComboLeg, Contract
from tests.protocol.object_compare import to_ib_async, to_ibapi

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
OUR_LEGS = (
    ComboLeg(conId=11, ratio=1, action="BUY", exchange="CBOE"),
    ComboLeg(conId=12, ratio=2, action="SELL", exchange="ISE"),
)
_GIVEN_CONTRACT = replace(OUR_CONTRACT, includeExpired=True)


def _changed(theirs: Any, changes: dict[str, Any]) -> Any:
    for key, value in changes.items():
        setattr(theirs, key, value)
    return theirs


def ib_contract(**changes: Any) -> Any:
    return _changed(to_ibapi(_GIVEN_CONTRACT), changes)


def ib_legs() -> list[Any]:
    return to_ibapi(tuple(replace(leg, openClose=2) for leg in OUR_LEGS))


def ib_async_contract(**changes: Any) -> Any:
    return _changed(to_ib_async(_GIVEN_CONTRACT), changes)


def ib_async_legs() -> list[Any]:
    return to_ib_async(OUR_LEGS)
