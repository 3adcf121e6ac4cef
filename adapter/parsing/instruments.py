"""NautilusTrader instruments from IB contract details.

=========  ==============================================================
secType    instrument
=========  ==============================================================
STK        Equity (ISIN from ``secIdList`` when IB sends one)
IND        IndexInstrument
FUT        FuturesContract (CONTFUT too: the front month, named by root)
OPT, FOP   OptionContract
CASH       CurrencyPair
CRYPTO     CryptoPerpetual, inverse (as NautilusTrader's adapter has it)
CFD        Cfd (with a base currency for forex CFDs)
CMDTY      Commodity
BAG        OptionSpread
=========  ==============================================================

NautilusTrader 1.221.0 has no bond, warrant or fund instrument, so BOND, WAR, IOPT and
FUND contracts raise ``ValueError``, which the provider reports and skips.

Increments: the price increment is ``minTick`` and the price precision its decimal
places. Sizes step by ``sizeIncrement`` (else ``minSize``, else 1) at the finer precision
of the two; ibapi's ``UNSET_DECIMAL`` means "not sent". Equities, futures and options
trade whole contracts: NautilusTrader fixes their size increment at 1.
IB prices some contracts in finer steps at some price levels (market rules); those come
from ``reqMarketRule``, not from contract details, and NautilusTrader's tiered tick
scheme materialises every tick, so instruments carry ``minTick`` and no tick scheme.

Expiry of futures and options: see ``adapter.parsing.expiry``. IB publishes no listing
date, so activation is expiry minus 90 days, the convention of NautilusTrader's adapter.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from decimal import Decimal

import pandas as pd
from ibapi.const import UNSET_DECIMAL
from nautilus_trader.model.enums import AssetClass, OptionKind
from nautilus_trader.model.identifiers import InstrumentId, Symbol
from nautilus_trader.model.instruments import (
    Cfd,
    Commodity,
    CryptoPerpetual,
    CurrencyPair,
    Equity,
    FuturesContract,
    IndexInstrument,
    Instrument,
    OptionContract,
    OptionSpread,
)
from nautilus_trader.model.objects import Currency, Price, Quantity

from adapter.common import IBContractDetails
from adapter.config import SymbologyMethod
from adapter.parsing.contract_details import (
    contract_details_to_dict,
    contract_details_to_ib_contract_details,
)
from adapter.parsing.expiry import expiry_timestring_to_datetime, expiry_to_timestamp
from adapter.parsing.symbology import (
    ib_contract_to_instrument_id,
    instrument_id_to_ib_contract,
    is_currency_pair_local_symbol,
)
from adapter.parsing.venues import VENUE_MEMBERS

__all__ = [
    "VENUE_MEMBERS",
    "contract_details_to_dict",
    "contract_details_to_ib_contract_details",
    "expiry_timestring_to_datetime",
    "ib_contract_to_instrument_id",
    "instrument_id_to_ib_contract",
    "parse_instrument",
    "parse_spread_instrument_id",
    "sec_type_to_asset_class",
]

# Options and spreads are classed by their underlying's security type. Futures count as
# INDEX whatever they track: contract details do not say more.
_ASSET_CLASS_BY_SEC_TYPE = {
    "STK": AssetClass.EQUITY,
    "IND": AssetClass.INDEX,
    "CASH": AssetClass.FX,
    "BOND": AssetClass.DEBT,
    "CMDTY": AssetClass.COMMODITY,
    "FUT": AssetClass.INDEX,
}
_ACTIVE_BEFORE_EXPIRY = pd.Timedelta(days=90)
_EQUITY_ROUND_LOT = 100


def sec_type_to_asset_class(sec_type: str) -> AssetClass:
    return _ASSET_CLASS_BY_SEC_TYPE.get(sec_type, AssetClass.EQUITY)


def parse_instrument(
    contract_details: IBContractDetails,
    venue: str,
    symbology_method: SymbologyMethod = SymbologyMethod.IB_SIMPLIFIED,
    contract_details_map: Mapping[int, IBContractDetails] | None = None,
    *,
    ts_init: int | None = None,
) -> Instrument:
    """The instrument for ``contract_details`` at ``venue``.

    ``contract_details_map`` (details by conId) names the legs of BAG contracts;
    ``ts_init`` defaults to now.
    """
    sec_type = contract_details.contract.secType
    parser = _PARSERS.get(sec_type)
    if parser is None:
        raise ValueError(f"No NautilusTrader instrument for secType {sec_type!r}")
    instrument_id = ib_contract_to_instrument_id(
        contract_details.contract, venue, symbology_method, contract_details_map
    )
    return parser(contract_details, instrument_id, time.time_ns() if ts_init is None else ts_init)


def parse_spread_instrument_id(
    instrument_id: InstrumentId,
    leg_contract_details: list[tuple[IBContractDetails, int]],
    clock_timestamp_ns: int | None = None,
) -> OptionSpread:
    """An option spread built from its legs' details, for a spread id IB has not named.

    The first leg sets currency, underlying, multiplier and tick.
    """
    if not leg_contract_details:
        raise ValueError(f"No legs given for the spread {instrument_id}")
    first_details, _ratio = leg_contract_details[0]
    contract = first_details.contract
    multiplier = Quantity.from_str(contract.multiplier or "1")
    price_increment = _price_increment(first_details)
    ts = time.time_ns() if clock_timestamp_ns is None else clock_timestamp_ns
    return OptionSpread(
        instrument_id=instrument_id,
        raw_symbol=Symbol(instrument_id.symbol.value),
        asset_class=sec_type_to_asset_class(first_details.underSecType),
        currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        multiplier=multiplier,
        lot_size=multiplier,
        underlying=first_details.underSymbol or contract.symbol,
        strategy_type="SPREAD",
        activation_ns=0,  # legs may expire apart: a spread has no single expiry
        expiration_ns=0,
        ts_event=ts,
        ts_init=ts,
    )


# -- One parser per security type ---------------------------------------------------------------


def _equity(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> Equity:
    price_increment = _price_increment(details)
    return Equity(
        instrument_id=instrument_id,
        raw_symbol=Symbol(details.contract.localSymbol),
        currency=Currency.from_str(details.contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        lot_size=Quantity.from_int(_EQUITY_ROUND_LOT),
        isin=_isin(details),
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _index(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> IndexInstrument:
    price_increment = _price_increment(details)
    size_increment = _size_increment(details)
    return IndexInstrument(
        instrument_id=instrument_id,
        raw_symbol=Symbol(details.contract.localSymbol),
        currency=Currency.from_str(details.contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        size_precision=size_increment.precision,
        size_increment=size_increment,
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _future(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> FuturesContract:
    contract = details.contract
    price_increment = _price_increment(details)
    expiration = _expiration(details)
    return FuturesContract(
        instrument_id=instrument_id,
        # A continuous future stands for whichever month is front, so its root names it.
        raw_symbol=Symbol(
            contract.symbol if contract.secType == "CONTFUT" else contract.localSymbol
        ),
        asset_class=sec_type_to_asset_class(details.underSecType),
        currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        multiplier=_multiplier(details),
        lot_size=Quantity.from_int(1),
        underlying=details.underSymbol,
        activation_ns=(expiration - _ACTIVE_BEFORE_EXPIRY).value,
        expiration_ns=expiration.value,
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _option(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> OptionContract:
    contract = details.contract
    price_increment = _price_increment(details)
    expiration = _expiration(details)
    multiplier = _multiplier(details)
    # Adjusted options can have strikes finer than the tick; keep every digit.
    strike_precision = max(price_increment.precision, decimal_places(contract.strike))
    return OptionContract(
        instrument_id=instrument_id,
        raw_symbol=Symbol(contract.localSymbol),
        asset_class=sec_type_to_asset_class(details.underSecType),
        currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        multiplier=multiplier,
        lot_size=multiplier,  # NautilusTrader's adapter's convention for options
        underlying=details.underSymbol,
        option_kind=_option_kind(contract.right),
        strike_price=Price(contract.strike, strike_precision),
        activation_ns=(expiration - _ACTIVE_BEFORE_EXPIRY).value,
        expiration_ns=expiration.value,
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _currency_pair(
    details: IBContractDetails, instrument_id: InstrumentId, ts: int
) -> CurrencyPair:
    contract = details.contract
    price_increment = _price_increment(details)
    size_increment = _size_increment(details)
    return CurrencyPair(
        instrument_id=instrument_id,
        raw_symbol=Symbol(contract.localSymbol),
        base_currency=Currency.from_str(contract.symbol),
        quote_currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        size_precision=size_increment.precision,
        price_increment=price_increment,
        size_increment=size_increment,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _crypto(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> CryptoPerpetual:
    contract = details.contract
    price_increment = _price_increment(details)
    size_increment = _size_increment(details)
    min_size = _decimal_if_sent(details.minSize)
    return CryptoPerpetual(
        instrument_id=instrument_id,
        raw_symbol=Symbol(contract.localSymbol),
        base_currency=Currency.from_str(contract.symbol),
        quote_currency=Currency.from_str(contract.currency),
        settlement_currency=Currency.from_str(contract.currency),
        # Economically linear, but NautilusTrader's adapter marks IB crypto inverse and its
        # execution client then sends the order quantity as cashQty (an amount of the quote
        # currency). Kept so a strategy's quantities mean the same after switching; see
        # SURFACE.md before changing it together with the execution client.
        is_inverse=True,
        price_precision=price_increment.precision,
        size_precision=size_increment.precision,
        price_increment=price_increment,
        size_increment=size_increment,
        min_quantity=Quantity(min_size, size_increment.precision) if min_size else None,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _cfd(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> Cfd:
    contract = details.contract
    price_increment = _price_increment(details)
    size_increment = _size_increment(details)
    # Forex CFDs carry a pair as local symbol (EUR.USD); the rest have only a quote currency.
    is_forex = is_currency_pair_local_symbol(contract.localSymbol)
    return Cfd(
        instrument_id=instrument_id,
        raw_symbol=Symbol(contract.localSymbol),
        asset_class=sec_type_to_asset_class(details.underSecType),
        base_currency=Currency.from_str(contract.symbol) if is_forex else None,
        quote_currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        size_precision=size_increment.precision,
        price_increment=price_increment,
        size_increment=size_increment,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _commodity(details: IBContractDetails, instrument_id: InstrumentId, ts: int) -> Commodity:
    price_increment = _price_increment(details)
    size_increment = _size_increment(details)
    return Commodity(
        instrument_id=instrument_id,
        raw_symbol=Symbol(details.contract.localSymbol),
        asset_class=AssetClass.COMMODITY,
        quote_currency=Currency.from_str(details.contract.currency),
        price_precision=price_increment.precision,
        size_precision=size_increment.precision,
        price_increment=price_increment,
        size_increment=size_increment,
        margin_init=Decimal(0),
        margin_maint=Decimal(0),
        maker_fee=Decimal(0),
        taker_fee=Decimal(0),
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


def _option_spread(
    details: IBContractDetails, instrument_id: InstrumentId, ts: int
) -> OptionSpread:
    contract = details.contract
    price_increment = _price_increment(details)
    multiplier = Quantity.from_str(contract.multiplier or "100")  # IB leaves BAGs' blank
    return OptionSpread(
        instrument_id=instrument_id,
        raw_symbol=Symbol(contract.localSymbol or contract.symbol),
        asset_class=sec_type_to_asset_class(details.underSecType),
        currency=Currency.from_str(contract.currency),
        price_precision=price_increment.precision,
        price_increment=price_increment,
        multiplier=multiplier,
        lot_size=multiplier,
        underlying=details.underSymbol or contract.symbol,
        strategy_type="SPREAD",
        activation_ns=0,
        expiration_ns=0,
        ts_event=ts,
        ts_init=ts,
        info=contract_details_to_dict(details),
    )


_PARSERS: dict[str, Callable[[IBContractDetails, InstrumentId, int], Instrument]] = {
    "STK": _equity,
    "IND": _index,
    "FUT": _future,
    "CONTFUT": _future,
    "OPT": _option,
    "FOP": _option,
    "CASH": _currency_pair,
    "CRYPTO": _crypto,
    "CFD": _cfd,
    "CMDTY": _commodity,
    "BAG": _option_spread,
}


# -- Shared pieces ----------------------------------------------------------------------------


def decimal_places(value: float | Decimal) -> int:
    """Digits after the point in the shortest form of ``value``: 0.25 -> 2, 5e-05 -> 5."""
    exponent = Decimal(str(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _price_increment(details: IBContractDetails) -> Price:
    if not details.minTick or details.minTick <= 0:
        raise ValueError(f"No minTick in the details of {details.contract!r}")
    return Price(details.minTick, decimal_places(details.minTick))


def _decimal_if_sent(value: Decimal | float | None) -> Decimal | None:
    if value is None or value == UNSET_DECIMAL:
        return None
    value = Decimal(str(value))
    return value if value > 0 else None


def _size_increment(details: IBContractDetails) -> Quantity:
    increment = _decimal_if_sent(details.sizeIncrement)
    min_size = _decimal_if_sent(details.minSize)
    given = [value for value in (increment, min_size) if value is not None]
    precision = max((decimal_places(value) for value in given), default=0)
    return Quantity(increment or min_size or Decimal(1), precision)


def _multiplier(details: IBContractDetails) -> Quantity:
    return Quantity.from_str(details.contract.multiplier or "1")


def _expiration(details: IBContractDetails) -> pd.Timestamp:
    last_trade_date = details.contract.lastTradeDateOrContractMonth
    # A contract month (YYYYMM) is a query's form; real details carry the day elsewhere too.
    if len(last_trade_date) == 6 and len(details.realExpirationDate) == 8:
        last_trade_date = details.realExpirationDate
    return expiry_to_timestamp(last_trade_date, details.lastTradeTime, details.timeZoneId)


def _option_kind(right: str) -> OptionKind:
    kinds = {
        "C": OptionKind.CALL,
        "CALL": OptionKind.CALL,
        "P": OptionKind.PUT,
        "PUT": OptionKind.PUT,
    }
    if right not in kinds:
        raise ValueError(f"Option right must be C or P, was {right!r}")
    return kinds[right]


def _isin(details: IBContractDetails) -> str | None:
    for tag_value in details.secIdList or ():
        if tag_value.tag == "ISIN" and tag_value.value:
            return tag_value.value
    return None
