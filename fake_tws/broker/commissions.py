"""IB-like fixed-rate commissions, charged per order and reported per execution.

An order's commission is a function of its cumulative filled quantity and value; each
execution is charged the increase, so a minimum is paid once (on the first fill) and
partial fills add up to exactly what one fill of the same size would cost.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .instruments import Instrument

CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CommissionSchedule:
    per_unit: Decimal = Decimal(0)  # per share or contract
    rate: Decimal = Decimal(0)  # fraction of traded value
    minimum: Decimal = Decimal(0)  # per order
    maximum_rate: Decimal | None = None  # cap, as a fraction of traded value
    currency: str = "USD"

    def total(self, quantity: Decimal, value: Decimal) -> Decimal:
        """Commission for an order that has filled `quantity` for `value` so far."""
        if quantity == 0:
            return Decimal(0)
        fee = self.per_unit * quantity + self.rate * abs(value)
        fee = max(fee, self.minimum)
        if self.maximum_rate is not None:
            fee = min(fee, self.maximum_rate * abs(value))
        return fee.quantize(CENT, rounding=ROUND_HALF_UP)


def schedule_for(instrument: Instrument) -> CommissionSchedule:
    currency = instrument.currency
    match instrument.sec_type:
        case "STK":
            return CommissionSchedule(
                per_unit=Decimal("0.005"),
                minimum=Decimal("1.00"),
                maximum_rate=Decimal("0.01"),
                currency=currency,
            )
        case "OPT" | "FOP":
            return CommissionSchedule(
                per_unit=Decimal("0.65"), minimum=Decimal("1.00"), currency=currency
            )
        case "FUT":
            return CommissionSchedule(
                per_unit=Decimal(repr(instrument.fee_per_contract)), currency=currency
            )
        case "CASH":
            return CommissionSchedule(
                rate=Decimal("0.00002"), minimum=Decimal("2.00"), currency=currency
            )
        case "CRYPTO":
            return CommissionSchedule(
                rate=Decimal("0.0018"), minimum=Decimal("1.75"), currency=currency
            )
        case "BOND":  # 0.1% of a 1,000 face value per bond
            return CommissionSchedule(
                per_unit=Decimal("1.00"), minimum=Decimal("1.00"), currency=currency
            )
        case _:  # CFDs and anything else: a small share of value
            return CommissionSchedule(
                rate=Decimal("0.00005"), minimum=Decimal("1.00"), currency=currency
            )
