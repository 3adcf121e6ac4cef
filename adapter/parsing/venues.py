"""Which NautilusTrader venue names an IB contract, and which IB exchanges a venue means.

By default a contract's venue is its IB exchange: the primary exchange for SMART-routed
contracts (``AAPL.NASDAQ``), else the listing exchange (``ESZ5.CME``). With
``convert_exchange_to_mic_venue`` the venue is the exchange's ISO 10383 MIC instead
(``AAPL.XNAS``, ``ESZ5.XCME``), unless ``symbol_to_mic_venue`` names one for the
contract's symbol prefix.

Going back, a MIC can stand for several IB exchanges (GLBX, Databento's name for CME
Globex, covers CBOT, CME, NYBOT and NYMEX), so the provider tries each in turn.
"""

from __future__ import annotations

from collections.abc import Mapping

from adapter.common import IBContract

# Each IB exchange appears once, under the MIC it converts to.
_EXCHANGES_BY_MIC: dict[str, tuple[str, ...]] = {
    # North America
    "XCME": ("CME",),
    "XCBT": ("CBOT",),
    "XNYM": ("NYMEX",),
    "IFUS": ("NYBOT",),  # ICE Futures US
    "XNAS": ("NASDAQ",),
    "XNYS": ("NYSE",),
    "ARCX": ("ARCA",),
    "BATS": ("BATS",),
    "IEXG": ("IEX",),
    "XCBO": ("CBOE",),
    "XCBF": ("CFE",),  # Cboe Futures
    "XTSE": ("TSX",),
    "XMEX": ("MEXDER",),
    # Europe
    "NDEX": ("ENDEX",),  # ICE Endex
    "IFEU": ("ICEEU", "ICEEUSOFT", "IPE"),  # ICE Futures Europe
    "XLON": ("LSE",),
    "XPAR": ("SBF",),
    "XETR": ("IBIS",),
    "XEUR": ("DTB", "EUREX", "SOFFEX"),
    "XAMS": ("AEB",),
    "XBRU": ("ENEXT.BE",),
    "XBRD": ("BELFOX",),
    "XLIS": ("BVLP",),
    "XDUB": ("IRE",),
    "XOSL": ("OSL",),
    "XSWX": ("EBS", "SIX", "SWX"),  # IB's EBS is the SIX Swiss Exchange
    "XSVX": ("VRTX",),
    "XMIL": ("BIT", "BVME", "IDEM"),
    "XMAD": ("MDRD", "BME"),
    "DXEX": ("BATEEN",),
    "XWBO": ("WBAG",),
    "XBUD": ("BUX",),
    "XPRA": ("PRA",),
    "XWAR": ("WSE",),
    "XIST": ("ISE",),
    "XSTO": ("SFB",),
    "XCSE": ("KFB",),
    "XHEL": ("HMB",),
    "XICE": ("ISB",),
    # Asia-Pacific
    "XASX": ("ASX",),
    "XSFE": ("SNFE",),
    "XHKG": ("SEHK",),
    "XHKF": ("HKFE",),
    "XSES": ("SGX",),
    "XOSE": ("OSE.JPN",),
    "XTKS": ("TSEJ", "TSE.JPN"),
    "XKRX": ("KSE", "KRX"),
    "XTAI": ("TWSE",),
    "XSHG": ("SEHKNTL", "SSE"),
    "XSHE": ("SEHKSZSE",),
    "XNSE": ("NSE",),
    "XBOM": ("BSE",),
    # Africa, Middle East, South America
    "XJSE": ("JSE",),
    "XTAE": ("TASE",),  # Tel Aviv; IB's TASE is not Taiwan
    "XBOG": ("BVC",),
    "BVMF": ("BVMF",),
}

# MICs that name a segment or a group of exchanges: accepted in instrument ids, never
# produced from a contract.
_GROUP_MICS: dict[str, tuple[str, ...]] = {
    "XCEC": ("CME",),  # CME crypto
    "XFXS": ("CME",),  # CME FX Link
    "CBCM": ("CBOT",),  # CBOT commodities
    "NYUM": ("NYMEX",),  # NYMEX metals
    "GLBX": ("CBOT", "CME", "NYBOT", "NYMEX"),  # CME Globex
}

_MIC_BY_EXCHANGE: dict[str, str] = {
    exchange: mic for mic, exchanges in _EXCHANGES_BY_MIC.items() for exchange in exchanges
}

# NautilusTrader's public name for the MIC table, kept for code that imports it.
VENUE_MEMBERS: dict[str, list[str]] = {
    mic: list(exchanges) for mic, exchanges in (_EXCHANGES_BY_MIC | _GROUP_MICS).items()
}


def contract_exchange(contract: IBContract) -> str:
    """The exchange that names a contract: primary for SMART routing, else its own."""
    if contract.exchange == "SMART" and contract.primaryExchange:
        return contract.primaryExchange
    return contract.exchange


def mic_for_exchange(exchange: str) -> str | None:
    return _MIC_BY_EXCHANGE.get(exchange)


def venue_for_contract(
    contract: IBContract,
    convert_exchange_to_mic_venue: bool = False,
    symbol_to_mic_venue: Mapping[str, str] | None = None,
) -> str:
    """The venue of the instrument id for ``contract`` (see the module docstring)."""
    exchange = contract_exchange(contract)
    if not convert_exchange_to_mic_venue:
        return exchange
    for symbol_prefix, mic in (symbol_to_mic_venue or {}).items():
        if contract.symbol.startswith(symbol_prefix):
            return mic
    return mic_for_exchange(exchange) or exchange


def exchanges_for_venue(venue: str) -> list[str]:
    """The IB exchanges to try for an instrument id's venue, most likely first."""
    return list(_EXCHANGES_BY_MIC.get(venue) or _GROUP_MICS.get(venue) or (venue,))
