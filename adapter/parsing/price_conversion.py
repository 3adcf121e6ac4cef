"""IB's price magnifier: prices of some contracts travel scaled.

``ContractDetails.priceMagnifier`` says by how much IB scales a contract's prices (for
example some LIFFE contracts quote in pence with a magnifier of 100): every price from
IB is divided by it, every price to IB multiplied. Same functions and semantics as
``nautilus_trader.adapters.interactive_brokers.parsing.price_conversion``.
"""

from __future__ import annotations

from typing import Any

from nautilus_trader.model.identifiers import InstrumentId


def ib_price_to_nautilus_price(ib_price: float, price_magnifier: int) -> float:
    """A price from IB in the instrument's own terms."""
    if price_magnifier <= 1:
        return ib_price
    return ib_price / price_magnifier


def nautilus_price_to_ib_price(nautilus_price: float, price_magnifier: int) -> float:
    """A price for IB: the instrument's price scaled by the magnifier."""
    if price_magnifier <= 1:
        return nautilus_price
    return nautilus_price * price_magnifier


def get_price_magnifier_for_instrument(
    instrument_id: InstrumentId,
    instrument_provider: Any,
) -> int:
    """The instrument's magnifier as its provider knows it (1 without a provider)."""
    if instrument_provider is None:
        return 1
    try:
        return int(instrument_provider.get_price_magnifier(instrument_id)) or 1
    except (AttributeError, KeyError, TypeError, ValueError):
        return 1
