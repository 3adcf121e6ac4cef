"""Order conditions (the `conditions` list of an Order), one struct per condition type.

`conjunction` is True for "and" (wire "a"), False for "or" (wire "o").
Wire type codes: 1 price, 3 time, 4 margin, 5 execution, 6 volume, 7 percent change.
"""

from __future__ import annotations

import msgspec


class PriceCondition(msgspec.Struct, frozen=True, kw_only=True, tag=1, tag_field="condType"):
    conjunction: bool = True
    isMore: bool = True
    conId: int = 0
    exchange: str = ""
    price: float = 0.0
    triggerMethod: int = 0


class TimeCondition(msgspec.Struct, frozen=True, kw_only=True, tag=3, tag_field="condType"):
    conjunction: bool = True
    isMore: bool = True
    time: str = ""


class MarginCondition(msgspec.Struct, frozen=True, kw_only=True, tag=4, tag_field="condType"):
    conjunction: bool = True
    isMore: bool = True
    percent: int = 0


class ExecutionCondition(msgspec.Struct, frozen=True, kw_only=True, tag=5, tag_field="condType"):
    conjunction: bool = True
    secType: str = ""
    exchange: str = ""
    symbol: str = ""


class VolumeCondition(msgspec.Struct, frozen=True, kw_only=True, tag=6, tag_field="condType"):
    conjunction: bool = True
    isMore: bool = True
    conId: int = 0
    exchange: str = ""
    volume: int = 0


class PercentChangeCondition(
    msgspec.Struct, frozen=True, kw_only=True, tag=7, tag_field="condType"
):
    conjunction: bool = True
    isMore: bool = True
    conId: int = 0
    exchange: str = ""
    changePercent: float = 0.0


OrderCondition = (
    PriceCondition
    | TimeCondition
    | MarginCondition
    | ExecutionCondition
    | VolumeCondition
    | PercentChangeCondition
)
