"""Instrument ids for IB contracts, and IB contract queries for instrument ids.

The venue of an id comes from ``adapter.parsing.venues``; this module names the symbol.
``SymbologyMethod`` (``InteractiveBrokersInstrumentProviderConfig.symbology_method``)
chooses between two schemes, the same as NautilusTrader's adapter.

Simplified (the default): readable symbols.

=========  ===================================  =====================================
secType    IB contract                          instrument id
=========  ===================================  =====================================
STK        localSymbol "BRK B" (or symbol)      ``BRK-B.NYSE`` (space -> "-")
IND        localSymbol "SPX" (or symbol)        ``^SPX.CBOE``
OPT        localSymbol "AAPL  251219C00200000"  ``AAPL251219C00200000.SMART`` (no spaces)
FUT        localSymbol "ESZ5", "FGBL DEC 25"    ``ESZ5.CME``, ``FGBLZ5.EUREX`` (1-digit year)
           or "NIFTY25DECFUT"                   ``NIFTYZ5.NSE``
CONTFUT    symbol "ES"                          ``ES.CME``
FOP        localSymbol "ESZ5 C6000"             ``ESZ5 C6000.CME`` (kept as is)
CASH       localSymbol "EUR.USD"                ``EUR/USD.IDEALPRO``
CRYPTO     localSymbol "BTC.USD"                ``BTC/USD.PAXOS``
CFD        localSymbol "EUR.USD" / symbol       ``EUR/USD.SMART`` / ``IBUS500.SMART``
CMDTY      symbol "XAUUSD"                      ``XAUUSD.SMART``
BAG        legs                                 the legs' spread id, e.g.
                                                ``(1)ESZ5 C6000_((1))ESZ5 C6100.CME``
=========  ===================================  =====================================

The way back starts from the id's symbol and the IB exchange its venue stands for, and
builds a query that IB can resolve (``reqContractDetails``), not a full contract:

- any spread id -> BAG, legs looked up in the loaded contract details;
- IDEALPRO and ``AAA/BBB`` -> CASH; PAXOS and ``AAA/BBB`` -> CRYPTO;
- SMART and an OCC option symbol -> OPT (root padded back to six characters);
- a US futures exchange (CBOT CME COMEX KCBT MGE NYMEX NYBOT) or SNFE -> FUT for
  ``ESZ5``, CONTFUT for a 1-3 character root ``ES``, FOP for ``ESZ5 C6000``, else an
  error (other futures exchanges are not recognised: use raw symbology there);
- the pseudo-exchanges IBCFD and IBCMDTY -> CFD and CMDTY routed SMART;
- a symbol starting ``^`` -> IND;
- anything else -> STK routed SMART with the venue's exchange as primary.

Raw: ``{localSymbol}={secType}``, IB's own naming, which works for every contract
IB has: ``EUR.USD=CASH.IDEALPRO``, ``ESZ5=FUT.CME``, ``AAPL=STK.NASDAQ``. Venues
containing a dot are written with a slash (``N225MZ5=FUT.OSE/JPN``) so the id's string
form parses back (an id's venue is what follows its last dot).

Differences from NautilusTrader's rules, each where theirs fails:
FOP strikes may have five digits and any decimals (``NQZ5 C21000``); raw ids keep
dotted venues intact; raw queries use the exchange the provider resolved from the venue
(theirs ignore it, so MIC venues broke); BAG queries carry the underlying symbol IB
requires and spreads work under raw symbology too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from nautilus_trader.model.identifiers import InstrumentId, Symbol, Venue

from adapter.common import ComboLeg, IBContract, IBContractDetails
from adapter.config import SymbologyMethod

MONTH_CODES: dict[str, str] = {
    "JAN": "F",
    "FEB": "G",
    "MAR": "H",
    "APR": "J",
    "MAY": "K",
    "JUN": "M",
    "JUL": "N",
    "AUG": "Q",
    "SEP": "U",
    "OCT": "V",
    "NOV": "X",
    "DEC": "Z",
}
_MONTH_NAMES = "|".join(MONTH_CODES)

CASH_EXCHANGES = frozenset({"IDEALPRO"})
CRYPTO_EXCHANGES = frozenset({"PAXOS"})
OPTION_EXCHANGES = frozenset({"SMART"})
FUTURES_EXCHANGES = frozenset({"CBOT", "CME", "COMEX", "KCBT", "MGE", "NYMEX", "NYBOT", "SNFE"})
# Not IB exchanges: venue names that mark a SMART-routed CFD or commodity in an id.
CFD_EXCHANGES = frozenset({"IBCFD"})
COMMODITY_EXCHANGES = frozenset({"IBCMDTY"})

_PAIR_LOCAL_SYMBOL = re.compile(r"^(?P<base>[A-Z]{3})\.(?P<quote>[A-Z]{3})$")  # EUR.USD
_CASH_SYMBOL = re.compile(r"^(?P<base>[A-Z]{3})/(?P<quote>[A-Z]{3})$")  # EUR/USD
_CRYPTO_SYMBOL = re.compile(r"^(?P<base>[A-Z]*)/(?P<quote>[A-Z]{3})$")  # BTC/USD
# OCC option symbol without the padding: root, yymmdd, right, strike * 1000 in 8 digits.
_OCC_SYMBOL = re.compile(
    r"^(?P<root>[A-Z. ]{1,6})(?P<expiry>\d{6})(?P<right>[CP])(?P<strike>\d{8})$"
)
_FUTURE_SYMBOL = re.compile(r"^(?P<root>\w{1,3})(?P<month>[FGHJKMNQUVXZ])(?P<year>\d)$")  # ESZ5
_FUTURE_ROOT = re.compile(r"^(?P<root>\w{1,3})$")  # ES
_FUTURE_MONTH_NAME = re.compile(
    rf"^(?P<root>\w{{1,4}}) *(?P<month>{_MONTH_NAMES}) (?P<year>\d{{2}})$"
)  # "FGBL DEC 25"
_FUTURE_NSE = re.compile(rf"^(?P<root>[A-Z]+)(?P<year>\d{{2}})(?P<month>{_MONTH_NAMES})FUT$")
_FUTURE_OPTION_SYMBOL = re.compile(
    r"^(?P<root>\w{1,3})(?P<month>[FGHJKMNQUVXZ])(?P<year>\d)\s(?P<right>[CP])(?P<strike>\d{1,5}(?:\.\d+)?)$"
)  # "ESZ5 C6000"


def ib_contract_to_instrument_id(
    contract: IBContract,
    venue: str,
    symbology_method: SymbologyMethod = SymbologyMethod.IB_SIMPLIFIED,
    contract_details_map: Mapping[int, IBContractDetails] | None = None,
) -> InstrumentId:
    """The instrument id of ``contract`` at ``venue``.

    ``contract_details_map`` (details by conId) is needed only for BAG contracts, to
    name their legs.
    """
    if contract.secType == "BAG":
        return _spread_id(contract, venue, symbology_method, contract_details_map or {})
    if symbology_method == SymbologyMethod.IB_RAW:
        return InstrumentId(
            Symbol(f"{contract.localSymbol}={contract.secType}"),
            Venue(venue.replace(".", "/")),
        )
    return InstrumentId(Symbol(_simplified_symbol(contract)), Venue(venue))


def instrument_id_to_ib_contract(
    instrument_id: InstrumentId,
    exchange: str,
    symbology_method: SymbologyMethod = SymbologyMethod.IB_SIMPLIFIED,
    contract_details_map: Mapping[InstrumentId, IBContractDetails] | None = None,
) -> IBContract:
    """A contract query for ``instrument_id`` on the IB ``exchange`` its venue stands for.

    ``contract_details_map`` (details by instrument id) is needed only for spreads, to
    find the conIds of their legs.
    """
    if instrument_id.is_spread():
        return _bag_contract(instrument_id, exchange, contract_details_map or {})
    if symbology_method == SymbologyMethod.IB_RAW:
        return _raw_contract(instrument_id.symbol.value, exchange.replace("/", "."))
    return _simplified_contract(instrument_id.symbol.value, exchange)


# -- Simplified: contract -> symbol ----------------------------------------------------------


def _simplified_symbol(contract: IBContract) -> str:
    namer = _SIMPLIFIED_NAMERS.get(contract.secType)
    symbol = namer(contract) if namer else None
    if not symbol:
        raise ValueError(f"No simplified symbol for {contract!r}; try raw symbology")
    return symbol


def _dashed(text: str) -> str:
    return text.replace(" ", "-")


def _pair_symbol(contract: IBContract) -> str:
    return contract.localSymbol.replace(".", "/") or f"{contract.symbol}/{contract.currency}"


def is_currency_pair_local_symbol(local_symbol: str) -> bool:
    """Whether an IB local symbol names a currency pair, as ``EUR.USD`` does."""
    return _PAIR_LOCAL_SYMBOL.match(local_symbol) is not None


def _cfd_symbol(contract: IBContract) -> str:
    if is_currency_pair_local_symbol(contract.localSymbol):
        return _pair_symbol(contract)
    return _dashed(contract.symbol)


def _future_symbol(contract: IBContract) -> str | None:
    local_symbol = contract.localSymbol
    if _FUTURE_SYMBOL.match(local_symbol):
        return local_symbol
    match = _FUTURE_MONTH_NAME.match(local_symbol) or _FUTURE_NSE.match(local_symbol)
    if match:
        return f"{match['root']}{MONTH_CODES[match['month']]}{match['year'][-1]}"
    return None


def _future_option_symbol(contract: IBContract) -> str | None:
    match = _FUTURE_OPTION_SYMBOL.match(contract.localSymbol)
    if match:
        return f"{match['root']}{match['month']}{match['year']} {match['right']}{match['strike']}"
    return None


_SIMPLIFIED_NAMERS: dict[str, Callable[[IBContract], str | None]] = {
    "STK": lambda c: _dashed(c.localSymbol or c.symbol),
    "IND": lambda c: f"^{c.localSymbol or c.symbol}",
    "OPT": lambda c: c.localSymbol.replace(" ", ""),
    "CONTFUT": lambda c: c.symbol,
    "FUT": _future_symbol,
    "FOP": _future_option_symbol,
    "CASH": _pair_symbol,
    "CRYPTO": _pair_symbol,
    "CFD": _cfd_symbol,
    "CMDTY": lambda c: _dashed(c.symbol),
}


# -- Simplified: symbol -> contract query ----------------------------------------------------


def _simplified_contract(symbol: str, exchange: str) -> IBContract:
    if exchange in CASH_EXCHANGES and (m := _CASH_SYMBOL.match(symbol)):
        return IBContract(
            secType="CASH", exchange=exchange, localSymbol=f"{m['base']}.{m['quote']}"
        )
    if exchange in CRYPTO_EXCHANGES and (m := _CRYPTO_SYMBOL.match(symbol)):
        return IBContract(
            secType="CRYPTO", exchange=exchange, localSymbol=f"{m['base']}.{m['quote']}"
        )
    if exchange in OPTION_EXCHANGES and (m := _OCC_SYMBOL.match(symbol)):
        local_symbol = f"{m['root'].ljust(6)}{m['expiry']}{m['right']}{m['strike']}"
        return IBContract(secType="OPT", exchange=exchange, localSymbol=local_symbol)
    if exchange in FUTURES_EXCHANGES:
        return _futures_exchange_contract(symbol, exchange)
    if exchange in CFD_EXCHANGES:
        if m := _CASH_SYMBOL.match(symbol):
            return IBContract(
                secType="CFD",
                exchange="SMART",
                symbol=m["base"],
                localSymbol=f"{m['base']}.{m['quote']}",
            )
        return IBContract(secType="CFD", exchange="SMART", symbol=symbol.replace("-", " "))
    if exchange in COMMODITY_EXCHANGES:
        return IBContract(secType="CMDTY", exchange="SMART", symbol=symbol.replace("-", " "))
    if symbol.startswith("^"):
        return IBContract(secType="IND", exchange=exchange, localSymbol=symbol[1:])
    return IBContract(
        secType="STK",
        exchange="SMART",
        primaryExchange=exchange,
        localSymbol=symbol.replace("-", " "),
    )


def _futures_exchange_contract(symbol: str, exchange: str) -> IBContract:
    if _FUTURE_SYMBOL.match(symbol):
        return IBContract(secType="FUT", exchange=exchange, localSymbol=symbol)
    if _FUTURE_ROOT.match(symbol):
        return IBContract(secType="CONTFUT", exchange=exchange, symbol=symbol)
    if _FUTURE_OPTION_SYMBOL.match(symbol):
        return IBContract(secType="FOP", exchange=exchange, localSymbol=symbol)
    raise ValueError(
        f"Cannot read {symbol!r} on {exchange} as a future (ESZ5), a continuous future (ES) "
        "or a future option (ESZ5 C6000): futures take a one-digit year"
    )


# -- Raw ---------------------------------------------------------------------------------------


def _raw_contract(symbol: str, exchange: str) -> IBContract:
    local_symbol, separator, sec_type = symbol.rpartition("=")
    if not separator:
        raise ValueError(f"{symbol!r} is not a raw symbol (localSymbol=secType)")
    if sec_type == "STK":
        return IBContract(
            secType=sec_type, exchange="SMART", primaryExchange=exchange, localSymbol=local_symbol
        )
    if sec_type in ("CFD", "CMDTY"):
        return IBContract(secType=sec_type, exchange="SMART", localSymbol=local_symbol)
    return IBContract(secType=sec_type, exchange=exchange, localSymbol=local_symbol)


# -- Spreads (BAG) -----------------------------------------------------------------------------


def _spread_id(
    contract: IBContract,
    venue: str,
    symbology_method: SymbologyMethod,
    details_by_con_id: Mapping[int, IBContractDetails],
) -> InstrumentId:
    if not contract.comboLegs:
        raise ValueError(f"BAG contract without legs: {contract!r}")
    legs = []
    for leg in contract.comboLegs:
        details = details_by_con_id.get(leg.conId)
        if details is None or details.contract is None:
            raise ValueError(f"Load the leg with conId {leg.conId} before naming its spread")
        leg_id = ib_contract_to_instrument_id(details.contract, venue, symbology_method)
        legs.append((leg_id, leg.ratio if leg.action == "BUY" else -leg.ratio))
    return InstrumentId.new_spread(legs)


def _bag_contract(
    spread_id: InstrumentId,
    exchange: str,
    details_by_id: Mapping[InstrumentId, IBContractDetails],
) -> IBContract:
    combo_legs = []
    leg_contracts = []
    for leg_id, ratio in spread_id.to_list():
        details = details_by_id.get(leg_id)
        if details is None or details.contract is None:
            raise ValueError(f"Load the leg {leg_id} before trading its spread {spread_id}")
        leg_contracts.append(details.contract)
        combo_legs.append(
            ComboLeg(
                conId=details.contract.conId,
                ratio=abs(ratio),
                action="BUY" if ratio > 0 else "SELL",
                exchange=exchange,
            )
        )
    first_leg = leg_contracts[0]
    return IBContract(
        secType="BAG",
        symbol=first_leg.symbol,  # IB resolves a combination by its underlying symbol
        exchange=exchange,
        currency=first_leg.currency,
        comboLegs=combo_legs,
        comboLegsDescrip=f"Spread: {spread_id.symbol.value}",
    )
